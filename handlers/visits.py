"""/visit: log what a deputy did with voters (履职记录): kind → date → station → voters met →
opinions received → things done → notes → photos, saved at the end. The "log this visit?"
button of a duty turn (VisitFromTurn) asks only the two numbers. /visits: the deputy's own
log, newest first, with edit and delete for EDIT_DAYS days. Buttons: bot.runtime.buttons.visits.

Every step stores the typed draft and the next step (bot.services.visits.VISIT) in the
database before answering, so a restart resumes where the deputy was (see VisitService.save);
a draft that can no longer be read ends the conversation with a word (see `_end`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from html import escape
from typing import NoReturn

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import Picker, any_of
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
from bot.runtime.conversation import DeclaredConversation
from bot.services.visits import (
    EDIT_DAYS,
    FIELDS,
    KIND_LABELS,
    KINDS,
    MAX_COUNT,
    MAX_PHOTOS,
    TEXT_MAX,
    VISIT,
    VisitDraft,
    VisitField,
    VisitStep,
    parse_count,
    visit_date,
    visit_text,
)
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
    sender_of,
    show_error,
)
from handlers.keyboards import button, paged, rows_of
from handlers.station_picker import TYPE_A_NAME, Rows, StationPicker, View
from storage.models import Visit

Step = VisitStep
END = DeclaredConversation.END
PER_PAGE = 5
TEXT_STEPS = {TextStep.DONE: Step.DONE, TextStep.NOTES: Step.NOTES}
# Errors after which the visit cannot go on: an edited visit gone or too old, a turn logged
# meanwhile.
ENDING = (
    "visit.too_late",
    "error.not_your_record",
    "visit.no_draft",
    "visit.turn_already_logged",
)


def _ids(update: Update) -> tuple[int, int]:
    return sender_of(update).id, chat_id_of(update)


async def _save(update: Update, context: BotContext, draft: VisitDraft, step: Step) -> Step:
    user_id, chat_id = _ids(update)
    await context.services.visits.save(user_id, chat_id, draft, step)
    return step


async def _end(update: Update, context: BotContext, error: DomainError) -> NoReturn:
    """Drop the draft and the step, say why, and leave the conversation (in PTB's memory
    too: the state END travels with the stop, whichever handler or picker raised it)."""
    user_id, chat_id = _ids(update)
    await context.services.visits.discard(user_id, chat_id)
    await show_error(update, context, error)
    raise ApplicationHandlerStop(END) from error


async def _draft(update: Update, context: BotContext) -> VisitDraft:
    """The deputy's draft (one that can no longer be read ends /visit: see
    bot.runtime.conversation.DeclaredConversation)."""
    return await context.services.visits.draft(sender_of(update).id)


def _day(texts: Texts, value: date) -> str:
    """A calendar date in the locale's format (Texts formats instants; noon is that day)."""
    return texts.date(datetime.combine(value, time(12), tzinfo=texts.zone))


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [button(context.texts("visit.cancel_button"), VisitCancel())]


async def _station_name(context: BotContext, station_id: int | None) -> str:
    station = await context.services.visits.station(station_id)
    return station.name if station is not None else context.texts("visit.no_station")


async def _current(context: BotContext, draft: VisitDraft, field: VisitField) -> str:
    """The line that shows the value being edited, or nothing when not editing."""
    if draft.editing is None or draft.field != field:
        return ""
    texts = context.texts
    values = {
        VisitField.KIND: lambda: texts(KIND_LABELS.get(draft.kind or "", "visit.kind_other")),
        VisitField.DATE: lambda: _day(texts, draft.visit_date) if draft.visit_date else "—",
        VisitField.VOTERS: lambda: texts.number(draft.voters_met or 0),
        VisitField.OPINIONS: lambda: texts.number(draft.opinions_received or 0),
        VisitField.DONE: lambda: escape(draft.done_for_voters or "—"),
        VisitField.NOTES: lambda: escape(draft.notes or "—"),
    }
    if field == VisitField.STATION:
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
    text = texts("visit.ask_kind") + await _current(context, draft, VisitField.KIND)
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
    text = texts("visit.ask_date") + await _current(context, draft, VisitField.DATE)
    await respond(update, context, text, markup)


