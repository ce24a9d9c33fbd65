"""Steps the ballot tests share: projects entered with SQL (as staff would have entered them),
deputies invited the real way, ballots opened and votes cast through the chat."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from bot.runtime.buttons.ballots import BallotOpen
from storage.db import stamp
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.world import World

KIND_LABELS = {
    "each": "ballot.kind_each_button",
    "k_of_n": "ballot.kind_k_of_n_button",
    "rating": "ballot.kind_rating_button",
}


async def add_projects(
    world: World, titles: Sequence[str], *, year: int = 2026, state: str = "candidate"
) -> list[int]:
    """Projects of `year` in `state`, in this order; their ids."""
    ids = []
    async with world.db.transaction() as tx:
        for title in titles:
            ids.append(
                await tx.execute(
                    "INSERT INTO projects (year, title, department, state, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (year, title, "区民政局", state, stamp(world.clock.now())),
                )
            )
    return ids


async def make_deputies(
    world: World,
    admin: Person,
    person: Callable[..., Person],
    count: int,
    *,
    first_id: int = 201,
    language_code: str = "zh-hans",
) -> list[Person]:
    return [
        await invite_deputy(
            world, admin, person, first_id + i, f"代表{i + 1}", language_code=language_code
        )
        for i in range(count)
    ]


async def open_ballot(
    staff: Person,
    kind: str,
    *,
    year: int = 2026,
    pick: int | None = None,
    closing: str | None = None,
) -> None:
    """Open a ballot from /ballots: kind → year → K → closing day (None: no closing) → open."""
    await staff.send("/ballots")
    await staff.tap(say(staff, "ballot.new_button"))
    await staff.tap(say(staff, KIND_LABELS[kind]))
    year_label = next(label for label in staff.buttons() if label.startswith(str(year)))
    await staff.tap(year_label)
    if pick is not None:
        await staff.send(str(pick))
    if closing is None:
        await staff.tap(say(staff, "ballot.no_closing_button"))
    else:
        await staff.send(closing)
    await staff.tap(say(staff, "ballot.go_button"))
    assert staff.last.startswith("✅"), staff.last


async def open_sheet(deputy: Person, ballot_id: int = 1) -> None:
    """Open the ballot's sheet as its notice's button does."""
    await deputy.tap_data(BallotOpen(ballot=ballot_id).pack())


async def mark(deputy: Person, marks: Mapping[int, str]) -> None:
    """Mark projects by their number on the sheet: {1: "ballot.choice_for", …}."""
    for number, key in marks.items():
        await deputy.tap(say(deputy, "ballot.mark_button", number=number, choice=say(deputy, key)))


async def cast(deputy: Person, marks: Mapping[int, str], ballot_id: int = 1) -> None:
    """Open, mark, submit and confirm."""
    await open_sheet(deputy, ballot_id)
    await mark(deputy, marks)
    await deputy.tap(say(deputy, "ballot.submit_button"))
    await deputy.tap(say(deputy, "ballot.confirm_button"))
    assert deputy.last.startswith("✅"), deputy.last


async def pick(deputy: Person, numbers: Sequence[int], titles: Sequence[str]) -> None:
    """k_of_n: choose projects by their number (titles: every title, in ballot order)."""
    for number in numbers:
        label = say(deputy, "ballot.pick_button", number=number, title=titles[number - 1][:12])
        await deputy.tap(label)


TURNOUT = re.compile(r"已投 (\d+)/(\d+)（([\d.]+)%）")
