"""A consultation's report for staff, from the ReportOpen button of its closing notice: the
summary in chat, then the .xlsx and the .docx 意见汇总 as documents. From the summary, staff
mark comments adopted (the targets with comments, then a page of one target's comments with
a ✓ toggle each: taps, nothing to type on a phone) and write the feedback note
(意见采纳情况反馈), a declared conversation: write → preview → publish. Buttons:
bot.runtime.buttons.consultation_report."""

from __future__ import annotations

import io
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons.consultation_report import (
    AdoptComments,
    AdoptStart,
    AdoptTargets,
    AdoptToggle,
    FeedbackCancel,
    FeedbackPublish,
    FeedbackWrite,
    ReportOpen,
    TargetKind,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import KEEPER_KEY, ConversationKeeper, DeclaredConversation
from bot.services.consultation_documents import (
    KIND_LABELS,
    ReportSummary,
    Target,
    answer_text,
    author_name,
    target_label,
)
from bot.services.consultation_reports import FEEDBACK, FeedbackStep, TargetPage
from bot.services.draft_split import article_label
from bot.services.text import telegram_length
from handlers.common import (
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    clip,
    guarded,
    message_of,
    respond,
    saying,
    sender_of,
    show_error,
    tap_of,
)
from handlers.keyboards import button, paged
from storage.models import Consultation, ConsultationState, PersonKind

Step = FeedbackStep
END = DeclaredConversation.END
TOP_ARTICLES = 10  # the most-discussed articles the summary names
TARGETS_PER_PAGE = 8
COMMENTS_PER_PAGE = 5
COMMENT_CLIP = 300  # characters of a comment shown in the list to mark
QUESTION_CLIP = 200
TARGET_CLIP = 24  # a key question's text on a button
CHOICE_CLIP = 60
# by whether a comment is adopted: its mark, its toggle's label, what a tap on it says
MARKS = {True: "report.mark_on", False: "report.mark_off"}
TOGGLES = {True: "report.toggle_on", False: "report.toggle_off"}
TOGGLED = {True: "report.adopted_now", False: "report.adopted_no_more"}
SUMMARY_LIMIT = 4000  # below Telegram's 4,096, measured on the HTML (never shorter)


# --- the summary --------------------------------------------------------------------------


def _kinds(texts: Texts, counts: dict[PersonKind, int]) -> str:
    """The kinds present with their counts, as "（代表 3，选民 10）"; nothing when none is."""
    parts = [
        texts("report.kind_count", kind=texts(KIND_LABELS[kind]), count=texts.number(count))
        for kind, count in sorted(counts.items())
        if count
    ]
    return texts("report.kinds", list=texts("report.separator").join(parts)) if parts else ""


def _head(texts: Texts, summary: ReportSummary) -> list[str]:
    consultation = summary.consultation
    lines = [texts("report.summary_title", title=escape(consultation.title))]
    if consultation.state == ConsultationState.CLOSED:
        closed = consultation.closed_at or consultation.deadline
        lines.append(texts("report.summary_closed", closed=texts.datetime(closed)))
    else:
        lines.append(texts("report.summary_so_far", deadline=texts.datetime(consultation.deadline)))
    lines += [
        texts(
            "report.summary_invited",
            count=texts.number(summary.invited),
            kinds=_kinds(texts, summary.invited_by_kind),
        ),
        texts(
            "report.summary_commenters",
            count=texts.number(summary.commenters),
            kinds=_kinds(texts, summary.commenters_by_kind),
        ),
        texts(
            "report.summary_comments",
            count=texts.number(summary.comments),
            whole=texts.number(summary.whole),
            adopted=texts.number(summary.adopted),
        ),
    ]
    if consultation.feedback_at is not None:
        lines.append(texts("report.summary_feedback", on=texts.datetime(consultation.feedback_at)))
    return lines


def _articles(texts: Texts, summary: ReportSummary) -> list[str]:
    if not summary.articles:
        return [texts("report.summary_no_article_comments")]
    lines = [texts("report.summary_by_article")]
    lines += [
        texts(
            "report.summary_article",
            article=article_label(a.number, texts, a.sub),
            count=texts.number(a.comments),
        )
        for a in summary.articles[:TOP_ARTICLES]
    ]
    rest = len(summary.articles) - TOP_ARTICLES
    if rest > 0:
        lines.append(texts("report.summary_more_articles", count=texts.number(rest)))
    return lines


def _question(texts: Texts, summary: ReportSummary, index: int) -> list[str]:
    answers = summary.questions[index]
    question = answers.question
    lines = [
        texts(
            "report.summary_question",
            number=question.position + 1,
            question=escape(clip(question.text, QUESTION_CLIP)),
            count=texts.number(answers.answers),
        )
    ]
    lines += [
        texts(
            "report.summary_choice",
            choice=escape(clip(choice.choice, CHOICE_CLIP)),
            count=texts.number(choice.count),
            percent=choice.percent,
        )
        for choice in answers.choices
    ]
    lines.append(texts("report.summary_free_text", count=texts.number(answers.free_text)))
    return lines


def render_summary(texts: Texts, summary: ReportSummary) -> str:
    """The summary in one message: head figures, the most-discussed articles, the key
    questions' answers; whatever would pass Telegram's limit is left to the files."""
    blocks = ["\n".join(_head(texts, summary)), "\n".join(_articles(texts, summary))]
    if summary.questions:
        blocks.append(texts("report.summary_questions"))
        blocks += ["\n".join(_question(texts, summary, i)) for i in range(len(summary.questions))]
    cut = texts("report.summary_cut")
    text = ""
    for block in blocks:
        candidate = f"{text}\n\n{block}" if text else block
        if telegram_length(candidate) + telegram_length(cut) + 2 > SUMMARY_LIMIT:
            return f"{text}\n\n{cut}"
        text = candidate
    return text


def _report_keyboard(texts: Texts, consultation: Consultation) -> InlineKeyboardMarkup:
    rows = [[button(texts("report.button_adopt"), AdoptStart(consultation=consultation.id))]]
    if consultation.feedback_at is None:
        rows.append(
            [button(texts("report.button_feedback"), FeedbackWrite(consultation=consultation.id))]
        )
    rows.append([button(texts("report.button_again"), ReportOpen(consultation=consultation.id))])
    return InlineKeyboardMarkup(rows)


@guarded(Action.OPEN_CONSULTATION)
async def open_report(update: Update, context: BotContext) -> None:
    """The summary; for a closed consultation its buttons and then the two files."""
    consultation_id = ReportOpen.of(update).consultation
    reports = context.services.consultation_reports
    texts = context.texts
    summary = await reports.summary(context.user, consultation_id)
    await answer_tap(update)
    consultation = summary.consultation
    if consultation.state != ConsultationState.CLOSED:
        await respond(update, context, render_summary(texts, summary), edit=False)
        return
    markup = _report_keyboard(texts, consultation)
    await respond(update, context, render_summary(texts, summary), markup, edit=False)
    chat_id = chat_id_of(update)
    xlsx, docx = await reports.files(context.user, consultation_id, texts)
    for made, caption in ((xlsx, "report.caption_xlsx"), (docx, "report.caption_docx")):
        await context.bot.send_document(
            chat_id, io.BytesIO(made.data), filename=made.name, caption=texts(caption)
        )


# --- marking comments adopted ---------------------------------------------------------------


def _target_of(kind: TargetKind, ref: int) -> Target:
    if kind == TargetKind.ARTICLE:
        return Target(ref, None)
    if kind == TargetKind.QUESTION:
        return Target(None, ref)
    return Target(None, None)


def _button_of(consultation: int, target: Target, page: int) -> AdoptComments:
    if target.question_id is not None:
        return AdoptComments(
            consultation=consultation, kind=TargetKind.QUESTION, ref=target.question_id, page=page
        )
    if target.article_position is not None:
        return AdoptComments(
            consultation=consultation,
            kind=TargetKind.ARTICLE,
            ref=target.article_position,
            page=page,
        )
    return AdoptComments(consultation=consultation, kind=TargetKind.WHOLE, ref=0, page=page)


async def show_targets(
    update: Update, context: BotContext, consultation: int, page: int, *, edit: bool = True
) -> None:
    texts = context.texts
    listed = await context.services.consultation_reports.targets(
        context.user, consultation, page, TARGETS_PER_PAGE
    )
    await answer_tap(update)
    title = escape(listed.consultation.title)
    if not listed.page.items:
        await respond(update, context, texts("report.adopt_nothing", title=title), edit=edit)
        return
    buttons = [
        button(
            texts(
                "report.adopt_target",
                target=target_label(
                    texts, item.target, listed.numbers, listed.questions, TARGET_CLIP
                ),
                count=texts.number(item.comments),
                adopted=texts.number(item.adopted),
            ),
            _button_of(consultation, item.target, 0),
        )
        for item in listed.page.items
    ]
    markup = paged(
        buttons,
        listed.page.page,
        listed.page.pages,
        lambda p: AdoptTargets(consultation=consultation, page=p),
        texts,
    )
    await respond(update, context, texts("report.adopt_targets", title=title), markup, edit=edit)


@guarded(Action.OPEN_CONSULTATION)
async def adopt_start(update: Update, context: BotContext) -> None:
    """From the summary: the targets in a new message, so the summary stays."""
    consultation = AdoptStart.of(update).consultation
    await show_targets(update, context, consultation, 0, edit=False)


@guarded(Action.OPEN_CONSULTATION)
async def adopt_targets(update: Update, context: BotContext) -> None:
    tapped = AdoptTargets.of(update)
    await show_targets(update, context, tapped.consultation, tapped.page)


def _comment_line(texts: Texts, ordinal: int, page: TargetPage, index: int) -> str:
    _, comment = page.comments[index]
    where = texts(KIND_LABELS[comment.author_kind])
    if comment.station:
        where = texts("report.kind_at_station", kind=where, station=comment.station)
    return texts(
        "report.adopt_comment",
        number=ordinal,
        mark=texts(MARKS[comment.adopted]),
        where=escape(where),
        name=escape(author_name(texts, comment)),
        text=escape(clip(answer_text(comment), COMMENT_CLIP)),
    )


def _target_title(texts: Texts, page: TargetPage) -> str:
    target = page.target
    position = target.article_position
    numbers = {position: (page.number, page.sub)} if position is not None else {}
    questions = {page.question.id: page.question} if page.question is not None else {}
    return target_label(texts, target, numbers, questions, QUESTION_CLIP)


async def show_comments(
    update: Update, context: BotContext, consultation: int, target: Target, page: int
) -> None:
    texts = context.texts
    shown = await context.services.consultation_reports.target_page(
        context.user, consultation, target, page, COMMENTS_PER_PAGE
    )
    lines = [
        texts(
            "report.adopt_head",
            target=escape(_target_title(texts, shown)),
            count=texts.number(shown.total),
            adopted=texts.number(shown.adopted),
        )
    ]
    lines += [
        _comment_line(texts, ordinal, shown, index)
        for index, (ordinal, _) in enumerate(shown.comments)
    ]
    toggles = [
        button(
            texts(TOGGLES[c.adopted], number=ordinal),
            AdoptToggle(comment=c.id, page=shown.page),
        )
        for ordinal, c in shown.comments
    ]
    rows = [toggles] if toggles else []
    nav = paged(
        [],
        shown.page,
        shown.pages,
        lambda p: _button_of(consultation, target, p),
        texts,
        extra=[button(texts("nav.back"), AdoptTargets(consultation=consultation, page=0))],
    )
    markup = InlineKeyboardMarkup([*rows, *nav.inline_keyboard])
    await respond(update, context, "\n\n".join(lines), markup)


@guarded(Action.OPEN_CONSULTATION)
async def adopt_comments(update: Update, context: BotContext) -> None:
    tapped = AdoptComments.of(update)
    target = _target_of(tapped.kind, tapped.ref)
    await show_comments(update, context, tapped.consultation, target, tapped.page)
    await answer_tap(update)


@guarded(Action.OPEN_CONSULTATION)
async def adopt_toggle(update: Update, context: BotContext) -> None:
    tapped = AdoptToggle.of(update)
    reports = context.services.consultation_reports
    consultation, target, adopted = await reports.toggle_adopted(context.user, tapped.comment)
    await tap_of(update).answer(context.texts(TOGGLED[adopted]))
    await show_comments(update, context, consultation, target, tapped.page)


# --- the feedback note --------------------------------------------------------------------


def _cancel_row(texts: Texts) -> list[InlineKeyboardButton]:
    return [button(texts("report.feedback_cancel"), FeedbackCancel())]


@guarded(Action.OPEN_CONSULTATION)
async def begin_feedback(update: Update, context: BotContext) -> Step | None:
    consultation = FeedbackWrite.of(update).consultation
    chat_id, user_id = chat_id_of(update), sender_of(update).id
    keeper: ConversationKeeper = context.application.bot_data[KEEPER_KEY]
    where = await context.services.conversations.whereabouts(chat_id, user_id)
    left = {name: step for name, (_, step) in where.active.items()}
    if not await keeper.make_room(update, FEEDBACK.name, left):  # one at a time
        raise DomainError("conversation.busy")
    await context.services.consultation_reports.begin_feedback(context.user, chat_id, consultation)
    await answer_tap(update)
    texts = context.texts
    markup = InlineKeyboardMarkup([_cancel_row(texts)])
    await respond(update, context, texts("report.feedback_ask"), markup, edit=False)
    return Step.WRITE


# refusals after which the note cannot be published: the conversation ends with them
ENDING = ("report.feedback_already", "report.not_closed", "report.unknown")


async def _refused(
    update: Update, context: BotContext, error: DomainError, consultation: int | None = None
) -> int | None:
    """Say why; when the note can no longer go out, drop it and leave the conversation. A
    stale button of another consultation (`consultation`) leaves the note being written be."""
    await show_error(update, context, error)
    if error.key not in ENDING:
        return None
    reports = context.services.consultation_reports
    if consultation is not None:
        writing = (await reports.feedback_draft(context.user)).consultation
        if writing not in (None, consultation):
            return None
    await reports.discard_feedback(context.user, chat_id_of(update))
    return END


@guarded(Action.OPEN_CONSULTATION)
async def receive_feedback(update: Update, context: BotContext) -> Step | int | None:
    """The note typed (again at the preview: it replaces the last one); its preview."""
    texts = context.texts
    try:
        preview = await context.services.consultation_reports.set_feedback(
            context.user, chat_id_of(update), message_of(update).text
        )
    except DomainError as error:
        return await _refused(update, context, error)
    text = texts(
        "report.feedback_preview",
        title=escape(preview.consultation.title),
        feedback=escape(preview.text),
        count=texts.number(preview.recipients),
        adopted=texts.number(preview.adopted),
    )
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    texts("report.feedback_publish"),
                    FeedbackPublish(consultation=preview.consultation.id),
                )
            ],
            _cancel_row(texts),
        ]
    )
    await respond(update, context, text, markup, edit=False)
    return Step.PREVIEW


