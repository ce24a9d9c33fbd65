"""The demo console shows Telegram's HTML as a terminal does: the text Telegram would show,
styled by rich from the spans the strict parser finds, never the tags themselves; text a
person typed (escaped by the bot) shows its "<" and "&" as typed."""

from __future__ import annotations

import io

from rich.console import Console
from rich.style import Style
from rich.text import Text

from bot.demo.render import rich_text
from bot.demo.telegram_html import Entity, parse_entities


def styles(text: Text) -> dict[str, Style]:
    """Each styled stretch of the text, by what it reads."""
    return {text.plain[span.start : span.end]: Style.parse(str(span.style)) for span in text.spans}


def ansi(text: Text) -> str:
    """The text as a colour terminal receives it."""
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="standard", width=200).print(text)
    return out.getvalue()


def test_entities_are_the_spans_of_the_shown_text() -> None:
    parsed = parse_entities('<b>粗<i>斜</i></b> &lt;和&amp; <a href="https://example.org/x">链</a>')
    assert parsed.text == "粗斜 <和& 链"
    assert parsed.entities == [
        Entity("i", 1, 2),
        Entity("b", 0, 2),
        Entity("a", 7, 8, {"href": "https://example.org/x"}),
    ]


def test_bold_italic_code_and_spoiler_are_styled() -> None:
    text = rich_text(
        "<b>粗体</b> <strong>强调</strong> <i>斜体</i> <u>下划线</u> <s>删除</s> "
        "<code>HD-2026-000001</code> <tg-spoiler>秘密</tg-spoiler>"
    )
    assert text.plain == "粗体 强调 斜体 下划线 删除 HD-2026-000001 秘密"
    found = styles(text)
    assert found["粗体"].bold and found["强调"].bold
    assert found["斜体"].italic
    assert found["下划线"].underline
    assert found["删除"].strike
    assert found["HD-2026-000001"].color is not None
    assert found["秘密"].reverse
    shown = ansi(text)
    assert "\x1b[1m粗体" in shown  # bold reaches the terminal as its escape code
    assert "<b>" not in shown


def test_pre_and_blockquote_are_styled() -> None:
    text = rich_text(
        '<pre><code class="language-python">x = 1</code></pre>\n<blockquote>引</blockquote>'
    )
    assert text.plain == "x = 1\n引"
    assert styles(text)["引"].italic


def test_a_link_shows_its_address_when_its_text_does_not() -> None:
    text = rich_text('请看<a href="https://t.me/jiazhan_demo_bot?start=st_1">这里</a>。')
    assert text.plain == "请看这里 (https://t.me/jiazhan_demo_bot?start=st_1)。"
    link = styles(text)["这里"]
    assert link.underline and link.link == "https://t.me/jiazhan_demo_bot?start=st_1"
    same = rich_text('<a href="https://example.org">https://example.org</a>')
    assert same.plain == "https://example.org"


def test_typed_markup_is_shown_literally() -> None:
    """What a voter typed reaches the chat escaped; the console shows it as typed, unstyled."""
    text = rich_text("内容：&lt;b&gt;路灯&lt;/b&gt; &amp; 红绿灯 &quot;坏了&quot;")
    assert text.plain == '内容：<b>路灯</b> & 红绿灯 "坏了"'
    assert text.spans == []
    assert ansi(rich_text("[bold]不是标记[/bold]")).strip() == "[bold]不是标记[/bold]"


def test_text_telegram_would_refuse_is_shown_as_sent() -> None:
    assert rich_text("1 < 2 <b>").plain == "1 < 2 <b>"
