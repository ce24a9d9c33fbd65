"""What nothing else handled: stale or forged buttons, unknown commands, stray messages."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.runtime.context import BotContext
from handlers.common import Handler, describe, saying, tap_of
from handlers.location_key import take_location_key_away

log = logging.getLogger(__name__)


async def unknown_button(update: Update, context: BotContext) -> None:
    query = tap_of(update)
    log.warning("refused unknown or stale %s in update %s", describe(update), update.update_id)
    await query.answer(context.texts("error.stale_button"), show_alert=True)


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel with nothing under way; a location key left from picking a station goes too."""
    await take_location_key_away(update, context, context.texts("cancel.nothing"))


unknown_command = saying("error.unknown_command")


stray_message = saying("error.stray_message")


def handlers() -> list[Handler]:
    return [
        CallbackQueryHandler(unknown_button),
        CommandHandler("cancel", nothing_to_cancel),
        MessageHandler(filters.COMMAND, unknown_command),
        MessageHandler(filters.ALL, stray_message),
    ]
