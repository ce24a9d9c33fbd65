"""A deputy's own code (代表码): the link and QR code a deputy hands out, and what opening it
does for a voter (their station becomes the deputy's, and their next opinion offers to
address the deputy by name)."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database
from storage.models import Deputy, User
from storage.repos.deputies import DeputyRepo


class DeputyCodes:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.deputies = DeputyRepo(db)

    async def offered_deputy(self, voter: User) -> Deputy | None:
        """The deputy the voter's next opinion may be addressed to: the one whose code they
        opened last, while that deputy still serves the voter's station."""
        if voter.met_deputy_id is None or voter.station_id is None:
            return None
        deputy = await self.deputies.get(voter.met_deputy_id)
        return deputy if deputy is not None and deputy.station_id == voter.station_id else None
