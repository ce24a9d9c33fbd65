"""/ballots: staff watch each open ballot's turnout live (never its results), close one by
hand, get a closed one's results (table, .xlsx, chart), and open a new one: kind → year →
K (差额票决) → closing day or none → preview → open. Opening is the declared conversation
bot.services.ballots.OPEN: every step is saved with its draft, so a restart resumes it."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import any_of
from bot.runtime.buttons.ballots import (
    BallotBoard,
    BallotClose,
    BallotCloseConfirmed,
    BallotGo,
    BallotKind,
    BallotNew,
    BallotNewCancel,
    BallotNoClosing,
    BallotResults,
    BallotYear,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.ballot_reports import mode_of, percent, title_of
from bot.services.ballot_rules import MODE_LABELS, PURPOSE_OF, TITLES
from bot.services.ballots import NOTHING_TO_VOTE_ON, OPEN, OpenStep, Plan, Turnout
from handlers.ballot_results import send_results
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
from handlers.keyboards import button, rows_of
from storage.models import BallotMode, BallotPurpose, BallotState

Step = OpenStep
END = DeclaredConversation.END
KIND_BUTTONS = (
    (BallotMode.EACH, "ballot.kind_each_button"),
    (BallotMode.K_OF_N, "ballot.kind_k_of_n_button"),
    (BallotMode.RATING, "ballot.kind_rating_button"),
)
YEARS_SHOWN = 4
ASK_YEAR = {
    BallotPurpose.SELECTION: "ballot.ask_year_selection",
    BallotPurpose.RATING: "ballot.ask_year_rating",
}


# --- the board ---------------------------------------------------------------------------------


def turnout_text(texts: Texts, turnout: Turnout) -> str:
    """已投 37/120（30.8%）"""
    return texts(
        "ballot.turnout",
        voted=turnout.voted,
        entitled=turnout.ballot.entitled,
        share=percent(turnout.share),
    )


def _closing(texts: Texts, turnout: Turnout) -> str:
    closes_at = turnout.ballot.closes_at
    if closes_at is None:
        return texts("ballot.closes_by_hand")
    return texts("ballot.closes_on", closes=texts.datetime(closes_at))


async def render_board(context: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    texts = context.texts
    opened, closed = await context.services.ballots.board(context.user)
    lines = [texts("ballot.board_head")]
    rows: list[list[InlineKeyboardButton]] = []
    if not opened and not closed:
        lines.append(texts("ballot.board_empty"))
    if opened:
        lines += ["", texts("ballot.board_open")]
    for t in opened:
        lines.append(
            texts(
                "ballot.board_open_item",
                number=t.ballot.id,
                title=title_of(texts, t.ballot),
                mode=mode_of(texts, t.ballot, t.projects),
                turnout=turnout_text(texts, t),
                closing=_closing(texts, t),
            )
        )
        rows.append(
            [
                button(
                    texts("ballot.close_button", number=t.ballot.id),
                    BallotClose(ballot=t.ballot.id),
                )
            ]
        )
    if closed:
        lines += ["", texts("ballot.board_closed")]
    for t in closed:
        lines.append(
            texts(
                "ballot.board_closed_item",
                number=t.ballot.id,
                title=title_of(texts, t.ballot),
                closed=texts.datetime(t.ballot.closed_at or t.ballot.opened_at),
                turnout=turnout_text(texts, t),
            )
        )
    results = [
        button(
            texts("ballot.results_button_numbered", number=t.ballot.id),
            BallotResults(ballot=t.ballot.id),
        )
        for t in closed
    ]
    rows += rows_of(results, 2)
    rows.append(
        [
            button(texts("ballot.refresh_button"), BallotBoard()),
            button(texts("ballot.new_button"), BallotNew()),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


@guarded(Action.MANAGE_PROJECTS)
async def board_command(update: Update, context: BotContext) -> None:
    text, markup = await render_board(context)
    await respond(update, context, text, markup, edit=False)


@guarded(Action.MANAGE_PROJECTS)
async def refresh(update: Update, context: BotContext) -> None:
    text, markup = await render_board(context)
    await answer_tap(update)
    await respond(update, context, text, markup)


@guarded(Action.MANAGE_PROJECTS)
async def ask_close(update: Update, context: BotContext) -> None:
    ballot_id = BallotClose.of(update).ballot
    texts = context.texts
    turnout = await context.services.ballots.turnout(context.user, ballot_id)
    if turnout.ballot.state == BallotState.CLOSED:  # closed meanwhile: its results
        await answer_tap(update)
        await send_results(update, context, ballot_id, files=True)
        return
    markup = InlineKeyboardMarkup(
        [
            [button(texts("ballot.close_confirm_button"), BallotCloseConfirmed(ballot=ballot_id))],
            [button(texts("nav.back"), BallotBoard())],
        ]
    )
    text = texts(
        "ballot.close_ask",
        number=ballot_id,
        title=title_of(texts, turnout.ballot),
        turnout=turnout_text(texts, turnout),
    )
    await answer_tap(update)
    await respond(update, context, text, markup)


@guarded(Action.MANAGE_PROJECTS)
async def close(update: Update, context: BotContext) -> None:
    """Close by hand and show the results; a second tap shows them again."""
    ballot_id = BallotCloseConfirmed.of(update).ballot
    ballot = await context.services.ballots.close(context.user, ballot_id)
    await answer_tap(update)
    texts = context.texts
    await respond(
        update,
        context,
        texts("ballot.closed_done", number=ballot.id, title=title_of(texts, ballot)),
    )
    await send_results(update, context, ballot_id, files=True)


@guarded(Action.MANAGE_PROJECTS)
async def results(update: Update, context: BotContext) -> None:
    ballot_id = BallotResults.of(update).ballot
    await answer_tap(update)
    await send_results(update, context, ballot_id, files=True)


# --- opening a ballot --------------------------------------------------------------------------


def _cancel_row(texts: Texts) -> list[InlineKeyboardButton]:
    return [button(texts("ballot.new_cancel_button"), BallotNewCancel())]


@guarded(Action.MANAGE_PROJECTS)
async def new(update: Update, context: BotContext) -> Step:
    await context.services.ballots.begin_open(context.user, chat_id_of(update))
    await answer_tap(update)
    texts = context.texts
    kinds = [button(texts(label), BallotKind(mode=mode)) for mode, label in KIND_BUTTONS]
    markup = InlineKeyboardMarkup([*rows_of(kinds, 1), _cancel_row(texts)])
    await respond(update, context, texts("ballot.ask_kind"), markup, edit=False)
    return Step.KIND


async def _end_with(update: Update, context: BotContext, key: str, **params: object) -> int:
    await context.services.ballots.discard_open(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts(key, **params))
    return END


@guarded(Action.MANAGE_PROJECTS)
async def choose_kind(update: Update, context: BotContext) -> Step | int:
    mode = BallotKind.of(update).mode
    texts = context.texts
    ballots = context.services.ballots
    try:
        years = await ballots.choose_mode(context.user, chat_id_of(update), mode)
    except DomainError as error:
        if error.key in NOTHING_TO_VOTE_ON.values():
            return await _end_with(update, context, error.key)
        raise
    buttons = [
        button(texts("ballot.year_button", year=year, count=count), BallotYear(year=year))
        for year, count in years[:YEARS_SHOWN]
    ]
    markup = InlineKeyboardMarkup([*rows_of(buttons, 2), _cancel_row(texts)])
    await answer_tap(update)
    await respond(update, context, texts(ASK_YEAR[PURPOSE_OF[mode]]), markup)
    return Step.YEAR


@guarded(Action.MANAGE_PROJECTS)
async def choose_year(update: Update, context: BotContext) -> Step:
    year = BallotYear.of(update).year
    step, count = await context.services.ballots.choose_year(context.user, chat_id_of(update), year)
    await answer_tap(update)
    texts = context.texts
    if step == Step.PICK:
        text = texts("ballot.ask_pick", year=year, count=count, maximum=count - 1)
        await respond(update, context, text, InlineKeyboardMarkup([_cancel_row(texts)]))
        return Step.PICK
    await _ask_closing(update, context, edit=True)
    return Step.CLOSING


async def _ask_closing(update: Update, context: BotContext, *, edit: bool) -> None:
    texts = context.texts
    example = context.services.ballots.today().isoformat()
    markup = InlineKeyboardMarkup(
        [[button(texts("ballot.no_closing_button"), BallotNoClosing())], _cancel_row(texts)]
    )
    await respond(update, context, texts("ballot.ask_closing", example=example), markup, edit=edit)


@guarded(Action.MANAGE_PROJECTS)
async def receive_pick(update: Update, context: BotContext) -> Step:
    await context.services.ballots.set_pick(
        context.user, chat_id_of(update), message_of(update).text
    )
    await _ask_closing(update, context, edit=False)
    return Step.CLOSING


def render_plan(texts: Texts, plan: Plan) -> str:
    closing = (
        texts("ballot.closes_by_hand")
        if plan.closes_at is None
        else texts("ballot.closes_on", closes=texts.datetime(plan.closes_at))
    )
    return texts(
        "ballot.preview",
        title=texts(TITLES[plan.purpose], year=plan.year),
        mode=texts(MODE_LABELS[plan.mode], count=plan.projects, pick=plan.pick or 0),
        count=plan.projects,
        entitled=plan.entitled,
        closing=closing,
    )


async def _preview(update: Update, context: BotContext, plan: Plan, *, edit: bool) -> Step:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("ballot.go_button"), BallotGo())], _cancel_row(texts)]
    )
    await respond(update, context, render_plan(texts, plan), markup, edit=edit)
    return Step.PREVIEW


@guarded(Action.MANAGE_PROJECTS)
async def receive_closing(update: Update, context: BotContext) -> Step:
    plan = await context.services.ballots.set_closing(
        context.user, chat_id_of(update), message_of(update).text
    )
    return await _preview(update, context, plan, edit=False)


@guarded(Action.MANAGE_PROJECTS)
async def no_closing(update: Update, context: BotContext) -> Step:
    plan = await context.services.ballots.set_closing(context.user, chat_id_of(update), None)
    await answer_tap(update)
    return await _preview(update, context, plan, edit=True)


@guarded(Action.MANAGE_PROJECTS)
async def go(update: Update, context: BotContext) -> int:
    ballot = await context.services.ballots.open(context.user, chat_id_of(update))
    await answer_tap(update)
    texts = context.texts
    await respond(
        update,
        context,
        texts(
            "ballot.opened",
            number=ballot.id,
            title=title_of(texts, ballot),
            entitled=ballot.entitled,
        ),
    )
    return END


async def cancel_new(update: Update, context: BotContext) -> int:
    return await _end_with(update, context, "ballot.new_cancelled")


in_progress = saying("ballot.open_in_progress")


use_buttons = saying("ballot.use_buttons")


stale = alerting("error.stale_button")


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    not_command = ~filters.COMMAND
    conversation = DeclaredConversation(
        OPEN,
        entry_points=[CallbackQueryHandler(new, pattern=BallotNew.filter())],
        states={
            Step.KIND: [
                CallbackQueryHandler(choose_kind, pattern=BallotKind.filter()),
                MessageHandler(not_command, use_buttons),
            ],
            Step.YEAR: [
                CallbackQueryHandler(choose_year, pattern=BallotYear.filter()),
                MessageHandler(not_command, use_buttons),
            ],
            Step.PICK: [
                MessageHandler(text, receive_pick),
                MessageHandler(not_command, use_buttons),
            ],
            Step.CLOSING: [
                MessageHandler(text, receive_closing),
                CallbackQueryHandler(no_closing, pattern=BallotNoClosing.filter()),
                MessageHandler(not_command, use_buttons),
            ],
            Step.PREVIEW: [
                CallbackQueryHandler(go, pattern=BallotGo.filter()),
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_new),
            CallbackQueryHandler(cancel_new, pattern=BallotNewCancel.filter()),
            CallbackQueryHandler(new, pattern=BallotNew.filter()),
            MessageHandler(filters.COMMAND, in_progress),
            CallbackQueryHandler(
                stale, pattern=any_of(BallotKind, BallotYear, BallotNoClosing, BallotGo)
            ),
        ],
    )
    return [
        conversation,
        CommandHandler("ballots", board_command),
        CallbackQueryHandler(refresh, pattern=BallotBoard.filter()),
        CallbackQueryHandler(ask_close, pattern=BallotClose.filter()),
        CallbackQueryHandler(close, pattern=BallotCloseConfirmed.filter()),
        CallbackQueryHandler(results, pattern=BallotResults.filter()),
        CallbackQueryHandler(
            stale,
            pattern=any_of(BallotKind, BallotYear, BallotNoClosing, BallotGo, BallotNewCancel),
        ),
    ]
