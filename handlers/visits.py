"""/visit: log what a deputy did with voters (履职记录): kind → date → station → voters met →
opinions received → things done → notes → photos, saved at the end. The "log this visit?"
button of a duty turn (VisitFromTurn) asks only the two numbers. /visits: the deputy's own
log, newest first, with edit and delete for EDIT_DAYS days. Buttons: bot.runtime.buttons.visits.

Every step stores the draft and the next step in the database before answering, so a
restart resumes where the deputy was (see VisitService.save)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
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
from bot.i18n import Texts
from bot.runtime.buttons import (
    ButtonFilter,
    Picker,
    StationPicked,
    StreetPage,
    StreetStations,
    any_of,
)
from bot.runtime.buttons.visits import (
    DateChoice,
    PhotosAction,
    StationChoice,
    TextStep,
    VisitCancel,
    VisitDate,
    VisitDelete,
    VisitDeleteConfirmed,
    VisitEditField,
    VisitEditMenu,
    VisitFromTurn,
    VisitKindChosen,
    VisitListPage,
    VisitOpen,
    VisitPhotos,
    VisitSkip,
    VisitStation,
)
from bot.runtime.context import BotContext
from bot.services.visits import (
    CONVERSATION,
    EDIT_DAYS,
    FIELDS,
    KIND_LABELS,
    KINDS,
    MAX_COUNT,
    MAX_PHOTOS,
    TEXT_MAX,
    VisitDraft,
    VisitField,
    parse_count,
    visit_date,
    visit_text,
)
from handlers.common import answer_tap, guarded, respond, show_error
from handlers.keyboards import (
    button,
    paged,
    picker_handlers,
    rows_of,
    station_picker,
    street_picker,
)
from storage.models import Visit

KIND, DATE, DATE_TYPED, STATION, VOTERS, OPINIONS, DONE, NOTES, PHOTOS = (
    "kind",
    "date",
    "date_typed",
    "station",
    "voters",
    "opinions",
    "done",
    "notes",
    "photos",
)
END = ConversationHandler.END
PER_PAGE = 5
PICK = Picker.VISIT
# The step where each editable field is entered again.
FIELD_STEPS = {
    VisitField.KIND: KIND,
    VisitField.DATE: DATE,
    VisitField.STATION: STATION,
    VisitField.VOTERS: VOTERS,
    VisitField.OPINIONS: OPINIONS,
    VisitField.DONE: DONE,
    VisitField.NOTES: NOTES,
    VisitField.PHOTOS: PHOTOS,
}
TEXT_STEPS = {TextStep.DONE: DONE, TextStep.NOTES: NOTES}
# Errors after which an edit cannot go on: the visit is gone or too old.
EDIT_ENDED = ("visit.too_late", "error.not_your_record", "visit.no_draft")


def _ids(update: Update) -> tuple[int, int]:
    assert update.effective_user is not None and update.effective_chat is not None
    return update.effective_user.id, update.effective_chat.id


async def _save(update: Update, context: BotContext, draft: VisitDraft, step: str) -> str:
    user_id, chat_id = _ids(update)
    await context.services.visits.save(user_id, chat_id, draft, step)
    return step


async def _draft(update: Update, context: BotContext) -> VisitDraft:
    user_id, _ = _ids(update)
    return await context.services.visits.draft(user_id)


def _day(texts: Texts, value: date) -> str:
    """A calendar date in the locale's format (Texts formats instants; noon is that day)."""
    return texts.date(datetime.combine(value, time(12), tzinfo=texts.zone))


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [button(context.texts("visit.cancel_button"), VisitCancel())]


async def _station_name(context: BotContext, station_id: int | None) -> str:
    station = await context.services.visits.station(station_id)
    return station.name if station is not None else context.texts("visit.no_station")


