"""What /forget leaves in the queues and the outbox: an unanswered opinion whose text was
erased is withdrawn (out of the deputies' queues, its holder told, still counted as
received); no notice in the person's chat keeps a tracking number; an Erase button of an
older /forget question erases nothing."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime.buttons.inbox import Claim
from bot.services.figures import Area, Period
from storage.repos.suggestions import SuggestionRepo
from tests.support.inbox import submit
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, invite_deputy, only, say
from tests.support.suggestion_seed import seed_suggestion
from tests.support.world import World

pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

UNANSWERED = "小区东门的路灯坏了一个多月，晚上出行很不安全。"


async def forget(voter: Person) -> None:
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))


def erase_button_of(voter: Person, message: dict[str, Any]) -> str:
    label = say(voter, "privacy.erase_button")
    rows = message["reply_markup"]["inline_keyboard"]
    return next(str(b["callback_data"]) for row in rows for b in row if b["text"] == label)


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_an_older_erase_button_erases_nothing_after_keep(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(2201, "王芳", code)
    await submit(voter, UNANSWERED, anonymous=False)
    await voter.send("/forget")
    first = world.api.chat_messages(voter.id)[-1]
    old_erase = erase_button_of(voter, first)
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.keep_button"))
    before = await world.snapshot()

    alert = only(await voter.tap_data(old_erase, first))
    assert (alert.kind, alert.text) == ("alert", say(voter, "privacy.forget_stale"))
    assert await world.snapshot() == before
    assert (await world.user_row(2201))["full_name"] == "王芳"


async def test_the_last_questions_erase_button_still_erases(world: World, person) -> None:
    voter: Person = person(2202, "Li Lei", "en")
    await submit(voter, UNANSWERED)
    await voter.send("/forget")
    await voter.send("/forget")  # asked again: the newest question counts
    await voter.tap(say(voter, "privacy.erase_button"))
    assert voter.last.startswith(say(voter, "privacy.erased_title"))


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_an_unclaimed_opinion_is_withdrawn_from_the_deputies(
    world: World, person, admin: Person, code: str, locale: str
) -> None:
    await invite_deputy(world, admin, person, 3001, "张三")
    voter: Person = person(2203, "王芳", code)
    await submit(voter, UNANSWERED)
    period, district = Period.year(2026), Area.district()
    figures = (await world.services.figures.compute(period, district)).model_dump()

    await forget(voter)
    assert voter.last.startswith(say(voter, "privacy.erased_title"))
    assert say(voter, "privacy.withdrawn", count=1) in voter.last
    row = (await world.rows("SELECT status, text FROM opinions WHERE id = 1"))[0]
    assert (row["status"], row["text"]) == ("withdrawn", "")
    events = await world.rows("SELECT kind, actor_id FROM opinion_events WHERE opinion_id = 1")
    assert {"kind": "forgotten", "actor_id": None} in events
    queued = await world.rows(
        "SELECT message_key FROM outbox WHERE about_opinion = 1 AND state = 'queued'"
    )
    assert queued == []
    # still counted as received
    assert (await world.services.figures.compute(period, district)).model_dump() == figures


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_the_deputy_holding_it_is_told(
    world: World, person, admin: Person, code: str, locale: str
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    voter: Person = person(2204, "王芳", "zh-hans")
    await submit(voter, UNANSWERED)
    await world.outbox.drain()
    await deputy.tap_data(Claim(opinion=1).pack())
    await forget(voter)
    await world.outbox.drain()
    tracking_no = (await world.rows("SELECT tracking_no FROM opinions WHERE id = 1"))[0]
    told = say(deputy, "privacy.withdrawn_notice", **tracking_no)
    assert told in [m.get("text") for m in world.api.chat_messages(deputy.id)]


async def test_no_notice_in_the_persons_chat_keeps_a_tracking_number(
    world: World, person, admin: Person
) -> None:
    await invite_deputy(world, admin, person, 3001, "张三")
    voter: Person = person(2205, "王芳", "zh-hans")
    await submit(voter, UNANSWERED)
    await world.outbox.drain()  # the receipt and the deputy's notice are sent
    tracking_no = str((await world.rows("SELECT tracking_no FROM opinions"))[0]["tracking_no"])
    mine = "SELECT params FROM outbox WHERE chat_id = 2205 AND instr(params, ?) > 0"
    assert await world.rows(mine, (tracking_no,)) != []  # the test can fail

    await forget(voter)
    assert await world.rows(mine, (tracking_no,)) == []
    assert await world.rows("SELECT * FROM outbox WHERE chat_id = 2205") == []


async def test_a_suggestion_fed_by_a_forgotten_voter_tells_only_the_others(
    world: World, person, admin: Person
) -> None:
    """voter_ids skips opinions with no author (forgotten, or unclaimed at the desk): every
    step that tells the voters no longer fails on them."""
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    forgotten: Person = person(2206, "王芳", "zh-hans")
    other: Person = person(2207, "李雷", "zh-hans")
    await submit(forgotten, UNANSWERED)
    await submit(other, "学院路公交站台没有遮雨棚，雨天候车的老人和学生淋雨。")
    suggestion_id = await seed_suggestion(world, deputy.id, opinion_ids=(1, 2))
    await forget(forgotten)

    async with world.db.transaction() as tx:
        assert await SuggestionRepo(world.db).voter_ids(tx, suggestion_id) == [2207]
