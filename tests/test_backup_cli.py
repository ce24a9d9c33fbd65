"""`python -m bot backup FILE` and `python -m bot restore FILE`: a backup of the running bot's
database, verified before it gets its name, refused (one line, exit 1, nothing left behind)
where it cannot or must not be written; a restore refused while a bot runs and for any file
that is not a sound jiazhan database of this code's age or older, which otherwise keeps the
current database aside, migrates the backup, and the bot starts on it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

import storage.backup
from bot import backup_cli
from bot.__main__ import _parser
from bot.settings import Settings, load_settings
from storage import Database
from storage.db import latest_version, migration_files
from storage.run_lock import RunLock, is_running
from tests.support.cli import clean_env, run_bot
from tests.support.opinions import send_quick_opinion, voter_with_station
from tests.support.people import Person
from tests.support.world import World

WRITTEN = re.compile(
    r"^backup written: (?P<path>.+) \((?P<size>[\d,]+) bytes, schema version (?P<v>\d+)\)$"
)
OLD_SCHEMA = 12  # a backup made before issue 11's migrations
# the migration files themselves, counted: the schema version a restore must bring
NEWEST = len(list((Path(storage.backup.__file__).parent / "migrations").glob("[0-9]*_*.sql")))
WITHHELD_NONE = (
    "outbox: 0 message(s) still unsent in the backup will not be sent again (marked skipped,"
    " reason restored)"
)


def settings_of(database: Path) -> Settings:
    return load_settings(_env_file=None, need_token=False, database_path=database)


def cli(settings: Settings, *argv: str) -> int:
    return backup_cli.main(settings, _parser().parse_args(list(argv)))


async def restoring(settings: Settings, file: Path) -> int:
    """`restore FILE`, which runs its own event loop: in a thread, as from a shell."""
    return await asyncio.to_thread(cli, settings, "restore", str(file))


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql` on a database file, read the way any SQLite tool would."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file in `folder` with its content, to show that nothing was written; but the
    empty run-lock file, which a restore leaves as every start of the bot does."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith(".lock")
    }


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def one_error(err: str, *fragments: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


async def world_with_opinion(folder: Path, text: str) -> tuple[World, Person, str]:
    """A running World in `folder` whose voter has sent one opinion; its tracking number."""
    world = World(folder)  # its database's folder is made as the bot's is
    await world.start()
    await world.load_stations()
    voter = await voter_with_station(world, 501)
    await send_quick_opinion(voter, text)
    return world, voter, _number(voter.last)


def _number(text: str) -> str:
    found = re.findall(r"HD-2026-\d{6}", text)
    assert len(found) == 1, text
    return found[0]


async def stopped_database(path: Path) -> None:
    """A migrated, empty database at `path`, closed."""
    db = Database(path)
    await db.connect()
    await db.close()


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder no file can be created in: read-only for an ordinary user; as root, whom
    permissions do not stop, sysfs (which takes no new files from anyone)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        candidates = [folder, Path("/sys")]
        for candidate in candidates:
            try:
                (candidate / "probe").touch()
            except OSError:
                yield candidate
                return
            (candidate / "probe").unlink()
        pytest.skip("no folder here refuses new files to this user")
    finally:
        folder.chmod(stat.S_IRWXU)


# --- backup ------------------------------------------------------------------------------


async def test_a_backup_of_the_running_bot_is_verified_and_complete(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    voter = await voter_with_station(world, 501)
    await send_quick_opinion(voter, "东门的路灯坏了一个星期了，晚上很黑。")
    number = _number(voter.last)
    target_folder = tmp_path / "copies"
    target_folder.mkdir()
    target = target_folder / "tonight.sqlite3"

    assert cli(world.settings, "backup", str(target)) == 0

    out = capsys.readouterr()
    assert out.err == ""
    line = out.out.strip()
    match = WRITTEN.match(line)
    assert match, line
    assert match["path"] == str(target)
    assert int(match["size"].replace(",", "")) == target.stat().st_size
    assert int(match["v"]) == latest_version() == NEWEST
    # one file, nothing beside it: no temporary name, no -wal the copy would need
    assert names(target_folder) == ["tonight.sqlite3"]
    assert target.read_bytes()[18:20] == b"\x01\x01"  # rollback journal, not WAL
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data: the owner's only
    assert query(target, "PRAGMA integrity_check") == [("ok",)]
    assert query(target, "SELECT tracking_no, text FROM opinions") == [
        (number, "东门的路灯坏了一个星期了，晚上很黑。")
    ]
    # and the bot goes on
    await send_quick_opinion(voter, "西门的路灯也坏了，请一起修理。")
    assert len(await world.rows("SELECT id FROM opinions")) == 2


async def test_an_existing_file_is_replaced_only_with_force(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "copy.sqlite3"
    target.write_bytes(b"yesterday's notes")

    assert cli(world.settings, "backup", str(target)) == 1
    one_error(capsys.readouterr().err, str(target), "exists", "--force")
    assert target.read_bytes() == b"yesterday's notes"

    assert cli(world.settings, "backup", str(target), "--force") == 0
    assert WRITTEN.match(capsys.readouterr().out.strip())
    assert query(target, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "wal"])
async def test_the_database_itself_is_refused(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    db = world.db_path
    target = {
        "same": db,
        "dotted": db.parent / "." / ".." / db.parent.name / db.name,
        "symlink": tmp_path / "link.sqlite3",
        "wal": db.with_name(db.name + "-wal"),
    }[spelling]
    if spelling == "symlink":
        target.symlink_to(db)
    before = files_in(tmp_path)

    assert cli(world.settings, "backup", str(target), "--force") == 1

    one_error(capsys.readouterr().err, "is the database itself")
    assert files_in(tmp_path) == before
    assert (await world.rows("PRAGMA integrity_check")) == [{"integrity_check": "ok"}]


async def test_a_missing_folder_is_refused_and_not_made(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-folder" / "copy.sqlite3"
    assert cli(world.settings, "backup", str(target)) == 1
    one_error(capsys.readouterr().err, "no-such-folder", "does not exist")
    assert not target.parent.exists()


async def test_a_path_under_a_file_is_refused(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    before = files_in(tmp_path)

    assert cli(world.settings, "backup", str(a_file / "copy.sqlite3")) == 1

    one_error(capsys.readouterr().err, "notes.txt is not a folder")
    assert files_in(tmp_path) == before


async def test_an_unwritable_folder_is_refused_with_nothing_left(
    world: World, unwritable_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = names(unwritable_folder)

    assert cli(world.settings, "backup", str(unwritable_folder / "copy.sqlite3")) == 1

    one_error(capsys.readouterr().err, f"cannot write in {unwritable_folder}")
    assert names(unwritable_folder) == before


async def test_a_folder_as_file_is_refused(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    assert cli(world.settings, "backup", str(folder), "--force") == 1
    one_error(capsys.readouterr().err, "is a folder")
    assert list(folder.iterdir()) == []


def test_no_database_is_refused_and_none_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_of(tmp_path / "never-started.sqlite3")
    assert cli(settings, "backup", str(tmp_path / "copy.sqlite3")) == 1
    one_error(capsys.readouterr().err, "there is no database at")
    assert list(tmp_path.iterdir()) == []


async def test_the_real_command_backs_up_a_running_bot_from_another_process(
    world: World, tmp_path: Path
) -> None:
    voter = await voter_with_station(world, 501)
    await send_quick_opinion(voter, "公交站的雨棚漏雨，下雨天没法等车。")
    target = tmp_path / "copy.sqlite3"

    done = await asyncio.to_thread(
        run_bot,
        tmp_path,
        clean_env(JIAZHAN_DATABASE_PATH=str(world.db_path)),
        "backup",
        str(target),
    )

    assert done.returncode == 0, done.stderr
    assert WRITTEN.match(done.stdout.strip()), done.stdout
    assert query(target, "SELECT text FROM opinions") == [("公交站的雨棚漏雨，下雨天没法等车。",)]


# --- restore -----------------------------------------------------------------------------


async def test_restore_keeps_the_old_database_aside_and_the_bot_starts_on_the_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world, voter, before_backup = await world_with_opinion(
        tmp_path / "station", "楼道里堆满了杂物，着火了很危险。"
    )
    backup_file = tmp_path / "copy.sqlite3"
    try:
        assert cli(world.settings, "backup", str(backup_file)) == 0
        await send_quick_opinion(voter, "小区的垃圾桶太少，每天都满出来。")
        after_backup = _number(voter.last)
    finally:
        await world.stop()
    capsys.readouterr()
    database = world.db_path
    database.chmod(0o640)  # as the operator set it up for the bot's group

    assert await restoring(world.settings, backup_file) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    aside = [Path(line.removeprefix("kept aside: ")) for line in lines if "kept aside" in line]
    assert len(aside) == 1, lines
    assert aside[0].parent == database.parent
    assert re.fullmatch(r"jiazhan\.sqlite3\.before-restore-\d{8}-\d{6}", aside[0].name)
    assert lines[-3:] == [
        f"restored {backup_file} to {database} (schema version {NEWEST})",
        "migrations: already current",
        WITHHELD_NONE,
    ]
    # the database replaced is kept whole, with the opinion made after the backup
    assert query(aside[0], "SELECT tracking_no FROM opinions ORDER BY id") == [
        (before_backup,),
        (after_backup,),
    ]
    assert stat.S_IMODE(database.stat().st_mode) == 0o640
    assert not is_running(database)  # the restore let go of the run lock
    assert backup_file.exists()

    again = World(database.parent)
    await again.start()
    try:
        rows = await again.rows("SELECT tracking_no FROM opinions")
        assert rows == [{"tracking_no": before_backup}]
        assert await again.rows("PRAGMA integrity_check") == [{"integrity_check": "ok"}]
        same_voter = Person(again, voter.id, voter.first_name, voter.language_code)
        await same_voter.send("/my")
        labels = " ".join(same_voter.buttons())
        assert before_backup in labels and after_backup not in labels
    finally:
        await again.stop()


async def test_restore_of_an_older_backup_runs_the_migrations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_migrations = tmp_path / "old-migrations"
    old_migrations.mkdir()
    for _, name, sql in migration_files()[:OLD_SCHEMA]:
        (old_migrations / name).write_text(sql, encoding="utf-8")
    old = tmp_path / "old.sqlite3"
    db = Database(old, migrations=old_migrations)
    await db.connect()
    await db.close()
    database = tmp_path / "live" / "jiazhan.sqlite3"
    database.parent.mkdir()
    await stopped_database(database)

    assert await restoring(settings_of(database), old) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    newer = [name for _, name, _ in migration_files()[OLD_SCHEMA:]]
    assert lines[-3:] == [
        f"restored {old} to {database} (schema version {OLD_SCHEMA})",
        f"migrations applied: {', '.join(newer)}",
        WITHHELD_NONE,
    ]
    assert query(database, "PRAGMA user_version") == [(NEWEST,)]
    assert query(database, "SELECT COUNT(*) FROM schema_migrations") == [(NEWEST,)]


async def test_restore_onto_a_fresh_machine_needs_no_database_there(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_file = tmp_path / "copy.sqlite3"
    assert cli(world.settings, "backup", str(backup_file)) == 0
    database = tmp_path / "new-machine" / "data" / "jiazhan.sqlite3"

    assert await restoring(settings_of(database), backup_file) == 0

    out = capsys.readouterr().out
    assert f"there was no database at {database}: nothing kept aside" in out
    assert query(database, "SELECT COUNT(*) FROM stations") == [(4,)]


async def test_restore_is_refused_while_a_bot_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "jiazhan.sqlite3"
    await stopped_database(database)
    backup_file = tmp_path / "copy.sqlite3"
    assert cli(settings_of(database), "backup", str(backup_file)) == 0
    capsys.readouterr()
    before = files_in(tmp_path)

    with RunLock(database):
        assert await restoring(settings_of(database), backup_file) == 1

    one_error(capsys.readouterr().err, f"a bot is running on {database}", "stop it")
    assert files_in(tmp_path) == before


def _random_bytes(good: Path, bad: Path) -> None:
    bad.write_bytes(os.urandom(8192))


def _truncated(good: Path, bad: Path) -> None:
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2])


def _text(good: Path, bad: Path) -> None:
    bad.write_text("学院路街道,学院路第一联络站,学院路 1 号\n" * 200, encoding="utf-8")


def _not_ours(good: Path, bad: Path) -> None:
    with closing(sqlite3.connect(bad)) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('王五', '13800000000')")
        conn.commit()


def _newer(good: Path, bad: Path) -> None:
    shutil.copyfile(good, bad)
    newer = NEWEST + 1
    with closing(sqlite3.connect(bad)) as conn:
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)",
            (newer, f"{newer:04d}_from_the_future.sql", "2027-01-01T00:00:00+00:00"),
        )
        conn.execute(f"PRAGMA user_version = {newer}")
        conn.commit()


def _empty(good: Path, bad: Path) -> None:
    bad.write_bytes(b"")


BAD_FILES = {
    "random-bytes": (_random_bytes, "is not a SQLite database"),
    "truncated-backup": (_truncated, "is damaged"),
    "text-file": (_text, "is not a SQLite database"),
    "not-ours": (_not_ours, "is not a jiazhan database"),
    "newer-schema": (_newer, "comes from a newer jiazhan"),
    "empty-file": (_empty, "is not a SQLite database"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
async def test_a_corrupt_or_foreign_file_is_refused_and_the_database_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    world, _, number = await world_with_opinion(tmp_path / "live", "路口的红绿灯坏了三天。")
    good = tmp_path / "good.sqlite3"
    try:
        assert cli(world.settings, "backup", str(good)) == 0
    finally:
        await world.stop()
    capsys.readouterr()
    make, reason = BAD_FILES[kind]
    bad = tmp_path / f"{kind}.sqlite3"
    make(good, bad)
    bad_bytes = bad.read_bytes()
    before = files_in(world.db_path.parent)

    assert await restoring(world.settings, bad) == 1

    one_error(capsys.readouterr().err, str(bad), reason)
    assert files_in(world.db_path.parent) == before  # nothing moved, staged or left
    assert bad.read_bytes() == bad_bytes
    assert names(tmp_path) == sorted(["good.sqlite3", bad.name, "live"])
    assert query(world.db_path, "SELECT tracking_no FROM opinions") == [(number,)]


async def test_a_missing_file_or_the_database_itself_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "jiazhan.sqlite3"
    await stopped_database(database)
    before = files_in(tmp_path)
    settings = settings_of(database)

    assert await restoring(settings, tmp_path / "nowhere.sqlite3") == 1
    one_error(capsys.readouterr().err, "cannot read", "nowhere.sqlite3", "no such file")
    assert await restoring(settings, database) == 1
    one_error(capsys.readouterr().err, "is the database itself")
    assert files_in(tmp_path) == before


# --- what a restore brings back, and its way back --------------------------------------------


async def test_the_backups_unsent_messages_are_not_sent_again(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """They went out (or were overtaken) after the backup was taken: sending them on start
    would tell people twice, or tell them what is no longer true."""
    await world.outbox.abort()  # nothing is sent: the messages wait in the backup
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, 4001, "error.internal")
        await world.services.outbox.notify(tx, 4002, "error.internal")
    backup_file = tmp_path / "copy.sqlite3"
    assert cli(world.settings, "backup", str(backup_file)) == 0
    database = tmp_path / "elsewhere" / "jiazhan.sqlite3"
    capsys.readouterr()

    assert await restoring(settings_of(database), backup_file) == 0

    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "outbox: 2 message(s) still unsent in the backup will not be sent again (marked"
        " skipped, reason restored)"
    )
    assert query(database, "SELECT state, reason FROM outbox WHERE chat_id > 4000") == [
        ("skipped", "restored"),
        ("skipped", "restored"),
    ]
    assert query(backup_file, "SELECT state FROM outbox WHERE chat_id > 4000") == [
        ("queued",),
        ("queued",),
    ]


async def test_a_backup_that_cannot_be_put_in_place_leaves_the_database_where_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "jiazhan.sqlite3"
    await stopped_database(database)
    backup_file = tmp_path / "copy.sqlite3"
    assert cli(settings_of(database), "backup", str(backup_file)) == 0
    capsys.readouterr()
    before = files_in(tmp_path)
    real_replace = os.replace

    def refuse_the_staged_copy(src: str | Path, dst: str | Path) -> None:
        # the move aside goes through; the staged copy taking the database's name does not
        if str(src).endswith(".partial") and Path(dst) == database:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(storage.backup.os, "replace", refuse_the_staged_copy)

    assert await restoring(settings_of(database), backup_file) == 1

    one_error(capsys.readouterr().err, "cannot put the backup in place: No space left on device")
    assert files_in(tmp_path) == before  # moved back, nothing aside, no staged copy
    assert not is_running(database)


async def test_a_migration_failing_after_the_restore_puts_the_old_database_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup this code's next migration cannot apply to: its copy goes, the database it
    replaced comes back under its own name, and the line says so."""
    before_health = tmp_path / "migrations-before-health"
    before_health.mkdir()
    for number, name, sql in migration_files():
        if number < 16:
            (before_health / name).write_text(sql, encoding="utf-8")
    odd = tmp_path / "odd.sqlite3"
    db = Database(odd, migrations=before_health)
    await db.connect()
    async with db.transaction() as tx:  # what migration 16 creates, there already
        await tx.execute("CREATE TABLE runtime_status (key TEXT PRIMARY KEY)")
    await db.close()
    live = tmp_path / "live"
    live.mkdir()
    database = live / "jiazhan.sqlite3"
    await stopped_database(database)
    marked = sqlite3.connect(database)
    with closing(marked), marked:
        marked.execute("INSERT INTO runtime_status VALUES ('mark', 'the live one', 'now')")
    before = files_in(live)

    assert await restoring(settings_of(database), odd) == 1

    one_error(
        capsys.readouterr().err,
        "the backup's migration failed: ",
        "table runtime_status already exists",
        "the previous database is back in place",
    )
    assert files_in(live) == before  # the live database whole, nothing aside, no copy left
    assert query(database, "SELECT value FROM runtime_status") == [("the live one",)]
    assert not is_running(database)
