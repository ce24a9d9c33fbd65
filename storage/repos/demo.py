"""The demo's mark in its own database (`python -m bot demo`): the runtime_status row 'demo',
whose value is the demo's clock when it last stopped. A database without it is not the demo's
(a real bot's, say): the demo neither opens nor deletes it."""

from __future__ import annotations

import errno
import sqlite3
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from storage.db import Database, stamp

DEMO_KEY = "demo"


class Owner(StrEnum):
    """Whose a database file is, as far as the demo can tell before opening it."""

    NOBODY = "nobody"  # no file yet, or one without a single table: the demo may take it
    DEMO = "demo"  # the demo's own: it carries the mark
    OTHER = "other"  # tables and no mark: someone else's


def owner_of(path: Path) -> Owner:
    """Look at `path` read-only, changing nothing. Raises sqlite3.Error (not a database,
    cannot be opened) or OSError (a folder, a path through a file)."""
    if not path.exists():
        return Owner.NOBODY
    if not path.is_file():
        raise IsADirectoryError(errno.EISDIR, "a folder or a device, not a database file")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if not tables:
            return Owner.NOBODY
        if "runtime_status" not in tables:
            return Owner.OTHER
        row = connection.execute(
            "SELECT 1 FROM runtime_status WHERE key = ?", (DEMO_KEY,)
        ).fetchone()
        return Owner.DEMO if row is not None else Owner.OTHER
    finally:
        connection.close()


class DemoMarkRepo:
    """The mark and the demo's clock in it, read and written on the demo's open database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def clock(self) -> datetime | None:
        """The demo's clock when it was last saved; None without a mark."""
        value = await self.db.scalar("SELECT value FROM runtime_status WHERE key = ?", (DEMO_KEY,))
        return datetime.fromisoformat(value) if value else None

    async def save(self, clock: datetime) -> None:
        """Mark the database as the demo's, with its clock now."""
        async with self.db.transaction() as tx:
            tx.defer(
                "INSERT INTO runtime_status (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (DEMO_KEY, stamp(clock), stamp(clock)),
            )
