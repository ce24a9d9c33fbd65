"""/accounts: staff see the ratings of deputies' annual accounts (open: turnout only; closed:
the results) and open one: deputy (paged list, or a name typed) → year → closing day →
preview → open, the declared conversation bot.services.account_ratings.OPEN_RATING (every
step saved with its draft). A voter of the deputy's station rates the account from the
notice: 满意 / 基本满意 / 不满意 → the choice once more → confirm; secret, once, until the
closing time (bot.services.account_ratings)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.i18n import Texts
from bot.runtime.buttons import any_of
from bot.runtime.buttons.account import (
    RatingBallot,
    RatingCancel,
    RatingChoice,
    RatingConfirm,
    RatingDeputy,
    RatingDeputyPage,
    RatingGo,
    RatingYear,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.account_ratings import (
    LABELS,
    OPEN_RATING,
    DeputyFacts,
    OpenStep,
    Outcomes,
    Plan,
)
from bot.services.ballot_rules import OUTCOME_LABELS
from handlers.common import (
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    guarded,
    message_of,
    respond,
    saying,
)
from handlers.keyboards import button, paged, rows_of
from storage.models import AccountRating, SuggestionRating

Step = OpenStep
END = DeclaredConversation.END
DEPUTIES_PER_PAGE = 8


# --- the board -----------------------------------------------------------------------------------


def _name(deputy: DeputyFacts | None) -> str:
    return escape(deputy.name) if deputy is not None else "?"


def board_text(texts: Texts, opened: list[Outcomes], closed: list[Outcomes]) -> str:
    lines = [texts("account.board_head")]
    if not opened and not closed:
        lines.append(texts("account.board_empty"))
    if opened:
        lines += ["", texts("account.board_open")]
    for item in opened:
        lines.append(
            texts(
                "account.board_open_item",
                name=_name(item.deputy),
                year=item.rating.year,
                voted=item.counts.voted,
                entitled=item.counts.entitled,
                closes=texts.datetime(item.rating.closes_at),
            )
        )
    if closed:
        lines += ["", texts("account.board_closed")]
    for item in closed:
        lines.append(
            texts(
                "account.board_closed_item",
                name=_name(item.deputy),
                year=item.rating.year,
                satisfied=item.counts.satisfied,
                basically=item.counts.basically,
                unsatisfied=item.counts.unsatisfied,
                voted=item.counts.voted,
                entitled=item.counts.entitled,
                verdict=texts(OUTCOME_LABELS[item.verdict]) if item.verdict else "",
            )
        )
    return "\n".join(lines)


def _cancel_row(texts: Texts) -> list[InlineKeyboardButton]:
    return [button(texts("account.cancel_open_button"), RatingCancel())]


async def ask_deputy(update: Update, context: BotContext, page: int, *, edit: bool) -> bool:
    """The paged list of deputies; False when there is none to pick."""
    texts = context.texts
    listed = await context.services.account_ratings.deputies(context.user, page, DEPUTIES_PER_PAGE)
    if not listed.items:
        return False
    buttons = [
        button(
            texts("account.deputy_button", name=d.name, station=d.station_name),
            RatingDeputy(deputy=d.user_id),
        )
        for d in listed.items
    ]
    markup = paged(
        buttons,
        listed.page,
        listed.pages,
        lambda p: RatingDeputyPage(page=p),
        texts,
        extra=_cancel_row(texts),
    )
    await respond(update, context, texts("account.ask_deputy"), markup, edit=edit)
    return True


@guarded(Action.OPEN_ACCOUNT_RATING)
async def accounts_command(update: Update, context: BotContext) -> Step | int:
    ratings = context.services.account_ratings
    texts = context.texts
    opened, closed = await ratings.board(context.user)
    await respond(update, context, board_text(texts, opened, closed), edit=False)
    await ratings.begin(context.user, chat_id_of(update))
    if not await ask_deputy(update, context, 0, edit=False):
        await ratings.discard(context.user, chat_id_of(update))
        await respond(update, context, texts("account.no_deputies"), edit=False)
        return END
    return Step.DEPUTY


@guarded(Action.OPEN_ACCOUNT_RATING)
async def deputy_page(update: Update, context: BotContext) -> None:
    page = RatingDeputyPage.of(update).page
    await answer_tap(update)
    await ask_deputy(update, context, page, edit=True)


async def _ask_year(update: Update, context: BotContext, deputy_id: int, *, edit: bool) -> Step:
    texts = context.texts
    ratings = context.services.account_ratings
    deputy, years = await ratings.choose_deputy(context.user, chat_id_of(update), deputy_id)
    buttons = [button(texts("account.year_button", year=y), RatingYear(year=y)) for y in years]
    markup = InlineKeyboardMarkup([*rows_of(buttons, 2), _cancel_row(texts)])
    text = texts("account.ask_year", name=_name(deputy))
    await respond(update, context, text, markup, edit=edit)
    return Step.YEAR


@guarded(Action.OPEN_ACCOUNT_RATING)
async def choose_deputy(update: Update, context: BotContext) -> Step:
    deputy_id = RatingDeputy.of(update).deputy
    step = await _ask_year(update, context, deputy_id, edit=True)
    await answer_tap(update)
    return step


@guarded(Action.OPEN_ACCOUNT_RATING)
async def deputy_named(update: Update, context: BotContext) -> Step | None:
    """A name typed: the one deputy it names, or the deputies whose names hold it."""
    found = await context.services.account_ratings.named(context.user, message_of(update).text)
    if len(found) == 1:
        return await _ask_year(update, context, found[0].user_id, edit=False)
    texts = context.texts
    buttons = [
        button(
            texts("account.deputy_button", name=d.name, station=d.station_name),
            RatingDeputy(deputy=d.user_id),
        )
        for d in found
    ]
    markup = InlineKeyboardMarkup([*rows_of(buttons, 1), _cancel_row(texts)])
    await respond(update, context, texts("account.matches", count=len(found)), markup, edit=False)
    return None


@guarded(Action.OPEN_ACCOUNT_RATING)
async def choose_year(update: Update, context: BotContext) -> Step:
    year = RatingYear.of(update).year
    ratings = context.services.account_ratings
    deputy = await ratings.choose_year(context.user, chat_id_of(update), year)
    await answer_tap(update)
    texts = context.texts
    text = texts(
        "account.ask_closing",
        name=_name(deputy),
        year=year,
        example=ratings.today().isoformat(),
    )
    await respond(update, context, text, InlineKeyboardMarkup([_cancel_row(texts)]))
    return Step.CLOSING


def render_plan(texts: Texts, plan: Plan) -> str:
    return texts(
        "account.preview",
        name=_name(plan.deputy),
        station=escape(plan.deputy.station_name),
        year=plan.year,
        entitled=plan.entitled,
        closes=texts.datetime(plan.closes_at),
    )


@guarded(Action.OPEN_ACCOUNT_RATING)
async def receive_closing(update: Update, context: BotContext) -> Step:
    plan = await context.services.account_ratings.set_closing(
        context.user, chat_id_of(update), message_of(update).text
    )
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("account.go_button"), RatingGo())], _cancel_row(texts)]
    )
    await respond(update, context, render_plan(texts, plan), markup, edit=False)
    return Step.PREVIEW


@guarded(Action.OPEN_ACCOUNT_RATING)
async def go(update: Update, context: BotContext) -> int:
    plan = await context.services.account_ratings.open(context.user, chat_id_of(update))
    await answer_tap(update)
    texts = context.texts
    text = texts("account.opened", name=_name(plan.deputy), year=plan.year, entitled=plan.entitled)
    await respond(update, context, text)
    return END


async def cancel_open(update: Update, context: BotContext) -> int:
    await context.services.account_ratings.discard(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("account.open_cancelled"))
    return END


# --- a voter's ballot ----------------------------------------------------------------------------


def _ballot_text(texts: Texts, rating: AccountRating, deputy: DeputyFacts) -> str:
    return texts(
        "account.ballot",
        name=_name(deputy),
        station=escape(deputy.station_name),
        year=rating.year,
        closes=texts.datetime(rating.closes_at),
    )


@guarded(Action.RATE_ACCOUNT)
async def show_ballot(update: Update, context: BotContext) -> None:
    rating_id = RatingBallot.of(update).rating
    rating, deputy = await context.services.account_ratings.ballot(context.user, rating_id)
    await answer_tap(update)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts(LABELS[choice]), RatingChoice(rating=rating.id, choice=choice))]
            for choice in SuggestionRating
        ]
    )
    await respond(update, context, _ballot_text(texts, rating, deputy), markup)


@guarded(Action.RATE_ACCOUNT)
async def choose(update: Update, context: BotContext) -> None:
    """The choice once more, with the only button that counts it."""
    tapped = RatingChoice.of(update)
    rating, deputy = await context.services.account_ratings.ballot(context.user, tapped.rating)
    await answer_tap(update)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    texts("account.confirm_button"),
                    RatingConfirm(rating=rating.id, choice=tapped.choice),
                )
            ],
            [button(texts("account.back_button"), RatingBallot(rating=rating.id))],
        ]
    )
    text = texts(
        "account.confirm",
        name=_name(deputy),
        year=rating.year,
        choice=texts(LABELS[tapped.choice]),
    )
    await respond(update, context, text, markup)


@guarded(Action.RATE_ACCOUNT)
async def confirm(update: Update, context: BotContext) -> None:
    """Count it; the confirmation, which showed the choice, becomes a receipt without it."""
    tapped = RatingConfirm.of(update)
    rating, deputy = await context.services.account_ratings.cast(
        context.user, tapped.rating, tapped.choice
    )
    await answer_tap(update)
    text = context.texts("account.counted", name=_name(deputy), year=rating.year)
    await respond(update, context, text)


in_progress = saying("account.open_in_progress")
use_buttons = saying("account.use_buttons")
stale = alerting("error.stale_button")
OPENING_BUTTONS = (RatingDeputyPage, RatingDeputy, RatingYear, RatingGo, RatingCancel)


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    not_command = ~filters.COMMAND
    pick: list[Handler] = [
        CallbackQueryHandler(deputy_page, pattern=RatingDeputyPage.filter()),
        CallbackQueryHandler(choose_deputy, pattern=RatingDeputy.filter()),
    ]
    conversation = DeclaredConversation(
        OPEN_RATING,
        entry_points=[CommandHandler("accounts", accounts_command)],
        states={
            Step.DEPUTY: [*pick, MessageHandler(text, deputy_named)],
            Step.YEAR: [
                CallbackQueryHandler(choose_year, pattern=RatingYear.filter()),
                *pick,
                MessageHandler(not_command, use_buttons),
            ],
            Step.CLOSING: [MessageHandler(text, receive_closing)],
            Step.PREVIEW: [
                CallbackQueryHandler(go, pattern=RatingGo.filter()),
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_open),
            CallbackQueryHandler(cancel_open, pattern=RatingCancel.filter()),
            CommandHandler("accounts", accounts_command),
            MessageHandler(filters.COMMAND, in_progress),
            MessageHandler(not_command, saying("account.use_text_or_buttons")),
            CallbackQueryHandler(stale, pattern=any_of(*OPENING_BUTTONS)),
        ],
    )
    return [
        conversation,
        CallbackQueryHandler(show_ballot, pattern=RatingBallot.filter()),
        CallbackQueryHandler(choose, pattern=RatingChoice.filter()),
        CallbackQueryHandler(confirm, pattern=RatingConfirm.filter()),
        CallbackQueryHandler(stale, pattern=any_of(*OPENING_BUTTONS)),
    ]
