"""Staff handle opinions from /opinions; each status change reaches the voter through the
outbox, in the voter's language, with the tracking number."""

from __future__ import annotations

from bot.runtime.buttons.inbox import Accept, Compose, OpinionCard, Side
from tests.support.people import Person
from tests.support.scenarios import onboard
from tests.support.world import World


async def submit(voter: Person, text: str = "小区路灯坏了一个多月，晚上很不安全。") -> None:
    zh = voter.language_code.startswith("zh")
    await voter.send("/opinion")
    await voter.tap("城市管理" if zh else "Urban management")
    await voter.send(text)
    await voter.tap("跳过" if zh else "Skip")
    await voter.tap("跳过" if zh else "Skip")
    await voter.tap("匿名提交" if zh else "Stay anonymous")
    await voter.tap("📨 发送" if zh else "📨 Send")


def notices_to(world: World, voter: Person) -> list[str]:
    return [o.text for o in world.api.outputs if o.chat_id == voter.id and o.kind == "message"]


async def test_accept_then_answer_notifies_voter_in_chinese(world: World, person, admin) -> None:
    voter = person(2001, "王芳")
    await onboard(voter)
    await submit(voter)
    await admin.send("/opinions")
    assert "HD-2026-000001" in " ".join(admin.buttons())
    label = next(b for b in admin.buttons() if b.startswith("HD-2026-000001"))
    await admin.tap(label)
    assert "王芳" in admin.last and "匿名，代表不可见" in admin.last
    await admin.tap("受理")
    assert "已受理 HD-2026-000001" in " ".join(o.text for o in admin.seen[-3:])
    await world.outbox.drain()
    assert "您的意见建议 <b>HD-2026-000001</b> 已受理。" in notices_to(world, voter)

    await admin.tap("答复")
    await admin.send("已联系街道，<本周>内修好。")
    assert "已答复 HD-2026-000001" in admin.last
    await world.outbox.drain()
    # the answer carries the first rating question (see tests/test_inbox.py)
    assert notices_to(world, voter)[-1] == (
        "您的意见建议 <b>HD-2026-000001</b> 已答复：\n已联系街道，&lt;本周&gt;内修好。"
        "\n\n您反映的问题解决了吗？请点下面的按钮。"
    )
    assert voter.buttons()[:3] == ["已解决", "部分解决", "未解决"]
    rows = await world.rows("SELECT status FROM opinions")
    assert rows[0]["status"] == "answered"
    events = await world.rows("SELECT kind, note FROM opinion_events ORDER BY id")
    assert [e["kind"] for e in events] == ["submitted", "accepted", "answered"]

    await voter.send("/my")
    await voter.tap(next(b for b in voter.buttons() if b.startswith("HD-2026-000001")))
    assert "受理" in voter.last and "已联系街道" in voter.last


async def test_decline_with_reason_in_english(world: World, person, admin) -> None:
    voter = person(2002, "Tom", "en")
    await onboard(voter)
    await submit(voter, "The bus stop sign on the corner is missing.")
    await admin.send("/opinions")
    await admin.tap(next(b for b in admin.buttons() if b.startswith("HD-2026-000001")))
    await admin.tap("不予受理")
    await admin.send("x")
    assert "内容太短" in admin.last
    await admin.send("属于市级事权，已转交市交通委。")
    await world.outbox.drain()
    assert notices_to(world, voter)[-1] == (
        "Your opinion <b>HD-2026-000001</b> was declined.\nReason: 属于市级事权，已转交市交通委。"
    )
    # a declined opinion cannot be answered any more, even by a replayed button
    await admin.tap_data(Compose(step="answer", opinion=1).pack())
    assert "当前的状态不允许" in admin.last


async def test_reply_survives_restart_and_cancel_changes_nothing(
    world: World, person, admin
) -> None:
    voter = person(2003)
    await onboard(voter)
    await submit(voter)
    await admin.send("/opinions")
    await admin.tap(next(b for b in admin.buttons() if b.startswith("HD-2026-000001")))
    await admin.tap("答复")
    await world.crash_and_restart()
    await admin.send("/my")
    assert "您正在输入原因或答复" in admin.last
    await admin.send("/cancel")
    assert "没有做任何更改" in admin.last
    rows = await world.rows("SELECT status FROM opinions")
    assert rows[0]["status"] == "submitted"


async def test_filters_and_access(world: World, person, admin) -> None:
    a, b = person(2004), person(2005)
    await onboard(a)
    await onboard(b, street="海淀街道", station="海淀街道联络站")
    await submit(a)
    await submit(b, "海淀大街的共享单车堆放太乱了。")
    await admin.send("/opinions")
    assert len([x for x in admin.buttons() if x.startswith("HD-")]) == 2
    await admin.tap("按街镇筛选")
    await admin.tap("海淀街道")
    listed = [x for x in admin.buttons() if x.startswith("HD-")]
    assert listed == [next(x for x in listed if "共享单车" in x)]
    await admin.tap("已受理")
    assert "没有符合条件的意见建议" in admin.last

    await a.send("/opinions")
    assert "您没有权限" in a.last
    await a.tap_data(Accept(opinion=2).pack())
    assert "您没有权限" in a.last
    await a.tap_data(OpinionCard(side=Side.STAFF, opinion=2).pack())
    assert "您没有权限" in a.last
    rows = await world.rows("SELECT status FROM opinions WHERE id = 2")
    assert rows[0]["status"] == "submitted"
