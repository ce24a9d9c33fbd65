"""Conversations declared once and ending cleanly.

A `Conversation` is the one declaration of a multi-step conversation: its name, the
commands that open it, its steps (a StrEnum), its typed draft, who may stay in it and how
long it may sit idle. The runtime (persistence, the gate's one-at-a-time rule, the keeper)
and the services all read it. An abandoned conversation expires after its timeout (its
state and draft are removed, the person is told once), and the nightly sweep bounds what is
kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from bot.access import Action, allowed, ensure
from bot.clock import Clock
from bot.errors import DomainError
from storage import Database, Tx
from storage.models import User
from storage.repos.drafts import ConversationRepo, DraftRepo, KindDraftRepo, conversation_key
from storage.repos.expiry import ConversationExpiryRepo, Key

if TYPE_CHECKING:
    from bot.services import Services

NOTICE_KEPT = timedelta(days=30)  # how long "your draft expired" waits for its person

StepT = TypeVar("StepT", bound=StrEnum)
DraftT = TypeVar("DraftT", bound=BaseModel)
MayContinue = Callable[["Services", User], Awaitable[bool]]


class NoDraft(BaseModel):
    """The draft of a conversation that keeps nothing between its steps."""


class Conversation(Generic[StepT, DraftT]):
    """One multi-step conversation, declared once; declaring registers it (`DECLARED`)."""

    def __init__(
        self,
        name: str,
        *,
        steps: type[StepT],
        draft: type[DraftT],
        opened_by: Iterable[str] = (),
        needs: Action | None = None,
        may_continue: MayContinue | None = None,
        optional_steps: Iterable[StepT] = (),
        timeout: timedelta | None = None,
        draft_table: Literal["drafts", "opinion_drafts"] = "drafts",
    ) -> None:
        if name in DECLARED:
            raise ValueError(f"conversation {name!r} is declared twice")
        if needs is None and may_continue is None:
            raise ValueError(f"conversation {name!r} must say who may stay in it")
        self.name = name
        self.steps = steps
        self.draft = draft
        self.opened_by = tuple(opened_by)  # commands, without the slash
        self.needs = needs
        self._may_continue = may_continue
        # steps one may simply walk away from: no "busy", no word when they end
        self.optional_steps: frozenset[str] = frozenset(str(s) for s in optional_steps)
        self.timeout = timeout  # None: the settings' conversation timeout
        self.draft_table = draft_table
        DECLARED[name] = self

    def __repr__(self) -> str:
        return f"Conversation({self.name!r})"

    def step(self, raw: Any) -> StepT | None:
        """A stored step back as its enum (None: not a step of this conversation)."""
        try:
            return self.steps(raw)
        except ValueError:
            return None

    async def may_continue(self, services: Services, user: User) -> bool:
        """Whether `user` may stay in it (a role lost mid-way ends it)."""
        if self._may_continue is not None:
            return await self._may_continue(services, user)
        return self.needs is not None and allowed(user, self.needs)

    def ensure(self, user: User) -> None:
        if self.needs is not None:
            ensure(user, self.needs)


DECLARED: dict[str, Conversation[Any, Any]] = {}


class DraftUnreadable(Exception):
    """A stored draft no longer fits its model (left by an older version, or damaged): the
    conversation ends and its person is told (bot.runtime.conversation does both), for every
    conversation alike."""

    def __init__(self, spec: Conversation[Any, Any]) -> None:
        super().__init__(f"the {spec.name} draft can no longer be read")
        self.spec = spec


class DraftStore(Generic[StepT, DraftT]):
    """A conversation's typed draft and its step, always written together, so a restart
    resumes at the step the draft belongs to."""

    def __init__(self, db: Database, spec: Conversation[StepT, DraftT]) -> None:
        self.db = db
        self.spec = spec
        self.drafts = KindDraftRepo(db)
        self.own_table = DraftRepo(db) if spec.draft_table == "opinion_drafts" else None
        self.states = ConversationRepo(db)

    async def load(self, user_id: int, tx: Tx | None = None) -> DraftT | None:
        """The draft kept for `user_id` (None: none), inside `tx` when given;
        DraftUnreadable if it no longer fits its model."""
        if self.own_table is not None:
            data = await self.own_table.get(user_id, tx)
        else:
            data = await self.drafts.get(user_id, self.spec.name, tx)
        if data is None:
            return None
        try:
            return self.spec.draft.model_validate(data)
        except ValidationError as error:
            raise DraftUnreadable(self.spec) from error

    async def required(self, actor: User, missing: str) -> DraftT:
        """`actor`'s draft, after the conversation's own access rule; DomainError(`missing`)
        when none is kept (a stale button, an ended or expired conversation)."""
        self.spec.ensure(actor)
        draft = await self.load(actor.telegram_id)
        if draft is None:
            raise DomainError(missing)
        return draft

    async def keep(
        self, chat_id: int, user_id: int, draft: DraftT | None, step: StepT | None, now: datetime
    ) -> None:
        """`put` in a transaction of its own: a step that writes nothing else."""
        async with self.db.transaction() as tx:
            await self.put(tx, chat_id, user_id, draft, step, now)

    async def ensure_alone(self, chat_id: int, user_id: int, refusal: str) -> None:
        """One conversation at a time, for the buttons that open this one: the gate keeps
        the rule for commands but knows no buttons. Refused with `refusal` while another
        conversation is under way in this chat."""
        key = conversation_key(chat_id, user_id)
        if await self.states.active_names(key) - {self.spec.name}:
            raise DomainError(refusal)

    async def step_of(self, chat_id: int, user_id: int, tx: Tx | None = None) -> StepT | None:
        raw = await self.states.get(self.spec.name, conversation_key(chat_id, user_id), tx)
        return None if raw is None else self.spec.step(raw)

    async def put(
        self,
        tx: Tx,
        chat_id: int,
        user_id: int,
        draft: DraftT | None,
        step: StepT | None,
        now: datetime,
    ) -> None:
        """Store `draft` at `step`; step None ends the conversation and drops its draft."""
        name = self.spec.name
        if step is None and self.own_table is not None:
            await self.own_table.delete(tx, user_id)
        elif step is None:
            await self.drafts.delete(tx, user_id, name)
        else:
            data = (draft or self.spec.draft()).model_dump(mode="json")
            if self.own_table is not None:
                await self.own_table.save(tx, user_id, data, now)
            else:
                await self.drafts.save(tx, user_id, name, data, now)
        await self.states.put(
            tx, name, conversation_key(chat_id, user_id), None if step is None else str(step), now
        )


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

    def timeout_of(self, spec: Conversation[Any, Any]) -> timedelta:
        return spec.timeout if spec.timeout is not None else self.timeout

    # --- a conversation's draft and step, for features with no rules of their own ---------

    async def load(self, spec: Conversation[StepT, DraftT], actor: User) -> DraftT:
        """The actor's draft in `spec` (a fresh one if none is kept)."""
        spec.ensure(actor)
        return await DraftStore(self.db, spec).load(actor.telegram_id) or spec.draft()

    async def save(
        self,
        spec: Conversation[StepT, DraftT],
        actor: User,
        chat_id: int,
        draft: DraftT | None,
        step: StepT | None,
    ) -> None:
        """Keep `draft` at `step` in one transaction; step None ends the conversation."""
        spec.ensure(actor)
        await DraftStore(self.db, spec).keep(
            chat_id, actor.telegram_id, draft, step, self.clock.now()
        )

    # --- the life of a conversation ---------------------------------------------------------

    async def whereabouts(self, chat_id: int, user_id: int) -> Whereabouts:
        active, swept = await self.repo.of(conversation_key(chat_id, user_id))
        return Whereabouts(active, swept)

    def expired(self, last_moved: datetime, spec: Conversation[Any, Any] | None = None) -> bool:
        """True when a conversation has not moved for longer than its timeout."""
        timeout = self.timeout if spec is None else self.timeout_of(spec)
        return self.clock.now() - last_moved > timeout

    async def end(self, specs: list[Conversation[Any, Any]], chat_id: int, user_id: int) -> None:
        """Remove these conversations' states and drafts, and any pending expiry notice."""
        key = conversation_key(chat_id, user_id)
        async with self.db.transaction() as tx:
            for spec in specs:
                await self.repo.end(tx, spec.name, key, user_id, spec.draft_table)
            await self.repo.told(tx, key)

    async def end_unknown(self, names: list[str], chat_id: int, user_id: int) -> None:
        """Remove states an older version left behind under names no longer declared."""
        key = conversation_key(chat_id, user_id)
        async with self.db.transaction() as tx:
            for name in names:
                await self.repo.end(tx, name, key, user_id, "drafts")

    async def sweep(self, specs: list[Conversation[Any, Any]]) -> list[tuple[str, Key]]:
        """End every conversation idle longer than its timeout and drop old drafts; returns
        the (name, key) of the conversations ended so the caller can forget them too. A
        person is told later unless the step was optional."""
        now = self.clock.now()
        ended: list[tuple[str, Key]] = []
        async with self.db.transaction() as tx:
            for spec in specs:
                ended += await self.repo.sweep(
                    tx,
                    spec.name,
                    spec.draft_table,
                    now - self.timeout_of(spec),
                    now,
                    spec.optional_steps,
                )
            names = [spec.name for spec in specs]
            await self.repo.sweep_rest(tx, names, now - self.timeout)
            await self.repo.forget_notices(tx, now - NOTICE_KEPT)
        return ended
