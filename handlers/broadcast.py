"""/broadcast for staff: compose → audience → preview with the exact count → confirm, then a
progress message with Pause, Resume and Cancel, recorded before anything is queued;
/broadcasts lists past ones, with the same controls on those still running or paused.
Buttons: bot.runtime.buttons.broadcast."""

from __future__ import annotations

import contextlib
import logging
from html import escape

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import Picker, StationPicked, StreetPage, StreetStations
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
from bot.runtime.progress import STATE_LABELS, controls, progress_view, show_progress
from bot.services.broadcasts import (
    CONVERSATION,
    STEP_AUDIENCE,
    STEP_COMPOSE,
    STEP_PREVIEW,
    BroadcastDraft,
)
from handlers.common import answer_tap, chat_id_of, guarded, respond
from handlers.keyboards import button, paged, station_picker, street_picker
from storage.models import Audience, Broadcast, BroadcastCounts

log = logging.getLogger(__name__)

END = ConversationHandler.END
AUDIENCE_LABELS = {a: f"audience.{a.value}" for a in Audience}
# choosing the street of a street-wide audience; the picker's purpose says whose
STREET_PICKS = {
    Picker.VOTERS_STREET: Audience.VOTERS_OF_STREET,
    Picker.DEPUTIES_STREET: Audience.DEPUTIES_OF_STREET,
}
STREET_PURPOSE = {audience: purpose for purpose, audience in STREET_PICKS.items()}
STATION_PICK = Picker.BROADCAST_STATION  # choosing the station of a station audience
PICKS = (*STREET_PICKS, STATION_PICK)
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
    assert draft.audience is not None
    name = texts(AUDIENCE_LABELS[draft.audience])
    if draft.audience == Audience.VOTERS_OF_STATION and draft.audience_ref is not None:
        station = await context.services.stations.get(draft.audience_ref)
        return f"{name}: {escape(station.name)}"
    if draft.audience_ref is not None:
        street = await context.services.stations.street(draft.audience_ref)
        return f"{name}: {escape(street.name)}"
    return name


@guarded(Action.BROADCAST)
async def begin(update: Update, context: BotContext) -> str:
    await context.services.broadcasts.begin(context.user, chat_id_of(update))
    await respond(update, context, context.texts("broadcast.ask_content"), edit=False)
    return STEP_COMPOSE


@guarded(Action.BROADCAST)
async def receive_content(update: Update, context: BotContext) -> str:
    message = update.effective_message
    assert message is not None
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
    return STEP_AUDIENCE


@guarded(Action.BROADCAST)
async def choose_audience(update: Update, context: BotContext) -> str | None:
    audience = BroadcastAudience.of(update).audience
    await answer_tap(update)
    texts = context.texts
    if audience in STREET_PURPOSE:
        markup = await street_picker(context.services, texts, STREET_PURPOSE[audience], 0)
        await respond(update, context, texts("broadcast.pick_street"), markup)
        return STEP_AUDIENCE
    if audience == Audience.VOTERS_OF_STATION:
        markup = await street_picker(context.services, texts, STATION_PICK, 0)
        await respond(update, context, texts("broadcast.pick_station"), markup)
        return STEP_AUDIENCE
    return await _preview(update, context, audience, None)


@guarded(Action.BROADCAST)
async def street_pages(update: Update, context: BotContext) -> str:
    """Paging through streets, for any of the three pickers."""
    tapped = StreetPage.of(update)
    await answer_tap(update)
    markup = await street_picker(context.services, context.texts, tapped.purpose, tapped.page)
    key = "broadcast.pick_street" if tapped.purpose in STREET_PICKS else "broadcast.pick_station"
    await respond(update, context, context.texts(key), markup)
    return STEP_AUDIENCE


@guarded(Action.BROADCAST)
async def street_chosen(update: Update, context: BotContext) -> str | None:
    """The street of a street-wide audience."""
    tapped = StreetStations.of(update)
    await answer_tap(update)
    return await _preview(update, context, STREET_PICKS[tapped.purpose], tapped.street)


