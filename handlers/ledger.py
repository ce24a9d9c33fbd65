"""/ledger (staff): the ledger (台账) of suggestions, filtered by status, department, class,
overdue and 重点督办, paged; a suggestion's card; the .xlsx; correcting an answer's summary
or class. And a commitment's progress update, opened by the department's liaison (or staff)
from the reminder: typed, then done / under way / cannot be done. Rules:
bot.services.ledger; buttons: bot.runtime.buttons.ledger."""

from __future__ import annotations

import io
from dataclasses import replace
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons.ledger import (
    ClassChosen,
    CommitmentCancel,
    CommitmentOpen,
    CommitmentOutcome,
    CommitmentWrite,
    CorrectCancel,
    CorrectClass,
    CorrectSummary,
    LedgerCard,
    LedgerDepartments,
    LedgerExport,
    LedgerList,
    card,
    export,
    listing,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.ledger import (
    CORRECT,
    UPDATE,
    UPDATE_MAX,
    UPDATE_MIN,
    CommitmentView,
    CorrectStep,
    LedgerFilter,
    LedgerPage,
    LedgerStatus,
    Listed,
    UpdateOutcome,
    UpdateStep,
)
from bot.services.ledger import LedgerCard as Card
from bot.services.paging import clamp_page
from bot.services.suggestion_answers import SUMMARY_MAX
from bot.services.suggestion_trail import last_day
from handlers.common import (
    Handler,
    answer_tap,
    chat_id_of,
    clip,
    guarded,
    message_of,
    respond,
    saying,
    show_error,
)
from handlers.keyboards import button, paged, rows_of
from handlers.suggestion_card import suggestion_head
from handlers.suggestion_rating import met_line

END = DeclaredConversation.END
PER_PAGE = 8
DEPARTMENTS_PER_PAGE = 10
TITLE_IN_LIST = 24
TITLE_ON_BUTTON = 14
SUMMARY_ON_CARD = 600
PROMISE_ON_CARD = 80
UPDATE_ON_CARD = 100
UPDATES_SHOWN = 5
NEXT_STATUS = {
    LedgerStatus.ALL: LedgerStatus.OPEN,
    LedgerStatus.OPEN: LedgerStatus.DONE,
    LedgerStatus.DONE: LedgerStatus.ALL,
}
STATUS_LABELS = {
    LedgerStatus.ALL: "ledger.filter_all",
    LedgerStatus.OPEN: "ledger.status_open",
    LedgerStatus.DONE: "ledger.status_done",
}
OUTCOME_LABELS = {
    UpdateOutcome.DONE: "ledger.outcome_done",
    UpdateOutcome.OPEN: "ledger.outcome_open",
    UpdateOutcome.BLOCKED: "ledger.outcome_blocked",
}
# refusals after which an update or a correction cannot go on: the conversation ends
ENDING = (
    "suggestion.unknown",
    "ledger.no_draft",
    "ledger.commitment_unknown",
    "ledger.commitment_done",
    "ledger.commitment_replaced",
    "ledger.commitment_rehandling",
    "ledger.not_your_commitment",
    "ledger.not_answered",
)


def _mark(texts: Texts, on: bool) -> str:
    return texts("ledger.on") if on else texts("ledger.off")


def _yes_no(texts: Texts, flag: bool) -> str:
    return texts("ledger.yes") if flag else texts("ledger.no")


# --- the list ------------------------------------------------------------------------------


def _line(texts: Texts, number: int, item: Listed) -> str:
    entry = item.entry
    marks = []
    if item.status is not None:
        marks.append(texts(STATUS_LABELS[item.status]))
    if item.overdue:
        marks.append(texts("ledger.overdue"))
    if entry.priority:
        marks.append(texts("ledger.priority"))
    return texts(
        "ledger.line",
        n=number,
        number=entry.number,
        title=escape(clip(entry.title, TITLE_IN_LIST)),
        department=escape(item.department) or "—",
        state=texts(f"suggestion.state.{entry.state}"),
        outcome=escape(entry.outcome_class or "—"),
        marks=" · ".join(marks) or "—",
    )


def render_list(texts: Texts, result: LedgerPage, wanted: LedgerFilter) -> str:
    department = result.departments.get(wanted.department, "") if wanted.department else ""
    lines = [
        texts("ledger.title", total=result.total, open=result.open, done=result.done),
        texts(
            "ledger.filters",
            status=texts(STATUS_LABELS[wanted.status]),
            department=escape(department) or texts("ledger.any"),
            outcome=escape(wanted.outcome_class) or texts("ledger.any"),
            overdue=_mark(texts, wanted.overdue),
            priority=_mark(texts, wanted.priority),
        ),
        "",
    ]
    start = result.page * PER_PAGE
    lines += [_line(texts, start + i + 1, item) for i, item in enumerate(result.items)]
    if not result.items:
        lines.append(texts("ledger.empty"))
    return "\n".join(lines)


def _next_class(classes: list[str], current: str) -> str:
    cycle = ["", *classes]
    index = cycle.index(current) if current in cycle else 0
    return cycle[(index + 1) % len(cycle)]


def list_markup(texts: Texts, result: LedgerPage, wanted: LedgerFilter) -> InlineKeyboardMarkup:
    items = [
        button(
            texts(
                "ledger.open_button",
                number=item.entry.number,
                title=clip(item.entry.title, TITLE_ON_BUTTON),
            ),
            card(item.entry.id, wanted, result.page),
        )
        for item in result.items
    ]
    with_status = replace(wanted, status=NEXT_STATUS[wanted.status])
    with_class = replace(wanted, outcome_class=_next_class(result.classes, wanted.outcome_class))
    toggled_overdue = replace(wanted, overdue=not wanted.overdue)
    toggled_priority = replace(wanted, priority=not wanted.priority)
    departments = LedgerDepartments(
        status=wanted.status,
        cls=wanted.outcome_class,
        overdue=wanted.overdue,
        priority=wanted.priority,
        page=0,
    )
    markup = paged(items, result.page, result.pages, lambda p: listing(wanted, p), texts, columns=2)
    rows = [list(row) for row in markup.inline_keyboard]
    rows += [
        [
            button(texts("ledger.by_status"), listing(with_status)),
            button(texts("ledger.by_department"), departments),
        ],
        [
            button(texts("ledger.by_class"), listing(with_class)),
            button(texts("ledger.by_overdue"), listing(toggled_overdue)),
            button(texts("ledger.by_priority"), listing(toggled_priority)),
        ],
        [button(texts("ledger.export"), export(wanted))],
    ]
    return InlineKeyboardMarkup(rows)


async def show_list(
    update: Update, context: BotContext, wanted: LedgerFilter, page: int, *, edit: bool = True
) -> None:
    result = await context.services.ledger.page(context.user, wanted, page, PER_PAGE)
    texts = context.texts
    await respond(
        update,
        context,
        render_list(texts, result, wanted),
        list_markup(texts, result, wanted),
        edit=edit,
    )


@guarded(Action.VIEW_LEDGER)
async def ledger_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, LedgerFilter(), 0, edit=False)