async def _current(context: BotContext, draft: VisitDraft, field: str) -> str:
    """The line that shows the value being edited, or nothing when not editing."""
    if draft.editing is None or draft.field != field:
        return ""
    texts = context.texts
    values = {
        "kind": lambda: texts(KIND_LABELS.get(draft.kind or "", "visit.kind_other")),
        "date": lambda: _day(texts, draft.visit_date) if draft.visit_date else "—",
        "voters": lambda: texts.number(draft.voters_met or 0),
        "opinions": lambda: texts.number(draft.opinions_received or 0),
        "done": lambda: escape(draft.done_for_voters or "—"),
        "notes": lambda: escape(draft.notes or "—"),
    }
    if field == "station":
        value = escape(await _station_name(context, draft.station_id))
    elif field in values:
        value = values[field]()
    else:
        return ""
    return "\n" + texts("visit.current_value", value=value)


# --- prompts -----------------------------------------------------------------------------


async def ask_kind(update: Update, context: BotContext, draft: VisitDraft) -> None:
    texts = context.texts
    buttons = [button(texts(label), VisitKindChosen(kind=code)) for code, label in KINDS]
    markup = InlineKeyboardMarkup([*rows_of(buttons, 2), _cancel_row(context)])
    text = texts("visit.ask_kind") + await _current(context, draft, "kind")
    await respond(update, context, text, markup)


async def ask_date(update: Update, context: BotContext, draft: VisitDraft) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(texts("visit.today"), VisitDate(choice=DateChoice.TODAY)),
                button(texts("visit.yesterday"), VisitDate(choice=DateChoice.YESTERDAY)),
            ],
            [button(texts("visit.other_date"), VisitDate(choice=DateChoice.OTHER))],
            _cancel_row(context),
        ]
    )
    text = texts("visit.ask_date") + await _current(context, draft, "date")
    await respond(update, context, text, markup)


async def ask_date_typed(update: Update, context: BotContext) -> None:
    today = context.services.visits.today()
    markup = InlineKeyboardMarkup([_cancel_row(context)])
    text = context.texts("visit.ask_date_typed", example=today.isoformat())
    await respond(update, context, text, markup)


async def _station_rows(context: BotContext) -> list[list[InlineKeyboardButton]]:
    texts = context.texts
    deputy = await context.services.visits.deputy(context.user)
    own = await context.services.visits.station(deputy.station_id)
    rows = []
    if own is not None:
        own_button = VisitStation(choice=StationChoice.OWN)
        rows.append([button(texts("visit.own_station", station=own.name), own_button)])
    return rows


async def ask_station(update: Update, context: BotContext, draft: VisitDraft) -> None:
    texts = context.texts
    picker = await street_picker(context.services, texts, PICK, 0)
    markup = InlineKeyboardMarkup(
        [
            *await _station_rows(context),
            *picker.inline_keyboard,
            [button(texts("visit.no_station"), VisitStation(choice=StationChoice.NONE))],
            _cancel_row(context),
        ]
    )
    text = texts("visit.ask_station") + await _current(context, draft, "station")
    await respond(update, context, text, markup)


async def ask_count(update: Update, context: BotContext, draft: VisitDraft, step: str) -> None:
    texts = context.texts
    key = "visit.ask_voters" if step == VOTERS else "visit.ask_opinions"
    markup = InlineKeyboardMarkup([_cancel_row(context)])
    text = texts(key, maximum=MAX_COUNT) + await _current(context, draft, step)
    await respond(update, context, text, markup)


async def ask_text(update: Update, context: BotContext, draft: VisitDraft, step: str) -> None:
    texts = context.texts
    key = "visit.ask_done" if step == DONE else "visit.ask_notes"
    skip = "visit.clear" if draft.editing is not None else "visit.skip"
    skip_button = VisitSkip(step=TextStep(step))
    markup = InlineKeyboardMarkup([[button(texts(skip), skip_button)], _cancel_row(context)])
    text = texts(key, maximum=TEXT_MAX) + await _current(context, draft, step)
    await respond(update, context, text, markup)


