"""Suggestions as the department's answer (办复) leaves them, for the tests of the rating,
the ledger and publication: the rows the answer writes (suggestion_answers, its
commitments, the suggestion 'answered' with its class and rating deadline), inserted with the
real schema on top of tests/support/suggestion_seed.py. No tests here: helpers only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.services.suggestion_trail import working_days_after
from storage.db import stamp
from tests.support.people import Person
from tests.support.projects import deputy
from tests.support.suggestion_seed import (
    SEEDED_AT,
    seed_assignment,
    seed_department,
    seed_liaison,
    seed_suggestion,
)
from tests.support.world import SHANGHAI, World

ANSWERED_AT = datetime(2026, 11, 25, 15, 0, tzinfo=SHANGHAI)  # the day before World's clock
PROMISES = (
    ("在学院路南口站台增设遮雨棚", date(2026, 12, 10)),
    ("增设候车座椅", date(2026, 12, 20)),
)
SUMMARY = "经现场踏勘，学院路南口站台具备增设条件，已列入2026年第四季度改造计划。"


@dataclass
class Answered:
    """A seeded answered suggestion: its id, its latest answer and that answer's commitments."""

    id: int
    answer_id: int
    commitments: list[int] = field(default_factory=list)


async def add_answer(
    world: World,
    suggestion_id: int,
    department_id: int,
    *,
    round_no: int = 1,
    outcome: str = "B",
    promises: Sequence[tuple[str, date]] = PROMISES,
    answered_at: datetime = ANSWERED_AT,
    met_on: date | None = date(2026, 11, 20),
    summary: str = SUMMARY,
    on_time: bool = True,
    recorded_by: int = 1,
) -> Answered:
    """An answer of `round_no` with its commitments; the suggestion 'answered' by it, to be
    rated within 15 working days (as the answers helper leaves it)."""
    async with world.db.transaction() as tx:
        answer_id = await tx.execute(
            "INSERT INTO suggestion_answers (suggestion_id, round, department_id, outcome_class,"
            " met_deputy, met_on, summary, recorded_by, answered_at, on_time)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                suggestion_id,
                round_no,
                department_id,
                outcome,
                int(met_on is not None),
                met_on.isoformat() if met_on else None,
                summary,
                recorded_by,
                stamp(answered_at),
                int(on_time),
            ),
        )
        commitments = [
            await tx.execute(
                "INSERT INTO suggestion_commitments (suggestion_id, answer_id, text, due_on)"
                " VALUES (?, ?, ?, ?)",
                (suggestion_id, answer_id, text, due_on.isoformat()),
            )
            for text, due_on in promises
        ]
        rate_by = working_days_after(answered_at, 15, SHANGHAI)
        await tx.execute(
            "UPDATE suggestions SET state = 'answered', answered_at = ?, outcome_class = ?,"
            " rating_due_at = ?, updated_at = ? WHERE id = ?",
            (stamp(answered_at), outcome, stamp(rate_by), stamp(answered_at), suggestion_id),
        )
    return Answered(suggestion_id, answer_id, commitments)


async def seed_answered(
    world: World,
    lead_deputy_id: int,
    lead_department_id: int,
    co_department_ids: Sequence[int] = (),
    *,
    title: str = "关于增设学院路公交站台遮雨棚的建议",
    proposals: str = "1. 在学院路南口站台增设遮雨棚；2. 增设座椅。",
    category: str = "城市建设",
    publish: bool = False,
    opinion_ids: Sequence[int] = (),
    cosigners: Sequence[tuple[int, str]] = (),
    assigned_at: datetime = SEEDED_AT,
    **answer: Any,
) -> Answered:
    """Submitted, assigned (交办) on `assigned_at` and answered (see `add_answer`)."""
    suggestion_id = await seed_suggestion(
        world,
        lead_deputy_id,
        title=title,
        proposals=proposals,
        category=category,
        publish=publish,
        opinion_ids=opinion_ids,
        cosigners=cosigners,
        at=min(assigned_at, SEEDED_AT),
    )
    await seed_assignment(
        world, suggestion_id, lead_department_id, co_department_ids, at=assigned_at
    )
    return await add_answer(world, suggestion_id, lead_department_id, **answer)


async def suggestion_row(world: World, suggestion_id: int) -> dict[str, Any]:
    rows = await world.rows("SELECT * FROM suggestions WHERE id = ?", (suggestion_id,))
    assert len(rows) == 1
    return rows[0]


async def events(world: World, suggestion_id: int) -> list[tuple[str, str]]:
    rows = await world.rows(
        "SELECT kind, note FROM suggestion_events WHERE suggestion_id = ? ORDER BY id",
        (suggestion_id,),
    )
    return [(r["kind"], r["note"]) for r in rows]


async def queued(world: World, key: str) -> list[dict[str, Any]]:
    """The outbox rows of notice `key`, in order."""
    return await world.rows(
        "SELECT chat_id, params, buttons, not_before, state FROM outbox WHERE message_key = ?"
        " ORDER BY id",
        (key,),
    )


@dataclass
class Departments:
    """Two departments, each with a liaison (the lead's speaks `lang`)."""

    lead: int
    co: int
    lead_liaison: Person
    co_liaison: Person


async def departments(world: World, lang: str = "zh-hans") -> Departments:
    lead = await seed_department(world, "区交通委员会")
    co = await seed_department(world, "区城市管理委员会")
    locale = "zh_CN" if lang.startswith("zh") else "en"
    await seed_liaison(world, 8001, lead, name="交通委联络员", locale=locale)
    await seed_liaison(world, 8002, co, name="城管委联络员")
    return Departments(
        lead, co, Person(world, 8001, "交通委", lang), Person(world, 8002, "城管委", "zh-hans")
    )


async def lead_deputy(world: World, lang: str = "zh-hans", user_id: int = 6001) -> Person:
    """A deputy made the real way (/invite and the link), who leads the suggestions."""
    return await deputy(world, user_id, lang, "王代表")
