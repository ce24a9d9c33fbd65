"""/inbox: the opinions of a deputy's station (every opinion for staff), newest first; the
card of one with claim, ask the voter, answer, decline, release and (staff) assign; the
voter's side: replying to a question and rating an answer.

Everything typed about an opinion — an answer or a reason (from here or from the staff's
/opinions card), a question to the voter, the voter's reply, the voter's comment — is one
persistent conversation, so a person is never typing two things at once and a restart
resumes where they were (see InboxService.start_typing)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Action, allowed
from bot.errors import DomainError
from bot.i18n import N_, Texts
from bot.runtime.buttons import CallbackData
from bot.runtime.buttons.inbox import (
    AssignTo,
    Claim,
    Compose,
    InboxList,
    InboxOpen,
    LookAgain,
    OpinionCard,
    PickDeputy,
    RateSatisfaction,
    RateSolved,
    Release,
    ReplyToQuestion,
    Side,
    SkipComment,
    View,
)
from bot.runtime.context import BotContext
from bot.services.inbox import COMMENTING, TYPING, VIEWS
from bot.services.opinions import (
    CATEGORY_LABELS,
    EVENT_LABELS,
    REPLY_CONVERSATION,
    SATISFACTION_CHOICES,
    SATISFACTION_LABELS,
    SOLVED_LABELS,
    STATUS_LABELS,
)
from handlers.common import (
    answer_tap,
    chat_id_of,
    clip,
    guarded,
    respond,
    show_error,
)
from handlers.keyboards import button, paged
from storage.models import Opinion, OpinionEvent

PER_PAGE = 6
PREVIEW_CHARS = 20
END = ConversationHandler.END

VIEW_LABELS = {
    "all": N_("inbox.view_all"),
    "new": N_("inbox.view_new"),
    "open": N_("inbox.view_open"),
}
STAFF_VIEW_LABELS = {**VIEW_LABELS, "open": N_("inbox.view_open_staff")}

# what a person is asked when they start typing, told while typing, and told when done
PROMPTS = {
    "answer": "handling.ask_answer",
    "decline": "handling.ask_reason",
    "ask": "inbox.ask_question",
    "reply": "inbox.ask_reply",
}
IN_PROGRESS = {
    "answer": "handling.in_progress",
    "decline": "handling.in_progress",
    "ask": "inbox.in_progress_ask",
    "reply": "inbox.in_progress_reply",
    "comment": "inbox.in_progress_comment",
}
DONE = {
    "answer": "handling.done_answer",
    "decline": "handling.done_decline",
    "ask": "inbox.done_ask",
    "reply": "inbox.done_reply",
    "comment": "rate.done_comment",
}


# --- shared rendering (also used by /my and /opinions) ------------------------------------

# A card holds the opinion (up to 2,000 characters) and its history, whose notes (answers,
# questions, replies) may be as long; these bounds keep it under Telegram's 4,096.
CARD_TEXT_CHARS = 1500
NOTE_CHARS = 200
HISTORY_EVENTS = 8


def opinion_button(
    texts: Texts, key: str, opinion: Opinion, preview_chars: int, data: CallbackData
) -> InlineKeyboardButton:
    """One opinion in a list: tracking number, status and the start of its text."""
    summary = opinion.text[:preview_chars] + ("…" if len(opinion.text) > preview_chars else "")
    label = texts(
        key,
        tracking_no=opinion.tracking_no,
        status=texts(STATUS_LABELS[opinion.status]),
        summary=summary,
    )
    return button(label, data)


def render_history(texts: Texts, events: list[OpinionEvent]) -> str:
    """The latest events, each note clipped, so a card stays within Telegram's length."""
    shown = events[-HISTORY_EVENTS:]
    lines = (
        [texts("history.earlier", count=len(events) - len(shown))]
        if events[:-HISTORY_EVENTS]
        else []
    )
    lines += [
        texts(
            "my.event",
            at=texts.datetime(e.at),
            event=texts(EVENT_LABELS.get(e.kind, "event.other")),
            note=(": " + escape(clip(e.note, NOTE_CHARS))) if e.note else "",
        )
        for e in shown
    ]
    return "\n".join(lines)


