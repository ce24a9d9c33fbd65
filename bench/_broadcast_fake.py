"""bench_broadcast's fake Telegram Bot API: an aiohttp server in its own process, and the
bench's client for its extra routes.

It answers every call after `latency` seconds, 429 when more than SEND_LIMIT send* calls
arrived in the last second, and 403 "bot was blocked by the user" to exactly the chat ids it
was given as blocked. It keeps its own record of what it delivered, per chat, which the
bench compares with the database: the fake is the independent witness of every check.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import signal
import socket
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from aiohttp import web

SEND_LIMIT = 30  # send* calls per sliding second before 429
SERVER_LIFETIME = 4 * 3600.0  # the fake exits by itself after this, whatever happens
BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "家站", "username": "jiazhan_bench_bot"}
REPLY_METHODS = frozenset({"sendMessage", "editMessageText"})  # what answers a probe's step


@dataclass(slots=True)
class Awaited:
    """A probe's update waiting for the bot's reply."""

    update_id: int
    injected: float  # monotonic, when the update went on the fake's queue
    tag: str
    step: str


class FakeTelegram:
    """Just enough of the Bot API for the bot's start, polling, replies and the outbox."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.token: str = config["token"]
        self.latency: float = config["latency"]
        self.lo, self.hi = config["voters"]  # the voters' chat ids: lo <= id < hi
        self.blocked: frozenset[int] = frozenset(config["blocked"])
        self.methods: Counter[str] = Counter()
        self.send_arrivals: deque[float] = deque()
        self.too_many = 0
        self.delivered: Counter[int] = Counter()  # accepted send* calls per chat, any chat
        self.refused: Counter[int] = Counter()  # 403 answers per chat
        # every accepted send to a voter: [chat, arrived, answered or None]
        self.voter_sends: list[list[Any]] = []
        self.first_ok: float | None = None  # accepted sends to voters, arrival times
        self.last_ok: float | None = None
        self.first_call: float | None = None  # send calls to voters incl. 403
        self.last_call: float | None = None
        self.ok_to_voters = 0
        self.calls_to_voters = 0
        self.longest_pause = 0.0  # between two accepted sends to voters
        self.message_ids = itertools.count(1000)
        self.update_ids = itertools.count(1)
        self.queue: list[dict[str, Any]] = []
        self.new_update = asyncio.Event()
        self.last_message: dict[int, dict[str, Any]] = {}  # per probe chat: the bot's last
        self.awaiting: dict[int, deque[Awaited]] = defaultdict(deque)
        self.samples: list[dict[str, Any]] = []
        self.refused_replies: list[dict[str, Any]] = []  # 429 to a reply: lost
        self.unanswered: list[dict[str, Any]] = []  # no reply before the chat's next step
        self.unsolicited = 0  # replies to probe chats when no step was waiting

    # HTTP ------------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        params = await _params(request)
        self.methods[method] += 1
        if method.startswith("send"):
            return await self._send(method, params, arrived)
        if method == "editMessageText":
            self._replied(int(params.get("chat_id", 0)), method, params, arrived)
        await asyncio.sleep(self.latency)
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "getMe":
            return self._ok(
                {
                    **BOT_USER,
                    "can_join_groups": False,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
            )
        if method in ("setMyCommands", "deleteWebhook", "answerCallbackQuery"):
            return self._ok(True)
        if method == "editMessageText":
            chat_id = int(params.get("chat_id", 0))
            message = self._message(chat_id, text=str(params.get("text", "")))
            message["message_id"] = int(params.get("message_id", 0))
            return self._ok(message)
        return self._error(404, "Not Found: method not found")

    async def _send(self, method: str, params: dict[str, Any], arrived: float) -> web.Response:
        """Decided on arrival (a message accepted is delivered even if the caller dies before
        it reads the answer), answered after the latency."""
        chat_id = int(params.get("chat_id", 0))
        window = self.send_arrivals
        window.append(arrived)
        while window and window[0] <= arrived - 1.0:
            window.popleft()
        voter = self.lo <= chat_id < self.hi
        if len(window) > SEND_LIMIT:
            self.too_many += 1
            if self.awaiting.get(chat_id):
                # this reply is lost: PTB does not retry it
                entry = self.awaiting[chat_id].popleft()
                self.refused_replies.append({"tag": entry.tag, "step": entry.step})
            await asyncio.sleep(self.latency)
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        if voter:
            self.calls_to_voters += 1
            self.first_call = self.first_call or arrived
            self.last_call = arrived
        if chat_id in self.blocked:
            self.refused[chat_id] += 1
            await asyncio.sleep(self.latency)
            return self._error(403, "Forbidden: bot was blocked by the user")
        self.delivered[chat_id] += 1
        record: list[Any] | None = None
        if voter:
            self.ok_to_voters += 1
            if self.last_ok is not None:
                self.longest_pause = max(self.longest_pause, arrived - self.last_ok)
            self.first_ok = self.first_ok or arrived
            self.last_ok = arrived
            record = [chat_id, arrived, None]
            self.voter_sends.append(record)
        self._replied(chat_id, method, params, arrived)
        await asyncio.sleep(self.latency)
        content: dict[str, Any] = {}
        if method == "sendMessage":
            content["text"] = str(params.get("text", ""))
        elif method == "sendPhoto":
            photo = {"file_id": str(params.get("photo")), "file_unique_id": "p"}
            content["photo"] = [{**photo, "width": 1, "height": 1}]
            content["caption"] = str(params.get("caption", ""))
        elif method == "sendDocument":
            content["document"] = {"file_id": str(params.get("document")), "file_unique_id": "d"}
            content["caption"] = str(params.get("caption", ""))
        message = self._message(chat_id, **content)
        if chat_id in self.awaiting:
            self.last_message[chat_id] = message
        if record is not None:
            record[2] = time.monotonic()  # the answer leaves now (if the caller is still there)
        return self._ok(message)

    def _replied(self, chat_id: int, method: str, params: dict[str, Any], arrived: float) -> None:
        """A probe chat's reply arrived: one latency sample, with what the reply showed."""
        queue = self.awaiting.get(chat_id)
        if queue is None or method not in REPLY_METHODS:
            return
        if not queue:
            self.unsolicited += 1
            return
        entry = queue.popleft()
        self.samples.append(
            {
                "tag": entry.tag,
                "step": entry.step,
                "seconds": arrived - entry.injected,
                "method": method,
                "buttons": _button_data(params.get("reply_markup")),
            }
        )

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 60.0)
        limit = int(params.get("limit") or 100)
        if offset:
            self.queue = [u for u in self.queue if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self.queue:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_update.wait(), remaining)
        return self._ok(self.queue[:limit])

    async def inject(self, request: web.Request) -> web.Response:
        """A private text message, or a tap on the bot's last message, from `chat_id`: on
        the queue now, handed out by the next getUpdates; its reply is awaited."""
        body = await request.json()
        chat_id = int(body["chat_id"])
        update_id = next(self.update_ids)
        sender = {
            "id": chat_id,
            "is_bot": False,
            "first_name": str(body.get("first_name", "x")),
            "language_code": "zh-hans",
        }
        update: dict[str, Any] = {"update_id": update_id}
        if body.get("data"):
            anchor = self.last_message.get(chat_id) or self._message(chat_id, text="…")
            update["callback_query"] = {
                "id": f"{chat_id}-{update_id}",
                "from": sender,
                "chat_instance": f"ci-{chat_id}",
                "message": anchor,
                "data": str(body["data"]),
            }
        else:
            text = str(body["text"])
            message: dict[str, Any] = {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": sender["first_name"]},
                "from": sender,
                "text": text,
            }
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            update["message"] = message
        queue = self.awaiting[chat_id]
        while queue:  # the previous step got no reply before this one: it never will
            entry = queue.popleft()
            self.unanswered.append({"tag": entry.tag, "step": entry.step})
        queue.append(
            Awaited(update_id, time.monotonic(), str(body.get("tag", "")), str(body["step"]))
        )
        self.queue.append(update)
        self.new_update.set()
        return web.json_response({"update_id": update_id})

    async def stats(self, request: web.Request) -> web.Response:
        data: dict[str, Any] = {
            "methods": dict(self.methods),
            "too_many": self.too_many,
            "ok_to_voters": self.ok_to_voters,
            "calls_to_voters": self.calls_to_voters,
            "first_ok": self.first_ok,
            "last_ok": self.last_ok,
            "first_call": self.first_call,
            "last_call": self.last_call,
            "longest_pause": self.longest_pause,
        }
        if request.query.get("chats"):
            data["delivered"] = dict(self.delivered)
            data["refused"] = dict(self.refused)
        return web.json_response(data)

    async def in_flight(self, request: web.Request) -> web.Response:
        """The voters' accepted sends in flight when the bot died at monotonic instant `at`:
        not answered by then ("open"; one read after `at` was written before it, as the bot
        sent nothing after), or answered less than `grace` seconds before it ("answering": the
        bot may not have read or recorded the answer yet). Asked before any restart."""
        at = float(request.query["at"])
        grace = float(request.query.get("grace", 0))
        open_: list[int] = []
        answering: list[int] = []
        for chat_id, _arrived, answered in self.voter_sends:
            if answered is None or answered > at:
                open_.append(chat_id)
            elif answered > at - grace:
                answering.append(chat_id)
        return web.json_response({"open": open_, "answering": answering})

    async def replies(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "samples": self.samples,
                "awaiting": [
                    {"tag": e.tag, "step": e.step} for q in self.awaiting.values() for e in q
                ],
                "refused": self.refused_replies,
                "unanswered": self.unanswered,
                "unsolicited": self.unsolicited,
            }
        )

    # answers ---------------------------------------------------------------------------

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self.message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            **content,
        }

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": code, "description": description}, status=code
        )


