"""/desk: staff enter the opinion of a visitor at the station (来访登记): station → the
visitor's spoken consent (before anything they say is typed in) → category → text → name
(optional) → phone (optional) → preview → Send.
The reply gives the tracking number, the claim link with its QR code and a printable slip;
then the next visitor (same station) or done. `claim` answers the claim link
(`start=claim_<code>`, after the consent /start asks for), and `visitor_line` is the line an
opinion's card shows about its visitor.

The conversation is declared once (bot.services.desk.DESK); every step stores the draft and
the next step before answering, so a restart resumes where staff were. The last step
(another visitor, or done) may be walked away from: any other command goes through."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from html import escape
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.runtime.buttons import ButtonFilter, Picker, any_of
from bot.runtime.buttons.desk import DeskAct, DeskCategory, DeskTap
from bot.runtime.buttons.opinion import CategoryCode
from bot.runtime.buttons.start import claim_link
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.desk import (
    DESK,
    NAME_MAX,
    Claimed,
    DeskDraft,
    DeskStep,
    Receipt,
    visitor_name,
    visitor_phone,
)
from bot.services.opinions import (
    CATEGORIES,
    CATEGORY_LABELS,
    STATUS_LABELS,
    TEXT_MAX,
    TEXT_MIN,
    opinion_text,
)
from bot.services.qr_codes import qr_png
from handlers.common import (
    Callback,
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    guarded,
    message_of,
    respond,
    saying,
    tap_of,
)
from handlers.keyboards import button, rows_of
from handlers.station_picker import TYPE_A_NAME, Rows, StationPicker, View
from storage.models import Opinion, OpinionStatus

Step = DeskStep
END = DeclaredConversation.END

log = logging.getLogger(__name__)


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [button(context.texts("desk.cancel_button"), DeskTap(act=DeskAct.CANCEL))]


async def _draft(context: BotContext) -> DeskDraft:
    return await context.services.desk.draft(context.user)


async def _station_name(context: BotContext, draft: DeskDraft) -> str:
    if draft.station_id is None:
        raise RuntimeError("a desk step after the station has a station")
    return escape((await context.services.desk.station(draft.station_id)).name)


def _or_none(context: BotContext, value: str) -> str:
    return escape(value) if value else context.texts("desk.not_given")


# --- prompts -----------------------------------------------------------------------------


async def _cancel_rows(context: BotContext, view: View) -> Rows:
    return [_cancel_row(context)]


async def ask_station(update: Update, context: BotContext, draft: DeskDraft) -> None:
    await PICKER.show(update, context)


async def ask_category(update: Update, context: BotContext, draft: DeskDraft) -> None:
    texts = context.texts
    categories = [
        button(texts(label), DeskCategory(code=cast(CategoryCode, code)))
        for code, label in CATEGORIES
    ]
    markup = InlineKeyboardMarkup(
        [
            *rows_of(categories, 2),
            [button(texts("desk.change_station"), DeskTap(act=DeskAct.STATION))],
            _cancel_row(context),
        ]
    )
    text = texts("desk.ask_category", station=await _station_name(context, draft))
    await respond(update, context, text, markup)


def _text_limits(context: BotContext) -> dict[str, str]:
    """/opinion's length limits, as numbers are written in the reader's locale."""
    texts = context.texts
    return {"minimum": texts.number(TEXT_MIN), "maximum": texts.number(TEXT_MAX)}


async def ask_text(update: Update, context: BotContext, draft: DeskDraft) -> None:
    text = context.texts("desk.ask_text", **_text_limits(context))
    await respond(update, context, text, InlineKeyboardMarkup([_cancel_row(context)]))


async def ask_name(update: Update, context: BotContext, draft: DeskDraft) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("desk.skip"), DeskTap(act=DeskAct.SKIP_NAME))], _cancel_row(context)]
    )
    await respond(update, context, texts("desk.ask_name", maximum=texts.number(NAME_MAX)), markup)


async def ask_phone(update: Update, context: BotContext, draft: DeskDraft) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("desk.skip"), DeskTap(act=DeskAct.SKIP_PHONE))], _cancel_row(context)]
    )
    await respond(update, context, texts("desk.ask_phone"), markup)


async def ask_consent(update: Update, context: BotContext, draft: DeskDraft) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("desk.agreed_button"), DeskTap(act=DeskAct.AGREED))],
            [button(texts("desk.change_station"), DeskTap(act=DeskAct.STATION))],
            _cancel_row(context),
        ]
    )
    await respond(update, context, texts("desk.ask_consent"), markup)


async def show_preview(update: Update, context: BotContext, draft: DeskDraft) -> None:
    texts = context.texts
    consent = (
        texts("desk.consent_noted", at=texts.datetime(draft.consent_at))
        if draft.consent_at is not None
        else texts("desk.not_given")
    )
    text = texts(
        "desk.preview",
        station=await _station_name(context, draft),
        category=texts(CATEGORY_LABELS[draft.category or "other"]),
        text=escape(draft.text or ""),
        name=_or_none(context, draft.visitor_name),
        phone=_or_none(context, draft.visitor_phone),
        consent=consent,
    )
    markup = InlineKeyboardMarkup(
        [
            [button(texts("desk.send"), DeskTap(act=DeskAct.SEND, draft=draft.token))],
            _cancel_row(context),
        ]
    )
    await respond(update, context, text, markup)


async def ask_next(update: Update, context: BotContext, draft: DeskDraft) -> None:
    """After an entry: the next visitor at the same station, another station, or done."""
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("desk.next_button"), DeskTap(act=DeskAct.NEXT))],
            [
                button(texts("desk.change_station"), DeskTap(act=DeskAct.STATION)),
                button(texts("desk.done_button"), DeskTap(act=DeskAct.DONE)),
            ],
        ]
    )
    text = texts("desk.next_prompt", station=await _station_name(context, draft))
    await respond(update, context, text, markup, edit=False)


# What each step asks; every step of the declaration has its prompt here, once.
PROMPTS: dict[Step, Callable[[Update, BotContext, DeskDraft], Awaitable[None]]] = {
    Step.STATION: ask_station,
    Step.CONSENT: ask_consent,
    Step.CATEGORY: ask_category,
    Step.TEXT: ask_text,
    Step.NAME: ask_name,
    Step.PHONE: ask_phone,
    Step.PREVIEW: show_preview,
    Step.NEXT: ask_next,
}
if set(PROMPTS) != set(DeskStep):
    raise TypeError("every step of /desk has its prompt")


async def _go_to(update: Update, context: BotContext, draft: DeskDraft, step: Step) -> Step:
    """Store the draft at `step` and ask what the step asks."""
    await context.services.desk.save(context.user, chat_id_of(update), draft, step)
    await PROMPTS[step](update, context, draft)
    return step


# --- the station -------------------------------------------------------------------------


async def _station_picked(update: Update, context: BotContext, station_id: int) -> Step:
    """The station the visitor came to; kept for the visitors after them. Their consent
    comes next, unless it was noted before the station changed."""
    draft = await _draft(context)
    draft.station_id = station_id
    return await _go_to(update, context, draft, context.services.desk.after_station(draft))


PICKER = StationPicker(
    Picker.DESK,
    Action.RECEIVE_VISITORS,
    _station_picked,
    "desk.ask_station",
    street_prompt="desk.ask_station_of",
    rows_below=_cancel_rows,
    hint=TYPE_A_NAME,
)


# --- steps -------------------------------------------------------------------------------


@guarded(Action.RECEIVE_VISITORS)
async def begin(update: Update, context: BotContext) -> Step:
    """/desk (or "next visitor"): a new draft, at the last visitor's station if staff are
    still at the desk."""
    draft, step = await context.services.desk.begin(
        context.user, chat_id_of(update), context.bot.username
    )
    await answer_tap(update)
    await PROMPTS[step](update, context, draft)
    return step


@guarded(Action.RECEIVE_VISITORS)
async def change_station(update: Update, context: BotContext) -> Step:
    await answer_tap(update)
    return await _go_to(update, context, await _draft(context), Step.STATION)


@guarded(Action.RECEIVE_VISITORS)
async def choose_category(update: Update, context: BotContext) -> Step:
    code = DeskCategory.of(update).code
    await answer_tap(update)
    draft = await _draft(context)
    draft.category = code
    return await _go_to(update, context, draft, Step.TEXT)


@guarded(Action.RECEIVE_VISITORS)
async def receive_text(update: Update, context: BotContext) -> Step:
    """The visitor's opinion as staff typed it: the one cleaner, /opinion's length rules."""
    text = opinion_text(message_of(update).text)
    draft = await _draft(context)
    draft.text = text
    return await _go_to(update, context, draft, Step.NAME)


@guarded(Action.RECEIVE_VISITORS)
async def receive_name(update: Update, context: BotContext) -> Step:
    name = visitor_name(message_of(update).text)
    draft = await _draft(context)
    draft.visitor_name = name
    return await _go_to(update, context, draft, Step.PHONE)


@guarded(Action.RECEIVE_VISITORS)
async def skip_name(update: Update, context: BotContext) -> Step:
    await answer_tap(update)
    draft = await _draft(context)
    draft.visitor_name = ""
    return await _go_to(update, context, draft, Step.PHONE)


@guarded(Action.RECEIVE_VISITORS)
async def receive_phone(update: Update, context: BotContext) -> Step:
    phone = visitor_phone(message_of(update).text)
    draft = await _draft(context)
    draft.visitor_phone = phone
    return await _go_to(update, context, draft, Step.PREVIEW)


@guarded(Action.RECEIVE_VISITORS)
async def skip_phone(update: Update, context: BotContext) -> Step:
    await answer_tap(update)
    draft = await _draft(context)
    draft.visitor_phone = ""
    return await _go_to(update, context, draft, Step.PREVIEW)


@guarded(Action.RECEIVE_VISITORS)
async def agreed(update: Update, context: BotContext) -> Step:
    """The visitor agreed: noted with the time; what they have to say follows."""
    await answer_tap(update)
    desk = context.services.desk
    draft = await desk.note_consent(context.user, chat_id_of(update), await _draft(context))
    await ask_category(update, context, draft)
    return Step.CATEGORY


@guarded(Action.RECEIVE_VISITORS)
async def send(update: Update, context: BotContext) -> Step | int:
    """Send the draft the button names (once: a repeated tap shows the same receipt)."""
    token = DeskTap.of(update).draft
    receipt = await context.services.desk.submit(context.user, chat_id_of(update), token)
    await hand_over(update, context, receipt)
    return END if receipt.step is None else receipt.step


@guarded(Action.RECEIVE_VISITORS)
async def send_again(update: Update, context: BotContext) -> None:
    """A Send tapped at another step, or after /desk ended: the receipt of what that draft
    became; any other Send is stale."""
    token = DeskTap.of(update).draft
    receipt = await context.services.desk.sent_before(context.user, chat_id_of(update), token)
    await hand_over(update, context, receipt)


async def hand_over(update: Update, context: BotContext, receipt: Receipt) -> None:
    """The receipt in place of the preview (tracking number, claim link, printable slip),
    then the link's QR code to show or print, then what next. A repeated tap says so and
    shows the receipt again, nothing more."""
    texts = context.texts
    opinion = receipt.opinion
    if receipt.repeated:
        notice = texts("desk.already_sent", tracking_no=opinion.tracking_no)
        await tap_of(update).answer(notice, show_alert=True)
    else:
        await answer_tap(update)
    link = claim_link(context.bot.username, receipt.entry.claim_code)
    until = texts.date(receipt.entry.claim_expires_at)
    station = receipt.station.name
    slip = texts(
        "desk.slip",
        tracking_no=opinion.tracking_no,
        station=station,
        date=texts.date(opinion.created_at),
        link=link,
        until=until,
    )
    text = texts(
        "desk.receipt",
        tracking_no=opinion.tracking_no,
        station=escape(station),
        link=escape(link),
        until=until,
        slip=escape(slip),
    )
    await respond(update, context, text)
    if receipt.repeated:
        return
    caption = texts("desk.qr_caption", tracking_no=opinion.tracking_no, link=escape(link))
    chat_id = chat_id_of(update)
    try:
        await context.bot.send_photo(chat_id, io.BytesIO(qr_png(link)), caption=caption)
    except TelegramError as error:  # the link above still serves; Send again shows it
        log.warning("desk opinion %s: the QR code was not sent: %s", opinion.id, error)
    await ask_next(update, context, await _draft(context))


@guarded(Action.RECEIVE_VISITORS)
async def done(update: Update, context: BotContext) -> int:
    """No more visitors: the desk is left (the remembered station with it)."""
    await context.services.desk.discard(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("desk.finished"))
    return END


async def cancel(update: Update, context: BotContext) -> int:
    """/cancel or Cancel: the draft goes, and nothing the visitor said is kept."""
    desk = context.services.desk
    chat_id = chat_id_of(update)
    step = await desk.step_of(context.user, chat_id)
    await desk.discard(context.user, chat_id)
    await answer_tap(update)
    key = "desk.finished" if step == Step.NEXT else "desk.cancelled"
    await respond(update, context, context.texts(key))
    return END


# --- bad input ---------------------------------------------------------------------------

BAD_INPUT = {
    Step.STATION: "desk.bad_station",
    Step.CONSENT: "desk.bad_consent",
    Step.CATEGORY: "desk.bad_category",
    Step.TEXT: "desk.bad_text",
    Step.NAME: "desk.bad_name",
    Step.PHONE: "desk.bad_phone",
    Step.PREVIEW: "desk.bad_preview",
    Step.NEXT: "desk.bad_next",
}


def bad_input(step: Step) -> Callback[None]:
    """A reply for input the step does not take; the step stays."""

    async def reply(update: Update, context: BotContext) -> None:
        text = context.texts(BAD_INPUT[step], **_text_limits(context))
        await respond(update, context, text, edit=False)

    return reply


command_in_middle = saying("desk.in_progress")
stale_button = alerting("error.stale_button")


# --- the visitor's side ------------------------------------------------------------------


async def claim(update: Update, context: BotContext, code: str) -> None:
    """The claim link, after the consent: the opinion becomes this account's (refusals are
    the caller's to show)."""
    claimed = await context.services.desk.claim(context.user, code)
    if claimed.station is not None:
        context.account = await context.services.users.get(context.user.telegram_id)
    await respond(update, context, claimed_text(context, claimed), edit=False)


