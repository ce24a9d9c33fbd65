"""Open opinions like a given one, from the same 街镇: text similarity over Chinese word
segmentation (jieba), scored with rapidfuzz, for a deputy turning opinions into a suggestion."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database
from storage.models import Opinion


@dataclass(frozen=True)
class SimilarOpinion:
    opinion: Opinion
    score: float  # 0..100, higher is more alike


@dataclass(frozen=True)
class SimilarMatches:
    """What the deputy is offered: the matches, best first, and how many stations they
    come from ("12 similar opinions from 3 stations")."""

    matches: list[SimilarOpinion]
    station_count: int


class SimilarOpinions:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox

    async def like(
        self, opinion_id: int, *, exclude: Collection[int] = (), limit: int = 30
    ) -> SimilarMatches:
        """Open opinions (submitted or accepted, in no suggestion yet) of the same 街镇 as
        `opinion_id` that read alike, best first, at most `limit`; `exclude` are left out
        (the opinion itself always is)."""
        return SimilarMatches(matches=[], station_count=0)