def _button_data(markup: Any) -> list[str]:
    """The callback data of a reply_markup as PTB posts it (a JSON string)."""
    if not markup:
        return []
    try:
        data = json.loads(markup) if isinstance(markup, str) else markup
    except ValueError:
        return []
    rows = data.get("inline_keyboard", []) if isinstance(data, dict) else []
    return [str(b.get("callback_data", "")) for row in rows for b in row]


async def _params(request: web.Request) -> dict[str, Any]:
    """PTB posts form data (JSON-encoded values); other clients may post JSON."""
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    return dict(request.query)


async def _serve(conn: Connection, config: dict[str, Any]) -> None:
    fake = FakeTelegram(config)
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.api)
    app.router.add_post("/inject", fake.inject)
    app.router.add_get("/stats", fake.stats)
    app.router.add_get("/inflight", fake.in_flight)
    app.router.add_get("/replies", fake.replies)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock, shutdown_timeout=1.0)
    await site.start()
    conn.send(sock.getsockname()[1])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    parent = os.getppid()
    ends = time.monotonic() + SERVER_LIFETIME
    # bounded: stops on SIGTERM, when the bench process is gone, or after the lifetime
    while not stop.is_set() and os.getppid() == parent and time.monotonic() < ends:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    await runner.cleanup()