@guarded(Action.VIEW_LEDGER)
async def list_page(update: Update, context: BotContext) -> None:
    tapped = LedgerList.of(update)
    await answer_tap(update)
    await show_list(update, context, tapped.wanted(), tapped.page)


@guarded(Action.VIEW_LEDGER)
async def pick_department(update: Update, context: BotContext) -> None:
    tapped = LedgerDepartments.of(update)
    wanted = tapped.wanted()
    departments = await context.services.ledger.departments(context.user)
    await answer_tap(update)
    texts = context.texts
    page, pages = clamp_page(tapped.page, len(departments), DEPARTMENTS_PER_PAGE)
    shown = departments[page * DEPARTMENTS_PER_PAGE : (page + 1) * DEPARTMENTS_PER_PAGE]

    def with_department(department_id: int) -> LedgerList:
        return listing(replace(wanted, department=department_id))

    buttons = [button(clip(name, 30), with_department(d)) for d, name in shown]

    def nav(p: int) -> LedgerDepartments:
        return tapped.model_copy(update={"page": p})

    markup = paged(
        buttons,
        page,
        pages,
        nav,
        texts,
        columns=2,
        extra=[button(texts("ledger.any_department"), with_department(0))],
    )
    await respond(update, context, texts("ledger.ask_department"), markup)


# --- the card ------------------------------------------------------------------------------