async def ask_photos(update: Update, context: BotContext, draft: VisitDraft) -> None:
    texts = context.texts
    count = len(draft.photos)
    rows = []
    if draft.editing is not None:
        key = "visit.edit_photos"
        rows.append([button(texts("visit.done"), VisitPhotos(action=PhotosAction.DONE))])
        if count:
            clear = VisitPhotos(action=PhotosAction.CLEAR)
            rows.append([button(texts("visit.photos_clear"), clear)])
    else:
        key = "visit.photo_received" if count else "visit.ask_photos"
        label = "visit.done" if count else "visit.skip"
        rows.append([button(texts(label), VisitPhotos(action=PhotosAction.DONE))])
    rows.append(_cancel_row(context))
    await respond(
        update,
        context,
        texts(key, count=count, maximum=MAX_PHOTOS),
        InlineKeyboardMarkup(rows),
        edit=update.callback_query is not None,
    )


async def prompt(update: Update, context: BotContext, draft: VisitDraft, step: str) -> None:
    if step == KIND:
        await ask_kind(update, context, draft)
    elif step == DATE:
        await ask_date(update, context, draft)
    elif step == DATE_TYPED:
        await ask_date_typed(update, context)
    elif step == STATION:
        await ask_station(update, context, draft)
    elif step in (VOTERS, OPINIONS):
        await ask_count(update, context, draft, step)
    elif step in (DONE, NOTES):
        await ask_text(update, context, draft, step)
    else:
        await ask_photos(update, context, draft)


# --- the saved visit ---------------------------------------------------------------------


async def render_card(context: BotContext, visit: Visit) -> str:
    texts = context.texts
    return texts(
        "visit.card",
        kind=texts(KIND_LABELS.get(visit.kind, "visit.kind_other")),
        date=_day(texts, visit.visit_date),
        station=escape(await _station_name(context, visit.station_id)),
        voters=texts.number(visit.voters_met),
        opinions=texts.number(visit.opinions_received),
        done=escape(visit.done_for_voters) or "—",
        notes=escape(visit.notes) or "—",
        photos=texts.number(len(visit.photos)),
        created=texts.datetime(visit.created_at),
    )


def card_markup(context: BotContext, visit: Visit, page: int) -> InlineKeyboardMarkup:
    texts = context.texts
    rows = []
    if context.services.visits.may_change(context.user, visit):
        rows.append(
            [
                button(texts("visit.edit"), VisitEditMenu(visit=visit.id, page=page)),
                button(texts("visit.delete"), VisitDelete(visit=visit.id, page=page)),
            ]
        )
    rows.append([button(texts("visits.back_to_list"), VisitListPage(page=page))])
    return InlineKeyboardMarkup(rows)


async def show_card(
    update: Update, context: BotContext, visit: Visit, page: int, head: str = "", *, edit: bool
) -> None:
    text = (head + "\n\n" if head else "") + await render_card(context, visit)
    await respond(update, context, text, card_markup(context, visit, page), edit=edit)


async def _finish(update: Update, context: BotContext, draft: VisitDraft) -> int:
    """Save the new visit (or the edited field) and show it."""
    user_id, chat_id = _ids(update)
    visits = context.services.visits
    texts = context.texts
    try:
        if draft.editing is not None:
            visit = await visits.save_edit(context.user, chat_id, draft)
            head = texts("visit.updated")
        else:
            visit = await visits.submit(context.user, chat_id)
            saved = "visit.saved_from_turn" if visit.turn_id else "visit.saved"
            head = texts(saved)
    except DomainError as error:
        if error.key in EDIT_ENDED or error.key == "visit.turn_already_logged":
            await visits.discard(user_id, chat_id)
            await show_error(update, context, error)
            return END
        raise
    await answer_tap(update)
    await show_card(update, context, visit, 0, head, edit=update.callback_query is not None)
    return END


async def _next(update: Update, context: BotContext, draft: VisitDraft, step: str) -> str | int:
    """Go on to `step`; when a saved visit's field was being edited, save it instead."""
    if draft.editing is not None:
        return await _finish(update, context, draft)
    await _save(update, context, draft, step)
    await answer_tap(update)
    await prompt(update, context, draft, step)
    return step


