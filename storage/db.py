"""The SQLite database: one writer connection behind a lock, one reader, numbered migrations."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000


class Tx:
    """An open write transaction; every statement in it commits or rolls back together.

    Statements whose result is not needed are `defer`red: they run in order with the next
    statement that returns something, or with COMMIT, in one call on the connection's
    thread (BEGIN goes with the first). A transaction of deferred writes is one call, and
    the write lock is held for as short a time as possible."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._pending: list[tuple[str, Sequence[Any] | dict[str, Any]]] = []
        self.begun = False

    def defer(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
        """Queue a write whose result nobody waits for."""
        self._pending.append((sql, params))

    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        pending, self._pending = self._pending, []
        begin = not self.begun
        self.begun = True

        def run(conn: sqlite3.Connection) -> T:
            if begin:
                conn.execute("BEGIN IMMEDIATE")
            for sql, params in pending:
                conn.execute(sql, params)
            return work(conn)

        # aiosqlite has no public "run this on the connection's thread"; this is its own
        # mechanism for every call, used here so that a batch costs one round trip.
        return await self._conn._execute(run, self._conn._conn)

    async def commit(self) -> None:
        if self.begun or self._pending:
            await self._call(lambda conn: conn.execute("COMMIT"))

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; returns the last inserted row id (or 0)."""
        return await self._call(lambda conn: conn.execute(sql, params).lastrowid or 0)

    async def execute_count(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        return await self._call(lambda conn: conn.execute(sql, params).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        await self._call(lambda conn: conn.executemany(sql, batch))

    async def fetchone(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> aiosqlite.Row | None:
        return await self._call(lambda conn: conn.execute(sql, params).fetchone())

    async def fetchall(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[aiosqlite.Row]:
        return await self._call(lambda conn: conn.execute(sql, params).fetchall())


class Database:
    """Owns the connections. Writes go through `transaction()`; reads through `fetch*`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def connect(self) -> None:
        """Open both connections, set the pragmas and apply pending migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open()
        await self._writer.execute("PRAGMA journal_mode=WAL")
        await migrate(self._writer)
        self._reader = await self._open()

    async def _open(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One write transaction (BEGIN IMMEDIATE), serialised with every other writer."""
        if self._writer is None:
            raise RuntimeError("database is not connected")
        async with self._write_lock:
            tx = Tx(self._writer)
            try:
                yield tx
                await tx.commit()
            except BaseException:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise

    # Each read runs, fetches and closes its statement in one call on the connection's
    # thread: two reads interleaved on one connection would share a stale snapshot.
    async def fetchone(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> aiosqlite.Row | None:
        rows = await self._read().execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[aiosqlite.Row]:
        return list(await self._read().execute_fetchall(sql, params))

    async def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    def _read(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not connected")
        return self._reader


def stamp(moment: datetime) -> str:
    """How every instant is stored: ISO 8601 in UTC, so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return moment.astimezone(UTC).isoformat()


def migration_files() -> list[tuple[int, str, str]]:
    """The numbered migrations shipped in `storage/migrations`, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


async def migrate(conn: aiosqlite.Connection) -> list[str]:
    """Apply each migration newer than `PRAGMA user_version` once, in its own transaction."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    applied = []
    for number, name, sql in migration_files():
        if number <= current:
            continue
        stamp = datetime.now(UTC).isoformat()
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{sql}\n;"
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);\n"
            f"INSERT INTO schema_migrations VALUES ({number}, '{name}', '{stamp}');\n"
            f"PRAGMA user_version = {number};\n"
            "COMMIT;"
        )
        try:
            await conn.executescript(script)
        except Exception:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        log.info("applied migration %s", name)
        applied.append(name)
    return applied
