"""A per-user flood guard: a sliding window of recent updates, on the injected clock.

Memory follows recent traffic, not history: a user's record is dropped as soon as the last
update in it has left the window. Records are kept in order of their last accepted update,
so every check first drops the expired records at the front; each record is dropped once,
which keeps a check O(1) on average however many users came before. A record holds at most
`limit` timestamps as 8-byte integers (microseconds), about 200 bytes per active user in all.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from bot.clock import Clock

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    """An instant as whole microseconds since the epoch: exact, unlike a float timestamp."""
    return (moment - EPOCH) // MICROSECOND


class FloodGuard:
    """Allows at most `limit` updates per user within `window`; tells when to warn once."""

    def __init__(self, clock: Clock, limit: int, window_seconds: float) -> None:
        self._clock = clock
        self._limit = limit
        self._window = timedelta(seconds=window_seconds) // MICROSECOND
        # user id -> accepted update times (ascending), oldest last update first
        self._seen: OrderedDict[int, array[int]] = OrderedDict()
        self._warned: set[int] = set()

    def check(self, user_id: int) -> tuple[bool, bool]:
        """Returns (allowed, warn): warn is True for the first refused update of a burst."""
        now = _micros(self._clock.now())
        self._expire(now)
        seen = self._seen.get(user_id)
        if seen is not None and seen[-1] > now:
            # the clock went back: start this user afresh rather than lock them out
            del self._seen[user_id]
            seen = None
        if seen is None:
            seen = self._seen[user_id] = array("q")
        else:
            del seen[: bisect_right(seen, now - self._window)]
        if len(seen) < self._limit:
            seen.append(now)
            self._seen.move_to_end(user_id)
            self._warned.discard(user_id)
            return True, False
        first = user_id not in self._warned
        self._warned.add(user_id)
        return False, first

    def forget_idle(self) -> None:
        """Drop every user with nothing left in their window (check() also does this)."""
        self._expire(_micros(self._clock.now()))

    def tracked(self) -> int:
        """How many users the guard holds a record for (to observe that records expire)."""
        return len(self._seen)

    def _expire(self, now: int) -> None:
        """Drop the records whose last accepted update has left the window, oldest first."""
        horizon = now - self._window
        seen = self._seen
        while seen:
            user_id, times = next(iter(seen.items()))
            if times and times[-1] > horizon:
                return
            del seen[user_id]
            self._warned.discard(user_id)