async def ask_date_typed(update: Update, context: BotContext) -> None:
    today = context.services.visits.today()
    markup = InlineKeyboardMarkup([_cancel_row(context)])
    text = context.texts("visit.ask_date_typed", example=today.isoformat())
    await respond(update, context, text, markup)


async def _own_station(context: BotContext, view: View) -> Rows:
    """Above the streets: the deputy's own station, one tap away."""
    if view != View.STREETS:
        return []
    deputy = await context.services.visits.deputy(context.user)
    own = await context.services.visits.station(deputy.station_id)
    if own is None:
        return []
    label = context.texts("visit.own_station", station=own.name)
    return [[button(label, VisitStation(choice=StationChoice.OWN))]]


async def _no_station_and_cancel(context: BotContext, view: View) -> Rows:
    """Below the streets: "not at a station"; below every view: cancel."""
    rows: Rows = []
    if view == View.STREETS:
        no_station = VisitStation(choice=StationChoice.NONE)
        rows.append([button(context.texts("visit.no_station"), no_station)])
    return [*rows, _cancel_row(context)]


async def _station_picked(update: Update, context: BotContext, station_id: int) -> Step | int:
    draft = await _draft(update, context)
    draft.station_id = station_id
    return await _next(update, context, draft, Step.VOTERS, answer=False)


PICKER = StationPicker(
    Picker.VISIT,
    Action.LOG_VISIT,
    _station_picked,
    "visit.ask_station",
    street_prompt="visit.ask_station_of",
    rows_above=_own_station,
    rows_below=_no_station_and_cancel,
    hint=TYPE_A_NAME,
)


async def ask_station(update: Update, context: BotContext, draft: VisitDraft) -> None:
    current = await _current(context, draft, VisitField.STATION)
    await PICKER.show(update, context, text=context.texts("visit.ask_station") + current)


async def ask_count(update: Update, context: BotContext, draft: VisitDraft, step: Step) -> None:
    texts = context.texts
    if step == Step.VOTERS:
        key, field = "visit.ask_voters", VisitField.VOTERS
    else:
        key, field = "visit.ask_opinions", VisitField.OPINIONS
    markup = InlineKeyboardMarkup([_cancel_row(context)])
    text = texts(key, maximum=MAX_COUNT) + await _current(context, draft, field)
    await respond(update, context, text, markup)


async def ask_text(update: Update, context: BotContext, draft: VisitDraft, step: Step) -> None:
    texts = context.texts
    if step == Step.DONE:
        key, field, text_step = "visit.ask_done", VisitField.DONE, TextStep.DONE
    else:
        key, field, text_step = "visit.ask_notes", VisitField.NOTES, TextStep.NOTES
    skip = "visit.clear" if draft.editing is not None else "visit.skip"
    markup = InlineKeyboardMarkup(
        [[button(texts(skip), VisitSkip(step=text_step))], _cancel_row(context)]
    )
    text = texts(key, maximum=TEXT_MAX) + await _current(context, draft, field)
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


async def prompt(update: Update, context: BotContext, draft: VisitDraft, step: Step) -> None:
    if step == Step.KIND:
        await ask_kind(update, context, draft)
    elif step == Step.DATE:
        await ask_date(update, context, draft)
    elif step == Step.DATE_TYPED:
        await ask_date_typed(update, context)
    elif step == Step.STATION:
        await ask_station(update, context, draft)
    elif step in (Step.VOTERS, Step.OPINIONS):
        await ask_count(update, context, draft, step)
    elif step in (Step.DONE, Step.NOTES):
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


