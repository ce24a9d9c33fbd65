"""/help: the commands of the user's own role, in their language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.runtime.context import BotContext
from handlers.commands import commands_for
from handlers.common import Handler, respond


async def help_command(update: Update, context: BotContext) -> None:
    texts = context.texts
    lines = [texts("help.title")]
    lines += [f"/{name} — {texts(f'cmd.{name}')}" for name in commands_for(context.user.role)]
    await respond(update, context, "\n".join(lines), edit=False)


def handlers() -> list[Handler]:
    return [CommandHandler("help", help_command)]
