"""/suggest, the first step of the suggestion loop: voters' opinions merged into one deputy's
suggestion (代表建议), or one written from scratch; every bad input refused with its message,
a restart in the middle, the preview's edits, and Submit tapped twice making one suggestion.
What the voters and staff are told goes through the outbox (read back with `Mail`)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.support.inbox import Mail, notice
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.suggestions import (
    NUMBER,
    PROPOSALS,
    REASON,
    TITLE,
    button_with,
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
