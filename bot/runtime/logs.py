"""Logging setup: the bot token never reaches a log line, and the libraries that log whole
updates, requests and SQL parameters (personal data) stay at INFO unless wire logs are asked
for with JIAZHAN_WIRE_LOG. Lines are text, or one JSON object each (JIAZHAN_LOG_FORMAT=json)
for a log collector."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from bot.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "<redacted>"
HANDLER_NAME = "jiazhan"

# Anything shaped like a bot token, its colon possibly percent-encoded as in a URL.
TOKEN_SHAPE = r"\d{3,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}"
# Secrets shorter than this are not searched for on their own: they would mangle ordinary text.
MIN_SECRET_LENGTH = 8

# Loggers that write what goes over the wire: whole updates with names and texts (telegram),
# request URLs with the token (httpx, httpcore), SQL with its parameters (aiosqlite), jobs.
# Each is held at its floor unless wire logs are on.
WIRE_LOGGERS: dict[str, int] = {
    "telegram": logging.INFO,
    "telegram.ext": logging.INFO,
    "httpx": logging.WARNING,  # at INFO it writes one line per request
    "httpcore": logging.INFO,
    "apscheduler": logging.INFO,
    "aiosqlite": logging.INFO,
    "hpack": logging.INFO,  # HTTP/2 headers, should httpx ever speak it
}

_FORMATTER = logging.Formatter()  # only its formatException, the standard traceback text


def _pattern(secrets: Iterable[str | None]) -> re.Pattern[str]:
    """One regex for every known secret (a token also as `id%3Asecret` and as its secret part)
    and for anything token-shaped; longer alternatives first."""
    words: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        words.add(secret)
        bot_id, colon, key = secret.partition(":")
        if colon:
            words.add(f"{bot_id}%3A{key}")
            words.add(f"{bot_id}%3a{key}")
            words.add(key)
    longest_first = sorted(words, key=len, reverse=True)
    known = [re.escape(w) for w in longest_first if len(w) >= MIN_SECRET_LENGTH]
    return re.compile("|".join([*known, TOKEN_SHAPE]))


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every secret and anything token-shaped replaced by <redacted>."""
    return _pattern(secrets).sub(REDACTED, text)


# What every LogRecord has; anything else on a record came with `extra=`.
STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}


class RedactingFilter(logging.Filter):
    """Rewrites a record so that its message, exception text and stack hold no secret.

    The message is formatted here (args merged into msg), so nothing secret is left in
    `record.args` for a later handler or a failing format to print."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str | None]) -> None:
        """Replace the secrets searched for (the generic token shape is always searched)."""
        self._pattern = _pattern(secrets)

    def _clean(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # args that do not fit: keep the text, never the arguments
            message = f"{record.msg} (its arguments did not fit the message and were dropped)"
        record.msg = self._clean(message)
        record.args = ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        # a formatter that renders the exception itself (JSON, error trackers) would print
        # it raw: only the redacted text is kept
        record.exc_info = None
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        for name, value in list(vars(record).items()):  # fields given with `extra=`
            if name not in STANDARD_FIELDS and isinstance(value, str):
                setattr(record, name, self._clean(value))
        return True


def secrets_of(settings: Settings) -> list[str]:
    """What must never be logged: the bot token and the webhook secret."""
    return [s for s in (settings.bot_token, settings.webhook_secret) if s]


def hold_wire_loggers(level: int, wire_log: bool) -> None:
    """Wire loggers follow `level` when wire logs are on; otherwise never below their floor."""
    for name, floor in WIRE_LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET if wire_log else max(level, floor))


def configure_logging(
    settings: Settings, *, handler: logging.Handler | None = None
) -> logging.Handler:
    """Set up the root logger from the settings and return the handler it writes through.

    Without `handler` a stderr handler is made (replacing one made by an earlier call). Every
    root handler, this one and any already there, gets the redacting filter."""
    root = logging.getLogger()
    level = logging.getLevelName(settings.log_level)
    if not isinstance(level, int):
        raise ValueError(f"unknown log level {settings.log_level!r}")
    if handler is None:
        for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
            root.removeHandler(old)
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(HANDLER_NAME)
    if handler.formatter is None:
        handler.setFormatter(
            json_formatter(settings.zone)
            if settings.log_format == "json"
            else logging.Formatter(LOG_FORMAT)
        )
    if handler not in root.handlers:
        root.addHandler(handler)
    root.setLevel(level)
    secrets = secrets_of(settings)
    for each in root.handlers:
        install_filter(each, secrets)
    hold_wire_loggers(level, settings.wire_log)
    sys.excepthook = _log_uncaught
    return handler


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """An exception nothing caught goes through the log, and so through the redaction,
    instead of straight to stderr."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("jiazhan").critical("uncaught exception", exc_info=(kind, value, tb))


def install_filter(handler: logging.Handler, secrets: Iterable[str | None]) -> RedactingFilter:
    """Put the redacting filter on `handler` (or update the one already there)."""
    for existing in handler.filters:
        if isinstance(existing, RedactingFilter):
            existing.set_secrets(secrets)
            return existing
    added = RedactingFilter(secrets)
    handler.addFilter(added)
    return added


EventDict = MutableMapping[str, Any]


def json_formatter(zone: ZoneInfo) -> logging.Formatter:
    """One JSON object a line: time (ISO 8601 with the zone's offset), level, logger, message,
    the `extra=` fields, and the exception's traceback (and a stack) as one field each.

    structlog's own processors add the level, the logger, the message and the extra fields.
    Two are ours: the time is the record's creation time in the settings' zone, to the
    millisecond (TimeStamper stamps the moment of formatting, in UTC or the machine's zone);
    and the traceback is the redacting filter's text, since the filter removes the raw
    exception before any formatter sees it (format_exc_info would find nothing to render,
    and a raw traceback may hold the token)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            _record_time(zone),
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.EventRenamer("message"),
            structlog.stdlib.ExtraAdder(),
            _redacted_traces,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )


def _record_time(zone: ZoneInfo) -> structlog.types.Processor:
    """`time`: when the record was made, in `zone`, to the millisecond."""

    def add(logger: Any, method: str, event: EventDict) -> EventDict:
        record: logging.LogRecord = event["_record"]
        moment = datetime.fromtimestamp(record.created, zone)
        event["time"] = moment.isoformat(timespec="milliseconds")
        return event

    return add


def _redacted_traces(logger: Any, method: str, event: EventDict) -> EventDict:
    """`exception` and `stack` from the record's redacted text; what a formatter that ran
    before this one left on the record (its asctime) is not a field."""
    record: logging.LogRecord = event["_record"]
    event.pop("asctime", None)
    event.pop("exc_info", None)
    stack = event.pop("stack_info", None)
    if record.exc_text:
        event["exception"] = record.exc_text
    if stack:
        event["stack"] = stack
    return event