def render_rating(texts: Texts, opinion: Opinion) -> str:
    """The rating lines of a card ('' while there is none)."""
    if opinion.satisfaction is None:
        return ""
    text = "\n\n" + texts(
        "rate.summary",
        solved=texts(SOLVED_LABELS[opinion.solved]) if opinion.solved else "—",
        satisfaction=texts(SATISFACTION_LABELS[opinion.satisfaction]),
    )
    if opinion.rating_comment:
        text += "\n" + texts("rate.summary_comment", comment=escape(opinion.rating_comment))
    return text


def rating_rows(texts: Texts, opinion: Opinion) -> list[list[InlineKeyboardButton]]:
    """What the author may still do about the answer: rate it, or ask to look again."""
    if opinion.status == "answered" and opinion.satisfaction is None:
        if opinion.solved is None:
            return [
                [
                    button(
                        texts(label),
                        RateSolved.model_validate({"opinion": opinion.id, "solved": code}),
                    )
                ]
                for code, label in SOLVED_LABELS.items()
            ]
        return [
            [
                button(
                    texts(SATISFACTION_LABELS[code]),
                    RateSatisfaction.model_validate({"opinion": opinion.id, "satisfaction": code}),
                )
            ]
            for code in SATISFACTION_CHOICES
        ]
    if opinion.status == "closed" and opinion.solved == "no" and not opinion.looked_again:
        return [[button(texts("rate.look_again_button"), LookAgain(opinion=opinion.id))]]
    return []


# --- the list and the card ----------------------------------------------------------------


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


async def show_card(
    update: Update, context: BotContext, opinion_id: int, *, edit: bool = True
) -> None:
    """The card replaces the list it was opened from (edit) or comes as a new message."""
    texts = context.texts
    card = await context.services.inbox.card(context.user, opinion_id)
    opinion = card.opinion
    if card.author_name is None:
        author = texts("inbox.anonymous_voter")
    else:
        author = escape(card.author_name)
        if not opinion.show_name:
            author += texts("handling.anonymous_mark")
    text = texts(
        "inbox.card",
        tracking_no=opinion.tracking_no,
        status=texts(STATUS_LABELS[opinion.status]),
        category=texts(CATEGORY_LABELS.get(opinion.category, "category.other")),
        station=escape(card.station_name),
        author=author,
        holder=escape(card.holder_name) if card.holder_name else texts("inbox.unclaimed"),
        created=texts.datetime(opinion.created_at),
        photos=texts.number(len(opinion.photos)),
        text=escape(clip(opinion.text, CARD_TEXT_CHARS)),
        history=render_history(texts, card.events),
    ) + render_rating(texts, opinion)
    rows = []
    if card.may_claim:
        rows.append([button(texts("inbox.claim_button"), Claim(opinion=opinion.id))])
    if card.may_act:
        rows.append(
            [
                button(texts("inbox.ask_button"), Compose(step="ask", opinion=opinion.id)),
                button(texts("handling.answer"), Compose(step="answer", opinion=opinion.id)),
            ]
        )
        rows.append(
            [
                button(texts("handling.decline"), Compose(step="decline", opinion=opinion.id)),
                button(
                    texts("inbox.release_button"),
                    Release(side=Side.INBOX, opinion=opinion.id),
                ),
            ]
        )
    if card.may_assign:
        label = "inbox.reassign_button" if opinion.holder_id else "inbox.assign_button"
        rows.append([button(texts(label), PickDeputy(side=Side.INBOX, opinion=opinion.id))])
    rows.append([button(texts("nav.back"), InboxList(view="all", page=0))])
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=edit)


@guarded(Action.VIEW_INBOX)
async def inbox_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, "all", 0)


@guarded(Action.VIEW_INBOX)
async def list_page(update: Update, context: BotContext) -> None:
    """Another page, or another view, of the inbox."""
    tapped = InboxList.of(update)
    await show_list(update, context, tapped.view, tapped.page)
    await answer_tap(update)


@guarded(Action.VIEW_INBOX)
async def card(update: Update, context: BotContext) -> None:
    """An opinion's card in place of the inbox list."""
    await show_card(update, context, OpinionCard.of(update).opinion)
    await answer_tap(update)


@guarded(Action.VIEW_INBOX)
async def view(update: Update, context: BotContext) -> None:
    """'Open' under a notice: the card comes below it, and the notice stays as it was."""
    await show_card(update, context, InboxOpen.of(update).opinion, edit=False)
    await answer_tap(update)


