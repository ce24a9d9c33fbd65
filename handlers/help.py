"""/help: the commands of the user's own role, in their language: the very list their own
command menu shows (bot.runtime.menus.menu_lines)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.runtime.context import BotContext
from bot.runtime.menus import menu_lines
from handlers.common import Handler, respond


async def help_command(update: Update, context: BotContext) -> None:
    texts = context.texts
    lines = [texts("help.title")]
    lines += [f"/{name} — {line}" for name, line in menu_lines(texts, context.user.role)]
    await respond(update, context, "\n".join(lines), edit=False)


def handlers() -> list[Handler]:
    return [CommandHandler("help", help_command)]
