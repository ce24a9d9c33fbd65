"""Selection ballots (票决) on the year's candidate projects: opening (for / against / abstain
on each, or K of N), voting on a sheet, turnout watched live, closing by hand or at the
closing time (a job planned at it), and the ranked results; in both languages, with the bad
inputs of each step."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.runtime.buttons.ballots import BallotResults
from tests.support.ballots import (
    TURNOUT,
    add_projects,
    cast,
    make_deputies,
    mark,
    open_ballot,
    open_sheet,
    pick,
)
from tests.support.inbox import Mail
from tests.support.people import Person
from tests.support.scenarios import (
    LANGUAGES,
    consented_admin,
    onboard,
    say,
    shown_day,
    texts_of,
)
from tests.support.world import World

TITLES = ["社区食堂", "加装电梯", "口袋公园"]
FOR, AGAINST, ABSTAIN = "ballot.choice_for", "ballot.choice_against", "ballot.choice_abstain"


def chat(world: World, someone: Person) -> list[str]:
    return [o.text for o in world.api.outputs if o.chat_id == someone.id]


def trimmed(row: tuple[object, ...]) -> list[object]:
    """A sheet's row without the empty cells after its last value."""
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return values


async def tallies(world: World, ballot_id: int = 1) -> dict[tuple[int, str], int]:
    rows = await world.rows(
        "SELECT project_id, choice, votes FROM ballot_tallies WHERE ballot_id = ?", (ballot_id,)
    )
    return {(r["project_id"], r["choice"]): r["votes"] for r in rows}


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_opening_fixes_the_voters_creates_every_counter_and_tells_each_deputy(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    await add_projects(world, ["明年的项目"], year=2027)
    deputies = await make_deputies(world, staff, person, 3, language_code=code)
    voter = person(301, "选民")
    await onboard(voter)

    await staff.send("/ballots")
    assert say(staff, "ballot.board_empty") in staff.last
    await staff.tap(say(staff, "ballot.new_button"))
    await staff.tap(say(staff, "ballot.kind_each_button"))
    # each year with candidates, latest first
    assert staff.seen[-1].buttons()[:2] == [
        say(staff, "ballot.year_button", year=2027, count=1),
        say(staff, "ballot.year_button", year=2026, count=3),
    ]
    await staff.tap(say(staff, "ballot.year_button", year=2026, count=3))
    await staff.tap(say(staff, "ballot.no_closing_button"))
    assert "<b>" in staff.last and say(staff, "ballot.title_selection", year=2026) in staff.last
    await staff.tap(say(staff, "ballot.go_button"))
    title = say(staff, "ballot.title_selection", year=2026)
    assert staff.last == say(staff, "ballot.opened", number=1, title=title, entitled=3)

    ballot = (await world.rows("SELECT * FROM ballots"))[0]
    assert (ballot["purpose"], ballot["mode"], ballot["entitled"], ballot["state"]) == (
        "selection",
        "each",
        3,
        "open",
    )
    voters = await world.rows("SELECT user_id, voted FROM ballot_voters ORDER BY user_id")
    assert voters == [{"user_id": d.id, "voted": 0} for d in deputies]
    assert await tallies(world) == {
        (p, c): 0 for p in (1, 2, 3) for c in ("for", "against", "abstain")
    }
    assert [r["project_id"] for r in await world.rows("SELECT * FROM ballot_projects")] == [1, 2, 3]

    notices = await Mail(world).take()
    kind = say(deputies[0], "ballot.kind_selection")
    expected = say(deputies[0], "ballot.opened_notice", year=2026, kind=kind, count=3)
    assert notices == [(d.id, expected) for d in deputies]  # the voter is not told
    # the notice's button opens the sheet
    await deputies[0].tap(say(deputies[0], "ballot.vote_button"))
    sheet = deputies[0].last
    assert say(deputies[0], "ballot.sheet_each", marked=0, count=3) in sheet
    assert say(deputies[0], "ballot.secret_note") in sheet
    assert deputies[0].seen[-1].buttons()[:3] == [
        say(deputies[0], "ballot.mark_button", number=1, choice=say(deputies[0], key))
        for key in (FOR, AGAINST, ABSTAIN)
    ]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_each_ballot_counts_ranks_and_chooses_by_a_majority_of_the_entitled(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    ids = await add_projects(world, TITLES)
    d1, d2, d3, _d4 = await make_deputies(world, staff, person, 4, language_code=code)
    await open_ballot(staff, "each")
    await cast(d1, {1: FOR, 2: FOR, 3: FOR})
    await cast(d2, {1: FOR, 2: AGAINST, 3: FOR})
    await cast(d3, {1: FOR, 2: FOR, 3: ABSTAIN})
    assert d3.last == say(d3, "ballot.counted", title=say(d3, "ballot.title_selection", year=2026))
    # nothing of the marks stays in the chat: the confirmation became the receipt
    assert d3.seen[-1].kind == "edit"

    counts = await tallies(world)
    assert (counts[(1, "for")], counts[(2, "for")], counts[(2, "against")]) == (3, 2, 1)
    assert (counts[(3, "for")], counts[(3, "abstain")], counts[(3, "against")]) == (2, 1, 0)

    await staff.send("/ballots")
    await staff.tap(say(staff, "ballot.close_button", number=1))
    assert say(staff, "ballot.turnout", voted=3, entitled=4, share="75.0%") in staff.last
    await staff.tap(say(staff, "ballot.close_confirm_button"))
    head = say(staff, "ballot.results_head", title=say(staff, "ballot.title_selection", year=2026))
    table = next(o.text for o in staff.seen[-5:] if o.text.startswith(head))
    lines = [line for line in table.splitlines() if line[:2] in ("1.", "2.", "3.")]
    # ranked by for-votes, the tie (2 for each) broken by fewer against: 口袋公园 before 加装电梯
    assert [line.split(". ", 1)[1] for line in lines] == ["社区食堂", "口袋公园", "加装电梯"]
    assert say(staff, "ballot.results_turnout", entitled=4, voted=3, share="75.0%") in table
    chosen = say(staff, "ballot.outcome_chosen")
    rejected = say(staff, "ballot.outcome_rejected")
    outcomes = [
        line for line in table.splitlines() if f"<b>{chosen}</b>" in line or rejected in line
    ]
    assert [f"<b>{chosen}</b>" in line for line in outcomes] == [True, False, False]

    # the projects: chosen by more than half of the 4 entitled (3 for); 2 of 4 is not enough
    states = await world.rows("SELECT id, state FROM projects ORDER BY id")
    assert [r["state"] for r in states] == ["chosen", "rejected", "rejected"]
    assert [r["id"] for r in states] == ids

    # the .xlsx: a row per project with every count, the share and the outcome
    document = world.api.calls_to("sendDocument")[-1]
    book = load_workbook(io.BytesIO(next(iter(document.files.values()))))
    rows = [trimmed(r) for r in book.active.iter_rows(values_only=True)]
    header = rows.index(
        [
            say(staff, "ballot.xlsx_rank"),
            say(staff, "ballot.xlsx_project"),
            say(staff, "ballot.xlsx_department"),
            say(staff, FOR),
            say(staff, AGAINST),
            say(staff, ABSTAIN),
            say(staff, "ballot.share_for"),
            say(staff, "ballot.xlsx_outcome"),
        ]
    )
    assert rows[header + 1 :] == [
        [1, "社区食堂", "区民政局", 3, 0, 0, 0.75, chosen],
        [2, "口袋公园", "区民政局", 2, 0, 1, 0.5, rejected],
        [3, "加装电梯", "区民政局", 2, 1, 0, 0.5, rejected],
    ]
    assert [say(staff, "ballot.xlsx_entitled"), 4] in rows
    assert [say(staff, "ballot.xlsx_voted"), 3] in rows
    assert [say(staff, "ballot.xlsx_turnout"), 0.75] in rows
    photo = world.api.calls_to("sendPhoto")[-1]
    assert next(iter(photo.files.values())).startswith(b"\x89PNG")

    # every entitled deputy, voted or not, is told; the button shows them the table
    mail = await Mail(world).take()
    kind = say(d1, "ballot.kind_selection")
    closed = say(d1, "ballot.closed_notice", year=2026, kind=kind, entitled=4, voted=3)
    assert sorted(chat_id for chat_id, text in mail if text == closed) == [201, 202, 203, 204]
    await d1.tap(say(d1, "ballot.results_button"))
    assert (
        say(d1, "ballot.results_head", title=say(d1, "ballot.title_selection", year=2026))
        in d1.last
    )


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_k_of_n_asks_k_in_range_and_refuses_more_than_k(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    titles = ["社区食堂", "加装电梯", "口袋公园", "课后托管"]
    await add_projects(world, titles)
    d1, d2, d3 = await make_deputies(world, staff, person, 3, language_code=code)
    await staff.send("/ballots")
    await staff.tap(say(staff, "ballot.new_button"))
    await staff.tap(say(staff, "ballot.kind_k_of_n_button"))
    await staff.tap(say(staff, "ballot.year_button", year=2026, count=4))
    assert staff.last == say(staff, "ballot.ask_pick", year=2026, count=4, maximum=3)
    await staff.send("两个")
    assert staff.last == say(staff, "ballot.pick_not_number", maximum=3)
    await staff.send("0")
    assert staff.last == say(staff, "ballot.pick_range", maximum=3, count=4)
    await staff.send("4")  # K must be below N: choosing all is no 差额
    assert staff.last == say(staff, "ballot.pick_range", maximum=3, count=4)
    await staff.send("２")  # full-width
    assert staff.last.startswith(say(staff, "ballot.ask_closing", example="2026-11-26")[:8])
    await staff.tap(say(staff, "ballot.no_closing_button"))
    assert say(staff, "ballot.mode_k_of_n", count=4, pick=2) in staff.last
    await staff.tap(say(staff, "ballot.go_button"))
    assert (await world.rows("SELECT pick, mode FROM ballots"))[0] == {"pick": 2, "mode": "k_of_n"}

    await open_sheet(d1)
    assert say(d1, "ballot.sheet_k_of_n", count=4, pick=2, chosen=0) in d1.last
    await pick(d1, [1, 2], titles)
    assert say(d1, "ballot.sheet_k_of_n", count=4, pick=2, chosen=2) in d1.last
    third = await d1.tap(say(d1, "ballot.pick_button", number=3, title="口袋公园"))
    assert third[-1].show_alert and third[-1].text == say(d1, "ballot.too_many", pick=2)
    await d1.tap(say(d1, "ballot.picked_button", number=2, title="加装电梯"))  # unchoose
    await pick(d1, [3], titles)
    await d1.tap(say(d1, "ballot.submit_button"))
    assert say(d1, "ballot.confirm_chosen", chosen=2, pick=2) in d1.last
    assert "加装电梯" not in d1.last  # only the chosen are listed
    await d1.tap(say(d1, "ballot.confirm_button"))

    # fewer than K is valid, with a warning on the confirmation
    await open_sheet(d2)
    await pick(d2, [1], titles)
    await d2.tap(say(d2, "ballot.submit_button"))
    assert say(d2, "ballot.fewer_warning", chosen=1, pick=2) in d2.last
    await d2.tap(say(d2, "ballot.confirm_button"))
    await open_sheet(d3)
    await pick(d3, [1, 3], titles)
    await d3.tap(say(d3, "ballot.submit_button"))
    await d3.tap(say(d3, "ballot.confirm_button"))

    counts = await tallies(world)
    assert counts == {(1, "chosen"): 3, (2, "chosen"): 0, (3, "chosen"): 2, (4, "chosen"): 0}
    await staff.send("/ballots")
    await staff.tap(say(staff, "ballot.close_button", number=1))
    await staff.tap(say(staff, "ballot.close_confirm_button"))
    states = await world.rows("SELECT title, state FROM projects ORDER BY id")
    assert [r["state"] for r in states] == ["chosen", "rejected", "chosen", "rejected"]


async def test_k_of_n_tie_at_the_last_place_chooses_neither_and_flags_it(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    titles = ["社区食堂", "加装电梯", "口袋公园"]
    await add_projects(world, titles)
    d1, d2, d3 = await make_deputies(world, admin, person, 3)
    await open_ballot(admin, "k_of_n", pick=2)
    for deputy, numbers in ((d1, [1, 2]), (d2, [1, 3]), (d3, [2, 3])):
        await open_sheet(deputy)
        await pick(deputy, numbers, titles)
        await deputy.tap(say(deputy, "ballot.submit_button"))
        await deputy.tap(say(deputy, "ballot.confirm_button"))
    await admin.send("/ballots")
    await admin.tap(say(admin, "ballot.close_button", number=1))
    await admin.tap(say(admin, "ballot.close_confirm_button"))
    # all three have 2 of 3 votes (a majority), tied for the two places: none is chosen,
    # they stay candidates for a run-off, and staff are told
    states = await world.rows("SELECT state FROM projects ORDER BY id")
    assert [r["state"] for r in states] == ["candidate"] * 3
    assert any(say(admin, "ballot.results_tied", count=3) in o.text for o in admin.seen[-4:])
    assert sum(say(admin, "ballot.outcome_tied") in o.text for o in admin.seen[-4:]) == 1


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_opening_refuses_what_cannot_be_voted_on(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await staff.send("/ballots")
    await staff.tap(say(staff, "ballot.new_button"))
    await staff.tap(say(staff, "ballot.kind_each_button"))
    assert staff.last == say(staff, "ballot.no_candidates")  # and the opening ends
    await staff.tap(say(staff, "ballot.new_button"))
    await staff.tap(say(staff, "ballot.kind_rating_button"))
    assert staff.last == say(staff, "ballot.no_chosen")

    await add_projects(world, ["唯一项目"])
    await staff.tap(say(staff, "ballot.new_button"))
    await staff.tap(say(staff, "ballot.kind_k_of_n_button"))
    refusal = await staff.tap(say(staff, "ballot.year_button", year=2026, count=1))
    assert refusal[-1].text == say(staff, "ballot.too_few_for_pick", count=1)
    await staff.send("/cancel")
    assert staff.last == say(staff, "ballot.new_cancelled")

    # no deputy yet: nobody could vote
    await staff.tap(say(staff, "ballot.new_button"))
    await staff.tap(say(staff, "ballot.kind_each_button"))
    await staff.tap(say(staff, "ballot.year_button", year=2026, count=1))
    await staff.send("明年")  # not a date
    assert staff.last == say(staff, "ballot.close_unparsable", example="2026-11-26")
    await staff.send("2026-11-25")
    assert staff.last == say(
        staff, "ballot.close_in_past", date=shown_day(staff, date(2026, 11, 25))
    )
    await staff.send("12-20")
    assert (
        say(staff, "ballot.preview", title="", mode="", count=1, entitled=0, closing="")[:6]
        in staff.last
    )
    refused = await staff.tap(say(staff, "ballot.go_button"))
    assert refused[-1].text == say(staff, "ballot.no_voters")
    assert await world.rows("SELECT * FROM ballots") == []
    await staff.send("/cancel")

    await make_deputies(world, staff, person, 1, language_code=code)
    await open_ballot(staff, "each", closing="12-20")
    assert (await world.rows("SELECT closes_at FROM ballots"))[0]["closes_at"].startswith(
        "2026-12-20T15:59"
    )  # 23:59 in Shanghai
    # another selection on 2026 while this one is open
    await staff.tap(say(staff, "ballot.new_button"))
    await staff.tap(say(staff, "ballot.kind_each_button"))
    again = await staff.tap(say(staff, "ballot.year_button", year=2026, count=1))
    assert again[-1].text == say(staff, "ballot.already_open", number=1, year=2026)
    assert len(await world.rows("SELECT * FROM ballots")) == 1


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_staff_watch_turnout_live_and_see_no_result_while_open(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    deputies = await make_deputies(world, staff, person, 3, language_code=code)
    await open_ballot(staff, "each")
    await staff.send("/ballots")
    board = staff.seen[-1]
    assert say(staff, "ballot.turnout", voted=0, entitled=3, share="0.0%") in board.text
    await cast(deputies[0], {1: FOR, 2: FOR, 3: FOR})
    await staff.tap(say(staff, "ballot.refresh_button"))
    assert staff.seen[-1].kind == "edit"
    assert say(staff, "ballot.turnout", voted=1, entitled=3, share="33.3%") in staff.last
    if code == "zh-hans":
        assert TURNOUT.search(staff.last).groups() == ("1", "3", "33.3")  # 已投 1/3（33.3%）
    # no result while open: not on the board, not from a forged results button
    assert say(staff, FOR) not in staff.last
    refused = await staff.tap_data(BallotResults(ballot=1).pack())
    assert refused[-1].text == say(staff, "ballot.results_after_close")
    not_staff = await deputies[1].tap_data(BallotResults(ballot=1).pack())
    assert not_staff[-1].text == say(deputies[1], "error.forbidden")
    assert world.api.calls_to("sendDocument") == []


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_ballot_closes_by_itself_at_its_closing_time(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    d1, d2 = await make_deputies(world, staff, person, 2, language_code=code)
    await open_ballot(staff, "each", closing="2026-11-26")  # today, until 23:59
    await cast(d1, {1: FOR, 2: FOR, 3: AGAINST})
    await open_sheet(d2)
    await mark(d2, {1: AGAINST})

    world.clock.set(world.clock.now().replace(hour=15, minute=59))  # 23:59 in Shanghai
    # the closing time has come, the sweep has not run yet: no vote is taken
    late = await d2.tap(say(d2, "ballot.mark_button", number=2, choice=say(d2, FOR)))
    closing = datetime(2026, 11, 26, 23, 59, 59, tzinfo=world.settings.zone)
    assert late[-1].text == say(d2, "ballot.closed", closed=texts_of(d2).datetime(closing))
    assert await world.services.ballots.run_due() == 1
    assert await world.services.ballots.run_due() == 0  # once
    assert (await world.rows("SELECT state, closed_at FROM ballots"))[0]["state"] == "closed"
    assert await world.rows("SELECT * FROM drafts WHERE kind = 'ballot'") == []
    mail = await Mail(world).take()
    staff_notice = say(
        staff,
        "ballot.closed_staff_notice",
        number=1,
        year=2026,
        kind=say(staff, "ballot.kind_selection"),
        entitled=2,
        voted=1,
    )
    assert (staff.id, staff_notice) in mail
    closed = say(
        d1,
        "ballot.closed_notice",
        year=2026,
        kind=say(d1, "ballot.kind_selection"),
        entitled=2,
        voted=1,
    )
    assert sorted(chat for chat, text in mail if text == closed) == [d1.id, d2.id]
    await staff.tap(say(staff, "ballot.results_button"))
    assert world.api.calls_to("sendDocument")  # staff get the files from the notice
    # a vote after the close: refused, saying when it closed
    refused = await open_sheet_refused(d2)
    assert refused == say(
        d2, "ballot.results_head", title=say(d2, "ballot.title_selection", year=2026)
    )


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_job_at_the_closing_time_closes_it_on_time(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    (deputy,) = await make_deputies(world, staff, person, 1, language_code=code)
    await open_ballot(staff, "each", closing="2026-11-26")  # today, until 23:59
    closing = datetime(2026, 11, 26, 23, 59, tzinfo=world.settings.zone)
    await Mail(world).take()  # the opening notices sent: the queue is idle
    world.clock.set(closing - timedelta(hours=1))
    await world.crash_and_restart()  # jobs are rebuilt from the database
    jobs = [j for j in world.app.job_queue.jobs() if j.name and j.name.startswith("ballots@")]
    assert [datetime.fromisoformat(j.name.split("@", 1)[1]) for j in jobs] == [closing]
    world.clock.set(closing)
    await jobs[0].run(world.app)  # what the JobQueue does at the job's time, not a sweep later
    (row,) = await world.rows("SELECT state, closed_at FROM ballots")
    assert (row["state"], row["closed_at"]) == ("closed", "2026-11-26T15:59:00+00:00")
    closed = say(
        deputy,
        "ballot.closed_notice",
        year=2026,
        kind=say(deputy, "ballot.kind_selection"),
        entitled=1,
        voted=0,
    )
    assert (deputy.id, closed) in await Mail(world).take()


async def open_sheet_refused(deputy: Person) -> str:
    """What a deputy gets opening a closed ballot: its results' first line."""
    await open_sheet(deputy)
    return deputy.last.splitlines()[0]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_each_needs_every_project_marked_or_the_rest_abstained(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await add_projects(world, TITLES)
    (deputy,) = await make_deputies(world, staff, person, 1, language_code=code)
    await open_ballot(staff, "each")
    await open_sheet(deputy)
    await mark(deputy, {1: AGAINST})
    gaps = await deputy.tap(say(deputy, "ballot.submit_button"))
    assert gaps[-1].show_alert and gaps[-1].text == say(deputy, "ballot.gaps", count=2)
    await deputy.tap(say(deputy, "ballot.rest_abstain_button"))
    assert say(deputy, "ballot.sheet_each", marked=3, count=3) in deputy.last
    await deputy.tap(say(deputy, "ballot.submit_button"))
    confirmation = deputy.last
    assert say(deputy, "ballot.confirm_final") in confirmation
    for number, key in ((1, AGAINST), (2, ABSTAIN), (3, ABSTAIN)):
        line = say(
            deputy,
            "ballot.sheet_line",
            number=number,
            title=TITLES[number - 1],
            mark=say(deputy, key),
        )
        assert line in confirmation
    await deputy.tap(say(deputy, "ballot.back_button"))  # change one
    await mark(deputy, {3: FOR})
    await deputy.tap(say(deputy, "ballot.submit_button"))
    await deputy.tap(say(deputy, "ballot.confirm_button"))
    counts = await tallies(world)
    assert sum(counts.values()) == 3
    assert (counts[(1, "against")], counts[(2, "abstain")], counts[(3, "for")]) == (1, 1, 1)


async def test_a_vote_in_progress_survives_a_restart(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    await add_projects(world, TITLES)
    (deputy,) = await make_deputies(world, admin, person, 1)
    await open_ballot(admin, "each")
    await open_sheet(deputy)
    await mark(deputy, {1: FOR, 2: AGAINST})
    await world.crash_and_restart()
    await mark(deputy, {3: FOR})
    assert say(deputy, "ballot.sheet_each", marked=3, count=3) in deputy.last
    await deputy.send("/ballot")  # in the middle: the same sheet again
    assert say(deputy, "ballot.sheet_each", marked=3, count=3) in deputy.last
    await deputy.tap(say(deputy, "ballot.submit_button"))
    await deputy.tap(say(deputy, "ballot.confirm_button"))
    counts = await tallies(world)
    assert (counts[(1, "for")], counts[(2, "against")], counts[(3, "for")]) == (1, 1, 1)


async def test_a_long_ballot_pages_its_sheet(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    titles = [f"项目{n:02d}" for n in range(1, 13)]
    await add_projects(world, titles)
    (deputy,) = await make_deputies(world, admin, person, 1)
    await open_ballot(admin, "each")
    await open_sheet(deputy)
    assert "项目10" in deputy.last and "项目11" not in deputy.last
    assert say(deputy, "ballot.sheet_page", page=1, pages=2) in deputy.last
    await deputy.tap(say(deputy, "nav.next"))
    assert "项目11" in deputy.last and "项目01" not in deputy.last
    await mark(deputy, {11: FOR, 12: AGAINST})
    assert say(deputy, "ballot.sheet_page", page=2, pages=2) in deputy.last  # stays there
    await deputy.tap(say(deputy, "ballot.rest_abstain_button"))
    await deputy.tap(say(deputy, "ballot.submit_button"))
    await deputy.tap(say(deputy, "ballot.confirm_button"))
    counts = await tallies(world)
    assert sum(counts.values()) == 12
    assert counts[(11, "for")] == counts[(12, "against")] == 1
    assert sum(v for (_, c), v in counts.items() if c == "abstain") == 10


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_ballot_lists_what_waits_and_quitting_keeps_nothing(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    (deputy,) = await make_deputies(world, staff, person, 1, language_code=code)
    await deputy.send("/ballot")
    assert deputy.last == say(deputy, "ballot.none_pending")
    await add_projects(world, TITLES)
    await open_ballot(staff, "each")
    await deputy.send("/ballot")
    assert deputy.last == say(deputy, "ballot.pending_head", count=1)
    title = say(deputy, "ballot.title_selection", year=2026)
    await deputy.tap(say(deputy, "ballot.open_button", title=title, number=1))
    await mark(deputy, {1: FOR})
    await deputy.send("随便说点什么")
    assert deputy.last == say(deputy, "ballot.use_buttons")
    await deputy.send("/visits")
    assert deputy.last == say(deputy, "ballot.in_progress")
    await deputy.tap(say(deputy, "ballot.quit_button"))
    assert deputy.last == say(deputy, "ballot.quit_done")
    assert await world.rows("SELECT * FROM drafts WHERE kind = 'ballot'") == []
    assert await world.conversation_state("ballot", deputy.id) is None
    await open_sheet(deputy)  # a fresh sheet
    assert say(deputy, "ballot.sheet_each", marked=0, count=3) in deputy.last
