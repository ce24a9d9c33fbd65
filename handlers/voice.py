"""Voice opinions on the cards of deputies and staff: the button that sends the voice, and
staff's typed transcript."""

from __future__ import annotations

from handlers.common import Handler


def handlers() -> list[Handler]:
    return []
