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
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)
CHECKPOINT_ATTEMPTS = 5
CHECKPOINT_PAUSE = 0.02  # seconds, growing with each attempt
CHECKPOINT_WAIT_MS = 200  # how long one attempt waits for readers to finish
T = TypeVar("T")

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000

# The first line of a migration that must run with foreign keys off: SQLite's way to change a
# column (https://www.sqlite.org/lang_altertable.html#otheralter) rebuilds the table, and with
# foreign keys on, dropping the old table deletes, cascades or fails on the rows that refer
# to it. The pragma is a no-op inside a transaction, so only the runner can set it.
FOREIGN_KEYS_OFF = "-- jiazhan: foreign-keys-off"
SETS_FOREIGN_KEYS = re.compile(r"\bPRAGMA\s+(?:\w+\.)?foreign_keys\b", re.IGNORECASE)
SQL_COMMENT = re.compile(r"--[^\n]*")


class MigrationError(RuntimeError):
    """A migration the runner refuses to apply; nothing of it is kept."""


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

        # aiosqlite has no public "run this function on the connection's thread", and its
        # public calls cost one thread hop per statement (executescript binds no parameters).
        # `_execute` and `_conn` are its own mechanism behind every public call; they are used
        # so that a batch costs one hop. pyproject.toml pins aiosqlite below the next minor
        # version and tests/test_dependency_apis.py fails by name if either one changes.
        result: T = await self._conn._execute(run, self._conn._conn)  # type: ignore[no-untyped-call]
        return result

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

    def __init__(self, path: Path | str, migrations: Traversable | Path | None = None) -> None:
        """`migrations`: a folder of numbered `.sql` files; the shipped ones by default."""
        self.path = Path(path)
        self.migrations = migrations
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def connect(self) -> None:
        """Open both connections, set the pragmas and apply pending migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # on failure (a file that is not a database, a migration refused) both connections
        # are closed: an open one keeps its non-daemon thread, and the process, alive
        try:
            self._writer = await self._open()
            await self._writer.execute("PRAGMA journal_mode=WAL")
            await migrate(self._writer, self.migrations)
            self._reader = await self._open()
            # what a crash left in -wal after the last checkpoint (a vote just counted) goes now
            await self.checkpoint()
        except BaseException:
            await self.close()
            raise

    async def _open(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA synchronous=NORMAL")
            # deleted rows are overwritten, not left readable in free pages: a ballot's draft
            # choices once the vote is counted, a person's data once erased
            await conn.execute("PRAGMA secure_delete=ON")
        except BaseException:
            await conn.close()
            raise
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

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and truncate it, so earlier
        versions of pages (a deleted draft, counters before a vote) do not linger in -wal.
        On the writer, between transactions: nothing can be half-written meanwhile. A read
        in progress can keep it from truncating: tried again a few times, then False."""
        if self._writer is None:
            raise RuntimeError("database is not connected")
        for attempt in range(CHECKPOINT_ATTEMPTS):
            async with self._write_lock:
                # waits briefly for readers, never the writers' full busy timeout: the write
                # lock is held meanwhile
                await self._writer.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
                try:
                    # fetched in full: an unread result row would keep its statement alive
                    rows = await self._writer.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    await self._writer.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            busy = next(iter(rows))[0]
            if not busy:
                return True
            await asyncio.sleep(CHECKPOINT_PAUSE * (attempt + 1))
        log.warning("the write-ahead log could not be truncated: readers kept it busy")
        return False

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


def migration_files(source: Traversable | Path | None = None) -> list[tuple[int, str, str]]:
    """The numbered migrations in `source` (by default those shipped in `storage/migrations`),
    as (number, file name, SQL), in order."""
    folder = resources.files("storage.migrations") if source is None else source
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


def latest_version() -> int:
    """The schema version this code brings a database to: the newest shipped migration's
    number (the runner refuses gaps, so it is also how many there are)."""
    return migration_files()[-1][0]


