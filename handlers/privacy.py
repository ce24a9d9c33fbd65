"""/privacy, /mydata and /forget: a person's rights over their data (PIPL).
Filled in by issue 11."""

from __future__ import annotations

from handlers.common import Handler


def handlers() -> list[Handler]:
    return []
