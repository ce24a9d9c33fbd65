"""/opinions for staff: every opinion, filtered by status and street, newest first; each
opens the one opinion card (handlers.opinion_card), with what staff may do about it."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.access import Action
from bot.runtime.buttons import Picker, StreetPage
from bot.runtime.buttons.inbox import OpinionCard, Side, StaffList, StatusFilter
from bot.runtime.context import BotContext
from bot.services.opinions import STATUS_LABELS
from handlers.common import answer_tap, guarded, respond
from handlers.keyboards import button, paged, rows_of
from handlers.opinion_card import opinion_button
from handlers.station_picker import StationPicker

PER_PAGE = 6
PREVIEW_CHARS = 20
PURPOSE = Picker.OPINION_FILTER
ALL = StatusFilter.ALL


async def show_list(
    update: Update, context: BotContext, status_filter: StatusFilter, street_id: int, page: int
) -> None:
    """A page of every opinion with this status (or any) in this street (0: any)."""
    texts = context.texts
    services = context.services
    status = status_filter.status
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
        opinion_button(
            texts,
            "handling.item",
            opinion,
            PREVIEW_CHARS,
            OpinionCard(side=Side.STAFF, opinion=opinion.id),
        )
        for opinion in result.items
    ]
    filters_row = [
        button(
            texts(STATUS_LABELS[f.value]) if f.status else texts("handling.all_statuses"),
            StaffList(status=f, street=street_id, page=0),
        )
        for f in StatusFilter
    ]
    markup = paged(
        items,
        result.page,
        result.pages,
        lambda p: StaffList(status=status_filter, street=street_id, page=p),
        texts,
    )
    keyboard = [
        *markup.inline_keyboard,
        *rows_of(filters_row, 3),
        [button(texts("handling.filter_street"), StreetPage(purpose=PURPOSE, page=0))],
    ]
    body = title if result.items else title + "\n" + texts("handling.empty")
    await respond(update, context, body, InlineKeyboardMarkup(keyboard))


@guarded(Action.VIEW_ALL_OPINIONS)
async def opinions_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, ALL, 0, 0)


@guarded(Action.VIEW_ALL_OPINIONS)
async def list_page(update: Update, context: BotContext) -> None:
    """Another page, status or street of the list."""
    tapped = StaffList.of(update)
    if tapped.street:  # a street that no longer exists is refused before anything is shown
        await context.services.stations.street(tapped.street)
    await answer_tap(update)
    await show_list(update, context, tapped.status, tapped.street, tapped.page)


async def street_chosen(update: Update, context: BotContext, street_id: int) -> None:
    """A street tapped: every opinion of it (its stations are not asked for)."""
    await show_list(update, context, ALL, street_id, 0)


# The street filter: the shared picker, where tapping a street is the answer.
STREET_FILTER = StationPicker(
    PURPOSE, Action.VIEW_ALL_OPINIONS, street_chosen, "broadcast.pick_street", street_is_answer=True
)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    # The card's taps (handlers.opinion_card) and the typed answer and reason (the `reply`
    # conversation of handlers.inbox) serve both sides; registered there.
    return [
        CommandHandler("opinions", opinions_command),
        CallbackQueryHandler(list_page, pattern=StaffList.filter()),
        *STREET_FILTER.handlers(),
    ]
