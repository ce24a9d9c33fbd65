"""What the health report reads and the running bot writes for it: the heartbeat, the last
error's time, the schema's version and the outbox's backlog. Another process (`python -m bot
health`) reads them through a read-only connection that neither creates nor migrates the
database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from storage.db import BUSY_TIMEOUT_MS, Database, stamp

HEARTBEAT = "heartbeat"
LAST_ERROR = "last_error"
# Read at every health check: the index outbox_waiting (migration 0016) keeps it to the
# messages waiting, whatever the size of the outbox's history. A message's age counts from
# when it first became due: retries push `not_before` on, `first_due` keeps the first, and a
# message between two attempts is still waiting.
BACKLOG_SQL = (
    "SELECT count(*), min(coalesce(o.first_due, o.not_before)) FROM outbox o"
    " LEFT JOIN broadcasts b ON b.id = o.broadcast_id"
    " WHERE o.state = 'queued' AND coalesce(o.first_due, o.not_before) <= ?"
    " AND (o.broadcast_id IS NULL OR b.state = 'running')"
)
# Messages given up on since a moment (the index outbox_failed keeps it to recent ones).
FAILED_SQL = "SELECT count(*) FROM outbox WHERE state = 'failed' AND failed_at >= ?"


class Unreadable(Exception):
    """The database could not answer a health read; the message says why, in SQLite's words."""


class Reader(Protocol):
    """Where health reads go: the running bot's Database, or a ReadOnlyDatabase."""

    async def fetchone(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> aiosqlite.Row | None: ...


class ReadOnlyDatabase:
    """A read-only connection to a database file that must already exist: opening it creates
    nothing and applies no migration, so another process can look without changing anything."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None

    async def connect(self) -> None:
        """Open the file read-only; raises Unreadable when it is missing or cannot be opened."""
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        # opened once directly first: aiosqlite, failing to open, leaves its thread to finish
        # on an event loop that a one-shot command may already have closed
        try:
            sqlite3.connect(uri, uri=True).close()
        except sqlite3.Error as exc:
            raise Unreadable(f"{exc} ({self.path})") from None
        conn = await aiosqlite.connect(uri, uri=True)
        conn.row_factory = aiosqlite.Row
        self._conn = conn
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def fetchone(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> aiosqlite.Row | None:
        if self._conn is None:
            raise RuntimeError("database is not connected")
        rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)


@dataclass(frozen=True)
class Backlog:
    """Messages waiting in the outbox that are due, and when the oldest of them became due."""

    waiting: int
    oldest_due: datetime | None


@dataclass(frozen=True)
class Heartbeat:
    """The running bot's last sign of life and the scheduler jobs it had then."""

    at: datetime
    jobs: tuple[str, ...]


class HealthReads:
    """The health report's reads; each raises Unreadable instead of the driver's error."""

    def __init__(self, source: Reader) -> None:
        self.source = source

    async def _one(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> aiosqlite.Row | None:
        try:
            return await self.source.fetchone(sql, params)
        except sqlite3.Error as exc:
            raise Unreadable(str(exc)) from None

    async def check_database(self) -> None:
        """A query that needs the file to be a database at all (its schema is read)."""
        await self._one("SELECT count(*) FROM sqlite_master")

    async def schema_version(self) -> int:
        """The number of the newest migration applied to this database."""
        row = await self._one("PRAGMA user_version")
        return int(row[0]) if row is not None else 0

    async def backlog(self, now: datetime) -> Backlog:
        """Due messages still queued, except those of a paused broadcast (held on purpose)."""
        row = await self._one(BACKLOG_SQL, (stamp(now),))
        if row is None or not row[0]:
            return Backlog(0, None)
        return Backlog(int(row[0]), datetime.fromisoformat(row[1]))

    async def failed_since(self, since: datetime) -> int:
        """How many messages the outbox gave up on since `since`."""
        row = await self._one(FAILED_SQL, (stamp(since),))
        return 0 if row is None else int(row[0])

    async def heartbeat(self) -> Heartbeat | None:
        """The bot's last heartbeat; None when no bot runs (or one stopped cleanly)."""
        row = await self._one(
            "SELECT value, updated_at FROM runtime_status WHERE key = ?", (HEARTBEAT,)
        )
        if row is None:
            return None
        jobs = json.loads(row["value"] or "[]")
        names = tuple(str(j) for j in jobs) if isinstance(jobs, list) else ()
        return Heartbeat(datetime.fromisoformat(row["updated_at"]), names)

    async def last_error(self) -> datetime | None:
        """When an update or a job last failed; None when none ever did."""
        row = await self._one("SELECT updated_at FROM runtime_status WHERE key = ?", (LAST_ERROR,))
        return None if row is None else datetime.fromisoformat(row[0])


class RuntimeStatusRepo:
    """The running bot's writes: its heartbeat and the time of its last error."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _put(self, key: str, value: str, now: datetime) -> None:
        async with self.db.transaction() as tx:
            tx.defer(
                "INSERT INTO runtime_status (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (key, value, stamp(now)),
            )

    async def beat(self, jobs: Sequence[str], now: datetime) -> None:
        await self._put(HEARTBEAT, json.dumps(list(jobs)), now)

    async def record_error(self, now: datetime) -> None:
        await self._put(LAST_ERROR, "", now)

    async def stopped(self) -> None:
        """The bot stopped cleanly: no heartbeat is to be expected from it any more."""
        async with self.db.transaction() as tx:
            tx.defer("DELETE FROM runtime_status WHERE key = ?", (HEARTBEAT,))