def render_card(texts: Texts, found: Card) -> str:
    s = found.suggestion
    lead = next((h.name for h in found.handlers if h.lead), "") or found.answer_department
    co = "、".join(h.name for h in found.handlers if not h.lead)
    lines = [
        suggestion_head(texts, s),
        texts(
            "ledger.card_people",
            deputy=escape(found.lead_deputy) or "—",
            cosigners=escape("、".join(found.cosigners)) or "—",
            category=escape(s.category),
        ),
        texts(
            "ledger.card_departments",
            lead=escape(lead) or "—",
            co=escape(co) or "—",
        ),
        texts(
            "ledger.card_dates",
            assigned=texts.date(s.assigned_at) if s.assigned_at else "—",
            due=texts.date(last_day(s.due_at, texts.zone)) if s.due_at else "—",
        ),
    ]
    answer = found.answer
    if answer is not None:
        met = met_line(texts, answer)
        lines.append(
            texts(
                "ledger.card_answer",
                answered=texts.date(answer.answered_at),
                on_time=_yes_no(texts, answer.on_time),
                outcome=escape(found.outcome),
                met=met,
                summary=escape(clip(answer.summary, SUMMARY_ON_CARD)),
            )
        )
    if s.rating is not None and s.state != "answered":
        rating = texts(f"suggestion.rating.{s.rating.value}")
    elif s.state == "closed":
        rating = texts("ledger.unrated")
    else:
        rating = "—"
    marks = []
    if found.status is not None:
        marks.append(texts(STATUS_LABELS[found.status]))
    if found.overdue:
        marks.append(texts("ledger.overdue"))
    if s.priority:
        marks.append(texts("ledger.priority"))
    lines.append(
        texts(
            "ledger.card_rating",
            rating=rating,
            rehandled=_yes_no(texts, s.rehandled),
            marks=" · ".join(marks) or "—",
        )
    )
    if found.promised:
        lines.append(texts("ledger.card_commitments"))
    for n, promised in enumerate(found.promised, 1):
        c = promised.commitment
        if c.done_at is not None:
            state = texts("ledger.promise_done")
        else:
            state = texts("ledger.overdue") if promised.overdue else texts("ledger.promise_open")
        lines.append(
            texts(
                "ledger.card_commitment",
                n=n,
                text=escape(clip(c.text, PROMISE_ON_CARD)),
                day=texts.date(c.due_on),
                state=state,
            )
        )
        if promised.updates:
            last = promised.updates[-1]
            lines.append(
                texts(
                    "ledger.card_progress",
                    day=texts.date(last.at),
                    text=escape(clip(last.text, UPDATE_ON_CARD)),
                )
            )
    return "\n".join(lines)


def card_markup(texts: Texts, found: Card, wanted: LedgerFilter, page: int) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    s = found.suggestion
    if found.answer is not None and s.state in ("answered", "rehandling", "closed"):
        rows.append(
            [
                button(texts("ledger.correct_summary"), CorrectSummary(suggestion=s.id)),
                button(texts("ledger.correct_class"), CorrectClass(suggestion=s.id)),
            ]
        )
    updates = [
        button(
            texts("ledger.commitment_button", n=n),
            CommitmentOpen(commitment=p.commitment.id, fresh=True),
        )
        for n, p in enumerate(found.promised, 1)
        if p.commitment.done_at is None
    ]
    rows += rows_of(updates, 3)
    rows.append([button(texts("ledger.back"), listing(wanted, page))])
    return InlineKeyboardMarkup(rows)


@guarded(Action.VIEW_LEDGER)
async def open_card(update: Update, context: BotContext) -> None:
    tapped = LedgerCard.of(update)
    found = await context.services.ledger.card(context.user, tapped.suggestion)
    await answer_tap(update)
    texts = context.texts
    await respond(
        update,
        context,
        render_card(texts, found),
        card_markup(texts, found, tapped.wanted(), tapped.page),
    )


@guarded(Action.VIEW_LEDGER)
async def send_export(update: Update, context: BotContext) -> None:
    tapped = LedgerExport.of(update)
    await answer_tap(update)
    texts = context.texts
    made = await context.services.ledger.export(context.user, tapped.wanted(), texts)
    await context.bot.send_document(
        chat_id_of(update),
        io.BytesIO(made.data),
        filename=made.name,
        caption=texts("ledger.caption"),
    )


# --- correcting an answer ------------------------------------------------------------------


async def _corrected(update: Update, context: BotContext, suggestion_id: int) -> None:
    texts = context.texts
    found = await context.services.ledger.card(context.user, suggestion_id)
    text = texts("ledger.corrected") + "\n\n" + render_card(texts, found)
    await respond(update, context, text, card_markup(texts, found, LedgerFilter(), 0), edit=False)


