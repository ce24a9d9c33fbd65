"""The reception desk (面对面 → 键对键): staff enter the opinion of a visitor who came to
the station; the visitor claims it later from a link or QR code and follows it in the bot.
Filled in by issue 11's desk work."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class Desk:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
