"""/suggest, the first step of the suggestion loop: voters' opinions merged into one deputy's
suggestion (代表建议), or one written from scratch; every bad input refused with its message,
a restart in the middle, the preview's edits, and Submit tapped twice making one suggestion.
What the voters and staff are told goes through the outbox (read back with `Mail`)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.runtime.buttons.inbox import Claim
from bot.runtime.buttons.suggestions import SuggestOpinionsDone, SuggestPick
from bot.services import suggestions
from tests.support.inbox import Mail, notice
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.suggestions import (
    NUMBER,
    PROPOSALS,
    REASON,
    TITLE,
    button_with,
    draft_suggestion,
    send_opinion,
)
from tests.support.world import World

LANGS = pytest.mark.parametrize("code", ["zh-hans", "en"])
STREETLIGHT = "小区门口的路灯坏了一个多月，晚上出行很不安全，请尽快修好。"
SHELTER = "学院路南口公交站没有遮雨棚，下雨天老人候车很不方便。"


async def suggestion_rows(world: World) -> list[dict]:
    return await world.rows("SELECT * FROM suggestions ORDER BY id")


async def state_of(world: World, user_id: int) -> str | None:
    return await world.conversation_state("suggest", user_id)


async def draft_of(world: World, user_id: int) -> dict | None:
    rows = await world.rows(
        "SELECT data FROM drafts WHERE user_id = ? AND kind = 'suggest'", (user_id,)
    )
    return json.loads(rows[0]["data"]) if rows else None


@LANGS
async def test_opinions_merged_into_a_suggestion(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    """Loop step 1: two voters' opinions at the deputy's station become one suggestion; the
    voters are told it was taken up, staff are told it waits for assignment."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    wang, zhao = person(2001, "王芳", code), person(2002, "赵敏", code)
    light = await send_opinion(wang, STREETLIGHT)
    shelter = await send_opinion(zhao, SHELTER)
    mail = Mail(world)
    await mail.take()

    await zhang.send("/suggest")
    assert zhang.last == say(zhang, "suggest.ask_source")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    assert zhang.last == say(zhang, "suggest.ask_opinions", chosen=0)
    await zhang.tap(button_with(zhang, light))
    assert say(zhang, "suggest.similar_head", chosen=1) in zhang.last
    await zhang.tap(say(zhang, "suggest.more_opinions"))
    assert button_with(zhang, light).startswith("✅ ")  # taken: ticked in the list
    await zhang.tap(button_with(zhang, shelter))
    await zhang.tap(say(zhang, "suggest.opinions_done", count=2))
    assert say(zhang, "suggest.taken_count", count=2) in zhang.last
    await zhang.send(TITLE)
    await zhang.send(REASON)
    await zhang.send(PROPOSALS)
    await zhang.tap(say(zhang, "category.traffic"))
    await zhang.tap(say(zhang, "suggest.publish_yes"))
    preview = zhang.last
    for shown in (TITLE, REASON, PROPOSALS, light, shelter, say(zhang, "category.traffic")):
        assert shown in preview
    assert await state_of(world, zhang.id) == "preview"
    await zhang.tap(say(zhang, "suggest.submit"))
    assert zhang.last == say(zhang, "suggest.submitted", number=NUMBER)
    assert await state_of(world, zhang.id) is None

    [row] = await suggestion_rows(world)
    assert (row["number"], row["lead_deputy_id"], row["state"]) == (NUMBER, zhang.id, "submitted")
    assert (row["title"], row["reason"], row["proposals"]) == (TITLE, REASON, PROPOSALS)
    assert (row["category"], row["publish"]) == ("traffic", 1)
    linked = await world.rows("SELECT opinion_id FROM suggestion_opinions ORDER BY opinion_id")
    assert [r["opinion_id"] for r in linked] == [1, 2]
    # the unclaimed opinions are now the lead deputy's: nobody is asked to claim them
    opinions = await world.rows("SELECT status, holder_id FROM opinions ORDER BY id")
    assert opinions == [{"status": "accepted", "holder_id": zhang.id}] * 2
    events = await world.rows("SELECT kind, note FROM opinion_events WHERE kind = 'suggested'")
    assert events == [{"kind": "suggested", "note": NUMBER}] * 2
    trail = await world.rows("SELECT kind, actor_id FROM suggestion_events")
    assert trail == [{"kind": "submitted", "actor_id": zhang.id}]

    told = await mail.take()
    taken_up = dict(number=NUMBER, title=TITLE, deputy="张三")
    assert notice(wang, "suggestion.notify_taken_up", **taken_up) in told
    assert notice(zhao, "suggestion.notify_taken_up", **taken_up) in told
    staff = say(
        admin, "suggestion.notify_new_for_staff", number=NUMBER, title=TITLE, deputy="张三", count=2
    )
    assert (admin.id, staff) in told
    assert len(told) == 3