async def _finish(
    update: Update, context: BotContext, draft: VisitDraft, *, answer: bool = True
) -> int:
    """Save the new visit (or the edited field) and show it; `answer` the tap (False: the
    station picker answers its own)."""
    _, chat_id = _ids(update)
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
        if error.key in ENDING:
            await _end(update, context, error)
        raise
    if answer:
        await answer_tap(update)
    await show_card(update, context, visit, 0, head, edit=update.callback_query is not None)
    return END


async def _next(
    update: Update, context: BotContext, draft: VisitDraft, step: Step, *, answer: bool = True
) -> Step | int:
    """Go on to `step`; when a saved visit's field was being edited, save it instead."""
    if draft.editing is not None:
        return await _finish(update, context, draft, answer=answer)
    await _save(update, context, draft, step)
    if answer:
        await answer_tap(update)
    await prompt(update, context, draft, step)
    return step


# --- entry points ------------------------------------------------------------------------


@guarded(Action.LOG_VISIT)
async def begin(update: Update, context: BotContext) -> Step:
    _, chat_id = _ids(update)
    draft = await context.services.visits.begin(context.user, chat_id)
    await ask_kind(update, context, draft)
    return Step.KIND


@guarded(Action.LOG_VISIT)
async def log_turn(update: Update, context: BotContext) -> Step:
    """The "log this visit?" button after a duty turn: one tap, then the two numbers."""
    turn_id = VisitFromTurn.of(update).turn
    _, chat_id = _ids(update)
    draft, turn = await context.services.visits.begin_from_turn(context.user, chat_id, turn_id)
    await answer_tap(update)
    texts = context.texts
    if draft.kind is None or draft.visit_date is None:
        raise RuntimeError("a turn's visit starts with its kind and date")
    intro = texts(
        "visit.from_turn",
        kind=texts(KIND_LABELS[draft.kind]),
        date=_day(texts, draft.visit_date),
        station=escape(await _station_name(context, turn.station_id)),
    )
    question = texts("visit.ask_voters", maximum=MAX_COUNT)
    markup = InlineKeyboardMarkup([_cancel_row(context)])
    await respond(update, context, intro + "\n" + question, markup, edit=False)
    return Step.VOTERS


@guarded(Action.LOG_VISIT)
async def edit_field(update: Update, context: BotContext) -> Step:
    tapped = VisitEditField.of(update)
    _, chat_id = _ids(update)
    draft, step = await context.services.visits.begin_edit(
        context.user, chat_id, tapped.visit, tapped.field
    )
    await answer_tap(update)
    await prompt(update, context, draft, step)
    return step


# --- steps -------------------------------------------------------------------------------


@guarded(Action.LOG_VISIT)
async def choose_kind(update: Update, context: BotContext) -> Step | int:
    kind = VisitKindChosen.of(update).kind
    draft = await _draft(update, context)
    draft.kind = kind
    return await _next(update, context, draft, Step.DATE)


@guarded(Action.LOG_VISIT)
async def choose_date(update: Update, context: BotContext) -> Step | int:
    choice = VisitDate.of(update).choice
    draft = await _draft(update, context)
    if choice == DateChoice.OTHER:
        await _save(update, context, draft, Step.DATE_TYPED)
        await answer_tap(update)
        await ask_date_typed(update, context)
        return Step.DATE_TYPED
    today = context.services.visits.today()
    draft.visit_date = today if choice == DateChoice.TODAY else today - timedelta(days=1)
    return await _next(update, context, draft, Step.STATION)


@guarded(Action.LOG_VISIT)
async def receive_date(update: Update, context: BotContext) -> Step | int:
    value = visit_date(message_of(update).text, context.services.visits.today())
    draft = await _draft(update, context)
    draft.visit_date = value
    return await _next(update, context, draft, Step.STATION)