# --- entry points ------------------------------------------------------------------------


@guarded(Action.LOG_VISIT)
async def begin(update: Update, context: BotContext) -> str:
    _, chat_id = _ids(update)
    draft = await context.services.visits.begin(context.user, chat_id, KIND)
    await ask_kind(update, context, draft)
    return KIND


@guarded(Action.LOG_VISIT)
async def log_turn(update: Update, context: BotContext) -> str:
    """The "log this visit?" button after a duty turn: one tap, then the two numbers."""
    turn_id = VisitFromTurn.of(update).turn
    _, chat_id = _ids(update)
    draft, turn = await context.services.visits.begin_from_turn(
        context.user, chat_id, turn_id, VOTERS
    )
    await answer_tap(update)
    texts = context.texts
    assert draft.kind is not None and draft.visit_date is not None
    intro = texts(
        "visit.from_turn",
        kind=texts(KIND_LABELS[draft.kind]),
        date=_day(texts, draft.visit_date),
        station=escape(await _station_name(context, turn.station_id)),
    )
    question = texts("visit.ask_voters", maximum=MAX_COUNT)
    markup = InlineKeyboardMarkup([_cancel_row(context)])
    await respond(update, context, intro + "\n" + question, markup, edit=False)
    return VOTERS


@guarded(Action.LOG_VISIT)
async def edit_field(update: Update, context: BotContext) -> str:
    tapped = VisitEditField.of(update)
    _, chat_id = _ids(update)
    step = FIELD_STEPS[tapped.field]
    draft = await context.services.visits.begin_edit(
        context.user, chat_id, tapped.visit, tapped.field.value, step
    )
    await answer_tap(update)
    await prompt(update, context, draft, step)
    return step


# --- steps -------------------------------------------------------------------------------


@guarded(Action.LOG_VISIT)
async def choose_kind(update: Update, context: BotContext) -> str | int:
    kind = VisitKindChosen.of(update).kind
    draft = await _draft(update, context)
    draft.kind = kind.value
    return await _next(update, context, draft, DATE)


@guarded(Action.LOG_VISIT)
async def choose_date(update: Update, context: BotContext) -> str | int:
    choice = VisitDate.of(update).choice
    draft = await _draft(update, context)
    if choice == DateChoice.OTHER:
        await _save(update, context, draft, DATE_TYPED)
        await answer_tap(update)
        await ask_date_typed(update, context)
        return DATE_TYPED
    today = context.services.visits.today()
    draft.visit_date = today if choice == DateChoice.TODAY else today - timedelta(days=1)
    return await _next(update, context, draft, STATION)


@guarded(Action.LOG_VISIT)
async def receive_date(update: Update, context: BotContext) -> str | int:
    assert update.effective_message is not None
    value = visit_date(update.effective_message.text, context.services.visits.today())
    draft = await _draft(update, context)
    draft.visit_date = value
    return await _next(update, context, draft, STATION)


@guarded(Action.LOG_VISIT)
async def choose_own_or_no_station(update: Update, context: BotContext) -> str | int:
    choice = VisitStation.of(update).choice
    station_id: int | None = None
    if choice == StationChoice.OWN:
        station_id = (await context.services.visits.deputy(context.user)).station_id
    draft = await _draft(update, context)
    draft.station_id = station_id
    return await _next(update, context, draft, VOTERS)


@guarded(Action.LOG_VISIT)
async def street_page(update: Update, context: BotContext) -> None:
    page = StreetPage.of(update).page
    texts = context.texts
    picker = await street_picker(context.services, texts, PICK, page)
    markup = InlineKeyboardMarkup(
        [
            *await _station_rows(context),
            *picker.inline_keyboard,
            [button(texts("visit.no_station"), VisitStation(choice=StationChoice.NONE))],
            _cancel_row(context),
        ]
    )
    await answer_tap(update)
    await respond(update, context, texts("visit.ask_station"), markup)


