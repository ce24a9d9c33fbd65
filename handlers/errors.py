"""The one error handler: log the update id and exception (never a Telegram id), record the
time for the health report, tell the user briefly (as an alert that stops a tap's spinner, or
a message), never a traceback. A Forbidden from Telegram means the user blocked the bot: mark
them inactive. PTB sends a failing job here too, without an update."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.runtime.context import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    user = update.effective_user if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        log.info("update %s: the user blocked the bot", update_id)
        if user is not None:
            await context.services.users.mark_unreachable(user.id)
        return
    if isinstance(update, Update):
        log.error("update %s failed", update_id, exc_info=error)
    else:
        job = context.job.name if context.job is not None else None
        log.error("job %s failed", job, exc_info=error)
    try:
        await context.services.health.record_error()
    except Exception:  # the database itself may be what failed; the error is logged above
        log.warning("could not record the time of the error for the health report")
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    account = await context.services.users.get(user.id) if user else None
    texts = context.services.i18n.texts(account.locale if account else None)
    apology = texts("error.internal")
    query = update.callback_query
    if query is not None:
        # a tap nobody answered keeps spinning: the apology stops it, as an alert
        try:
            await query.answer(apology, show_alert=True)
            return
        except TelegramError:  # answered already or too old: say it in the chat instead
            pass
    try:
        await context.bot.send_message(update.effective_chat.id, apology)
    except Exception:  # the apology itself failed; the error above is already logged
        log.warning("update %s: could not tell the chat about the error", update_id)
