"""Conversations end cleanly: an abandoned one expires after the timeout (its state and
draft are removed, the person is told once), and the nightly sweep bounds what is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from storage import Database
from storage.repos.drafts import conversation_key
from storage.repos.expiry import ConversationExpiryRepo, Key

NOTICE_KEPT = timedelta(days=30)  # how long "your draft expired" waits for its person


@dataclass
class Whereabouts:
    """What a person is in the middle of, as one read tells it."""

    active: dict[str, tuple[datetime, Any]] = field(default_factory=dict)  # (moved, step)
    swept: list[str] = field(default_factory=list)  # ended by the sweep, not yet told


class ConversationService:
    def __init__(self, db: Database, clock: Clock, timeout: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.timeout = timeout
        self.repo = ConversationExpiryRepo(db)

    async def whereabouts(self, chat_id: int, user_id: int) -> Whereabouts:
        active, swept = await self.repo.of(conversation_key(chat_id, user_id))
        return Whereabouts(active, swept)

    def expired(self, last_moved: datetime) -> bool:
        """True when a conversation has not moved for longer than the timeout."""
        return self.clock.now() - last_moved > self.timeout

    async def end(
        self, names: list[str], chat_id: int, user_id: int, opinion: str | None = None
    ) -> None:
        """Remove these conversations' states and drafts (`opinion`: the name of the one
        whose draft has a table of its own), and any pending expiry notice."""
        key = conversation_key(chat_id, user_id)
        async with self.db.transaction() as tx:
            for name in names:
                await self.repo.end(tx, name, key, user_id, opinion_draft=name == opinion)
            await self.repo.told(tx, key)

    async def sweep(self, quiet: frozenset[tuple[str, Any]] = frozenset()) -> list[tuple[str, Key]]:
        """End every conversation idle longer than the timeout and drop old drafts; returns
        the (name, key) of the conversations ended so the caller can forget them too. A
        person is told later unless the (name, step) was `quiet` (an optional step)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            ended = await self.repo.sweep(tx, now - self.timeout, now, quiet)
            await self.repo.forget_notices(tx, now - NOTICE_KEPT)
        return ended