@guarded(Action.VIEW_LEDGER)
async def begin_correction(update: Update, context: BotContext) -> CorrectStep | None:
    tapped = CorrectSummary.of(update)
    answer = await context.services.ledger.begin_correction(
        context.user, chat_id_of(update), tapped.suggestion
    )
    await answer_tap(update)
    texts = context.texts
    text = texts(
        "ledger.ask_summary",
        summary=escape(clip(answer.summary, SUMMARY_ON_CARD)),
        maximum=SUMMARY_MAX,
    )
    markup = InlineKeyboardMarkup([[button(texts("ledger.cancel"), CorrectCancel())]])
    await respond(update, context, text, markup, edit=False)
    return CorrectStep.SUMMARY


async def _refused(
    update: Update, context: BotContext, error: DomainError, discard: bool
) -> int | None:
    await show_error(update, context, error)
    if error.key not in ENDING:
        return None
    ledger = context.services.ledger
    if discard:
        await ledger.discard_correction(context.user, chat_id_of(update))
    else:
        await ledger.discard_update(context.user, chat_id_of(update))
    return END


@guarded(Action.VIEW_LEDGER)
async def receive_summary(update: Update, context: BotContext) -> int | None:
    try:
        corrected = await context.services.ledger.correct_summary(
            context.user, chat_id_of(update), message_of(update).text
        )
    except DomainError as error:
        return await _refused(update, context, error, discard=True)
    await _corrected(update, context, corrected.id)
    return END


@guarded(Action.VIEW_LEDGER)
async def pick_class(update: Update, context: BotContext) -> None:
    tapped = CorrectClass.of(update)
    found = await context.services.ledger.card(context.user, tapped.suggestion)
    if found.answer is None:
        raise DomainError("ledger.not_answered", number=found.suggestion.number)
    await answer_tap(update)
    texts = context.texts
    choices = [
        button(
            f"{c.code} {clip(c.label, 20)}", ClassChosen(suggestion=tapped.suggestion, code=c.code)
        )
        for c in found.classes
        if c.code != found.answer.outcome_class
    ]
    rows = [[b] for b in choices]
    rows.append([button(texts("ledger.cancel"), CorrectCancel())])
    text = (
        suggestion_head(texts, found.suggestion)
        + "\n\n"
        + texts("ledger.ask_class", outcome=escape(found.outcome))
    )
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=False)


@guarded(Action.VIEW_LEDGER)
async def choose_class(update: Update, context: BotContext) -> None:
    tapped = ClassChosen.of(update)
    corrected = await context.services.ledger.correct_class(
        context.user, tapped.suggestion, tapped.code
    )
    await answer_tap(update)
    await _corrected(update, context, corrected.id)


async def cancel_correction(update: Update, context: BotContext) -> int:
    await context.services.ledger.discard_correction(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("ledger.cancelled"))
    return END


# --- a commitment's progress update ----------------------------------------------------------


def render_commitment(texts: Texts, view: CommitmentView) -> str:
    c = view.commitment
    state = texts("ledger.promise_done") if c.done_at else texts("ledger.promise_open")
    lines = [
        suggestion_head(texts, view.suggestion),
        texts(
            "ledger.commitment",
            department=escape(view.department),
            text=escape(c.text),
            day=texts.date(c.due_on),
            state=state,
        ),
    ]
    if view.updates:
        lines.append(texts("ledger.updates"))
    for update in view.updates[-UPDATES_SHOWN:]:
        lines.append(
            texts(
                "ledger.update_line",
                day=texts.date(update.at),
                text=escape(clip(update.text, 300)),
                done=texts("ledger.update_done") if update.done else "",
            )
        )
    return "\n".join(lines)


@guarded(Action.ANSWER_SUGGESTION)
async def open_commitment(update: Update, context: BotContext) -> None:
    tapped = CommitmentOpen.of(update)
    view = await context.services.ledger.commitment(context.user, tapped.commitment)
    await answer_tap(update)
    texts = context.texts
    rows = []
    if view.commitment.done_at is None:
        write = CommitmentWrite(commitment=view.commitment.id)
        rows.append([button(texts("ledger.write_update"), write)])
    await respond(
        update,
        context,
        render_commitment(texts, view),
        InlineKeyboardMarkup(rows) if rows else None,
        edit=not tapped.fresh,
    )


def _update_cancel(texts: Texts) -> list[InlineKeyboardButton]:
    return [button(texts("ledger.cancel"), CommitmentCancel())]