@guarded(Action.LOG_VISIT)
async def choose_own_or_no_station(update: Update, context: BotContext) -> Step | int:
    choice = VisitStation.of(update).choice
    station_id: int | None = None
    if choice == StationChoice.OWN:
        station_id = (await context.services.visits.deputy(context.user)).station_id
    draft = await _draft(update, context)
    draft.station_id = station_id
    return await _next(update, context, draft, Step.VOTERS)


@guarded(Action.LOG_VISIT)
async def receive_voters(update: Update, context: BotContext) -> Step | int:
    value = parse_count(message_of(update).text)
    draft = await _draft(update, context)
    draft.voters_met = value
    return await _next(update, context, draft, Step.OPINIONS)


@guarded(Action.LOG_VISIT)
async def receive_opinions(update: Update, context: BotContext) -> Step | int:
    value = parse_count(message_of(update).text)
    draft = await _draft(update, context)
    draft.opinions_received = value
    if draft.turn_id is not None and draft.editing is None:
        # From the turn's prompt: the two numbers are all that is asked.
        await _save(update, context, draft, Step.OPINIONS)
        return await _finish(update, context, draft)
    return await _next(update, context, draft, Step.DONE)


async def _set_text(update: Update, context: BotContext, step: Step, value: str) -> Step | int:
    draft = await _draft(update, context)
    if step == Step.DONE:
        draft.done_for_voters = value
        return await _next(update, context, draft, Step.NOTES)
    draft.notes = value
    return await _next(update, context, draft, Step.PHOTOS)


@guarded(Action.LOG_VISIT)
async def receive_done(update: Update, context: BotContext) -> Step | int:
    return await _set_text(update, context, Step.DONE, visit_text(message_of(update).text))


@guarded(Action.LOG_VISIT)
async def receive_notes(update: Update, context: BotContext) -> Step | int:
    return await _set_text(update, context, Step.NOTES, visit_text(message_of(update).text))


@guarded(Action.LOG_VISIT)
async def skip_text(update: Update, context: BotContext) -> Step | int:
    """Skip (or, editing, clear) the text step the button belongs to."""
    return await _set_text(update, context, TEXT_STEPS[VisitSkip.of(update).step], "")


@guarded(Action.LOG_VISIT)
async def receive_photo(update: Update, context: BotContext) -> Step:
    photo = message_of(update).photo[-1]  # the largest size; the handler takes photos only
    draft = await _draft(update, context)
    if len(draft.photos) >= MAX_PHOTOS:
        raise DomainError("visit.too_many_photos", maximum=MAX_PHOTOS)
    draft.photos.append(photo.file_id)
    await _save(update, context, draft, Step.PHOTOS)
    await ask_photos(update, context, draft)
    return Step.PHOTOS


@guarded(Action.LOG_VISIT)
async def clear_photos(update: Update, context: BotContext) -> Step:
    draft = await _draft(update, context)
    draft.photos = []
    await _save(update, context, draft, Step.PHOTOS)
    await answer_tap(update)
    await ask_photos(update, context, draft)
    return Step.PHOTOS


@guarded(Action.LOG_VISIT)
async def photos_done(update: Update, context: BotContext) -> int:
    draft = await _draft(update, context)
    return await _finish(update, context, draft)


async def cancel(update: Update, context: BotContext) -> int:
    user_id, chat_id = _ids(update)
    draft = await _draft(update, context)
    await context.services.visits.discard(user_id, chat_id)
    await answer_tap(update)
    key = "visit.edit_cancelled" if draft.editing is not None else "visit.cancelled"
    await respond(update, context, context.texts(key))
    return END


# --- bad input ---------------------------------------------------------------------------

BAD_INPUT = {
    Step.KIND: "visit.bad_kind",
    Step.DATE: "visit.bad_date",
    Step.DATE_TYPED: "visit.bad_date_typed",
    Step.STATION: "visit.bad_station",
    Step.VOTERS: "visit.bad_count",
    Step.OPINIONS: "visit.bad_count",
    Step.DONE: "visit.bad_text",
    Step.NOTES: "visit.bad_text",
    Step.PHOTOS: "visit.bad_photo",
}


