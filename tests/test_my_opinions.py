"""/my: the voter's own opinions, newest first, five a page; an item shows its text, status
and history with dates in the voter's language; nobody sees another voter's opinion."""

from __future__ import annotations

from datetime import datetime

from bot.runtime.buttons.opinion import MyOpinion, MyPage
from tests.support.opinions import LANGS, T, send_quick_opinion, to_preview, voter_with_station
from tests.support.people import Person
from tests.support.world import SHANGHAI, MakeWorld, World

MY = {
    "zh-hans": {
        "title": "<b>我的意见建议</b>（点击查看详情）",
        "empty": "您还没有提交过意见建议。发送 /opinion 开始。",
        "submitted": "已提交",
        "accepted": "已受理",
        "prev": "‹ 上一页",
        "next": "下一页 ›",
        "back": "« 返回",
        "detail": (
            "<b>{no}</b>\n类别：{category}\n状态：{status}\n提交时间：{created}\n"
            "照片：{photos} 张\n\n{text}\n\n<b>办理记录</b>\n{history}"
        ),
        "event_submitted": "提交",
        "event_accepted": "受理",
        "date_26_1405": "2026年11月26日 14:05",
        "date_27_0930": "2026年11月27日 09:30",
        "date_26": "2026年11月26日",
        "date_27": "2026年11月27日",
    },
    "en": {
        "title": "<b>My opinions</b> (tap one for details)",
        "empty": "You have not sent any opinions yet. Send /opinion to start.",
        "submitted": "submitted",
        "accepted": "accepted",
        "prev": "‹ Prev",
        "next": "Next ›",
        "back": "« Back",
        "detail": (
            "<b>{no}</b>\nCategory: {category}\nStatus: {status}\nSent: {created}\n"
            "Photos: {photos}\n\n{text}\n\n<b>History</b>\n{history}"
        ),
        "event_submitted": "sent",
        "event_accepted": "accepted",
        "date_26_1405": "Nov 26, 2026 14:05",
        "date_27_0930": "Nov 27, 2026 09:30",
        "date_26": "Nov 26, 2026",
        "date_27": "Nov 27, 2026",
    },
}


def opinion_text(lang: str, n: int) -> str:
    if lang == "zh-hans":
        return (
            "第1条意见：路灯坏了。"
            if n == 1
            else f"第{n}条意见：东门路灯不亮，晚上出行很不方便，请尽快修理。"
        )
    return "Opinion 1: lamp out." if n == 1 else f"Opinion {n}: the lamp at the east gate is out."


def item(lang: str, n: int, status: str = "submitted") -> str:
    """The button label of opinion number n in the list."""
    text = opinion_text(lang, n)
    summary = text if len(text) <= 24 else text[:24] + "…"
    assert (n == 1) == (len(text) <= 24)
    return f"HD-2026-{n:06d} · {MY[lang][status]} · {summary}"


def keyboard(world: World, voter: Person) -> list[str]:
    """The button labels of the newest message in the voter's chat."""
    message = world.api.chat_messages(voter.id)[-1]
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


@LANGS
async def test_empty_list(world: World, lang: str) -> None:
    voter = await voter_with_station(world, 4001, lang)
    new = await voter.send("/my")
    assert [(o.kind, o.text) for o in new] == [("message", MY[lang]["empty"])]
    assert keyboard(world, voter) == []


@LANGS
async def test_newest_first_five_a_page(make_world: MakeWorld, lang: str) -> None:
    world = await make_world(daily_opinion_limit=50)
    voter = await voter_with_station(world, 4002, lang)
    for n in range(1, 8):
        await send_quick_opinion(voter, opinion_text(lang, n))
    m = MY[lang]

    new = await voter.send("/my")
    assert [o.text for o in new] == [m["title"]]
    page_one = [item(lang, n) for n in (7, 6, 5, 4, 3)]
    assert keyboard(world, voter) == [*page_one, "1/2", m["next"]]

    await voter.tap(m["next"])
    assert voter.last == m["title"]
    assert keyboard(world, voter) == [item(lang, 2), item(lang, 1), m["prev"], "2/2"]

    await voter.tap(m["prev"])
    assert keyboard(world, voter) == [*page_one, "1/2", m["next"]]
    # The page indicator is harmless to tap.
    await voter.tap("1/2")
    assert keyboard(world, voter) == [*page_one, "1/2", m["next"]]

    # A page past the end shows the last one; a page no button can carry is stale.
    await voter.tap_data(MyPage(page=99).pack())
    assert keyboard(world, voter)[:2] == [item(lang, 2), item(lang, 1)]
    for forged in ("myp:-3", "myp:100000", "myp:99999999999999999999999"):
        new = await voter.tap_data(forged)
        assert [(o.kind, o.text) for o in new] == [("alert", T[lang]["stale"])]
    assert keyboard(world, voter)[:2] == [item(lang, 2), item(lang, 1)]


