"""An in-process Telegram Bot API at the HTTP boundary: a `telegram.request.BaseRequest` that
records every call and answers the way the Bot API does. The demo runs the bot over it, and it
is the only fake in the test suite (whose faults, a blocked chat or a timeout, are injected by
a subclass of the tests' own: tests/support/faults.py).

It refuses what Telegram refuses, with Telegram's answer (HTTP 400 and its description): text
and captions sent with parse_mode HTML that Telegram cannot parse (`bot.demo.telegram_html`),
message text that is empty or longer than 4,096 and captions longer than 1,024 UTF-16 code units
after entity parsing, inline keyboards with more than 100 buttons, buttons without text or
action, callback data outside 1-64 bytes, callback answers longer than 200 characters,
getFile for a file over 20 MB (the cloud Bot API's limit on what a bot may fetch), messages
to a group or channel the bot was not added to (`add_channel`), a reply keyboard (or its
removal) on an edit, a voice sent by a file_id it never gave out, and command menus whose
commands or descriptions Telegram would not take. What it records (`Output.text`, the stored
messages) is the raw text as sent; `watch` hears of each Output as it happens. It keeps what a
person's screen would show besides messages: the reply keyboard under each chat's input
field (`reply_keyboard`) and the "/" menu a chat sees in a language (`menu_for`)."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from telegram.request import BaseRequest, RequestData

from bot.demo.telegram_html import TelegramHTMLError, parse_html, utf16_length

BOT_ID = 7000000001
MAX_TEXT = 4096  # UTF-16 code units of a message's text after entity parsing
MAX_CAPTION = 1024  # the same for a caption
MAX_CALLBACK_DATA = 64  # bytes of UTF-8
MAX_CALLBACK_ANSWER = 200  # characters (UTF-16 code units) of answerCallbackQuery's text
MAX_INLINE_BUTTONS = 100
MAX_DOWNLOAD = 20 * 1024 * 1024  # bytes a bot may fetch with getFile (the cloud Bot API)
FILE_PATH = "/file/bot"  # a download's URL: <base>/file/bot<token>/<file_path>
TEXT_METHODS = frozenset({"sendMessage", "editMessageText"})
EDIT_METHODS = frozenset(
    {"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "editMessageMedia"}
)
MAX_COMMANDS = 100  # a command menu's length
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_COMMAND_DESCRIPTION = 256
MENU_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
CAPTION_METHODS = frozenset(
    {
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendAnimation",
        "sendVoice",
        "copyMessage",
        "editMessageCaption",
    }
)
BOT_USERNAME = "jiazhan_test_bot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "家站", "username": BOT_USERNAME}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Refusal:
    """A request the fake refused as Telegram would, with Telegram's full description."""

    method: str
    params: dict[str, Any]
    description: str


@dataclass(frozen=True)
class Upload:
    """A file sent within the request itself (multipart), standing in the parameter it fills."""

    file_name: str
    content: bytes


@dataclass
class Output:
    """Something a person sees: a new message, an edit of one, or a button alert; a document
    or photo the bot uploaded keeps its file name and bytes."""

    kind: str  # "message" | "edit" | "alert" | "photo" | "document" | "venue" | "voice"
    chat_id: int
    text: str
    markup: dict[str, Any] | None = None
    message_id: int | None = None
    show_alert: bool = False
    file_name: str | None = None
    content: bytes | None = None

    def buttons(self) -> list[str]:
        rows = (self.markup or {}).get("inline_keyboard", [])
        return [str(b["text"]) for row in rows for b in row]


class Refused(Exception):
    """A request Telegram answers with 400 Bad Request; the message is its description."""


def shown_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram shows for `text` sent with `parse_mode`: entities parsed for HTML.

    Raises Refused with Telegram's description when the HTML cannot be parsed."""
    if parse_mode is None:
        return text
    if parse_mode.upper() != "HTML":
        raise NotImplementedError(f"the fake Bot API parses only HTML, not {parse_mode!r}")
    try:
        return parse_html(text)
    except TelegramHTMLError as error:
        raise Refused(f"Bad Request: can't parse entities: {error}") from error


def check_text(text: str, parse_mode: str | None) -> None:
    """A message text: parseable, and 1-4096 UTF-16 code units once parsed and trimmed."""
    shown = shown_text(text, parse_mode).strip()
    if not shown:
        raise Refused("Bad Request: message text is empty")
    if utf16_length(shown) > MAX_TEXT:
        raise Refused("Bad Request: message is too long")


