"""Departments, liaisons and suggestions written straight into the database in the state a
step of the loop leaves them, so a test of a later step starts there. Rows are inserted with
the real schema, not mocked; the step under test then runs through the real Application."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.services.privacy import NOTICE_VERSION
from storage.db import stamp
from tests.support.world import SHANGHAI, World

SEEDED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)


async def seed_department(world: World, name: str) -> int:
    async with world.db.transaction() as tx:
        return await tx.execute(
            "INSERT INTO departments (name, created_at) VALUES (?, ?)", (name, stamp(SEEDED_AT))
        )


async def seed_liaison(
    world: World, user_id: int, department_id: int, *, name: str = "", locale: str = "zh_CN"
) -> None:
    """A consented account that is `department_id`'s liaison (as accepting the link leaves)."""
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (telegram_id, role, locale, full_name, consent_at,"
            " consent_version, created_at) VALUES (?, 'liaison', ?, ?, ?, ?, ?)",
            (user_id, locale, name, stamp(SEEDED_AT), NOTICE_VERSION, stamp(SEEDED_AT)),
        )
        await tx.execute(
            "INSERT INTO department_liaisons (user_id, department_id, name, joined_at)"
            " VALUES (?, ?, ?, ?)",
            (user_id, department_id, name or str(user_id), stamp(SEEDED_AT)),
        )


async def seed_suggestion(
    world: World,
    lead_deputy_id: int,
    *,
    title: str = "关于增设学院路公交站台遮雨棚的建议",
    reason: str = "学院路公交站台没有遮雨棚，雨天候车的老人和学生淋雨。",
    proposals: str = "1. 在学院路南口站台增设遮雨棚；2. 增设座椅。",
    category: str = "城市建设",
    publish: bool = False,
    opinion_ids: Sequence[int] = (),
    cosigners: Sequence[tuple[int, str]] = (),  # (deputy id, invited|confirmed|declined)
    at: datetime = SEEDED_AT,
) -> int:
    """A submitted suggestion (state 'submitted'), numbered JY<year>-NNNN, fed by
    `opinion_ids`; returns its id."""
    async with world.db.transaction() as tx:
        row = await tx.fetchone(
            "INSERT INTO suggestion_sequences (year, last) VALUES (?, 1)"
            " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            (at.year,),
        )
        assert row is not None
        number = f"JY{at.year}-{int(row[0]):04d}"
        suggestion_id = await tx.execute(
            "INSERT INTO suggestions (number, lead_deputy_id, title, reason, proposals, category,"
            " publish, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'submitted',"
            " ?, ?)",
            (
                number,
                lead_deputy_id,
                title,
                reason,
                proposals,
                category,
                int(publish),
                stamp(at),
                stamp(at),
            ),
        )
        for opinion_id in opinion_ids:
            await tx.execute(
                "INSERT INTO suggestion_opinions (suggestion_id, opinion_id) VALUES (?, ?)",
                (suggestion_id, opinion_id),
            )
        for deputy_id, state in cosigners:
            await tx.execute(
                "INSERT INTO suggestion_cosigners (suggestion_id, deputy_id, state, invited_at,"
                " answered_at) VALUES (?, ?, ?, ?, ?)",
                (
                    suggestion_id,
                    deputy_id,
                    state,
                    stamp(at),
                    None if state == "invited" else stamp(at),
                ),
            )
    return suggestion_id


async def seed_assignment(
    world: World,
    suggestion_id: int,
    lead_department_id: int,
    co_department_ids: Sequence[int] = (),
    *,
    at: datetime = SEEDED_AT,
    due_at: datetime | None = None,
    staff_id: int | None = None,
) -> None:
    """交办 as staff leave it: state 'assigned', one lead and any co-handling departments,
    due three months later (end of that day) unless `due_at` is given."""
    due = due_at or datetime(
        at.year + (at.month + 2) // 12, (at.month + 2) % 12 + 1, at.day, tzinfo=SHANGHAI
    ) + timedelta(days=1)
    async with world.db.transaction() as tx:
        for department_id, lead in [(lead_department_id, 1)] + [(d, 0) for d in co_department_ids]:
            await tx.execute(
                "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead,"
                " assigned_at, assigned_by) VALUES (?, ?, ?, ?, ?)",
                (suggestion_id, department_id, lead, stamp(at), staff_id),
            )
        await tx.execute(
            "UPDATE suggestions SET state = 'assigned', assigned_at = ?, first_assigned_at = ?,"
            " due_at = ?, updated_at = ? WHERE id = ?",
            (stamp(at), stamp(at), stamp(due), stamp(at), suggestion_id),
        )
