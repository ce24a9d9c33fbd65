"""The head every view of a suggestion starts with (number, title, state), one rendering for
the deputy's, staff's, department's and voter's views alike; each view adds its own parts."""

from __future__ import annotations

from html import escape

from bot.i18n import Texts
from storage.models import Suggestion


def suggestion_head(texts: Texts, suggestion: Suggestion) -> str:
    """ "<b>JY2026-0001</b> title · state" with the title escaped."""
    return texts(
        "suggestion.head",
        number=suggestion.number,
        title=escape(suggestion.title),
        state=texts(f"suggestion.state.{suggestion.state}"),
    )
