"""A fake Telegram Bot API at the HTTP boundary: a `telegram.request.BaseRequest` that records
every call and answers the way the Bot API does. It is the only fake in the test suite."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
MAX_TEXT = 4096
BOT_USERNAME = "jiazhan_test_bot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "家站", "username": BOT_USERNAME}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Output:
    """Something a person sees: a new message, an edit of one, or a button alert."""

    kind: str  # "message" | "edit" | "alert" | "photo" | "venue"
    chat_id: int
    text: str
    markup: dict[str, Any] | None = None
    message_id: int | None = None
    show_alert: bool = False

    def buttons(self) -> list[str]:
        rows = (self.markup or {}).get("inline_keyboard", [])
        return [b["text"] for row in rows for b in row]


class FakeBotAPI(BaseRequest):
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.calls: list[Call] = []
        self.outputs: list[Output] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.callback_queries: dict[str, Output] = {}
        self.faults: dict[int, list[str]] = {}
        self._ids = itertools.count(1)

    def fail(self, chat_id: int, *faults: str) -> None:
        """The next sends to `chat_id` fail, one fault each: "429:<seconds>", "400:<why>",
        "timeout", "network"; then sends succeed again."""
        self.faults.setdefault(chat_id, []).extend(faults)

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
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = {}
        if request_data is not None and request_data.contains_files:
            files = {name: part[1] for name, part in request_data.multipart_data.items()}
        self.calls.append(Call(api_method, params, files))
        if self.latency:
            await asyncio.sleep(self.latency)
        handler = getattr(self, f"_{api_method}", None)
        if handler is None:
            if api_method in ANSWERS_TRUE:
                return self._ok(True)
            return self._error(404, "Not Found: method not found")
        return handler(params)

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
                **BOT_USER,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def _getUpdates(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return self._ok([])

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            **content,
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _send(self, params: dict[str, Any], kind: str, **content: Any) -> tuple[int, bytes]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if self.faults.get(chat_id):
            fault = self.faults[chat_id].pop(0)
            if fault == "timeout":
                raise TimedOut("Timed out")
            if fault == "network":
                raise NetworkError("httpx.ConnectError: connection refused")
            code, _, detail = fault.partition(":")
            if code == "429":
                return 429, json.dumps(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {detail}",
                        "parameters": {"retry_after": int(detail)},
                    }
                ).encode()
            return self._error(int(code), f"Bad Request: {detail}")
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if markup is not None and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        message = self._new_message(chat_id, **content)
        self.outputs.append(
            Output(
                kind,
                chat_id,
                content.get("text", content.get("caption", "")),
                markup,
                message["message_id"],
            )
        )
        return self._ok(message)

    def _sendMessage(self, params: dict[str, Any]) -> tuple[int, bytes]:
        if not str(params.get("text", "")).strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(str(params["text"])) > MAX_TEXT:  # stricter than Telegram: tags count too
            return self._error(400, "Bad Request: message is too long")
        return self._send(params, "message", text=params["text"])

    def _sendDocument(self, params: dict[str, Any]) -> tuple[int, bytes]:
        document = {"file_id": str(params.get("document")), "file_unique_id": "d"}
        return self._send(params, "document", document=document, caption=params.get("caption", ""))

    def _sendPhoto(self, params: dict[str, Any]) -> tuple[int, bytes]:
        photo = [
            {"file_id": str(params.get("photo")), "file_unique_id": "u", "width": 1, "height": 1}
        ]
        return self._send(params, "photo", photo=photo, caption=params.get("caption", ""))

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
        message = self.messages.get(key)
        if message is None:
            return self._error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        new_text = message.get("text", "") if text is None else text
        if len(new_text) > MAX_TEXT:
            return self._error(400, "Bad Request: message is too long")
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
        self.outputs.append(Output("edit", key[0], new_text, markup, key[1]))
        return self._ok(message)

    def _editMessageText(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return self._edit(params, str(params["text"]))

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> tuple[int, bytes]:
        return self._edit(params, None)

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
            self.outputs.append(output)
        return self._ok(True)

    # --- inspection ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages as they are now (after edits), oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]


ANSWERS_TRUE = {
    "setMyCommands",
    "deleteMyCommands",
    "deleteWebhook",
    "setWebhook",
    "deleteMessage",
    "sendChatAction",
    "close",
    "logOut",
}
