"""/notices on|off: a voter stops or restarts broadcast notices."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.access import Action
from bot.runtime.context import BotContext
from handlers.common import guarded, respond


@guarded(Action.SET_NOTICES)
async def notices_command(update: Update, context: BotContext) -> None:
    texts = context.texts
    choice = (context.args or [""])[0].lower()
    if choice not in ("on", "off") or len(context.args or []) != 1:
        state = texts("notices.on") if context.user.notices else texts("notices.off")
        await respond(update, context, texts("notices.usage", state=state), edit=False)
        return
    context.account = await context.services.users.set_notices(context.user, choice == "on")
    key = "notices.now_on" if choice == "on" else "notices.now_off"
    await respond(update, context, texts(key), edit=False)


def handlers() -> list[BaseHandler]:
    return [CommandHandler("notices", notices_command)]  # type: ignore[arg-type]
