"""Draft-law consultations (征求意见): opening, prompts, reminders, closing, feedback."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class ConsultationService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox

    async def run_due(self) -> None:
        """Timed work (the scheduler's sweep calls this every few minutes)."""
