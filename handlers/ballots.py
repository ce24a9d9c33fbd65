"""/ballot and /ballots: secret ballots on livelihood projects."""

from __future__ import annotations

from handlers.common import Handler


def handlers() -> list[Handler]:
    return []
