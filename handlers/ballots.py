"""/ballot: a deputy votes by secret ballot on the livelihood projects (票决, 测评).

The open ballots → one opened (from the list or from its notice) → a sheet: every project
with its current mark, buttons to mark it (for / against / abstain, 满意 / 基本满意 / 不满意,
or chosen in K of N with a counter), paged → Submit → every mark once more, "cannot be
changed after" → Confirm counts it. Every mark is saved with its step (the conversation
bot.services.ballots.VOTE), so a restart resumes the sheet. Once counted, the confirmation
is replaced by a receipt without the marks (an older sheet message, sent before the ballot
was opened again, is left as it was).

Staff's side (/ballots) is handlers.ballot_staff; results, handlers.ballot_results."""

from __future__ import annotations

import functools

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.access import Action, allowed
from bot.errors import AccessDenied, DomainError
from bot.i18n import Texts
from bot.runtime.buttons import any_of
from bot.runtime.buttons.ballots import (
    BallotBack,
    BallotConfirm,
    BallotMark,
    BallotOpen,
    BallotPage,
    BallotQuit,
    BallotRestAbstain,
    BallotSubmit,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.ballot_reports import mode_of, title_of
from bot.services.ballot_rules import CHOICE_LABELS, MODE_CHOICES, Choice
from bot.services.ballots import VOTE, Sheet, VoteStep
from bot.services.paging import clamp_page
from handlers import ballot_staff
from handlers.ballot_results import send_results, title_line
from handlers.common import (
    Callback,
    Handler,
    answer_tap,
    chat_id_of,
    clip,
    guarded,
    respond,
    saying,
    show_error,
    tap_of,
)
from handlers.keyboards import button, rows_of
from storage.models import BallotMode

Step = VoteStep
END = DeclaredConversation.END
PER_PAGE = 10  # projects per page of the sheet: 3 buttons each, well within 100 per keyboard
BUTTON_CLIP = 12  # characters of a title on a k_of_n button
# Refusals after which the vote in progress cannot go on: it ends, its marks dropped.
ENDING = frozenset(
    {
        "ballot.closed",
        "ballot.already_voted",
        "ballot.not_entitled",
        "ballot.unknown",
        "ballot.open_first",
    }
)
SHEET_KEYS = {
    BallotMode.EACH: "ballot.sheet_each",
    BallotMode.K_OF_N: "ballot.sheet_k_of_n",
    BallotMode.RATING: "ballot.sheet_rating",
}


# --- the sheet and the confirmation ------------------------------------------------------------


def _mark_label(texts: Texts, sheet: Sheet, project_id: int) -> str:
    choice = sheet.choices.get(project_id)
    if sheet.ballot.mode == BallotMode.K_OF_N:
        key = "ballot.picked" if choice is not None else "ballot.unpicked"
        return texts(key)
    if choice is None:
        return texts("ballot.unmarked")
    return texts(CHOICE_LABELS[choice])


def render_sheet(texts: Texts, sheet: Sheet, page: int) -> tuple[str, InlineKeyboardMarkup]:
    """The sheet's text (the marks of this page's projects) and its buttons."""
    ballot = sheet.ballot
    count = len(sheet.projects)
    page, pages = clamp_page(page, count, PER_PAGE)
    first = page * PER_PAGE
    shown = sheet.projects[first : first + PER_PAGE]
    lines = [
        texts(
            "ballot.sheet_head", title=title_of(texts, ballot), mode=mode_of(texts, ballot, count)
        ),
        texts(
            SHEET_KEYS[ballot.mode],
            marked=len(sheet.choices),
            chosen=sheet.chosen,
            pick=ballot.pick or 0,
            count=count,
        ),
        texts("ballot.secret_note"),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    picks: list[InlineKeyboardButton] = []
    for number, project in enumerate(shown, start=first + 1):
        lines.append(
            texts(
                "ballot.sheet_line",
                number=number,
                title=title_line(project.title),
                mark=_mark_label(texts, sheet, project.id),
            )
        )
        if ballot.mode == BallotMode.K_OF_N:
            key = "ballot.picked_button" if project.id in sheet.choices else "ballot.pick_button"
            label = texts(key, number=number, title=clip(project.title, BUTTON_CLIP))
            data = BallotMark(ballot=ballot.id, project=project.id, choice=Choice.CHOSEN, page=page)
            picks.append(button(label, data))
            continue
        row = []
        for choice in MODE_CHOICES[ballot.mode]:
            marked = sheet.choices.get(project.id) == choice
            key = "ballot.marked_button" if marked else "ballot.mark_button"
            label = texts(key, number=number, choice=texts(CHOICE_LABELS[choice]))
            row.append(
                button(
                    label,
                    BallotMark(ballot=ballot.id, project=project.id, choice=choice, page=page),
                )
            )
        rows.append(row)
    rows += rows_of(picks, 2)
    if pages > 1:
        lines += ["", texts("ballot.sheet_page", page=page + 1, pages=pages)]
        nav = []
        if page > 0:
            nav.append(button(texts("nav.prev"), BallotPage(ballot=ballot.id, page=page - 1)))
        nav.append(
            button(
                texts("nav.page", page=page + 1, pages=pages),
                BallotPage(ballot=ballot.id, page=page),
            )
        )
        if page < pages - 1:
            nav.append(button(texts("nav.next"), BallotPage(ballot=ballot.id, page=page + 1)))
        rows.append(nav)
    actions = [button(texts("ballot.submit_button"), BallotSubmit(ballot=ballot.id))]
    if ballot.mode == BallotMode.EACH and sheet.missing:
        actions.append(
            button(
                texts("ballot.rest_abstain_button"), BallotRestAbstain(ballot=ballot.id, page=page)
            )
        )
    rows.append(actions)
    rows.append([button(texts("ballot.quit_button"), BallotQuit())])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def render_confirmation(texts: Texts, sheet: Sheet) -> tuple[str, InlineKeyboardMarkup]:
    """Every mark once more; in k_of_n the chosen ones, and a warning when fewer than K."""
    ballot = sheet.ballot
    lines = [texts("ballot.confirm_head", title=title_of(texts, ballot)), ""]
    for number, project in enumerate(sheet.projects, start=1):
        if ballot.mode == BallotMode.K_OF_N and project.id not in sheet.choices:
            continue
        lines.append(
            texts(
                "ballot.sheet_line",
                number=number,
                title=title_line(project.title),
                mark=_mark_label(texts, sheet, project.id),
            )
        )
    if ballot.mode == BallotMode.K_OF_N:
        if not sheet.chosen:
            lines.append(texts("ballot.confirm_none_chosen"))
        lines += ["", texts("ballot.confirm_chosen", chosen=sheet.chosen, pick=ballot.pick or 0)]
        if sheet.chosen < (ballot.pick or 0):
            lines.append(texts("ballot.fewer_warning", chosen=sheet.chosen, pick=ballot.pick or 0))
    lines += ["", texts("ballot.confirm_final")]
    markup = InlineKeyboardMarkup(
        [
            [button(texts("ballot.confirm_button"), BallotConfirm(ballot=ballot.id))],
            [button(texts("ballot.back_button"), BallotBack(ballot=ballot.id))],
        ]
    )
    return "\n".join(lines), markup


async def _show_sheet(
    update: Update, context: BotContext, sheet: Sheet, page: int = 0, *, edit: bool = True
) -> None:
    text, markup = render_sheet(context.texts, sheet, page)
    await respond(update, context, text, markup, edit=edit)


# --- refusals ------------------------------------------------------------------------------------


def voting(func: Callback[Step | int | None]) -> Callback[Step | int | None]:
    """A step of the vote: a refusal that leaves nothing to go on with (the ballot closed,
    the vote counted) ends the conversation, its marks dropped; others leave it as it is."""

    @functools.wraps(func)
    async def wrapper(update: Update, context: BotContext) -> Step | int | None:
        try:
            return await func(update, context)
        except DomainError as error:
            if error.key not in ENDING or isinstance(error, NotThisBallot):
                raise
            await context.services.ballots.quit(context.user, chat_id_of(update))
            await show_error(update, context, error)
            raise ApplicationHandlerStop(END) from error

    return wrapper


class NotThisBallot(DomainError):
    """The refusal of a button of another ballot than the one being marked: it says what is
    wrong with that ballot, and leaves the vote in progress as it is."""


async def _ours(context: BotContext, ballot_id: int) -> None:
    ballots = context.services.ballots
    current = await ballots.current(context.user)
    if current is not None and current != ballot_id:  # none kept: the ballot's refusal ends it
        refusal = await ballots.refusal(context.user, ballot_id)
        raise NotThisBallot(refusal.key, **refusal.params)


# --- entry: /ballot and the ballot's button ----------------------------------------------------


@guarded(Action.VOTE_BALLOT)
async def ballot_command(update: Update, context: BotContext) -> Step | int:
    texts = context.texts
    ballots = await context.services.ballots.begin_pick(context.user, chat_id_of(update))
    if not ballots:
        await respond(update, context, texts("ballot.none_pending"), edit=False)
        return END
    buttons = [
        button(
            texts("ballot.open_button", title=title_of(texts, b), number=b.id),
            BallotOpen(ballot=b.id),
        )
        for b in ballots
    ]
    markup = InlineKeyboardMarkup(
        [*rows_of(buttons, 1), [button(texts("ballot.quit_button"), BallotQuit())]]
    )
    await respond(
        update, context, texts("ballot.pending_head", count=len(ballots)), markup, edit=False
    )
    return Step.PICK


@guarded()
async def open_ballot(update: Update, context: BotContext) -> Step | int | None:
    """Staff get a closed ballot's results with its files; a deputy votes in an open one, or
    reads the results of a closed one; anyone else is refused."""
    ballot_id = BallotOpen.of(update).ballot
    user = context.user
    ballots = context.services.ballots
    if allowed(user, Action.MANAGE_PROJECTS):
        await answer_tap(update)
        await send_results(update, context, ballot_id, files=True)
        return None
    if not allowed(user, Action.VOTE_BALLOT):
        raise AccessDenied()
    if not await ballots.is_open(ballot_id):
        await answer_tap(update)
        await send_results(update, context, ballot_id, files=False)
        return None
    sheet = await ballots.begin_vote(user, chat_id_of(update), ballot_id)
    await answer_tap(update)
    await _show_sheet(update, context, sheet, edit=False)
    return Step.CHOOSING


# --- marking ------------------------------------------------------------------------------------


@guarded(Action.VOTE_BALLOT)
@voting
async def mark(update: Update, context: BotContext) -> Step:
    tapped = BallotMark.of(update)
    await _ours(context, tapped.ballot)
    sheet = await context.services.ballots.mark(
        context.user, chat_id_of(update), tapped.ballot, tapped.project, tapped.choice
    )
    await answer_tap(update)
    await _show_sheet(update, context, sheet, tapped.page)
    return Step.CHOOSING


@guarded(Action.VOTE_BALLOT)
@voting
async def turn_page(update: Update, context: BotContext) -> Step:
    tapped = BallotPage.of(update)
    await _ours(context, tapped.ballot)
    sheet = await context.services.ballots.sheet(context.user, tapped.ballot)
    await answer_tap(update)
    await _show_sheet(update, context, sheet, tapped.page)
    return Step.CHOOSING


@guarded(Action.VOTE_BALLOT)
@voting
async def rest_abstain(update: Update, context: BotContext) -> Step:
    tapped = BallotRestAbstain.of(update)
    await _ours(context, tapped.ballot)
    sheet = await context.services.ballots.rest_abstain(
        context.user, chat_id_of(update), tapped.ballot
    )
    await answer_tap(update)
    await _show_sheet(update, context, sheet, tapped.page)
    return Step.CHOOSING


@guarded(Action.VOTE_BALLOT)
@voting
async def submit(update: Update, context: BotContext) -> Step:
    tapped = BallotSubmit.of(update)
    await _ours(context, tapped.ballot)
    sheet = await context.services.ballots.submit(context.user, chat_id_of(update), tapped.ballot)
    await answer_tap(update)
    text, markup = render_confirmation(context.texts, sheet)
    await respond(update, context, text, markup)
    return Step.CONFIRMING


@guarded(Action.VOTE_BALLOT)
@voting
async def back(update: Update, context: BotContext) -> Step:
    tapped = BallotBack.of(update)
    await _ours(context, tapped.ballot)
    sheet = await context.services.ballots.back(context.user, chat_id_of(update), tapped.ballot)
    await answer_tap(update)
    await _show_sheet(update, context, sheet)
    return Step.CHOOSING


@guarded(Action.VOTE_BALLOT)
@voting
async def confirm(update: Update, context: BotContext) -> int:
    """Count the vote; the confirmation, which showed the marks, becomes a receipt without
    them."""
    tapped = BallotConfirm.of(update)
    await _ours(context, tapped.ballot)
    ballot = await context.services.ballots.cast(context.user, chat_id_of(update), tapped.ballot)
    await answer_tap(update)
    texts = context.texts
    await respond(update, context, texts("ballot.counted", title=title_of(texts, ballot)))
    return END


async def quit_vote(update: Update, context: BotContext) -> int:
    await context.services.ballots.quit(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("ballot.quit_done"))
    return END


@guarded(Action.VOTE_BALLOT)
async def resume(update: Update, context: BotContext) -> Step | int:
    """/ballot again in the middle: the sheet being marked, or the list."""
    ballots = context.services.ballots
    current = await ballots.current(context.user)
    if current is None:
        return await ballot_command(update, context) or END
    try:
        sheet = await ballots.begin_vote(context.user, chat_id_of(update), current)
    except DomainError as error:
        if error.key not in ENDING:
            raise
        await ballots.quit(context.user, chat_id_of(update))
        await show_error(update, context, error)
        return END
    await _show_sheet(update, context, sheet, edit=False)
    return Step.CHOOSING


# --- buttons out of place -------------------------------------------------------------------------

MARKING_BUTTONS = (
    BallotMark,
    BallotPage,
    BallotRestAbstain,
    BallotSubmit,
    BallotBack,
    BallotConfirm,
)


@guarded(Action.VOTE_BALLOT)
async def out_of_place(update: Update, context: BotContext) -> None:
    """A button of the sheet where it does nothing: outside the vote, at another step, of
    another ballot, replayed or forged. The refusal says why: voted already, closed, not
    entitled, or the ballot is to be opened first; a button of this very ballot at the
    wrong step is stale."""
    data = tap_of(update).data
    ballot_id: int | None = None
    for kind in MARKING_BUTTONS:
        if kind.filter()(data):
            ballot_id = kind.unpack(data).ballot
            break
    ballots = context.services.ballots
    if ballot_id is None or await ballots.current(context.user) == ballot_id:
        raise DomainError("error.stale_button")
    raise await ballots.refusal(context.user, ballot_id)


in_progress = saying("ballot.in_progress")


use_buttons = saying("ballot.use_buttons")


def handlers() -> list[Handler]:
    opening = CallbackQueryHandler(open_ballot, pattern=BallotOpen.filter())
    not_command = ~filters.COMMAND
    conversation = DeclaredConversation(
        VOTE,
        entry_points=[CommandHandler("ballot", ballot_command), opening],
        states={
            Step.PICK: [opening, MessageHandler(not_command, use_buttons)],
            Step.CHOOSING: [
                CallbackQueryHandler(mark, pattern=BallotMark.filter()),
                CallbackQueryHandler(turn_page, pattern=BallotPage.filter()),
                CallbackQueryHandler(rest_abstain, pattern=BallotRestAbstain.filter()),
                CallbackQueryHandler(submit, pattern=BallotSubmit.filter()),
                opening,
                MessageHandler(not_command, use_buttons),
            ],
            Step.CONFIRMING: [
                CallbackQueryHandler(confirm, pattern=BallotConfirm.filter()),
                CallbackQueryHandler(back, pattern=BallotBack.filter()),
                opening,
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", quit_vote),
            CallbackQueryHandler(quit_vote, pattern=BallotQuit.filter()),
            CommandHandler("ballot", resume),
            MessageHandler(filters.COMMAND, in_progress),
            CallbackQueryHandler(out_of_place, pattern=any_of(*MARKING_BUTTONS)),
        ],
    )
    return [
        conversation,
        CallbackQueryHandler(out_of_place, pattern=any_of(*MARKING_BUTTONS, BallotQuit)),
        *ballot_staff.handlers(),
    ]
