"""Voters rate a deputy's annual account (述职测评) by secret ballot: staff open it from
/accounts, the voters of the deputy's station are told and vote once, nothing links a voter
to a choice, it closes at its time and the counts and verdict go to staff and the deputy.
Every bad input and forged button refused, in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.runtime.buttons.account import (
    RatingBallot,
    RatingChoice,
    RatingConfirm,
    RatingDeputy,
    RatingGo,
    RatingYear,
)
from storage.models import SuggestionRating
from tests.support.consultation_seed import add_user
from tests.support.inbox import Mail
from tests.support.people import Person
from tests.support.scenarios import (
    LANGUAGES,
    consented_admin,
    invite_deputy,
    onboard,
    say,
    texts_of,
)
from tests.support.world import SHANGHAI, MakeWorld, World
from tests.test_ballot_secrecy import database_bytes

DEPUTY = 301
VOTERS = (7001, 7002, 7003, 7004)  # of 学院路第一联络站
ELSEWHERE = 7101  # a voter of 学院路第二联络站
CLOSES_AT = datetime(2026, 12, 5, 23, 59, tzinfo=SHANGHAI)
CHOICES = {c.value for c in SuggestionRating}
SATISFIED, BASICALLY, UNSATISFIED = (
    "ballot.choice_satisfied",
    "ballot.choice_basic",
    "ballot.choice_unsatisfied",
)


async def district(
    world: World, person: Callable[..., Person], code: str = "zh-hans"
) -> tuple[Person, Person, list[Person], Person]:
    """Staff, the deputy 王芳 of 学院路第一联络站, its four voters (made the real way) and a
    voter of another station; someone who never agreed is at the station too."""
    staff = await consented_admin(world, code)
    deputy = await invite_deputy(world, staff, person, DEPUTY, "王芳", language_code=code)
    voters = []
    for voter_id in VOTERS:
        voter = person(voter_id, "选民", code)
        await onboard(voter)
        voters.append(voter)
    elsewhere = person(ELSEWHERE, "外站选民", code)
    await onboard(elsewhere, station="学院路第二联络站")
    stranger = person(7201, "路人", code)
    await stranger.send("/start")  # shown the privacy notice, never agreed
    await add_user(world, 7301, role="staff", station_id=1)  # staff rate nothing
    return staff, deputy, voters, elsewhere


async def open_rating(staff: Person, *, year: int = 2026, closing: str = "2026-12-05") -> None:
    await staff.send("/accounts")
    await staff.tap(say(staff, "account.deputy_button", name="王芳", station="学院路第一联络站"))
    await staff.tap(say(staff, "account.year_button", year=year))
    await staff.send(closing)
    await staff.tap(say(staff, "account.go_button"))


async def vote(voter: Person, choice: str) -> None:
    await voter.tap(say(voter, "account.rate_button"))
    await voter.tap(say(voter, choice))
    await voter.tap(say(voter, "account.confirm_button"))


async def tallies(world: World) -> dict[str, int]:
    rows = await world.rows("SELECT choice, count FROM account_rating_tallies WHERE rating_id = 1")
    return {r["choice"]: r["count"] for r in rows}


async def flags(world: World) -> dict[int, int]:
    rows = await world.rows("SELECT voter_id, voted FROM account_rating_voters ORDER BY 1")
    return {r["voter_id"]: r["voted"] for r in rows}


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_staff_open_a_rating_and_each_voter_of_the_station_votes_once(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff, deputy, voters, elsewhere = await district(world, person, code)
    mail = Mail(world)
    await mail.take()

    await staff.send("/accounts")
    assert staff.seen[-2].text.startswith(say(staff, "account.board_head"))
    assert say(staff, "account.board_empty") in staff.seen[-2].text
    assert staff.last == say(staff, "account.ask_deputy")
    await staff.tap(say(staff, "account.deputy_button", name="王芳", station="学院路第一联络站"))
    assert staff.last == say(staff, "account.ask_year", name="王芳")
    await staff.tap(say(staff, "account.year_button", year=2026))
    await staff.send("12月5日")
    t = texts_of(staff)
    assert staff.last == say(
        staff,
        "account.preview",
        name="王芳",
        station="学院路第一联络站",
        year=2026,
        entitled=4,
        closes=t.datetime(CLOSES_AT),
    )
    await staff.tap(say(staff, "account.go_button"))
    assert staff.last == say(staff, "account.opened", name="王芳", year=2026, entitled=4)

    # who may vote is fixed now: the station's consented voters, every counter at zero
    assert await flags(world) == dict.fromkeys(VOTERS, 0)
    assert await tallies(world) == dict.fromkeys(CHOICES, 0)
    notices = await mail.take()
    texts = texts_of(voters[0])
    expected = say(
        voters[0],
        "account.rating_notice",
        name="王芳",
        year=2026,
        station="学院路第一联络站",
        closes_at=texts.datetime(CLOSES_AT),
    )
    assert notices == [(v, expected) for v in VOTERS]

    await voters[0].tap(say(voters[0], "account.rate_button"))
    assert voters[0].last == say(
        voters[0],
        "account.ballot",
        name="王芳",
        station="学院路第一联络站",
        year=2026,
        closes=texts.datetime(CLOSES_AT),
    )
    assert voters[0].seen[-1].buttons() == [
        say(voters[0], k) for k in (SATISFIED, BASICALLY, UNSATISFIED)
    ]
    await voters[0].tap(say(voters[0], BASICALLY))
    assert voters[0].last == say(
        voters[0], "account.confirm", name="王芳", year=2026, choice=say(voters[0], BASICALLY)
    )
    await voters[0].tap(say(voters[0], "account.back_button"))  # changed their mind
    await voters[0].tap(say(voters[0], SATISFIED))
    assert await tallies(world) == dict.fromkeys(CHOICES, 0)  # nothing counts before confirming
    await voters[0].tap(say(voters[0], "account.confirm_button"))
    assert voters[0].last == say(voters[0], "account.counted", name="王芳", year=2026)
    assert say(voters[0], SATISFIED) not in voters[0].last  # the receipt shows no choice
    assert await tallies(world) == {"satisfied": 1, "basically": 0, "unsatisfied": 0}
    assert await flags(world) == {VOTERS[0]: 1, VOTERS[1]: 0, VOTERS[2]: 0, VOTERS[3]: 0}

    # once only: the confirmation tapped again, the notice's button, a forged other choice
    confirm = RatingConfirm(rating=1, choice=SuggestionRating.UNSATISFIED).pack()
    for data in (
        confirm,
        RatingBallot(rating=1).pack(),
        RatingChoice(rating=1, choice=SuggestionRating.BASICALLY).pack(),
    ):
        await voters[0].tap_data(data)
        assert voters[0].last == say(voters[0], "account.already_voted")
    # a voter of another station, forging the button: not entitled
    await elsewhere.tap_data(confirm)
    assert elsewhere.last == say(elsewhere, "account.not_entitled")
    # a deputy, staff: no voters here
    for someone in (deputy, staff):
        await someone.tap_data(confirm)
        assert someone.last == say(someone, "error.forbidden")
    await voters[1].tap_data(RatingBallot(rating=99).pack())
    assert voters[1].last == say(voters[1], "account.rating_unknown")
    for data in ("szc:1:happy", "szv:1", "szb:0"):
        await voters[1].tap_data(data)
        assert voters[1].last == say(voters[1], "error.stale_button")
    assert await tallies(world) == {"satisfied": 1, "basically": 0, "unsatisfied": 0}

    # the board shows the turnout, never the counts, while it is open
    await staff.send("/accounts")
    board = staff.seen[-2].text
    assert say(
        staff, "account.board_open_item", name="王芳", year=2026, voted=1, entitled=4,
        closes=t.datetime(CLOSES_AT),
    ) in board  # fmt: skip
    await staff.send("/cancel")


def _ids_in(value: Any, ids: set[int]) -> set[int]:
    if isinstance(value, int):
        return {value} & ids
    if isinstance(value, str):
        return {int(n) for n in re.findall(r"\d+", value) if len(n) < 19} & ids
    return set()


def _holds_a_choice(value: Any) -> bool:
    return isinstance(value, str) and (
        value in CHOICES or any(f'"{c}"' in value or f":{c}" in value for c in CHOICES)
    )


async def linking_rows(world: World, ids: set[int]) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table that names one of `ids` and holds a choice."""
    found = []
    tables = await world.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in tables:
        for row in await world.rows(f'SELECT * FROM "{table["name"]}"'):
            users = set().union(*(_ids_in(v, ids) for v in row.values()))
            if users and any(_holds_a_choice(v) for v in row.values()):
                found.append((table["name"], row))
    return found


