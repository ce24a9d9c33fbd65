"""A closed consultation's summary, .xlsx and .docx for staff."""

from __future__ import annotations

from handlers.common import Handler


def handlers() -> list[Handler]:
    return []
