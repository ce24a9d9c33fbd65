"""The visit log (履职记录): a deputy's visits, newest first, and soft deletes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime

from storage.db import Database, Tx, stamp
from storage.models import Visit

# The columns an edit may change; anything else is refused before it reaches SQL.
EDITABLE_COLUMNS = frozenset(
    {
        "kind",
        "visit_date",
        "station_id",
        "voters_met",
        "opinions_received",
        "done_for_voters",
        "notes",
        "photos",
    }
)


def _visit(row: sqlite3.Row) -> Visit:
    data = dict(row)
    data["photos"] = json.loads(data["photos"])
    return Visit.model_validate(data)


def _column_value(column: str, value: object) -> object:
    if column == "photos":
        if not isinstance(value, list | tuple):
            raise TypeError(f"photos are a list of file ids, not {type(value).__name__}")
        return json.dumps(list(value), ensure_ascii=False)
    if column == "visit_date" and isinstance(value, date):
        return value.isoformat()
    return value


class VisitRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        tx: Tx,
        *,
        deputy_id: int,
        kind: str,
        visit_date: date,
        station_id: int | None,
        turn_id: int | None,
        voters_met: int,
        opinions_received: int,
        done_for_voters: str,
        notes: str,
        photos: Sequence[str],
        now: datetime,
    ) -> int:
        return await tx.execute(
            "INSERT INTO visits (deputy_id, kind, visit_date, station_id, turn_id, voters_met,"
            " opinions_received, done_for_voters, notes, photos, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                deputy_id,
                kind,
                visit_date.isoformat(),
                station_id,
                turn_id,
                voters_met,
                opinions_received,
                done_for_voters,
                notes,
                json.dumps(list(photos), ensure_ascii=False),
                stamp(now),
                stamp(now),
            ),
        )

    async def get(self, visit_id: int) -> Visit | None:
        """The visit, deleted or not."""
        row = await self.db.fetchone("SELECT * FROM visits WHERE id = ?", (visit_id,))
        return None if row is None else _visit(row)

    async def get_in(self, tx: Tx, visit_id: int) -> Visit | None:
        row = await tx.fetchone("SELECT * FROM visits WHERE id = ?", (visit_id,))
        return None if row is None else _visit(row)

    async def logged_turn(self, tx: Tx, deputy_id: int, turn_id: int) -> Visit | None:
        """The deputy's live visit already logged for this duty turn, if any."""
        row = await tx.fetchone(
            "SELECT * FROM visits WHERE deputy_id = ? AND turn_id = ? AND deleted_at IS NULL"
            " ORDER BY id LIMIT 1",
            (deputy_id, turn_id),
        )
        return None if row is None else _visit(row)

    async def count_by_deputy(self, deputy_id: int) -> int:
        return int(
            await self.db.scalar(
                "SELECT count(*) FROM visits WHERE deputy_id = ? AND deleted_at IS NULL",
                (deputy_id,),
            )
            or 0
        )

    async def page_by_deputy(self, deputy_id: int, offset: int, limit: int) -> list[Visit]:
        """Newest visit date first; of one day, the last logged first."""
        rows = await self.db.fetchall(
            "SELECT * FROM visits WHERE deputy_id = ? AND deleted_at IS NULL"
            " ORDER BY visit_date DESC, id DESC LIMIT ? OFFSET ?",
            (deputy_id, limit, offset),
        )
        return [_visit(r) for r in rows]

    async def update(self, tx: Tx, visit_id: int, values: dict[str, object], now: datetime) -> None:
        unknown = set(values) - EDITABLE_COLUMNS
        if unknown or not values:
            raise ValueError(f"not editable: {sorted(unknown) or 'nothing given'}")
        columns = sorted(values)
        assignments = ", ".join(f"{c} = ?" for c in columns)
        tx.defer(
            f"UPDATE visits SET {assignments}, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
            (*(_column_value(c, values[c]) for c in columns), stamp(now), visit_id),
        )

    async def soft_delete(self, tx: Tx, visit_id: int, now: datetime) -> bool:
        changed = await tx.execute_count(
            "UPDATE visits SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
            (stamp(now), stamp(now), visit_id),
        )
        return changed == 1
