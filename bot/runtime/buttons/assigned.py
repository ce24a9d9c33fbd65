"""Buttons of a department's view of its assigned suggestions (prefixes bf…, 办复): the
answer, the return (退办) and the request for more time."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Id


class AnswerStart(CallbackData, prefix="bfa"):
    """Record the answer of a suggestion: its lead department's liaison, or staff for a
    department that does not use the bot (the staff card carries this button too)."""

    suggestion: Id
