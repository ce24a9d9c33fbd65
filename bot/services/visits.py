"""The visit log (履职记录): what a deputy did with voters, in a few taps."""

from __future__ import annotations

from bot.clock import Clock
from storage import Database


class VisitService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
