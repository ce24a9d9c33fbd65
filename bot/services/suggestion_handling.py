"""A suggestion between staff and the departments: 交办 to a lead and co-handling departments,
不予交办, 退办 and reassignment, 重点督办, deadlines and their extension, and the answer."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class SuggestionHandling:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox

    async def run_due(self) -> int:
        """The deadlines' reminders and alerts that are due; returns how many were queued."""
        return 0
