"""Every multi-step conversation declared once: its name, the command that opens it, and
who may stay in it. The keeper ends one that expired or whose person lost the role it
needs — in the database and in PTB's memory — and tells the person once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler

from bot.access import Action, allowed
from bot.services import Services
from bot.services.broadcasts import CONVERSATION as BROADCAST
from bot.services.calendar import CONVERSATION as DUTY
from bot.services.inbox import COMMENTING, TYPED_BY_HOLDER
from bot.services.opinions import CONVERSATION as OPINION
from bot.services.opinions import REPLY_CONVERSATION as REPLY
from bot.services.visits import CONVERSATION as VISIT
from storage.models import User

log = logging.getLogger(__name__)

MayContinue = Callable[[Services, User], Awaitable[bool]]


def needs(action: Action) -> MayContinue:
    async def check(services: Services, user: User) -> bool:
        return allowed(user, action)

    return check


async def may_keep_typing(services: Services, user: User) -> bool:
    """A deputy's or staff member's answer, reason or question needs the inbox; a voter's
    reply or comment only needs to be the voter."""
    pending = await services.inbox.typing(user)
    if pending is not None and pending[1] in TYPED_BY_HOLDER:
        return allowed(user, Action.VIEW_INBOX)
    return allowed(user, Action.RATE_OPINION)


@dataclass(frozen=True)
class ConversationSpec:
    name: str
    opened_by: str | None  # the command that opens it
    may_continue: MayContinue
    # steps one may simply walk away from: no "busy", no word when they end
    optional_steps: frozenset[str] = frozenset()


CONVERSATIONS = (
    ConversationSpec(OPINION, "opinion", needs(Action.SUBMIT_OPINION)),
    ConversationSpec(BROADCAST, "broadcast", needs(Action.BROADCAST)),
    ConversationSpec(DUTY, "duty", needs(Action.MANAGE_CALENDAR)),
    ConversationSpec(VISIT, "visit", needs(Action.LOG_VISIT)),
    ConversationSpec(REPLY, None, may_keep_typing, frozenset({COMMENTING})),
)
QUIET = frozenset(
    (spec.name, step) for spec in CONVERSATIONS for step in spec.optional_steps
)
BY_NAME = {spec.name: spec for spec in CONVERSATIONS}
OPENED_BY = {spec.opened_by: spec.name for spec in CONVERSATIONS if spec.opened_by}
# They save their state with their draft, in one transaction; PTB's flush leaves them alone.
SELF_MANAGED = frozenset(BY_NAME)
KEEPER_KEY = "conversation_keeper"


def _walk(handlers: Iterable[BaseHandler[Any, Any, Any]]) -> Iterable[ConversationHandler]:
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            yield handler


@dataclass(frozen=True)
class Review:
    """What the gate learns: a message to tell the person once (or None), and the
    conversations still under way (name → step)."""

    tell: str | None = None
    left: dict[str, Any] = field(default_factory=dict)


class ConversationKeeper:
    """Ends conversations for the gate (on a person's next update) and the nightly sweep."""

    def __init__(self, application: Application, services: Services) -> None:
        self.services = services
        self.handlers: dict[str, ConversationHandler] = {}
        for group in application.handlers.values():
            for handler in _walk(group):
                if handler.name not in BY_NAME:
                    raise RuntimeError(f"conversation {handler.name!r} is not declared here")
                if not isinstance(getattr(handler, "_conversations", None), MutableMapping):
                    # fail at start, not on the first expired conversation, if PTB changed
                    raise RuntimeError("ConversationHandler keeps its states elsewhere now")
                self.handlers[handler.name] = handler
        missing = set(BY_NAME) - set(self.handlers)
        if missing:
            raise RuntimeError(f"conversations declared but not registered: {sorted(missing)}")

    def forget(self, name: str, key: tuple[int | str, ...]) -> None:
        """Drop PTB's in-memory state of one conversation. PTB has no public way to end a
        conversation from outside its handlers; its state dict is the one thing touched."""
        handler = self.handlers.get(name)
        if handler is not None:
            handler._conversations.pop(key, None)

    async def end(self, names: list[str], chat_id: int, user_id: int) -> None:
        await self.services.conversations.end(names, chat_id, user_id, opinion=OPINION)
        for name in names:
            self.forget(name, (chat_id, user_id))

    async def review(self, update: Update, user: User) -> Review:
        """End what the person may no longer continue, and say what is left. Runs before
        any feature handler sees the update."""
        chat, sender = update.effective_chat, update.effective_user
        if chat is None or sender is None:
            return Review()
        conversations = self.services.conversations
        where = await conversations.whereabouts(chat.id, sender.id)
        if not where.active and not where.swept:
            return Review()
        unknown = [n for n in where.active if n not in BY_NAME]  # an older version's
        expired = [
            n for n, (at, _) in where.active.items() if n in BY_NAME and conversations.expired(at)
        ]
        lost = [
            name
            for name in where.active
            if name in BY_NAME
            and name not in expired
            and not await BY_NAME[name].may_continue(self.services, user)
        ]
        ended = unknown + expired + lost
        left = {n: step for n, (_, step) in where.active.items() if n not in ended}
        if not (ended or where.swept):
            return Review(left=left)
        await self.end(ended, chat.id, sender.id)
        if lost:
            log.info("user %s lost the role for %s; ended", sender.id, ", ".join(lost))
            return Review("conversation.role_lost", left)
        told = [n for n in expired if (n, where.active[n][1]) not in QUIET] + where.swept
        return Review("conversation.expired" if told else None, left)

    async def make_room(
        self, update: Update, opening: str, left: dict[str, Any]
    ) -> bool:
        """Before `opening` starts: end the optional steps of others silently; False when
        another conversation is really under way (one at a time)."""
        chat, sender = update.effective_chat, update.effective_user
        others = {n: step for n, step in left.items() if n != opening}
        optional = [n for n, step in others.items() if (n, step) in QUIET]
        if optional and chat is not None and sender is not None:
            await self.end(optional, chat.id, sender.id)
        return len(optional) == len(others)

    async def sweep(self) -> int:
        """The nightly sweep: abandoned conversations and drafts, never-consented strangers."""
        ended = await self.services.conversations.sweep(QUIET)
        for name, key in ended:
            self.forget(name, key)
        removed = await self.services.users.forget_unconsented(
            self.services.settings.unconsented_days
        )
        if ended or removed:
            log.info("sweep: %s conversations expired, %s strangers forgotten", len(ended), removed)
        return len(ended)
