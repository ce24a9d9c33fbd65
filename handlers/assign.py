"""/assign: staff's queue of deputies' suggestions (待交办, 退办, 办理中 by deadline with the
overdue first, 重点督办 marked) and the staff card of one. On the card: 交办 step by step
(the lead department, the co-handling ones, confirm), reassignment after 退办 the same way,
不予交办 with a typed reason, 重点督办 on and off, the one extension (asked by the department
or given directly), and the answer recorded, or the part returned, for a department (the
answers' own buttons).
Rules: bot.services.suggestion_handling; buttons: bot.runtime.buttons.assign.

Each conversation stores its typed draft with the next step before answering, so a restart
resumes where staff were."""

from __future__ import annotations

from datetime import datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import N_, Texts
from bot.runtime.buttons import CallbackData, any_of
from bot.runtime.buttons.assign import (
    AssignBackToCo,
    AssignChangeLead,
    AssignCo,
    AssignConfirm,
    AssignCoPage,
    AssignLead,
    AssignLeadPage,
    AssignOpen,
    AssignPriority,
    AssignQueue,
    AssignReview,
    AssignStart,
    DeclineConfirm,
    DeclineStart,
    ExtensionAsk,
    ExtensionGrant,
    ExtensionRefuse,
    Flow,
    HandlingCancel,
)
from bot.runtime.buttons.assigned import AnswerStart, ReturnFor
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.suggestion_handling import (
    ASSIGNED_ALREADY,
    ASSIGNING,
    DECLINING,
    NOT_ASSIGNABLE,
    REASON_MAX,
    AssignDraft,
    AssignPreview,
    AssignStep,
    DeclineStep,
    HandlingCard,
    QueuePart,
    part_of,
)
from bot.services.suggestion_trail import EVENT_LABELS, EventKind, last_day
from handlers.common import (
    Callback,
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    clip,
    guarded,
    message_of,
    respond,
    saying,
    show_error,
    tap_of,
)
from handlers.keyboards import button, paged
from handlers.suggestion_card import suggestion_head
from storage.models import AssignmentState, SuggestionState

END = DeclaredConversation.END
PER_PAGE = 8
TITLE_IN_LIST = 40
TITLE_ON_BUTTON = 24
NAME_ON_BUTTON = 40
MESSAGE_MAX = 4096
# the most a card's parts take, escaped: the card stays one message, whatever was typed
TEXT_ROOM = 1500  # the reason, and the proposals, each
ROWS_ROOM = 600  # kept for the newest assignment rows before the reason and proposals grow
REASON_ROOM = 900  # 不予交办's reason
NOTE_ROOM = 240  # a note of the trail, an extension's or a return's reason
NAME_ROOM = 120  # a name: a deputy's, a department's, a category
NAMES_ROOM = 400  # names joined: co-signers, departments
KINDS = frozenset(EventKind)  # the trail's kinds (a stored kind outside them shows as "—")
# Refusals after which a conversation cannot go on: it ends, and staff are told why.
ENDING = (
    *NOT_ASSIGNABLE.values(),
    ASSIGNED_ALREADY,
    "assign.decline_returned",
    "assign.no_draft",
    "suggestion.unknown",
)

PART_LABELS = {
    QueuePart.NEW: N_("assign.part_new"),
    QueuePart.RETURNED: N_("assign.part_returned"),
    QueuePart.HANDLING: N_("assign.part_handling"),
}
ASSIGNMENT_STATES = {
    AssignmentState.ACTIVE: N_("assign.row_active"),
    AssignmentState.RETURNED: N_("assign.row_returned"),
    AssignmentState.ENDED: N_("assign.row_ended"),
}


def shown_day(texts: Texts, deadline: datetime) -> str:
    """A deadline as staff read it: its last day (it ends at that day's midnight)."""
    return texts.date(last_day(deadline, texts.zone))


# --- the queue -------------------------------------------------------------------------------


