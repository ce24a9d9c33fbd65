"""Copies of the database and their return: SQLite's online backup API, checks on a copy, and
a restore that keeps the database it replaces.

A backup reads a consistent snapshot while the bot runs and writes (WAL: committed
transactions only), into a temporary file beside the target that gets the final name only
after `PRAGMA integrity_check` and `foreign_key_check` pass. A restore checks a staged copy
of the file before it touches the current database. Both are synchronous file work but for
the migrations: callers run them in a thread."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import stat
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.db import Database, latest_version, migration_files
from storage.run_lock import AlreadyRunning, RunLock, lock_path

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
# Pages copied per step (4 MB at SQLite's default page size): between steps the copy holds
# no read transaction, so the bot's checkpoints go on. A write by another connection
# restarts a stepped copy; after MAX_RESTARTS it is done in one step instead, one snapshot
# that WAL lets writers commit past.
STEP_PAGES = 1024
MAX_RESTARTS = 3
# What SQLite keeps beside a database file, by suffix of its name.
COMPANIONS = ("-wal", "-shm", "-journal")
ASIDE_STAMP = "%Y%m%d-%H%M%S"


class BackupError(Exception):
    """Why a backup or a restore was refused or failed, in one line; nothing was left
    behind and the current database is as it was (unless the line says otherwise)."""


@dataclass(frozen=True)
class BackupCopy:
    """A verified backup: where it is, its size in bytes and its schema version (the number
    of migrations applied to it)."""

    path: Path
    size: int
    schema_version: int


@dataclass(frozen=True)
class Restored:
    """What a restore did: the files moved aside, the backup's schema version, the
    migrations applied to it since and how many of its unsent messages were withheld."""

    source: Path
    database: Path
    aside: list[Path]
    schema_version: int
    applied: list[str]
    withheld: int = 0


class Restarting(Exception):
    """Writers keep restarting a stepped copy: it is done in one step instead."""


# --- backup ------------------------------------------------------------------------------


def backup(
    database: Path, target: Path, *, force: bool = False, step_pages: int = STEP_PAGES
) -> BackupCopy:
    """Copy `database` to `target`, verified, while a bot may be writing to it. `target`'s
    folder must exist; an existing `target` is replaced only with `force`."""
    _check_target(database, target, force)
    if not database.is_file():
        raise BackupError(f"there is no database at {database}")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise BackupError(f"cannot write in {target.parent}: {_reason(exc)}") from None
    os.close(fd)
    staged = Path(name)
    try:
        _copy(database, staged, step_pages)
        version = inspect(staged)
        if target.exists() and not force:  # it appeared while copying
            raise BackupError(f"{target} exists; add --force to replace it")
        os.replace(staged, target)
        _sync_folder(target.parent)
        return BackupCopy(target, target.stat().st_size, version)
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {_reason(exc)}") from None
    finally:
        _remove_with_companions(staged)


def _check_target(database: Path, target: Path, force: bool) -> None:
    """Refuse, before anything is written, a target that cannot or must not be written."""
    folder = target.parent
    if not folder.exists():
        raise BackupError(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; name the backup file in it")
    if _is_database_file(database, target):
        raise BackupError(f"{target} is the database itself; choose another file")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; add --force to replace it")


def _is_database_file(database: Path, path: Path) -> bool:
    """Whether `path` is the database, one of its companion files or its run lock."""
    own = [database, lock_path(database), *(_companion(database, s) for s in COMPANIONS)]
    real = os.path.realpath(path)
    for candidate in own:
        if os.path.realpath(candidate) == real:
            return True
        if candidate.exists() and path.exists() and os.path.samefile(candidate, path):
            return True
    return False


def _copy(database: Path, staged: Path, step_pages: int) -> None:
    """The online backup of `database` into the empty file `staged`, left as one file that
    needs no -wal beside it."""
    try:
        with closing(_open_existing(database)) as source, closing(sqlite3.connect(staged)) as copy:
            try:
                source.backup(copy, pages=step_pages, progress=RestartGuard())
            except Restarting:
                log.info("the database kept changing during a stepped backup: one step instead")
                source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE").fetchall()
    except sqlite3.Error as exc:
        raise BackupError(f"the backup of {database} failed: {exc}") from None


class RestartGuard:
    """The backup's progress callback: a step that finds more pages left than the one before
    means another connection wrote and the copy started over; the restart after MAX_RESTARTS
    raises Restarting, which ends the stepped copy."""

    def __init__(self) -> None:
        self.left: int | None = None
        self.restarts = 0

    def __call__(self, status: int, remaining: int, total: int) -> None:
        if self.left is not None and remaining > self.left:
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                raise Restarting
        self.left = remaining


def _open_existing(database: Path) -> sqlite3.Connection:
    """A connection to a database file that must exist (sqlite3 would create an empty one)."""
    return sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True)


# --- checks ------------------------------------------------------------------------------


def inspect(path: Path) -> int:
    """Check that `path` is a sound jiazhan database; its schema version. Opens it for
    writing (a WAL file gets its -wal and -shm for the while): use it on a copy."""
    with open(path, "rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not a SQLite database")
    try:
        with closing(_open_existing(path)) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
            if problems != ["ok"]:
                raise BackupError(
                    f"{path} is damaged: integrity_check found {len(problems)} problem(s),"
                    f" e.g. {problems[0]}"
                )
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                table, rowid, parent, _ = broken[0]
                raise BackupError(
                    f"{path} has {len(broken)} broken reference(s), e.g. {table} row"
                    f" {rowid} referring to a missing {parent}"
                )
            return _schema_version(conn, path)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is damaged or not a database: {exc}") from None


def _schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """The number of migrations applied, as the migration runner records it in two ways."""
    has_record = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not has_record:
        raise BackupError(f"{path} is not a jiazhan database (it has no schema_migrations)")
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    recorded = conn.execute("SELECT MAX(number) FROM schema_migrations").fetchone()[0]
    if recorded != version:
        raise BackupError(
            f"{path} is not a jiazhan database as this code knows one"
            f" (user_version {version}, last migration recorded {recorded})"
        )
    return version


# --- restore -----------------------------------------------------------------------------


async def restore(database: Path, source: Path, moment: datetime) -> Restored:
    """Put the backup `source` in place of `database` and migrate it. Refused while a bot
    runs on `database`, whose run lock is held meanwhile so that none starts. `source` is
    checked on a copy beside `database` first; only then is the current database (with its
    -wal and -shm) moved aside as `<database>.before-restore-<moment>`. Should the
    migrations fail, the previous database is put back. The backup's messages still queued
    or being sent are marked skipped (reason "restored"): they went out, or were overtaken,
    after the backup was taken, and the bot would send them again on start."""
    lock = RunLock(database)
    try:
        lock.acquire()
    except AlreadyRunning:
        raise BackupError(f"a bot is running on {database}; stop it before restoring") from None
    try:
        aside, version = await asyncio.to_thread(_put_in_place, database, source, moment)
        try:
            applied, withheld = await _migrate(database, version)
        except BackupError as exc:
            await asyncio.to_thread(_take_back, database, aside)
            back = "the previous database is back in place" if aside else "nothing was kept"
            raise BackupError(f"{exc}; {back}") from None
    finally:
        lock.release()
    return Restored(source, database, aside, version, applied, withheld)


def _put_in_place(database: Path, source: Path, moment: datetime) -> tuple[list[Path], int]:
    """The file work of a restore: stage and check `source`, move the current database
    aside, rename the staged copy into place; the files moved aside and the version."""
    if not source.is_file():
        why = "no such file" if not source.exists() else "not a file"
        raise BackupError(f"cannot read {source}: {why}")
    if _is_database_file(database, source):
        raise BackupError(f"{source} is the database itself")
    staged, version = _stage(database, source)
    try:
        _take_over_access(staged, database)
        aside = _move_aside(database, moment)
        try:
            os.replace(staged, database)
        except OSError as exc:
            _move_back(database, aside)
            raise BackupError(f"cannot put the backup in place: {_reason(exc)}") from None
        _sync_folder(database.parent)
    finally:
        _remove_with_companions(staged)
    return aside, version


def _stage(database: Path, source: Path) -> tuple[Path, int]:
    """A checked copy of `source` beside `database` and its schema version; nothing is left
    when a check fails."""
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{database.name}.restore.", suffix=".partial", dir=database.parent
        )
    except OSError as exc:
        raise BackupError(f"cannot write in {database.parent}: {_reason(exc)}") from None
    os.close(fd)
    staged = Path(name)
    try:
        try:
            shutil.copyfile(source, staged)
        except OSError as exc:
            raise BackupError(f"cannot read {source}: {_reason(exc)}") from None
        try:
            version = inspect(staged)
        except BackupError as exc:
            # said of the file the person named, not of the staged copy
            raise BackupError(str(exc).replace(str(staged), str(source))) from None
        latest = latest_version()
        if version > latest:
            raise BackupError(
                f"{source} comes from a newer jiazhan (schema version {version}; this code"
                f" knows {latest}); upgrade the code before restoring it"
            )
    except BaseException:
        _remove_with_companions(staged)
        raise
    return staged, version


def _take_over_access(staged: Path, database: Path) -> None:
    """Give the restored file the current database's permissions and, where allowed, its
    owner: a restore run as another user (root) must not leave a file the bot cannot open.
    Without a current database it stays readable by its owner only (it holds personal data)."""
    try:
        now = database.stat()
    except FileNotFoundError:
        return
    os.chmod(staged, stat.S_IMODE(now.st_mode))
    if (now.st_uid, now.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(staged, now.st_uid, now.st_gid)
        except PermissionError:  # only root may give a file away; the mode is kept
            log.warning("the restored database could not be given the previous owner")


def _move_aside(database: Path, moment: datetime) -> list[Path]:
    """Move the database and its companions to a free `.before-restore-<moment>` name, after
    folding its write-ahead log into it; the paths they now have."""
    if not database.exists():
        return []
    try:
        with closing(_open_existing(database)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error as exc:  # a damaged database is moved as it is, -wal and all
        log.warning("the current database could not be checkpointed: %s", exc)
    aside = _free_aside_name(database, moment)
    moved = []
    try:
        for suffix in ("", *COMPANIONS):
            here = _companion(database, suffix)
            if here.exists():
                there = _companion(aside, suffix)
                os.replace(here, there)
                moved.append(there)
    except OSError as exc:
        _move_back(database, moved)
        raise BackupError(f"cannot move {database} aside: {_reason(exc)}") from None
    return moved


def _free_aside_name(database: Path, moment: datetime) -> Path:
    base = database.with_name(f"{database.name}.before-restore-{moment.strftime(ASIDE_STAMP)}")
    candidate, n = base, 1
    while any(_companion(candidate, s).exists() for s in ("", *COMPANIONS)):
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def _move_back(database: Path, moved: list[Path]) -> None:
    """Undo `_move_aside`: each moved file back to its own name."""
    if not moved:
        return
    aside = moved[0]
    for suffix in ("", *COMPANIONS):
        there = _companion(aside, suffix)
        if there in moved:
            os.replace(there, _companion(database, suffix))


async def _migrate(database: Path, version: int) -> tuple[list[str], int]:
    """Bring the restored database to this code's schema and withhold its unsent messages;
    the migrations applied and how many messages were withheld."""
    db = Database(database)
    try:
        await db.connect()
        now = int(await db.scalar("PRAGMA user_version"))
        async with db.transaction() as tx:
            withheld = await tx.execute_count(
                "UPDATE outbox SET state = 'skipped', reason = 'restored'"
                " WHERE state IN ('queued', 'sending')"
            )
    except Exception as exc:
        raise BackupError(f"the backup's migration failed: {exc}") from None
    finally:
        await db.close()
    applied = [name for number, name, _ in migration_files() if version < number <= now]
    return applied, withheld


def _take_back(database: Path, aside: list[Path]) -> None:
    """Undo a restore whose migration failed: the restored copy goes (the backup itself is
    untouched), the files moved aside return to their names."""
    _remove_with_companions(database)
    _move_back(database, aside)
    _sync_folder(database.parent)


# --- files -------------------------------------------------------------------------------


def _companion(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _remove_with_companions(path: Path) -> None:
    for suffix in ("", *COMPANIONS):
        _companion(path, suffix).unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
