"""Conversations as PTB handlers, built from their one declaration
(`bot.services.conversations.Conversation`), and the keeper that ends one that expired or
whose person lost the role it needs — in the database and in PTB's memory — and tells the
person once."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, BaseHandler, CommandHandler, ConversationHandler

from bot.runtime.context import AnyApplication
from bot.services import Services
from bot.services.conversations import Conversation, DraftUnreadable
from storage.models import User

log = logging.getLogger(__name__)

KEEPER_KEY = "conversation_keeper"
AnyHandler = BaseHandler[Update, Any, Any]


class DeclaredConversation(ConversationHandler[Any]):
    """A ConversationHandler that is exactly its declaration: named after it, persistent,
    one state per declared step, opened by the declared commands and no others."""

    def __init__(
        self,
        spec: Conversation[Any, Any],
        *,
        entry_points: Sequence[AnyHandler],
        states: Mapping[StrEnum, Sequence[AnyHandler]],
        fallbacks: Sequence[AnyHandler],
    ) -> None:
        declared = {str(step) for step in spec.steps}
        given = {str(step) for step in states}
        if given != declared:
            raise ValueError(
                f"{spec!r}: states {sorted(given)} differ from its steps {sorted(declared)}"
            )
        commands = {
            command
            for handler in entry_points
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        }
        if commands != set(spec.opened_by):
            raise ValueError(
                f"{spec!r}: opened by {sorted(commands)}, declared {sorted(spec.opened_by)}"
            )
        super().__init__(
            entry_points=list(entry_points),
            states={str(step): list(handlers) for step, handlers in states.items()},
            fallbacks=list(fallbacks),
            name=spec.name,
            persistent=True,
        )
        self.spec = spec

    async def handle_update(
        self,
        update: Update,
        application: AnyApplication,
        check_result: Any,
        context: Any,
    ) -> object | None:
        """PTB's own handling; a draft that can no longer be read ends the conversation
        here, for every conversation alike: dropped with its step, the person told once."""
        try:
            return await super().handle_update(update, application, check_result, context)
        except DraftUnreadable:
            keeper: ConversationKeeper = application.bot_data[KEEPER_KEY]
            chat, sender = update.effective_chat, update.effective_user
            if chat is None or sender is None:
                raise
            log.warning("update %s: unreadable %s draft dropped", update.update_id, self.spec.name)
            await keeper.end([self.spec.name], chat.id, sender.id)
            text = context.texts("conversation.draft_unreadable")
            query = update.callback_query
            if query is not None:
                with contextlib.suppress(BadRequest):  # already answered: say it in the chat
                    await query.answer(text, show_alert=True)
                    return None
            await application.bot.send_message(chat.id, text)
            return None


def _walk(handlers: Iterable[AnyHandler]) -> Iterable[ConversationHandler[Any]]:
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            yield handler


@dataclass(frozen=True)
class Review:
    """What the gate learns: a message to tell the person once (or None), and the
    conversations still under way (name → step)."""

    tell: str | None = None
    left: dict[str, Any] = field(default_factory=dict)
    hours: float = 0.0  # the timeout that ended what is told, for "conversation.expired"


class ConversationKeeper:
    """Ends conversations for the gate (on a person's next update) and the nightly sweep.
    It knows the conversations this application registered, from their declarations."""

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], services: Services
    ) -> None:
        self.services = services
        self.handlers: dict[str, ConversationHandler[Any]] = {}
        self.specs: dict[str, Conversation[Any, Any]] = {}
        for group in application.handlers.values():
            for handler in _walk(group):
                if not isinstance(handler, DeclaredConversation):
                    raise RuntimeError(f"conversation {handler.name!r} is not declared")
                spec = handler.spec
                if not isinstance(getattr(handler, "_conversations", None), MutableMapping):
                    # fail at start, not on the first expired conversation, if PTB changed
                    raise RuntimeError("ConversationHandler keeps its states elsewhere now")
                self.handlers[spec.name] = handler
                self.specs[spec.name] = spec
        # the command that opens each conversation, for the gate's one-at-a-time rule
        self.opened_by = {
            command: spec.name for spec in self.specs.values() for command in spec.opened_by
        }

    def optional(self, name: str, step: Any) -> bool:
        spec = self.specs.get(name)
        return spec is not None and str(step) in spec.optional_steps

    def forget(self, name: str, key: tuple[int | str, ...]) -> None:
        """Drop PTB's in-memory state of one conversation. PTB has no public way to end a
        conversation from outside its handlers; its state dict is the one thing touched."""
        handler = self.handlers.get(name)
        if handler is not None:
            handler._conversations.pop(key, None)

    async def end(self, names: list[str], chat_id: int, user_id: int) -> None:
        conversations = self.services.conversations
        known = [self.specs[n] for n in names if n in self.specs]
        unknown = [n for n in names if n not in self.specs]
        await conversations.end(known, chat_id, user_id)  # and the sweep's notice is told
        if unknown:
            await conversations.end_unknown(unknown, chat_id, user_id)
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
        unknown = [n for n in where.active if n not in self.specs]  # an older version's
        expired = [
            n
            for n, (at, _) in where.active.items()
            if n in self.specs and conversations.expired(at, self.specs[n])
        ]
        lost = [
            name
            for name in where.active
            if name in self.specs
            and name not in expired
            and not await self.specs[name].may_continue(self.services, user)
        ]
        ended = unknown + expired + lost
        left = {n: step for n, (_, step) in where.active.items() if n not in ended}
        if not (ended or where.swept):
            return Review(left=left)
        await self.end(ended, chat.id, sender.id)
        if lost:
            log.info(
                "update %s: the role for %s was lost; ended", update.update_id, ", ".join(lost)
            )
            return Review("conversation.role_lost", left)
        told = [n for n in expired if not self.optional(n, where.active[n][1])] + where.swept
        timeouts = [conversations.timeout_of(self.specs[n]) for n in told if n in self.specs]
        hours = max(timeouts, default=conversations.timeout).total_seconds() / 3600
        return Review("conversation.expired" if told else None, left, hours)

    async def make_room(self, update: Update, opening: str, left: dict[str, Any]) -> bool:
        """Before `opening` starts: end the optional steps of others silently; False when
        another conversation is really under way (one at a time)."""
        chat, sender = update.effective_chat, update.effective_user
        others = {n: step for n, step in left.items() if n != opening}
        optional = [n for n, step in others.items() if self.optional(n, step)]
        if optional and chat is not None and sender is not None:
            await self.end(optional, chat.id, sender.id)
        return len(optional) == len(others)

    async def sweep(self) -> int:
        """The nightly sweep: abandoned conversations and drafts, never-consented strangers."""
        ended = await self.services.conversations.sweep(list(self.specs.values()))
        for name, key in ended:
            self.forget(name, key)
        removed = await self.services.users.forget_unconsented(
            self.services.settings.unconsented_days
        )
        if ended or removed:
            log.info("sweep: %s conversations expired, %s strangers forgotten", len(ended), removed)
        return len(ended)
