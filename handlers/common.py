"""What every feature handler shares: replying in the user's language, domain errors, and
the permission check for commands and buttons (their data: bot.runtime.buttons)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from html import escape
from typing import Any, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram import User as TelegramUser
from telegram.error import BadRequest
from telegram.ext import BaseHandler

from bot.access import Action, allowed
from bot.errors import AccessDenied, DomainError
from bot.runtime.context import BotContext
from bot.services.text import clip as clip  # handlers clip what they show with it

log = logging.getLogger(__name__)

R = TypeVar("R")
Handler = BaseHandler[Update, Any, Any]  # what a feature module's handlers() lists
# PTB's handlers take coroutine functions (Coroutine, not just Awaitable)
Callback = Callable[[Update, BotContext], Coroutine[Any, Any, R]]


async def respond(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = True,
) -> Message | None:
    """Answer an update: edit the tapped message for a button, send a new one otherwise."""
    query = update.callback_query
    if edit and query is not None and query.message is not None:
        try:
            result = await query.edit_message_text(text, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
            return None
        return result if isinstance(result, Message) else None
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(chat.id, text, reply_markup=markup)


async def answer_tap(update: Update) -> None:
    """Stop the button's spinner; a no-op for anything but a tap."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def chat_id_of(update: Update) -> int:
    if update.effective_chat is None:
        raise RuntimeError("an update without a chat reached a chat's handler")
    return update.effective_chat.id


def tap_of(update: Update) -> CallbackQuery:
    """The tap a button handler was called for (PTB calls those only for taps)."""
    if update.callback_query is None:
        raise RuntimeError("a button's handler got an update without a tap")
    return update.callback_query


def message_of(update: Update) -> Message:
    """The message a message handler was called for."""
    if update.effective_message is None:
        raise RuntimeError("a message's handler got an update without a message")
    return update.effective_message


def sender_of(update: Update) -> TelegramUser:
    if update.effective_user is None:
        raise RuntimeError("an update without a sender reached a person's handler")
    return update.effective_user


async def say(update: Update, context: BotContext, key: str, **params: object) -> None:
    """Send one catalog message as a new message."""
    await respond(update, context, context.texts(key, **params), edit=False)


def saying(key: str) -> Callback[None]:
    """A handler that answers with one catalog message: a step's "please use the buttons",
    "send text, please" and the like."""

    async def reply(update: Update, context: BotContext) -> None:
        await say(update, context, key)

    return reply


def alerting(key: str) -> Callback[None]:
    """A handler that answers a tap with one catalog message as an alert."""

    async def alert(update: Update, context: BotContext) -> None:
        await tap_of(update).answer(context.texts(key), show_alert=True)

    return alert


def refusal_params(context: BotContext, error: DomainError) -> dict[str, object]:
    """A refusal's parameters as the person reads them: instants and days in their locale
    and zone."""
    texts = context.texts

    def shown(value: object) -> object:
        if isinstance(value, datetime):
            return texts.datetime(value)
        if isinstance(value, date):
            return texts.date(value)
        return value

    return {name: shown(value) for name, value in error.params.items()}


def error_text(context: BotContext, error: DomainError) -> str:
    """A rule's refusal in the user's language; its parameters may hold user text."""
    params = refusal_params(context, error)
    shown = {k: escape(v) if isinstance(v, str) else v for k, v in params.items()}
    return context.texts(error.key, **shown)


async def show_error(update: Update, context: BotContext, error: DomainError) -> None:
    """Tell the user what rule stopped them, as an alert for a button or a message for text."""
    if isinstance(error, AccessDenied):
        log.warning("refused %s in update %s: %s", describe(update), update.update_id, error.key)
    query = update.callback_query
    if query is not None:
        try:  # an alert is plain text: no escaping there
            alert = context.texts(error.key, **refusal_params(context, error))
            await query.answer(alert, show_alert=True)
            return
        except BadRequest:  # the tap was already answered; say it in the chat instead
            pass
    await respond(update, context, error_text(context, error), edit=False)


def describe(update: Update) -> str:
    """The kind of an update for a log line, never its free text (no personal data): a
    button's kind (its data up to the first colon), a command word, or the kind of message."""

    def plain(word: str) -> bool:  # a short ASCII identifier, nothing a person wrote
        return (
            0 < len(word) <= 32
            and word.isascii()
            and word[0].isalpha()
            and all(c.isalnum() or c in "_.-" for c in word)
        )

    query = update.callback_query
    if query is not None:
        kind = query.data.split(":", 1)[0] if isinstance(query.data, str) else ""
        return f"button {kind}" if plain(kind) else "button with unrecognised data"
    message = update.effective_message
    if message is None:
        return f"update {update.update_id}"
    if message.text:
        command = message.text.split(maxsplit=1)[0].split("@", 1)[0]
        return f"command {command}" if command[:1] == "/" and plain(command[1:]) else "text"
    for kind in ("photo", "location", "contact", "document", "voice", "video", "sticker"):
        if getattr(message, kind, None):
            return kind
    return "message"


def guarded(action: Action | None = None) -> Callable[[Callback[R]], Callback[R | None]]:
    """Check the role for `action` (when given) and turn DomainErrors into clear replies."""

    def decorate(func: Callback[R]) -> Callback[R | None]:
        @functools.wraps(func)
        async def wrapper(update: Update, context: BotContext) -> R | None:
            try:
                if action is not None and not allowed(context.user, action):
                    raise AccessDenied()
                return await func(update, context)
            except DomainError as error:
                await show_error(update, context, error)
                return None

        return wrapper

    return decorate
