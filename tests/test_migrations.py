"""Migrations from a folder of their own: each one whole or not at all, and the table rebuild
SQLite documents for changing a column, run with foreign keys off because it says so."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from storage import Database
from storage.db import FOREIGN_KEYS_OFF, MigrationError, migrate, migration_files, stamp

# Streets hold stations, stations hold visits. Stations are the table being rebuilt: they
# refer to streets (so the copy can break a reference) and visits refer to them with ON
# DELETE CASCADE (so dropping the old table with foreign keys on takes the visits along).
PLACES = """\
-- places and visits
CREATE TABLE streets (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE stations (
    id INTEGER PRIMARY KEY,
    street_id INTEGER NOT NULL REFERENCES streets(id),
    opened TEXT
);
CREATE INDEX stations_street ON stations(street_id);
CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE
);
INSERT INTO streets VALUES (1, '学院路街道'), (2, '海淀街道');
INSERT INTO stations VALUES (10, 1, '2019'), (11, 1, '2021'), (12, 2, '2023');
INSERT INTO visits VALUES (100, 10), (101, 10), (102, 12);
"""


def rebuild(street_id: str = "street_id", marker: str = FOREIGN_KEYS_OFF) -> str:
    """stations.opened from TEXT to INTEGER NOT NULL, the documented way: new table, copy,
    drop the old one, rename, recreate the index. The runner does the pragma steps."""
    return f"""\
{marker}
CREATE TABLE stations_new (
    id INTEGER PRIMARY KEY,
    street_id INTEGER NOT NULL REFERENCES streets(id),
    opened INTEGER NOT NULL
);
INSERT INTO stations_new (id, street_id, opened)
    SELECT id, {street_id}, CAST(opened AS INTEGER) FROM stations;
DROP TABLE stations;
ALTER TABLE stations_new RENAME TO stations;
CREATE INDEX stations_street ON stations(street_id);
"""


def folder(tmp_path: Path, *scripts: str) -> Path:
    """A migrations folder holding `scripts` as 0001_…, 0002_…, in order."""
    found = tmp_path / "migrations"
    found.mkdir()
    for number, sql in enumerate(scripts, start=1):
        (found / f"{number:04d}_step_{number}.sql").write_text(sql, encoding="utf-8")
    return found


def raw(path: Path, sql: str) -> list[tuple]:
    """Look at the file with a connection of its own, as another process would."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


