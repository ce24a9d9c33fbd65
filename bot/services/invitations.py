"""One-time invitations: staff create them, the invited person opens the deep link once. A
deputy is invited to a station (`/invite 张三`), a department's liaison (承办单位联络员) to a
department (`/invite liaison 王五`, or `/invite 联络员 王五`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError
from bot.services.outbox import Outbox
from bot.services.text import clean, typed
from storage import Database
from storage.models import DepartmentLiaison, Deputy, Invitation, LiaisonInvitation, Role, User
from storage.repos.departments import DepartmentRepo, LiaisonInvitationRepo
from storage.repos.deputies import DeputyRepo, InvitationRepo
from storage.repos.drafts import KindDraftRepo
from storage.repos.stations import StationRepo
from storage.repos.users import UserRepo

CODE_BYTES = 12
MAX_NAME = 60
PENDING = "invite"  # drafts kind: the name typed with /invite, until a station is picked
PENDING_LIAISON = "invite_liaison"  # the liaison's name, until a department is picked


class InvitedRole(StrEnum):
    DEPUTY = "deputy"
    LIAISON = "liaison"


# The word after /invite that names the role; without one, a deputy is invited.
ROLE_WORDS = {
    "deputy": InvitedRole.DEPUTY,
    "代表": InvitedRole.DEPUTY,
    "liaison": InvitedRole.LIAISON,
    "联络员": InvitedRole.LIAISON,
}


def invited_role(words: list[str]) -> tuple[InvitedRole, str]:
    """The role and the name typed after /invite: `张三` (a deputy), `liaison 王五`."""
    if words and words[0].casefold() in ROLE_WORDS:
        return ROLE_WORDS[words[0].casefold()], " ".join(words[1:])
    return InvitedRole.DEPUTY, " ".join(words)


class PendingInvitation(BaseModel):
    """What /invite keeps while staff pick the station: the deputy's name as typed."""

    name: str


@dataclass(frozen=True)
class AcceptedInvitation:
    deputy: Deputy
    station_name: str


@dataclass(frozen=True)
class AcceptedLiaison:
    liaison: DepartmentLiaison
    department_name: str


