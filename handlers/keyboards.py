"""Inline keyboards: buttons of the declared kinds, rows, and paged lists (the station picker
built on them is handlers.station_picker)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Texts
from bot.runtime.buttons import CallbackData


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
