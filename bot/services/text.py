"""The one cleaner for everything a person types: what is stored, measured and echoed."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import DomainError

# Format characters a script needs between two visible characters (joiners, the marks that
# keep right-to-left text in order); every other one (zero-width space, word joiner, BOM,
# bidi overrides …) is dropped.
BETWEEN_VISIBLE = frozenset({"\u200c", "\u200d", "\u200e", "\u200f", "\u061c"})
# Format characters that prefix a number (Arabic number signs and the like).
BEFORE_VISIBLE = frozenset(
    {*map(chr, range(0x0600, 0x0606)), "\u06dd", "\u070f", "\u0890", "\u0891", "\u08e2"}
    | {"\U000110bd", "\U000110cd"}
)
FLAG = "\U0001f3f4"  # a subdivision flag is this followed by tag characters
TAGS = range(0xE0020, 0xE0080)
# Letters and marks that show nothing: a text made of them is empty.
FILLERS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"})
LINE_BREAKS = {
    "\r\n": "\n",
    "\r": "\n",
    "\x0b": "\n",
    "\x0c": "\n",
    "\x85": "\n",
    "\u2028": "\n",
    "\u2029": "\n\n",
}
BLANK_RUNS = re.compile(r"\n(?:[^\S\n]*\n){2,}")
TRAILING_SPACE = re.compile(r"[^\S\n]+\n")
SUBSTANCE = ("L", "N", "P", "S")  # letters, digits, punctuation, symbols


def _visible(char: str) -> bool:
    return (
        bool(char)
        and not char.isspace()
        and char not in FILLERS
        and unicodedata.category(char)[0] not in ("C", "Z")
    )


def _keep_format(char: str, kept: list[str], after: str) -> bool:
    """Whether a format character (Unicode category Cf) stays where it stands."""
    before = kept[-1] if kept else ""
    if char in BETWEEN_VISIBLE:
        return _visible(before) and _visible(after)
    if char in BEFORE_VISIBLE:
        return _visible(after)
    if ord(char) in TAGS:
        return before == FLAG or (bool(before) and ord(before) in TAGS)
    return False


def substance(text: str) -> int:
    """How many characters carry something to read: letters, digits, punctuation and
    symbols, not the marks, selectors and fillers around them."""
    return sum(1 for c in text if unicodedata.category(c)[0] in SUBSTANCE and c not in FILLERS)


def clean(raw: str | None) -> str:
    """NFC, no invisible format or control characters (but what a script needs), at most
    one blank line in a row, no spaces at the ends; empty when nothing readable is left."""
    text = unicodedata.normalize("NFC", raw or "")
    for separator, newline in LINE_BREAKS.items():
        text = text.replace(separator, newline)
    kept: list[str] = []
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        after = text[index + 1] if index + 1 < len(text) else ""
        if category == "Cf" and not _keep_format(char, kept, after):
            continue
        if category == "Cc" and char not in "\n\t":
            continue
        kept.append(char)
    text = TRAILING_SPACE.sub("\n", "".join(kept))
    text = BLANK_RUNS.sub("\n\n", text).strip()
    if not substance(text):
        return ""
    return unicodedata.normalize("NFC", text)  # what removal brought together composes


def typed(
    raw: str | None,
    *,
    minimum: int = 1,
    maximum: int,
    empty: str,
    too_short: str | None = None,
    too_long: str,
) -> str:
    """Clean what was typed and check its length on the cleaned text: the minimum counts
    readable characters (`substance`), the maximum every character. `empty`, `too_short`
    and `too_long` are the message ids of the refusals; the last two get
    `minimum`/`maximum` and `count`."""
    text = clean(raw)
    if not text:
        raise DomainError(empty)
    readable = substance(text)
    if readable < minimum:
        raise DomainError(too_short or empty, minimum=minimum, count=readable)
    if len(text) > maximum:
        raise DomainError(too_long, maximum=maximum, count=len(text))
    return text


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut. Clip before escaping."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def telegram_length(text: str) -> int:
    """A length as Telegram counts it, in UTF-16 code units: a character outside the Basic
    Multilingual Plane (most emoji) counts two."""
    return len(text.encode("utf-16-le")) // 2


def clip_units(text: str, units: int) -> str:
    """At most `units` UTF-16 code units, as Telegram measures a text (an emoji counts two),
    an ellipsis marking a cut. Clip before escaping."""
    if telegram_length(text) <= units:
        return text
    kept, used = [], 1  # the ellipsis
    for char in text:
        used += telegram_length(char)
        if used > units:
            break
        kept.append(char)
    return "".join(kept) + "…"
