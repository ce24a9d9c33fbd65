"""/privacy, /mydata and /forget: a person's rights over their data (PIPL).

The three commands are run by the gate (handlers.gate), not registered here: they work
before consent and in the middle of any conversation, which would otherwise take a command
as its own. Their buttons are registered here; no conversation claims them."""

from __future__ import annotations

import io
from collections.abc import Callable, Coroutine
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.i18n import Texts
from bot.runtime.buttons.privacy import ForgetChoice, ForgetConfirm, PrivacyRight, RightAction
from bot.runtime.buttons.start import Consent
from bot.runtime.context import BotContext
from bot.runtime.conversation import KEEPER_KEY, ConversationKeeper
from bot.services.privacy import Erasure, Stored
from handlers.common import Handler, answer_tap, chat_id_of, guarded, respond, sender_of
from handlers.keyboards import button
from handlers.language import NAMES as LANGUAGE_NAMES

# --- /privacy -----------------------------------------------------------------------------


@guarded()
async def privacy_command(update: Update, context: BotContext) -> None:
    """The notice in full (who keeps what, why, for how long, the rights) and what is
    stored about the person now, with buttons to download or erase it."""
    texts = context.texts
    stored = await context.services.privacy.stored(context.user)
    text = (
        texts(
            "privacy.details",
            months=texts.number(stored.retention_months),
            days=texts.number(stored.unconsented_days),
        )
        + "\n\n"
        + render_stored(texts, stored)
    )
    rows = [
        [
            button(texts("privacy.download_button"), PrivacyRight(action=RightAction.MYDATA)),
            button(texts("privacy.forget_button"), PrivacyRight(action=RightAction.FORGET)),
        ]
    ]
    if not context.user.consented:
        rows.append([button(texts("privacy.agree"), Consent())])
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=False)
    if not context.user.consented:
        context.account = await context.services.users.notice_shown(context.user)


def render_stored(texts: Texts, stored: Stored) -> str:
    """What is stored, line by line; before consent, the one line that says how little."""
    lines = [texts("privacy.stored_title")]
    first = texts.datetime(stored.first_contact)
    if stored.only_id:
        lines.append(texts("privacy.stored_only_id", id=stored.telegram_id, first=first))
        if stored.holdings.comments:  # kept after /forget, still linked to the bare id
            count = texts.number(stored.holdings.comments)
            lines.append(texts("privacy.stored_comments_kept", count=count))
        return "\n".join(lines)
    lines.append(texts("privacy.stored_id", id=stored.telegram_id, first=first))
    if stored.full_name:
        lines.append(texts("privacy.stored_name", name=escape(stored.full_name)))
    if stored.username:
        lines.append(texts("privacy.stored_username", username=escape(stored.username)))
    if stored.station:
        lines.append(texts("privacy.stored_station", station=escape(stored.station)))
    if stored.locale:
        language = LANGUAGE_NAMES.get(stored.locale, stored.locale)
        lines.append(texts("privacy.stored_language", language=language))
    if stored.consent_at is not None:
        lines.append(
            texts(
                "privacy.stored_consent",
                at=texts.datetime(stored.consent_at),
                version=stored.consent_version or 1,
            )
        )
    held = stored.holdings
    lines.append(
        texts(
            "privacy.stored_counts",
            opinions=texts.number(held.opinions),
            comments=texts.number(held.comments),
            drafts=texts.number(held.drafts),
            follows=texts.number(held.follows),
            notices=texts.number(held.notices),
        )
    )
    return "\n".join(lines)


# --- /mydata ------------------------------------------------------------------------------


@guarded()
async def mydata_command(update: Update, context: BotContext) -> None:
    await send_mydata(update, context)


async def send_mydata(update: Update, context: BotContext) -> None:
    """Everything stored about the person, as one JSON file."""
    texts = context.texts
    export = await context.services.privacy.export(context.user, texts)
    await answer_tap(update)
    await context.bot.send_document(
        chat_id_of(update),
        io.BytesIO(export.content),
        filename=export.filename,
        caption=texts("privacy.mydata_caption"),
    )


# --- /forget ------------------------------------------------------------------------------


@guarded()
async def forget_command(update: Update, context: BotContext) -> None:
    await ask_forget(update, context)


