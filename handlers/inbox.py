"""/inbox: the opinions of a deputy's station (every opinion for staff), newest first, each
opening the one opinion card (handlers.opinion_card); Claim and Answer under a notice, and
staff's Assign under an overdue alert; and
the `reply` conversation: the voter's side (replying to a question, rating an answer) and
everything typed about an opinion.

Everything typed about an opinion — an answer or a reason (from either side's card, or
from a notice's Answer), a question to the voter, the voter's reply, the voter's comment —
is one persistent conversation (bot.services.inbox.REPLY), so a person is never typing two
things at once and a restart resumes where they were (see InboxService.start_typing)."""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.access import Action, allowed
from bot.errors import AccessDenied, DomainError
from bot.i18n import N_, Texts
from bot.runtime.buttons.inbox import (
    AnswerFromNotice,
    AssignFromNotice,
    ClaimFromNotice,
    Compose,
    InboxList,
    LookAgain,
    OpinionCard,
    RateSatisfaction,
    RateSolved,
    ReplyToQuestion,
    Side,
    SkipComment,
    View,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.inbox import REPLY, VIEWS, OpinionAction, ReplyStep
from bot.services.opinions import SATISFACTION_LABELS, SOLVED_LABELS
from handlers.common import (
    answer_tap,
    chat_id_of,
    error_text,
    guarded,
    message_of,
    respond,
    say,
    saying,
    show_error,
    tap_of,
)
from handlers.keyboards import button, paged
from handlers.opinion_card import action_rows, deputy_rows, opinion_button, show_card
from storage.models import Opinion

PER_PAGE = 6
PREVIEW_CHARS = 20
END = DeclaredConversation.END

VIEW_LABELS = {
    "all": N_("inbox.view_all"),
    "new": N_("inbox.view_new"),
    "open": N_("inbox.view_open"),
}
STAFF_VIEW_LABELS = {**VIEW_LABELS, "open": N_("inbox.view_open_staff")}

# what a person is asked when they start typing, told while typing, and told when done
PROMPTS = {
    OpinionAction.ANSWER: "handling.ask_answer",
    OpinionAction.DECLINE: "handling.ask_reason",
    OpinionAction.ASK: "inbox.ask_question",
    OpinionAction.REPLY: "inbox.ask_reply",
}
IN_PROGRESS = {
    OpinionAction.ANSWER: "handling.in_progress",
    OpinionAction.DECLINE: "handling.in_progress",
    OpinionAction.ASK: "inbox.in_progress_ask",
    OpinionAction.REPLY: "inbox.in_progress_reply",
    OpinionAction.COMMENT: "inbox.in_progress_comment",
}
DONE = {
    OpinionAction.ANSWER: "handling.done_answer",
    OpinionAction.DECLINE: "handling.done_decline",
    OpinionAction.ASK: "inbox.done_ask",
    OpinionAction.REPLY: "inbox.done_reply",
    OpinionAction.COMMENT: "rate.done_comment",
}


# --- the list -----------------------------------------------------------------------------


async def show_list(update: Update, context: BotContext, view: View, page: int) -> None:
    """A page of one view of the inbox, with the views to switch to."""
    texts = context.texts
    result = await context.services.inbox.page(context.user, view, page, PER_PAGE)
    labels = STAFF_VIEW_LABELS if allowed(context.user, Action.VIEW_ALL_OPINIONS) else VIEW_LABELS
    items = [
        opinion_button(
            texts,
            "inbox.item",
            opinion,
            PREVIEW_CHARS,
            OpinionCard(side=Side.INBOX, opinion=opinion.id),
        )
        for opinion in result.items
    ]
    markup = paged(items, result.page, result.pages, lambda p: InboxList(view=view, page=p), texts)
    views = [
        button(("· " if v == view else "") + texts(labels[v]), InboxList(view=v, page=0))
        for v in VIEWS
    ]
    title = texts("inbox.title", view=texts(labels[view]))
    body = title if result.items else title + "\n" + texts("inbox.empty")
    await respond(update, context, body, InlineKeyboardMarkup([*markup.inline_keyboard, views]))


@guarded(Action.VIEW_INBOX)
async def inbox_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, "all", 0)


@guarded(Action.VIEW_INBOX)
async def list_page(update: Update, context: BotContext) -> None:
    """Another page, or another view, of the inbox."""
    tapped = InboxList.of(update)
    await show_list(update, context, tapped.view, tapped.page)
    await answer_tap(update)


# --- typing: answer, reason, question, reply, comment -------------------------------------


async def _prompt(update: Update, context: BotContext, opinion: Opinion, action: str) -> str:
    """Stop the spinner and ask for the text; the conversation is at its typing step."""
    await answer_tap(update)
    key = PROMPTS[OpinionAction(action)]
    await respond(update, context, context.texts(key, tracking_no=opinion.tracking_no), edit=False)
    return ReplyStep.TYPING