@guarded(Action.OPEN_CONSULTATION)
async def publish(update: Update, context: BotContext) -> int | None:
    """Publish the previewed note; tapped again later, it says when it was published."""
    consultation = FeedbackPublish.of(update).consultation
    try:
        told = await context.services.consultation_reports.publish(
            context.user, chat_id_of(update), consultation
        )
    except DomainError as error:
        return await _refused(update, context, error, consultation)
    await answer_tap(update)
    texts = context.texts
    await respond(update, context, texts("report.feedback_published", count=texts.number(told)))
    return END


async def cancel(update: Update, context: BotContext) -> int:
    await context.services.consultation_reports.discard_feedback(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("report.feedback_cancelled"))
    return END


text_only = saying("report.feedback_text_only")


use_buttons = saying("report.feedback_use_buttons")


command_in_middle = saying("report.feedback_in_progress")


# Write feedback tapped while a note is being written.
busy = alerting("report.feedback_in_progress")


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    not_command = ~filters.COMMAND
    conversation = DeclaredConversation(
        FEEDBACK,
        entry_points=[CallbackQueryHandler(begin_feedback, pattern=FeedbackWrite.filter())],
        states={
            Step.WRITE: [
                MessageHandler(text, receive_feedback),
                MessageHandler(not_command, text_only),
            ],
            Step.PREVIEW: [
                CallbackQueryHandler(publish, pattern=FeedbackPublish.filter()),
                MessageHandler(text, receive_feedback),
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=FeedbackCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
            CallbackQueryHandler(busy, pattern=FeedbackWrite.filter()),
        ],
    )
    return [
        conversation,
        CallbackQueryHandler(open_report, pattern=ReportOpen.filter()),
        CallbackQueryHandler(adopt_start, pattern=AdoptStart.filter()),
        CallbackQueryHandler(adopt_targets, pattern=AdoptTargets.filter()),
        CallbackQueryHandler(adopt_comments, pattern=AdoptComments.filter()),
        CallbackQueryHandler(adopt_toggle, pattern=AdoptToggle.filter()),
        # Publish tapped again once the note went: says when it was published
        CallbackQueryHandler(publish, pattern=FeedbackPublish.filter()),
    ]
