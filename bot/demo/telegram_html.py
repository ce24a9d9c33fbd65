"""Telegram's HTML parse mode, as strict as its documentation, for the in-process Bot API.

`parse_html` reads text the way the Bot API reads a message sent with `parse_mode=HTML` and
returns the plain text Telegram would show, or raises `TelegramHTMLError` whose message is the
reason Telegram puts after "Bad Request: can't parse entities: ". `parse_entities` returns the
formatting too (each tag's span of the plain text), for the demo console to render.

Tags, attributes and the wording and byte offsets of the errors follow Telegram's own parser
(TDLib's `parse_html`). Where that parser is lenient but the Bot API documentation says
otherwise, this one follows the documentation, so tests fail on text whose display depends on
an undocumented leniency: a bare `&` or `>`, an entity other than `&lt; &gt; &amp; &quot;` and
`&#NN;`/`&#xHH;`, an entity without its `;`, an attribute Telegram does not know, and
`<code class="language-…">` outside `<pre>` are refused here (Telegram would show them as typed
or ignore them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
"""Every tag Telegram accepts; anything else is an "Unsupported start tag"."""

ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href"}),
    "span": frozenset({"class"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "code": frozenset({"class"}),
    "blockquote": frozenset({"expandable"}),
}
"""The attributes each tag may carry (names are case-sensitive, as in Telegram)."""

NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
"""The only named character references the Bot API supports."""

_SPACES = frozenset(b" \t\r\n\v")
_LT, _GT, _AMP, _SLASH, _EQ = b"<", b">", b"&", b"/", b"="
_NAME_TOKEN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")
_EMOJI_ID = re.compile(r"[0-9]{1,19}")
_MAX_CODE_POINT = 0x10FFFF  # TDLib refuses this value and above in a numeric reference


class TelegramHTMLError(ValueError):
    """Text Telegram refuses to parse; the message is Telegram's reason."""


@dataclass(frozen=True)
class Entity:
    """A tag's formatting: `name` (as typed, lower case) over characters start:end of the
    plain text, with its attributes (an <a>'s href, a <code>'s language class …)."""

    name: str
    start: int
    end: int
    attributes: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    """The plain text Telegram shows and the formatting of its spans, as their end tags come."""

    text: str
    entities: list[Entity]


@dataclass
class _Open:
    """A start tag still waiting for its end tag."""

    name: str
    offset: int
    start: int = 0  # where its span begins in the plain text (characters)
    attributes: dict[str, str | None] = field(default_factory=dict)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's text limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(html: str) -> str:
    """The plain text Telegram shows for `html` sent with parse_mode HTML.

    Raises TelegramHTMLError with Telegram's reason when the text cannot be parsed."""
    return parse_entities(html).text


def parse_entities(html: str) -> Parsed:
    """The plain text and its formatting, as Telegram reads `html` sent with parse_mode HTML.

    Raises TelegramHTMLError with Telegram's reason when the text cannot be parsed."""
    parser = _Parser(html.encode("utf-8"))
    return Parsed(parser.run(), parser.entities)


def _is_space(byte: int) -> bool:
    return byte in _SPACES


