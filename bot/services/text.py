"""The one cleaner for everything a person types: what is stored, measured and echoed."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import DomainError

# Joiners that scripts and emoji need between two visible characters; every other format
# character (zero-width space, word joiner, BOM, bidi controls …) is dropped.
JOINERS = frozenset({"\u200c", "\u200d"})
LINE_SEPARATORS = {"\u2028": "\n", "\u2029": "\n\n", "\r\n": "\n", "\r": "\n"}
BLANK_RUNS = re.compile(r"\n(?:[ \t\u3000]*\n){2,}")
TRAILING_SPACE = re.compile(r"[ \t\u3000]+\n")


def _visible(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) not in ("Cf", "Cc", "Zs")


def clean(raw: str | None) -> str:
    """NFC, no invisible format characters, at most one blank line in a row, no spaces at
    the ends; a joiner survives only between two visible characters."""
    text = unicodedata.normalize("NFC", raw or "")
    for separator, newline in LINE_SEPARATORS.items():
        text = text.replace(separator, newline)
    kept: list[str] = []
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cf":
            if char not in JOINERS:
                continue
            before = kept[-1] if kept else ""
            after = text[index + 1] if index + 1 < len(text) else ""
            if not (before and after and _visible(before) and _visible(after)):
                continue
        elif category == "Cc" and char not in "\n\t":
            continue
        kept.append(char)
    text = TRAILING_SPACE.sub("\n", "".join(kept))
    text = BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def typed(
    raw: str | None,
    *,
    minimum: int = 1,
    maximum: int,
    empty: str,
    too_short: str | None = None,
    too_long: str,
) -> str:
    """Clean what was typed and check its length on the cleaned text, in characters.
    `empty`, `too_short` and `too_long` are the message ids of the refusals; the last two
    get `minimum`/`maximum` and `count`."""
    text = clean(raw)
    if not text:
        raise DomainError(empty)
    if len(text) < minimum:
        raise DomainError(too_short or empty, minimum=minimum, count=len(text))
    if len(text) > maximum:
        raise DomainError(too_long, maximum=maximum, count=len(text))
    return text
