"""Buttons of a consultation's report and feedback (prefixes kq…)."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Id, notice_action
from bot.services.outbox import Intent, NoticeButton


class ReportOpen(CallbackData, prefix="kqo"):
    """Staff: a closed consultation's summary, with its .xlsx and .docx."""

    consultation: Id


@notice_action(Intent.CONSULTATION_REPORT)
def _reportopen_from_notice(notice: NoticeButton) -> ReportOpen:
    return ReportOpen(consultation=notice.target)
