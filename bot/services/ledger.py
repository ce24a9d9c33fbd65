"""The ledger (台账) of class-B answers: commitments, their progress updates, reminders and
alerts, the .xlsx export, and publication (建议公开) to a public channel."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class Ledger:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox

    async def run_due(self) -> int:
        """The deadlines' reminders and alerts that are due; returns how many were queued."""
        return 0
