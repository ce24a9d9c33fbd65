"""Livelihood projects (民生实事): candidates, progress, followers, supervision."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class ProjectService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
