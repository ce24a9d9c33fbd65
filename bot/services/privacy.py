"""A person's rights over their data (个人信息保护法): what is stored about them, a copy of
it, erasure on request, the consent's notice version, and the nightly retention erasure.
Filled in by issue 11's privacy work."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database

# The privacy notice's version. Raise it whenever the notice's text changes in substance:
# everyone who agreed to an older version is asked again.
NOTICE_VERSION = 1


class Privacy:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox

    async def run_retention(self) -> int:
        """Erase the personal data of opinions closed more than `retention_months` ago;
        returns how many opinions were touched."""
        return 0
