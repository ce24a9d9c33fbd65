"""Nightly backups of the database with rotation (settings `backup_dir`, `backup_keep`).
Filled in by issue 11's backup work; the copying itself is storage's (storage/backup.py)."""

from __future__ import annotations

from pathlib import Path

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class Backups:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox

    async def run_nightly(self) -> Path | None:
        """Write tonight's backup and drop the oldest beyond `backup_keep`; the new file."""
        return None
