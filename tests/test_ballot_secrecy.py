"""The ballot is secret and a vote counts once: the database (every table, and the bytes of
its files) records who voted, never how; logs hold no choice; a vote cannot be cast twice,
by a double tap, a replay, concurrency or a forged button; only entitled deputies vote."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest

from bot.errors import DomainError
from bot.runtime.buttons.ballots import BallotConfirm, BallotMark, BallotOpen
from bot.services.ballot_rules import Choice
from bot.settings import load_settings
from storage.repos.ballots import BallotRepo
from storage.repos.users import UserRepo
from tests.support.ballots import add_projects, cast, make_deputies, mark, open_ballot, open_sheet
from tests.support.logs import captured_logs
from tests.support.people import Person
from tests.support.scenarios import (
    LANGUAGES,
    consented_admin,
    invite_deputy,
    onboard,
    say,
    texts_of,
)
from tests.support.world import TOKEN, World

FOR, AGAINST, ABSTAIN = "ballot.choice_for", "ballot.choice_against", "ballot.choice_abstain"
CHOICE_VALUES = {c.value for c in Choice}
TITLES = ["社区食堂", "加装电梯", "口袋公园"]
# Three deputies, three different ballots; the fourth does not vote.
VOTES = [
    {1: FOR, 2: FOR, 3: FOR},
    {1: FOR, 2: AGAINST, 3: ABSTAIN},
    {1: AGAINST, 2: FOR, 3: ABSTAIN},
]
EXPECTED = {
    (1, "for"): 2, (1, "against"): 1, (1, "abstain"): 0,
    (2, "for"): 2, (2, "against"): 1, (2, "abstain"): 0,
    (3, "for"): 1, (3, "against"): 0, (3, "abstain"): 2,
}  # fmt: skip
DRAFT_MARK = b'"choices"'  # how a draft keeps its marks (VoteDraft, as JSON)


def database_bytes(world: World) -> bytes:
    """The database file and its write-ahead log: whatever was written and not overwritten."""
    files = [world.db_path, world.db_path.with_name(world.db_path.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def _user_ids_in(value: Any, ids: set[int]) -> set[int]:
    if isinstance(value, int):
        return {value} & ids
    if isinstance(value, str):
        return {int(n) for n in re.findall(r"\d+", value) if len(n) < 19} & ids
    return set()


def _holds_a_choice(value: Any) -> bool:
    """A choice as a value of its own, or as a JSON string inside a text."""
    if not isinstance(value, str):
        return False
    return value in CHOICE_VALUES or any(f'"{c}"' in value for c in CHOICE_VALUES)


async def linking_rows(world: World, ids: set[int]) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table that names one of `ids` and holds a choice."""
    found = []
    tables = await world.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in tables:
        for row in await world.rows(f'SELECT * FROM "{table["name"]}"'):
            users = set().union(*(_user_ids_in(v, ids) for v in row.values()))
            if users and any(_holds_a_choice(v) for v in row.values()):
                found.append((table["name"], row))
    return found


def choices_near_ids(data: bytes, ids: set[int], reach: int = 96) -> list[int]:
    """The ids whose decimal form has a choice word within `reach` bytes of it."""
    words = [c.encode() for c in CHOICE_VALUES if len(c) > 3]  # "for" is in too much text
    near = []
    for user_id in ids:
        for match in re.finditer(str(user_id).encode(), data):
            window = data[max(0, match.start() - reach) : match.end() + reach]
            if any(word in window for word in words):
                near.append(user_id)
    return near


async def tallies(world: World) -> dict[tuple[int, str], int]:
    rows = await world.rows("SELECT project_id, choice, votes FROM ballot_tallies")
    return {(r["project_id"], r["choice"]): r["votes"] for r in rows}


