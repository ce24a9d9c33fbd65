"""Buttons of reading and commenting on a draft (prefixes kr…)."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Id, notice_action
from bot.services.outbox import Intent, NoticeButton


class ReadOpen(CallbackData, prefix="kro"):
    """Open a consultation to read: its title, deadline and table of contents."""

    consultation: Id


@notice_action(Intent.READ_CONSULTATION)
def _readopen_from_notice(notice: NoticeButton) -> ReadOpen:
    return ReadOpen(consultation=notice.target)
