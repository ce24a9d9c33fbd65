"""Telegram's HTML parse mode lives in the package (`bot.demo.telegram_html`), beside the
in-process Bot API that uses it; these are its names, as the tests have always imported them."""

from bot.demo.telegram_html import (
    ATTRIBUTES,
    NAMED_ENTITIES,
    TAGS,
    Entity,
    Parsed,
    TelegramHTMLError,
    parse_entities,
    parse_html,
    utf16_length,
)

__all__ = [
    "ATTRIBUTES",
    "NAMED_ENTITIES",
    "TAGS",
    "Entity",
    "Parsed",
    "TelegramHTMLError",
    "parse_entities",
    "parse_html",
    "utf16_length",
]