@guarded(Action.VIEW_INBOX)
async def claim(update: Update, context: BotContext) -> None:
    """A deputy takes the opinion on (exactly one wins)."""
    opinion = await context.services.inbox.claim(context.user, Claim.of(update).opinion)
    await acted(update, context, "inbox.claimed", opinion, show_card)


@guarded(Action.VIEW_INBOX)
async def release(update: Update, context: BotContext) -> None:
    """The holder gives the opinion back to the station's deputies."""
    opinion = await context.services.inbox.release(context.user, Release.of(update).opinion)
    await acted(update, context, "inbox.released", opinion, show_card)


async def acted(
    update: Update,
    context: BotContext,
    key: str,
    opinion: Opinion,
    show: Callable[[Update, BotContext, int], Awaitable[None]],
) -> None:
    """After a step on an opinion: stop the spinner, say what was done, show the card."""
    await answer_tap(update)
    await respond(update, context, context.texts(key, tracking_no=opinion.tracking_no), edit=False)
    await show(update, context, opinion.id)


async def deputy_picker(update: Update, context: BotContext, opinion_id: int, side: Side) -> None:
    """Staff pick the deputy of the opinion's station to give it to; back is the card of
    the same `side`."""
    texts = context.texts
    opinion, deputies = await context.services.inbox.assignable(context.user, opinion_id)
    rows = [
        [
            button(
                ("✓ " if d.user_id == opinion.holder_id else "") + d.name,
                AssignTo(side=side, opinion=opinion.id, deputy=d.user_id),
            )
        ]
        for d in deputies
    ]
    rows.append([button(texts("nav.back"), OpinionCard(side=side, opinion=opinion.id))])
    key = "inbox.pick_deputy" if deputies else "inbox.no_deputies"
    await respond(
        update,
        context,
        texts(key, tracking_no=opinion.tracking_no),
        InlineKeyboardMarkup(rows),
    )


async def assign_to(update: Update, context: BotContext) -> Opinion:
    """Give the opinion to the deputy tapped (AssignTo) and say so; the caller shows the card."""
    tapped = AssignTo.of(update)
    opinion = await context.services.inbox.assign(context.user, tapped.opinion, tapped.deputy)
    await answer_tap(update)
    name = await context.services.inbox.holder_name(opinion)
    await respond(
        update,
        context,
        context.texts("inbox.assigned", tracking_no=opinion.tracking_no, name=escape(name or "")),
        edit=False,
    )
    return opinion


@guarded(Action.ASSIGN_OPINION)
async def pick_deputy(update: Update, context: BotContext) -> None:
    """Staff, from the inbox card: whom to give the opinion to."""
    await deputy_picker(update, context, PickDeputy.of(update).opinion, Side.INBOX)
    await answer_tap(update)


@guarded(Action.ASSIGN_OPINION)
async def assign(update: Update, context: BotContext) -> None:
    """Staff, from the inbox card: give the opinion to the deputy chosen."""
    opinion = await assign_to(update, context)
    await show_card(update, context, opinion.id)


# --- typing: answer, reason, question, reply, comment -------------------------------------


@guarded()
async def begin_typing(update: Update, context: BotContext) -> str | None:
    """An answer, a reason or a question about an opinion (holder or staff)."""
    tapped = Compose.of(update)
    opinion = await context.services.inbox.start_typing(
        context.user, chat_id_of(update), tapped.opinion, tapped.step
    )
    await answer_tap(update)
    await respond(
        update,
        context,
        context.texts(PROMPTS[tapped.step], tracking_no=opinion.tracking_no),
        edit=False,
    )
    return TYPING


@guarded()
async def begin_reply(update: Update, context: BotContext) -> str | None:
    """The voter answers a deputy's question."""
    opinion = await context.services.inbox.start_typing(
        context.user, chat_id_of(update), ReplyToQuestion.of(update).opinion, "reply"
    )
    await answer_tap(update)
    await respond(
        update,
        context,
        context.texts("inbox.ask_reply", tracking_no=opinion.tracking_no),
        edit=False,
    )
    return TYPING


def _after_rating_markup(texts: Texts, opinion: Opinion, skip: bool) -> InlineKeyboardMarkup | None:
    """Skip (while a comment may come) and, after 'not solved', ask to look again."""
    rows = []
    if skip:
        rows.append([button(texts("rate.skip_button"), SkipComment(opinion=opinion.id))])
    rows += rating_rows(texts, opinion)
    return InlineKeyboardMarkup(rows) if rows else None


