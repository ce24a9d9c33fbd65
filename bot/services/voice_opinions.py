"""Voice opinions: a voter's voice message kept by Telegram's file_id with its length, played
to the deputies and staff who may see the opinion, and the transcript staff type later."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database

# The longest voice taken as an opinion; a longer one is refused with a clear message.
VOICE_MAX_SECONDS = 120


class VoiceOpinions:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
