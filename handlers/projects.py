"""/projects: livelihood projects, their progress and supervision."""

from __future__ import annotations

from handlers.common import Handler


def handlers() -> list[Handler]:
    return []
