"""The lead deputy rates a suggestion's answer: the answer (from the "answered" notice or the
reminder), 满意 / 基本满意 / 不满意, an optional comment typed, then confirm; 不满意 may ask
once for re-handling (重新办理). Rules: bot.services.suggestion_feedback; buttons:
bot.runtime.buttons.suggestion_rating. The chosen rating and the comment are kept as the
RATE conversation's draft, so a restart resumes at the confirmation."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons.suggestion_rating import RateCancel, RateChoose, RateConfirm, RateOpen
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.suggestion_feedback import (
    COMMENT_MAX,
    RATE,
    AnswerView,
    RatePreview,
    RateStep,
)
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
from handlers.keyboards import button
from handlers.suggestion_card import suggestion_head
from storage.models import SuggestionAnswer, SuggestionRating

Step = RateStep
END = DeclaredConversation.END
SUMMARY_SHOWN = 1200  # characters of the answer's summary in the view (4,096 in all)
COMMITMENT_SHOWN = 150
# refusals after which the rating cannot go on: the conversation ends with them
ENDING = (
    "suggestion.unknown",
    "rating.not_lead",
    "rating.not_awaiting",
    "rating.already_rated",
    "rating.too_late",
    "rating.no_draft",
    "rating.no_third_round",
)


def _rating(texts: Texts, rating: SuggestionRating) -> str:
    return texts(f"suggestion.rating.{rating.value}")


def met_line(texts: Texts, answer: SuggestionAnswer) -> str:
    """Whether (and when) the department met the deputy before answering (见面/沟通)."""
    if answer.met_on is not None:
        return texts("rating.met_on", day=texts.date(answer.met_on))
    if answer.met_deputy:
        return texts("rating.met_yes")
    return texts("rating.met_no")


def render_answer(texts: Texts, view: AnswerView) -> str:
    """The head, who answered with what class, the meeting, the summary, what was promised."""
    answer = view.answer
    lines = [
        suggestion_head(texts, view.suggestion),
        texts(
            "rating.answer",
            department=escape(view.department),
            outcome=escape(view.outcome),
            answered=texts.date(answer.answered_at),
            met=met_line(texts, answer),
            summary=escape(clip(answer.summary, SUMMARY_SHOWN)),
        ),
    ]
    if view.commitments:
        lines.append(texts("rating.commitments"))
        lines += [
            texts(
                "rating.commitment",
                text=escape(clip(c.text, COMMITMENT_SHOWN)),
                day=texts.date(c.due_on),
            )
            for c in view.commitments
        ]
    return "\n".join(lines)


def _choices(texts: Texts, suggestion_id: int) -> list[InlineKeyboardButton]:
    return [
        button(_rating(texts, r), RateChoose(suggestion=suggestion_id, rating=r))
        for r in SuggestionRating
    ]


async def _refused(update: Update, context: BotContext, error: DomainError) -> int | None:
    """Say why; when the rating can no longer be given, drop its draft and leave."""
    await show_error(update, context, error)
    if error.key not in ENDING:
        return None
    await context.services.suggestion_feedback.discard(context.user, chat_id_of(update))
    return END


@guarded(Action.RATE_SUGGESTION)
async def open_answer(update: Update, context: BotContext) -> None:
    """The answer and the three ratings (as a new message below a notice)."""
    tapped = RateOpen.of(update)
    view = await context.services.suggestion_feedback.view(context.user, tapped.suggestion)
    await answer_tap(update)
    texts = context.texts
    ask = "rating.ask_again" if view.suggestion.rehandled else "rating.ask"
    text = render_answer(texts, view) + "\n\n" + texts(ask, day=texts.date(view.last_day))
    markup = InlineKeyboardMarkup([_choices(texts, view.suggestion.id)])
    await respond(update, context, text, markup, edit=not tapped.fresh)


async def show_preview(
    update: Update, context: BotContext, preview: RatePreview, *, edit: bool
) -> None:
    """The rating chosen, the comment so far, and how to confirm it."""
    texts = context.texts
    view = preview.view
    suggestion_id = view.suggestion.id
    lines = [
        suggestion_head(texts, view.suggestion),
        texts("rating.chosen", rating=_rating(texts, preview.rating)),
    ]
    if preview.comment:
        lines.append(texts("rating.comment_shown", comment=escape(preview.comment)))
    lines.append(texts("rating.ask_comment", maximum=COMMENT_MAX))
    rows: list[list[InlineKeyboardButton]] = []
    if preview.rating != SuggestionRating.UNSATISFIED:
        confirm = RateConfirm(suggestion=suggestion_id, rehandle=False)
        rows.append([button(texts("rating.confirm"), confirm)])
    else:
        if view.may_rehandle:
            lines.append(texts("rating.rehandle_explained"))
            rehandle = RateConfirm(suggestion=suggestion_id, rehandle=True)
            rows.append([button(texts("rating.confirm_rehandle"), rehandle)])
        else:
            lines.append(texts("rating.no_more_rehandling"))
        close = RateConfirm(suggestion=suggestion_id, rehandle=False)
        rows.append([button(texts("rating.confirm_close"), close)])
    others = [
        b
        for r, b in zip(SuggestionRating, _choices(texts, suggestion_id), strict=True)
        if r != preview.rating
    ]
    rows.append(others)
    rows.append([button(texts("rating.cancel"), RateCancel())])
    await respond(update, context, "\n\n".join(lines), InlineKeyboardMarkup(rows), edit=edit)


@guarded(Action.RATE_SUGGESTION)
async def choose(update: Update, context: BotContext) -> Step | int | None:
    """满意 / 基本满意 / 不满意 tapped (opens the rating, or changes it)."""
    tapped = RateChoose.of(update)
    feedback = context.services.suggestion_feedback
    try:
        preview = await feedback.choose(
            context.user, chat_id_of(update), tapped.suggestion, tapped.rating
        )
    except DomainError as error:
        if error.key == "conversation.busy":  # another conversation: leave it be
            await show_error(update, context, error)
            return None
        return await _refused(update, context, error)
    await answer_tap(update)
    await show_preview(update, context, preview, edit=True)
    return Step.CONFIRM


@guarded(Action.RATE_SUGGESTION)
async def comment(update: Update, context: BotContext) -> Step | int | None:
    """A comment typed (again: it replaces the last one)."""
    feedback = context.services.suggestion_feedback
    try:
        preview = await feedback.comment(context.user, chat_id_of(update), message_of(update).text)
    except DomainError as error:
        return await _refused(update, context, error)
    await show_preview(update, context, preview, edit=False)
    return Step.CONFIRM


@guarded(Action.RATE_SUGGESTION)
async def confirm(update: Update, context: BotContext) -> int | None:
    tapped = RateConfirm.of(update)
    try:
        rated = await context.services.suggestion_feedback.confirm(
            context.user, chat_id_of(update), tapped.suggestion, tapped.rehandle
        )
    except DomainError as error:
        return await _refused(update, context, error)
    await answer_tap(update)
    texts = context.texts
    head = suggestion_head(texts, rated.suggestion)
    if rated.rehandling and rated.due_on is not None:
        text = texts("rating.rehandling_asked", due=texts.date(rated.due_on))
    else:
        text = texts("rating.given", rating=_rating(texts, rated.rating))
    await respond(update, context, head + "\n\n" + text)
    return END


async def cancel(update: Update, context: BotContext) -> int:
    await context.services.suggestion_feedback.discard(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("rating.cancelled"))
    return END


text_only = saying("rating.text_only")
command_in_middle = saying("rating.in_progress")


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    conversation = DeclaredConversation(
        RATE,
        entry_points=[CallbackQueryHandler(choose, pattern=RateChoose.filter())],
        states={
            Step.CONFIRM: [
                CallbackQueryHandler(confirm, pattern=RateConfirm.filter()),
                CallbackQueryHandler(choose, pattern=RateChoose.filter()),
                MessageHandler(text, comment),
                MessageHandler(~filters.COMMAND, text_only),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=RateCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
        ],
    )
    return [
        conversation,
        CallbackQueryHandler(open_answer, pattern=RateOpen.filter()),
        # outside the conversation: a replay, told it was rated already (or why not)
        CallbackQueryHandler(confirm, pattern=RateConfirm.filter()),
        CallbackQueryHandler(cancel, pattern=RateCancel.filter()),
    ]