@guarded(Action.LOG_VISIT)
async def station_page(update: Update, context: BotContext) -> None:
    tapped = StreetStations.of(update)
    street = await context.services.stations.street(tapped.street)
    picker = await station_picker(context.services, context.texts, PICK, street.id, tapped.page)
    markup = InlineKeyboardMarkup([*picker.inline_keyboard, _cancel_row(context)])
    await answer_tap(update)
    text = context.texts("visit.ask_station_of", street=escape(street.name))
    await respond(update, context, text, markup)


@guarded(Action.LOG_VISIT)
async def pick_station(update: Update, context: BotContext) -> str | int:
    station_id = await context.services.visits.check_station(StationPicked.of(update).station)
    draft = await _draft(update, context)
    draft.station_id = station_id
    return await _next(update, context, draft, VOTERS)


@guarded(Action.LOG_VISIT)
async def receive_voters(update: Update, context: BotContext) -> str | int:
    assert update.effective_message is not None
    value = parse_count(update.effective_message.text)
    draft = await _draft(update, context)
    draft.voters_met = value
    return await _next(update, context, draft, OPINIONS)


@guarded(Action.LOG_VISIT)
async def receive_opinions(update: Update, context: BotContext) -> str | int:
    assert update.effective_message is not None
    value = parse_count(update.effective_message.text)
    draft = await _draft(update, context)
    draft.opinions_received = value
    if draft.turn_id is not None and draft.editing is None:
        # From the turn's prompt: the two numbers are all that is asked.
        await _save(update, context, draft, OPINIONS)
        return await _finish(update, context, draft)
    return await _next(update, context, draft, DONE)


async def _set_text(update: Update, context: BotContext, step: str, value: str) -> str | int:
    draft = await _draft(update, context)
    if step == DONE:
        draft.done_for_voters = value
        return await _next(update, context, draft, NOTES)
    draft.notes = value
    return await _next(update, context, draft, PHOTOS)


@guarded(Action.LOG_VISIT)
async def receive_done(update: Update, context: BotContext) -> str | int:
    assert update.effective_message is not None
    return await _set_text(update, context, DONE, visit_text(update.effective_message.text))


@guarded(Action.LOG_VISIT)
async def receive_notes(update: Update, context: BotContext) -> str | int:
    assert update.effective_message is not None
    return await _set_text(update, context, NOTES, visit_text(update.effective_message.text))


@guarded(Action.LOG_VISIT)
async def skip_text(update: Update, context: BotContext) -> str | int:
    """Skip (or, editing, clear) the text step the button belongs to."""
    return await _set_text(update, context, TEXT_STEPS[VisitSkip.of(update).step], "")


@guarded(Action.LOG_VISIT)
async def receive_photo(update: Update, context: BotContext) -> str:
    message = update.effective_message
    assert message is not None and message.photo
    draft = await _draft(update, context)
    if len(draft.photos) >= MAX_PHOTOS:
        raise DomainError("visit.too_many_photos", maximum=MAX_PHOTOS)
    draft.photos.append(message.photo[-1].file_id)
    await _save(update, context, draft, PHOTOS)
    await ask_photos(update, context, draft)
    return PHOTOS


@guarded(Action.LOG_VISIT)
async def clear_photos(update: Update, context: BotContext) -> str:
    draft = await _draft(update, context)
    draft.photos = []
    await _save(update, context, draft, PHOTOS)
    await answer_tap(update)
    await ask_photos(update, context, draft)
    return PHOTOS


@guarded(Action.LOG_VISIT)
async def photos_done(update: Update, context: BotContext) -> int:
    draft = await _draft(update, context)
    return await _finish(update, context, draft)


async def cancel(update: Update, context: BotContext) -> int:
    user_id, chat_id = _ids(update)
    draft = await context.services.visits.draft(user_id)
    await context.services.visits.discard(user_id, chat_id)
    await answer_tap(update)
    key = "visit.edit_cancelled" if draft.editing is not None else "visit.cancelled"
    await respond(update, context, context.texts(key))
    return END


# --- bad input ---------------------------------------------------------------------------