def needs_foreign_keys_off(name: str, sql: str) -> bool:
    """Whether a migration declares FOREIGN_KEYS_OFF; refuses one that would silently not get
    what it asks for (the marker below its first line, or a foreign_keys pragma of its own)."""
    lines = sql.splitlines()
    declared = bool(lines) and lines[0].strip() == FOREIGN_KEYS_OFF
    if not declared and FOREIGN_KEYS_OFF in sql:
        raise MigrationError(f"{name}: {FOREIGN_KEYS_OFF!r} must be its first line")
    if SETS_FOREIGN_KEYS.search(SQL_COMMENT.sub("", sql)):
        raise MigrationError(
            f"{name}: PRAGMA foreign_keys does nothing inside the migration's transaction;"
            f" start the file with {FOREIGN_KEYS_OFF!r} instead"
        )
    return declared


async def migrate(
    conn: aiosqlite.Connection,
    source: Traversable | Path | None = None,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Apply each migration newer than `PRAGMA user_version` once; returns their names.

    Each runs in one transaction (BEGIN IMMEDIATE) with its record in `schema_migrations` and
    the new `user_version`, so a failure leaves none of it. A migration that starts with
    FOREIGN_KEYS_OFF gets foreign keys switched off before that transaction and back after
    it, and is refused (rolled back) if `PRAGMA foreign_key_check` finds a broken reference
    before COMMIT: the 12-step table rebuild, with the runner taking the pragma steps. The
    file itself holds only the rebuild, without BEGIN, COMMIT or pragmas on foreign keys."""
    # called without arguments for the shipped set, as tests that replace it expect
    files = migration_files() if source is None else migration_files(source)
    current = await _pragma(conn, "user_version")
    pending = [
        (number, name, sql, needs_foreign_keys_off(name, sql))
        for number, name, sql in files
        if number > current
    ]
    applied = []
    for number, name, sql, keys_off in pending:
        recorded_at = stamp(now if now is not None else datetime.now(UTC))
        if keys_off:
            await _apply_with_foreign_keys_off(conn, number, name, sql, recorded_at)
        else:
            await _apply(conn, number, name, sql, recorded_at)
        log.info("applied migration %s", name)
        applied.append(name)
    return applied


async def _apply(
    conn: aiosqlite.Connection,
    number: int,
    name: str,
    sql: str,
    recorded_at: str,
    *,
    check_foreign_keys: bool = False,
) -> None:
    """Run one migration and record it, all in one transaction; roll back on any failure."""
    try:
        # executescript commits first if a transaction is open, and does not end the one
        # the script opens: everything after it is still inside BEGIN IMMEDIATE.
        await conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n;")
        if check_foreign_keys:
            broken = list(await conn.execute_fetchall("PRAGMA foreign_key_check"))
            if broken:
                table, rowid, parent, _ = broken[0]
                raise MigrationError(
                    f"{name} would leave {len(broken)} broken foreign key(s), e.g. {table}"
                    f" row {rowid} referring to a missing {parent}; nothing was applied"
                )
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        await conn.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)", (number, name, recorded_at)
        )
        await conn.execute(f"PRAGMA user_version = {int(number)}")
        await conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise


async def _apply_with_foreign_keys_off(
    conn: aiosqlite.Connection, number: int, name: str, sql: str, recorded_at: str
) -> None:
    """`_apply` between switching foreign keys off and back to what they were."""
    before = await _pragma(conn, "foreign_keys")
    await _set_foreign_keys(conn, 0)
    try:
        await _apply(conn, number, name, sql, recorded_at, check_foreign_keys=True)
    finally:
        await _set_foreign_keys(conn, before)


async def _set_foreign_keys(conn: aiosqlite.Connection, value: int) -> None:
    """Set the pragma and check that it took: inside a transaction it silently does not."""
    await conn.execute(f"PRAGMA foreign_keys = {int(value)}")
    if await _pragma(conn, "foreign_keys") != value:
        raise MigrationError(f"could not set foreign_keys to {value}: is a transaction open?")


async def _pragma(conn: aiosqlite.Connection, name: str) -> int:
    """The integer value of a pragma such as user_version or foreign_keys."""
    rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
    return int(rows[0][0]) if rows else 0
