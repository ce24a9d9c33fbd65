"""The one location key: wherever a location is asked (picking a station, /opinion's location
step), a reply keyboard with a "📍 send my location" key and a skip key comes on a message of
its own, and the next message once the location is given or skipped takes it away."""

from __future__ import annotations

import logging
from functools import cache

from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import filters

from bot.i18n import LOCALES_DIR, SUPPORTED, Texts, load_catalog
from bot.runtime.context import BotContext
from handlers.common import chat_id_of

log = logging.getLogger(__name__)

# The two keys under the input field while a location is asked.
LOCATION_KEY = "station.location_key"
SKIP_KEY = "station.skip_key"


def location_keyboard(texts: Texts) -> ReplyKeyboardMarkup:
    """The location key above the skip key; Telegram folds it away once one is pressed."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts(LOCATION_KEY), request_location=True)], [texts(SKIP_KEY)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def offer_location_key(update: Update, context: BotContext, hint: str) -> None:
    """Show the location key, on a new message of its own (a reply keyboard can sit neither on
    a message with inline buttons nor on an edit) whose text, `hint`, also gives the 📎 route
    for Telegram Desktop, where the key does nothing."""
    await context.bot.send_message(
        chat_id_of(update), context.texts(hint), reply_markup=location_keyboard(context.texts)
    )


async def take_location_key_away(update: Update, context: BotContext, text: str) -> Message:
    """Say `text` as a new message that takes the location key away (sending it where no key
    is shown does nothing), so no key is left hanging under the input field."""
    return await context.bot.send_message(
        chat_id_of(update), text, reply_markup=ReplyKeyboardRemove()
    )


def is_skip(context: BotContext, text: str | None) -> bool:
    """Whether `text` is the skip key's label in the person's language, pressed or typed."""
    return (text or "").strip().casefold() == context.texts(SKIP_KEY).casefold()


async def settle_tap(update: Update) -> None:
    """A tap that finished what its message asked: the message keeps its text and loses its
    buttons (the answer comes as a new message, which a reply keyboard's removal needs).
    Only cosmetic: when Telegram refuses the edit (a message too old, deleted), the answer
    still comes, so the refusal is logged and the voter goes on."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            # Telegram's reason only: it names no person and echoes nothing they typed
            log.warning("update %s: a tapped message kept its buttons: %s", update.update_id, error)


@cache
def _skip_labels() -> frozenset[str]:
    """The skip key's label in every language the bot speaks, as a text filter compares."""
    return frozenset(
        load_catalog(LOCALES_DIR / locale / "LC_MESSAGES").gettext(SKIP_KEY).casefold()
        for locale in SUPPORTED
    )


class SkipKey(filters.MessageFilter):
    """A text that is the skip key's label in one of the bot's languages."""

    def filter(self, message: Message) -> bool:
        return (message.text or "").strip().casefold() in _skip_labels()
