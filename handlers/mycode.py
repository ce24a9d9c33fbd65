"""/mycode: a deputy's own link and QR code (代表码); the `dep_<code>` deep link a voter opens
is followed by handlers.start, which calls `open_code` here."""

from __future__ import annotations

from handlers.common import Handler


def handlers() -> list[Handler]:
    return []
