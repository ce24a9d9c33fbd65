"""The fake Bot API refuses what Telegram refuses, with Telegram's answer, and accepts what
Telegram accepts. Driven through a real PTB bot with the app's defaults (parse_mode HTML), so
the parameters are exactly those PTB sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import Defaults, ExtBot

from bot.demo.botapi import FakeBotAPI
from bot.demo.telegram_html import TelegramHTMLError, parse_html, utf16_length
from tests.support.faults import FaultyBotAPI
from tests.support.world import TOKEN

CHAT = 4242
PARSE = "Bad Request: can't parse entities: "


@pytest.fixture
async def api() -> FakeBotAPI:
    return FakeBotAPI()


@asynccontextmanager
async def bot_over(api: FakeBotAPI) -> AsyncIterator[ExtBot[None]]:
    """A bot configured as the app configures it: HTML unless told otherwise."""
    bot: ExtBot[None] = ExtBot(
        TOKEN, request=api, get_updates_request=api, defaults=Defaults(parse_mode=ParseMode.HTML)
    )
    await bot.initialize()
    try:
        yield bot
    finally:
        await bot.shutdown()


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[ExtBot[None]]:
    async with bot_over(api) as bot:
        yield bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One button per callback data, labelled by its position."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=d)] for i, d in enumerate(data)]
    )


def refused(api: FakeBotAPI, method: str) -> str:
    """The description of the last refusal, which must be of `method`."""
    assert api.refusals, "the fake accepted the request"
    assert api.refusals[-1].method == method
    return api.refusals[-1].description


# --- HTML -----------------------------------------------------------------------------------

VALID_HTML = (
    "<b>bold</b> <strong>strong</strong> <i>italic</i> <em>em</em> <u>u</u> <ins>ins</ins> "
    "<s>s</s> <strike>strike</strike> <del>del</del> "
    '<span class="tg-spoiler">spoiler</span> <tg-spoiler>spoiler</tg-spoiler> '
    '<a href="https://example.com/?a=1&b=2">link</a> <a href="tg://user?id=1">user</a> '
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> <code>x &lt; y</code> '
    '<pre>block</pre> <pre><code class="language-python">print("&amp;")</code></pre> '
    "<blockquote>quote</blockquote><blockquote expandable>more</blockquote> "
    "<b>bold <i>italic <u>underlined</u></i></b> &lt;&gt;&amp;&quot; &#20013;&#x6587; "
    "<B>upper case start tag</b> <b >spaces</b > <i>closed by</> "
)


async def test_valid_telegram_html_is_sent_and_recorded_as_sent(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    message = await bot.send_message(CHAT, VALID_HTML)

    assert api.refusals == []
    assert api.outputs[-1].text == VALID_HTML  # the raw HTML, for tests that look for tags
    assert message.text == VALID_HTML
    shown = parse_html(VALID_HTML)
    assert '<>&" 中文' in shown
    assert 'print("&")' in shown
    assert "<b>" not in shown


REFUSED_HTML = [
    # a tag Telegram does not know, as catalogs wrote placeholders
    (
        "Usage: /staff add <Telegram id>",
        'Unsupported start tag "telegram" at byte offset 18',
    ),
    ("用法：/invite <代表姓名>", 'Unsupported start tag "代表姓名" at byte offset 17'),
    ("<p>paragraph</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
    # tags that are not closed, or close the wrong tag
    ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<b>x</b", "Unclosed end tag at byte offset 4"),
    # a bare "<", ">" or "&"
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ("a <", "Unclosed start tag at byte offset 2"),
    ("1<2 or more", 'Unsupported start tag "2" at byte offset 1'),
    ("1<2", "Unclosed start tag at byte offset 1"),
    ("2 > 1", 'Unescaped ">" at byte offset 2'),
    ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
    ("AT&T", 'Unescaped "&" at byte offset 2'),
    # entities
    ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
    ("&copy; 2026", 'Unsupported HTML entity "&copy;" at byte offset 0'),
    ("&lt b", 'HTML entity without ";" at byte offset 0'),
    (
        "&#xD800;",
        "Text contains invalid Unicode characters after decoding HTML entities, check for "
        "unmatched surrogate code units",
    ),
    # attributes
    ('<b class="x">y</b>', 'Unsupported attribute "class" in the tag "b" at byte offset 0'),
    (
        '<a href="https://example.com" target="_blank">y</a>',
        'Unsupported attribute "target" in the tag "a" at byte offset 0',
    ),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<span class="bold">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<tg-emoji emoji-id="abc">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
    (
        '<code class="language-python">x</code>',
        'Tag "code" can have class "language-…" only inside "pre" at byte offset 0',
    ),
    ('<a =x">y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
    ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
    ('<a href="x', "Unclosed start tag at byte offset 0"),
    # offsets are UTF-8 bytes of the text as sent, after multibyte characters
    ("🏟 🏟&lt;<abac>", 'Unsupported start tag "abac" at byte offset 13'),
]


@pytest.mark.parametrize(("html", "reason"), REFUSED_HTML)
async def test_text_telegram_cannot_parse_is_refused_with_its_reason(
    bot: ExtBot[None], api: FakeBotAPI, html: str, reason: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, html)

    assert refused(api, "sendMessage") == PARSE + reason
    assert api.outputs == []


@pytest.mark.parametrize(("html", "reason"), REFUSED_HTML[:3])
def test_the_parser_raises_a_value_error_with_the_reason(html: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_html(html)

    assert isinstance(raised.value, TelegramHTMLError)
    assert str(raised.value) == reason


async def test_without_parse_mode_the_text_is_not_parsed(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    await bot.send_message(CHAT, "Usage: /staff add <Telegram id> & more", parse_mode=None)

    assert api.refusals == []
    assert api.outputs[-1].text == "Usage: /staff add <Telegram id> & more"


async def test_an_edit_is_parsed_like_a_new_message(bot: ExtBot[None], api: FakeBotAPI) -> None:
    message = await bot.send_message(CHAT, "<b>first</b>")

    with pytest.raises(BadRequest):
        await bot.edit_message_text("<b>second", CHAT, message.message_id)

    assert refused(api, "editMessageText") == (
        PARSE + 'Can\'t find end tag corresponding to start tag "b"'
    )
    assert api.chat_messages(CHAT)[-1]["text"] == "<b>first</b>"
    await bot.edit_message_text("<b>second</b> &amp; third", CHAT, message.message_id)
    assert api.chat_messages(CHAT)[-1]["text"] == "<b>second</b> &amp; third"


async def test_a_refusal_comes_before_delivery_so_it_is_not_a_block() -> None:
    """A chat that blocked the bot (a fault the tests inject) still gets Telegram's 400 for
    text it cannot parse: the strict checks come first."""
    api = FaultyBotAPI()
    api.blocked.add(CHAT)
    async with bot_over(api) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(CHAT, "a < b")
        with pytest.raises(Forbidden):
            await bot.send_message(CHAT, "a &lt; b")


# --- lengths --------------------------------------------------------------------------------


async def test_text_is_measured_after_entity_parsing(bot: ExtBot[None], api: FakeBotAPI) -> None:
    await bot.send_message(CHAT, "&amp;" * 4096)  # 20,480 characters sent, 4,096 shown
    await bot.send_message(CHAT, "<b>" + "x" * 4096 + "</b>")
    await bot.send_message(CHAT, "x" * 4096)
    assert api.refusals == []

    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    assert refused(api, "sendMessage") == "Bad Request: message is too long"
    with pytest.raises(BadRequest):
        await bot.send_message(CHAT, "&amp;" * 4097)
    assert refused(api, "sendMessage") == "Bad Request: message is too long"
    assert len(api.outputs) == 3


async def test_text_length_counts_utf16_code_units(bot: ExtBot[None], api: FakeBotAPI) -> None:
    assert utf16_length("x😀中") == 4
    await bot.send_message(CHAT, "😀" * 2048)

    with pytest.raises(BadRequest):
        await bot.send_message(CHAT, "x" * 4095 + "😀")  # 4,096 characters, 4,097 units

    assert refused(api, "sendMessage") == "Bad Request: message is too long"


@pytest.mark.parametrize("text", ["", "   \n", "<b></b>", "<b> </b>\n"])
async def test_text_that_is_empty_once_parsed_is_refused(
    bot: ExtBot[None], api: FakeBotAPI, text: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, text)

    assert refused(api, "sendMessage") == "Bad Request: message text is empty"


async def test_a_long_edit_is_refused(bot: ExtBot[None], api: FakeBotAPI) -> None:
    message = await bot.send_message(CHAT, "short")

    with pytest.raises(BadRequest):
        await bot.edit_message_text("x" * 4097, CHAT, message.message_id)

    assert refused(api, "editMessageText") == "Bad Request: message is too long"


async def test_a_caption_has_at_most_1024_characters_after_parsing(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    await bot.send_photo(CHAT, "photo-id", caption="c" * 1024)
    await bot.send_document(CHAT, "doc-id", caption="&amp;" * 1024)
    assert api.refusals == []

    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(CHAT, "photo-id", caption="c" * 1025)
    assert refused(api, "sendPhoto") == "Bad Request: message caption is too long"
    with pytest.raises(BadRequest):
        await bot.send_document(CHAT, "doc-id", caption="&lt;" * 1025)
    assert refused(api, "sendDocument") == "Bad Request: message caption is too long"


async def test_a_caption_is_parsed(bot: ExtBot[None], api: FakeBotAPI) -> None:
    with pytest.raises(BadRequest):
        await bot.send_photo(CHAT, "photo-id", caption="Q&A")

    assert refused(api, "sendPhoto") == PARSE + 'Unescaped "&" at byte offset 1'


# --- buttons and alerts ---------------------------------------------------------------------


async def test_callback_data_has_1_to_64_bytes(bot: ExtBot[None], api: FakeBotAPI) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard("x" * 64, "a" + "选" * 21, "1"))
    assert api.refusals == []

    too_long = ["x" * 65, "ab" + "选" * 21]  # 65 bytes; the second is only 23 characters
    for data in too_long:
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(CHAT, "no", reply_markup=keyboard("fine", data))
        assert refused(api, "sendMessage") == "Bad Request: BUTTON_DATA_INVALID"

    with pytest.raises(BadRequest):
        await bot.send_message(CHAT, "no", reply_markup=keyboard(""))
    assert refused(api, "sendMessage") == (
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
        "inline keyboard"
    )
    assert len(api.outputs) == 1


async def test_markup_is_checked_on_every_method_that_carries_it(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    message = await bot.send_message(CHAT, "ok")
    bad = keyboard("x" * 65)

    with pytest.raises(BadRequest):
        await bot.edit_message_reply_markup(CHAT, message.message_id, reply_markup=bad)
    assert refused(api, "editMessageReplyMarkup") == "Bad Request: BUTTON_DATA_INVALID"
    with pytest.raises(BadRequest):
        await bot.edit_message_text("new", CHAT, message.message_id, reply_markup=bad)
    assert refused(api, "editMessageText") == "Bad Request: BUTTON_DATA_INVALID"
    with pytest.raises(BadRequest):
        await bot.send_photo(CHAT, "photo-id", reply_markup=bad)
    assert refused(api, "sendPhoto") == "Bad Request: BUTTON_DATA_INVALID"
    with pytest.raises(BadRequest):
        await bot.send_venue(CHAT, 39.9, 116.3, "title", "address", reply_markup=bad)
    assert refused(api, "sendVenue") == "Bad Request: BUTTON_DATA_INVALID"


async def test_a_keyboard_has_at_most_100_buttons(bot: ExtBot[None], api: FakeBotAPI) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard(*(str(i) for i in range(100))))
    assert api.refusals == []

    with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
        await bot.send_message(CHAT, "no", reply_markup=keyboard(*(str(i) for i in range(101))))
    assert refused(api, "sendMessage") == "Bad Request: reply markup is too long"


@pytest.mark.parametrize("label", ["", "  "])
async def test_a_button_needs_text(bot: ExtBot[None], api: FakeBotAPI, label: str) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data="x")]])

    with pytest.raises(BadRequest):
        await bot.send_message(CHAT, "no", reply_markup=markup)

    assert refused(api, "sendMessage") == "Bad Request: BUTTON_TEXT_INVALID"


async def test_a_callback_answer_has_at_most_200_characters(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    await bot.answer_callback_query(f"{CHAT}-1", "答" * 200, show_alert=True)
    assert api.refusals == []
    assert api.outputs[-1].text == "答" * 200

    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.answer_callback_query(f"{CHAT}-2", "答" * 201, show_alert=True)
    assert refused(api, "answerCallbackQuery") == "Bad Request: MESSAGE_TOO_LONG"
    assert len(api.outputs) == 1


async def test_a_callback_answer_is_not_html(bot: ExtBot[None], api: FakeBotAPI) -> None:
    await bot.answer_callback_query(f"{CHAT}-1", "a < b & c")

    assert api.refusals == []


# --- reply keyboards, voices and command menus (issue 12) ---------------------------------

LOCATION_KEYS = ReplyKeyboardMarkup(
    [[KeyboardButton("📍 发送我的位置", request_location=True)], ["跳过"]], resize_keyboard=True
)


async def test_a_reply_keyboard_stays_under_the_input_until_removed(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    await bot.send_message(CHAT, "ask", reply_markup=LOCATION_KEYS)
    assert [k["text"] for k in api.reply_keyboard(CHAT)] == ["📍 发送我的位置", "跳过"]
    assert api.reply_keyboard(CHAT)[0]["request_location"] is True
    await bot.send_message(CHAT, "still there")
    assert len(api.reply_keyboard(CHAT)) == 2
    await bot.send_message(CHAT, "gone", reply_markup=ReplyKeyboardRemove())
    assert api.reply_keyboard(CHAT) == []


async def test_an_edit_takes_no_reply_keyboard_and_its_message_is_not_editable(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    plain = await bot.send_message(CHAT, "plain")
    with pytest.raises(BadRequest):
        await bot.edit_message_text("new", CHAT, plain.message_id, reply_markup=LOCATION_KEYS)  # type: ignore[arg-type]
    assert refused(api, "editMessageText") == "Bad Request: inline keyboard expected"

    keyed = await bot.send_message(CHAT, "ask", reply_markup=LOCATION_KEYS)
    with pytest.raises(BadRequest, match="can't be edited"):
        await bot.edit_message_text("changed", CHAT, keyed.message_id)
    assert api.reply_keyboard(CHAT) != []


async def test_a_location_key_is_for_private_chats_only(api: FakeBotAPI) -> None:
    api.add_channel(-100123)
    async with bot_over(api) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(-100123, "ask", reply_markup=LOCATION_KEYS)
    assert refused(api, "sendMessage") == "Bad Request: KEYBOARD_BUTTON_REQUEST_LOCATION_INVALID"


async def test_a_voice_goes_on_only_by_a_file_id_a_person_sent(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    file_id = api.add_voice(45)
    sent = await bot.send_voice(CHAT, file_id, caption="HD-2026-000001")
    assert sent.voice is not None and sent.voice.duration == 45
    assert api.outputs[-1].kind == "voice"

    with pytest.raises(BadRequest):
        await bot.send_voice(CHAT, "voice-that-never-was")
    assert refused(api, "sendVoice") == "Bad Request: wrong file identifier/HTTP URL specified"


@pytest.mark.parametrize(
    ("commands", "reason"),
    [
        ([BotCommand("Inbox", "大写的命令")], "BOT_COMMAND_INVALID"),
        ([BotCommand("a" * 33, "太长的命令")], "BOT_COMMAND_INVALID"),
        ([BotCommand("inbox", "")], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([BotCommand("inbox", "说" * 257)], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([BotCommand(f"c{i}", "命令") for i in range(101)], "BOT_COMMANDS_TOO_MUCH"),
    ],
)
async def test_a_command_menu_telegram_would_not_take_is_refused(
    bot: ExtBot[None], api: FakeBotAPI, commands: list[BotCommand], reason: str
) -> None:
    with pytest.raises(BadRequest):
        await bot.set_my_commands(commands)
    assert refused(api, "setMyCommands") == f"Bad Request: {reason}"
    assert api.menus == {}


async def test_a_menu_needs_a_two_letter_language(bot: ExtBot[None], api: FakeBotAPI) -> None:
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("help", "帮助")], language_code="zh_CN")
    assert refused(api, "setMyCommands") == "Bad Request: LANG_CODE_INVALID"


async def test_the_menu_a_chat_sees_is_found_as_telegram_finds_it(
    bot: ExtBot[None], api: FakeBotAPI
) -> None:
    await bot.set_my_commands([BotCommand("help", "帮助")])
    await bot.set_my_commands([BotCommand("help", "Help")], language_code="en")
    assert api.menu_for(CHAT, "en") == [("help", "Help")]
    assert api.menu_for(CHAT, "de") == [("help", "帮助")]

    own = [BotCommand("inbox", "Inbox"), BotCommand("help", "Help")]
    await bot.set_my_commands(own, scope=BotCommandScopeChat(CHAT))
    assert api.menu_for(CHAT, "zh") == [("inbox", "Inbox"), ("help", "Help")]
    assert api.menu_for(CHAT + 1, "zh") == [("help", "帮助")]  # another chat: the default
    # a member's menu in a group is not the chat's own
    await bot.set_my_commands([BotCommand("x", "x")], scope=BotCommandScopeChatMember(CHAT, 7))
    assert api.menu_for(CHAT, "zh") == [("inbox", "Inbox"), ("help", "Help")]

    await bot.delete_my_commands(scope=BotCommandScopeChat(CHAT))
    assert api.menu_for(CHAT, "en") == [("help", "Help")]
