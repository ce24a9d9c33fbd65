"""The in-process Bot API with faults the tests inject: a chat that blocked the bot, sends and
in-place answers that fail as Telegram or the network fail, calls that hang. The strict checks
stay in `bot.demo.botapi`; only what a test does to Telegram lives here."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from telegram.error import NetworkError, TimedOut

from bot.demo.botapi import BOT_USERNAME, FakeBotAPI, Upload

LATE = "late"  # a fault: the call is carried out, then times out

# The calls that answer in place rather than send a new message.
IN_PLACE = frozenset({"answerCallbackQuery", "editMessageText", "editMessageReplyMarkup"})


def _chat_of(method: str, params: dict[str, Any]) -> int:
    """The chat a call is for; a tap's query id starts with its chat (bot/demo/people.py)."""
    if method == "answerCallbackQuery":
        return int(str(params["callback_query_id"]).split("-")[0])
    return int(params.get("chat_id", 0))


def answer_fault(fault: str) -> tuple[int, bytes]:
    """An injected fault, answered as Telegram (or the network) would."""
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
    if code == "400":
        return FakeBotAPI._error(400, f"Bad Request: {detail}")
    return FakeBotAPI._error(int(code), detail or "Internal Server Error")


class FaultyBotAPI(FakeBotAPI):
    """The strict fake, and faults a test sets up before the bot meets them."""

    def __init__(self, latency: float = 0.0, username: str = BOT_USERNAME) -> None:
        super().__init__(latency=latency, username=username)
        self.blocked: set[int] = set()
        self.faults: dict[int, list[str]] = {}
        self.reply_faults: dict[tuple[int, str | None], list[str]] = {}
        self.hanging: set[int] = set()
        self._released = asyncio.Event()

    def fail(self, chat_id: int, *faults: str) -> None:
        """The next sends to `chat_id` fail, one fault each: "429:<seconds>", "400:<why>",
        "500:<why>", "timeout", "network", or "late" (it went through, but the answer timed
        out, as happens with Telegram); then sends succeed again."""
        self.faults.setdefault(chat_id, []).extend(faults)

    def fail_replies(self, chat_id: int, *faults: str, method: str | None = None) -> None:
        """The same for the calls that answer in place: answering a tap and editing a
        message (answerCallbackQuery, editMessageText, editMessageReplyMarkup), or only
        `method` of them."""
        self.reply_faults.setdefault((chat_id, method), []).extend(faults)

    def hang(self, chat_id: int) -> None:
        """Calls that answer in place in `chat_id` never return (until `release`), as when
        Telegram is unreachable and the process dies waiting."""
        self.hanging.add(chat_id)

    def release(self) -> None:
        """Let every hanging call go (and hang no more)."""
        self.hanging.clear()
        self._released.set()

    async def _answer(
        self, api_method: str, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> tuple[int, bytes]:
        if api_method in IN_PLACE:
            chat_id = _chat_of(api_method, params)
            if chat_id in self.hanging:
                await self._released.wait()
            for key in ((chat_id, api_method), (chat_id, None)):
                if self.reply_faults.get(key):
                    fault = self.reply_faults[key].pop(0)
                    if fault == LATE:
                        await super()._answer(api_method, params, uploads)
                        raise TimedOut("Timed out")
                    return answer_fault(fault)
        return await super()._answer(api_method, params, uploads)

    def _send(
        self, params: dict[str, Any], kind: str, upload: Upload | None = None, **content: Any
    ) -> tuple[int, bytes]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        fault = self.faults[chat_id].pop(0) if self.faults.get(chat_id) else None
        if fault is not None and fault != LATE:
            return answer_fault(fault)
        sent = super()._send(params, kind, upload, **content)
        if fault == LATE:  # it went through, but the answer never came back
            raise TimedOut("Timed out")
        return sent