class InvitationService:
    def __init__(self, db: Database, clock: Clock, ttl_days: int, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.ttl = timedelta(days=ttl_days)
        self.invitations = InvitationRepo(db)
        self.deputies = DeputyRepo(db)
        self.stations = StationRepo(db)
        self.users = UserRepo(db)
        self.pending = KindDraftRepo(db)
        self.liaison_invitations = LiaisonInvitationRepo(db)
        self.departments = DepartmentRepo(db)

    @staticmethod
    def _clean_name(raw: str) -> str:
        """The deputy's name as typed: no invisible characters, single spaces, not too long."""
        return typed(
            " ".join(clean(raw).split()),
            maximum=MAX_NAME,
            empty="invite.name_empty",
            too_long="invite.name_too_long",
        )

    async def start(self, actor: User, deputy_name: str) -> str:
        """Remember the name while staff pick the station (kept in the database)."""
        ensure(actor, Action.INVITE_DEPUTY)
        name = self._clean_name(deputy_name)
        async with self.db.transaction() as tx:
            pending = PendingInvitation(name=name).model_dump(mode="json")
            await self.pending.save(tx, actor.telegram_id, PENDING, pending, self.clock.now())
        return name

    async def pending_name(self, actor: User) -> str:
        ensure(actor, Action.INVITE_DEPUTY)
        data = await self.pending.get(actor.telegram_id, PENDING)
        try:
            return PendingInvitation.model_validate(data).name
        except ValidationError:  # none kept (or an unreadable one): start with /invite NAME
            raise DomainError("invite.usage") from None

    async def create(self, actor: User, deputy_name: str, station_id: int) -> Invitation:
        ensure(actor, Action.INVITE_DEPUTY)
        name = self._clean_name(deputy_name)
        if await self.stations.get(station_id) is None:
            raise DomainError("station.unknown")
        now = self.clock.now()
        code = secrets.token_urlsafe(CODE_BYTES)
        async with self.db.transaction() as tx:
            await self.invitations.insert(
                tx, code, name, station_id, actor.telegram_id, now, now + self.ttl
            )
            await self.pending.delete(tx, actor.telegram_id, PENDING)
            invitation = await self.invitations.get_for_update(tx, code)
        if invitation is None:
            raise RuntimeError(f"invitation {code!r} vanished inside its own transaction")
        return invitation

    async def accept(self, user: User, code: str) -> AcceptedInvitation:
        """Bind this account to the invited deputy; a code works once, before it expires."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            invitation = usable(await self.invitations.get_for_update(tx, code), now)
            if user.role in (Role.STAFF, Role.ADMIN):
                raise DomainError("invite.staff_cannot_accept")
            if user.role == Role.LIAISON:
                raise DomainError("invite.liaison_cannot_accept")
            await self.invitations.mark_used(tx, code, user.telegram_id, now)
            await self.deputies.upsert(
                tx, user.telegram_id, invitation.deputy_name, invitation.station_id, now
            )
            await self.users.set_role(tx, user.telegram_id, Role.DEPUTY)
            await self.users.set_station(tx, user.telegram_id, invitation.station_id)
            await self.outbox.refresh_menu(tx, user.telegram_id)
        deputy = await self.deputies.get(user.telegram_id)
        station = await self.stations.get(invitation.station_id)
        if deputy is None or station is None:
            raise RuntimeError("an accepted invitation left no deputy or no station")
        return AcceptedInvitation(deputy, station.name)

    # --- a department's liaison ------------------------------------------------------------

    @staticmethod
    def _clean_liaison_name(raw: str) -> str:
        return typed(
            " ".join(clean(raw).split()),
            maximum=MAX_NAME,
            empty="liaison.name_empty",
            too_long="liaison.name_too_long",
        )

    async def start_liaison(self, actor: User, liaison_name: str) -> str:
        """Remember the liaison's name while staff pick the department."""
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        if not liaison_name.strip():
            raise DomainError("liaison.usage")
        name = self._clean_liaison_name(liaison_name)
        async with self.db.transaction() as tx:
            pending = PendingInvitation(name=name).model_dump(mode="json")
            await self.pending.save(
                tx, actor.telegram_id, PENDING_LIAISON, pending, self.clock.now()
            )
        return name

    async def pending_liaison_name(self, actor: User) -> str:
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        data = await self.pending.get(actor.telegram_id, PENDING_LIAISON)
        try:
            return PendingInvitation.model_validate(data).name
        except ValidationError:  # none kept: start with /invite liaison NAME
            raise DomainError("liaison.usage") from None

    async def create_liaison(
        self, actor: User, liaison_name: str, department_id: int
    ) -> LiaisonInvitation:
        """A one-time link that makes its opener the liaison of an active department."""
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        name = self._clean_liaison_name(liaison_name)
        now = self.clock.now()
        code = secrets.token_urlsafe(CODE_BYTES)
        async with self.db.transaction() as tx:
            department = await self.departments.get(department_id, tx)
            if department is None:
                raise DomainError("department.unknown")
            if not department.active:
                raise DomainError("department.inactive", name=department.name)
            await self.liaison_invitations.insert(
                tx,
                code=code,
                name=name,
                department_id=department.id,
                created_by=actor.telegram_id,
                now=now,
                expires_at=now + self.ttl,
            )
            await self.pending.delete(tx, actor.telegram_id, PENDING_LIAISON)
            invitation = await self.liaison_invitations.get_for_update(tx, code)
        if invitation is None:
            raise RuntimeError(f"invitation {code!r} vanished inside its own transaction")
        return invitation

    async def accept_liaison(self, user: User, code: str) -> AcceptedLiaison:
        """Make this account the department's liaison; a code works once, before it expires,
        for an account that is no deputy, staff or admin, while the department is active."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            invitation = usable(await self.liaison_invitations.get_for_update(tx, code), now)
            if user.role in (Role.STAFF, Role.ADMIN):
                raise DomainError("liaison.staff_cannot_accept")
            if user.role == Role.DEPUTY:
                raise DomainError("liaison.deputy_cannot_accept")
            department = await self.departments.get(invitation.department_id, tx)
            if department is None or not department.active:
                name = "" if department is None else department.name
                raise DomainError("liaison.department_inactive", name=name)
            await self.liaison_invitations.mark_used(tx, code, user.telegram_id, now)
            await self.departments.bind_liaison(
                tx, user.telegram_id, department.id, invitation.name, now
            )
            await self.users.set_role(tx, user.telegram_id, Role.LIAISON)
            await self.outbox.refresh_menu(tx, user.telegram_id)
        liaison = await self.departments.liaison_of(user.telegram_id)
        if liaison is None:
            raise RuntimeError("an accepted liaison invitation left no liaison")
        return AcceptedLiaison(liaison, department.name)


InvitationT = TypeVar("InvitationT", Invitation, LiaisonInvitation)


def usable(invitation: InvitationT | None, now: datetime) -> InvitationT:
    """A deputy's or a liaison's invitation that may be accepted now: refuses a code that is
    unknown, used or expired, in that order."""
    if invitation is None:
        raise DomainError("invite.unknown")
    if invitation.used_by is not None:
        raise DomainError("invite.used")
    if invitation.expires_at <= now:
        raise DomainError("invite.expired")
    return invitation
