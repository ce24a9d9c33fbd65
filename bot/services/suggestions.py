"""A deputy's suggestions (代表建议): drafting from scratch or from opinions, co-signers (联名),
withdrawal before assignment, and what the deputy and the voters behind it see."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class SuggestionService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