@guarded()
async def begin_typing(update: Update, context: BotContext) -> str | None:
    """An answer, a reason or a question about an opinion (holder or staff)."""
    tapped = Compose.of(update)
    opinion = await context.services.inbox.start_typing(
        context.user, chat_id_of(update), tapped.opinion, tapped.step
    )
    return await _prompt(update, context, opinion, tapped.step)


# --- acting from a notice: claim, or claim and answer ---------------------------------------


async def tell_below(update: Update, context: BotContext, error: DomainError) -> None:
    """Why a tap under a notice did nothing (someone else holds the opinion, it was answered
    …), as a message that stays below the notice; a bare alert is gone once closed. What
    the person may not do at all is refused as anywhere else."""
    if isinstance(error, AccessDenied):
        raise error
    await answer_tap(update)
    await respond(update, context, error_text(context, error), edit=False)


@guarded()
async def claim_from_notice(update: Update, context: BotContext) -> None:
    """Claim under a notice: said below it, with the card to act from."""
    try:
        opinion = await context.services.inbox.claim(
            context.user, ClaimFromNotice.of(update).opinion
        )
    except DomainError as error:
        await tell_below(update, context, error)
        return
    await answer_tap(update)
    await say(update, context, "inbox.claimed", tracking_no=opinion.tracking_no)
    await show_card(update, context, opinion.id, Side.INBOX, edit=False)


@guarded()
async def answer_from_notice(update: Update, context: BotContext) -> str | None:
    """Answer under a notice: claimed if nobody holds it, then the answer step at once (the
    same step as the card's Answer); someone else's opinion opens nothing."""
    try:
        opinion, claimed = await context.services.inbox.answer_from_notice(
            context.user, chat_id_of(update), AnswerFromNotice.of(update).opinion
        )
    except DomainError as error:
        await tell_below(update, context, error)
        return None
    if claimed:
        await say(update, context, "inbox.claimed", tracking_no=opinion.tracking_no)
    return await _prompt(update, context, opinion, OpinionAction.ANSWER)


@guarded()
async def assign_from_notice(update: Update, context: BotContext) -> None:
    """Assign under a staff alert: the deputies to pick from come as a new message below the
    alert, which stays as it was; picking one goes on as from the card (/opinions)."""
    side = Side.STAFF
    inbox = context.services.inbox
    inbox.ensure_listing(context.user, side.listing)
    opinion, deputies = await inbox.assignable(context.user, AssignFromNotice.of(update).opinion)
    texts = context.texts
    key = "inbox.pick_deputy" if deputies else "inbox.no_deputies"
    markup = InlineKeyboardMarkup(deputy_rows(texts, opinion, deputies, side))
    await answer_tap(update)
    await respond(update, context, texts(key, tracking_no=opinion.tracking_no), markup, edit=False)


@guarded()
async def begin_reply(update: Update, context: BotContext) -> str | None:
    """The voter answers a deputy's question."""
    reply = OpinionAction.REPLY
    opinion = await context.services.inbox.start_typing(
        context.user, chat_id_of(update), ReplyToQuestion.of(update).opinion, reply
    )
    return await _prompt(update, context, opinion, reply)


async def _voter_markup(
    context: BotContext, opinion: Opinion, *, skip: bool = False
) -> InlineKeyboardMarkup | None:
    """Skip (while a comment may come), then what the service lets the voter do next."""
    texts: Texts = context.texts
    rows = []
    if skip:
        rows.append([button(texts("rate.skip_button"), SkipComment(opinion=opinion.id))])
    rows += action_rows(texts, opinion, await context.services.inbox.actions(context.user, opinion))
    return InlineKeyboardMarkup(rows) if rows else None


@guarded()
async def rate_solved(update: Update, context: BotContext) -> None:
    """First question answered; the second comes as a new message."""
    tapped = RateSolved.of(update)
    solved = tapped.solved
    opinion = await context.services.inbox.rate_solved(context.user, tapped.opinion, solved)
    query = tap_of(update)
    await query.answer()
    # the buttons of the answer go; an old message that cannot change does not matter
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(reply_markup=None)
    texts = context.texts
    await respond(
        update,
        context,
        texts(
            "rate.ask_satisfaction",
            tracking_no=opinion.tracking_no,
            solved=texts(SOLVED_LABELS[solved]),
        ),
        await _voter_markup(context, opinion),
        edit=False,
    )


