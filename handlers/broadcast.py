"""/broadcast for staff: compose → audience → preview with the exact count → confirm, then a
progress message with Pause, Resume and Cancel, recorded before anything is queued;
/broadcasts lists past ones, with the same controls on those still running or paused.
Buttons: bot.runtime.buttons.broadcast."""

from __future__ import annotations

import contextlib
import logging
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import Picker
from bot.runtime.buttons.broadcast import (
    BroadcastAudience,
    BroadcastChangeAudience,
    BroadcastConfirm,
    BroadcastControl,
    BroadcastDiscard,
    BroadcastListControl,
    BroadcastListPage,
    Control,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.runtime.progress import STATE_LABELS, controls, progress_view, show_progress
from bot.services.broadcasts import BROADCAST, BroadcastDraft, BroadcastStep
from handlers.common import answer_tap, chat_id_of, guarded, message_of, respond, saying
from handlers.keyboards import button, paged
from handlers.station_picker import TYPE_A_NAME, Picked, StationPicker
from storage.models import Audience, Broadcast, BroadcastCounts

log = logging.getLogger(__name__)

END = DeclaredConversation.END
Step = BroadcastStep
AUDIENCE_LABELS = {a: f"audience.{a.value}" for a in Audience}
PER_PAGE = 5
LIST_CONTROL_LABELS = {  # each gets the broadcast's {number}
    Control.PAUSE: "broadcast.list_pause",
    Control.RESUME: "broadcast.list_resume",
    Control.CANCEL: "broadcast.list_cancel",
}


def _audience_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    texts = context.texts
    rows = [
        [button(texts(label), BroadcastAudience(audience=a))]
        for a, label in AUDIENCE_LABELS.items()
    ]
    rows.append([button(texts("broadcast.discard"), BroadcastDiscard())])
    return InlineKeyboardMarkup(rows)


async def _audience_name(context: BotContext, draft: BroadcastDraft) -> str:
    texts = context.texts
    if draft.audience is None:  # set_audience has just chosen it
        raise RuntimeError("a preview without its audience")
    name = texts(AUDIENCE_LABELS[draft.audience])
    if draft.audience == Audience.VOTERS_OF_STATION and draft.audience_ref is not None:
        station = await context.services.stations.get(draft.audience_ref)
        return f"{name}: {escape(station.name)}"
    if draft.audience_ref is not None:
        street = await context.services.stations.street(draft.audience_ref)
        return f"{name}: {escape(street.name)}"
    return name


@guarded(Action.BROADCAST)
async def begin(update: Update, context: BotContext) -> Step:
    await context.services.broadcasts.begin(context.user, chat_id_of(update))
    await respond(update, context, context.texts("broadcast.ask_content"), edit=False)
    return Step.COMPOSE


@guarded(Action.BROADCAST)
async def receive_content(update: Update, context: BotContext) -> Step:
    message = message_of(update)
    photo = message.photo[-1].file_id if message.photo else None
    document = message.document.file_id if message.document else None
    # text_html keeps the staff member's formatting and escapes everything else
    text = (message.caption_html or "") if (photo or document) else (message.text_html or "")
    await context.services.broadcasts.set_content(
        context.user, chat_id_of(update), text, photo, document
    )
    await respond(
        update,
        context,
        context.texts("broadcast.choose_audience"),
        _audience_keyboard(context),
        edit=False,
    )
    return Step.AUDIENCE


def _previewing(audience: Audience) -> Picked:
    """What picking the street or station of `audience` does: the preview."""

    async def picked(update: Update, context: BotContext, place: int) -> Step:
        return await _preview(update, context, audience, place)

    return picked


def _picker(purpose: Picker, audience: Audience, prompt: str) -> StationPicker:
    return StationPicker(
        purpose=purpose,
        action=Action.BROADCAST,
        on_picked=_previewing(audience),
        prompt=prompt,
        hint=TYPE_A_NAME,
        street_is_answer=audience != Audience.VOTERS_OF_STATION,
    )


# the audiences of one street or station, each with its picker
PICKERS = {
    Audience.VOTERS_OF_STREET: _picker(
        Picker.VOTERS_STREET, Audience.VOTERS_OF_STREET, "broadcast.pick_street"
    ),
    Audience.DEPUTIES_OF_STREET: _picker(
        Picker.DEPUTIES_STREET, Audience.DEPUTIES_OF_STREET, "broadcast.pick_street"
    ),
    Audience.VOTERS_OF_STATION: _picker(
        Picker.BROADCAST_STATION, Audience.VOTERS_OF_STATION, "broadcast.pick_station"
    ),
}


@guarded(Action.BROADCAST)
async def choose_audience(update: Update, context: BotContext) -> Step | None:
    audience = BroadcastAudience.of(update).audience
    picker = PICKERS.get(audience)
    if picker is None:
        await answer_tap(update)
        return await _preview(update, context, audience, None)
    await context.services.broadcasts.pick_place(context.user, chat_id_of(update), audience)
    await answer_tap(update)
    await picker.show(update, context)
    return Step.AUDIENCE


@guarded(Action.BROADCAST)
async def typed_at_audience(update: Update, context: BotContext) -> None:
    """A name typed while a street or station is being picked searches for it; otherwise
    the buttons are what this step takes."""
    draft = await context.services.broadcasts.draft(context.user)
    picker = PICKERS.get(draft.picking) if draft.picking is not None else None
    if picker is None:
        await use_buttons(update, context)
        return
    await picker.search(update, context, message_of(update).text)


async def _preview(
    update: Update, context: BotContext, audience: Audience, ref: int | None
) -> Step:
    """Show the notice exactly as recipients will see it, then the count and Confirm."""
    services = context.services
    count = await services.broadcasts.set_audience(context.user, chat_id_of(update), audience, ref)
    draft = await services.broadcasts.draft(context.user)
    chat_id = chat_id_of(update)
    if draft.photo:
        await context.bot.send_photo(chat_id, draft.photo, caption=draft.text or None)
    elif draft.document:
        await context.bot.send_document(chat_id, draft.document, caption=draft.text or None)
    else:
        await context.bot.send_message(chat_id, draft.text)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("broadcast.confirm"), BroadcastConfirm(preview=draft.preview))],
            [
                button(texts("broadcast.change_audience"), BroadcastChangeAudience()),
                button(texts("broadcast.discard"), BroadcastDiscard()),
            ],
        ]
    )
    await respond(
        update,
        context,
        texts(
            "broadcast.preview_above",
            audience=await _audience_name(context, draft),
            count=texts.number(count),
        ),
        markup,
        edit=False,
    )
    return Step.PREVIEW