@asynccontextmanager
async def connection(path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """A connection set up as the Database sets up its writer: autocommit, foreign keys on."""
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("PRAGMA foreign_keys=ON")
        yield conn


def column_type(path: Path, table: str, column: str) -> str:
    return next(row[2] for row in raw(path, f"PRAGMA table_info({table})") if row[1] == column)


async def test_a_foreign_keys_off_migration_rebuilds_a_referenced_table(tmp_path: Path) -> None:
    source = folder(tmp_path, PLACES, rebuild())
    path = tmp_path / "store.sqlite3"
    db = Database(path, migrations=source)
    await db.connect()
    try:
        assert await db.scalar("PRAGMA user_version") == 2
        # the column changed and every row came along, converted
        assert column_type(path, "stations", "opened") == "INTEGER"
        rows = await db.fetchall("SELECT id, street_id, opened, typeof(opened) FROM stations")
        assert [tuple(r) for r in rows] == [
            (10, 1, 2019, "integer"),
            (11, 1, 2021, "integer"),
            (12, 2, 2023, "integer"),
        ]
        # nothing that referred to the old table was dropped or cascaded away
        assert [r[0] for r in await db.fetchall("SELECT id FROM visits")] == [100, 101, 102]
        assert raw(path, "SELECT name FROM sqlite_master WHERE type = 'index'") == [
            ("stations_street",)
        ]
        assert raw(path, "PRAGMA foreign_key_check") == []

        # foreign keys are on again on the writer, and enforced
        async with db.transaction() as tx:
            row = await tx.fetchone("PRAGMA foreign_keys")
            assert row is not None and row[0] == 1
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO stations VALUES (13, 99, 2024)")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            async with db.transaction() as tx:
                await tx.execute("DELETE FROM streets WHERE id = 2")
        recorded = await db.fetchall("SELECT number, name, applied_at FROM schema_migrations")
    finally:
        await db.close()
    assert [(r[0], r[1]) for r in recorded] == [(1, "0001_step_1.sql"), (2, "0002_step_2.sql")]

    # a second start applies nothing: the rebuild would fail on the INTEGER column otherwise
    again = Database(path, migrations=source)
    await again.connect()
    try:
        assert [tuple(r) for r in await again.fetchall("SELECT * FROM schema_migrations")] == [
            tuple(r) for r in recorded
        ]
        assert await again.scalar("SELECT count(*) FROM visits") == 3
    finally:
        await again.close()


async def test_a_rebuild_that_would_break_a_reference_is_refused(tmp_path: Path) -> None:
    # the copy points every station at a street that does not exist
    source = folder(tmp_path, PLACES, rebuild(street_id="street_id + 100"))
    path = tmp_path / "store.sqlite3"
    async with connection(path) as conn:
        with pytest.raises(MigrationError, match=r"0002_step_2\.sql .*3 broken foreign key"):
            await migrate(conn, source)
        assert not conn.in_transaction
        assert list(await conn.execute_fetchall("PRAGMA foreign_keys")) == [(1,)]

    assert raw(path, "PRAGMA user_version") == [(1,)]
    assert raw(path, "SELECT number FROM schema_migrations") == [(1,)]
    # the old table, its rows and everything referring to it are as they were
    assert column_type(path, "stations", "opened") == "TEXT"
    assert raw(path, "SELECT id, street_id FROM stations") == [(10, 1), (11, 1), (12, 2)]
    assert raw(path, "SELECT count(*) FROM visits") == [(3,)]
    assert raw(path, "SELECT name FROM sqlite_master WHERE name = 'stations_new'") == []


async def test_a_foreign_keys_off_migration_failing_midway_keeps_the_old_table(
    tmp_path: Path,
) -> None:
    broken = rebuild().replace(
        "ALTER TABLE stations_new RENAME TO stations;", "ALTER TABLE no_such_table RENAME TO x;"
    )
    source = folder(tmp_path, PLACES, broken)
    path = tmp_path / "store.sqlite3"
    async with connection(path) as conn:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            await migrate(conn, source)
        assert list(await conn.execute_fetchall("PRAGMA foreign_keys")) == [(1,)]
    assert raw(path, "PRAGMA user_version") == [(1,)]
    assert raw(path, "SELECT count(*) FROM stations") == [(3,)]  # dropped, then rolled back
    assert raw(path, "SELECT count(*) FROM visits") == [(3,)]


async def test_an_ordinary_migration_failing_midway_leaves_nothing(tmp_path: Path) -> None:
    half = (
        "CREATE TABLE half_done (x INTEGER);\n"
        "INSERT INTO half_done VALUES (1);\n"
        "UPDATE stations SET opened = 'never';\n"
        "INSERT INTO no_such_table VALUES (1);\n"
    )
    source = folder(tmp_path, PLACES, half)
    path = tmp_path / "store.sqlite3"
    db = Database(path, migrations=source)
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        await db.connect()
    await db.close()
    assert raw(path, "PRAGMA user_version") == [(1,)]
    assert raw(path, "SELECT number FROM schema_migrations") == [(1,)]
    assert raw(path, "SELECT name FROM sqlite_master WHERE name = 'half_done'") == []
    assert raw(path, "SELECT DISTINCT opened FROM stations") == [("2019",), ("2021",), ("2023",)]


async def test_without_the_marker_the_same_rebuild_cascades_the_references_away(
    tmp_path: Path,
) -> None:
    """Why the marker exists: inside the usual transaction foreign keys stay on, and dropping
    the old table deletes its rows first, with their ON DELETE CASCADE. It succeeds."""
    source = folder(tmp_path, PLACES, rebuild(marker="-- an ordinary migration"))
    path = tmp_path / "store.sqlite3"
    async with connection(path) as conn:
        assert await migrate(conn, source) == ["0001_step_1.sql", "0002_step_2.sql"]
    assert raw(path, "SELECT count(*) FROM stations") == [(3,)]
    assert raw(path, "SELECT count(*) FROM visits") == [(0,)]  # silently gone


@pytest.mark.parametrize(
    "script",
    [
        # the pragma of its own, as the SQLite page writes it: a no-op in a transaction
        f"PRAGMA foreign_keys=OFF;\n{rebuild(marker='')}PRAGMA foreign_keys=ON;\n",
        f"{FOREIGN_KEYS_OFF}\nPRAGMA main.foreign_keys = off;\n{rebuild(marker='')}",
        # the marker anywhere but the first line
        f"-- change stations.opened\n{rebuild()}",
    ],
    ids=["own-pragma", "own-pragma-with-marker", "marker-not-first"],
)
async def test_a_migration_that_would_not_get_foreign_keys_off_is_refused_up_front(
    tmp_path: Path, script: str
) -> None:
    source = folder(tmp_path, PLACES, script)
    path = tmp_path / "store.sqlite3"
    async with connection(path) as conn:
        with pytest.raises(MigrationError, match=r"0002_step_2\.sql"):
            await migrate(conn, source)
    # refused before anything ran, not even the good migration before it
    assert raw(path, "PRAGMA user_version") == [(0,)]
    assert raw(path, "SELECT name FROM sqlite_master") == []


async def test_the_foreign_key_pragma_is_ignored_inside_a_transaction(tmp_path: Path) -> None:
    """The SQLite behaviour the runner works around, so that it is seen if it ever changes."""
    async with connection(tmp_path / "store.sqlite3") as conn:
        await conn.execute("BEGIN")
        await conn.execute("PRAGMA foreign_keys=OFF")
        assert list(await conn.execute_fetchall("PRAGMA foreign_keys")) == [(1,)]
        await conn.execute("ROLLBACK")


async def test_migrations_come_from_the_given_folder_and_record_the_given_time(
    tmp_path: Path,
) -> None:
    source = folder(tmp_path, PLACES, rebuild())
    (source / "README.txt").write_text("not a migration", encoding="utf-8")
    assert [name for _, name, _ in migration_files(source)] == [
        "0001_step_1.sql",
        "0002_step_2.sql",
    ]
    moment = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    path = tmp_path / "store.sqlite3"
    async with connection(path) as conn:
        assert await migrate(conn, source, now=moment) == ["0001_step_1.sql", "0002_step_2.sql"]
        assert await migrate(conn, source, now=moment) == []
    assert raw(path, "SELECT DISTINCT applied_at FROM schema_migrations") == [(stamp(moment),)]

    (source / "0004_gap.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(RuntimeError, match="without gaps"):
        migration_files(source)
