"""What /suggest refuses: opinions that are not the deputy's to take (held by another
deputy, of another station, of another 街镇 for a similar one), already in a suggestion, or
no longer open; a forged, malformed or stale button; an older preview's Submit; and an
opinion taken by another deputy between the preview and Submit."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.runtime.buttons.inbox import Claim, Compose
from bot.runtime.buttons.suggestions import (
    SuggestAttach,
    SuggestCategory,
    SuggestPick,
    SuggestSubmit,
)
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.suggestions import (
    PROPOSALS,
    REASON,
    TITLE,
    button_with,
    draft_suggestion,
    send_opinion,
)
from tests.support.world import World

LANGS = pytest.mark.parametrize("code", ["zh-hans", "en"])
TEXTS = [
    "小区门口的路灯坏了一个多月，晚上出行很不安全。",
    "学院路南口公交站没有遮雨棚，下雨天候车很不方便。",
    "社区菜市场门口乱停车，早高峰经常堵住路口。",
    "老旧小区没有电梯，老人上下楼很困难。",
    "海淀大街人行道地砖松动，雨天容易溅水。",
]


async def opinion_id(world: World, tracking_no: str) -> int:
    rows = await world.rows("SELECT id FROM opinions WHERE tracking_no = ?", (tracking_no,))
    return int(rows[0]["id"])


async def to_title(deputy: Person, *tracking_nos: str) -> None:
    """/suggest from these of the deputy's own opinions, up to the title."""
    await deputy.send("/suggest")
    await deputy.tap(say(deputy, "suggest.from_opinions"))
    for i, tracking_no in enumerate(tracking_nos):
        if i:
            await deputy.tap(say(deputy, "suggest.more_opinions"))
        await deputy.tap(button_with(deputy, tracking_no))
    await deputy.tap(say(deputy, "suggest.opinions_done", count=len(tracking_nos)))


async def to_preview(deputy: Person) -> None:
    await deputy.send(TITLE)
    await deputy.send(REASON)
    await deputy.send(PROPOSALS)
    await deputy.tap(say(deputy, "category.traffic"))
    await deputy.tap(say(deputy, "suggest.publish_yes"))