@guarded(Action.BROADCAST)
async def change_audience(update: Update, context: BotContext) -> Step:
    await context.services.broadcasts.set_audience(context.user, chat_id_of(update), None, None)
    await answer_tap(update)
    await respond(
        update, context, context.texts("broadcast.choose_audience"), _audience_keyboard(context)
    )
    return Step.AUDIENCE


@guarded(Action.BROADCAST)
async def confirm(update: Update, context: BotContext) -> int:
    """Create the broadcast, show its progress message with Pause and Cancel, and only then
    queue it (BroadcastService.start). When the controls cannot be shown at all, nothing is
    queued: the broadcast is withdrawn and the draft stays, so Confirm can be tapped again."""
    services = context.services
    chat_id = chat_id_of(update)
    preview = BroadcastConfirm.of(update).preview
    broadcast = await services.broadcasts.create(context.user, chat_id, preview)
    with contextlib.suppress(TelegramError):  # a spinner left turning must not stop it
        await answer_tap(update)
    try:
        message = await _show_controls(update, context, broadcast)
    except TelegramError:
        await services.broadcasts.withdraw(context.user, broadcast.id)
        raise
    await services.broadcasts.start(
        context.user, chat_id, broadcast.id, message.chat_id, message.message_id
    )
    return END


async def _show_controls(update: Update, context: BotContext, broadcast: Broadcast) -> Message:
    """The confirmation becomes the progress message; when it cannot be edited, the
    progress message is sent anew. Returns the message shown."""
    counts = BroadcastCounts(queued=broadcast.total)  # what it is about to be
    rate = context.services.settings.outbox_rate
    text, markup = progress_view(context.texts, broadcast, counts, rate)
    message: Message | None = None
    try:
        message = await respond(update, context, text, markup)
    except TelegramError as exc:
        log.warning("broadcast %s: confirmation not edited (%s); sent anew", broadcast.id, exc)
    if message is None:
        message = await context.bot.send_message(chat_id_of(update), text, reply_markup=markup)
    return message


@guarded(Action.BROADCAST)
async def confirmed_already(update: Update, context: BotContext) -> None:
    """Confirm tapped again once the draft has gone: say which broadcast it became."""
    number = await context.services.broadcasts.sent_as(context.user)
    if number is None:
        raise DomainError("broadcast.no_draft")
    raise DomainError("broadcast.already_sent", number=number)


async def discard(update: Update, context: BotContext) -> int:
    await context.services.broadcasts.discard(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("broadcast.discarded"))
    return END


