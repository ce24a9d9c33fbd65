"""/language: switch between 中文 and English."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.runtime.buttons.start import Language
from bot.runtime.context import BotContext
from handlers.common import Handler, answer_tap, guarded, respond
from handlers.keyboards import button

NAMES = {"zh_CN": "中文", "en": "English"}


async def language_command(update: Update, context: BotContext) -> None:
    markup = InlineKeyboardMarkup(
        [[button(name, Language(code=code)) for code, name in NAMES.items()]]
    )
    await respond(update, context, context.texts("language.choose"), markup, edit=False)


@guarded()
async def choose(update: Update, context: BotContext) -> None:
    code = Language.of(update).code
    context.account = await context.services.users.set_locale(context.user.telegram_id, code)
    await answer_tap(update)
    await respond(update, context, context.texts("language.set"))


def handlers() -> list[Handler]:
    return [
        CommandHandler("language", language_command),
        CallbackQueryHandler(choose, pattern=Language.filter()),
    ]
