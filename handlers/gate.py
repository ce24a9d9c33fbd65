"""Runs before every feature handler: loads the account, applies the flood guard, and lets
nothing but /start, the consent button and /language through before consent."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.runtime.context import BotContext
from bot.services.broadcasts import CONVERSATION as BROADCAST_CONVERSATION
from bot.services.calendar import CONVERSATION as DUTY_CONVERSATION
from bot.services.opinions import CONVERSATION as OPINION_CONVERSATION
from bot.services.visits import CONVERSATION as VISIT_CONVERSATION
from handlers.keyboards import button

ALLOWED_BEFORE_CONSENT_COMMANDS = ("/start", "/language")
ALLOWED_BEFORE_CONSENT_BUTTONS = ("consent:", "lang:")


def consent_keyboard(context: BotContext, payload: str = "") -> InlineKeyboardMarkup:
    data = f"consent:{payload}" if payload else "consent:"
    return InlineKeyboardMarkup([[button(context.texts("privacy.agree"), data)]])


def _allowed_before_consent(update: Update) -> bool:
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return data.startswith(ALLOWED_BEFORE_CONSENT_BUTTONS)
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    command = text.split(maxsplit=1)[0].split("@")[0] if text.startswith("/") else ""
    return command in ALLOWED_BEFORE_CONSENT_COMMANDS


async def gate(update: Update, context: BotContext) -> None:
    sender = update.effective_user
    chat = update.effective_chat
    if sender is None or sender.is_bot or (chat is not None and chat.type != chat.PRIVATE):
        raise ApplicationHandlerStop
    services = context.services
    # before consent this stores the id only; the name waits for consent (see handlers.start)
    context.account = await services.users.touch(
        sender.id, sender.language_code, sender.full_name, sender.username
    )
    passed, warn = services.flood.check(sender.id)
    if not passed:
        if warn:
            if update.callback_query is not None:
                await update.callback_query.answer(context.texts("flood.slow_down"))
            elif chat is not None:
                await context.bot.send_message(chat.id, context.texts("flood.slow_down"))
        raise ApplicationHandlerStop
    if context.account.consented or _allowed_before_consent(update):
        await _one_conversation_at_a_time(update, context)
        return
    if update.callback_query is not None:
        await update.callback_query.answer(context.texts("privacy.required"), show_alert=True)
    elif chat is not None:
        await context.bot.send_message(
            chat.id,
            context.texts("privacy.required") + "\n\n" + context.texts("privacy.notice"),
            reply_markup=consent_keyboard(context),
        )
        context.account = await services.users.notice_shown(context.user)
    raise ApplicationHandlerStop


# The command that opens each multi-step conversation. Conversation handlers are tried in
# order, so without this check an earlier one's command would open a second conversation
# on top of a later one the person is still in.
OPENED_BY = {
    "opinion": OPINION_CONVERSATION,
    "broadcast": BROADCAST_CONVERSATION,
    "duty": DUTY_CONVERSATION,
    "visit": VISIT_CONVERSATION,
}


def _command(update: Update) -> str:
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    return text.split(maxsplit=1)[0].split("@")[0].lstrip("/") if text.startswith("/") else ""


async def _one_conversation_at_a_time(update: Update, context: BotContext) -> None:
    opened = OPENED_BY.get(_command(update))
    chat = update.effective_chat
    if opened is None or chat is None:
        return
    active = await context.services.users.conversations_of(chat.id, context.user.telegram_id)
    if active and opened not in active:
        await context.bot.send_message(chat.id, context.texts("conversation.busy"))
        raise ApplicationHandlerStop


def handlers() -> list[BaseHandler]:
    return [TypeHandler(Update, gate)]  # type: ignore[arg-type]
