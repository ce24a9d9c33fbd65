"""/consultations: read a draft law article by article and comment."""

from __future__ import annotations

from handlers.common import Handler


def handlers() -> list[Handler]:
    return []
