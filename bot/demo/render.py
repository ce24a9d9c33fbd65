"""Telegram's HTML as a terminal shows it: the text Telegram would display, parsed by the same
strict parser the in-process Bot API checks it with, and each tag's span styled for `rich`."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from bot.demo.telegram_html import TelegramHTMLError, parse_entities

# Telegram's tags (synonyms included) and the terminal style of their spans.
STYLES: dict[str, Style] = {
    "b": Style(bold=True),
    "strong": Style(bold=True),
    "i": Style(italic=True),
    "em": Style(italic=True),
    "u": Style(underline=True),
    "ins": Style(underline=True),
    "s": Style(strike=True),
    "strike": Style(strike=True),
    "del": Style(strike=True),
    "code": Style(color="cyan"),
    "pre": Style(color="cyan"),
    "blockquote": Style(italic=True, dim=True),
    "tg-spoiler": Style(reverse=True),
    "span": Style(reverse=True),  # <span class="tg-spoiler">, the only span Telegram takes
}
LINK = Style(color="blue", underline=True)


def rich_text(html: str) -> Text:
    """`html` (sent with parse_mode HTML) as rich Text. A link's address follows its text when
    the text does not show it, since a transcript cannot be clicked. Text Telegram would not
    parse (it never reaches a chat) is shown as it was sent."""
    try:
        parsed = parse_entities(html)
    except TelegramHTMLError:
        return Text(html)
    text = Text(parsed.text)
    links: list[tuple[int, str]] = []
    for entity in parsed.entities:
        if entity.name == "a":
            href = entity.attributes.get("href") or ""
            text.stylize(LINK + Style(link=href) if href else LINK, entity.start, entity.end)
            if href and href != parsed.text[entity.start : entity.end]:
                links.append((entity.end, href))
        elif entity.name in STYLES:
            text.stylize(STYLES[entity.name], entity.start, entity.end)
    for end, href in sorted(links, reverse=True):  # from the end, so offsets stay right
        text = Text.assemble(text[:end], f" ({href})", text[end:])
    text.rstrip()
    return text
