"""A per-user flood guard: a sliding window of recent updates, on the injected clock."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

from bot.clock import Clock

PRUNE_EVERY = 10_000  # checks between sweeps of idle users, so memory stays bounded


class FloodGuard:
    """Allows at most `limit` updates per user within `window`; tells when to warn once."""

    def __init__(self, clock: Clock, limit: int, window_seconds: float) -> None:
        self._clock = clock
        self._limit = limit
        self._window = timedelta(seconds=window_seconds)
        self._seen: dict[int, deque] = {}
        self._warned: set[int] = set()
        self._checks = 0

    def check(self, user_id: int) -> tuple[bool, bool]:
        """Returns (allowed, warn): warn is True for the first refused update of a burst."""
        now = self._clock.now()
        self._checks += 1
        if self._checks % PRUNE_EVERY == 0:
            self.forget_idle()
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= self._window:
            seen.popleft()
        if len(seen) < self._limit:
            seen.append(now)
            self._warned.discard(user_id)
            return True, False
        first = user_id not in self._warned
        self._warned.add(user_id)
        return False, first

    def forget_idle(self) -> None:
        """Drop users with nothing in their window, so memory stays bounded."""
        now = self._clock.now()
        for user_id in [u for u, s in self._seen.items() if not s or now - s[-1] >= self._window]:
            del self._seen[user_id]
            self._warned.discard(user_id)