async def test_nothing_links_a_voter_to_a_choice(
    world: World, person: Callable[..., Person]
) -> None:
    staff, _, voters, _ = await district(world, person)
    await open_rating(staff)
    await Mail(world).take()
    before = await world.rows("SELECT * FROM account_ratings")
    outbox_before = await world.rows("SELECT count(*) AS n FROM outbox")
    ids = set(VOTERS)

    for voter, choice in zip(voters, (SATISFIED, UNSATISFIED, BASICALLY), strict=False):
        await vote(voter, choice)

    assert await tallies(world) == {"satisfied": 1, "basically": 1, "unsatisfied": 1}
    assert await flags(world) == {VOTERS[0]: 1, VOTERS[1]: 1, VOTERS[2]: 1, VOTERS[3]: 0}
    # who voted is known, how is not: no row anywhere names a voter and holds a choice
    assert await linking_rows(world, ids) == []
    # a vote writes no time, no notice, no draft: the rating row and the outbox are as before
    assert await world.rows("SELECT * FROM account_ratings") == before
    assert await world.rows("SELECT count(*) AS n FROM outbox") == outbox_before
    assert await world.rows("SELECT * FROM drafts") == []
    # the voters' rows and the tallies hold no order of voting: no rowid, no time
    columns = await world.rows("SELECT name FROM pragma_table_info('account_rating_voters')")
    assert [c["name"] for c in columns] == ["rating_id", "voter_id", "voted"]
    # and in the files' bytes: no choice word next to a voter's id
    stored = database_bytes(world)
    words = [c.encode() for c in CHOICES]
    for voter_id in ids:
        for match in re.finditer(str(voter_id).encode(), stored):
            window = stored[max(0, match.start() - 96) : match.end() + 96]
            assert not any(word in window for word in words), voter_id


