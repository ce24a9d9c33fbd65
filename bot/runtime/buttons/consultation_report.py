"""Buttons of a consultation's report and feedback (prefixes kq…)."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Id


class ReportOpen(CallbackData, prefix="kqo"):
    """Staff: a closed consultation's summary, with its .xlsx and .docx."""

    consultation: Id