@LANGS
async def test_from_scratch_with_every_bad_input_refused(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    await zhang.send("/suggest")
    await zhang.send_sticker()
    assert zhang.last == say(zhang, "suggest.use_buttons")
    await zhang.send("直接写")
    assert zhang.last == say(zhang, "suggest.use_buttons")
    await zhang.tap(say(zhang, "suggest.from_scratch"))
    assert zhang.last == say(zhang, "suggest.ask_title", maximum=60)

    for bad, key, params in [
        ("\u200b\u200b ", "suggest.title_empty", {}),
        ("路灯", "suggest.title_too_short", {"minimum": 4, "count": 2}),
        ("路" * 61, "suggest.title_too_long", {"maximum": 60, "count": 61}),
    ]:
        await zhang.send(bad)
        assert zhang.last == say(zhang, key, **params)
    await zhang.send_sticker()
    assert zhang.last == say(zhang, "suggest.send_text")
    await zhang.send_photo()
    assert zhang.last == say(zhang, "suggest.send_text")
    assert await state_of(world, zhang.id) == "title"
    await zhang.send(f"  {TITLE}\u200b ")
    assert (await draft_of(world, zhang.id) or {})["title"] == TITLE

    await zhang.send("\u200b\u3000 ")
    assert zhang.last == say(zhang, "suggest.body_empty")
    await zhang.send("太短了")
    assert zhang.last == say(zhang, "suggest.body_too_short", minimum=10, count=3)
    await zhang.send("长" * 1501)
    assert zhang.last == say(zhang, "suggest.body_too_long", maximum=1500, count=1501)
    await zhang.send(REASON)
    await zhang.send_sticker()
    assert zhang.last == say(zhang, "suggest.send_text")
    await zhang.send(PROPOSALS)
    await zhang.send("交通")
    assert zhang.last == say(zhang, "suggest.use_buttons")
    await zhang.tap(say(zhang, "category.traffic"))
    await zhang.tap(say(zhang, "suggest.publish_no"))

    # a second /suggest while one is open is refused; the draft stays
    await zhang.send("/suggest")
    assert zhang.last == say(zhang, "suggest.in_progress")
    assert await state_of(world, zhang.id) == "preview"

    # the preview's edits come back to the preview
    await zhang.tap(say(zhang, "suggest.edit_title"))
    assert say(zhang, "suggest.current_value", value=TITLE) in zhang.last
    await zhang.send("关于学院路公交站台增设遮雨棚和座椅的建议")
    assert "关于学院路公交站台增设遮雨棚和座椅的建议" in zhang.last
    assert say(zhang, "suggest.source_scratch") in zhang.last
    submit = button_with(zhang, say(zhang, "suggest.submit"))
    message, data = zhang._find(submit)
    await zhang.tap(submit)
    assert zhang.last == say(zhang, "suggest.submitted", number=NUMBER)
    # the same Submit again: what it became, nothing new
    await zhang.tap_data(data, message)
    assert zhang.last == say(zhang, "suggest.submitted_before", number=NUMBER)
    [row] = await suggestion_rows(world)
    assert (row["title"], row["publish"]) == ("关于学院路公交站台增设遮雨棚和座椅的建议", 0)
    assert await world.rows("SELECT * FROM suggestion_opinions") == []


@LANGS
async def test_voters_and_staff_may_not_suggest(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    voter = person(2001, "王芳", code)
    await send_opinion(voter, STREETLIGHT)
    for someone in (voter, admin):
        await someone.send("/suggest")
        assert someone.last == say(someone, "suggest.deputies_only")
        await someone.send("/suggestions")
        assert someone.last == say(someone, "suggest.deputies_only")
    assert await suggestion_rows(world) == []
    assert await state_of(world, voter.id) is None


async def test_cancel_drops_the_draft(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_scratch"))
    await zhang.send(TITLE)
    await zhang.send("/cancel")
    assert zhang.last == say(zhang, "suggest.cancelled")
    assert await state_of(world, zhang.id) is None
    assert await draft_of(world, zhang.id) is None
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.cancel_button"))
    assert zhang.last == say(zhang, "suggest.cancelled")
    assert await suggestion_rows(world) == []


@LANGS
async def test_a_restart_in_the_middle_loses_nothing(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    light = await send_opinion(person(2001, "王芳"), STREETLIGHT)
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    await zhang.tap(button_with(zhang, light))
    await world.crash_and_restart()
    await zhang.tap(say(zhang, "suggest.opinions_done", count=1))
    await zhang.send(TITLE)
    await world.crash_and_restart()
    assert await state_of(world, zhang.id) == "reason"
    await zhang.send(REASON)
    await zhang.send(PROPOSALS)
    await zhang.tap(say(zhang, "category.traffic"))
    await world.crash_and_restart()
    await zhang.tap(say(zhang, "suggest.publish_yes"))
    await zhang.tap(say(zhang, "suggest.submit"))
    assert zhang.last == say(zhang, "suggest.submitted", number=NUMBER)
    [row] = await suggestion_rows(world)
    assert (row["title"], row["reason"], row["proposals"]) == (TITLE, REASON, PROPOSALS)
    assert [r["opinion_id"] for r in await world.rows("SELECT * FROM suggestion_opinions")] == [1]


SHELTER_AGAIN = "学院路南口的公交站缺一个遮雨棚，下雨天候车太难了，老人都淋雨。"


async def opinion_id(world: World, tracking_no: str) -> int:
    rows = await world.rows("SELECT id FROM opinions WHERE tracking_no = ?", (tracking_no,))
    return int(rows[0]["id"])


@LANGS
async def test_a_suggestion_from_opinions_keeps_one_of_the_deputys_own(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    """Without one of the deputy's own opinions it may not go on (nor turn into 代表自拟):
    putting the last one back takes the similar ones with it."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    own = await send_opinion(person(2001), SHELTER)
    alike = await send_opinion(person(2002), SHELTER_AGAIN, station="学院路第二联络站")
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    await zhang.tap_data(SuggestOpinionsDone().pack())  # forged: nothing taken yet
    assert zhang.last == say(zhang, "suggest.no_opinions_chosen")
    await zhang.tap(button_with(zhang, own))
    await zhang.tap(button_with(zhang, alike))
    assert say(zhang, "suggest.similar_head", chosen=2) in zhang.last
    await zhang.tap(say(zhang, "suggest.more_opinions"))
    await zhang.tap(button_with(zhang, own))  # put back: the similar one goes with it
    assert zhang.last == say(zhang, "suggest.ask_opinions", chosen=0)
    done = say(zhang, "suggest.opinions_done", count=1)
    assert done not in zhang.seen[-1].buttons()
    draft = await draft_of(world, zhang.id) or {}
    assert (draft["own_ids"], draft["similar_ids"], draft["seed_id"]) == ([], [], None)
    await zhang.tap_data(SuggestOpinionsDone().pack())
    assert zhang.last == say(zhang, "suggest.no_opinions_chosen")
    assert await state_of(world, zhang.id) == "opinions"


@LANGS
async def test_no_more_opinions_than_one_suggestion_may_take(
    world: World,
    person: Callable[..., Person],
    admin: Person,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(suggestions, "MAX_OPINIONS", 1)
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    own = await send_opinion(person(2001), SHELTER)
    alike = await send_opinion(person(2002), SHELTER_AGAIN)
    light = await send_opinion(person(2003), STREETLIGHT)
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    await zhang.tap(button_with(zhang, own))
    await zhang.tap(button_with(zhang, alike))
    assert zhang.last == say(zhang, "suggest.too_many_opinions", maximum=1)
    await zhang.tap(say(zhang, "suggest.more_opinions"))
    await zhang.tap_data(SuggestPick(opinion=await opinion_id(world, light), page=0).pack())
    assert zhang.last == say(zhang, "suggest.too_many_opinions", maximum=1)
    draft = await draft_of(world, zhang.id) or {}
    assert (draft["own_ids"], draft["similar_ids"]) == ([await opinion_id(world, own)], [])


@LANGS
async def test_the_holder_of_an_attached_opinion_is_told(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四", language_code=code)
    own = await send_opinion(person(2001), SHELTER)
    held = await send_opinion(person(2002), SHELTER_AGAIN)
    await li.tap_data(Claim(opinion=await opinion_id(world, held)).pack())
    mail = Mail(world)
    await mail.take()
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    assert held not in " ".join(zhang.seen[-1].buttons())  # not zhang's own to take
    await zhang.tap(button_with(zhang, own))
    await zhang.tap(button_with(zhang, held))  # but like it, of the same 街镇
    await zhang.tap(say(zhang, "suggest.opinions_done", count=2))
    await zhang.send(TITLE)
    await zhang.send(REASON)
    await zhang.send(PROPOSALS)
    await zhang.tap(say(zhang, "category.traffic"))
    await zhang.tap(say(zhang, "suggest.publish_yes"))
    await zhang.tap(say(zhang, "suggest.submit"))
    told = await mail.take()
    expected = notice(
        li,
        "suggestion.notify_holder_taken",
        deputy="张三",
        tracking_no=held,
        number=NUMBER,
        title=TITLE,
    )
    assert expected in told
    assert [chat for chat, _ in told].count(li.id) == 1
    rows = await world.rows("SELECT holder_id FROM opinions ORDER BY id")
    assert [r["holder_id"] for r in rows] == [zhang.id, li.id]  # 李四 keeps holding it


@LANGS
async def test_with_none_of_the_deputys_own_left_they_choose_again(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    """Between the preview and Submit another deputy takes the opinion this draft grew from:
    the similar one attached to it goes too, and the deputy picks again."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四")
    own = await send_opinion(person(2001), SHELTER)
    alike = await send_opinion(person(2002), SHELTER_AGAIN, station="学院路第二联络站")
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    await zhang.tap(button_with(zhang, own))
    await zhang.tap(button_with(zhang, alike))
    await zhang.tap(say(zhang, "suggest.opinions_done", count=2))
    await zhang.send(TITLE)
    await zhang.send(REASON)
    await zhang.send(PROPOSALS)
    await zhang.tap(say(zhang, "category.traffic"))
    await zhang.tap(say(zhang, "suggest.publish_yes"))
    await draft_suggestion(li, opinions=[own])  # 李四 was quicker
    await zhang.tap(say(zhang, "suggest.submit"))
    assert say(zhang, "suggest.own_opinions_gone", numbers=own) in [o.text for o in zhang.seen]
    assert zhang.last == say(zhang, "suggest.no_opinions")  # none left of their own
    assert await state_of(world, zhang.id) == "opinions"
    draft = await draft_of(world, zhang.id) or {}
    assert (draft["own_ids"], draft["similar_ids"]) == ([], [])
    assert len(await suggestion_rows(world)) == 1  # 李四's only