@LANGS
async def test_opening_an_item_shows_text_status_and_history(world: World, lang: str) -> None:
    t, m = T[lang], MY[lang]
    voter = await voter_with_station(world, 4003, lang)
    text = (
        "路灯<b>坏了</b> & 请修理，谢谢！" if lang == "zh-hans" else "Lamp <b>out</b> & please fix."
    )
    await to_preview(voter, text, photos=("a", "b"), show_name=True)
    world.clock.set(datetime(2026, 11, 26, 14, 5, tzinfo=SHANGHAI))
    await voter.tap(t["send"], think=0)
    await voter.send("/my")
    label = f"HD-2026-000001 · {m['submitted']} · {text[:24]}" + ("…" if len(text) > 24 else "")
    assert keyboard(world, voter) == [label]

    await voter.tap(label)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert voter.last == m["detail"].format(
        no="HD-2026-000001",
        category=t["traffic"],
        status=m["submitted"],
        created=m["date_26_1405"],
        photos=2,
        text=escaped,
        history=f"{m['date_26_1405']} {m['event_submitted']}",
    )
    assert keyboard(world, voter) == [m["back"]]
    await voter.tap(m["back"])
    assert voter.last == m["title"]
    assert keyboard(world, voter) == [label]


@LANGS
async def test_history_lists_every_event_with_its_note(world: World, lang: str) -> None:
    """When a deputy has taken the opinion up, the voter sees the new status and the event."""
    m = MY[lang]
    voter = await voter_with_station(world, 4004, lang)
    world.clock.set(datetime(2026, 11, 26, 14, 4, 59, tzinfo=SHANGHAI))
    await send_quick_opinion(voter, opinion_text(lang, 2))
    opinion_id = (await world.rows("SELECT id FROM opinions"))[0]["id"]
    accepted_at = datetime(2026, 11, 27, 9, 30, tzinfo=SHANGHAI)
    async with world.db.transaction() as tx:
        await world.services.opinions.repo.add_event(
            tx, opinion_id, accepted_at, 9999, "accepted", "转交<街道>办理"
        )
        await tx.execute("UPDATE opinions SET status = 'accepted' WHERE id = ?", (opinion_id,))

    await voter.send("/my")
    label = f"HD-2026-000001 · {m['accepted']} · {opinion_text(lang, 2)[:24]}…"
    assert keyboard(world, voter) == [label]
    await voter.tap(label)
    history = voter.last.split("\n")[-2:]
    assert history == [
        f"{m['date_26_1405']} {m['event_submitted']}",
        f"{m['date_27_0930']} {m['event_accepted']}: 转交&lt;街道&gt;办理",
    ]
    assert f"{m['accepted']}\n" in voter.last


@LANGS
async def test_list_across_days_with_the_default_limit(world: World, lang: str) -> None:
    m = MY[lang]
    voter = await voter_with_station(world, 4005, lang)
    for n in range(1, 6):
        await send_quick_opinion(voter, opinion_text(lang, n))
    world.clock.set(datetime(2026, 11, 27, 9, 29, 50, tzinfo=SHANGHAI))
    for n in (6, 7):
        answer = await send_quick_opinion(voter, opinion_text(lang, n))
        assert f"HD-2026-{n:06d}" in answer
    await voter.send("/my")
    assert keyboard(world, voter)[:5] == [item(lang, n) for n in (7, 6, 5, 4, 3)]
    await voter.tap(item(lang, 7))
    assert f"{m['date_27_0930']} {m['event_submitted']}" in voter.last
    assert voter.last.startswith("<b>HD-2026-000007</b>\n")
    assert m["date_26"] not in voter.last
    await voter.tap(m["back"])
    await voter.tap(m["next"])
    await voter.tap(item(lang, 1))
    assert "<b>HD-2026-000001</b>" in voter.last
    assert voter.last.startswith("<b>HD-2026-000001</b>\n")
    assert m["date_26"] in voter.last
    assert m["date_27"] not in voter.last


@LANGS
async def test_another_voters_opinion_is_refused(world: World, lang: str) -> None:
    t = T[lang]
    author = await voter_with_station(world, 4006, "zh-hans", "作者")
    secret = "只给代表看的内容：楼道里堆满了杂物。"
    await send_quick_opinion(author, secret)
    opinion_id = (await world.rows("SELECT id FROM opinions"))[0]["id"]
    other = await voter_with_station(world, 4007, lang, "旁人")
    author_outputs = len([o for o in world.api.outputs if o.chat_id == 4006])

    for button in (
        MyOpinion(opinion=opinion_id, page=0),
        MyOpinion(opinion=opinion_id, page=1),
        MyOpinion(opinion=999, page=0),
    ):
        new = await other.tap_data(button.pack())
        assert [(o.kind, o.text, o.show_alert) for o in new] == [("alert", t["not_yours"], True)]
    for data in ("myo:abc:0", f"myo:{opinion_id}", f"myo:{opinion_id}:0:0", f"my:o:{opinion_id}:0"):
        new = await other.tap_data(data)
        assert [(o.kind, o.text, o.show_alert) for o in new] == [("alert", t["stale"], True)]

    everything_shown = [o.text for o in world.api.outputs if o.chat_id == 4007]
    assert not any(secret in text or "HD-2026-000001" in text for text in everything_shown)
    assert not any(
        secret in m.get("text", "") or "HD-2026-000001" in m.get("text", "")
        for m in world.api.chat_messages(4007)
    )
    assert len([o for o in world.api.outputs if o.chat_id == 4006]) == author_outputs
    # The other voter's own list is still empty; the author still sees theirs.
    await other.send("/my")
    assert other.last == MY[lang]["empty"]
    await author.send("/my")
    assert keyboard(world, author) == [f"HD-2026-000001 · 已提交 · {secret[:24]}"]


@LANGS
async def test_forged_page_number_is_refused(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 4008, lang)
    await send_quick_opinion(voter)
    await voter.send("/my")
    new = await voter.tap_data("myp:x")
    assert [(o.kind, o.text, o.show_alert) for o in new] == [("alert", t["stale"], True)]
