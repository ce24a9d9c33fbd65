"""The app's logging captured for a test: configured from settings exactly as the bot does
(the redacting filter, the format, the wire loggers' floors), written into a StringIO, and
everything put back afterwards (root level and handlers, filters, excepthook)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

from bot.runtime.logs import WIRE_LOGGERS, configure_logging
from bot.settings import Settings


@contextmanager
def captured_logs(settings: Settings) -> Iterator[StringIO]:
    """Logging configured from `settings` as the app does, into the StringIO yielded."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    filters = {h: list(h.filters) for h in handlers}
    levels = {name: logging.getLogger(name).level for name in WIRE_LOGGERS}
    excepthook = sys.excepthook
    stream = StringIO()
    configure_logging(settings, handler=logging.StreamHandler(stream))
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler, saved in filters.items():
            handler.filters[:] = saved
        root.setLevel(level)
        for name, saved_level in levels.items():
            logging.getLogger(name).setLevel(saved_level)
        sys.excepthook = excepthook
