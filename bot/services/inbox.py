"""The deputies' opinion inbox: claim, ask, answer, decline, release; the voter's rating;
and the deadlines that remind deputies and alert staff."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from storage import Database


class InboxService:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox

    async def run_due(self) -> int:
        """Send the deadline reminders and rating follow-ups that are due; returns how many."""
        return 0
