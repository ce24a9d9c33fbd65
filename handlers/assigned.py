"""/assigned: a department liaison's suggestions and the department's card of each; the
answer step by step (outcome class → met the deputy? → when → summary → commitments for a
ledger class → preview → confirm), which staff also reach from their card for a department
without the bot; the return (退办) and the request for more time. Buttons:
bot.runtime.buttons.assigned. Every step stores the typed draft and its step first
(bot.services.suggestion_answers), so a restart resumes where the person was."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import any_of
from bot.runtime.buttons.assign import AssignOpen
from bot.runtime.buttons.assigned import (
    AnswerCancel,
    AnswerClass,
    AnswerConfirm,
    AnswerDone,
    AnswerMet,
    AnswerMore,
    AnswerStart,
    AssignedOpen,
    AssignedPage,
    ExtensionStart,
    RequestCancel,
    RequestConfirm,
    RequestSkip,
    ReturnFor,
    ReturnStart,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.suggestion_answers import (
    ANSWER,
    COMMITMENT_MAX,
    MAX_COMMITMENTS,
    PROPOSED_MAX,
    REASON_MAX,
    REQUEST,
    SUMMARY_MAX,
    AnswerDraft,
    AnswerPreview,
    AnswerStep,
    AssignmentView,
    BackToStep,
    RequestKind,
    RequestPreview,
    RequestStep,
)
from bot.services.suggestion_trail import last_day
from handlers.assign import fit
from handlers.common import (
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    guarded,
    message_of,
    respond,
    saying,
    show_error,
)
from handlers.keyboards import button, paged
from handlers.suggestion_card import suggestion_head
from storage.models import Role, Suggestion, SuggestionState

END = DeclaredConversation.END
PER_PAGE = 5
MESSAGE_MAX = 4096
CARD_TEXT_ROOM = 1500  # the most the reason, and the proposals, take on the card, escaped
NAME_ROOM = 120  # a name, escaped: a deputy's, a department's
NAMES_ROOM = 400  # names joined, escaped: the co-signers
COMMITMENT_ROOM = 240  # a commitment's text, escaped, in a list of up to ten
ROLE = {True: "answers.role_lead", False: "answers.role_co"}
# Refusals the answer cannot get past: it ends, and the person is told why.
ANSWER_ENDING = frozenset(
    {
        "answers.already_answered",
        "answers.not_answerable",
        "answers.reassigned",
        "answers.not_your_assignment",
        "answers.co_cannot_answer",
        "answers.no_draft",
        "suggestion.unknown",
    }
)
REQUEST_ENDING = frozenset(
    {
        "answers.return_not_now",
        "answers.return_too_late",
        "answers.extension_not_now",
        "answers.already_extended",
        "answers.extension_already_asked",
        "answers.co_cannot_extend",
        "answers.not_your_assignment",
        "answers.return_for_gone",
        "answers.no_request",
        "suggestion.unknown",
    }
)


def deadline(context: BotContext, suggestion: Suggestion) -> str:
    """The answer's last day, and how many days are left or overdue."""
    texts = context.texts
    if suggestion.due_at is None:
        return texts("answers.no_deadline")
    last = last_day(suggestion.due_at, texts.zone)
    left = (last - context.services.suggestion_answers.today()).days
    shown = texts.date(last)
    if left > 0:
        return texts("answers.due_left", date=shown, days=left)
    if left == 0:
        return texts("answers.due_today", date=shown)
    return texts("answers.overdue", date=shown, days=-left)


# --- /assigned and the card ------------------------------------------------------------------