def claimed_text(context: BotContext, claimed: Claimed) -> str:
    texts = context.texts
    opinion = claimed.opinion
    if claimed.already:
        return texts("desk.already_yours", tracking_no=opinion.tracking_no)
    status = texts(STATUS_LABELS[opinion.status])
    text = texts("desk.claimed", tracking_no=opinion.tracking_no, status=status)
    if opinion.status in (OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED):
        text += "\n" + texts("desk.claimed_open")
    else:
        text += "\n" + texts("desk.claimed_done")
    if claimed.station is not None:
        text += "\n" + texts("desk.claimed_station", station=escape(claimed.station.name))
    return text


async def visitor_line(context: BotContext, opinion: Opinion) -> str:
    """The card's line about a desk opinion's visitor (a new line and the text): name and
    phone for staff and the deputy handling it, that it came from the desk for others; ''
    for an opinion a voter sent themselves."""
    visitor = await context.services.desk.visitor(context.user, opinion)
    if visitor is None:
        return ""
    texts = context.texts
    if visitor.name is None:
        return "\n" + texts("desk.card_hidden")
    name, phone = _or_none(context, visitor.name), _or_none(context, visitor.phone or "")
    return "\n" + texts("desk.card_visitor", name=name, phone=phone)


def handlers() -> list[Handler]:
    """The /desk conversation, and Send outside it for a repeated tap."""

    def others(step: Step) -> Handler:
        """Anything but a command that this step does not take."""
        return MessageHandler(~filters.COMMAND, bad_input(step))

    def entering(step: Step, *taking: Handler) -> list[Handler]:
        """A step with a visitor's draft under way: /cancel, and no other command."""
        return [
            *taking,
            CommandHandler("cancel", cancel),
            MessageHandler(filters.COMMAND, command_in_middle),
            others(step),
        ]

    def tapped(act: DeskAct) -> ButtonFilter:
        return DeskTap.filter(act=act)

    text = filters.TEXT & ~filters.COMMAND
    conversation = DeclaredConversation(
        DESK,
        entry_points=[CommandHandler("desk", begin)],
        states={
            Step.STATION: entering(Step.STATION, *PICKER.handlers(), PICKER.search_handler()),
            Step.CONSENT: entering(
                Step.CONSENT,
                CallbackQueryHandler(agreed, pattern=tapped(DeskAct.AGREED)),
                CallbackQueryHandler(change_station, pattern=tapped(DeskAct.STATION)),
            ),
            Step.CATEGORY: entering(
                Step.CATEGORY,
                CallbackQueryHandler(choose_category, pattern=DeskCategory.filter()),
                CallbackQueryHandler(change_station, pattern=tapped(DeskAct.STATION)),
            ),
            Step.TEXT: entering(Step.TEXT, MessageHandler(text, receive_text)),
            Step.NAME: entering(
                Step.NAME,
                MessageHandler(text, receive_name),
                CallbackQueryHandler(skip_name, pattern=tapped(DeskAct.SKIP_NAME)),
            ),
            Step.PHONE: entering(
                Step.PHONE,
                MessageHandler(text, receive_phone),
                CallbackQueryHandler(skip_phone, pattern=tapped(DeskAct.SKIP_PHONE)),
            ),
            Step.PREVIEW: entering(
                Step.PREVIEW, CallbackQueryHandler(send, pattern=tapped(DeskAct.SEND))
            ),
            # walked away from: any command but these goes to its own handler
            Step.NEXT: [
                CommandHandler("desk", begin),
                CommandHandler("cancel", cancel),
                CallbackQueryHandler(begin, pattern=tapped(DeskAct.NEXT)),
                CallbackQueryHandler(change_station, pattern=tapped(DeskAct.STATION)),
                CallbackQueryHandler(done, pattern=tapped(DeskAct.DONE)),
                others(Step.NEXT),
            ],
        },
        fallbacks=[
            CallbackQueryHandler(cancel, pattern=tapped(DeskAct.CANCEL)),
            CallbackQueryHandler(send_again, pattern=tapped(DeskAct.SEND)),
            CallbackQueryHandler(stale_button, pattern=any_of(DeskTap, DeskCategory)),
        ],
    )
    # Send tapped after /desk ended (a reply that failed, a restart): the same receipt.
    sent_already = CallbackQueryHandler(send_again, pattern=tapped(DeskAct.SEND))
    return [conversation, sent_already]
