"""/account [year]: a deputy's annual account (年述职) as a message (split to Telegram's limit,
long lists summarized) and an editable .docx; from it, the year's duty turns (paged, past and
coming), where a turn is marked "未能参加" with a typed reason (the conversation
bot.services.annual_accounts.ABSENCE, saved with its step), the reason corrected, or the
absence undone. Buttons: bot.runtime.buttons.account."""

from __future__ import annotations

import io
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError, present
from bot.i18n import Texts
from bot.runtime.buttons import any_of
from bot.runtime.buttons.account import (
    AbsenceCancel,
    AccountAbsent,
    AccountTurnOpen,
    AccountTurns,
    AccountUndo,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.account_documents import (
    SECTIONS,
    as_of,
    basic_lines,
    contact_lines,
    meeting_lines,
    missed_line,
    suggestion_line,
    suggestion_summary,
    supervision_lines,
    title,
    turn_where,
)
from bot.services.annual_accounts import (
    ABSENCE,
    REASON_MAX,
    TURNS_PER_PAGE,
    AbsenceStep,
    AccountTurn,
    AnnualAccount,
)
from bot.services.calendar import TURN_LABELS
from handlers.ballot_results import chunks
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

Step = AbsenceStep
END = DeclaredConversation.END
MISSED_SHOWN = 10  # turns missed listed in the message; the .docx lists them all
SUGGESTIONS_SHOWN = 10
TITLE_CLIP = 40  # characters of a suggestion's title in the message
TITLES_SHOWN = 5  # drafts commented on, named in the message
# Refusals after which the reason cannot be taken: the conversation ends.
ENDING = frozenset(
    {
        "account.no_draft",
        "account.turn_visited",
        "account.turn_unknown",
        "account.not_your_turn",
        "account.turn_other_year",
    }
)


# --- the account ---------------------------------------------------------------------------------


def _html(line: str) -> str:
    """A plain line of the account (user text in it) as the message's HTML."""
    return escape(line, quote=False)


def _plain(lines: list[str]) -> list[str]:
    return [_html(line) for line in lines]


def account_lines(texts: Texts, account: AnnualAccount) -> list[str]:
    """The message: the title, then the six parts, long lists cut short (the .docx has
    them whole)."""
    lines = [texts("account.message_title", title=_html(title(texts, account)))]
    note = as_of(texts, account)
    if note:
        lines.append(_html(note))

    def part(index: int, body: list[str]) -> None:
        lines.extend(["", texts("account.section_head", section=texts(SECTIONS[index])), *body])

    part(0, _plain(basic_lines(texts, account)))
    missed = account.missed
    part(
        1,
        _plain(meeting_lines(texts, account))
        + [_html(missed_line(texts, t)) for t in missed[:MISSED_SHOWN]],
    )
    if len(missed) > MISSED_SHOWN:
        lines.append(texts("account.more_in_file", count=len(missed) - MISSED_SHOWN))
    part(2, _plain(contact_lines(texts, account)))
    shown = account.suggestions[:SUGGESTIONS_SHOWN]
    part(
        3,
        [_html(suggestion_summary(texts, account))]
        + [_html(suggestion_line(texts, account, s, TITLE_CLIP)) for s in shown],
    )
    if len(account.suggestions) > SUGGESTIONS_SHOWN:
        lines.append(
            texts("account.more_in_file", count=len(account.suggestions) - SUGGESTIONS_SHOWN)
        )
    part(4, _plain(supervision_lines(texts, account, TITLES_SHOWN)))
    part(5, [texts("account.plan_hint")])
    return lines


def file_name(texts: Texts, account: AnnualAccount) -> str:
    return f"{texts('account.file_prefix')}_{account.year}_{account.deputy.user_id}.docx"


@guarded(Action.GIVE_ACCOUNT)
async def account_command(update: Update, context: BotContext) -> None:
    accounts = context.services.annual_accounts
    texts = context.texts
    year = accounts.year(" ".join(context.args or []))
    account = await accounts.compile(context.user, year)
    chat_id = chat_id_of(update)
    messages = chunks(account_lines(texts, account))
    markup = InlineKeyboardMarkup(
        [[button(texts("account.turns_button", year=year), AccountTurns(year=year, page=0))]]
    )
    for index, text in enumerate(messages):
        last = index == len(messages) - 1
        await context.bot.send_message(chat_id, text, reply_markup=markup if last else None)
    await context.bot.send_document(
        chat_id,
        io.BytesIO(await accounts.docx(account, texts)),
        filename=file_name(texts, account),
        caption=texts("account.file_caption", name=escape(account.deputy.name), year=year),
    )


# --- the year's turns ----------------------------------------------------------------------------


def _mark(context: BotContext, turn: AccountTurn) -> str:
    if turn.absent:
        return context.texts("account.mark_absent")
    if context.services.annual_accounts.is_past(turn):
        return context.texts("account.mark_attended")
    return context.texts("account.mark_coming")


async def show_turns(update: Update, context: BotContext, year: int, page: int) -> None:
    texts = context.texts
    listed = await context.services.annual_accounts.turns(context.user, year, page, TURNS_PER_PAGE)
    if not listed.items:
        await respond(update, context, texts("account.turns_none", year=year))
        return
    buttons = [
        button(
            texts(
                "account.turn_button",
                mark=_mark(context, t),
                date=texts.date(t.starts_at),
                kind=texts(TURN_LABELS[t.kind]),
            ),
            AccountTurnOpen(turn=t.id, year=year, page=listed.page),
        )
        for t in listed.items
    ]
    markup = paged(
        buttons, listed.page, listed.pages, lambda p: AccountTurns(year=year, page=p), texts
    )
    await respond(update, context, texts("account.turns_head", year=year), markup)


@guarded(Action.GIVE_ACCOUNT)
async def turns_page(update: Update, context: BotContext) -> None:
    tapped = AccountTurns.of(update)
    await answer_tap(update)
    await show_turns(update, context, tapped.year, tapped.page)


def _status(context: BotContext, turn: AccountTurn) -> str:
    texts = context.texts
    if turn.absent:
        return texts("account.status_absent", reason=escape(turn.absence_reason or ""))
    if turn.visited:
        return texts("account.status_visited")
    if context.services.annual_accounts.is_past(turn):
        return texts("account.status_attended")
    return texts("account.status_coming")


def turn_card(
    context: BotContext, turn: AccountTurn, year: int, page: int, head: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    texts = context.texts
    text = texts(
        "account.turn_card",
        kind=texts(TURN_LABELS[turn.kind]),
        date=texts.date(turn.starts_at),
        start=texts.time(turn.starts_at),
        end=texts.time(turn.ends_at),
        station=escape(turn_where(texts, turn)),
        status=_status(context, turn),
    )
    rows: list[list[InlineKeyboardButton]] = []
    if turn.absent:
        rows.append(
            [
                button(
                    texts("account.change_reason_button"),
                    AccountAbsent(turn=turn.id, year=year, page=page),
                ),
                button(
                    texts("account.undo_button"), AccountUndo(turn=turn.id, year=year, page=page)
                ),
            ]
        )
    elif not turn.visited:
        rows.append(
            [
                button(
                    texts("account.absent_button"),
                    AccountAbsent(turn=turn.id, year=year, page=page),
                )
            ]
        )
    rows.append([button(texts("account.back_to_turns"), AccountTurns(year=year, page=page))])
    return (head + "\n\n" if head else "") + text, InlineKeyboardMarkup(rows)


@guarded(Action.GIVE_ACCOUNT)
async def open_turn(update: Update, context: BotContext) -> None:
    tapped = AccountTurnOpen.of(update)
    turn = await context.services.annual_accounts.turn(context.user, tapped.turn, tapped.year)
    await answer_tap(update)
    text, markup = turn_card(context, turn, tapped.year, tapped.page)
    await respond(update, context, text, markup)


@guarded(Action.GIVE_ACCOUNT)
async def undo(update: Update, context: BotContext) -> None:
    tapped = AccountUndo.of(update)
    turn = await context.services.annual_accounts.undo_absence(
        context.user, tapped.turn, tapped.year
    )
    await answer_tap(update)
    head = context.texts("account.absence_undone")
    text, markup = turn_card(context, turn, tapped.year, tapped.page, head)
    await respond(update, context, text, markup)


# --- marking a turn missed -----------------------------------------------------------------------


@guarded(Action.GIVE_ACCOUNT)
async def begin_absence(update: Update, context: BotContext) -> Step:
    tapped = AccountAbsent.of(update)
    texts = context.texts
    turn = await context.services.annual_accounts.begin_absence(
        context.user, chat_id_of(update), tapped.turn, tapped.year, tapped.page
    )
    await answer_tap(update)
    markup = InlineKeyboardMarkup([[button(texts("account.cancel_button"), AbsenceCancel())]])
    key = "account.ask_new_reason" if turn.absent else "account.ask_reason"
    text = texts(
        key,
        date=texts.date(turn.starts_at),
        kind=texts(TURN_LABELS[turn.kind]),
        reason=escape(turn.absence_reason or ""),
        maximum=REASON_MAX,
    )
    await respond(update, context, text, markup)
    return Step.REASON


@guarded(Action.GIVE_ACCOUNT)
async def receive_reason(update: Update, context: BotContext) -> int | None:
    accounts = context.services.annual_accounts
    chat_id = chat_id_of(update)
    try:
        turn, draft = await accounts.record_absence(context.user, chat_id, message_of(update).text)
    except DomainError as error:
        if error.key not in ENDING:
            raise
        await accounts.cancel_absence(context.user, chat_id)
        await show_error(update, context, error)
        return END
    head = context.texts("account.absence_saved")
    text, markup = turn_card(context, turn, present(draft.year, "year"), draft.page, head)
    await respond(update, context, text, markup, edit=False)
    return END


async def cancel(update: Update, context: BotContext) -> int:
    """Leave without saving: back to the turn's card when it can be shown."""
    accounts = context.services.annual_accounts
    draft = await accounts.cancel_absence(context.user, chat_id_of(update))
    await answer_tap(update)
    texts = context.texts
    if draft is not None and draft.turn is not None and draft.year is not None:
        try:
            turn = await accounts.turn(context.user, draft.turn, draft.year)
        except DomainError:
            pass
        else:
            text, markup = turn_card(
                context, turn, draft.year, draft.page, texts("account.absence_cancelled")
            )
            await respond(update, context, text, markup)
            return END
    await respond(update, context, texts("account.absence_cancelled"))
    return END


use_text = saying("account.use_text")
in_progress = saying("account.in_progress")
stale = alerting("error.stale_button")


def handlers() -> list[Handler]:
    absent = CallbackQueryHandler(begin_absence, pattern=AccountAbsent.filter())
    conversation = DeclaredConversation(
        ABSENCE,
        entry_points=[absent],
        states={
            Step.REASON: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, receive_reason),
                MessageHandler(~filters.COMMAND, use_text),
            ]
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=AbsenceCancel.filter()),
            absent,  # another turn's button: its reason is asked instead
            MessageHandler(filters.COMMAND, in_progress),
        ],
    )
    return [
        conversation,
        CommandHandler("account", account_command),
        CallbackQueryHandler(turns_page, pattern=AccountTurns.filter()),
        CallbackQueryHandler(open_turn, pattern=AccountTurnOpen.filter()),
        CallbackQueryHandler(undo, pattern=AccountUndo.filter()),
        CallbackQueryHandler(stale, pattern=any_of(AbsenceCancel)),
    ]