async def show_list(update: Update, context: BotContext, page: int) -> None:
    texts = context.texts
    listed = await context.services.suggestion_answers.assigned(context.user, page, PER_PAGE)
    department = escape(listed.department)
    if not listed.total:
        await respond(update, context, texts("answers.list_empty", department=department))
        return
    lines = [texts("answers.list_title", department=department, count=listed.total)]
    buttons = []
    for item in listed.page.items:
        s = item.suggestion
        mark = texts("answers.priority_mark") + " " if s.priority else ""
        lines.append(
            texts(
                "answers.list_item",
                head=mark + suggestion_head(texts, s),
                role=texts(ROLE[item.lead]),
                deadline=deadline(context, s),
            )
        )
        buttons.append(button(s.number, AssignedOpen(suggestion=s.id, page=listed.page.page)))
    markup = paged(
        buttons,
        listed.page.page,
        listed.page.pages,
        lambda p: AssignedPage(page=p),
        texts,
        columns=2,
    )
    await respond(update, context, "\n\n".join(lines), markup)


@guarded(Action.ANSWER_SUGGESTION)
async def assigned_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, 0)


@guarded(Action.ANSWER_SUGGESTION)
async def list_page(update: Update, context: BotContext) -> None:
    page = AssignedPage.of(update).page
    await answer_tap(update)
    await show_list(update, context, page)