@LANGS
async def test_opinions_not_the_deputys_to_take_are_refused(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四")
    mine = await send_opinion(person(2001), TEXTS[0])
    held = await send_opinion(person(2002), TEXTS[1])  # 李四 claims it
    other_station = await send_opinion(person(2003), TEXTS[2], station="学院路第二联络站")
    answered = await send_opinion(person(2004), TEXTS[3])
    other_street = await send_opinion(
        person(2005), TEXTS[4], street="海淀街道", station="海淀街道联络站"
    )
    await li.tap_data(Claim(opinion=await opinion_id(world, held)).pack())
    await zhang.tap_data(Claim(opinion=await opinion_id(world, answered)).pack())
    await zhang.tap_data(Compose(step="answer", opinion=await opinion_id(world, answered)).pack())
    await zhang.send("路灯已经报修，下周更换。")

    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    listed = " ".join(zhang.buttons())
    assert mine in listed
    for absent in (held, other_station, answered, other_street):
        assert absent not in listed  # only what is theirs to take is offered
    draft_before = await world.rows("SELECT data FROM drafts WHERE kind = 'suggest'")
    await world.outbox.drain()  # the notices of the steps above are out: only the taps' answers
    for tracking_no, key, params in [
        (held, "suggest.opinion_not_yours", {}),
        (other_station, "suggest.opinion_not_yours", {}),
        (other_street, "suggest.opinion_not_yours", {}),
        (answered, "suggest.opinion_not_open", {"tracking_no": answered}),
    ]:
        forged = SuggestPick(opinion=await opinion_id(world, tracking_no), page=0)
        out = await zhang.tap_data(forged.pack())
        assert [o.kind for o in out] == ["alert"]
        assert zhang.last == say(zhang, key, **params)
    out = await zhang.tap_data(SuggestPick(opinion=999, page=0).pack())
    assert zhang.last == say(zhang, "suggest.opinion_not_yours")
    assert await world.rows("SELECT data FROM drafts WHERE kind = 'suggest'") == draft_before

    # only what the similar list offered may be attached: another 街镇's opinion never is,
    # nor one of this 街镇 unlike the streetlight; the other station's (门口) is offered
    await zhang.tap(button_with(zhang, mine))
    assert other_station in " ".join(zhang.seen[-1].buttons())
    for forged_no in (other_street, held):
        attach = SuggestAttach(opinion=await opinion_id(world, forged_no), page=0)
        out = await zhang.tap_data(attach.pack())
        assert [o.kind for o in out] == ["alert"]
        assert zhang.last == say(zhang, "error.stale_button")
    attach = SuggestAttach(opinion=await opinion_id(world, other_station), page=0)
    await zhang.tap_data(attach.pack())
    assert say(zhang, "suggest.similar_head", chosen=2) in zhang.last
    [row] = await world.rows("SELECT data FROM drafts WHERE kind = 'suggest'")
    draft = json.loads(row["data"])
    ids = [await opinion_id(world, n) for n in (mine, other_station)]
    assert (draft["own_ids"], draft["similar_ids"]) == (ids[:1], ids[1:])


@LANGS
async def test_an_opinion_in_another_suggestion_is_refused(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四")
    taken = await send_opinion(person(2001), TEXTS[0])
    await draft_suggestion(li, opinions=[taken])
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    assert zhang.last == say(zhang, "suggest.no_opinions")
    await zhang.tap_data(SuggestPick(opinion=await opinion_id(world, taken), page=0).pack())
    assert zhang.last == say(
        zhang, "suggest.opinion_in_suggestion", tracking_no=taken, number="JY2026-0001"
    )
    await zhang.tap(say(zhang, "suggest.from_scratch"))
    assert zhang.last == say(zhang, "suggest.ask_title", maximum=60)


@LANGS
async def test_forged_malformed_and_stale_buttons(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_scratch"))
    # a button of another step, a malformed one, one out of bounds: the step stays
    for data in (
        SuggestCategory(code="traffic").pack(),
        f"{SuggestPick.prefix}:abc:0",
        f"{SuggestPick.prefix}:0:0",
        f"{SuggestCategory.prefix}:nonsense",
    ):
        out = await zhang.tap_data(data)
        assert [o.kind for o in out] == ["alert"], data
        assert zhang.last == say(zhang, "error.stale_button")
    assert await world.conversation_state("suggest", zhang.id) == "title"

    await to_preview(zhang)
    old = button_with(zhang, say(zhang, "suggest.submit"))
    old_message, old_data = zhang._find(old)
    await zhang.tap(say(zhang, "suggest.edit_category"))
    await zhang.tap(say(zhang, "category.urban"))
    # the older preview's Submit showed another category: refused, nothing made
    await zhang.tap_data(old_data, old_message)
    assert zhang.last == say(zhang, "suggest.old_preview")
    forged = SuggestSubmit(draft="forged-token").pack()
    await zhang.tap_data(forged)
    assert zhang.last == say(zhang, "suggest.old_preview")
    assert await world.rows("SELECT * FROM suggestions") == []
    await zhang.tap(say(zhang, "suggest.submit"))
    rows = await world.rows("SELECT category FROM suggestions")
    assert rows == [{"category": "urban"}]
    # after it was sent, a forged Submit is stale
    await zhang.tap_data(forged)
    assert zhang.last == say(zhang, "error.stale_button")


@LANGS
async def test_an_opinion_taken_between_preview_and_submit_leaves_the_draft(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四")
    shared = await send_opinion(person(2001), TEXTS[0])
    kept = await send_opinion(person(2002), TEXTS[1])
    await to_title(zhang, shared, kept)
    await to_preview(zhang)
    await draft_suggestion(li, opinions=[shared])  # 李四 was quicker
    await zhang.tap(say(zhang, "suggest.submit"))
    assert say(zhang, "suggest.opinions_gone", numbers=shared) in [o.text for o in zhang.seen]
    assert kept in zhang.last and shared not in zhang.last  # the new preview
    await zhang.tap(say(zhang, "suggest.submit"))
    assert zhang.last == say(zhang, "suggest.submitted", number="JY2026-0002")
    rows = await world.rows(
        "SELECT s.number, o.tracking_no FROM suggestion_opinions so"
        " JOIN suggestions s ON s.id = so.suggestion_id JOIN opinions o ON o.id = so.opinion_id"
        " ORDER BY s.id"
    )
    assert [(r["number"], r["tracking_no"]) for r in rows] == [
        ("JY2026-0001", shared),
        ("JY2026-0002", kept),
    ]
