"""A department's side of a suggestion: the answer with its outcome class, the meeting with
the deputy and class-B commitments; the return (退办) within the working days allowed; and
the request for more time."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class SuggestionAnswers:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