def render_card(context: BotContext, view: AssignmentView) -> str:
    """The department's card, in one message: the reason and the proposals take what the
    other parts leave (clipped before they are escaped)."""
    texts = context.texts
    s = view.suggestion
    lines = [suggestion_head(texts, s)]
    own = view.own
    lines.append(
        texts(
            "answers.card_department",
            department=escape(own.department),
            role=texts(ROLE[own.assignment.lead]),
        )
    )
    if s.priority:
        lines.append(texts("answers.priority_mark") + " " + texts("answers.priority"))
    if s.state in (SuggestionState.ASSIGNED, SuggestionState.REHANDLING):
        lines.append(texts("answers.card_due", deadline=deadline(context, s)))
    if s.extended:
        lines.append(texts("answers.card_extended"))
    elif s.extension_requested_at is not None:
        lines.append(
            texts("answers.card_extension_asked", date=texts.date(s.extension_requested_at))
        )
    texts_at = len(lines)  # the reason and the proposals go here, once their room is known
    lines.append(texts("answers.card_deputy", deputy=fit(view.lead_deputy, NAME_ROOM) or "—"))
    if view.cosigners:
        joined = texts("answers.list_separator").join(view.cosigners)
        lines.append(texts("answers.card_cosigners", names=fit(joined, NAMES_ROOM)))
    if view.others:
        others = texts("answers.list_separator").join(
            texts(
                "answers.card_other",
                department=fit(h.department, NAME_ROOM),
                role=texts(ROLE[h.assignment.lead]),
            )
            for h in view.others
        )
        lines.append(texts("answers.card_others", departments=others))
    if not own.assignment.lead:
        lead = next((h.department for h in view.others if h.assignment.lead), "—")
        lines.append(texts("answers.card_co_note", lead=escape(lead)))
    if view.answer is not None:
        outcome = view.answer.outcome_class
        if view.answer_class is not None:
            outcome = f"{view.answer_class.code} {view.answer_class.label}"
        lines.append(
            texts(
                "answers.card_answered",
                date=texts.date(view.answer.answered_at),
                outcome=escape(outcome),
            )
        )
    if view.return_until is not None:
        lines.append(texts("answers.card_return_until", date=texts.date(view.return_until)))
    bare = [texts("answers.card_reason", reason=""), texts("answers.card_proposals", proposals="")]
    room = max(0, min(CARD_TEXT_ROOM, (MESSAGE_MAX - len("\n".join([*lines, *bare]))) // 2))
    lines[texts_at:texts_at] = [
        texts("answers.card_reason", reason=fit(s.reason, room)),
        texts("answers.card_proposals", proposals=fit(s.proposals, room)),
    ]
    return "\n".join(lines)


def card_markup(context: BotContext, view: AssignmentView, page: int) -> InlineKeyboardMarkup:
    texts = context.texts
    sid = view.suggestion.id
    rows: list[list[InlineKeyboardButton]] = []
    if view.may_answer:
        rows.append([button(texts("answers.answer_button"), AnswerStart(suggestion=sid))])
    actions = []
    if view.return_until is not None:
        actions.append(button(texts("answers.return_button"), ReturnStart(suggestion=sid)))
    if view.may_extend:
        actions.append(button(texts("answers.extension_button"), ExtensionStart(suggestion=sid)))
    if actions:
        rows.append(actions)
    rows.append([button(texts("answers.back_to_list"), AssignedPage(page=page))])
    return InlineKeyboardMarkup(rows)


@guarded(Action.ANSWER_SUGGESTION)
async def open_card(update: Update, context: BotContext) -> None:
    tapped = AssignedOpen.of(update)
    view = await context.services.suggestion_answers.view(context.user, tapped.suggestion)
    await answer_tap(update)
    await respond(
        update, context, render_card(context, view), card_markup(context, view, tapped.page)
    )


# --- the answer ------------------------------------------------------------------------------


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [button(context.texts("answers.cancel"), AnswerCancel())]


def _commitment_lines(texts: Texts, draft: AnswerDraft) -> str:
    return "\n".join(
        texts(
            "answers.commitment_line",
            index=i,
            text=fit(p.text, COMMITMENT_ROOM),
            date=texts.date(p.due_on),
        )
        for i, p in enumerate(draft.commitments, start=1)
    )


async def ask(update: Update, context: BotContext, draft: AnswerDraft, step: AnswerStep) -> None:
    """The prompt of `step` (the class is asked by `begin_answer`, the preview by
    `show_preview`), as a new message: the answer is long and its steps stay readable."""
    texts = context.texts
    answers = context.services.suggestion_answers
    rows: list[list[InlineKeyboardButton]] = []
    if step == AnswerStep.MET:
        text = texts("answers.ask_met")
        rows.append(
            [
                button(texts("answers.met_yes"), AnswerMet(met=True)),
                button(texts("answers.met_no"), AnswerMet(met=False)),
            ]
        )
    elif step == AnswerStep.MET_DATE:
        text = texts(
            "answers.ask_met_date",
            example=answers.today().isoformat(),
            assigned=texts.date(draft.assigned_on),
        )
    elif step == AnswerStep.SUMMARY:
        text = texts("answers.ask_summary", maximum=SUMMARY_MAX)
    elif step == AnswerStep.COMMITMENT:
        text = texts(
            "answers.ask_commitment", index=len(draft.commitments) + 1, maximum=COMMITMENT_MAX
        )
    elif step == AnswerStep.COMMITMENT_DATE:
        example = (answers.today() + timedelta(days=90)).isoformat()
        text = texts("answers.ask_commitment_date", example=example)
    elif step == AnswerStep.COMMITMENTS:
        text = texts(
            "answers.commitments_so_far",
            count=len(draft.commitments),
            commitments=_commitment_lines(texts, draft),
        )
        more = []
        if len(draft.commitments) < MAX_COMMITMENTS:
            more.append(button(texts("answers.add_commitment"), AnswerMore()))
        more.append(button(texts("answers.commitments_done"), AnswerDone()))
        rows.append(more)
    else:
        await show_preview(update, context)
        return
    rows.append(_cancel_row(context))
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=False)


def preview_text(texts: Texts, preview: AnswerPreview) -> str:
    """Everything the answer will say; the summary is clipped to keep one message."""
    draft = preview.draft
    if draft.met_deputy and draft.met_on is not None:
        met = texts("answers.met_on", date=texts.date(draft.met_on))
    else:
        met = texts("answers.not_met")
    commitments = ""
    if draft.commitments:
        commitments = texts(
            "answers.preview_commitments", commitments=_commitment_lines(texts, draft)
        )

    def render(summary: str) -> str:
        return texts(
            "answers.preview",
            head=suggestion_head(texts, preview.suggestion),
            department=escape(preview.department),
            outcome=escape(f"{preview.outcome.code} {preview.outcome.label}"),
            met=met,
            summary=summary,
            commitments=commitments,
            rate_by=texts.date(preview.rate_by),
        )

    return render(fit(draft.summary or "", MESSAGE_MAX - len(render(""))))


async def show_preview(update: Update, context: BotContext) -> None:
    preview = await context.services.suggestion_answers.preview(context.user)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("answers.confirm"), AnswerConfirm())], _cancel_row(context)]
    )
    await respond(update, context, preview_text(texts, preview), markup, edit=False)