def bad_input(step: Step) -> Callback[None]:
    async def reply(update: Update, context: BotContext) -> None:
        text = context.texts(BAD_INPUT[step], maximum=MAX_COUNT)
        await respond(update, context, text, edit=False)

    return reply


command_in_middle = saying("visit.in_progress")


# A log prompt or an edit tapped while another visit is being written.
busy = alerting("visit.in_progress")


stale_button = alerting("error.stale_button")


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


def handlers() -> list[Handler]:
    def others(step: Step) -> Handler:
        return MessageHandler(~filters.COMMAND, bad_input(step))

    text = filters.TEXT & ~filters.COMMAND
    conversation = DeclaredConversation(
        VISIT,
        entry_points=[
            CommandHandler("visit", begin),
            CallbackQueryHandler(log_turn, pattern=VisitFromTurn.filter()),
            CallbackQueryHandler(edit_field, pattern=VisitEditField.filter()),
        ],
        states={
            Step.KIND: [
                CallbackQueryHandler(choose_kind, pattern=VisitKindChosen.filter()),
                others(Step.KIND),
            ],
            Step.DATE: [
                CallbackQueryHandler(choose_date, pattern=VisitDate.filter()),
                MessageHandler(text, receive_date),
                others(Step.DATE),
            ],
            Step.DATE_TYPED: [MessageHandler(text, receive_date), others(Step.DATE_TYPED)],
            Step.STATION: [
                CallbackQueryHandler(choose_own_or_no_station, pattern=VisitStation.filter()),
                *PICKER.handlers(),
                PICKER.search_handler(),
                others(Step.STATION),
            ],
            Step.VOTERS: [MessageHandler(text, receive_voters), others(Step.VOTERS)],
            Step.OPINIONS: [MessageHandler(text, receive_opinions), others(Step.OPINIONS)],
            Step.DONE: [
                MessageHandler(text, receive_done),
                CallbackQueryHandler(skip_text, pattern=VisitSkip.filter(step=TextStep.DONE)),
                others(Step.DONE),
            ],
            Step.NOTES: [
                MessageHandler(text, receive_notes),
                CallbackQueryHandler(skip_text, pattern=VisitSkip.filter(step=TextStep.NOTES)),
                others(Step.NOTES),
            ],
            Step.PHOTOS: [
                MessageHandler(filters.PHOTO, receive_photo),
                CallbackQueryHandler(
                    photos_done, pattern=VisitPhotos.filter(action=PhotosAction.DONE)
                ),
                CallbackQueryHandler(
                    clear_photos, pattern=VisitPhotos.filter(action=PhotosAction.CLEAR)
                ),
                others(Step.PHOTOS),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=VisitCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
            CallbackQueryHandler(busy, pattern=any_of(VisitFromTurn, VisitEditField)),
            # buttons of a step the deputy has left: refused as stale, the step stays (the
            # picker's, having no handler outside its step, reach the catch-all's same refusal)
            CallbackQueryHandler(
                stale_button,
                pattern=any_of(VisitKindChosen, VisitDate, VisitStation, VisitSkip, VisitPhotos),
            ),
        ],
    )
    return [
        conversation,
        CommandHandler("visits", visits_command),
        CallbackQueryHandler(list_page, pattern=VisitListPage.filter()),
        CallbackQueryHandler(open_visit, pattern=VisitOpen.filter()),
        CallbackQueryHandler(edit_menu, pattern=VisitEditMenu.filter()),
        CallbackQueryHandler(ask_delete, pattern=VisitDelete.filter()),
        CallbackQueryHandler(confirm_delete, pattern=VisitDeleteConfirmed.filter()),
    ]