BAD_INPUT = {
    KIND: "visit.bad_kind",
    DATE: "visit.bad_date",
    DATE_TYPED: "visit.bad_date_typed",
    STATION: "visit.bad_station",
    VOTERS: "visit.bad_count",
    OPINIONS: "visit.bad_count",
    DONE: "visit.bad_text",
    NOTES: "visit.bad_text",
    PHOTOS: "visit.bad_photo",
}


def bad_input(step: str):
    async def reply(update: Update, context: BotContext) -> None:
        text = context.texts(BAD_INPUT[step], maximum=MAX_COUNT)
        await respond(update, context, text, edit=False)
        return None

    return reply


async def command_in_middle(update: Update, context: BotContext) -> None:
    await respond(update, context, context.texts("visit.in_progress"), edit=False)


async def busy(update: Update, context: BotContext) -> None:
    """A log prompt or an edit tapped while another visit is being written."""
    assert update.callback_query is not None
    await update.callback_query.answer(context.texts("visit.in_progress"), show_alert=True)


async def stale_button(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(context.texts("error.stale_button"), show_alert=True)


# --- /visits -----------------------------------------------------------------------------


async def show_page(update: Update, context: BotContext, page: int, head: str = "") -> None:
    texts = context.texts
    result = await context.services.visits.mine(context.user, page, PER_PAGE)
    prefix = head + "\n\n" if head else ""
    if not result.items:
        await respond(update, context, prefix + texts("visits.empty"))
        return
    buttons = [
        button(
            texts(
                "visits.item",
                date=_day(texts, visit.visit_date),
                kind=texts(KIND_LABELS.get(visit.kind, "visit.kind_other")),
                voters=texts.number(visit.voters_met),
            ),
            VisitOpen(visit=visit.id, page=result.page),
        )
        for visit in result.items
    ]
    markup = paged(buttons, result.page, result.pages, lambda p: VisitListPage(page=p), texts)
    await respond(update, context, prefix + texts("visits.title"), markup)


@guarded(Action.LOG_VISIT)
async def visits_command(update: Update, context: BotContext) -> None:
    await show_page(update, context, 0)


@guarded(Action.LOG_VISIT)
async def list_page(update: Update, context: BotContext) -> None:
    page = VisitListPage.of(update).page
    await answer_tap(update)
    await show_page(update, context, page)


@guarded(Action.LOG_VISIT)
async def open_visit(update: Update, context: BotContext) -> None:
    tapped = VisitOpen.of(update)
    visit = await context.services.visits.detail(context.user, tapped.visit)
    await answer_tap(update)
    await show_card(update, context, visit, tapped.page, edit=True)


@guarded(Action.LOG_VISIT)
async def edit_menu(update: Update, context: BotContext) -> None:
    tapped = VisitEditMenu.of(update)
    visit = await context.services.visits.changeable(context.user, tapped.visit)
    await answer_tap(update)
    texts = context.texts
    buttons = [
        button(texts(label), VisitEditField(visit=visit.id, field=field))
        for field, label, _ in FIELDS
    ]
    back = VisitOpen(visit=visit.id, page=tapped.page)
    markup = InlineKeyboardMarkup([*rows_of(buttons, 2), [button(texts("nav.back"), back)]])
    await respond(update, context, texts("visit.edit_which", days=EDIT_DAYS), markup)


@guarded(Action.LOG_VISIT)
async def ask_delete(update: Update, context: BotContext) -> None:
    tapped = VisitDelete.of(update)
    visit = await context.services.visits.changeable(context.user, tapped.visit)
    await answer_tap(update)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    texts("visit.delete_yes"),
                    VisitDeleteConfirmed(visit=visit.id, page=tapped.page),
                ),
                button(texts("visit.delete_no"), VisitOpen(visit=visit.id, page=tapped.page)),
            ]
        ]
    )
    text = texts("visit.confirm_delete") + "\n\n" + await render_card(context, visit)
    await respond(update, context, text, markup)


