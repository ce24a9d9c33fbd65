"""Opinions (意见建议), their history events and tracking-number sequences."""

from __future__ import annotations

import json
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import Opinion, OpinionEvent, OpinionStatus


def _opinion(row: object) -> Opinion:
    data = dict(row)  # type: ignore[call-overload]
    data["photos"] = json.loads(data["photos"])
    return Opinion.model_validate(data)


class OpinionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def next_sequence(self, tx: Tx, year: int) -> int:
        """Take the next number of `year`; it is never handed out again."""
        row = await tx.fetchone(
            "INSERT INTO tracking_sequences (year, last) VALUES (?, 1)"
            " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            (year,),
        )
        assert row is not None
        return int(row[0])

    async def count_by_author_since(self, tx: Tx, author_id: int, since: datetime) -> int:
        row = await tx.fetchone(
            "SELECT count(*) FROM opinions WHERE author_id = ? AND created_at >= ?",
            (author_id, stamp(since)),
        )
        return int(row[0]) if row else 0

    async def insert(
        self,
        tx: Tx,
        *,
        tracking_no: str,
        author_id: int,
        station_id: int,
        category: str,
        text: str,
        photos: list[str],
        latitude: float | None,
        longitude: float | None,
        show_name: bool,
        now: datetime,
    ) -> int:
        return await tx.execute(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text, photos,"
            " latitude, longitude, show_name, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tracking_no,
                author_id,
                station_id,
                category,
                text,
                json.dumps(photos),
                latitude,
                longitude,
                int(show_name),
                OpinionStatus.SUBMITTED,
                stamp(now),
                stamp(now),
            ),
        )

    async def add_event(
        self,
        tx: Tx,
        opinion_id: int,
        at: datetime,
        actor_id: int | None,
        kind: str,
        note: str = "",
    ) -> None:
        await tx.execute(
            "INSERT INTO opinion_events (opinion_id, at, actor_id, kind, note)"
            " VALUES (?, ?, ?, ?, ?)",
            (opinion_id, stamp(at), actor_id, kind, note),
        )

    async def get(self, opinion_id: int) -> Opinion | None:
        row = await self.db.fetchone("SELECT * FROM opinions WHERE id = ?", (opinion_id,))
        return None if row is None else _opinion(row)

    async def count_by_author(self, author_id: int) -> int:
        return int(
            await self.db.scalar("SELECT count(*) FROM opinions WHERE author_id = ?", (author_id,))
            or 0
        )

    async def page_by_author(self, author_id: int, offset: int, limit: int) -> list[Opinion]:
        rows = await self.db.fetchall(
            "SELECT * FROM opinions WHERE author_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (author_id, limit, offset),
        )
        return [_opinion(r) for r in rows]

    async def set_status(
        self, tx: Tx, opinion_id: int, status: OpinionStatus, now: datetime
    ) -> None:
        await tx.execute(
            "UPDATE opinions SET status = ?, updated_at = ? WHERE id = ?",
            (status, stamp(now), opinion_id),
        )

    async def get_in(self, tx: Tx, opinion_id: int) -> Opinion | None:
        row = await tx.fetchone("SELECT * FROM opinions WHERE id = ?", (opinion_id,))
        return None if row is None else _opinion(row)

    @staticmethod
    def _filter(status: OpinionStatus | None, street_id: int | None) -> tuple[str, list[object]]:
        clauses, params = [], []
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if street_id is not None:
            clauses.append("station_id IN (SELECT id FROM stations WHERE street_id = ?)")
            params.append(street_id)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    async def count_filtered(self, status: OpinionStatus | None, street_id: int | None) -> int:
        where, params = self._filter(status, street_id)
        return int(await self.db.scalar(f"SELECT count(*) FROM opinions{where}", params) or 0)

    async def page_filtered(
        self, status: OpinionStatus | None, street_id: int | None, offset: int, limit: int
    ) -> list[Opinion]:
        where, params = self._filter(status, street_id)
        rows = await self.db.fetchall(
            f"SELECT * FROM opinions{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_opinion(r) for r in rows]

    async def events(self, opinion_id: int) -> list[OpinionEvent]:
        rows = await self.db.fetchall(
            "SELECT * FROM opinion_events WHERE opinion_id = ? ORDER BY id", (opinion_id,)
        )
        return [OpinionEvent.model_validate(dict(r)) for r in rows]