class _Parser:
    """One pass over the UTF-8 bytes; offsets in errors are byte offsets, as Telegram's."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.plain: list[str] = []
        self.length = 0  # characters of plain text so far
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []

    def at(self, i: int) -> int:
        """The byte at `i`, or 0 past the end (TDLib reads a NUL-terminated string)."""
        return self.data[i] if i < len(self.data) else 0

    def emit(self, text: str) -> None:
        """Add shown text."""
        self.plain.append(text)
        self.length += len(text)

    def run(self) -> str:
        data, i = self.data, 0
        start_of_run = 0
        while i < len(data):
            byte = data[i : i + 1]
            if byte not in (_LT, _GT, _AMP):
                i += 1
                continue
            self.emit(data[start_of_run:i].decode("utf-8"))
            if byte == _AMP:
                character, i = self._text_entity(i)
                self.emit(character)
            elif byte == _GT:
                raise TelegramHTMLError(f'Unescaped ">" at byte offset {i}')
            elif self.at(i + 1) == _SLASH[0]:
                i = self._end_tag(i)
            else:
                i = self._start_tag(i)
            start_of_run = i
        self.emit(data[start_of_run:].decode("utf-8"))
        if self.stack:
            raise TelegramHTMLError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        return "".join(self.plain)

    # --- character references --------------------------------------------------------------

    def _reference(self, i: int) -> tuple[str, int, bool] | None:
        """Decode the reference at `i` as TDLib does: (character, end, had ";"), or None
        where TDLib would keep the "&" as typed."""
        data = self.data
        end = i + 1
        if self.at(end) == ord("#"):
            end += 1
            hexadecimal = self.at(end) == ord("x")
            if hexadecimal:
                end += 1
            digits = b"0123456789abcdefABCDEF" if hexadecimal else b"0123456789"
            first = end
            while self.at(end) and self.at(end) in digits:
                end += 1
            if end == first or end - i >= 10:
                return None
            value = int(data[first:end], 16 if hexadecimal else 10)
            if value == 0 or value >= _MAX_CODE_POINT:
                return None
            if 0xD800 <= value <= 0xDFFF:
                raise TelegramHTMLError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            character = chr(value)
        else:
            while bytes([self.at(end)]).isalpha():
                end += 1
            named = NAMED_ENTITIES.get(data[i + 1 : end])
            if named is None:
                return None
            character = named
        if self.at(end) == ord(";"):
            return character, end + 1, True
        return character, end, False

    def _text_entity(self, i: int) -> tuple[str, int]:
        """A reference in text: it must be supported and end with ";"."""
        decoded = self._reference(i)
        if decoded is not None and decoded[2]:
            return decoded[0], decoded[1]
        if decoded is not None:
            raise TelegramHTMLError(f'HTML entity without ";" at byte offset {i}')
        name = re.match(rb"&(#?[A-Za-z0-9]+);", self.data[i : i + 40])
        if name is not None:
            entity = name.group(0).decode("ascii")
            raise TelegramHTMLError(f'Unsupported HTML entity "{entity}" at byte offset {i}')
        raise TelegramHTMLError(f'Unescaped "&" at byte offset {i}')

    # --- tags ------------------------------------------------------------------------------

    def _start_tag(self, begin: int) -> int:
        """Read `<name attr="value" …>` at `begin`; return the offset after its ">"."""
        i = begin + 1
        while not _is_space(self.at(i)) and self.at(i) not in (_GT[0], 0):
            i += 1
        if i >= len(self.data):
            raise TelegramHTMLError(f"Unclosed start tag at byte offset {begin}")
        name = self.data[begin + 1 : i].lower().decode("utf-8")
        if name not in TAGS:
            raise TelegramHTMLError(f'Unsupported start tag "{name}" at byte offset {begin}')
        attributes: dict[str, str | None] = {}
        while self.at(i) != _GT[0]:
            while i < len(self.data) and _is_space(self.at(i)):
                i += 1
            if self.at(i) == _GT[0]:
                break
            if i >= len(self.data):
                raise TelegramHTMLError(f'Unclosed start tag "{name}" at byte offset {begin}')
            i = self._attribute(name, begin, i, attributes)
        self._check_attributes(name, begin, attributes)
        self.stack.append(_Open(name, begin, self.length, attributes))
        return i + 1

    def _attribute(self, tag: str, begin: int, i: int, attributes: dict[str, str | None]) -> int:
        """Read one `name`, `name=token` or `name="value"`; return the offset after it."""
        first = i
        while not _is_space(self.at(i)) and self.at(i) not in (_EQ[0], _GT[0], 0):
            i += 1
        attribute = self.data[first:i].decode("utf-8")
        if not attribute:
            raise TelegramHTMLError(
                f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
            )
        while i < len(self.data) and _is_space(self.at(i)):
            i += 1
        if self.at(i) != _EQ[0]:
            if i >= len(self.data):
                raise TelegramHTMLError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            attributes[attribute] = None
            return i
        i += 1
        while i < len(self.data) and _is_space(self.at(i)):
            i += 1
        if i >= len(self.data):
            raise TelegramHTMLError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        quote = self.at(i)
        if quote not in b"'\"":
            end = i
            while self.at(end) in _NAME_TOKEN:
                end += 1
            value = self.data[i:end].lower().decode("ascii")
            if not _is_space(self.at(end)) and self.at(end) not in (_GT[0], 0):
                raise TelegramHTMLError(f"Unexpected end of name token at byte offset {i}")
            i = end
        else:
            i += 1
            parts: list[str] = []
            run = i
            while i < len(self.data) and self.at(i) != quote:
                if self.at(i) == _AMP[0] and (decoded := self._reference(i)) is not None:
                    parts.append(self.data[run:i].decode("utf-8") + decoded[0])
                    i = run = decoded[1]
                    continue
                i += 1
            parts.append(self.data[run:i].decode("utf-8"))
            value = "".join(parts)
            if self.at(i) == quote:
                i += 1
        if i >= len(self.data):
            raise TelegramHTMLError(f"Unclosed start tag at byte offset {begin}")
        attributes[attribute] = value
        return i

    def _check_attributes(self, tag: str, begin: int, attributes: dict[str, str | None]) -> None:
        """Refuse what Telegram refuses, and attributes it would silently drop."""
        allowed = ATTRIBUTES.get(tag, frozenset())
        for attribute in attributes:
            if attribute not in allowed:
                raise TelegramHTMLError(
                    f'Unsupported attribute "{attribute}" in the tag "{tag}" at byte offset {begin}'
                )
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise TelegramHTMLError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            )
        if tag == "tg-emoji":
            value = attributes.get("emoji-id") or ""
            if not _EMOJI_ID.fullmatch(value) or not 0 < int(value) < 2**63:
                raise TelegramHTMLError("Invalid custom emoji identifier specified")
        if tag == "code" and "class" in attributes:
            language = attributes["class"] or ""
            inside_pre = bool(self.stack) and self.stack[-1].name == "pre"
            if not language.startswith("language-") or not inside_pre:
                raise TelegramHTMLError(
                    f'Tag "code" can have class "language-…" only inside "pre" '
                    f"at byte offset {begin}"
                )

    def _end_tag(self, begin: int) -> int:
        """Read `</name>` at `begin`; it must close the innermost open tag."""
        if not self.stack:
            raise TelegramHTMLError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while not _is_space(self.at(i)) and self.at(i) not in (_GT[0], 0):
            i += 1
        name = self.data[begin + 2 : i].decode("utf-8")
        while i < len(self.data) and _is_space(self.at(i)):
            i += 1
        if self.at(i) != _GT[0]:
            raise TelegramHTMLError(f"Unclosed end tag at byte offset {begin}")
        expected = self.stack[-1].name
        if name and name != expected:
            raise TelegramHTMLError(
                f'Unmatched end tag at byte offset {begin}, expected "</{expected}>", '
                f'found "</{name}>"'
            )
        opened = self.stack.pop()
        self.entities.append(Entity(opened.name, opened.start, self.length, opened.attributes))
        return i + 1
