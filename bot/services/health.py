"""Whether the bot is healthy, for `/healthz` and `python -m bot health`: the database,
its migrations, the outbox's backlog, the last error and the scheduler's jobs. The running
bot leaves a heartbeat in the database, so another process can read it.
Filled in by issue 11's operations work."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database


class Health:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox

    async def beat(self, jobs: list[str]) -> None:
        """The running bot is alive with these scheduler jobs (called every minute)."""

    async def record_error(self) -> None:
        """An update or a job failed now."""