def serve(conn: Connection, config: dict[str, Any]) -> None:
    """Entry point of the fake's process."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(conn, config))


class FakeServer:
    """The fake Bot API's process, and a client for its extra routes."""

    def __init__(
        self, token: str, voters: tuple[int, int], blocked: list[int], latency: float
    ) -> None:
        self.config = {
            "token": token,
            "latency": latency,
            "voters": list(voters),
            "blocked": blocked,
        }
        self.process: multiprocessing.process.BaseProcess | None = None
        self.port = 0
        self.session: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent_end, child_end = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=serve, args=(child_end, self.config), name="fake-bot-api", daemon=True
        )
        self.process.start()
        child_end.close()
        ready = await asyncio.to_thread(parent_end.poll, 30.0)
        if not ready:
            raise RuntimeError("the fake Bot API did not start within 30 s")
        self.port = parent_end.recv()
        parent_end.close()
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
        if self.process is not None and self.process.pid is not None:
            if self.process.is_alive():
                os.kill(self.process.pid, signal.SIGTERM)
                await asyncio.to_thread(self.process.join, 10.0)
            if self.process.is_alive():
                os.kill(self.process.pid, signal.SIGKILL)
                await asyncio.to_thread(self.process.join, 5.0)
            self.process = None

    async def _get(self, route: str, **query: object) -> dict[str, Any]:
        assert self.session is not None
        params = {k: str(v) for k, v in query.items()}
        async with self.session.get(f"{self.base_url}/{route}", params=params) as response:
            data: dict[str, Any] = await response.json()
            return data

    async def stats(self, chats: bool = False) -> dict[str, Any]:
        data = await self._get("stats", **({"chats": 1} if chats else {}))
        for key in ("delivered", "refused"):
            if key in data:
                data[key] = {int(k): v for k, v in data[key].items()}
        return data

    async def in_flight(self, at: float, grace: float) -> dict[str, list[int]]:
        return await self._get("inflight", at=repr(at), grace=grace)

    async def replies(self) -> dict[str, Any]:
        return await self._get("replies")

    async def inject(
        self, chat_id: int, *, step: str, tag: str, text: str = "", data: str = ""
    ) -> int:
        """A text message (`text`) or a tap (`data`) from the probe chat `chat_id`."""
        assert self.session is not None
        body = {"chat_id": chat_id, "text": text, "data": data, "step": step, "tag": tag}
        async with self.session.post(f"{self.base_url}/inject", json=body) as response:
            return int((await response.json())["update_id"])
