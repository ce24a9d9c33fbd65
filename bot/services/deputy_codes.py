"""A deputy's own code (代表码): the link and QR code a deputy hands out, and what opening it
does for a voter (their station becomes the deputy's, and their next opinion offers to
address the deputy by name). The deputy is never told who opened it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.services.outbox import Outbox
from bot.services.users import UserService
from bot.settings import Settings
from storage import Database
from storage.db import Tx
from storage.models import Deputy, Role, Station, User
from storage.repos.deputies import DeputyRepo
from storage.repos.stations import StationRepo
from storage.repos.users import UserRepo

CODE_BYTES = 12  # secrets.token_urlsafe: 16 characters of [A-Za-z0-9_-], 96 random bits


@dataclass(frozen=True)
class DeputyCode:
    """A deputy's code as /mycode shows it: the payload of their link, and where they serve."""

    deputy: Deputy
    code: str
    station: Station


class Meeting(StrEnum):
    """What opening a deputy's code did for the person who opened it."""

    BOUND = "bound"  # a voter without a station (or who chose to switch): the deputy's now
    SAME = "same"  # the deputy's station was the voter's already
    ASK = "ask"  # the voter has another station: switch, or keep theirs? Nothing changed yet
    NOT_VOTER = "not_voter"  # a deputy, staff or liaison: shown the card, nothing changed


@dataclass(frozen=True)
class Met:
    """A deputy's card as the person who opened their code sees it, and what changed.
    `own`: the voter's own station, when it is another one (ASK)."""

    meeting: Meeting
    deputy: Deputy
    station: Station
    own: Station | None = None


class DeputyCodes:
    def __init__(
        self, db: Database, clock: Clock, settings: Settings, outbox: Outbox, users: UserService
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.deputies = DeputyRepo(db)
        self.stations = StationRepo(db)
        self.users = UserRepo(db)
        # the one rule of choosing a station, applied inside this service's transactions
        self.station_choice = users

    async def offered_deputy(self, voter: User) -> Deputy | None:
        """The deputy the voter's next opinion may be addressed to: the one whose code they
        opened last, while that deputy still serves the voter's station."""
        if voter.met_deputy_id is None or voter.station_id is None:
            return None
        deputy = await self.deputies.get(voter.met_deputy_id)
        return deputy if deputy is not None and deputy.station_id == voter.station_id else None

    # --- the deputy's side: /mycode ------------------------------------------------------

    async def code_of(self, actor: User) -> DeputyCode:
        """The deputy's code, made the first time it is asked for and kept after: one
        transaction, and a conditional write, so two taps at once still make one."""
        ensure(actor, Action.SHOW_DEPUTY_CODE)
        async with self.db.transaction() as tx:
            deputy = await self._deputy(tx, actor)
            if deputy.code is None:
                await self.deputies.give_code(
                    tx, actor.telegram_id, secrets.token_urlsafe(CODE_BYTES)
                )
                deputy = await self._deputy(tx, actor)
        return await self._shown(deputy)

    async def renew(self, actor: User, old: str) -> DeputyCode:
        """A new code in place of `old`: the old link and QR code open nothing any more.
        Voters who met the deputy through the old one keep what it gave them. A second tap
        (the code is not `old` any more) is refused, so one tap makes one new code."""
        ensure(actor, Action.SHOW_DEPUTY_CODE)
        async with self.db.transaction() as tx:
            await self._deputy(tx, actor)
            new = secrets.token_urlsafe(CODE_BYTES)
            if not await self.deputies.replace_code(tx, actor.telegram_id, old, new):
                raise DomainError("mycode.renewed_already")
            deputy = await self._deputy(tx, actor)
        return await self._shown(deputy)

    async def _deputy(self, tx: Tx, actor: User) -> Deputy:
        deputy = await self.deputies.get(actor.telegram_id, tx)
        if deputy is None:  # the role without its row: no deputy to show
            raise AccessDenied()
        return deputy

    async def _shown(self, deputy: Deputy) -> DeputyCode:
        code = present(deputy.code, "the deputy's code")
        return DeputyCode(deputy, code, await self._station(deputy))

    # --- the voter's side: the link opened -----------------------------------------------

    async def open(self, actor: User, code: str) -> Met:
        """`actor` opened the deputy's link. A voter without a station gets the deputy's, one
        at the deputy's station already is told so (both: the deputy is offered on their
        next opinion); one with another station is asked first. Anyone else only sees the
        card. A code nobody has (never made, replaced, forged) is refused."""
        if actor.role != Role.VOTER:
            deputy = await self._current(code)
            return Met(Meeting.NOT_VOTER, deputy, await self._station(deputy))
        ensure(actor, Action.CHOOSE_STATION)
        async with self.db.transaction() as tx:
            deputy = await self._current(code, tx)
            if actor.station_id is None:
                await self.station_choice.choose_station_in(tx, actor, deputy.station_id)
                meeting = Meeting.BOUND
            elif actor.station_id == deputy.station_id:
                meeting = Meeting.SAME
            else:
                return Met(
                    Meeting.ASK,
                    deputy,
                    await self._station(deputy),
                    await self.stations.get(actor.station_id),
                )
            await self.users.set_met_deputy(tx, actor.telegram_id, deputy.user_id)
        return Met(meeting, deputy, await self._station(deputy))

    async def switch(self, actor: User, code: str) -> Met:
        """The voter asked chose the deputy's station instead of theirs (chosen as any
        station is: UserService.choose_station_in); met the deputy with it."""
        ensure(actor, Action.CHOOSE_STATION)
        if actor.role != Role.VOTER:
            raise DomainError("mycode.not_voter")
        async with self.db.transaction() as tx:
            deputy = await self._current(code, tx)
            meeting = Meeting.SAME if actor.station_id == deputy.station_id else Meeting.BOUND
            if meeting == Meeting.BOUND:
                await self.station_choice.choose_station_in(tx, actor, deputy.station_id)
            await self.users.set_met_deputy(tx, actor.telegram_id, deputy.user_id)
        return Met(meeting, deputy, await self._station(deputy))

    async def keep(self, actor: User) -> Station:
        """The voter asked kept their station, which is returned: nothing changes, and the
        deputy, who serves elsewhere, is not offered. Whether the code still opens anything
        does not matter (replaced since the question, say): keeping needs none."""
        ensure(actor, Action.CHOOSE_STATION)
        if actor.role != Role.VOTER:
            raise DomainError("mycode.not_voter")
        if actor.station_id is None:  # a question only a voter with a station is asked
            raise AccessDenied("error.stale_button")
        return present(await self.stations.get(actor.station_id), "the voter's station")

    async def _current(self, code: str, tx: Tx | None = None) -> Deputy:
        deputy = await self.deputies.by_code(code, tx)
        if deputy is None:
            raise DomainError("mycode.unknown")
        return deputy

    async def _station(self, deputy: Deputy) -> Station:
        return present(await self.stations.get(deputy.station_id), "the deputy's station")