async def _answer_ended(update: Update, context: BotContext, error: DomainError) -> int:
    await context.services.suggestion_answers.discard_answer(context.user, chat_id_of(update))
    await show_error(update, context, error)
    return END


@guarded(Action.ANSWER_SUGGESTION)
async def begin_answer(update: Update, context: BotContext) -> AnswerStep:
    tapped = AnswerStart.of(update)
    answers = context.services.suggestion_answers
    suggestion, department, classes = await answers.begin_answer(
        context.user, chat_id_of(update), tapped.suggestion
    )
    await answer_tap(update)
    texts = context.texts
    rows = [[button(f"{c.code} {c.label}", AnswerClass(code=c.code))] for c in classes]
    rows.append(_cancel_row(context))
    text = texts(
        "answers.ask_class",
        head=suggestion_head(texts, suggestion),
        department=escape(department),
    )
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=False)
    return AnswerStep.CLASS


async def _went(
    update: Update, context: BotContext, moved: tuple[AnswerDraft, AnswerStep]
) -> AnswerStep:
    draft, step = moved
    await answer_tap(update)
    await ask(update, context, draft, step)
    return step


@guarded(Action.ANSWER_SUGGESTION)
async def choose_class(update: Update, context: BotContext) -> AnswerStep:
    code = AnswerClass.of(update).code
    answers = context.services.suggestion_answers
    return await _went(
        update, context, await answers.choose_class(context.user, chat_id_of(update), code)
    )


@guarded(Action.ANSWER_SUGGESTION)
async def choose_met(update: Update, context: BotContext) -> AnswerStep:
    met = AnswerMet.of(update).met
    answers = context.services.suggestion_answers
    return await _went(
        update, context, await answers.set_met(context.user, chat_id_of(update), met)
    )


@guarded(Action.ANSWER_SUGGESTION)
async def typed_met_date(update: Update, context: BotContext) -> AnswerStep:
    answers = context.services.suggestion_answers
    moved = await answers.set_met_date(context.user, chat_id_of(update), message_of(update).text)
    return await _went(update, context, moved)


@guarded(Action.ANSWER_SUGGESTION)
async def typed_summary(update: Update, context: BotContext) -> AnswerStep:
    answers = context.services.suggestion_answers
    moved = await answers.set_summary(context.user, chat_id_of(update), message_of(update).text)
    return await _went(update, context, moved)


@guarded(Action.ANSWER_SUGGESTION)
async def typed_commitment(update: Update, context: BotContext) -> AnswerStep:
    answers = context.services.suggestion_answers
    text = message_of(update).text
    moved = await answers.set_commitment_text(context.user, chat_id_of(update), text)
    return await _went(update, context, moved)


@guarded(Action.ANSWER_SUGGESTION)
async def typed_commitment_date(update: Update, context: BotContext) -> AnswerStep:
    answers = context.services.suggestion_answers
    text = message_of(update).text
    moved = await answers.set_commitment_date(context.user, chat_id_of(update), text)
    return await _went(update, context, moved)


@guarded(Action.ANSWER_SUGGESTION)
async def more_commitments(update: Update, context: BotContext) -> AnswerStep:
    answers = context.services.suggestion_answers
    return await _went(
        update, context, await answers.more_commitments(context.user, chat_id_of(update))
    )


@guarded(Action.ANSWER_SUGGESTION)
async def commitments_done(update: Update, context: BotContext) -> AnswerStep:
    answers = context.services.suggestion_answers
    return await _went(
        update, context, await answers.commitments_done(context.user, chat_id_of(update))
    )