@guarded(Action.LOG_VISIT)
async def confirm_delete(update: Update, context: BotContext) -> None:
    tapped = VisitDeleteConfirmed.of(update)
    await context.services.visits.delete(context.user, tapped.visit)
    await answer_tap(update)
    await show_page(update, context, tapped.page, context.texts("visit.deleted"))


def handlers() -> list[BaseHandler]:
    def others(step: str) -> MessageHandler:
        return MessageHandler(~filters.COMMAND, bad_input(step))  # type: ignore[arg-type]

    text = filters.TEXT & ~filters.COMMAND
    conversation = ConversationHandler(
        entry_points=[
            CommandHandler("visit", begin),  # type: ignore[arg-type]
            CallbackQueryHandler(log_turn, pattern=VisitFromTurn.filter()),
            CallbackQueryHandler(edit_field, pattern=VisitEditField.filter()),
        ],
        states={
            KIND: [
                CallbackQueryHandler(choose_kind, pattern=VisitKindChosen.filter()),
                others(KIND),
            ],
            DATE: [
                CallbackQueryHandler(choose_date, pattern=VisitDate.filter()),
                MessageHandler(text, receive_date),  # type: ignore[arg-type]
                others(DATE),
            ],
            DATE_TYPED: [
                MessageHandler(text, receive_date),  # type: ignore[arg-type]
                others(DATE_TYPED),
            ],
            STATION: [
                CallbackQueryHandler(choose_own_or_no_station, pattern=VisitStation.filter()),
                *picker_handlers(PICK, street_page, station_page, pick_station),
                others(STATION),
            ],
            VOTERS: [MessageHandler(text, receive_voters), others(VOTERS)],  # type: ignore[arg-type]
            OPINIONS: [MessageHandler(text, receive_opinions), others(OPINIONS)],  # type: ignore[arg-type]
            DONE: [
                MessageHandler(text, receive_done),  # type: ignore[arg-type]
                CallbackQueryHandler(skip_text, pattern=VisitSkip.filter(step=TextStep.DONE)),
                others(DONE),
            ],
            NOTES: [
                MessageHandler(text, receive_notes),  # type: ignore[arg-type]
                CallbackQueryHandler(skip_text, pattern=VisitSkip.filter(step=TextStep.NOTES)),
                others(NOTES),
            ],
            PHOTOS: [
                MessageHandler(filters.PHOTO, receive_photo),  # type: ignore[arg-type]
                CallbackQueryHandler(
                    photos_done, pattern=VisitPhotos.filter(action=PhotosAction.DONE)
                ),
                CallbackQueryHandler(
                    clear_photos, pattern=VisitPhotos.filter(action=PhotosAction.CLEAR)
                ),
                others(PHOTOS),
            ],
        },  # type: ignore[dict-item]
        fallbacks=[
            CommandHandler("cancel", cancel),  # type: ignore[arg-type]
            CallbackQueryHandler(cancel, pattern=VisitCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),  # type: ignore[arg-type]
            CallbackQueryHandler(busy, pattern=any_of(VisitFromTurn, VisitEditField)),
            # buttons of a step the deputy has left: refused as stale, the step stays
            CallbackQueryHandler(
                stale_button,
                pattern=any_of(VisitKindChosen, VisitDate, VisitStation, VisitSkip, VisitPhotos),
            ),
            CallbackQueryHandler(
                stale_button,
                pattern=ButtonFilter(
                    (StreetPage, StreetStations, StationPicked), {"purpose": PICK}
                ),
            ),
        ],
        name=CONVERSATION,
        persistent=True,
        allow_reentry=False,
    )
    return [
        conversation,
        CommandHandler("visits", visits_command),  # type: ignore[arg-type]
        CallbackQueryHandler(list_page, pattern=VisitListPage.filter()),
        CallbackQueryHandler(open_visit, pattern=VisitOpen.filter()),
        CallbackQueryHandler(edit_menu, pattern=VisitEditMenu.filter()),
        CallbackQueryHandler(ask_delete, pattern=VisitDelete.filter()),
        CallbackQueryHandler(confirm_delete, pattern=VisitDeleteConfirmed.filter()),
    ]