@guarded(Action.BROADCAST)
async def station_pages(update: Update, context: BotContext) -> str:
    tapped = StreetStations.of(update)
    await context.services.stations.street(tapped.street)
    await answer_tap(update)
    markup = await station_picker(
        context.services, context.texts, STATION_PICK, tapped.street, tapped.page
    )
    await respond(update, context, context.texts("broadcast.pick_station"), markup)
    return STEP_AUDIENCE


@guarded(Action.BROADCAST)
async def station_chosen(update: Update, context: BotContext) -> str | None:
    station_id = StationPicked.of(update).station
    await answer_tap(update)
    return await _preview(update, context, Audience.VOTERS_OF_STATION, station_id)


async def _preview(update: Update, context: BotContext, audience: Audience, ref: int | None) -> str:
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
    return STEP_PREVIEW


@guarded(Action.BROADCAST)
async def change_audience(update: Update, context: BotContext) -> str:
    await context.services.broadcasts.set_audience(context.user, chat_id_of(update), None, None)
    await answer_tap(update)
    await respond(
        update, context, context.texts("broadcast.choose_audience"), _audience_keyboard(context)
    )
    return STEP_AUDIENCE


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


async def bad_content(update: Update, context: BotContext) -> None:
    await respond(update, context, context.texts("broadcast.bad_content"), edit=False)


async def use_buttons(update: Update, context: BotContext) -> None:
    await respond(update, context, context.texts("broadcast.bad_button"), edit=False)


async def command_in_middle(update: Update, context: BotContext) -> None:
    await respond(update, context, context.texts("broadcast.in_progress"), edit=False)


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
    buttons = []
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


def handlers() -> list[BaseHandler]:
    content = (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.ALL
    not_command = ~filters.COMMAND
    conversation = ConversationHandler(
        entry_points=[CommandHandler("broadcast", begin)],  # type: ignore[arg-type]
        states={
            STEP_COMPOSE: [
                MessageHandler(content, receive_content),
                MessageHandler(not_command, bad_content),
            ],
            STEP_AUDIENCE: [
                CallbackQueryHandler(choose_audience, pattern=BroadcastAudience.filter()),
                *(
                    CallbackQueryHandler(street_pages, pattern=StreetPage.filter(purpose=pick))
                    for pick in PICKS
                ),
                *(
                    CallbackQueryHandler(street_chosen, pattern=StreetStations.filter(purpose=pick))
                    for pick in STREET_PICKS
                ),
                CallbackQueryHandler(
                    station_pages, pattern=StreetStations.filter(purpose=STATION_PICK)
                ),
                CallbackQueryHandler(
                    station_chosen, pattern=StationPicked.filter(purpose=STATION_PICK)
                ),
                MessageHandler(not_command, use_buttons),
            ],
            STEP_PREVIEW: [
                CallbackQueryHandler(confirm, pattern=BroadcastConfirm.filter()),
                CallbackQueryHandler(change_audience, pattern=BroadcastChangeAudience.filter()),
                MessageHandler(not_command, use_buttons),
            ],
        },  # type: ignore[dict-item]
        fallbacks=[
            CommandHandler("cancel", discard),  # type: ignore[arg-type]
            CallbackQueryHandler(discard, pattern=BroadcastDiscard.filter()),  # type: ignore[arg-type]
            MessageHandler(filters.COMMAND, command_in_middle),  # type: ignore[arg-type]
        ],
        name=CONVERSATION,
        persistent=True,
    )
    return [
        conversation,
        CallbackQueryHandler(confirmed_already, pattern=BroadcastConfirm.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(control, pattern=BroadcastControl.filter()),  # type: ignore[arg-type]
        CommandHandler("broadcasts", list_command),  # type: ignore[arg-type]
        CallbackQueryHandler(list_page, pattern=BroadcastListPage.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(list_control, pattern=BroadcastListControl.filter()),  # type: ignore[arg-type]
    ]