def check_caption(caption: str, parse_mode: str | None) -> None:
    """A caption: parseable, and at most 1024 UTF-16 code units once parsed and trimmed."""
    if utf16_length(shown_text(caption, parse_mode).strip()) > MAX_CAPTION:
        raise Refused("Bad Request: message caption is too long")


def check_markup(markup: dict[str, Any] | None) -> None:
    """A reply_markup: at most 100 inline buttons, each with text and exactly what Telegram
    needs to act on it; callback_data of 1-64 bytes."""
    if not markup:
        return
    if "inline_keyboard" in markup:
        buttons = [button for row in markup["inline_keyboard"] for button in row]
        if len(buttons) > MAX_INLINE_BUTTONS:
            raise Refused("Bad Request: reply markup is too long")
        for button in buttons:
            if not str(button.get("text", "")).strip():
                raise Refused("Bad Request: BUTTON_TEXT_INVALID")
            if not any(value not in (None, "") for key, value in button.items() if key != "text"):
                raise Refused(
                    "Bad Request: can't parse inline keyboard button: Text buttons are "
                    "unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and len(str(data).encode("utf-8")) > MAX_CALLBACK_DATA:
                raise Refused("Bad Request: BUTTON_DATA_INVALID")
    for row in markup.get("keyboard", []):
        for button in row:
            text = button if isinstance(button, str) else button.get("text", "")
            if not str(text).strip():
                raise Refused("Bad Request: BUTTON_TEXT_INVALID")
            asks = [
                k
                for k in ("request_location", "request_contact")
                if isinstance(button, dict) and button.get(k)
            ]
            if len(asks) > 1:
                raise Refused("Bad Request: can't parse keyboard button")


def check_commands(params: dict[str, Any]) -> None:
    """setMyCommands: at most 100 commands, each a lowercase name of 1-32 characters and a
    description of 1-256; a known scope; a two-letter language code or none."""
    commands = params.get("commands")
    if isinstance(commands, str):
        commands = json.loads(commands)
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise Refused("Bad Request: BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not COMMAND_NAME.match(str(command.get("command", ""))):
            raise Refused("Bad Request: BOT_COMMAND_INVALID")
        description = str(command.get("description", "")).strip()
        if not 1 <= len(description) <= MAX_COMMAND_DESCRIPTION:
            raise Refused("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")


def check_scope(params: dict[str, Any]) -> None:
    """A menu's scope and language, as set/deleteMyCommands take them."""
    scope = _scope(params)
    if scope.get("type", "default") not in MENU_SCOPES:
        raise Refused("Bad Request: BOT_COMMAND_SCOPE_INVALID")
    if scope.get("type") in ("chat", "chat_administrators", "chat_member") and not isinstance(
        scope.get("chat_id"), int
    ):
        raise Refused("Bad Request: chat_id is empty")
    language = str(params.get("language_code") or "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise Refused("Bad Request: LANG_CODE_INVALID")


def _scope(params: dict[str, Any]) -> dict[str, Any]:
    scope: Any = params.get("scope") or {"type": "default"}
    if isinstance(scope, str):
        scope = json.loads(scope)
    return cast("dict[str, Any]", scope)


def _scope_key(params: dict[str, Any]) -> tuple[str, int, int, str]:
    """Which menu a request names: its scope's type, chat and member (0 for none) and
    language."""
    scope = _scope(params)
    return (
        str(scope.get("type", "default")),
        int(scope.get("chat_id") or 0),
        int(scope.get("user_id") or 0),
        str(params.get("language_code") or ""),
    )


def check_request(method: str, params: dict[str, Any]) -> None:
    """Everything Telegram checks before it acts on a request; raises Refused."""
    parse_mode = params.get("parse_mode")
    if method == "setMyCommands":
        check_commands(params)
    if method in ("setMyCommands", "deleteMyCommands", "getMyCommands"):
        check_scope(params)
    if method in EDIT_METHODS and "inline_keyboard" not in (
        _markup(params) or {"inline_keyboard": []}
    ):
        # an edit takes an inline keyboard or none; a reply keyboard needs a new message
        raise Refused("Bad Request: inline keyboard expected")
    if method in TEXT_METHODS:
        check_text(_string(params.get("text")), parse_mode)
    if method in CAPTION_METHODS:
        check_caption(_string(params.get("caption")), parse_mode)
    if "reply_markup" in params:
        check_markup(_markup(params))
    answer = _string(params.get("text")) if method == "answerCallbackQuery" else ""
    if utf16_length(answer) > MAX_CALLBACK_ANSWER:
        raise Refused("Bad Request: MESSAGE_TOO_LONG")


def _string(value: Any) -> str:
    """A text parameter as a string; PTB sends an empty string as an empty list."""
    return "" if value is None or value == [] else str(value)


def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """The request's reply_markup as a dict (PTB sends it JSON-encoded)."""
    markup: Any = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    return cast("dict[str, Any] | None", markup)


class FakeBotAPI(BaseRequest):
    def __init__(self, latency: float = 0.0, username: str = BOT_USERNAME) -> None:
        self.latency = latency
        self.bot_user = {**BOT_USER, "username": username}  # who the bot is: getMe, senders
        self.calls: list[Call] = []
        self.outputs: list[Output] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.callback_queries: dict[str, Output] = {}
        self.refusals: list[Refusal] = []
        self._ids = itertools.count(1)
        self.files: dict[str, bytes] = {}  # what people sent, by file_id, to be fetched
        self.channels: dict[int, str] = {}  # channels the bot administers, by id: their titles
        self._file_ids = itertools.count(1)
        self._upload_ids = itertools.count(1)
        self.watchers: list[Callable[[Output], None]] = []
        # voice file_ids people sent, which the bot may send on, with their lengths in seconds
        self.voices: dict[str, int] = {}
        # messages sent with a reply keyboard or its removal: Telegram edits none of them
        self.uneditable: set[tuple[int, int]] = set()
        # the reply keyboard under each chat's input field (the latest one sent, until removed)
        self.reply_keyboards: dict[int, dict[str, Any]] = {}
        # command menus by (scope type, chat id or 0, member id or 0, language code or ""):
        # [(name, description)]
        self.menus: dict[tuple[str, int, int, str], list[tuple[str, str]]] = {}

    def watch(self, watcher: Callable[[Output], None]) -> None:
        """Call `watcher` with every Output as it is recorded (the demo console prints it)."""
        self.watchers.append(watcher)

    def _show(self, output: Output) -> None:
        self.outputs.append(output)
        for watcher in self.watchers:
            watcher(output)

    def add_file(self, content: bytes) -> str:
        """Keep a file a person sends, so getFile and its download find it; its file_id."""
        file_id = f"file-{next(self._file_ids)}"
        self.files[file_id] = content
        return file_id

    def add_voice(self, seconds: int) -> str:
        """Keep a voice message of `seconds` a person sends: its file_id, which the bot may
        send again."""
        file_id = f"voice-{next(self._file_ids)}"
        self.voices[file_id] = seconds
        return file_id

    def _check_against_state(self, method: str, params: dict[str, Any]) -> None:
        """What Telegram refuses knowing its chats and files: a location key outside a private
        chat, a voice by a file_id it never gave out, the edit of a message that carries a
        reply keyboard."""
        markup = _markup(params) or {}
        chat = params.get("chat_id")
        in_a_group = isinstance(chat, int | str) and int(chat) < 0
        if in_a_group and any(b.get("request_location") for b in _keys(markup)):
            raise Refused("Bad Request: KEYBOARD_BUTTON_REQUEST_LOCATION_INVALID")
        if method == "sendVoice":
            sent = params.get("voice")
            if not isinstance(sent, str) or sent not in self.voices:
                raise Refused("Bad Request: wrong file identifier/HTTP URL specified")
        edited = (int(chat), int(params["message_id"])) if "message_id" in params and chat else None
        if method in EDIT_METHODS and edited in self.uneditable:
            raise Refused("Bad Request: message can't be edited")

    def reply_keyboard(self, chat_id: int) -> list[dict[str, Any]]:
        """The buttons of the reply keyboard the chat shows now ([] when none), each a dict
        with its `text` and any request (`request_location` …)."""
        markup = self.reply_keyboards.get(chat_id, {})
        return [
            button if isinstance(button, dict) else {"text": button}
            for row in markup.get("keyboard", [])
            for button in row
        ]

    def menu_for(self, chat_id: int, language_code: str) -> list[tuple[str, str]]:
        """The "/" menu a private chat sees with its app in `language_code`, found as
        Telegram finds it: the chat's own (in that language, then any), then all private
        chats', then the default's; [] when none is set."""
        for key in (
            ("chat", chat_id, 0, language_code),
            ("chat", chat_id, 0, ""),
            ("all_private_chats", 0, 0, language_code),
            ("all_private_chats", 0, 0, ""),
            ("default", 0, 0, language_code),
            ("default", 0, 0, ""),
        ):
            if key in self.menus:
                return self.menus[key]
        return []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if FILE_PATH in url:
            return self._download(url)
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, bytes] = {}
        uploads: dict[str, Upload] = {}
        if request_data is not None and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                content = part[1] if isinstance(part[1], bytes) else part[1].read()
                files[name] = content
                uploads[name] = Upload(str(part[0]), content)
        self.calls.append(Call(api_method, params, files))
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            check_request(api_method, params)
            self._check_against_state(api_method, params)
        except Refused as refused:
            self.refusals.append(Refusal(api_method, params, str(refused)))
            return self._error(400, str(refused))
        return await self._answer(api_method, params, uploads)

    async def _answer(
        self, api_method: str, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> tuple[int, bytes]:
        """Carry out a request Telegram accepted (a subclass may fail it instead)."""
        handler = getattr(self, f"_{api_method}", None)
        if handler is None:
            if api_method in ANSWERS_TRUE:
                return self._ok(True)
            return self._error(404, "Not Found: method not found")
        return cast("tuple[int, bytes]", handler({**params, **uploads}))

    # --- answers ---------------------------------------------------------------------------

    @staticmethod
    def _ok(result: Any) -> tuple[int, bytes]:
        return 200, json.dumps({"ok": True, "result": result}).encode()

    @staticmethod
    def _error(code: int, description: str) -> tuple[int, bytes]:
        return code, json.dumps(
            {"ok": False, "error_code": code, "description": description}
        ).encode()

    def _getMe(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return self._ok(
            {
                **self.bot_user,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def _getUpdates(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return self._ok([])

    def add_channel(self, chat_id: int, title: str = "建议公开") -> None:
        """A channel the bot is an administrator of, so it may post there and edit its posts
        (Telegram answers "chat not found" for any other chat that is not a person)."""
        self.channels[chat_id] = title

    def remove_channel(self, chat_id: int) -> None:
        """The bot is no longer an administrator of the channel: it may neither post nor
        edit there; its posts stay."""
        self.channels.pop(chat_id, None)

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        if chat_id in self.channels:  # a channel post: signed by the channel, not the bot
            chat = {"id": chat_id, "type": "channel", "title": self.channels[chat_id]}
            sender: dict[str, Any] = {"sender_chat": chat}
        else:
            chat = {"id": chat_id, "type": "private"}
            sender = {"from": self.bot_user}
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            **sender,
            **content,
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _send(
        self, params: dict[str, Any], kind: str, upload: Upload | None = None, **content: Any
    ) -> tuple[int, bytes]:
        chat_id = int(params["chat_id"])
        if chat_id < 0 and chat_id not in self.channels:  # a group or channel it is not in
            return self._error(400, "Bad Request: chat not found")
        markup = _markup(params)
        if markup is not None and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        if markup is not None and "keyboard" in markup:
            self.reply_keyboards[chat_id] = markup
        if markup is not None and markup.get("remove_keyboard"):
            self.reply_keyboards.pop(chat_id, None)
        message = self._new_message(chat_id, **content)
        if markup is not None and ("keyboard" in markup or markup.get("remove_keyboard")):
            self.uneditable.add((chat_id, message["message_id"]))
        self._show(
            Output(
                kind,
                chat_id,
                content.get("text", content.get("caption", "")),
                markup,
                message["message_id"],
                file_name=upload.file_name if upload else None,
                content=upload.content if upload else None,
            )
        )
        return self._ok(message)

    def _sendMessage(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return self._send(params, "message", text=params["text"])

    def _file_id(self, sent: Any) -> str:
        """The file_id Telegram gives what was sent: its own for a file uploaded now."""
        return f"upload-{next(self._upload_ids)}" if isinstance(sent, Upload) else str(sent)

    def _sendDocument(self, params: dict[str, Any]) -> tuple[int, bytes]:
        sent = params.get("document")
        document: dict[str, Any] = {"file_id": self._file_id(sent), "file_unique_id": "d"}
        upload = sent if isinstance(sent, Upload) else None
        if upload is not None:
            document["file_name"] = upload.file_name
        return self._send(
            params, "document", upload, document=document, caption=params.get("caption", "")
        )

    def _sendPhoto(self, params: dict[str, Any]) -> tuple[int, bytes]:
        sent = params.get("photo")
        photo = [{"file_id": self._file_id(sent), "file_unique_id": "u", "width": 1, "height": 1}]
        upload = sent if isinstance(sent, Upload) else None
        return self._send(params, "photo", upload, photo=photo, caption=params.get("caption", ""))

    def _sendVoice(self, params: dict[str, Any]) -> tuple[int, bytes]:
        """A voice sent again by the file_id a person's voice message had (anything else was
        refused before)."""
        sent = params.get("voice")
        voice = {
            "file_id": str(sent),
            "file_unique_id": f"u-{sent}",
            "duration": self.voices[str(sent)],
        }
        return self._send(params, "voice", voice=voice, caption=params.get("caption", ""))

    def _setMyCommands(self, params: dict[str, Any]) -> tuple[int, bytes]:
        commands = params["commands"]
        if isinstance(commands, str):
            commands = json.loads(commands)
        self.menus[_scope_key(params)] = [
            (str(c["command"]), str(c["description"])) for c in commands
        ]
        return self._ok(True)

    def _deleteMyCommands(self, params: dict[str, Any]) -> tuple[int, bytes]:
        self.menus.pop(_scope_key(params), None)
        return self._ok(True)

    def _getMyCommands(self, params: dict[str, Any]) -> tuple[int, bytes]:
        menu = self.menus.get(_scope_key(params), [])
        return self._ok([{"command": c, "description": d} for c, d in menu])

    def _sendVenue(self, params: dict[str, Any]) -> tuple[int, bytes]:
        venue = {
            "location": {"latitude": params["latitude"], "longitude": params["longitude"]},
            "title": params["title"],
            "address": params["address"],
        }
        return self._send(
            params, "venue", venue=venue, text=f"{params['title']}\n{params['address']}"
        )

    def _edit(self, params: dict[str, Any], text: str | None) -> tuple[int, bytes]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key[0] < 0 and key[0] not in self.channels:  # a channel the bot is no longer in
            return self._error(400, "Bad Request: chat not found")
        message = self.messages.get(key)
        if message is None:
            return self._error(400, "Bad Request: message to edit not found")
        markup = _markup(params)
        new_text = message.get("text", "") if text is None else text
        if new_text == message.get("text") and markup == message.get("reply_markup"):
            return self._error(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup of the "
                "message",
            )
        message["text"] = new_text
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        self._show(Output("edit", key[0], new_text, markup, key[1]))
        return self._ok(message)

    def _editMessageText(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return self._edit(params, str(params["text"]))

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return self._edit(params, None)

    def _getFile(self, params: dict[str, Any]) -> tuple[int, bytes]:
        """A file's path to download it from; Telegram refuses files over 20 MB."""
        file_id = str(params.get("file_id"))
        content = self.files.get(file_id)
        if content is None:
            return self._error(400, "Bad Request: invalid file_id")
        if len(content) > MAX_DOWNLOAD:
            return self._error(400, "Bad Request: file is too big")
        return self._ok(
            {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(content),
                "file_path": f"documents/{file_id}",
            }
        )

    def _download(self, url: str) -> tuple[int, bytes]:
        """GET <base>/file/bot<token>/documents/<file_id>: the file's bytes, as sent."""
        file_id = url.rsplit("/", 1)[-1]
        self.calls.append(Call("download", {"file_id": file_id}))
        content = self.files.get(file_id)
        if content is None or len(content) > MAX_DOWNLOAD:
            return self._error(404, "Not Found")
        return 200, content

    def _answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, bytes]:
        query_id = str(params["callback_query_id"])
        if query_id in self.callback_queries:
            return self._error(400, "Bad Request: query is too old and response timeout expired")
        chat_id = int(query_id.split("-")[0])
        output = Output(
            "alert", chat_id, str(params.get("text", "")), show_alert=bool(params.get("show_alert"))
        )
        self.callback_queries[query_id] = output
        if output.text:
            self._show(output)
        return self._ok(True)

    # --- inspection ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages as they are now (after edits), oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]


ANSWERS_TRUE = {
    "deleteWebhook",
    "setWebhook",
    "deleteMessage",
    "sendChatAction",
    "close",
    "logOut",
}


def _keys(markup: dict[str, Any]) -> list[dict[str, Any]]:
    """A reply keyboard's buttons as dicts (none for any other markup)."""
    rows = markup.get("keyboard", [])
    return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]
