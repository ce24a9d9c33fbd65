"""The SQLite store: numbered migrations applied once and recorded, WAL and foreign keys,
transactions that commit or roll back whole, and tracking sequences that never repeat."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

import storage.db
from storage import Database
from storage.db import migrate, migration_files
from storage.repos.opinions import OpinionRepo


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "data" / "store.sqlite3")
    await database.connect()
    yield database
    await database.close()


def latest() -> int:
    return migration_files()[-1][0]


def raw(path: Path, sql: str) -> list[tuple]:
    """Look at the file with a connection of its own, as another process would."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


# --- migrations -----------------------------------------------------------------------------


async def test_migrations_are_numbered_from_one_without_gaps() -> None:
    files = migration_files()
    assert [number for number, _, _ in files] == list(range(1, len(files) + 1))
    assert files[0][1] == "0001_initial.sql"
    assert all(sql.strip() for _, _, sql in files)


async def test_migrations_apply_once_and_are_recorded(db: Database) -> None:
    assert await db.scalar("PRAGMA user_version") == latest()
    recorded = await db.fetchall("SELECT number, name, applied_at FROM schema_migrations")
    assert [(r["number"], r["name"]) for r in recorded] == [
        (number, name) for number, name, _ in migration_files()
    ]
    tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"streets", "stations", "users", "deputies", "invitations", "opinions"} <= tables
    assert {"tracking_sequences", "opinion_events", "conversation_states"} <= tables

    # A restart on the same file applies nothing and keeps the record as it was.
    await db.close()
    again = Database(db.path)
    await again.connect()
    try:
        assert await again.scalar("PRAGMA user_version") == latest()
        assert [tuple(r) for r in await again.fetchall("SELECT * FROM schema_migrations")] == [
            tuple(r) for r in recorded
        ]
    finally:
        await again.close()
    await db.connect()  # for the fixture's close


async def test_migrate_reports_what_it_applied_and_then_nothing(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn) == [name for _, name, _ in migration_files()]
        assert await migrate(conn) == []
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn) == []
    assert raw(path, "SELECT count(*) FROM schema_migrations") == [(latest(),)]


