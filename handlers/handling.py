"""/opinions for staff: every opinion, filtered by status and street, newest first; from an
opinion's card accept it, decline it with a reason, answer it, ask the voter, release it, or
give it to a deputy of its station."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.context import BotContext
from bot.services.opinions import CATEGORY_LABELS, STATUS_LABELS
from handlers.common import answer_tap, callback_args, clip, guarded, int_arg, respond
from handlers.inbox import (
    CARD_TEXT_CHARS,
    acted,
    assign_to,
    deputy_picker,
    opinion_button,
    render_history,
    render_rating,
)
from handlers.keyboards import button, paged, rows_of, street_picker
from storage.models import OpinionStatus

PER_PAGE = 6
PREVIEW_CHARS = 20
STREET_FILTER = "sz"
ALL = "*"


def _status(raw: str) -> OpinionStatus | None:
    if raw == ALL:
        return None
    try:
        return OpinionStatus(raw)
    except ValueError:
        raise DomainError("error.stale_button") from None


async def show_list(
    update: Update, context: BotContext, status_raw: str, street_id: int, page: int
) -> None:
    texts = context.texts
    services = context.services
    status = _status(status_raw)
    result = await services.opinions.all(context.user, status, street_id or None, page, PER_PAGE)
    street_name = (
        (await services.stations.street(street_id)).name
        if street_id
        else texts("handling.all_streets")
    )
    title = texts(
        "handling.list_title",
        status=texts(STATUS_LABELS[status]) if status else texts("handling.all_statuses"),
        street=escape(street_name),
    )
    items = [
        opinion_button(texts, "handling.item", opinion, PREVIEW_CHARS, f"so:o:{opinion.id}")
        for opinion in result.items
    ]
    filters_row = [
        button(texts("handling.all_statuses"), f"so:l:{ALL}:{street_id}:0"),
        *(button(texts(STATUS_LABELS[s]), f"so:l:{s.value}:{street_id}:0") for s in OpinionStatus),
    ]
    markup = paged(
        items, result.page, result.pages, lambda p: f"so:l:{status_raw}:{street_id}:{p}", texts
    )
    keyboard = [
        *markup.inline_keyboard,
        *rows_of(filters_row, 3),
        [button(texts("handling.filter_street"), f"{STREET_FILTER}:z:0")],
    ]
    body = title if result.items else title + "\n" + texts("handling.empty")
    await respond(update, context, body, InlineKeyboardMarkup(keyboard))


@guarded(Action.VIEW_ALL_OPINIONS)
async def opinions_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, ALL, 0, 0)


@guarded(Action.VIEW_ALL_OPINIONS)
async def list_page(update: Update, context: BotContext) -> None:
    status_raw, street, page = callback_args(update, "so:l", 3)
    await answer_tap(update)
    await show_list(update, context, status_raw, int_arg(street), int_arg(page))


@guarded(Action.VIEW_ALL_OPINIONS)
async def street_filter_page(update: Update, context: BotContext) -> None:
    (page,) = callback_args(update, f"{STREET_FILTER}:z", 1)
    await answer_tap(update)
    markup = await street_picker(context.services, context.texts, STREET_FILTER, int_arg(page))
    await respond(update, context, context.texts("broadcast.pick_street"), markup)


@guarded(Action.VIEW_ALL_OPINIONS)
async def street_filter_chosen(update: Update, context: BotContext) -> None:
    street_id, _ = (int_arg(a) for a in callback_args(update, f"{STREET_FILTER}:s", 2))
    await context.services.stations.street(street_id)
    await answer_tap(update)
    await show_list(update, context, ALL, street_id, 0)


async def show_card(update: Update, context: BotContext, opinion_id: int) -> None:
    services = context.services
    texts = context.texts
    detail = await services.opinions.detail(context.user, opinion_id)
    opinion = detail.opinion
    author = await services.users.get(opinion.author_id)
    station = await services.stations.find(opinion.station_id)
    holder = await services.inbox.holder_name(opinion)
    text = texts(
        "handling.card",
        tracking_no=opinion.tracking_no,
        status=texts(STATUS_LABELS[opinion.status]),
        category=texts(CATEGORY_LABELS.get(opinion.category, "category.other")),
        station=escape(station.name if station else "—"),
        author=escape(author.full_name if author else str(opinion.author_id)),
        anonymous="" if opinion.show_name else texts("handling.anonymous_mark"),
        created=texts.datetime(opinion.created_at),
        photos=texts.number(len(opinion.photos)),
        text=escape(clip(opinion.text, CARD_TEXT_CHARS)),
        history=render_history(texts, detail.events),
    )
    text += "\n" + texts(
        "inbox.holder_line", holder=escape(holder) if holder else texts("inbox.unclaimed")
    )
    text += render_rating(texts, opinion)
    rows = []
    actions = []
    if opinion.status == OpinionStatus.SUBMITTED:
        actions.append(button(texts("handling.accept"), f"so:accept:{opinion.id}"))
    if opinion.status in (OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED):
        actions.append(button(texts("handling.answer"), f"so:answer:{opinion.id}"))
        actions.append(button(texts("handling.decline"), f"so:decline:{opinion.id}"))
    if actions:
        rows.append(actions)
    # staff act as the holder would, and give the opinion to a deputy of its station
    if opinion.status == OpinionStatus.ACCEPTED:
        rows.append(
            [
                button(texts("inbox.ask_button"), f"ib:ask:{opinion.id}"),
                button(texts("inbox.release_button"), f"so:rel:{opinion.id}"),
            ]
        )
    if opinion.status in (OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED):
        label = "inbox.reassign_button" if opinion.holder_id else "inbox.assign_button"
        rows.append([button(texts(label), f"so:asg:{opinion.id}")])
    rows.append([button(texts("nav.back"), f"so:l:{ALL}:0:0")])
    await respond(update, context, text, InlineKeyboardMarkup(rows))


@guarded(Action.VIEW_ALL_OPINIONS)
async def card(update: Update, context: BotContext) -> None:
    (opinion_id,) = callback_args(update, "so:o", 1)
    await answer_tap(update)
    await show_card(update, context, int_arg(opinion_id))


@guarded(Action.HANDLE_OPINIONS)
async def accept(update: Update, context: BotContext) -> None:
    (opinion_id,) = callback_args(update, "so:accept", 1)
    opinion = await context.services.opinions.handle(context.user, int_arg(opinion_id), "accept")
    await acted(update, context, "handling.done_accept", opinion, show_card)


@guarded(Action.HANDLE_OPINIONS)
async def release(update: Update, context: BotContext) -> None:
    (opinion_id,) = callback_args(update, "so:rel", 1)
    opinion = await context.services.inbox.release(context.user, int_arg(opinion_id))
    await acted(update, context, "inbox.released", opinion, show_card)


@guarded(Action.ASSIGN_OPINION)
async def pick_deputy(update: Update, context: BotContext) -> None:
    (opinion_id,) = callback_args(update, "so:asg", 1)
    opinion = int_arg(opinion_id)
    await deputy_picker(update, context, opinion, "so", f"so:o:{opinion}")
    await answer_tap(update)


@guarded(Action.ASSIGN_OPINION)
async def assign(update: Update, context: BotContext) -> None:
    opinion = await assign_to(update, context, "so")
    await show_card(update, context, opinion.id)


def handlers() -> list[BaseHandler]:
    # Answering and declining are typed: that conversation lives in handlers.inbox, with
    # everything else typed about an opinion.
    return [
        CommandHandler("opinions", opinions_command),  # type: ignore[arg-type]
        CallbackQueryHandler(list_page, pattern=r"^so:l:"),  # type: ignore[arg-type]
        CallbackQueryHandler(card, pattern=r"^so:o:"),  # type: ignore[arg-type]
        CallbackQueryHandler(accept, pattern=r"^so:accept:"),  # type: ignore[arg-type]
        CallbackQueryHandler(release, pattern=r"^so:rel:"),  # type: ignore[arg-type]
        CallbackQueryHandler(pick_deputy, pattern=r"^so:asg:"),  # type: ignore[arg-type]
        CallbackQueryHandler(assign, pattern=r"^so:to:"),  # type: ignore[arg-type]
        CallbackQueryHandler(street_filter_page, pattern=rf"^{STREET_FILTER}:z:"),  # type: ignore[arg-type]
        CallbackQueryHandler(street_filter_chosen, pattern=rf"^{STREET_FILTER}:s:"),  # type: ignore[arg-type]
    ]
