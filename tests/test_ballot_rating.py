"""The year-end rating (测评) of the chosen projects: 满意 / 基本满意 / 不满意 on each, the
verdict by the rule in the settings (its base and share), and the rules of every kind of
result, pure, at their boundaries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from itertools import pairwise

import pytest

from bot.services.ballot_rules import Choice, Outcome, compute, verdict
from storage.models import Ballot, BallotMode, BallotPurpose, BallotState, Project, ProjectState
from tests.support.ballots import add_projects, cast, make_deputies, mark, open_ballot, open_sheet
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, consented_admin, say
from tests.support.world import World

SAT, BASIC, UNSAT = "ballot.choice_satisfied", "ballot.choice_basic", "ballot.choice_unsatisfied"
TITLES = ["社区食堂", "加装电梯", "口袋公园", "课后托管"]
# Three of four entitled deputies rate four projects:
#   社区食堂 满意 3 · 加装电梯 满意 2, 不满意 1 · 口袋公园 基本满意 1, 不满意 2 ·
#   课后托管 满意 1, 基本满意 2
VOTES = [
    {1: SAT, 2: SAT, 3: UNSAT, 4: BASIC},
    {1: SAT, 2: SAT, 3: BASIC, 4: BASIC},
    {1: SAT, 2: UNSAT, 3: UNSAT, 4: SAT},
]


async def rate_and_close(
    world: World, staff: Person, person: Callable[..., Person], code: str
) -> str:
    """The rating above, closed by hand; the results table staff get."""
    await add_projects(world, TITLES, state="chosen")
    await add_projects(world, ["未入选的候选"])  # a candidate: not rated
    deputies = await make_deputies(world, staff, person, 4, language_code=code)
    await open_ballot(staff, "rating")
    assert [r["project_id"] for r in await world.rows("SELECT * FROM ballot_projects")] == [
        1,
        2,
        3,
        4,
    ]
    for deputy, marks in zip(deputies, VOTES, strict=False):  # the fourth does not vote
        await cast(deputy, marks)
    counts = {
        (r["project_id"], r["choice"]): r["votes"]
        for r in await world.rows("SELECT * FROM ballot_tallies")
    }
    assert counts == {
        (1, "satisfied"): 3, (1, "basic"): 0, (1, "unsatisfied"): 0,
        (2, "satisfied"): 2, (2, "basic"): 0, (2, "unsatisfied"): 1,
        (3, "satisfied"): 0, (3, "basic"): 1, (3, "unsatisfied"): 2,
        (4, "satisfied"): 1, (4, "basic"): 2, (4, "unsatisfied"): 0,
    }  # fmt: skip
    await staff.send("/ballots")
    await staff.tap(say(staff, "ballot.close_button", number=1))
    await staff.tap(say(staff, "ballot.close_confirm_button"))
    head = say(staff, "ballot.results_head", title=say(staff, "ballot.title_rating", year=2026))
    return next(o.text for o in staff.seen[-4:] if o.text.startswith(head))


def verdicts(staff: Person, table: str) -> list[tuple[str, str]]:
    """(title, verdict) of each project line, in the table's order."""
    labels = {say(staff, key): key for key in (SAT, BASIC, UNSAT)}
    lines = table.splitlines()
    found = []
    for title_line, counts_line in pairwise(lines):
        if title_line[:1].isdigit() and ". " in title_line:
            outcome = counts_line.rsplit("<b>", 1)[1].removesuffix("</b>")
            found.append((title_line.split(". ", 1)[1], labels[outcome]))
    return found


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_rating_verdicts_count_the_entitled_by_default(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    table = await rate_and_close(world, staff, person, code)
    # more than half of the 4 entitled (3+) 满意 → 满意; 满意 + 基本满意 3+ → 基本满意
    assert verdicts(staff, table) == [
        ("社区食堂", SAT),
        ("加装电梯", UNSAT),  # 2 of 4 is not more than half
        ("课后托管", BASIC),
        ("口袋公园", UNSAT),
    ]
    assert say(staff, "ballot.results_turnout", entitled=4, voted=3, share="75.0%") in table
    assert say(staff, "ballot.base_entitled") in table  # the rule, in words
    # a rating changes no project's state
    states = await world.rows("SELECT state FROM projects ORDER BY id")
    assert [r["state"] for r in states] == ["chosen"] * 4 + ["candidate"]


@pytest.mark.world(rating_verdict_base="voted")
async def test_rating_verdicts_can_count_those_who_voted(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    table = await rate_and_close(world, admin, person, "zh-hans")
    # the base is the 3 who voted: 2 满意 is more than half of them
    assert verdicts(admin, table) == [
        ("社区食堂", SAT),
        ("加装电梯", SAT),
        ("课后托管", BASIC),
        ("口袋公园", UNSAT),
    ]
    assert say(admin, "ballot.base_voted") in table


@pytest.mark.world(rating_verdict_share=0.6)
async def test_the_verdict_share_is_a_setting(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    table = await rate_and_close(world, admin, person, "zh-hans")
    # more than 60% of 4 is 3 or more: 社区食堂 (3 满意) and 课后托管 (3 of 满意 + 基本满意)
    assert verdicts(admin, table)[:2] == [("社区食堂", SAT), ("加装电梯", UNSAT)]
    assert ("课后托管", BASIC) in verdicts(admin, table)
    assert "60.0%" in table


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_rating_needs_every_project_rated(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES[:2], state="chosen")
    (deputy,) = await make_deputies(world, staff, person, 1, language_code=code)
    await open_ballot(staff, "rating")
    await open_sheet(deputy)
    assert say(deputy, "ballot.sheet_rating", marked=0, count=2) in deputy.last
    assert say(deputy, "ballot.rest_abstain_button") not in deputy.seen[-1].buttons()
    await mark(deputy, {1: BASIC})
    gaps = await deputy.tap(say(deputy, "ballot.submit_button"))
    assert gaps[-1].show_alert and gaps[-1].text == say(deputy, "ballot.gaps_rating", count=1)
    await mark(deputy, {2: UNSAT})
    await deputy.tap(say(deputy, "ballot.submit_button"))
    await deputy.tap(say(deputy, "ballot.confirm_button"))
    rows = await world.rows("SELECT project_id, choice FROM ballot_tallies WHERE votes = 1")
    assert sorted((r["project_id"], r["choice"]) for r in rows) == [
        (1, "basic"),
        (2, "unsatisfied"),
    ]


async def test_a_rating_is_over_the_chosen_projects_only(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    await add_projects(world, ["候选一", "候选二"])
    await make_deputies(world, admin, person, 1)
    await admin.send("/ballots")
    await admin.tap(say(admin, "ballot.new_button"))
    await admin.tap(say(admin, "ballot.kind_rating_button"))
    assert admin.last == say(admin, "ballot.no_chosen")
    await add_projects(world, ["已入选"], year=2025, state="chosen")
    await admin.tap(say(admin, "ballot.new_button"))
    await admin.tap(say(admin, "ballot.kind_rating_button"))
    assert admin.seen[-1].buttons()[0] == say(admin, "ballot.year_button", year=2025, count=1)


# --- the rules, pure ------------------------------------------------------------------------

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def ballot(mode: BallotMode, entitled: int, pick: int | None = None) -> Ballot:
    purpose = BallotPurpose.RATING if mode == BallotMode.RATING else BallotPurpose.SELECTION
    return Ballot(
        id=1,
        year=2026,
        purpose=purpose,
        mode=mode,
        pick=pick,
        state=BallotState.CLOSED,
        entitled=entitled,
        opened_at=NOW,
    )


def projects(count: int) -> list[Project]:
    return [
        Project(id=n, year=2026, title=f"P{n}", state=ProjectState.CANDIDATE, created_at=NOW)
        for n in range(1, count + 1)
    ]


def test_verdict_needs_more_than_the_share_not_exactly_it() -> None:
    half = Fraction(1, 2)
    assert verdict({Choice.SATISFIED: 3, Choice.BASIC: 0}, half, 6) == Outcome.UNSATISFIED
    assert verdict({Choice.SATISFIED: 4}, half, 6) == Outcome.SATISFIED
    assert verdict({Choice.SATISFIED: 3, Choice.BASIC: 1}, half, 6) == Outcome.BASIC
    assert verdict({Choice.SATISFIED: 0, Choice.BASIC: 0}, half, 0) == Outcome.UNSATISFIED


def test_a_decimal_share_is_exact_at_its_boundary() -> None:
    """0.6 of 5 is 3 exactly: 3 is not more than it (no float rounding lets it through)."""
    result = compute(
        ballot(BallotMode.RATING, 5),
        projects(2),
        {1: {Choice.SATISFIED: 3}, 2: {Choice.SATISFIED: 4}},
        5,
        verdict_base="entitled",
        verdict_share=0.6,
    )
    assert {row.project.id: row.outcome for row in result.rows} == {
        2: Outcome.SATISFIED,
        1: Outcome.UNSATISFIED,
    }


def test_each_ranks_by_for_then_fewer_against_and_shares_ranks_on_a_full_tie() -> None:
    tallies = {
        1: {Choice.FOR: 2, Choice.AGAINST: 2},
        2: {Choice.FOR: 3, Choice.AGAINST: 0},
        3: {Choice.FOR: 2, Choice.AGAINST: 1},
        4: {Choice.FOR: 2, Choice.AGAINST: 1},
    }
    result = compute(
        ballot(BallotMode.EACH, 5),
        projects(4),
        tallies,
        5,
        verdict_base="entitled",
        verdict_share=0.5,
    )
    assert [(r.rank, r.project.id) for r in result.rows] == [(1, 2), (2, 3), (2, 4), (4, 1)]
    assert [r.outcome for r in result.rows] == [Outcome.CHOSEN] + [Outcome.REJECTED] * 3


@pytest.mark.parametrize(
    ("votes", "pick", "chosen", "tied"),
    [
        ({1: 5, 2: 4, 3: 4, 4: 1}, 2, {1}, {2, 3}),  # tied at the 2nd place: neither
        ({1: 5, 2: 5, 3: 4, 4: 1}, 2, {1, 2}, set()),  # the tie is above the boundary
        ({1: 5, 2: 4, 3: 3, 4: 3}, 2, {1, 2}, set()),  # 3 is no majority of 6: not tied
        ({1: 4, 2: 3, 3: 3, 4: 3}, 3, {1}, set()),  # too few with a majority: fewer chosen
        ({1: 6, 2: 6, 3: 6, 4: 0}, 2, set(), {1, 2, 3}),
    ],
)
def test_k_of_n_chooses_the_top_k_with_a_majority_and_flags_a_tie_at_the_boundary(
    votes: dict[int, int], pick: int, chosen: set[int], tied: set[int]
) -> None:
    result = compute(
        ballot(BallotMode.K_OF_N, 6, pick),
        projects(4),
        {p: {Choice.CHOSEN: v} for p, v in votes.items()},
        6,
        verdict_base="entitled",
        verdict_share=0.5,
    )
    outcomes = {row.project.id: row.outcome for row in result.rows}
    assert {p for p, o in outcomes.items() if o == Outcome.CHOSEN} == chosen
    assert {p for p, o in outcomes.items() if o == Outcome.TIED} == tied
    assert len(chosen) <= pick
