"""Reading a draft law article by article and commenting on it."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class CommentService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