@guarded(Action.ANSWER_SUGGESTION)
async def confirm_answer(update: Update, context: BotContext) -> AnswerStep | int:
    answers = context.services.suggestion_answers
    try:
        answered = await answers.submit_answer(context.user, chat_id_of(update))
    except BackToStep as back:  # the draft went back to the step to redo: ask it again
        await show_error(update, context, back)
        await ask(update, context, await answers.answer_draft(context.user), back.step)
        return back.step
    except DomainError as error:
        if error.key in ANSWER_ENDING:
            return await _answer_ended(update, context, error)
        raise
    await answer_tap(update)
    texts = context.texts
    text = texts(
        "answers.recorded",
        head=suggestion_head(texts, answered.suggestion),
        department=escape(answered.department),
        outcome=escape(f"{answered.outcome.code} {answered.outcome.label}"),
        rate_by=texts.date(answered.rate_by),
        cosigners=answered.cosigners,
        voters=answered.voters,
    )
    markup = None
    if context.user.role == Role.LIAISON:
        markup = InlineKeyboardMarkup(
            [[button(texts("answers.back_to_list"), AssignedPage(page=0))]]
        )
    await respond(update, context, text, markup)
    return END


async def cancel_answer(update: Update, context: BotContext) -> int:
    await context.services.suggestion_answers.discard_answer(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("answers.cancelled"))
    return END


# --- 退办 and more time ----------------------------------------------------------------------


def _request_cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [button(context.texts("answers.cancel"), RequestCancel())]


async def _begin_request(update: Update, context: BotContext, kind: RequestKind) -> RequestStep:
    if kind == RequestKind.RETURN:
        target = ReturnStart.of(update).suggestion
    else:
        target = ExtensionStart.of(update).suggestion
    answers = context.services.suggestion_answers
    suggestion, step, last = await answers.begin_request(
        context.user, chat_id_of(update), target, kind
    )
    await answer_tap(update)
    texts = context.texts
    head = suggestion_head(texts, suggestion)
    if kind == RequestKind.RETURN and last is not None:
        text = texts(
            "answers.ask_return_reason", head=head, date=texts.date(last), maximum=REASON_MAX
        )
    else:
        text = texts(
            "answers.ask_extension_reason",
            head=head,
            deadline=deadline(context, suggestion),
            maximum=REASON_MAX,
        )
    markup = InlineKeyboardMarkup([_request_cancel_row(context)])
    await respond(update, context, text, markup, edit=False)
    return step


@guarded(Action.ANSWER_SUGGESTION)
async def begin_return(update: Update, context: BotContext) -> RequestStep:
    return await _begin_request(update, context, RequestKind.RETURN)


@guarded(Action.ANSWER_SUGGESTION)
async def begin_extension(update: Update, context: BotContext) -> RequestStep:
    return await _begin_request(update, context, RequestKind.EXTENSION)


@guarded(Action.ASSIGN_SUGGESTION)
async def begin_return_for(update: Update, context: BotContext) -> RequestStep:
    """Staff return a department's assignment on its behalf, from the staff card."""
    tapped = ReturnFor.of(update)
    answers = context.services.suggestion_answers
    suggestion, handling = await answers.begin_return_for(
        context.user, chat_id_of(update), tapped.assignment
    )
    await answer_tap(update)
    texts = context.texts
    text = texts(
        "answers.ask_return_for_reason",
        head=suggestion_head(texts, suggestion),
        department=escape(handling.department),
        role=texts(ROLE[handling.assignment.lead]),
        maximum=REASON_MAX,
    )
    markup = InlineKeyboardMarkup([_request_cancel_row(context)])
    await respond(update, context, text, markup, edit=False)
    return RequestStep.RETURN_REASON


