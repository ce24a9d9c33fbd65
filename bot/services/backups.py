"""Nightly backups of the database with rotation (settings `backup_dir`, `backup_keep`): each
night a verified copy named by the local date and time, the newest `backup_keep` of those
kept. Only files of that naming are ever deleted: the folder may hold other things. The
copying itself is storage's (storage/backup.py)."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database
from storage.backup import BackupCopy, BackupError, backup

log = logging.getLogger(__name__)

STAMP = "%Y%m%d-%H%M%S"
SUFFIX = ".sqlite3"
# a bot that is down every night still gets a backup this often (see `run_if_overdue`)
OVERDUE = timedelta(days=1)


@dataclass(frozen=True)
class Nightly:
    """One of our backups in `backup_dir`: its file and the local time in its name."""

    path: Path
    made_at: datetime


class Backups:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        stem = re.escape(settings.database_path.stem)
        self._ours = re.compile(rf"^{stem}-(\d{{8}}-\d{{6}}){re.escape(SUFFIX)}$")
        # what a backup cut short (a crash, a power cut) leaves: storage's temporary name
        self._partial = re.compile(rf"^\.({stem}-\d{{8}}-\d{{6}}{re.escape(SUFFIX)})\..+\.partial")

    async def run_nightly(self) -> Path | None:
        """Write tonight's backup and drop the oldest beyond `backup_keep`; the new file.
        Nothing when `backup_keep` is 0. A failure is logged, never raised: the bot goes on,
        and the older backups stay."""
        if self.settings.backup_keep == 0:
            return None
        folder = self.settings.backup_dir
        target = folder / self.name_at(self.clock.now())
        try:
            copy = await asyncio.to_thread(self._write, target)
        except BackupError as exc:
            log.error("nightly backup failed: %s", exc)
            return None
        except Exception:
            log.exception("nightly backup failed")
            return None
        try:
            removed = await asyncio.to_thread(self._rotate, copy.path)
        except OSError as exc:
            log.error("old backups could not be listed in %s: %s", self.settings.backup_dir, exc)
            removed = 0
        log.info(
            "nightly backup written: %s (%s bytes, schema version %s); %s older removed",
            copy.path,
            copy.size,
            copy.schema_version,
            removed,
        )
        return copy.path

    async def run_if_overdue(self) -> Path | None:
        """A backup now if the newest is older than a day, or there is none (a bot that is
        never up at `nightly_time`); the new file, or None."""
        if self.settings.backup_keep == 0:
            return None
        kept = await asyncio.to_thread(self.kept)
        if kept and self.clock.now() - kept[-1].made_at < OVERDUE:
            return None
        return await self.run_nightly()

    def name_at(self, moment: datetime) -> str:
        """The file name of a backup made at `moment`, in local time."""
        local = moment.astimezone(self.settings.zone)
        return f"{self.settings.database_path.stem}-{local.strftime(STAMP)}{SUFFIX}"

    def kept(self) -> list[Nightly]:
        """Our backups in `backup_dir`, oldest first; other files are not ours."""
        folder = self.settings.backup_dir
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            match = self._ours.match(path.name)
            if not match or not path.is_file():
                continue
            try:
                made = datetime.strptime(match.group(1), STAMP)
            except ValueError:  # digits, but no date: not a name we gave
                continue
            found.append(Nightly(path, made.replace(tzinfo=self.settings.zone)))
        return sorted(found, key=lambda n: n.made_at)

    def _write(self, target: Path) -> BackupCopy:
        target.parent.mkdir(parents=True, exist_ok=True)
        # the same second twice (a catch-up right at nightly_time): the later one stands
        return backup(self.settings.database_path, target, force=True)

    def _rotate(self, newest: Path) -> int:
        """Delete our backups beyond the newest `backup_keep`, and the temporary files of
        earlier backups cut short; how many backups were deleted."""
        removed = 0
        for old in self.kept()[: -self.settings.backup_keep]:
            if old.path == newest:
                continue
            try:
                old.path.unlink()
                removed += 1
            except OSError as exc:
                log.error("an old backup could not be deleted: %s: %s", old.path, exc.strerror)
        for path in self.settings.backup_dir.iterdir():
            match = self._partial.match(path.name)
            if match and match.group(1) < newest.name:
                path.unlink(missing_ok=True)
        return removed
