"""Buttons of reading and commenting on a draft (prefixes kr…)."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Id


class ReadOpen(CallbackData, prefix="kro"):
    """Open a consultation to read: its title, deadline and table of contents."""

    consultation: Id