def request_preview_text(context: BotContext, preview: RequestPreview) -> str:
    texts = context.texts
    draft = preview.draft
    head = suggestion_head(texts, preview.suggestion)
    if draft.kind == RequestKind.RETURN:
        key = "answers.return_for_preview" if draft.on_behalf else "answers.return_preview"
        return texts(
            key,
            head=head,
            department=escape(preview.handling.department),
            role=texts(ROLE[preview.handling.assignment.lead]),
            reason=escape(draft.reason or ""),
            proposed=escape(draft.proposed or "—"),
        )
    return texts(
        "answers.extension_preview",
        head=head,
        deadline=deadline(context, preview.suggestion),
        reason=escape(draft.reason or ""),
    )


async def _ask_request(update: Update, context: BotContext, step: RequestStep) -> RequestStep:
    texts = context.texts
    if step == RequestStep.RETURN_DEPARTMENT:
        text = texts("answers.ask_proposed", maximum=PROPOSED_MAX)
        rows = [[button(texts("answers.skip"), RequestSkip())], _request_cancel_row(context)]
    else:
        preview = await context.services.suggestion_answers.request_preview(context.user)
        text = request_preview_text(context, preview)
        rows = [
            [button(texts("answers.confirm"), RequestConfirm())],
            _request_cancel_row(context),
        ]
    await answer_tap(update)
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=False)
    return step


@guarded(Action.ANSWER_SUGGESTION)
async def typed_reason(update: Update, context: BotContext) -> RequestStep:
    answers = context.services.suggestion_answers
    step = await answers.set_reason(context.user, chat_id_of(update), message_of(update).text)
    return await _ask_request(update, context, step)


@guarded(Action.ANSWER_SUGGESTION)
async def typed_proposed(update: Update, context: BotContext) -> RequestStep:
    answers = context.services.suggestion_answers
    step = await answers.set_proposed(context.user, chat_id_of(update), message_of(update).text)
    return await _ask_request(update, context, step)


@guarded(Action.ANSWER_SUGGESTION)
async def skip_proposed(update: Update, context: BotContext) -> RequestStep:
    answers = context.services.suggestion_answers
    step = await answers.set_proposed(context.user, chat_id_of(update), None)
    return await _ask_request(update, context, step)


@guarded(Action.ANSWER_SUGGESTION)
async def confirm_request(update: Update, context: BotContext) -> int:
    answers = context.services.suggestion_answers
    try:
        done = await answers.submit_request(context.user, chat_id_of(update))
    except DomainError as error:
        if error.key in REQUEST_ENDING:
            await answers.discard_request(context.user, chat_id_of(update))
            await show_error(update, context, error)
            return END
        raise
    await answer_tap(update)
    texts = context.texts
    head = suggestion_head(texts, done.suggestion)
    if done.draft.on_behalf:  # staff: back to their card of it
        text = texts("answers.returned_for", head=head, department=escape(done.handling.department))
        back = button(
            texts("answers.back_to_card"), AssignOpen(suggestion=done.suggestion.id, page=0)
        )
    else:
        key = (
            "answers.returned"
            if done.draft.kind == RequestKind.RETURN
            else "answers.extension_asked"
        )
        text = texts(key, head=head)
        back = button(texts("answers.back_to_list"), AssignedPage(page=0))
    await respond(update, context, text, InlineKeyboardMarkup([[back]]))
    return END


async def cancel_request(update: Update, context: BotContext) -> int:
    await context.services.suggestion_answers.discard_request(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("answers.cancelled"))
    return END


# --- registration ------------------------------------------------------------------------------

in_progress = saying("answers.in_progress")
send_text = saying("answers.send_text")
use_buttons = saying("answers.use_buttons")
busy = alerting("answers.in_progress")
stale_button = alerting("error.stale_button")


@guarded(Action.ANSWER_SUGGESTION)
async def answer_gone(update: Update, context: BotContext) -> None:
    """A step's button once the answer was submitted or cancelled (a double tap)."""
    raise DomainError("answers.no_draft")


@guarded(Action.ANSWER_SUGGESTION)
async def request_gone(update: Update, context: BotContext) -> None:
    raise DomainError("answers.no_request")


