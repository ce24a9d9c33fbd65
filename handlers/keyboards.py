"""Inline keyboards: paged lists and the street → station picker shared by several features."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Texts
from bot.services import Services

PER_PAGE = 8


def button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def rows_of(
    buttons: Sequence[InlineKeyboardButton], columns: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + columns]) for i in range(0, len(buttons), columns)]


def paged(
    buttons: Sequence[InlineKeyboardButton],
    page: int,
    pages: int,
    nav: Callable[[int], str],
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
    services: Services, texts: Texts, prefix: str, page: int
) -> InlineKeyboardMarkup:
    """Streets (街镇); tapping one opens its stations. Data: `<prefix>:z:<page>`."""
    result = await services.stations.streets(page, PER_PAGE)
    buttons = [button(s.name, f"{prefix}:s:{s.id}:0") for s in result.items]
    return paged(buttons, result.page, result.pages, lambda p: f"{prefix}:z:{p}", texts, columns=2)


async def station_picker(
    services: Services, texts: Texts, prefix: str, street_id: int, page: int
) -> InlineKeyboardMarkup:
    """The stations of one street. Data: `<prefix>:s:<street>:<page>` and `<prefix>:p:<id>`."""
    result = await services.stations.stations(street_id, page, PER_PAGE)
    buttons = [button(s.name, f"{prefix}:p:{s.id}") for s in result.items]
    return paged(
        buttons,
        result.page,
        result.pages,
        lambda p: f"{prefix}:s:{street_id}:{p}",
        texts,
        extra=[button(texts("nav.back"), f"{prefix}:z:0")],
    )
