"""/broadcast for staff: compose → audience → preview with the exact count → confirm, then a
progress message with Pause, Resume and Cancel; /broadcasts lists past ones."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
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
from bot.runtime.context import BotContext
from bot.runtime.progress import STATE_LABELS, progress_view
from bot.services.broadcasts import (
    CONVERSATION,
    STEP_AUDIENCE,
    STEP_COMPOSE,
    STEP_PREVIEW,
    BroadcastDraft,
)
from handlers.common import answer_tap, callback_args, chat_id_of, guarded, int_arg, respond
from handlers.keyboards import button, paged, station_picker, street_picker
from storage.models import Audience, BroadcastState

END = ConversationHandler.END
AUDIENCE_LABELS = {a: f"audience.{a.value}" for a in Audience}
# choosing the street of a street-wide audience; the prefix says whose
STREET_PICKS = {"bzv": Audience.VOTERS_OF_STREET, "bzd": Audience.DEPUTIES_OF_STREET}
STREET_PREFIX = {audience: prefix for prefix, audience in STREET_PICKS.items()}
STATION_PICK = "bcs"  # choosing the station of a station audience
PER_PAGE = 5


def _audience_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    texts = context.texts
    rows = [[button(texts(label), f"bc:aud:{a.value}")] for a, label in AUDIENCE_LABELS.items()]
    rows.append([button(texts("broadcast.discard"), "bc:discard")])
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
    (raw,) = callback_args(update, "bc:aud", 1)
    try:
        audience = Audience(raw)
    except ValueError:
        raise DomainError("error.stale_button") from None
    await answer_tap(update)
    texts = context.texts
    if audience in STREET_PREFIX:
        markup = await street_picker(context.services, texts, STREET_PREFIX[audience], 0)
        await respond(update, context, texts("broadcast.pick_street"), markup)
        return STEP_AUDIENCE
    if audience == Audience.VOTERS_OF_STATION:
        markup = await street_picker(context.services, texts, STATION_PICK, 0)
        await respond(update, context, texts("broadcast.pick_station"), markup)
        return STEP_AUDIENCE
    return await _preview(update, context, audience, None)


@guarded(Action.BROADCAST)
async def street_pages(update: Update, context: BotContext) -> str:
    """Paging through streets, for either picker."""
    data = str(update.callback_query.data if update.callback_query else "")
    prefix = data.split(":", 1)[0]
    (raw,) = callback_args(update, f"{prefix}:z", 1)
    page = int_arg(raw)
    await answer_tap(update)
    markup = await street_picker(context.services, context.texts, prefix, page)
    key = "broadcast.pick_street" if prefix in STREET_PICKS else "broadcast.pick_station"
    await respond(update, context, context.texts(key), markup)
    return STEP_AUDIENCE


@guarded(Action.BROADCAST)
async def street_chosen(update: Update, context: BotContext) -> str | None:
    data = str(update.callback_query.data if update.callback_query else "")
    prefix = data.split(":", 1)[0]
    street_id, _ = (int_arg(a) for a in callback_args(update, f"{prefix}:s", 2))
    audience = STREET_PICKS[prefix]
    await answer_tap(update)
    return await _preview(update, context, audience, street_id)


@guarded(Action.BROADCAST)
async def station_pages(update: Update, context: BotContext) -> str:
    street_id, page = (int_arg(a) for a in callback_args(update, f"{STATION_PICK}:s", 2))
    await context.services.stations.street(street_id)
    await answer_tap(update)
    markup = await station_picker(context.services, context.texts, STATION_PICK, street_id, page)
    await respond(update, context, context.texts("broadcast.pick_station"), markup)
    return STEP_AUDIENCE


@guarded(Action.BROADCAST)
async def station_chosen(update: Update, context: BotContext) -> str | None:
    (station_id,) = callback_args(update, f"{STATION_PICK}:p", 1)
    await answer_tap(update)
    return await _preview(update, context, Audience.VOTERS_OF_STATION, int_arg(station_id))


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
            [button(texts("broadcast.confirm"), "bc:confirm")],
            [
                button(texts("broadcast.change_audience"), "bc:audience"),
                button(texts("broadcast.discard"), "bc:discard"),
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
    services = context.services
    broadcast = await services.broadcasts.confirm(context.user, chat_id_of(update))
    await answer_tap(update)
    counts = await services.broadcasts.counts(broadcast.id)
    text, markup = progress_view(context.texts, broadcast, counts, services.settings.outbox_rate)
    message = await respond(update, context, text, markup)
    if message is not None:
        await services.broadcasts.track_progress(broadcast.id, message.chat_id, message.message_id)
    return END


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

CONTROL = {
    "pause": BroadcastState.PAUSED,
    "resume": BroadcastState.RUNNING,
    "cancel": BroadcastState.CANCELLED,
}


@guarded(Action.BROADCAST)
async def control(update: Update, context: BotContext) -> None:
    action, raw_id = callback_args(update, "bc", 2)
    if action not in CONTROL:
        raise DomainError("error.stale_button")
    services = context.services
    broadcast = await services.broadcasts.set_state(context.user, int_arg(raw_id), CONTROL[action])
    await answer_tap(update)
    counts = await services.broadcasts.counts(broadcast.id)
    text, markup = progress_view(context.texts, broadcast, counts, services.settings.outbox_rate)
    await respond(update, context, text, markup)


async def show_list(update: Update, context: BotContext, page: int) -> None:
    texts = context.texts
    result = await context.services.broadcasts.recent(context.user, page, PER_PAGE)
    if not result.items:
        await respond(update, context, texts("broadcast.list_empty"))
        return
    lines = [texts("broadcast.list_title")]
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
    markup = paged([], result.page, result.pages, lambda p: f"bcl:{p}", texts)
    await respond(update, context, "\n\n".join(lines), markup)


@guarded(Action.BROADCAST)
async def list_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, 0)


@guarded(Action.BROADCAST)
async def list_page(update: Update, context: BotContext) -> None:
    (page,) = callback_args(update, "bcl", 1)
    await answer_tap(update)
    await show_list(update, context, int_arg(page))


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
                CallbackQueryHandler(choose_audience, pattern=r"^bc:aud:"),
                CallbackQueryHandler(street_pages, pattern=r"^(bzv|bzd|bcs):z:"),
                CallbackQueryHandler(street_chosen, pattern=r"^(bzv|bzd):s:"),
                CallbackQueryHandler(station_pages, pattern=rf"^{STATION_PICK}:s:"),
                CallbackQueryHandler(station_chosen, pattern=rf"^{STATION_PICK}:p:"),
                MessageHandler(not_command, use_buttons),
            ],
            STEP_PREVIEW: [
                CallbackQueryHandler(confirm, pattern=r"^bc:confirm$"),
                CallbackQueryHandler(change_audience, pattern=r"^bc:audience$"),
                MessageHandler(not_command, use_buttons),
            ],
        },  # type: ignore[dict-item]
        fallbacks=[
            CommandHandler("cancel", discard),  # type: ignore[arg-type]
            CallbackQueryHandler(discard, pattern=r"^bc:discard$"),  # type: ignore[arg-type]
            MessageHandler(filters.COMMAND, command_in_middle),  # type: ignore[arg-type]
        ],
        name=CONVERSATION,
        persistent=True,
    )
    return [
        conversation,
        CallbackQueryHandler(control, pattern=r"^bc:(pause|resume|cancel):"),  # type: ignore[arg-type]
        CommandHandler("broadcasts", list_command),  # type: ignore[arg-type]
        CallbackQueryHandler(list_page, pattern=r"^bcl:"),  # type: ignore[arg-type]
    ]