ANSWER_BUTTONS = (AnswerClass, AnswerMet, AnswerMore, AnswerDone, AnswerConfirm)
REQUEST_BUTTONS = (RequestSkip, RequestConfirm)


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    not_command = ~filters.COMMAND
    typed_text = MessageHandler(not_command, send_text)
    buttons_only = MessageHandler(not_command, use_buttons)
    answer = DeclaredConversation(
        ANSWER,
        entry_points=[CallbackQueryHandler(begin_answer, pattern=AnswerStart.filter())],
        states={
            AnswerStep.CLASS: [
                CallbackQueryHandler(choose_class, pattern=AnswerClass.filter()),
                buttons_only,
            ],
            AnswerStep.MET: [
                CallbackQueryHandler(choose_met, pattern=AnswerMet.filter()),
                buttons_only,
            ],
            AnswerStep.MET_DATE: [MessageHandler(text, typed_met_date), typed_text],
            AnswerStep.SUMMARY: [MessageHandler(text, typed_summary), typed_text],
            AnswerStep.COMMITMENT: [MessageHandler(text, typed_commitment), typed_text],
            AnswerStep.COMMITMENT_DATE: [
                MessageHandler(text, typed_commitment_date),
                typed_text,
            ],
            AnswerStep.COMMITMENTS: [
                CallbackQueryHandler(more_commitments, pattern=AnswerMore.filter()),
                CallbackQueryHandler(commitments_done, pattern=AnswerDone.filter()),
                buttons_only,
            ],
            AnswerStep.PREVIEW: [
                CallbackQueryHandler(confirm_answer, pattern=AnswerConfirm.filter()),
                buttons_only,
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_answer),
            CallbackQueryHandler(cancel_answer, pattern=AnswerCancel.filter()),
            CallbackQueryHandler(busy, pattern=AnswerStart.filter()),
            CallbackQueryHandler(stale_button, pattern=any_of(*ANSWER_BUTTONS)),
            MessageHandler(filters.COMMAND, in_progress),
        ],
    )
    request = DeclaredConversation(
        REQUEST,
        entry_points=[
            CallbackQueryHandler(begin_return, pattern=ReturnStart.filter()),
            CallbackQueryHandler(begin_extension, pattern=ExtensionStart.filter()),
            CallbackQueryHandler(begin_return_for, pattern=ReturnFor.filter()),
        ],
        states={
            RequestStep.RETURN_REASON: [MessageHandler(text, typed_reason), typed_text],
            RequestStep.RETURN_DEPARTMENT: [
                MessageHandler(text, typed_proposed),
                CallbackQueryHandler(skip_proposed, pattern=RequestSkip.filter()),
                typed_text,
            ],
            RequestStep.RETURN_CONFIRM: [
                CallbackQueryHandler(confirm_request, pattern=RequestConfirm.filter()),
                buttons_only,
            ],
            RequestStep.EXTENSION_REASON: [MessageHandler(text, typed_reason), typed_text],
            RequestStep.EXTENSION_CONFIRM: [
                CallbackQueryHandler(confirm_request, pattern=RequestConfirm.filter()),
                buttons_only,
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_request),
            CallbackQueryHandler(cancel_request, pattern=RequestCancel.filter()),
            CallbackQueryHandler(busy, pattern=any_of(ReturnStart, ExtensionStart, ReturnFor)),
            CallbackQueryHandler(stale_button, pattern=any_of(*REQUEST_BUTTONS)),
            MessageHandler(filters.COMMAND, in_progress),
        ],
    )
    return [
        answer,
        request,
        CommandHandler("assigned", assigned_command),
        CallbackQueryHandler(list_page, pattern=AssignedPage.filter()),
        CallbackQueryHandler(open_card, pattern=AssignedOpen.filter()),
        CallbackQueryHandler(answer_gone, pattern=any_of(*ANSWER_BUTTONS, AnswerCancel)),
        CallbackQueryHandler(request_gone, pattern=any_of(*REQUEST_BUTTONS, RequestCancel)),
    ]
