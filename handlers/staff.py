"""/staff add|remove <telegram id>: admins grant and revoke the staff role."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.context import BotContext
from handlers.common import Handler, guarded, respond

MAX_TELEGRAM_ID = 2**52


@guarded(Action.MANAGE_STAFF)
async def staff_command(update: Update, context: BotContext) -> None:
    args = context.args or []
    if len(args) != 2 or args[0] not in ("add", "remove"):
        raise DomainError("staff.usage")
    try:
        target_id = int(args[1])
    except ValueError:
        raise DomainError("staff.usage") from None
    if not 0 < target_id < MAX_TELEGRAM_ID:
        raise DomainError("staff.usage")
    grant = args[0] == "add"
    await context.services.users.set_staff(context.user, target_id, grant)
    key = "staff.granted" if grant else "staff.revoked"
    await respond(update, context, context.texts(key, telegram_id=target_id), edit=False)


def handlers() -> list[Handler]:
    return [CommandHandler("staff", staff_command)]