async def test_the_database_knows_who_voted_never_how(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    await add_projects(world, TITLES)
    deputies = await make_deputies(world, admin, person, 4)
    ids = {d.id for d in deputies}
    await open_ballot(admin, "each")
    await world.outbox.drain()
    ballot_before = await world.rows("SELECT * FROM ballots")
    outbox_before = await world.rows("SELECT count(*) AS n FROM outbox")
    voters = deputies[:3]
    for deputy, marks in zip(voters, VOTES, strict=True):  # all three mark and submit first
        await open_sheet(deputy)
        await mark(deputy, marks)
        await deputy.tap(say(deputy, "ballot.submit_button"))
    for deputy in voters[:2]:
        await deputy.tap(say(deputy, "ballot.confirm_button"))

    # the checks below see a link where there is one: the third deputy's marks, not yet cast
    assert [table for table, _ in await linking_rows(world, ids)] == ["drafts"]
    assert DRAFT_MARK in database_bytes(world)

    await voters[2].tap(say(voters[2], "ballot.confirm_button"))
    await world.outbox.drain()

    assert await tallies(world) == EXPECTED
    flags = await world.rows("SELECT user_id, voted FROM ballot_voters ORDER BY user_id")
    assert flags == [{"user_id": d.id, "voted": int(d in voters)} for d in deputies]
    # who voted is known, how is not: no row anywhere names a voter and holds a choice
    assert await linking_rows(world, ids) == []
    assert await world.rows("SELECT * FROM drafts WHERE kind = 'ballot'") == []
    # a vote writes no time, no notice, no event: the ballot row and the outbox are as before
    assert await world.rows("SELECT * FROM ballots") == ballot_before
    assert await world.rows("SELECT count(*) AS n FROM outbox") == outbox_before
    # and in the files' bytes: the deleted drafts were zeroed (secure_delete) and the
    # write-ahead log holding their earlier versions was truncated after each vote
    stored = database_bytes(world)
    assert DRAFT_MARK not in stored
    assert choices_near_ids(stored, ids) == []


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_vote_counts_once_whatever_is_tapped_again(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    (deputy,) = await make_deputies(world, staff, person, 1, language_code=code)
    await open_ballot(staff, "each")
    await open_sheet(deputy)
    await mark(deputy, VOTES[0])
    await deputy.tap(say(deputy, "ballot.submit_button"))
    confirm = BallotConfirm(ballot=1).pack()
    # a double tap: both taps arrive before either is answered
    first, second = await asyncio.gather(deputy.tap_data(confirm), deputy.tap_data(confirm))
    already = say(deputy, "ballot.already_voted")
    answers = [o.text for o in first + second]
    assert answers.count(already) == 1
    assert sum((await tallies(world)).values()) == 3

    replay = await deputy.tap_data(confirm)  # later, the same button again
    assert replay[-1].show_alert and replay[-1].text == already
    reopened = await deputy.tap_data(BallotOpen(ballot=1).pack())  # the notice's button
    assert reopened[-1].text == already
    forged = await deputy.tap_data(
        BallotMark(ballot=1, project=1, choice=Choice.AGAINST, page=0).pack()
    )
    assert forged[-1].text == already
    await deputy.send("/ballot")
    assert deputy.last == say(deputy, "ballot.none_pending")
    assert sum((await tallies(world)).values()) == 3
    assert (await tallies(world))[(1, "for")] == 1


async def test_counting_flips_the_voter_once_under_concurrency(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    await add_projects(world, TITLES)
    (deputy,) = await make_deputies(world, admin, person, 1)
    await open_ballot(admin, "each")
    await open_sheet(deputy)
    await mark(deputy, VOTES[1])
    await deputy.tap(say(deputy, "ballot.submit_button"))
    user = await UserRepo(world.db).get(deputy.id)
    assert user is not None
    ballots = world.services.ballots
    results = await asyncio.gather(
        ballots.cast(user, deputy.id, 1), ballots.cast(user, deputy.id, 1), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].key == "ballot.already_voted"
    assert sum((await tallies(world)).values()) == 3

    # the repository's own guard: a voter already flipped is not counted again, nothing written
    repo = BallotRepo(world.db)
    async with world.db.transaction() as tx:
        assert await repo.count_vote(tx, 1, deputy.id, [(1, "for")]) is False
    async with world.db.transaction() as tx:  # nor someone never entitled
        assert await repo.count_vote(tx, 1, 999, [(1, "for")]) is False
    assert sum((await tallies(world)).values()) == 3


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_only_entitled_deputies_vote(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    await make_deputies(world, staff, person, 1, language_code=code)
    await open_ballot(staff, "each")
    voter = person(301, "选民", code)
    await onboard(voter)
    forbidden = say(voter, "error.forbidden")

    await voter.send("/ballot")
    assert voter.last == forbidden
    for data in (
        BallotOpen(ballot=1).pack(),
        BallotMark(ballot=1, project=1, choice=Choice.FOR, page=0).pack(),
        BallotConfirm(ballot=1).pack(),
    ):
        refused = await voter.tap_data(data)
        assert refused[-1].text == forbidden
    mark_as_staff = await staff.tap_data(
        BallotMark(ballot=1, project=1, choice=Choice.FOR, page=0).pack()
    )
    assert mark_as_staff[-1].text == say(staff, "error.forbidden")
    await staff.send("/ballot")
    assert staff.last == say(staff, "error.forbidden")

    # a deputy since the opening is not on this ballot's list
    late = await invite_deputy(world, staff, person, 250, "新代表", language_code=code)
    refused = await late.tap_data(BallotOpen(ballot=1).pack())
    assert refused[-1].text == say(late, "ballot.not_entitled")
    await late.send("/ballot")
    assert late.last == say(late, "ballot.none_pending")
    assert sum((await tallies(world)).values()) == 0
    assert [r["user_id"] for r in await world.rows("SELECT * FROM ballot_voters")] == [201]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_forged_ballot_buttons_are_refused_and_change_nothing(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    (deputy,) = await make_deputies(world, staff, person, 1, language_code=code)
    await open_ballot(staff, "each")
    await open_sheet(deputy)
    await mark(deputy, {1: FOR})

    async def refused(data: str) -> str:
        answer = await deputy.tap_data(data)
        assert answer[-1].show_alert, answer
        return answer[-1].text

    mark_ = BallotMark
    assert await refused(mark_(ballot=99, project=1, choice=Choice.FOR, page=0).pack()) == say(
        deputy, "ballot.unknown"
    )
    assert await refused(BallotOpen(ballot=99).pack()) == say(deputy, "ballot.unknown")
    assert await refused(mark_(ballot=1, project=99, choice=Choice.FOR, page=0).pack()) == say(
        deputy, "ballot.not_in_ballot"
    )
    for choice in (Choice.SATISFIED, Choice.CHOSEN):  # choices of the other modes
        assert await refused(mark_(ballot=1, project=2, choice=choice, page=0).pack()) == say(
            deputy, "ballot.bad_choice"
        )
    stale = say(deputy, "error.stale_button")
    assert await refused("jbm:1:1:maybe:0") == stale  # no such choice at all
    assert await refused("jbm:1:1") == stale  # cut short
    assert await refused(BallotConfirm(ballot=1).pack()) == stale  # confirm, never shown
    # nothing counted, the vote in progress intact
    assert sum((await tallies(world)).values()) == 0
    assert (await world.rows("SELECT voted FROM ballot_voters"))[0]["voted"] == 0
    assert await world.conversation_state("ballot", deputy.id) == "choosing"
    await mark(deputy, {2: AGAINST, 3: ABSTAIN})
    await deputy.tap(say(deputy, "ballot.submit_button"))
    await deputy.tap(say(deputy, "ballot.confirm_button"))
    counts = await tallies(world)
    assert (counts[(1, "for")], counts[(2, "against")], counts[(3, "abstain")]) == (1, 1, 1)

    # a rating ballot refuses a selection's choice
    await add_projects(world, ["已入选"], state="chosen")
    await open_ballot(staff, "rating")
    await open_sheet(deputy, 2)
    assert await refused(mark_(ballot=2, project=4, choice=Choice.FOR, page=0).pack()) == say(
        deputy, "ballot.bad_choice"
    )


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_closed_ballot_takes_no_vote(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    d1, d2 = await make_deputies(world, staff, person, 2, language_code=code)
    await open_ballot(staff, "each")
    await open_sheet(d2)
    await mark(d2, {1: FOR})  # marks never cast
    await cast(d1, VOTES[0])
    await staff.send("/ballots")
    await staff.tap(say(staff, "ballot.close_button", number=1))
    await staff.tap(say(staff, "ballot.close_confirm_button"))
    closed_at = (await world.rows("SELECT closed_at FROM ballots"))[0]["closed_at"]
    assert await world.rows("SELECT * FROM drafts WHERE kind = 'ballot'") == []  # dropped
    late = await d2.tap(say(d2, "ballot.mark_button", number=2, choice=say(d2, FOR)))
    when = texts_of(d2).datetime(world.clock.now())
    assert closed_at and late[-1].text == say(d2, "ballot.closed", closed=when)
    assert await world.conversation_state("ballot", d2.id) is None  # the vote in progress ended
    assert sum((await tallies(world)).values()) == 3


# --- logs ------------------------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[StringIO]:
    """The app's logging at DEBUG into a StringIO; everything put back afterwards."""
    settings = load_settings(_env_file=None, bot_token=TOKEN, log_level="DEBUG")
    with captured_logs(settings) as stream:
        yield stream


async def test_no_log_line_holds_a_choice(
    world: World, person: Callable[..., Person], admin: Person, captured: StringIO
) -> None:
    await add_projects(world, TITLES)
    deputies = await make_deputies(world, admin, person, 3)
    await open_ballot(admin, "each")
    for deputy, marks in zip(deputies, VOTES, strict=True):
        await cast(deputy, marks)
    voter = person(301, "选民")
    await onboard(voter)
    await voter.tap_data(BallotMark(ballot=1, project=1, choice=Choice.AGAINST, page=0).pack())
    log = captured.getvalue()
    assert "refused button jbm in update " in log  # a refusal is logged, by its kind only
    for choice in (
        "against",
        "abstain",
        "jbm:",
        "jbc:",
        *(say(deputies[0], k) for k in (FOR, AGAINST, ABSTAIN)),
    ):
        assert choice not in log, choice