async def ask_forget(update: Update, context: BotContext) -> None:
    """Ask before erasing: what goes and what stays. Refused while a role is held; with
    nothing left to erase, said so at once."""
    texts = context.texts
    token = await context.services.privacy.ask_forget(context.user)
    await answer_tap(update)
    if token is None:
        await respond(update, context, texts("privacy.nothing_left"), edit=False)
        return
    erase = ForgetConfirm(choice=ForgetChoice.ERASE, token=token)
    keep = ForgetConfirm(choice=ForgetChoice.KEEP, token=token)
    markup = InlineKeyboardMarkup(
        [[button(texts("privacy.erase_button"), erase), button(texts("privacy.keep_button"), keep)]]
    )
    await respond(update, context, texts("privacy.forget_question"), markup, edit=False)


@guarded()
async def forget_answered(update: Update, context: BotContext) -> None:
    texts = context.texts  # the person's language, before the erasure forgets it
    tapped = ForgetConfirm.of(update)
    if tapped.choice == ForgetChoice.KEEP:
        await context.services.privacy.keep(context.user, tapped.token)
        await answer_tap(update)
        await respond(update, context, texts("privacy.forget_kept"))
        return
    erasure = await context.services.privacy.forget(context.user, tapped.token)
    await answer_tap(update)
    if erasure.nothing_left:
        await respond(update, context, texts("privacy.nothing_left"))
        return
    _end_conversations_in_memory(context, chat_id_of(update), sender_of(update).id)
    context.account = await context.services.users.get(context.user.telegram_id)
    await respond(update, context, render_erasure(texts, erasure))


def _end_conversations_in_memory(context: BotContext, chat_id: int, user_id: int) -> None:
    """The erasure deleted every conversation state stored; PTB's memory of them goes too,
    so the next message resumes none."""
    keeper: ConversationKeeper = context.application.bot_data[KEEPER_KEY]
    for name in keeper.specs:
        keeper.forget(name, (chat_id, user_id))


def render_erasure(texts: Texts, erasure: Erasure) -> str:
    """What was erased and what was kept, and why, with counts."""
    counted = (
        ("privacy.erased_opinions", erasure.opinions),
        ("privacy.erased_texts", erasure.texts_erased),
        ("privacy.withdrawn", erasure.withdrawn),
        ("privacy.kept_answered", erasure.answered_kept),
        ("privacy.kept_comments", erasure.comments),
        ("privacy.erased_drafts", erasure.drafts),
        ("privacy.erased_conversations", len(erasure.conversations)),
        ("privacy.erased_notices", erasure.notices),
        ("privacy.erased_follows", erasure.follows),
        ("privacy.erased_desk", erasure.desk_entries),
        ("privacy.kept_ballots", erasure.ballots_kept),
    )
    lines = [texts("privacy.erased_title"), texts("privacy.erased_profile")]
    lines += [texts(key, count=texts.number(count)) for key, count in counted if count]
    if erasure.backup_nights:
        lines.append(texts("privacy.erased_backups", nights=texts.number(erasure.backup_nights)))
    lines.append(texts("privacy.erased_footer"))
    return "\n".join(lines)


def right_rows(texts: Texts) -> list[list[InlineKeyboardButton]]:
    """The decline row of a renewed notice: /forget's question instead of agreeing."""
    return [[button(texts("privacy.decline"), PrivacyRight(action=RightAction.FORGET))]]


# --- the buttons --------------------------------------------------------------------------


@guarded()
async def right_tapped(update: Update, context: BotContext) -> None:
    """A button under /privacy or a renewed notice: download, or /forget's question."""
    if PrivacyRight.of(update).action == RightAction.MYDATA:
        await send_mydata(update, context)
    else:
        await ask_forget(update, context)


Command = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
# The commands the gate runs (command → handler), whatever else is under way.
RIGHTS: dict[str, Command] = {
    "privacy": privacy_command,
    "mydata": mydata_command,
    "forget": forget_command,
}


def handlers() -> list[Handler]:
    return [
        CallbackQueryHandler(right_tapped, pattern=PrivacyRight.filter()),
        CallbackQueryHandler(forget_answered, pattern=ForgetConfirm.filter()),
    ]
