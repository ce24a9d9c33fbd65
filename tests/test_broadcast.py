"""Staff broadcasts through the outbox: compose, audience, preview, confirm, progress,
report; pause, resume, cancel; opt-out; and every fault Telegram can answer with."""

from __future__ import annotations

from bot.runtime.buttons.broadcast import BroadcastControl, Control
from tests.support.people import Person
from tests.support.scenarios import ADMIN, onboard
from tests.support.world import World


async def compose(staff: Person, text: str, audience: str, *picks: str) -> None:
    await staff.send("/broadcast")
    await staff.send(text)
    await staff.tap(audience)
    for label in picks:
        await staff.tap(label)


async def test_broadcast_reaches_every_voter_with_report(world: World, person, admin) -> None:
    voters = [person(100 + i, f"选民{i}") for i in range(5)]
    for voter in voters:
        await onboard(voter)
    await compose(admin, "本周六上午 9:00 代表进站接待，欢迎参加 <议事>", "全体选民")
    assert "收件人数：<b>5</b>" in admin.last
    # the preview shows the notice as recipients will see it, escaped
    assert admin.seen[-2].text == "本周六上午 9:00 代表进站接待，欢迎参加 &lt;议事&gt;"
    await admin.tap("✅ 确认发送")
    assert "群发 #1" in admin.last

    await world.outbox.drain()
    for voter in voters:
        notices = [o.text for o in world.api.outputs if o.chat_id == voter.id]
        assert notices[-1] == "本周六上午 9:00 代表进站接待，欢迎参加 &lt;议事&gt;"
    rows = await world.rows(
        "SELECT state, count(*) AS n FROM outbox WHERE sets_menu = 0 GROUP BY state"
    )
    assert {r["state"]: r["n"] for r in rows} == {"sent": 6}  # five notices and the report
    report = [o.text for o in world.api.outputs if o.chat_id == ADMIN and "投递报告" in o.text]
    assert report and "已发送 5" in report[-1]
    progress = world.api.chat_messages(ADMIN)
    assert any("已完成" in m.get("text", "") for m in progress)


async def test_audiences_and_exact_counts(world: World, person, admin) -> None:
    a = person(201)
    b = person(202)
    c = person(203)
    await onboard(a)
    await onboard(b, station="学院路第二联络站")
    await onboard(c, street="海淀街道", station="海淀街道联络站")
    await compose(admin, "学院路街道的通知", "某街镇的选民", "学院路街道")
    assert "收件人数：<b>2</b>" in admin.last
    await admin.tap("更换对象")
    await admin.tap("某联络站的选民")
    await admin.tap("海淀街道")
    await admin.tap("海淀街道联络站")
    assert "收件人数：<b>1</b>" in admin.last
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    recipients = [o.chat_id for o in world.api.outputs if o.text == "学院路街道的通知"]
    assert [chat for chat in recipients if chat != ADMIN] == [c.id]


async def test_deputies_audience_counts_only_deputies(world: World, person, admin) -> None:
    voter = person(301)
    await onboard(voter)
    await compose(admin, "代表请注意：下周二视察", "全体代表")
    assert "这个对象目前没有可以接收通知的人" in admin.last or "收件人数：<b>0</b>" in admin.last


async def test_opted_out_voter_gets_no_broadcast_but_own_news(world: World, person, admin) -> None:
    keen, quiet = person(401), person(402)
    await onboard(keen)
    await onboard(quiet)
    await quiet.send("/notices off")
    assert "已关闭通知" in quiet.last
    await compose(admin, "下周议事会", "全体选民")
    assert "收件人数：<b>1</b>" in admin.last
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    assert not any(o.text == "下周议事会" for o in world.api.outputs if o.chat_id == quiet.id)
    assert any(o.text == "下周议事会" for o in world.api.outputs if o.chat_id == keen.id)
    await quiet.send("/notices")
    assert "当前：关闭" in quiet.last
    await quiet.send("/notices on")
    assert "已开启通知" in quiet.last


async def test_pause_resume_and_cancel(world: World, person, admin) -> None:
    voters = [person(500 + i) for i in range(3)]
    for voter in voters:
        await onboard(voter)
    await world.outbox.abort()  # hold the queue still while the buttons are tapped
    await compose(admin, "暂停测试", "全体选民")
    await admin.tap("✅ 确认发送")
    await admin.tap("⏸ 暂停")
    assert "已暂停" in admin.last
    assert "▶️ 继续" in admin.buttons()
    await admin.tap("▶️ 继续")
    assert "发送中" in admin.last
    await admin.tap("⏹ 取消")
    assert "已取消" in admin.last
    states = await world.rows("SELECT state, reason FROM outbox WHERE broadcast_id = 1")
    assert {(r["state"], r["reason"]) for r in states} == {("skipped", "cancelled")}
    # a stale Pause button of the cancelled broadcast does nothing but say so
    await admin.tap_data(BroadcastControl(action=Control.PAUSE, broadcast=1).pack())
    assert "这条群发现在不能这样操作" in admin.last