@pytest.mark.parametrize("code, locale", LANGUAGES)
@pytest.mark.parametrize("base, verdict", [("entitled", UNSATISFIED), ("voted", SATISFIED)])
async def test_it_closes_at_its_time_and_staff_and_the_deputy_get_the_results(
    make_world: MakeWorld, code: str, locale: str, base: str, verdict: str
) -> None:
    world = await make_world(rating_verdict_base=base)

    def person(user_id: int, name: str = "张三", language_code: str = code) -> Person:
        return Person(world, user_id, name, language_code)

    staff, deputy, voters, _ = await district(world, person, code)
    await open_rating(staff)
    mail = Mail(world)
    await mail.take()
    # 2 of 4 entitled satisfied, 1 unsatisfied, 1 did not vote: more than half of those who
    # voted, but not of everyone entitled
    for voter, choice in zip(voters, (SATISFIED, SATISFIED, UNSATISFIED), strict=False):
        await vote(voter, choice)

    world.clock.set(CLOSES_AT - timedelta(minutes=1))
    assert await world.services.account_ratings.run_due() == 0
    world.clock.set(CLOSES_AT)
    await voters[3].tap(say(voters[3], "account.rate_button"))  # too late, even before the sweep
    assert voters[3].last == say(
        voters[3], "account.rating_closed", closed=texts_of(voters[3]).datetime(CLOSES_AT)
    )
    assert await world.services.account_ratings.run_due() == 1
    assert await world.services.account_ratings.run_due() == 0  # once

    # closed at 23:59: the results wait out the quiet hours, then go
    await world.outbox.drain()
    held = await world.rows(
        "SELECT state, not_before FROM outbox WHERE message_key = 'account.rating_closed_notice'"
    )
    morning = datetime(2026, 12, 6, 7, 0, tzinfo=SHANGHAI)
    assert [(r["state"], datetime.fromisoformat(r["not_before"])) for r in held] == [
        ("queued", morning),
        ("queued", morning),
    ]
    world.clock.set(morning)
    notices = await mail.take()
    expected = {
        p.id: say(
            p,
            "account.rating_closed_notice",
            name="王芳",
            year=2026,
            entitled=4,
            voted=3,
            n_satisfied=2,
            n_basically=0,
            n_unsatisfied=1,
            verdict=say(p, verdict),
        )
        for p in (staff, deputy)
    }
    assert sorted(notices) == sorted(expected.items())
    await voters[3].tap(say(voters[3], "account.rate_button"))
    assert voters[3].last == say(
        voters[3], "account.rating_closed", closed=texts_of(voters[3]).datetime(CLOSES_AT)
    )
    assert await tallies(world) == {"satisfied": 2, "basically": 0, "unsatisfied": 1}

    await staff.send("/accounts")
    assert say(
        staff, "account.board_closed_item", name="王芳", year=2026, satisfied=2, basically=0,
        unsatisfied=1, voted=3, entitled=4, verdict=say(staff, verdict),
    ) in staff.seen[-2].text  # fmt: skip


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_opening_refuses_what_cannot_be_rated(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff, _, _, _ = await district(world, person, code)
    lonely = await invite_deputy(
        world, staff, person, 302, "赵强", street="清河街道", station="清河联络站",
        language_code=code,
    )  # fmt: skip
    del lonely

    # a name typed: one match goes on, none is refused, nothing typed is refused
    await staff.send("/accounts")
    await staff.send("张")
    assert staff.last == say(staff, "account.no_deputy_named", name="张")
    await staff.send("\u200b")
    assert staff.last == say(staff, "account.name_empty")
    await staff.send("赵")
    assert staff.last == say(staff, "account.ask_year", name="赵强")
    # a station without voters: nobody could rate
    await staff.tap(say(staff, "account.year_button", year=2026))
    assert staff.last == say(staff, "account.no_voters", station="清河联络站")
    # a forged year and a forged deputy
    await staff.tap_data(RatingYear(year=2020).pack())
    assert staff.last == say(staff, "account.rating_year", year=2020)
    await staff.tap_data(RatingDeputy(deputy=99_999).pack())
    assert staff.last == say(staff, "account.deputy_unknown")
    await staff.send("/cancel")
    assert staff.last == say(staff, "account.open_cancelled")

    # the closing day: not a date, or past
    await staff.send("/accounts")
    await staff.send("王芳")
    await staff.tap(say(staff, "account.year_button", year=2026))
    await staff.send("下个月")
    assert staff.last == say(staff, "account.close_unparsable", example="2026-11-26")
    await staff.send("2026-11-25")
    assert staff.last == say(
        staff,
        "account.close_in_past",
        date=texts_of(staff).date(datetime(2026, 11, 25, 12, tzinfo=SHANGHAI)),
    )
    await staff.send("2026-11-30")
    await staff.tap(say(staff, "account.go_button"))
    assert await world.rows("SELECT deputy_id, year FROM account_ratings") == [
        {"deputy_id": DEPUTY, "year": 2026}
    ]

    # a second rating of the same account is refused; last year's may be opened
    await staff.send("/accounts")
    await staff.send("王芳")
    await staff.tap(say(staff, "account.year_button", year=2026))
    assert staff.last == say(staff, "account.rating_exists", name="王芳", year=2026)
    await staff.tap(say(staff, "account.year_button", year=2025))
    assert staff.last == say(
        staff, "account.ask_closing", name="王芳", year=2025, example="2026-11-26"
    )
    # buttons of a step left behind, or with no opening under way
    await staff.tap_data(RatingGo().pack())
    assert staff.last == say(staff, "error.stale_button")
    await staff.send("/cancel")
    await staff.tap_data(RatingYear(year=2026).pack())
    assert staff.last == say(staff, "error.stale_button")
    assert len(await world.rows("SELECT * FROM account_ratings")) == 1


async def test_opening_survives_a_restart(world: World, person: Callable[..., Person]) -> None:
    staff, _, _, _ = await district(world, person)
    await staff.send("/accounts")
    await staff.send("王芳")
    await staff.tap(say(staff, "account.year_button", year=2026))
    await world.crash_and_restart()
    await staff.send("2026-12-05")
    await staff.tap(say(staff, "account.go_button"))
    assert staff.last == say(staff, "account.opened", name="王芳", year=2026, entitled=4)