@guarded()
async def rate_solved(update: Update, context: BotContext) -> None:
    """First question answered; the second comes as a new message."""
    tapped = RateSolved.of(update)
    solved = tapped.solved
    opinion = await context.services.inbox.rate_solved(context.user, tapped.opinion, solved)
    query = update.callback_query
    assert query is not None
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
        InlineKeyboardMarkup(rating_rows(texts, opinion)),
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
    await respond(
        update, context, texts(key, **params), _after_rating_markup(texts, opinion, commenting)
    )
    # busy with something else: the rating is saved and that conversation goes on
    return COMMENTING if commenting else None


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
        _after_rating_markup(texts, opinion, skip=False),
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
    assert update.effective_message is not None
    inbox = context.services.inbox
    try:
        opinion, action = await inbox.finish_typing(
            context.user, chat_id_of(update), update.effective_message.text or ""
        )
    except DomainError as error:
        await show_error(update, context, error)
        # a text to fix keeps the typing open; an opinion that moved on has ended it
        return None if await inbox.typing(context.user) else END
    texts = context.texts
    markup = _after_rating_markup(texts, opinion, skip=False) if action == "comment" else None
    await respond(
        update, context, texts(DONE[action], tracking_no=opinion.tracking_no), markup, edit=False
    )
    return END


async def bad_input(update: Update, context: BotContext) -> None:
    await respond(update, context, context.texts("handling.bad_reply"), edit=False)


async def command_in_middle(update: Update, context: BotContext) -> int | None:
    pending = await context.services.inbox.typing(context.user)
    if pending is None:
        await context.services.inbox.drop_typing(context.user, chat_id_of(update))
        await respond(update, context, context.texts("handling.cancelled"), edit=False)
        return END
    await respond(update, context, context.texts(IN_PROGRESS[pending[1]]), edit=False)
    return None


async def cancel(update: Update, context: BotContext) -> int:
    await context.services.inbox.drop_typing(context.user, chat_id_of(update))
    await respond(update, context, context.texts("handling.cancelled"), edit=False)
    return END


def handlers() -> list[BaseHandler]:
    typing_step = [
        MessageHandler(filters.TEXT & ~filters.COMMAND, receive_text),  # type: ignore[arg-type]
        CallbackQueryHandler(skip_comment, pattern=SkipComment.filter()),  # type: ignore[arg-type]
        MessageHandler(~filters.COMMAND, bad_input),  # type: ignore[arg-type]
    ]
    typing = ConversationHandler(
        entry_points=[
            CallbackQueryHandler(begin_typing, pattern=Compose.filter()),  # type: ignore[arg-type]
            CallbackQueryHandler(begin_reply, pattern=ReplyToQuestion.filter()),  # type: ignore[arg-type]
            CallbackQueryHandler(rate_satisfaction, pattern=RateSatisfaction.filter()),  # type: ignore[arg-type]
        ],
        states={step: typing_step for step in (TYPING, COMMENTING)},
        fallbacks=[
            CommandHandler("cancel", cancel),  # type: ignore[arg-type]
            CallbackQueryHandler(look_again, pattern=LookAgain.filter()),  # type: ignore[arg-type]
            MessageHandler(filters.COMMAND, command_in_middle),  # type: ignore[arg-type]
        ],
        name=REPLY_CONVERSATION,
        persistent=True,
        allow_reentry=True,
    )
    return [
        typing,
        CommandHandler("inbox", inbox_command),  # type: ignore[arg-type]
        CallbackQueryHandler(list_page, pattern=InboxList.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(card, pattern=OpinionCard.filter(side=Side.INBOX)),  # type: ignore[arg-type]
        CallbackQueryHandler(view, pattern=InboxOpen.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(claim, pattern=Claim.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(release, pattern=Release.filter(side=Side.INBOX)),  # type: ignore[arg-type]
        CallbackQueryHandler(pick_deputy, pattern=PickDeputy.filter(side=Side.INBOX)),  # type: ignore[arg-type]
        CallbackQueryHandler(assign, pattern=AssignTo.filter(side=Side.INBOX)),  # type: ignore[arg-type]
        CallbackQueryHandler(rate_solved, pattern=RateSolved.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(skip_comment, pattern=SkipComment.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(look_again, pattern=LookAgain.filter()),  # type: ignore[arg-type]
    ]