@guarded(Action.ANSWER_SUGGESTION)
async def begin_update(update: Update, context: BotContext) -> UpdateStep | None:
    tapped = CommitmentWrite.of(update)
    view = await context.services.ledger.begin_update(
        context.user, chat_id_of(update), tapped.commitment
    )
    await answer_tap(update)
    texts = context.texts
    text = texts(
        "ledger.ask_update",
        text=escape(clip(view.commitment.text, 300)),
        minimum=UPDATE_MIN,
        maximum=UPDATE_MAX,
    )
    await respond(update, context, text, InlineKeyboardMarkup([_update_cancel(texts)]), edit=False)
    return UpdateStep.WRITE


@guarded(Action.ANSWER_SUGGESTION)
async def receive_update(update: Update, context: BotContext) -> UpdateStep | int | None:
    """The update typed (at the outcome step, again: it replaces the last one)."""
    try:
        view, text = await context.services.ledger.write_update(
            context.user, chat_id_of(update), message_of(update).text
        )
    except DomainError as error:
        return await _refused(update, context, error, discard=False)
    texts = context.texts
    commitment = view.commitment.id
    rows = [
        [
            button(
                texts(OUTCOME_LABELS[outcome]),
                CommitmentOutcome(commitment=commitment, outcome=outcome),
            )
        ]
        for outcome in UpdateOutcome
    ]
    rows.append(_update_cancel(texts))
    await respond(
        update,
        context,
        texts("ledger.ask_outcome", update=escape(text)),
        InlineKeyboardMarkup(rows),
        edit=False,
    )
    return UpdateStep.OUTCOME


@guarded(Action.ANSWER_SUGGESTION)
async def post_update(update: Update, context: BotContext) -> int | None:
    tapped = CommitmentOutcome.of(update)
    try:
        posted = await context.services.ledger.post_update(
            context.user, chat_id_of(update), tapped.commitment, tapped.outcome
        )
    except DomainError as error:
        return await _refused(update, context, error, discard=False)
    await answer_tap(update)
    texts = context.texts
    said = {
        UpdateOutcome.DONE: "ledger.posted_done",
        UpdateOutcome.OPEN: "ledger.posted_open",
        UpdateOutcome.BLOCKED: "ledger.posted_blocked",
    }[posted.outcome]
    lines = [texts(said)]
    if posted.all_done:
        lines.append(texts("ledger.all_done"))
    lines.append(render_commitment(texts, posted.view))
    await respond(update, context, "\n\n".join(lines))
    return END


async def cancel_update(update: Update, context: BotContext) -> int:
    await context.services.ledger.discard_update(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("ledger.cancelled"))
    return END


text_only = saying("ledger.text_only")
use_buttons = saying("ledger.use_buttons")
command_in_middle = saying("ledger.in_progress")


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    not_command = ~filters.COMMAND
    updating = DeclaredConversation(
        UPDATE,
        entry_points=[CallbackQueryHandler(begin_update, pattern=CommitmentWrite.filter())],
        states={
            UpdateStep.WRITE: [
                MessageHandler(text, receive_update),
                MessageHandler(not_command, text_only),
            ],
            UpdateStep.OUTCOME: [
                CallbackQueryHandler(post_update, pattern=CommitmentOutcome.filter()),
                MessageHandler(text, receive_update),
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_update),
            CallbackQueryHandler(cancel_update, pattern=CommitmentCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
        ],
    )
    correcting = DeclaredConversation(
        CORRECT,
        entry_points=[CallbackQueryHandler(begin_correction, pattern=CorrectSummary.filter())],
        states={
            CorrectStep.SUMMARY: [
                MessageHandler(text, receive_summary),
                MessageHandler(not_command, text_only),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_correction),
            CallbackQueryHandler(cancel_correction, pattern=CorrectCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
        ],
    )
    return [
        updating,
        correcting,
        CommandHandler("ledger", ledger_command),
        CallbackQueryHandler(list_page, pattern=LedgerList.filter()),
        CallbackQueryHandler(pick_department, pattern=LedgerDepartments.filter()),
        CallbackQueryHandler(open_card, pattern=LedgerCard.filter()),
        CallbackQueryHandler(send_export, pattern=LedgerExport.filter()),
        CallbackQueryHandler(pick_class, pattern=CorrectClass.filter()),
        CallbackQueryHandler(choose_class, pattern=ClassChosen.filter()),
        CallbackQueryHandler(open_commitment, pattern=CommitmentOpen.filter()),
        # outside their conversations: a replay of an outcome, a cancel
        CallbackQueryHandler(post_update, pattern=CommitmentOutcome.filter()),
        CallbackQueryHandler(cancel_update, pattern=CommitmentCancel.filter()),
        CallbackQueryHandler(cancel_correction, pattern=CorrectCancel.filter()),
    ]
