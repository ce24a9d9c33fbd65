"""Deputies' suggestions (代表建议): the rows, their numbers, co-signers, the opinions they grew
from, and their trail of events. Assignment, answers and the ledger have repos of their own."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from storage.db import Database, Tx, stamp
from storage.models import (
    CosignerState,
    Suggestion,
    SuggestionCosigner,
    SuggestionEvent,
    SuggestionState,
)

# the columns a transition may set (never id, number or lead)
_SETTABLE = frozenset(Suggestion.model_fields) - {"id", "number", "lead_deputy_id", "created_at"}


def suggestion_of(row: sqlite3.Row | Mapping[str, Any]) -> Suggestion:
    return Suggestion.model_validate(dict(row))


def _value(value: object) -> object:
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, bool):
        return int(value)
    return value


class SuggestionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def next_number(self, tx: Tx, year: int) -> int:
        """Take the next sequence number of `year`; it is never handed out again."""
        row = await tx.fetchone(
            "INSERT INTO suggestion_sequences (year, last) VALUES (?, 1)"
            " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            (year,),
        )
        if row is None:
            raise RuntimeError("the suggestion sequence returned no row")
        return int(row[0])

    async def insert(
        self,
        tx: Tx,
        *,
        number: str,
        lead_deputy_id: int,
        title: str,
        reason: str,
        proposals: str,
        category: str,
        publish: bool,
        now: datetime,
    ) -> int:
        return await tx.execute(
            "INSERT INTO suggestions (number, lead_deputy_id, title, reason, proposals, category,"
            " publish, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                lead_deputy_id,
                title,
                reason,
                proposals,
                category,
                int(publish),
                SuggestionState.SUBMITTED,
                stamp(now),
                stamp(now),
            ),
        )

    async def get(self, suggestion_id: int) -> Suggestion | None:
        row = await self.db.fetchone("SELECT * FROM suggestions WHERE id = ?", (suggestion_id,))
        return None if row is None else suggestion_of(row)

    async def get_for_update(self, tx: Tx, suggestion_id: int) -> Suggestion | None:
        row = await tx.fetchone("SELECT * FROM suggestions WHERE id = ?", (suggestion_id,))
        return None if row is None else suggestion_of(row)

    async def update(self, tx: Tx, suggestion_id: int, now: datetime, **fields: object) -> None:
        """Set the named columns (and updated_at): one statement per transition."""
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise ValueError(f"not columns a transition sets: {sorted(unknown)}")
        names = [*fields, "updated_at"]
        values = [_value(v) for v in fields.values()] + [stamp(now)]
        tx.defer(
            f"UPDATE suggestions SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
            (*values, suggestion_id),
        )

    async def add_event(
        self,
        tx: Tx,
        suggestion_id: int,
        kind: str,
        now: datetime,
        actor_id: int | None = None,
        note: str = "",
    ) -> None:
        tx.defer(
            "INSERT INTO suggestion_events (suggestion_id, at, actor_id, kind, note)"
            " VALUES (?, ?, ?, ?, ?)",
            (suggestion_id, stamp(now), actor_id, kind, note),
        )

    async def events(self, suggestion_id: int) -> list[SuggestionEvent]:
        rows = await self.db.fetchall(
            "SELECT * FROM suggestion_events WHERE suggestion_id = ? ORDER BY id",
            (suggestion_id,),
        )
        return [SuggestionEvent.model_validate(dict(r)) for r in rows]

    async def link_opinions(self, tx: Tx, suggestion_id: int, opinion_ids: list[int]) -> None:
        await tx.executemany(
            "INSERT INTO suggestion_opinions (suggestion_id, opinion_id) VALUES (?, ?)",
            [(suggestion_id, opinion_id) for opinion_id in opinion_ids],
        )

    async def opinion_ids(self, suggestion_id: int, tx: Tx | None = None) -> list[int]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT opinion_id FROM suggestion_opinions WHERE suggestion_id = ?"
            " ORDER BY opinion_id",
            (suggestion_id,),
        )
        return [int(r[0]) for r in rows]

    async def suggestion_of_opinion(self, opinion_id: int) -> Suggestion | None:
        row = await self.db.fetchone(
            "SELECT s.* FROM suggestions s JOIN suggestion_opinions so"
            " ON so.suggestion_id = s.id WHERE so.opinion_id = ?",
            (opinion_id,),
        )
        return None if row is None else suggestion_of(row)

    async def voter_ids(self, tx: Tx, suggestion_id: int) -> list[int]:
        """The authors of the opinions a suggestion grew from, each once: told at each step."""
        rows = await tx.fetchall(
            "SELECT DISTINCT o.author_id FROM suggestion_opinions so"
            " JOIN opinions o ON o.id = so.opinion_id WHERE so.suggestion_id = ?"
            " ORDER BY o.author_id",
            (suggestion_id,),
        )
        return [int(r[0]) for r in rows]

    async def cosigners(self, suggestion_id: int, tx: Tx | None = None) -> list[SuggestionCosigner]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT * FROM suggestion_cosigners WHERE suggestion_id = ? ORDER BY invited_at,"
            " deputy_id",
            (suggestion_id,),
        )
        return [SuggestionCosigner.model_validate(dict(r)) for r in rows]

    async def invite_cosigner(
        self, tx: Tx, suggestion_id: int, deputy_id: int, now: datetime
    ) -> bool:
        """False when this deputy was invited already."""
        count = await tx.execute_count(
            "INSERT INTO suggestion_cosigners (suggestion_id, deputy_id, state, invited_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (suggestion_id, deputy_id, CosignerState.INVITED, stamp(now)),
        )
        return count > 0

    async def answer_cosigning(
        self, tx: Tx, suggestion_id: int, deputy_id: int, state: CosignerState, now: datetime
    ) -> bool:
        """Confirm or decline a pending invitation; False when none is pending."""
        count = await tx.execute_count(
            "UPDATE suggestion_cosigners SET state = ?, answered_at = ?"
            " WHERE suggestion_id = ? AND deputy_id = ? AND state = ?",
            (state, stamp(now), suggestion_id, deputy_id, CosignerState.INVITED),
        )
        return count > 0

    async def staff_ids(self, tx: Tx) -> list[int]:
        """Every consented staff member and admin: who hears of a step staff must take."""
        rows = await tx.fetchall(
            "SELECT telegram_id FROM users WHERE role IN ('staff', 'admin')"
            " AND consent_at IS NOT NULL ORDER BY telegram_id"
        )
        return [int(r[0]) for r in rows]

    async def liaison_ids(self, tx: Tx, department_ids: list[int]) -> list[int]:
        """The consented liaisons of these departments: who hears of their assignments."""
        if not department_ids:
            return []
        marks = ",".join("?" * len(department_ids))
        rows = await tx.fetchall(
            "SELECT l.user_id FROM department_liaisons l JOIN users u"
            " ON u.telegram_id = l.user_id AND u.role = 'liaison'"
            f" WHERE l.department_id IN ({marks}) AND u.consent_at IS NOT NULL"
            " ORDER BY l.user_id",
            department_ids,
        )
        return [int(r[0]) for r in rows]
