"""The lead deputy's rating of an answer within 15 working days, and re-handling (重新办理)
once after 不满意."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class SuggestionFeedback:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox

    async def run_due(self) -> int:
        """The deadlines' reminders and alerts that are due; returns how many were queued."""
        return 0