async def show_queue(
    update: Update,
    context: BotContext,
    part: QueuePart,
    page: int,
    *,
    edit: bool = True,
) -> None:
    texts = context.texts
    queue = await context.services.suggestion_handling.queue(context.user, part, page, PER_PAGE)
    lines = [
        texts(
            "assign.queue_title",
            new=queue.counts[QueuePart.NEW],
            returned=queue.counts[QueuePart.RETURNED],
            handling=queue.counts[QueuePart.HANDLING],
            overdue=queue.overdue,
        ),
        texts("assign.queue_part", part=texts(PART_LABELS[part])),
    ]
    buttons = []
    for entry in queue.page.items:
        s = entry.suggestion
        line = texts(
            "assign.queue_item",
            mark=texts("assign.priority_mark") if s.priority else "",
            number=s.number,
            title=escape(clip(s.title, TITLE_IN_LIST)),
            deputy=escape(entry.deputy_name),
        )
        if s.due_at is not None and part == QueuePart.HANDLING:
            key = "assign.queue_overdue" if s.due_at <= queue.now else "assign.queue_due"
            line += "\n" + texts(key, due=shown_day(texts, s.due_at))
        lines.append(line)
        label = f"{s.number} {clip(s.title, TITLE_ON_BUTTON)}"
        buttons.append(button(label, AssignOpen(suggestion=s.id, page=queue.page.page)))
    if not queue.page.items:
        lines.append(texts("assign.queue_empty"))
    tabs = [
        button(
            texts(
                "assign.part_tab",
                part=texts(PART_LABELS[p]),
                count=queue.counts[p],
                mark="▸ " if p == part else "",
            ),
            AssignQueue(part=p, page=0),
        )
        for p in QueuePart
    ]
    markup = paged(
        buttons,
        queue.page.page,
        queue.page.pages,
        lambda p: AssignQueue(part=part, page=p),
        texts,
        extra=tabs,
    )
    await respond(update, context, "\n\n".join(lines), markup, edit=edit)


@guarded(Action.ASSIGN_SUGGESTION)
async def assign_command(update: Update, context: BotContext) -> None:
    await show_queue(update, context, QueuePart.NEW, 0, edit=False)


@guarded(Action.ASSIGN_SUGGESTION)
async def queue_page(update: Update, context: BotContext) -> None:
    tapped = AssignQueue.of(update)
    await answer_tap(update)
    await show_queue(update, context, tapped.part, tapped.page)


# --- the card --------------------------------------------------------------------------------


def fit(text: str, room: int) -> str:
    """`text` escaped for HTML in at most `room` characters: clipped (an ellipsis marking the
    cut) before escaping, as much as fits; never an entity cut in two."""
    escaped = escape(text)
    if len(escaped) <= room:
        return escaped
    low, high = 0, min(len(text), room)  # how many characters to keep: fits at `low`
    while low < high:
        middle = (low + high + 1) // 2
        if len(escape(clip(text, middle))) <= room:
            low = middle
        else:
            high = middle - 1
    return escape(clip(text, low)) if low else ""


def _newest_that_fit(header: str, entries: list[str], room: int) -> str:
    """`header` and as many of `entries` (oldest first) as fit in `room` characters, the
    newest kept, shown oldest first; empty when not even one fits."""
    kept: list[str] = []
    used = len(header)
    for entry in reversed(entries):
        if used + 1 + len(entry) > room:
            break
        kept.insert(0, entry)
        used += 1 + len(entry)
    return "\n".join([header, *kept]) if kept else ""


def _assignment_entries(texts: Texts, card: HandlingCard) -> list[str]:
    """One entry per assignment row, a returned one with its reason and proposal."""
    entries = []
    for row in card.assignments:
        role = "assign.role_lead" if row.lead else "assign.role_co"
        entry = texts(
            "assign.card_assignment",
            department=fit(row.department_name, NAME_ROOM),
            role=texts(role),
            state=texts(ASSIGNMENT_STATES[row.state]),
            date=texts.date(row.assigned_at),
        )
        if row.state == AssignmentState.RETURNED:
            entry += "\n" + texts(
                "assign.card_returned",
                reason=fit(row.return_reason, NOTE_ROOM) or "—",
                proposed=fit(row.proposed_department, NAME_ROOM) or "—",
            )
        entries.append(entry)
    return entries


def _trail_entries(texts: Texts, card: HandlingCard) -> list[str]:
    entries = []
    for event in card.events:
        what = texts(EVENT_LABELS[EventKind(event.kind)]) if event.kind in KINDS else "—"
        note = f" — {fit(event.note, NOTE_ROOM)}" if event.note else ""
        entries.append(texts("assign.card_event", date=texts.date(event.at), what=what) + note)
    return entries


