"""A closed consultation's summary, .xlsx and .docx 意见汇总."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class ConsultationReports:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
