"""Inline keyboards: paged lists and the street → station picker shared by several features."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from bot.i18n import Texts
from bot.runtime.buttons import CallbackData, Picker, StationPicked, StreetPage, StreetStations
from bot.services import Services

PER_PAGE = 8


def button(label: str, data: CallbackData) -> InlineKeyboardButton:
    """An inline button; its data is one of the declared kinds (bot.runtime.buttons)."""
    return data.button(label)


def rows_of(
    buttons: Sequence[InlineKeyboardButton], columns: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + columns]) for i in range(0, len(buttons), columns)]


def paged(
    buttons: Sequence[InlineKeyboardButton],
    page: int,
    pages: int,
    nav: Callable[[int], CallbackData],
    texts: Texts,
    *,
    columns: int = 1,
    extra: Sequence[InlineKeyboardButton] = (),
) -> InlineKeyboardMarkup:
    """Items in rows, then ‹ page › navigation when there is more than one page."""
    rows = rows_of(buttons, columns)
    if pages > 1:
        nav_row = []
        if page > 0:
            nav_row.append(button(texts("nav.prev"), nav(page - 1)))
        nav_row.append(button(texts("nav.page", page=page + 1, pages=pages), nav(page)))
        if page < pages - 1:
            nav_row.append(button(texts("nav.next"), nav(page + 1)))
        rows.append(nav_row)
    if extra:
        rows.append(list(extra))
    return InlineKeyboardMarkup(rows)


async def street_picker(
    services: Services, texts: Texts, purpose: Picker, page: int
) -> InlineKeyboardMarkup:
    """Streets (街镇); tapping one opens its stations (StreetStations)."""
    result = await services.stations.streets(page, PER_PAGE)
    buttons = [
        button(s.name, StreetStations(purpose=purpose, street=s.id, page=0))
        for s in result.items
    ]
    return paged(
        buttons,
        result.page,
        result.pages,
        lambda p: StreetPage(purpose=purpose, page=p),
        texts,
        columns=2,
    )


async def station_picker(
    services: Services, texts: Texts, purpose: Picker, street_id: int, page: int
) -> InlineKeyboardMarkup:
    """The stations of one street (StationPicked), with a way back to the streets."""
    result = await services.stations.stations(street_id, page, PER_PAGE)
    buttons = [button(s.name, StationPicked(purpose=purpose, station=s.id)) for s in result.items]
    return paged(
        buttons,
        result.page,
        result.pages,
        lambda p: StreetStations(purpose=purpose, street=street_id, page=p),
        texts,
        extra=[button(texts("nav.back"), StreetPage(purpose=purpose, page=0))],
    )


def picker_handlers(
    purpose: Picker,
    streets: Callable[..., Any],
    stations: Callable[..., Any],
    picked: Callable[..., Any],
) -> list[CallbackQueryHandler[Any, Any]]:
    """The picker's three taps for one feature: a page of streets, a street's stations,
    the station picked."""
    return [
        CallbackQueryHandler(streets, pattern=StreetPage.filter(purpose=purpose)),
        CallbackQueryHandler(stations, pattern=StreetStations.filter(purpose=purpose)),
        CallbackQueryHandler(picked, pattern=StationPicked.filter(purpose=purpose)),
    ]