async def test_only_staff_broadcast_and_forged_controls_refused(
    world: World, person, admin
) -> None:
    voter = person(601)
    await onboard(voter)
    await voter.send("/broadcast")
    assert "您没有权限" in voter.last
    await voter.send("/broadcasts")
    assert "您没有权限" in voter.last
    await voter.tap_data(BroadcastControl(action=Control.CANCEL, broadcast=1).pack())
    assert "您没有权限" in voter.last
    assert await world.rows("SELECT * FROM broadcasts") == []


async def test_faults_do_not_stop_the_broadcast(world: World, person, admin) -> None:
    ok, limited, blocked, bad, slow = (person(700 + i) for i in range(5))
    for voter in (ok, limited, blocked, bad, slow):
        await onboard(voter)
    world.api.fail(limited.id, "429:1")
    world.api.blocked.add(blocked.id)
    world.api.fail(bad.id, "400:chat not found")
    world.api.fail(slow.id, "timeout")
    await compose(admin, "故障测试", "全体选民")
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    # the timed-out one is retried after a backoff on the injected clock
    world.clock.advance(seconds=5)
    await world.outbox.drain()
    rows = await world.rows(
        "SELECT chat_id, state, reason, attempts FROM outbox WHERE broadcast_id = 1"
    )
    by_chat = {r["chat_id"]: r for r in rows}
    assert by_chat[ok.id]["state"] == "sent"
    assert by_chat[limited.id]["state"] == "sent"
    assert world.outbox.retry_afters == 1
    assert (by_chat[blocked.id]["state"], by_chat[blocked.id]["reason"]) == ("skipped", "blocked")
    assert by_chat[bad.id]["state"] == "failed"
    assert "chat not found" in by_chat[bad.id]["reason"].lower()
    assert (by_chat[slow.id]["state"], by_chat[slow.id]["attempts"]) == ("sent", 1)
    assert (await world.user_row(blocked.id))["active"] == 0
    sent_to = [o.chat_id for o in world.api.outputs if o.text == "故障测试"]
    assert sorted(sent_to) == sorted([ADMIN, ok.id, limited.id, slow.id])


async def test_restart_resumes_queued_work_without_duplicates(world: World, person, admin) -> None:
    voters = [person(800 + i) for i in range(4)]
    for voter in voters:
        await onboard(voter)
    await world.outbox.abort()
    await compose(admin, "重启测试", "全体选民")
    await admin.tap("✅ 确认发送")
    queued = await world.rows("SELECT count(*) AS n FROM outbox WHERE state = 'queued'")
    assert queued[0]["n"] == 4
    await world.crash_and_restart()
    await world.outbox.drain()
    sent_to = sorted(o.chat_id for o in world.api.outputs if o.text == "重启测试")
    assert sent_to == sorted([ADMIN, *(v.id for v in voters)])


async def test_broadcasts_list_and_english(world: World, person, admin) -> None:
    english = person(901, "Ann", "en")
    await onboard(english)
    await admin.send("/broadcasts")
    assert "还没有群发记录" in admin.last
    await compose(admin, "hello", "全体选民")
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    await admin.send("/language")
    await admin.tap("English")
    await admin.send("/broadcasts")
    assert "#1" in admin.last and "sent 1" in admin.last
    await english.send("/notices off")
    assert "Notices are off" in english.last


async def test_photo_and_document_broadcasts_keep_their_caption(
    world: World, person, admin
) -> None:
    voter = person(1001, "选民")
    await onboard(voter)
    await admin.send("/broadcast")
    await admin._message(
        photo=[{"file_id": "poster", "file_unique_id": "p", "width": 800, "height": 600}],
        caption="周六 <接待日> 海报",
    )
    await admin.tap("全体选民")
    assert "收件人数：<b>1</b>" in admin.last
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    photos = [
        c.params for c in world.api.calls_to("sendPhoto") if int(c.params["chat_id"]) == voter.id
    ]
    assert photos == [
        {
            "chat_id": voter.id,
            "photo": "poster",
            "caption": "周六 &lt;接待日&gt; 海报",
            "parse_mode": "HTML",
        }
    ]

    await admin.send("/broadcast")
    await admin._message(document={"file_id": "agenda.pdf", "file_unique_id": "a"}, caption="议程")
    await admin.tap("全体选民")
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    documents = [
        c.params for c in world.api.calls_to("sendDocument") if int(c.params["chat_id"]) == voter.id
    ]
    assert [(d["document"], d["caption"]) for d in documents] == [("agenda.pdf", "议程")]


async def test_an_empty_or_unsupported_notice_keeps_the_step(world: World, person, admin) -> None:
    await admin.send("/broadcast")
    await admin.send_sticker()
    assert "请发送文字、照片或文件" in admin.last
    await admin.send("x" * 4097)
    assert "内容太长（4097 字），最多 4096 字" in admin.last
    await admin.send("下周一议事会")
    assert "发给谁" in admin.last