@guarded()
async def rate_satisfaction(update: Update, context: BotContext) -> str | None:
    """Second question answered: the rating is stored and a comment may follow."""
    tapped = RateSatisfaction.of(update)
    satisfaction = tapped.satisfaction
    opinion, commenting = await context.services.inbox.rate_satisfaction(
        context.user, chat_id_of(update), tapped.opinion, satisfaction
    )
    await answer_tap(update)
    texts = context.texts
    params = {
        "tracking_no": opinion.tracking_no,
        "solved": texts(SOLVED_LABELS[opinion.solved or "yes"]),
        "satisfaction": texts(SATISFACTION_LABELS[satisfaction]),
    }
    key = "rate.thanks" if commenting else "rate.thanks_no_comment"
    markup = await _voter_markup(context, opinion, skip=commenting)
    await respond(update, context, texts(key, **params), markup)
    # busy with something else: the rating is saved and that conversation goes on
    return ReplyStep.COMMENTING if commenting else None


@guarded()
async def skip_comment(update: Update, context: BotContext) -> int | None:
    """No comment on the rating: the comment step ends."""
    opinion = await context.services.inbox.skip_comment(
        context.user, chat_id_of(update), SkipComment.of(update).opinion
    )
    await answer_tap(update)
    texts = context.texts
    await respond(
        update,
        context,
        texts("rate.skipped", tracking_no=opinion.tracking_no),
        await _voter_markup(context, opinion),
    )
    return END


@guarded()
async def look_again(update: Update, context: BotContext) -> int | None:
    """'Not solved': the voter asks the holder to look again, once."""
    opinion = await context.services.inbox.look_again(
        context.user, chat_id_of(update), LookAgain.of(update).opinion
    )
    await answer_tap(update)
    await respond(
        update, context, context.texts("rate.look_again_sent", tracking_no=opinion.tracking_no)
    )
    # it ends the comment on this opinion; anything else being typed goes on
    return END if await context.services.inbox.typing(context.user) is None else None


@guarded()
async def receive_text(update: Update, context: BotContext) -> int | None:
    message = message_of(update)
    inbox = context.services.inbox
    try:
        opinion, action = await inbox.finish_typing(
            context.user, chat_id_of(update), message.text or ""
        )
    except DomainError as error:
        await show_error(update, context, error)
        # a text to fix keeps the typing open; an opinion that moved on has ended it
        return None if await inbox.typing(context.user) else END
    texts = context.texts
    markup = await _voter_markup(context, opinion) if action == OpinionAction.COMMENT else None
    await respond(
        update, context, texts(DONE[action], tracking_no=opinion.tracking_no), markup, edit=False
    )
    return END


bad_input = saying("handling.bad_reply")


async def command_in_middle(update: Update, context: BotContext) -> int | None:
    pending = await context.services.inbox.typing(context.user)
    if pending is None:
        await context.services.inbox.drop_typing(context.user, chat_id_of(update))
        await respond(update, context, context.texts("handling.cancelled"), edit=False)
        return END
    await respond(update, context, context.texts(IN_PROGRESS[pending.action]), edit=False)
    return None


async def cancel(update: Update, context: BotContext) -> int:
    await context.services.inbox.drop_typing(context.user, chat_id_of(update))
    await respond(update, context, context.texts("handling.cancelled"), edit=False)
    return END


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    # Each opening tap also works in the middle of the conversation: it starts the next text
    # (the typing before it is replaced), or rates with no comment asked for.
    openings: list[BaseHandler[Any, Any, Any]] = [
        CallbackQueryHandler(begin_typing, pattern=Compose.filter()),
        CallbackQueryHandler(answer_from_notice, pattern=AnswerFromNotice.filter()),
        CallbackQueryHandler(begin_reply, pattern=ReplyToQuestion.filter()),
        CallbackQueryHandler(rate_satisfaction, pattern=RateSatisfaction.filter()),
    ]
    typing_step: list[BaseHandler[Any, Any, Any]] = [
        *openings,
        MessageHandler(filters.TEXT & ~filters.COMMAND, receive_text),
        CallbackQueryHandler(skip_comment, pattern=SkipComment.filter()),
        MessageHandler(~filters.COMMAND, bad_input),
    ]
    typing = DeclaredConversation(
        REPLY,
        entry_points=openings,
        states={step: typing_step for step in ReplyStep},
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(look_again, pattern=LookAgain.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
        ],
    )
    return [
        typing,
        CommandHandler("inbox", inbox_command),
        CallbackQueryHandler(list_page, pattern=InboxList.filter()),
        CallbackQueryHandler(claim_from_notice, pattern=ClaimFromNotice.filter()),
        CallbackQueryHandler(assign_from_notice, pattern=AssignFromNotice.filter()),
        CallbackQueryHandler(rate_solved, pattern=RateSolved.filter()),
        CallbackQueryHandler(skip_comment, pattern=SkipComment.filter()),
        CallbackQueryHandler(look_again, pattern=LookAgain.filter()),
    ]
