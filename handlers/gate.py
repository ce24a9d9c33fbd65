"""Runs before every feature handler: loads the account, applies the flood guard, lets
nothing but /start, the consent button, /language and the privacy rights through before
consent (or before a renewed consent to a newer notice), ends a conversation that expired or
whose person lost its role, and keeps one at a time. /privacy, /mydata and /forget are run
here, before any conversation could take them as its own command."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.runtime.buttons import any_of
from bot.runtime.buttons.privacy import PRIVACY_BUTTONS
from bot.runtime.buttons.start import Consent, Language
from bot.runtime.context import BotContext
from bot.runtime.conversation import KEEPER_KEY, ConversationKeeper
from bot.services.privacy import asked_again
from handlers import privacy
from handlers.common import Handler
from handlers.keyboards import button

ALLOWED_BEFORE_CONSENT_COMMANDS = ("/start", "/language")
ALLOWED_BEFORE_CONSENT_BUTTONS = any_of(Consent, Language, *PRIVACY_BUTTONS)


def consent_keyboard(context: BotContext, link: str = "") -> InlineKeyboardMarkup:
    """Agree; for someone asked again after a new notice, also decline (/forget's choice)."""
    rows = [[button(context.texts("privacy.agree"), Consent(link=link))]]
    if asked_again(context.user):
        rows += privacy.right_rows(context.texts)
    return InlineKeyboardMarkup(rows)


def _allowed_before_consent(update: Update) -> bool:
    if update.callback_query is not None:
        return ALLOWED_BEFORE_CONSENT_BUTTONS(update.callback_query.data)
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
        if update.callback_query is not None:  # warned or not, no tap is left spinning
            await update.callback_query.answer(context.texts("flood.slow_down") if warn else None)
        elif warn and chat is not None:
            await context.bot.send_message(chat.id, context.texts("flood.slow_down"))
        raise ApplicationHandlerStop
    if context.account.consented:
        await _review_conversations(update, context)
    right = privacy.RIGHTS.get(_command(update)) if update.message is not None else None
    if right is not None:  # a person's rights over their data come before anything else
        await right(update, context)
        raise ApplicationHandlerStop
    if context.account.consented or _allowed_before_consent(update):
        return
    if update.callback_query is not None:
        await update.callback_query.answer(context.texts("privacy.required"), show_alert=True)
    elif chat is not None:
        # asked again: they agreed to an older notice; their data is kept meanwhile
        ask = "privacy.renewed" if asked_again(context.user) else "privacy.required"
        await context.bot.send_message(
            chat.id,
            context.texts(ask) + "\n\n" + context.texts("privacy.notice"),
            reply_markup=consent_keyboard(context),
        )
        context.account = await services.users.notice_shown(context.user)
    raise ApplicationHandlerStop


def _command(update: Update) -> str:
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    return text.split(maxsplit=1)[0].split("@")[0].lstrip("/") if text.startswith("/") else ""


async def _review_conversations(update: Update, context: BotContext) -> None:
    """End a conversation that expired or that the person may no longer continue, and say
    so once; another command then goes on to do what it says, anything else stops here.
    A command that opens a conversation waits until the person is in no other (one at a
    time: conversation handlers are tried in order, so without this an earlier one's
    command would open a second conversation on top of a later one)."""
    keeper: ConversationKeeper = context.application.bot_data[KEEPER_KEY]
    review = await keeper.review(update, context.user)
    chat = update.effective_chat
    if chat is None:
        return
    command = _command(update)
    if review.tell is not None:
        hours = f"{review.hours:g}"
        # it also takes away a location key the ended conversation may have left (where no
        # key is shown, it does nothing)
        await context.bot.send_message(
            chat.id, context.texts(review.tell, hours=hours), reply_markup=ReplyKeyboardRemove()
        )
        if update.callback_query is not None:
            await update.callback_query.answer()
            raise ApplicationHandlerStop
        if command in ("", "cancel"):  # what they typed or tapped belonged to it
            raise ApplicationHandlerStop
    opening = keeper.opened_by.get(command)
    if opening is not None and not await keeper.make_room(update, opening, review.left):
        await context.bot.send_message(chat.id, context.texts("conversation.busy"))
        raise ApplicationHandlerStop


def handlers() -> list[Handler]:
    return [TypeHandler(Update, gate)]