async def test_existing_data_survives_a_reconnect(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO streets (name) VALUES ('学院路街道')")
    await db.close()
    await db.connect()
    assert await db.scalar("SELECT name FROM streets") == "学院路街道"


async def test_a_failing_migration_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = migration_files()
    broken = (
        len(shipped) + 1,
        f"{len(shipped) + 1:04d}_broken.sql",
        "CREATE TABLE half_done (x INTEGER);\n"
        "INSERT INTO half_done VALUES (1);\n"
        "INSERT INTO no_such_table VALUES (1);\n",
    )
    monkeypatch.setattr(storage.db, "migration_files", lambda: [*shipped, broken])
    path = tmp_path / "broken.sqlite3"
    database = Database(path)
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        await database.connect()
    await database.close()

    assert raw(path, "PRAGMA user_version") == [(len(shipped),)]
    assert raw(path, "SELECT max(number) FROM schema_migrations") == [(len(shipped),)]
    assert raw(path, "SELECT name FROM sqlite_master WHERE name = 'half_done'") == []

    monkeypatch.undo()
    fixed = Database(path)
    await fixed.connect()
    try:
        assert await fixed.scalar("PRAGMA user_version") == len(shipped)
    finally:
        await fixed.close()


# --- connection settings --------------------------------------------------------------------


async def test_wal_and_foreign_keys_are_on(db: Database) -> None:
    assert await db.scalar("PRAGMA journal_mode") == "wal"
    assert await db.scalar("PRAGMA foreign_keys") == 1  # the reading connection
    async with db.transaction() as tx:
        row = await tx.fetchone("PRAGMA foreign_keys")  # the writing connection
        assert row is not None and row[0] == 1
    assert raw(db.path, "PRAGMA journal_mode") == [("wal",)]  # a property of the file

    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO stations (street_id, name) VALUES (999, '孤儿联络站')")
    assert await db.scalar("SELECT count(*) FROM stations") == 0


async def test_a_reader_sees_committed_writes_only(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO streets (name) VALUES ('海淀街道')")
        assert await db.scalar("SELECT count(*) FROM streets") == 0  # not yet committed
    assert await db.scalar("SELECT count(*) FROM streets") == 1


# --- transactions ---------------------------------------------------------------------------


class Boom(Exception):
    pass


async def test_a_failing_transaction_rolls_back_everything_in_it(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as tx:
            street = await tx.execute("INSERT INTO streets (name) VALUES ('清河街道')")
            await tx.execute(
                "INSERT INTO stations (street_id, name) VALUES (?, '清河联络站')", (street,)
            )
            await tx.execute(
                "INSERT INTO users (telegram_id, locale, created_at) VALUES (1, 'en', 'now')"
            )
            raise Boom
    for table in ("streets", "stations", "users"):
        assert await db.scalar(f"SELECT count(*) FROM {table}") == 0, table

    # The database is usable afterwards: the lock was released and no transaction is open.
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO streets (name) VALUES ('清河街道')")
    assert await db.scalar("SELECT count(*) FROM streets") == 1


async def test_a_constraint_failure_midway_undoes_the_earlier_statements(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO streets (name) VALUES ('学院路街道')")
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO streets (name) VALUES ('海淀街道')")
            await tx.execute("INSERT INTO streets (name) VALUES ('学院路街道')")  # UNIQUE
    assert [r[0] for r in await db.fetchall("SELECT name FROM streets")] == ["学院路街道"]


async def test_a_cancelled_transaction_rolls_back(db: Database) -> None:
    started = asyncio.Event()

    async def slow() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO streets (name) VALUES ('万寿路街道')")
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await db.scalar("SELECT count(*) FROM streets") == 0
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO streets (name) VALUES ('万寿路街道')")
    assert await db.scalar("SELECT count(*) FROM streets") == 1


async def test_concurrent_transactions_do_not_lose_updates(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO tracking_sequences (year, last) VALUES (1999, 0)")

    async def bump() -> None:
        async with db.transaction() as tx:
            row = await tx.fetchone("SELECT last FROM tracking_sequences WHERE year = 1999")
            await asyncio.sleep(0)  # let the others run in between, if they could
            await tx.execute(
                "UPDATE tracking_sequences SET last = ? WHERE year = 1999", (row[0] + 1,)
            )

    await asyncio.gather(*(bump() for _ in range(25)))
    assert await db.scalar("SELECT last FROM tracking_sequences WHERE year = 1999") == 25


async def test_using_a_closed_database_is_an_error(tmp_path: Path) -> None:
    database = Database(tmp_path / "never.sqlite3")
    with pytest.raises(RuntimeError):
        async with database.transaction():
            pass
    with pytest.raises(RuntimeError):
        await database.fetchone("SELECT 1")


# --- tracking sequences ---------------------------------------------------------------------


async def take(db: Database, year: int) -> int:
    async with db.transaction() as tx:
        return await OpinionRepo(db).next_sequence(tx, year)


async def test_tracking_sequences_count_up_per_year_and_never_repeat(db: Database) -> None:
    assert [await take(db, 2026) for _ in range(3)] == [1, 2, 3]
    assert await take(db, 2027) == 1  # a new year starts again
    assert await take(db, 2026) == 4

    numbers = await asyncio.gather(*(take(db, 2026) for _ in range(40)))
    assert sorted(numbers) == list(range(5, 45))

    # across a restart the count goes on
    await db.close()
    await db.connect()
    assert await take(db, 2026) == 45
    assert await take(db, 2027) == 2


async def test_deleting_an_opinion_gives_no_number_back(db: Database) -> None:
    """The sequence table alone decides, not the opinions that happen to exist."""
    async with db.transaction() as tx:
        street = await tx.execute("INSERT INTO streets (name) VALUES ('学院路街道')")
        station = await tx.execute(
            "INSERT INTO stations (street_id, name) VALUES (?, '学院路联络站')", (street,)
        )
        await tx.execute(
            "INSERT INTO users (telegram_id, locale, created_at) VALUES (7, 'zh_CN', 'now')"
        )
        number = await OpinionRepo(db).next_sequence(tx, 2026)
        await tx.execute(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text,"
            " show_name, status, created_at, updated_at)"
            " VALUES (?, 7, ?, 'other', 'text', 0, 'submitted', 'now', 'now')",
            (f"HD-2026-{number:06d}", station),
        )
    assert number == 1
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM opinions")
    assert await take(db, 2026) == 2


async def test_a_checkpoint_empties_the_write_ahead_log(db: Database) -> None:
    """What a ballot relies on: after a checkpoint no earlier page version is left in -wal."""
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE scratch (secret TEXT)")
        await tx.execute("INSERT INTO scratch VALUES ('choice-for')")
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM scratch")
    wal = db.path.with_name(db.path.name + "-wal")
    assert b"choice-for" in wal.read_bytes()  # the deleted row's old page is still there
    assert await db.checkpoint() is True
    assert wal.read_bytes() == b""
    assert b"choice-for" not in db.path.read_bytes()  # secure_delete zeroed it in the file


async def test_a_checkpoint_waits_for_a_reader_in_progress(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE scratch (n INTEGER)")
        await tx.execute("INSERT INTO scratch VALUES (1)")
    reader = sqlite3.connect(db.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM scratch").fetchall()  # holds a snapshot of the log
    asyncio.get_running_loop().call_later(0.2, reader.close)
    assert await db.checkpoint() is True
    assert db.path.with_name(db.path.name + "-wal").read_bytes() == b""


async def test_a_start_truncates_what_a_crash_left_in_the_log(tmp_path: Path) -> None:
    first = Database(tmp_path / "b.sqlite3")
    await first.connect()
    async with first.transaction() as tx:
        await tx.execute("CREATE TABLE scratch (n INTEGER)")
    wal = first.path.with_name(first.path.name + "-wal")
    assert wal.read_bytes() != b""
    second = Database(first.path)  # as after a crash: the first never closed
    await second.connect()
    assert wal.read_bytes() == b""
    await second.close()
    await first.close()


async def test_a_reader_that_never_finishes_costs_a_checkpoint_not_the_writers(
    db: Database,
) -> None:
    """The write lock is held only briefly per attempt: writes go on afterwards."""
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE scratch (n INTEGER)")
        await tx.execute("INSERT INTO scratch VALUES (1)")
    reader = sqlite3.connect(db.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM scratch").fetchall()
    try:
        began = asyncio.get_running_loop().time()
        assert await db.checkpoint() is False
        assert asyncio.get_running_loop().time() - began < 3  # not 5 attempts × 5 s
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO scratch VALUES (2)")
    finally:
        reader.close()
    assert await db.checkpoint() is True