def render_card(texts: Texts, card: HandlingCard) -> str:
    """The suggestion as staff handle it, in one message: the fixed parts first, then the
    reason and the proposals clipped to what they leave, then the newest assignment rows
    and the newest events that still fit (every text clipped before it is escaped)."""
    s = card.suggestion
    top = [suggestion_head(texts, s)]
    if s.priority:
        top.append(texts("assign.card_priority"))
    top.append(
        texts(
            "assign.card_people",
            deputy=fit(card.deputy_name, NAME_ROOM) or "—",
            cosigners=fit("、".join(card.cosigners), NAMES_ROOM) or "—",
            opinions=card.opinions,
            category=fit(s.category, NAME_ROOM),
        )
    )
    middle = []
    if s.state == SuggestionState.DECLINED:
        middle.append(texts("assign.card_declined", reason=fit(s.decline_reason, REASON_ROOM)))
    if s.due_at is not None and s.state in (SuggestionState.ASSIGNED, SuggestionState.REHANDLING):
        key = "assign.card_overdue" if card.overdue else "assign.card_due"
        due = texts(key, due=shown_day(texts, s.due_at))
        if s.extended:
            due += texts("assign.card_extended")
        middle.append(due)
    if card.extension_asked and s.extension_requested_at is not None:
        middle.append(
            texts(
                "assign.card_extension_asked",
                date=texts.date(s.extension_requested_at),
                reason=fit(s.extension_reason, NOTE_ROOM) or "—",
            )
        )
    bottom = []
    if card.without_liaison:
        names = fit("、".join(card.without_liaison), NAMES_ROOM)
        bottom.append(texts("assign.card_no_liaison", departments=names))

    def body(reason: str, proposals: str) -> list[str]:
        return [
            *top,
            texts("assign.card_reason", text=reason),
            texts("assign.card_proposals", text=proposals),
            *middle,
        ]

    # the reason and the proposals share what the fixed parts leave, some kept for the rows
    fixed = len("\n\n".join([*body("", ""), *bottom]))
    room = max(0, min(TEXT_ROOM, (MESSAGE_MAX - fixed - ROWS_ROOM) // 2))
    parts = body(fit(s.reason, room), fit(s.proposals, room))
    left = MESSAGE_MAX - len("\n\n".join([*parts, *bottom])) - 2
    rows = _newest_that_fit(
        texts("assign.card_assignments"), _assignment_entries(texts, card), left
    )
    if rows:
        parts.append(rows)
        left -= len(rows) + 2
    parts.extend(bottom)
    trail = _newest_that_fit(texts("assign.card_trail"), _trail_entries(texts, card), left)
    if trail:
        parts.append(trail)
    return "\n\n".join(parts)


def card_markup(texts: Texts, card: HandlingCard, page: int) -> InlineKeyboardMarkup:
    s = card.suggestion
    rows: list[list[InlineKeyboardButton]] = []
    first: list[InlineKeyboardButton] = []
    if card.may_assign:
        label = "assign.reassign" if s.state == SuggestionState.RETURNED else "assign.assign"
        first.append(button(texts(label), AssignStart(suggestion=s.id)))
    if card.may_decline:
        first.append(button(texts("assign.decline"), DeclineStart(suggestion=s.id)))
    if first:
        rows.append(first)
    if card.may_flag:
        label = "assign.unflag" if s.priority else "assign.flag"
        rows.append([button(texts(label), AssignPriority(suggestion=s.id, on=not s.priority))])
    if card.extension_asked:
        rows.append(
            [
                button(texts("assign.extension_grant"), ExtensionAsk(suggestion=s.id)),
                button(texts("assign.extension_refuse"), ExtensionRefuse(suggestion=s.id)),
            ]
        )
    elif card.may_extend:
        rows.append([button(texts("assign.extend"), ExtensionAsk(suggestion=s.id))])
    if card.may_answer:
        rows.append([button(texts("assign.record_answer"), AnswerStart(suggestion=s.id))])
    for row in card.returnable:  # 退办 for a department (without the bot, or past its days)
        label = texts("assign.return_for", department=clip(row.department_name, NAME_ON_BUTTON))
        rows.append([button(label, ReturnFor(assignment=row.id))])
    back = AssignQueue(part=part_of(s.state), page=page)
    rows.append([button(texts("assign.back_to_queue"), back)])
    return InlineKeyboardMarkup(rows)


async def show_card(
    update: Update,
    context: BotContext,
    suggestion_id: int,
    page: int = 0,
    head: str = "",
    *,
    edit: bool = True,
) -> None:
    texts = context.texts
    card = await context.services.suggestion_handling.card(context.user, suggestion_id)
    body = render_card(texts, card)
    if head and len(head) + len(body) + 2 <= MESSAGE_MAX:
        body = head + "\n\n" + body
    elif head:
        await respond(update, context, head, edit=False)
    await respond(update, context, body, card_markup(texts, card, page), edit=edit)


@guarded(Action.ASSIGN_SUGGESTION)
async def open_card(update: Update, context: BotContext) -> None:
    tapped = AssignOpen.of(update)
    await context.services.suggestion_handling.suggestion(context.user, tapped.suggestion)
    await answer_tap(update)
    await show_card(update, context, tapped.suggestion, tapped.page, edit=not tapped.fresh)


@guarded(Action.ASSIGN_SUGGESTION)
async def flag(update: Update, context: BotContext) -> None:
    tapped = AssignPriority.of(update)
    handling = context.services.suggestion_handling
    await handling.set_priority(context.user, tapped.suggestion, tapped.on)
    said = "assign.flagged" if tapped.on else "assign.unflagged"
    await tap_of(update).answer(context.texts(said))
    await show_card(update, context, tapped.suggestion)


@guarded(Action.ASSIGN_SUGGESTION)
async def ask_extension(update: Update, context: BotContext) -> None:
    tapped = ExtensionAsk.of(update)
    handling = context.services.suggestion_handling
    suggestion, due = await handling.extension_preview(context.user, tapped.suggestion)
    await answer_tap(update)
    texts = context.texts
    current = suggestion.due_at
    text = suggestion_head(texts, suggestion) + "\n\n"
    text += texts(
        "assign.extension_confirm",
        due=shown_day(texts, current) if current else "—",
        new_due=shown_day(texts, due),
        months=context.services.settings.suggestion_extended_months,
    )
    markup = InlineKeyboardMarkup(
        [
            [button(texts("assign.extension_yes"), ExtensionGrant(suggestion=suggestion.id))],
            [button(texts("nav.back"), AssignOpen(suggestion=suggestion.id, page=0))],
        ]
    )
    await respond(update, context, text, markup)


@guarded(Action.ASSIGN_SUGGESTION)
async def grant_extension(update: Update, context: BotContext) -> None:
    tapped = ExtensionGrant.of(update)
    handling = context.services.suggestion_handling
    suggestion = await handling.extend(context.user, tapped.suggestion)
    await answer_tap(update)
    texts = context.texts
    due = suggestion.due_at
    head = texts("assign.extended", due=shown_day(texts, due) if due else "—")
    await show_card(update, context, suggestion.id, head=head)


@guarded(Action.ASSIGN_SUGGESTION)
async def refuse_extension(update: Update, context: BotContext) -> None:
    tapped = ExtensionRefuse.of(update)
    await context.services.suggestion_handling.refuse_extension(context.user, tapped.suggestion)
    await answer_tap(update)
    await show_card(update, context, tapped.suggestion, head=context.texts("assign.refused"))


# --- what both conversations share -----------------------------------------------------------


def _cancel_row(context: BotContext, flow: Flow) -> list[InlineKeyboardButton]:
    return [button(context.texts("assign.cancel"), HandlingCancel(flow=flow))]


async def _discard(context: BotContext, chat_id: int, flow: Flow) -> None:
    handling = context.services.suggestion_handling
    if flow == Flow.ASSIGN:
        await handling.discard_assign(context.user, chat_id)
    else:
        await handling.discard_decline(context.user, chat_id)


async def _ending(update: Update, context: BotContext, error: DomainError, flow: Flow) -> int:
    """A refusal the conversation cannot get past: it ends, and staff are told why."""
    await _discard(context, chat_id_of(update), flow)
    await show_error(update, context, error)
    return END


def cancel(flow: Flow) -> Callback[int | None]:
    @guarded()
    async def leave(update: Update, context: BotContext) -> int:
        await _discard(context, chat_id_of(update), flow)
        await answer_tap(update)
        await respond(update, context, context.texts("assign.cancelled"))
        return END

    return leave


in_progress = saying("assign.in_progress")
busy = alerting("assign.in_progress")
stale_button = alerting("error.stale_button")
use_buttons = saying("assign.use_buttons")
reason_as_text = saying("assign.reason_text")


def ending_on(flow: Flow, step: Callback[object]) -> Callback[object]:
    """`step`, with the refusals that end the conversation ending it."""

    @guarded(Action.ASSIGN_SUGGESTION)
    async def run(update: Update, context: BotContext) -> object:
        try:
            return await step(update, context)
        except DomainError as error:
            if error.key in ENDING:
                return await _ending(update, context, error, flow)
            raise

    return run


# --- 交办 --------------------------------------------------------------------------------------


async def ask_lead(update: Update, context: BotContext, draft: AssignDraft, page: int) -> None:
    texts = context.texts
    handling = context.services.suggestion_handling
    suggestion = await handling.suggestion(context.user, draft.suggestion_id)
    result = await context.services.departments.choices(context.user, page, PER_PAGE)
    text = suggestion_head(texts, suggestion) + "\n\n" + texts("assign.ask_lead")
    if not result.items:
        text += "\n\n" + texts("assign.no_departments")
    buttons = [
        button(
            ("✓ " if d.id == draft.lead else "") + clip(d.name, NAME_ON_BUTTON),
            AssignLead(department=d.id),
        )
        for d in result.items
    ]
    markup = paged(
        buttons,
        result.page,
        result.pages,
        lambda p: AssignLeadPage(page=p),
        texts,
        extra=_cancel_row(context, Flow.ASSIGN),
    )
    await respond(update, context, text, markup)


async def ask_co(update: Update, context: BotContext, draft: AssignDraft, page: int) -> None:
    texts = context.texts
    suggestion = await context.services.suggestion_handling.suggestion(
        context.user, draft.suggestion_id
    )
    lead = draft.lead or 0
    departments = context.services.departments
    names = await departments.names([lead, *draft.co])
    result = await departments.choices(context.user, page, PER_PAGE, excluding=[lead])
    text = suggestion_head(texts, suggestion) + "\n\n"
    text += texts(
        "assign.ask_co",
        lead=escape(names.get(lead, "")),
        co=fit("、".join(names[d] for d in draft.co if d in names), NAMES_ROOM) or "—",
    )
    buttons = [
        button(
            ("✅ " if d.id in draft.co else "") + clip(d.name, NAME_ON_BUTTON),
            AssignCo(department=d.id, page=result.page),
        )
        for d in result.items
    ]
    markup = paged(buttons, result.page, result.pages, lambda p: AssignCoPage(page=p), texts)
    keyboard = list(markup.inline_keyboard)
    keyboard.append(
        (
            button(texts("assign.change_lead"), AssignChangeLead()),
            button(texts("assign.review"), AssignReview()),
        )
    )
    keyboard.append(tuple(_cancel_row(context, Flow.ASSIGN)))
    await respond(update, context, text, InlineKeyboardMarkup(keyboard))


async def show_preview(update: Update, context: BotContext, preview: AssignPreview) -> None:
    texts = context.texts
    s = preview.suggestion
    text = suggestion_head(texts, s) + "\n\n"
    text += texts(
        "assign.preview",
        lead=escape(preview.lead.name),
        co=fit("、".join(d.name for d in preview.co), NAMES_ROOM) or "—",
        due=shown_day(texts, preview.due_at),
    )
    if s.state == SuggestionState.RETURNED:
        text += "\n" + texts("assign.preview_reassign")
    if preview.without_liaison:
        names = fit("、".join(preview.without_liaison), NAMES_ROOM)
        text += "\n\n" + texts("assign.preview_no_liaison", departments=names)
    markup = InlineKeyboardMarkup(
        [
            [button(texts("assign.confirm"), AssignConfirm(suggestion=s.id))],
            [button(texts("assign.back_to_co"), AssignBackToCo())],
            _cancel_row(context, Flow.ASSIGN),
        ]
    )
    await respond(update, context, text, markup)


async def begin_assign(update: Update, context: BotContext) -> AssignStep:
    tapped = AssignStart.of(update)
    handling = context.services.suggestion_handling
    await handling.begin_assign(context.user, chat_id_of(update), tapped.suggestion)
    draft = await handling.assign_draft(context.user)
    await answer_tap(update)
    await ask_lead(update, context, draft, 0)
    return AssignStep.LEAD


async def lead_page(update: Update, context: BotContext) -> AssignStep:
    tapped = AssignLeadPage.of(update)
    draft = await context.services.suggestion_handling.assign_draft(context.user)
    await answer_tap(update)
    await ask_lead(update, context, draft, tapped.page)
    return AssignStep.LEAD


async def pick_lead(update: Update, context: BotContext) -> AssignStep:
    tapped = AssignLead.of(update)
    handling = context.services.suggestion_handling
    draft = await handling.pick_lead(context.user, chat_id_of(update), tapped.department)
    await answer_tap(update)
    await ask_co(update, context, draft, 0)
    return AssignStep.CO


async def co_page(update: Update, context: BotContext) -> AssignStep:
    tapped = AssignCoPage.of(update)
    draft = await context.services.suggestion_handling.assign_draft(context.user)
    await answer_tap(update)
    await ask_co(update, context, draft, tapped.page)
    return AssignStep.CO


async def toggle_co(update: Update, context: BotContext) -> AssignStep:
    tapped = AssignCo.of(update)
    handling = context.services.suggestion_handling
    draft = await handling.toggle_co(context.user, chat_id_of(update), tapped.department)
    await answer_tap(update)
    await ask_co(update, context, draft, tapped.page)
    return AssignStep.CO


async def change_lead(update: Update, context: BotContext) -> AssignStep:
    AssignChangeLead.of(update)
    handling = context.services.suggestion_handling
    draft = await handling.change_lead(context.user, chat_id_of(update))
    await answer_tap(update)
    await ask_lead(update, context, draft, 0)
    return AssignStep.LEAD


async def back_to_co(update: Update, context: BotContext) -> AssignStep:
    AssignBackToCo.of(update)
    draft = await context.services.suggestion_handling.back_to_co(context.user, chat_id_of(update))
    await answer_tap(update)
    await ask_co(update, context, draft, 0)
    return AssignStep.CO


async def review(update: Update, context: BotContext) -> AssignStep:
    AssignReview.of(update)
    handling = context.services.suggestion_handling
    preview = await handling.review_assignment(context.user, chat_id_of(update))
    await answer_tap(update)
    await show_preview(update, context, preview)
    return AssignStep.CONFIRM


async def confirm_assign(update: Update, context: BotContext) -> int:
    tapped = AssignConfirm.of(update)
    handling = context.services.suggestion_handling
    result = await handling.confirm_assign(context.user, chat_id_of(update), tapped.suggestion)
    await answer_tap(update)
    texts = context.texts
    s = result.suggestion
    head = texts(
        "assign.done",
        number=s.number,
        lead=escape(result.lead),
        co=fit("、".join(result.co), NAMES_ROOM) or "—",
        due=shown_day(texts, s.due_at) if s.due_at else "—",
    )
    if result.without_liaison:
        names = fit("、".join(result.without_liaison), NAMES_ROOM)
        head += "\n" + texts("assign.done_no_liaison", departments=names)
    await show_card(update, context, s.id, head=head)
    return END


@guarded(Action.ASSIGN_SUGGESTION)
async def confirm_outside(update: Update, context: BotContext) -> None:
    """交办 confirmed with none under way (a double tap, an old message)."""
    tapped = AssignConfirm.of(update)
    await context.services.suggestion_handling.refuse_confirm(context.user, tapped.suggestion)


# --- 不予交办 ----------------------------------------------------------------------------------


async def begin_decline(update: Update, context: BotContext) -> DeclineStep:
    tapped = DeclineStart.of(update)
    handling = context.services.suggestion_handling
    suggestion = await handling.begin_decline(context.user, chat_id_of(update), tapped.suggestion)
    await answer_tap(update)
    texts = context.texts
    text = suggestion_head(texts, suggestion) + "\n\n"
    text += texts("assign.ask_reason", maximum=REASON_MAX)
    markup = InlineKeyboardMarkup([_cancel_row(context, Flow.DECLINE)])
    await respond(update, context, text, markup, edit=False)
    return DeclineStep.REASON


async def receive_reason(update: Update, context: BotContext) -> DeclineStep:
    handling = context.services.suggestion_handling
    suggestion, reason = await handling.give_reason(
        context.user, chat_id_of(update), message_of(update).text
    )
    texts = context.texts
    text = suggestion_head(texts, suggestion) + "\n\n"
    text += texts("assign.decline_preview", reason=escape(reason))
    markup = InlineKeyboardMarkup(
        [
            [button(texts("assign.decline_confirm"), DeclineConfirm(suggestion=suggestion.id))],
            _cancel_row(context, Flow.DECLINE),
        ]
    )
    await respond(update, context, text, markup, edit=False)
    return DeclineStep.CONFIRM


async def confirm_decline(update: Update, context: BotContext) -> int:
    tapped = DeclineConfirm.of(update)
    handling = context.services.suggestion_handling
    suggestion = await handling.confirm_decline(context.user, chat_id_of(update), tapped.suggestion)
    await answer_tap(update)
    head = context.texts("assign.declined", number=suggestion.number)
    await show_card(update, context, suggestion.id, head=head)
    return END


@guarded(Action.ASSIGN_SUGGESTION)
async def decline_outside(update: Update, context: BotContext) -> None:
    tapped = DeclineConfirm.of(update)
    await context.services.suggestion_handling.refuse_decline(context.user, tapped.suggestion)


# --- registration ----------------------------------------------------------------------------


def _fallbacks(flow: Flow, stale: tuple[type[CallbackData], ...]) -> list[Handler]:
    """Leaving, a command in the middle, an opening button tapped again (busy), and the
    buttons of a step staff have left (stale; the step stays)."""
    return [
        CommandHandler("cancel", cancel(flow)),
        CallbackQueryHandler(cancel(flow), pattern=HandlingCancel.filter(flow=flow)),
        MessageHandler(filters.COMMAND, in_progress),
        CallbackQueryHandler(busy, pattern=any_of(AssignStart, DeclineStart)),
        CallbackQueryHandler(stale_button, pattern=any_of(*stale)),
    ]


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    not_command = ~filters.COMMAND
    assign_steps = (
        AssignLeadPage,
        AssignLead,
        AssignCoPage,
        AssignCo,
        AssignChangeLead,
        AssignReview,
        AssignBackToCo,
        AssignConfirm,
    )

    def on(kind: type[CallbackData], step: Callback[object], flow: Flow) -> Handler:
        return CallbackQueryHandler(ending_on(flow, step), pattern=kind.filter())

    a = Flow.ASSIGN
    assigning = DeclaredConversation(
        ASSIGNING,
        entry_points=[on(AssignStart, begin_assign, a)],
        states={
            AssignStep.LEAD: [
                on(AssignLeadPage, lead_page, a),
                on(AssignLead, pick_lead, a),
                on(AssignReview, review, a),  # refused while no lead is picked
                MessageHandler(not_command, use_buttons),
            ],
            AssignStep.CO: [
                on(AssignCoPage, co_page, a),
                on(AssignCo, toggle_co, a),
                on(AssignChangeLead, change_lead, a),
                on(AssignReview, review, a),
                MessageHandler(not_command, use_buttons),
            ],
            AssignStep.CONFIRM: [
                on(AssignConfirm, confirm_assign, a),
                on(AssignBackToCo, back_to_co, a),
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=_fallbacks(a, assign_steps),
    )
    d = Flow.DECLINE
    declining = DeclaredConversation(
        DECLINING,
        entry_points=[on(DeclineStart, begin_decline, d)],
        states={
            DeclineStep.REASON: [
                MessageHandler(text, ending_on(d, receive_reason)),
                MessageHandler(not_command, reason_as_text),
            ],
            DeclineStep.CONFIRM: [
                on(DeclineConfirm, confirm_decline, d),
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=_fallbacks(d, (DeclineConfirm,)),
    )
    return [
        assigning,
        declining,
        CommandHandler("assign", assign_command),
        CallbackQueryHandler(queue_page, pattern=AssignQueue.filter()),
        CallbackQueryHandler(open_card, pattern=AssignOpen.filter()),
        CallbackQueryHandler(flag, pattern=AssignPriority.filter()),
        CallbackQueryHandler(ask_extension, pattern=ExtensionAsk.filter()),
        CallbackQueryHandler(grant_extension, pattern=ExtensionGrant.filter()),
        CallbackQueryHandler(refuse_extension, pattern=ExtensionRefuse.filter()),
        CallbackQueryHandler(confirm_outside, pattern=AssignConfirm.filter()),
        CallbackQueryHandler(decline_outside, pattern=DeclineConfirm.filter()),
    ]
