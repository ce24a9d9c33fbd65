"""Voters' satisfaction with a deputy's annual account (年述职测评), by the same secret-ballot
rules as the project ratings."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class AccountRatings:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox

    async def run_due(self) -> int:
        """The deadlines' reminders and alerts that are due; returns how many were queued."""
        return 0
