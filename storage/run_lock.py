"""One running bot per database: the bot holds an exclusive lock on a file beside the
database while it runs, so a second bot on the same file, or a restore, can tell and refuse.
The operating system releases the lock when the process ends, however it ends."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType


class AlreadyRunning(Exception):
    """Another process holds the database's run lock: a bot is running on it."""


def lock_path(database_path: Path) -> Path:
    """The lock file of a database: `<database>.lock` beside it."""
    return database_path.with_name(database_path.name + ".lock")


# How long taking the lock keeps trying before it gives up: another process (the health
# check's probe, a backup's look) may hold it for a moment, which must not stop a starting bot.
ACQUIRE_WAIT = 1.0  # seconds
ACQUIRE_PAUSE = 0.05


class RunLock:
    """`with RunLock(db_path):` holds the lock, or raises AlreadyRunning when another process
    still holds it after `wait` seconds."""

    def __init__(self, database_path: Path, wait: float = ACQUIRE_WAIT) -> None:
        self.path = lock_path(database_path)
        self.wait = wait
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; OSError when the lock file cannot be opened at all."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    running_on = self.path.with_suffix("")
                    raise AlreadyRunning(f"a bot is running on {running_on}") from None
                time.sleep(ACQUIRE_PAUSE)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def is_running(database_path: Path) -> bool:
    """Whether a bot holds the lock of `database_path` now (probing takes it for a moment,
    without waiting; a bot starting meanwhile waits that moment out). OSError when the lock
    file cannot be opened (its folder or the file not readable by this user)."""
    probe = RunLock(database_path, wait=0)
    try:
        probe.acquire()
    except AlreadyRunning:
        return True
    probe.release()
    return False
