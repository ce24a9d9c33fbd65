"""Open opinions like a given one, from the same 街镇: text similarity over Chinese word
segmentation (jieba), scored with rapidfuzz, for a deputy turning opinions into a suggestion."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class SimilarOpinions:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
