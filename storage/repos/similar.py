"""The pool similar opinions are looked for in: open voters' opinions of one 街镇, their words
(opinion_terms) and the log of changes that move an opinion into or out of the pool."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database, Tx
from storage.models import Opinion
from storage.repos.opinions import IN_SUGGESTION, opinion_of

# Open: not yet declined or answered, a voter's (no project's supervision opinion), and taken
# into no suggestion (as /suggest's own list: SuggestionRepo's takeable). `o` is the row.
OPEN = f"o.status IN ('submitted', 'accepted') AND o.project_id IS NULL AND NOT {IN_SUGGESTION}"
# Opinions by a JSON list of ids: CROSS JOIN keeps SQLite from scanning `opinions` by status
# (it cannot tell how short the list is) instead of looking each id up.
_BY_ID = "json_each(?) AS ids CROSS JOIN opinions o ON o.id = ids.value"
# What the index needs of a row: the words when kept, else the text to take them from.
_POOL_COLUMNS = (
    "o.id, o.station_id, o.category, t.terms, CASE WHEN t.terms IS NULL THEN o.text END AS text"
)


@dataclass(frozen=True)
class PoolRow:
    """An opinion as the index holds it. `terms` is None until segmented (`text` then set);
    `street_id` and `open` describe it now (read for a change, where it may have left)."""

    id: int
    station_id: int
    category: str
    terms: str | None
    text: str | None
    street_id: int = 0
    open: bool = True


def _pool_row(row: sqlite3.Row, street_id: int = 0, open_: bool = True) -> PoolRow:
    return PoolRow(
        id=int(row["id"]),
        station_id=int(row["station_id"]),
        category=str(row["category"]),
        terms=row["terms"],
        text=row["text"],
        street_id=street_id,
        open=open_,
    )


class SimilarRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def opinion(self, opinion_id: int) -> tuple[Opinion, int, str | None] | None:
        """The opinion, its station's 街镇 and its kept words (None: not segmented yet)."""
        row = await self.db.fetchone(
            "SELECT o.*, s.street_id AS street_id_, t.terms AS terms_ FROM opinions o"
            " JOIN stations s ON s.id = o.station_id"
            " LEFT JOIN opinion_terms t ON t.opinion_id = o.id WHERE o.id = ?",
            (opinion_id,),
        )
        if row is None:
            return None
        data = dict(row)
        street_id, terms = int(data.pop("street_id_")), data.pop("terms_")
        return opinion_of(data), street_id, terms

    async def last_change(self) -> int:
        """The newest change's number (0 when none is logged)."""
        return int(await self.db.scalar("SELECT max(seq) FROM opinion_pool_changes") or 0)

    async def last_opinion(self) -> int:
        return int(await self.db.scalar("SELECT max(id) FROM opinions") or 0)

    async def pool(self, street_id: int, after: int = 0, upto: int | None = None) -> list[PoolRow]:
        """The open opinions of a 街镇 with ids in (after, upto], in id order."""
        bound = "" if upto is None else " AND o.id <= ?"
        rows = await self.db.fetchall(
            f"SELECT {_POOL_COLUMNS} FROM opinions o"
            " LEFT JOIN opinion_terms t ON t.opinion_id = o.id"
            " WHERE o.station_id IN (SELECT id FROM stations WHERE street_id = ?)"
            f" AND o.id > ?{bound} AND {OPEN} ORDER BY o.id",
            (street_id, after) if upto is None else (street_id, after, upto),
        )
        return [_pool_row(r) for r in rows]

    async def changes(self, after: int) -> list[tuple[int, int]]:
        """(number, opinion id) of every change logged after `after`, in order."""
        rows = await self.db.fetchall(
            "SELECT seq, opinion_id FROM opinion_pool_changes WHERE seq > ? ORDER BY seq",
            (after,),
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    async def now_of(self, opinion_ids: Sequence[int]) -> list[PoolRow]:
        """These opinions as they are now, with their 街镇 and whether they are open (a
        deleted one is left out)."""
        if not opinion_ids:
            return []
        rows = await self.db.fetchall(
            f"SELECT {_POOL_COLUMNS}, s.street_id, {OPEN} AS open FROM {_BY_ID}"
            " JOIN stations s ON s.id = o.station_id"
            " LEFT JOIN opinion_terms t ON t.opinion_id = o.id",
            (_json_ids(opinion_ids),),
        )
        return [_pool_row(r, int(r["street_id"]), bool(r["open"])) for r in rows]

    async def keep_terms(self, tx: Tx, segmented: Sequence[tuple[int, str, str]]) -> None:
        """Keep (opinion id, the text segmented, its words), each only if the opinion still
        has that text: words of a text changed or erased meanwhile are not kept."""
        await tx.executemany(
            "INSERT INTO opinion_terms (opinion_id, terms)"
            " SELECT id, ? FROM opinions WHERE id = ? AND text = ?"
            " ON CONFLICT (opinion_id) DO UPDATE SET terms = excluded.terms",
            [(terms, opinion_id, text) for opinion_id, text, terms in segmented],
        )

    async def forget_changes(self, tx: Tx, upto: int) -> int:
        """Drop the changes up to `upto` (every index has read them); returns how many."""
        return await tx.execute_count("DELETE FROM opinion_pool_changes WHERE seq <= ?", (upto,))

    async def open_opinions(self, opinion_ids: Sequence[int]) -> dict[int, Opinion]:
        """Those of these opinions that are open now, by id."""
        if not opinion_ids:
            return {}
        rows = await self.db.fetchall(
            f"SELECT o.* FROM {_BY_ID} WHERE {OPEN}",
            (_json_ids(opinion_ids),),
        )
        return {int(r["id"]): opinion_of(r) for r in rows}


def _json_ids(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
