"""/consult: staff open a draft-law consultation."""

from __future__ import annotations

from handlers.common import Handler


def handlers() -> list[Handler]:
    return []