bad_content = saying("broadcast.bad_content")


use_buttons = saying("broadcast.bad_button")


command_in_middle = saying("broadcast.in_progress")


# --- progress buttons and the list -------------------------------------------------------


@guarded(Action.BROADCAST)
async def control(update: Update, context: BotContext) -> None:
    """Pause, Resume or Cancel under a progress message."""
    tapped = BroadcastControl.of(update)
    services = context.services
    broadcast = await services.broadcasts.set_state(
        context.user, tapped.broadcast, tapped.action.state
    )
    await answer_tap(update)
    counts = await services.broadcasts.counts(broadcast.id)
    text, markup = progress_view(context.texts, broadcast, counts, services.settings.outbox_rate)
    await respond(update, context, text, markup)
    message = update.effective_message
    if message is None or message.message_id != broadcast.progress_message_id:
        await show_progress(context.bot, context.services, broadcast)  # tapped on an older copy


@guarded(Action.BROADCAST)
async def list_control(update: Update, context: BotContext) -> None:
    """Pause, Resume or Cancel from /broadcasts; the list is shown again."""
    tapped = BroadcastListControl.of(update)
    broadcast = await context.services.broadcasts.set_state(
        context.user, tapped.broadcast, tapped.action.state
    )
    await answer_tap(update)
    await show_progress(context.bot, context.services, broadcast)
    await show_list(update, context, tapped.page)


async def show_list(update: Update, context: BotContext, page: int) -> None:
    """Recent broadcasts with their counts; running and paused ones get their controls."""
    texts = context.texts
    result = await context.services.broadcasts.recent(context.user, page, PER_PAGE)
    if not result.items:
        await respond(update, context, texts("broadcast.list_empty"))
        return
    lines = [texts("broadcast.list_title")]
    buttons: list[InlineKeyboardButton] = []
    for b in result.items:
        counts = await context.services.broadcasts.counts(b.id)
        lines.append(
            texts(
                "broadcast.list_item",
                number=b.id,
                created=texts.datetime(b.created_at),
                audience=texts(AUDIENCE_LABELS[b.audience]),
                state=texts(STATE_LABELS[b.state]),
                total=texts.number(b.total),
                sent=texts.number(counts.sent),
                failed=texts.number(counts.failed),
                blocked=texts.number(counts.blocked),
            )
        )
        buttons.extend(
            button(
                texts(LIST_CONTROL_LABELS[action], number=b.id),
                BroadcastListControl(action=action, broadcast=b.id, page=result.page),
            )
            for action in controls(b.state)
        )
    # each running or paused broadcast has two controls: one row each
    markup = paged(
        buttons,
        result.page,
        result.pages,
        lambda p: BroadcastListPage(page=p),
        texts,
        columns=2,
    )
    await respond(update, context, "\n\n".join(lines), markup)


@guarded(Action.BROADCAST)
async def list_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, 0)


@guarded(Action.BROADCAST)
async def list_page(update: Update, context: BotContext) -> None:
    page = BroadcastListPage.of(update).page
    await answer_tap(update)
    await show_list(update, context, page)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    content = (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.ALL
    text = filters.TEXT & ~filters.COMMAND
    not_command = ~filters.COMMAND
    conversation = DeclaredConversation(
        BROADCAST,
        entry_points=[CommandHandler("broadcast", begin)],
        states={
            Step.COMPOSE: [
                MessageHandler(content, receive_content),
                MessageHandler(not_command, bad_content),
            ],
            Step.AUDIENCE: [
                CallbackQueryHandler(choose_audience, pattern=BroadcastAudience.filter()),
                *(handler for picker in PICKERS.values() for handler in picker.handlers()),
                MessageHandler(text, typed_at_audience),
                MessageHandler(not_command, use_buttons),
            ],
            Step.PREVIEW: [
                CallbackQueryHandler(confirm, pattern=BroadcastConfirm.filter()),
                CallbackQueryHandler(change_audience, pattern=BroadcastChangeAudience.filter()),
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", discard),
            CallbackQueryHandler(discard, pattern=BroadcastDiscard.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
        ],
    )
    return [
        conversation,
        CallbackQueryHandler(confirmed_already, pattern=BroadcastConfirm.filter()),
        CallbackQueryHandler(control, pattern=BroadcastControl.filter()),
        CommandHandler("broadcasts", list_command),
        CallbackQueryHandler(list_page, pattern=BroadcastListPage.filter()),
        CallbackQueryHandler(list_control, pattern=BroadcastListControl.filter()),
    ]
