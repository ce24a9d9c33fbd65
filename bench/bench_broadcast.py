"""Broadcast delivery of the real bot process against a fake Telegram Bot API over HTTP.

A fake Bot API (aiohttp, its own process, 127.0.0.1 on a free port) answers every call after
50 ms, answers 429 when more than 30 send* calls arrived in the last second, and 403
"bot was blocked by the user" for every chat id divisible by 20 (5 % of the voters). The
real bot runs as `python -m bot` in a separate process, pointed at it with
JIAZHAN_BOT_API_BASE_URL, on a fresh SQLite file that holds the stations, the voters, one
staff member and one broadcast queued through BroadcastService, which the bot resumes at
start.

  run 1  the whole broadcast, then SIGTERM: rate, 429s, outbox states, lost, duplicated
  run 2  the same with a SIGKILL half-way and a restart: lost must be 0, duplicates at most
         the rows in flight ('sending') at the kill
  run 3  /help from one voter every ~0.55 s, reply latency without and during a (smaller)
         broadcast

Run from the project root:  .venv/bin/python -m bench.bench_broadcast  (--help)
The full size (22,000 voters at 25 msg/s) takes about 15 minutes for each of runs 1 and 2.
Exit status 1 when a run misses a target (rate, lost, duplicates, latency) or times out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import itertools
import multiprocessing
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_STATIONS = ROOT / "samples" / "stations.csv"

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "家站", "username": "jiazhan_bench_bot"}
FIRST_VOTER = 300_000_000  # divisible by 20: voter i is blocked when i % 20 == 0
STAFF_ID = 1_000_001
PROBE_ID = 999_000_001
PROBE_NAME = "探针"
PROGRESS_MESSAGE_ID = 1  # the staff member's progress message, known to the fake
BROADCAST_TEXT = (
    "【家站通知】本周六上午 9:00 学院路街道代表之家开展代表进站接待活动，欢迎选民参加。"
)

LATENCY = 0.05
SEND_LIMIT = 30  # send* calls per sliding second before 429
BLOCK_MODULO = 20  # chat_id % 20 == 0 → 403
SERVER_LIFETIME = 4 * 3600.0  # the fake exits by itself after this, whatever happens
BOT_STOP_SECONDS = 30.0
BOT_READY_SECONDS = 60.0
WARMUP_PROBES = 3

INSERT_USER = (
    "INSERT INTO users (telegram_id, role, locale, full_name, username, station_id,"
    " consent_at, active, created_at, notices) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
)


# --- the fake Bot API (runs in its own process) ------------------------------------------


class FakeTelegram:
    """Just enough of the Bot API for the bot's start, polling, replies and the outbox."""

    def __init__(self, token: str, latency: float, recipients: tuple[int, int]) -> None:
        self.token = token
        self.latency = latency
        self.lo, self.hi = recipients
        self.methods: Counter[str] = Counter()
        self.send_arrivals: deque[float] = deque()
        self.send_calls = 0
        self.too_many = 0
        self.received: Counter[int] = Counter()  # successful sends per chat
        self.forbidden: Counter[int] = Counter()  # 403 answers per chat
        self.first_ok: float | None = None  # recipients' successful sends, arrival times
        self.last_ok: float | None = None
        self.first_attempt: float | None = None  # recipients' send calls incl. 403
        self.last_attempt: float | None = None
        self.ok_in_range = 0
        self.attempts_in_range = 0
        self.longest_pause = 0.0  # between two successful sends to recipients
        self.message_ids = itertools.count(1000)
        # getUpdates
        self.update_ids = itertools.count(1)
        self.queue: list[dict[str, Any]] = []
        self.new_update = asyncio.Event()
        self.handed_out: set[int] = set()
        # reply latency of the probe chats: (update_id, handed out at, tag) awaiting a reply
        self.probe_chats: set[int] = set()
        self.awaiting: dict[int, deque[tuple[int, float, str]]] = defaultdict(deque)
        self.latencies: list[dict[str, Any]] = []
        self.refused_replies = 0

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
        self.send_calls += 1
        window = self.send_arrivals
        window.append(arrived)
        while window and window[0] <= arrived - 1.0:
            window.popleft()
        in_range = self.lo <= chat_id < self.hi
        if len(window) > SEND_LIMIT:
            self.too_many += 1
            if chat_id in self.probe_chats and self.awaiting[chat_id]:
                self.awaiting[chat_id].popleft()  # this reply is lost: PTB does not retry it
                self.refused_replies += 1
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
        if in_range:
            self.attempts_in_range += 1
            self.first_attempt = self.first_attempt or arrived
            self.last_attempt = arrived
        if chat_id % BLOCK_MODULO == 0:
            self.forbidden[chat_id] += 1
            await asyncio.sleep(self.latency)
            return self._error(403, "Forbidden: bot was blocked by the user")
        self.received[chat_id] += 1
        if in_range:
            self.ok_in_range += 1
            if self.last_ok is not None:
                self.longest_pause = max(self.longest_pause, arrived - self.last_ok)
            self.first_ok = self.first_ok or arrived
            self.last_ok = arrived
        if chat_id in self.probe_chats and self.awaiting[chat_id]:
            update_id, handed_out, tag = self.awaiting[chat_id].popleft()
            self.latencies.append(
                {"update_id": update_id, "tag": tag, "seconds": arrived - handed_out}
            )
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
        return self._ok(self._message(chat_id, **content))

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
        batch = self.queue[:limit]
        now = time.monotonic()
        for update in batch:
            update_id = update["update_id"]
            if update_id in self.handed_out:
                continue
            self.handed_out.add(update_id)
            chat_id = update["message"]["chat"]["id"]
            if chat_id in self.probe_chats:
                self.awaiting[chat_id].append((update_id, now, update["_tag"]))
        return self._ok([{k: v for k, v in u.items() if k != "_tag"} for u in batch])

    async def inject(self, request: web.Request) -> web.Response:
        """A private text message from `chat_id`, handed out by the next getUpdates."""
        body = await request.json()
        chat_id, text = int(body["chat_id"]), str(body["text"])
        update_id = next(self.update_ids)
        sender = {
            "id": chat_id,
            "is_bot": False,
            "first_name": str(body.get("first_name", "x")),
            "language_code": "zh-hans",
        }
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
        self.probe_chats.add(chat_id)
        self.queue.append(
            {"update_id": update_id, "message": message, "_tag": str(body.get("tag", ""))}
        )
        self.new_update.set()
        return web.json_response({"update_id": update_id})

    async def stats(self, request: web.Request) -> web.Response:
        data: dict[str, Any] = {
            "methods": dict(self.methods),
            "send_calls": self.send_calls,
            "too_many": self.too_many,
            "ok_in_range": self.ok_in_range,
            "attempts_in_range": self.attempts_in_range,
            "first_ok": self.first_ok,
            "last_ok": self.last_ok,
            "first_attempt": self.first_attempt,
            "last_attempt": self.last_attempt,
            "longest_pause": self.longest_pause,
        }
        if request.query.get("chats"):
            data["received"] = dict(self.received)
            data["forbidden"] = dict(self.forbidden)
        return web.json_response(data)

    async def replies(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "latencies": self.latencies,
                "awaiting": sum(len(q) for q in self.awaiting.values()),
                "refused": self.refused_replies,
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


async def _params(request: web.Request) -> dict[str, Any]:
    """PTB posts form data (JSON-encoded values); other clients may post JSON."""
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    return dict(request.query)


async def _serve(conn: Connection, config: dict[str, Any]) -> None:
    fake = FakeTelegram(config["token"], config["latency"], tuple(config["recipients"]))
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.api)
    app.router.add_post("/inject", fake.inject)
    app.router.add_get("/stats", fake.stats)
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

    def __init__(self, recipients: tuple[int, int], latency: float) -> None:
        self.config = {"token": TOKEN, "latency": latency, "recipients": list(recipients)}
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

    async def stats(self, chats: bool = False) -> dict[str, Any]:
        assert self.session is not None
        url = f"{self.base_url}/stats" + ("?chats=1" if chats else "")
        async with self.session.get(url) as response:
            data: dict[str, Any] = await response.json()
        for key in ("received", "forbidden"):
            if key in data:
                data[key] = {int(k): v for k, v in data[key].items()}
        return data

    async def inject(self, chat_id: int, text: str, first_name: str, tag: str) -> int:
        assert self.session is not None
        body = {"chat_id": chat_id, "text": text, "first_name": first_name, "tag": tag}
        async with self.session.post(f"{self.base_url}/inject", json=body) as response:
            return int((await response.json())["update_id"])

    async def replies(self) -> dict[str, Any]:
        assert self.session is not None
        async with self.session.get(f"{self.base_url}/replies") as response:
            data: dict[str, Any] = await response.json()
            return data


# --- the bot process ---------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the bot gets SIGTERM if the bench process dies without cleaning up."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class BotProcess:
    """`python -m bot` in a directory without a .env, pointed at the fake."""

    def __init__(self, workdir: Path, db_path: Path, api_url: str, rate: float) -> None:
        self.workdir = workdir
        self.db_path = db_path
        self.api_url = api_url
        self.rate = rate
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIAZHAN_")}
        env.update(
            {
                "JIAZHAN_BOT_TOKEN": TOKEN,
                "JIAZHAN_DATABASE_PATH": str(self.db_path),
                "JIAZHAN_BOT_API_BASE_URL": self.api_url,
                "JIAZHAN_OUTBOX_RATE": f"{self.rate:g}",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
                "PYTHONUNBUFFERED": "1",
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        log = self.workdir / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would."""
        if self.proc is not None:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 10)
            self.proc = None

    async def terminate(self) -> int | None:
        """SIGTERM and wait; SIGKILL after BOT_STOP_SECONDS. Returns the exit status."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                await asyncio.to_thread(proc.wait, BOT_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait, 10)
                return None
        return proc.returncode

    def log_summary(self) -> tuple[Counter[str], list[str]]:
        """WARNING/ERROR lines and tracebacks in the bot's logs, by logger."""
        counts: Counter[str] = Counter()
        samples: list[str] = []
        for log in self.logs:
            with contextlib.suppress(OSError):
                for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
                    parts = line.split(" ", 4)
                    if len(parts) >= 4 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
                        key = f"{parts[2]} {parts[3].rstrip(':')}"
                    elif line.startswith("Traceback"):
                        key = "Traceback"
                    else:
                        continue
                    counts[key] += 1
                    if len(samples) < 4:
                        samples.append(line[:200])
        return counts, samples

    def tail(self, lines: int = 20) -> str:
        if not self.logs:
            return ""
        with contextlib.suppress(OSError):
            text = self.logs[-1].read_text(encoding="utf-8", errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""


async def wait_ready(bot: BotProcess, server: FakeServer) -> None:
    """The bot polls once it is up: its first getUpdates."""
    deadline = time.monotonic() + BOT_READY_SECONDS
    while time.monotonic() < deadline:
        if not bot.running:
            raise RuntimeError(f"the bot exited at start:\n{bot.tail()}")
        if (await server.stats())["methods"].get("getUpdates"):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the bot did not poll within {BOT_READY_SECONDS:.0f} s:\n{bot.tail()}")


# --- the database ------------------------------------------------------------------------


def voter_ids(count: int) -> list[int]:
    return [FIRST_VOTER + i for i in range(count)]


async def prepare_database(db_path: Path, voters: list[int], *, probe: bool) -> None:
    """Stations, consenting voters with a station, one staff member (and the probe voter,
    who opted out of notices so the broadcast does not reach them)."""
    from bot.clock import SystemClock
    from bot.services import build_services
    from bot.settings import load_settings
    from storage import Database

    settings = load_settings(_env_file=None, need_token=False, database_path=db_path)
    db = Database(db_path)
    await db.connect()
    try:
        services = build_services(settings, db, SystemClock())
        report = await services.stations.import_csv(SAMPLE_STATIONS)
        if report.errors:
            raise RuntimeError(f"station import failed: {report.errors}")
        stations = [int(r[0]) for r in await db.fetchall("SELECT id FROM stations ORDER BY id")]
        now = datetime.now(UTC).isoformat()
        rows = [
            ("voter", "zh_CN", f"选民{i}", None, stations[i % len(stations)], now, now, 1)
            for i in range(len(voters))
        ]
        rows = [(uid, *row) for uid, row in zip(voters, rows, strict=True)]
        rows.append((STAFF_ID, "staff", "zh_CN", "工作人员", None, stations[0], now, now, 1))
        if probe:
            rows.append((PROBE_ID, "voter", "zh_CN", PROBE_NAME, None, stations[0], now, now, 0))
        async with db.transaction() as tx:
            await tx.executemany(INSERT_USER, rows)
    finally:
        await db.close()


async def queue_broadcast(db_path: Path) -> tuple[int, int]:
    """The staff member broadcasts to all voters through BroadcastService, as /broadcast
    does; returns the broadcast id and its recipient count."""
    from bot.clock import SystemClock
    from bot.services import build_services
    from bot.settings import load_settings
    from storage import Database
    from storage.models import Audience

    settings = load_settings(_env_file=None, need_token=False, database_path=db_path)
    db = Database(db_path)
    await db.connect()
    try:
        services = build_services(settings, db, SystemClock())
        actor = await services.users.get(STAFF_ID)
        assert actor is not None
        broadcasts = services.broadcasts
        await broadcasts.begin(actor, STAFF_ID)
        await broadcasts.set_content(actor, STAFF_ID, BROADCAST_TEXT, None, None)
        count = await broadcasts.set_audience(actor, STAFF_ID, Audience.VOTERS, None)
        preview = (await broadcasts.draft(actor)).preview
        created = await broadcasts.create(actor, STAFF_ID, preview)
        # the handler would have shown the progress message first; the dispatcher edits it
        broadcast = await broadcasts.start(
            actor, STAFF_ID, created.id, STAFF_ID, PROGRESS_MESSAGE_ID
        )
    finally:
        await db.close()
    return broadcast.id, count


def _query(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def query(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return await asyncio.to_thread(_query, db_path, sql, params)


async def outbox_states(db_path: Path) -> Counter[str]:
    rows = await query(db_path, "SELECT state, count(*) FROM outbox GROUP BY state")
    return Counter({state: n for state, n in rows})


async def broadcast_done(db_path: Path, broadcast_id: int) -> bool:
    """Every row finished, the report to the author included, and the broadcast 'done'."""
    states = await outbox_states(db_path)
    rows = await query(db_path, "SELECT state FROM broadcasts WHERE id = ?", (broadcast_id,))
    return not states["queued"] and not states["sending"] and bool(rows) and rows[0][0] == "done"


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Delivery:
    """One broadcast's outcome, from the fake's records and the outbox rows."""

    recipients: int
    rate_cap: float
    ok: int  # successful sends to recipients received by the fake
    span: float  # first to last successful send, seconds
    attempts: int  # recipients' send calls the fake answered (200 or 403)
    attempt_span: float
    too_many: int
    states: Counter[str]
    lost: list[int]
    duplicated: dict[int, int]
    sent_not_received: int
    longest_pause: float
    methods: dict[str, int]
    timed_out: bool
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.span if self.span > 0 else 0.0

    @property
    def attempt_rate(self) -> float:
        return self.attempts / self.attempt_span if self.attempt_span > 0 else 0.0


async def measure(
    db_path: Path, server: FakeServer, broadcast_id: int, rate: float, timed_out: bool, began: float
) -> Delivery:
    stats = await server.stats(chats=True)
    received: dict[int, int] = stats["received"]
    rows = await query(
        db_path, "SELECT chat_id, state, reason FROM outbox WHERE broadcast_id = ?", (broadcast_id,)
    )
    states: Counter[str] = Counter()
    lost: list[int] = []
    sent_not_received = 0
    for chat_id, state, reason in rows:
        name = "blocked" if state == "skipped" and reason == "blocked" else state
        if state == "skipped" and reason != "blocked":
            name = f"skipped ({reason})"
        states[name] += 1
        if not received.get(chat_id) and name not in ("blocked", "failed"):
            lost.append(chat_id)
        if name == "sent" and not received.get(chat_id):
            sent_not_received += 1
    recipients = {r[0] for r in rows}
    duplicated = {c: n for c, n in received.items() if n > 1 and c in recipients}
    first_ok, last_ok = stats["first_ok"], stats["last_ok"]
    first_try, last_try = stats["first_attempt"], stats["last_attempt"]
    return Delivery(
        recipients=len(rows),
        rate_cap=rate,
        ok=stats["ok_in_range"],
        span=(last_ok - first_ok) if first_ok and last_ok else 0.0,
        attempts=stats["attempts_in_range"],
        attempt_span=(last_try - first_try) if first_try and last_try else 0.0,
        too_many=stats["too_many"],
        states=states,
        lost=lost,
        duplicated=duplicated,
        sent_not_received=sent_not_received,
        longest_pause=stats["longest_pause"],
        methods=stats["methods"],
        timed_out=timed_out,
        seconds=time.monotonic() - began,
    )


async def wait_done(
    db_path: Path,
    server: FakeServer,
    bot: BotProcess,
    broadcast_id: int,
    recipients: int,
    rate: float,
    label: str,
) -> bool:
    """Poll until the broadcast is done; False on timeout or when the bot died."""
    deadline = time.monotonic() + recipients / rate * 1.6 + 120
    next_note = time.monotonic() + 60
    while time.monotonic() < deadline:
        if await broadcast_done(db_path, broadcast_id):
            return True
        if not bot.running:
            print(f"  [{label}] the bot exited unexpectedly:\n{bot.tail()}", flush=True)
            return False
        if time.monotonic() >= next_note:
            next_note += 60
            stats = await server.stats()
            print(
                f"  [{label}] … {stats['ok_in_range']:,} of {recipients:,} received, "
                f"{stats['too_many']} x 429",
                flush=True,
            )
        await asyncio.sleep(1.0)
    print(f"  [{label}] TIMED OUT waiting for the broadcast to finish", flush=True)
    return False


def print_delivery(d: Delivery) -> None:
    received_note = (
        f"{d.ok:,} successful sends over {d.span:.1f} s (first to last)" if d.ok else "none"
    )
    print(f"  configured cap         {d.rate_cap:g} msg/s (JIAZHAN_OUTBOX_RATE)")
    print(
        f"  achieved               {d.rate:.2f} msg/s = {d.rate / d.rate_cap:.1%} of cap  "
        f"[{received_note}]"
    )
    print(
        f"  send calls (incl. 403) {d.attempt_rate:.2f} calls/s = "
        f"{d.attempt_rate / d.rate_cap:.1%} of cap  [{d.attempts:,} calls over "
        f"{d.attempt_span:.1f} s]"
    )
    print(f"  429s answered          {d.too_many}")
    known = ("sent", "failed", "blocked")
    others = ", ".join(f"{k} {v:,}" for k, v in sorted(d.states.items()) if k not in known)
    print(
        f"  outbox (DB)            sent {d.states['sent']:,} / failed {d.states['failed']:,} / "
        f"blocked {d.states['blocked']:,}"
        + (f"  (also: {others})" if others else "")
        + f"  of {d.recipients:,} recipients"
    )
    print(f"  lost                   {len(d.lost)}" + (f"  e.g. {d.lost[:5]}" if d.lost else ""))
    dup_msgs = sum(n - 1 for n in d.duplicated.values())
    print(f"  duplicated             {len(d.duplicated)} chats ({dup_msgs} extra messages)")
    if d.sent_not_received:
        print(f"  PROBLEM: {d.sent_not_received} rows 'sent' in the DB the fake never received")
    if d.timed_out:
        print("  PROBLEM: the broadcast did not finish in time")
    calls = ", ".join(f"{m} {n:,}" for m, n in sorted(d.methods.items()))
    print(f"  Bot API calls          {calls}")
    print(f"  wall time              {d.seconds:.0f} s (setup excluded)")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


# --- runs --------------------------------------------------------------------------------


@dataclass
class Checks:
    lines: list[tuple[bool, str]] = field(default_factory=list)

    def add(self, passed: bool, text: str) -> None:
        self.lines.append((passed, text))

    @property
    def failed(self) -> bool:
        return any(not passed for passed, _ in self.lines)


def print_logs(bot: BotProcess) -> None:
    counts, samples = bot.log_summary()
    if not counts:
        print("  bot log                no warnings or errors")
        return
    print("  bot log                " + ", ".join(f"{k}: {n}" for k, n in counts.most_common()))
    for line in samples:
        print(f"    {line}")


async def setup_run(workdir: Path, recipients: int, probe: bool = False) -> Path:
    await asyncio.to_thread(workdir.mkdir, parents=True)
    db_path = workdir / "jiazhan.sqlite3"
    began = time.monotonic()
    await prepare_database(db_path, voter_ids(recipients), probe=probe)
    print(
        f"  setup                  {recipients:,} consenting voters with a station, 1 staff"
        + (", 1 probe voter (notices off)" if probe else "")
        + f" in {time.monotonic() - began:.1f} s",
        flush=True,
    )
    return db_path


async def run_clean(workdir: Path, args: argparse.Namespace, checks: Checks) -> None:
    n = args.recipients
    print(f"\n== run 1: broadcast to {n:,} voters, uninterrupted ==", flush=True)
    db_path = await setup_run(workdir, n)
    broadcast_id, count = await queue_broadcast(db_path)
    server = FakeServer((FIRST_VOTER, FIRST_VOTER + n), args.latency)
    bot = BotProcess(workdir, db_path, "", args.rate)
    try:
        await server.start()
        bot.api_url = server.base_url
        began = time.monotonic()
        bot.start()
        timed_out = not await wait_done(
            db_path, server, bot, broadcast_id, count, args.rate, "run 1"
        )
        status = await bot.terminate()
        result = await measure(db_path, server, broadcast_id, args.rate, timed_out, began)
    finally:
        await bot.terminate()
        await server.stop()
    print_delivery(result)
    print(f"  bot exit status        {status}")
    print_logs(bot)
    checks.add(
        result.rate >= 0.95 * args.rate,
        f"run 1 achieved {result.rate / args.rate:.1%} of cap (successful sends), target >= 95%",
    )
    checks.add(
        result.attempt_rate >= 0.95 * args.rate,
        f"run 1 send calls incl. 403 at {result.attempt_rate / args.rate:.1%} of cap, "
        "target >= 95%",
    )
    checks.add(not result.lost and not timed_out, f"run 1 lost {len(result.lost)}, target 0")
    checks.add(not result.duplicated, f"run 1 duplicated {len(result.duplicated)}, target 0")


async def run_killed(workdir: Path, args: argparse.Namespace, checks: Checks) -> None:
    n = args.recipients
    print(f"\n== run 2: broadcast to {n:,} voters, SIGKILL half-way, restart ==", flush=True)
    db_path = await setup_run(workdir, n)
    broadcast_id, count = await queue_broadcast(db_path)
    server = FakeServer((FIRST_VOTER, FIRST_VOTER + n), args.latency)
    bot = BotProcess(workdir, db_path, "", args.rate)
    in_flight = received_in_flight = 0
    timed_out = False
    try:
        await server.start()
        bot.api_url = server.base_url
        began = time.monotonic()
        bot.start()
        half = count // 2
        deadline = time.monotonic() + half / args.rate * 2 + 120
        stats = await server.stats()
        while stats["ok_in_range"] < half and time.monotonic() < deadline and bot.running:
            await asyncio.sleep(0.1)
            stats = await server.stats()
        if stats["ok_in_range"] < half:
            raise RuntimeError(f"never reached half-way ({stats['ok_in_range']}):\n{bot.tail()}")
        await bot.kill()
        at_kill = await server.stats(chats=True)
        sending = await query(
            db_path,
            "SELECT chat_id FROM outbox WHERE broadcast_id = ? AND state = 'sending'",
            (broadcast_id,),
        )
        in_flight = len(sending)
        received_in_flight = sum(1 for (c,) in sending if at_kill["received"].get(c))
        states = await outbox_states(db_path)
        print(
            f"  killed (SIGKILL)       after {at_kill['ok_in_range']:,} received; outbox then: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(states.items())),
            flush=True,
        )
        print(
            f"  in flight at the kill  {in_flight} rows 'sending' "
            f"({received_in_flight} of them already received by the fake)",
            flush=True,
        )
        await asyncio.sleep(1.0)
        bot.start()
        timed_out = not await wait_done(
            db_path, server, bot, broadcast_id, count, args.rate, "run 2"
        )
        status = await bot.terminate()
        result = await measure(db_path, server, broadcast_id, args.rate, timed_out, began)
    finally:
        await bot.terminate()
        await server.stop()
    print_delivery(result)
    gap = result.longest_pause
    if result.span > gap > 0:
        print(
            f"  restart gap            {gap:.1f} s without sends (kill, restart, start-up) is "
            f"inside the span above; without it: {result.ok / (result.span - gap):.2f} "
            "msg/s"
        )
    print(f"  bot exit status        {status}")
    print_logs(bot)
    dup = len(result.duplicated)
    print(
        f"  => lost {len(result.lost)} (must be 0); duplicated {dup} <= in flight at the kill "
        f"{in_flight}: {'yes' if dup <= in_flight else 'NO'}"
    )
    checks.add(not result.lost and not timed_out, f"run 2 lost {len(result.lost)}, target 0")
    checks.add(
        dup <= in_flight, f"run 2 duplicated {dup}, target <= {in_flight} in flight at the kill"
    )


async def probe(
    server: FakeServer, count: int, interval: float, tag: str, stop_if: Any = None
) -> int:
    """`count` /help messages from the probe voter, one every `interval` seconds."""
    start = time.monotonic()
    sent = 0
    for i in range(count):
        if stop_if is not None and await stop_if():
            break
        await server.inject(PROBE_ID, "/help", PROBE_NAME, tag)
        sent += 1
        delay = start + (i + 1) * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    return sent


async def wait_replies(server: FakeServer, expected: int, within: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    replies = await server.replies()
    while len(replies["latencies"]) + replies["refused"] < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        replies = await server.replies()
    return replies


async def run_latency(workdir: Path, args: argparse.Namespace, checks: Checks) -> None:
    n = args.chat_recipients
    print(
        f"\n== run 3: reply latency of /help, idle vs during a broadcast to {n:,} voters "
        f"(smaller than runs 1-2) ==",
        flush=True,
    )
    db_path = await setup_run(workdir, n, probe=True)
    server = FakeServer((FIRST_VOTER, FIRST_VOTER + n), args.latency)
    bot = BotProcess(workdir, db_path, "", args.rate)
    timed_out = False
    try:
        await server.start()
        bot.api_url = server.base_url
        bot.start()
        await wait_ready(bot, server)
        await asyncio.sleep(2.0)  # let start-up settle
        # a few /help first, not counted: the first one runs cold code paths
        warmup = await probe(server, WARMUP_PROBES, args.probe_interval, "warm-up")
        idle_sent = await probe(server, args.probes, args.probe_interval, "idle")
        await wait_replies(server, warmup + idle_sent)

        began = time.monotonic()
        broadcast_id, count = await queue_broadcast(db_path)
        warm = min(100, count // 10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (await server.stats())["ok_in_range"] >= warm:
                break
            await asyncio.sleep(0.1)

        async def finished() -> bool:
            return (await server.stats())["ok_in_range"] >= count - count // 20 - 5

        busy_sent = await probe(server, args.probes, args.probe_interval, "broadcast", finished)
        during = (await server.stats())["ok_in_range"]
        replies = await wait_replies(server, warmup + idle_sent + busy_sent)
        timed_out = not await wait_done(
            db_path, server, bot, broadcast_id, count, args.rate, "run 3"
        )
        status = await bot.terminate()
        result = await measure(db_path, server, broadcast_id, args.rate, timed_out, began)
    finally:
        await bot.terminate()
        await server.stop()

    by_tag: dict[str, list[float]] = defaultdict(list)
    for entry in replies["latencies"]:
        by_tag[entry["tag"]].append(entry["seconds"] * 1000)
    print(
        f"  probe                  /help every {args.probe_interval:g} s from one voter; "
        "latency = getUpdates hands the update out -> the bot's sendMessage to that chat "
        "arrives at the fake"
    )
    p99s: dict[str, float] = {}
    for tag, sent in (("idle", idle_sent), ("broadcast", busy_sent)):
        values = by_tag.get(tag, [])
        label = "no broadcast" if tag == "idle" else "during broadcast"
        if not values:
            print(f"  {label:<22} no replies to {sent} messages")
            continue
        p99s[tag] = percentile(values, 99)
        print(
            f"  {label:<22} {len(values)}/{sent} replies  p50 {percentile(values, 50):6.1f} ms  "
            f"p90 {percentile(values, 90):6.1f} ms  p99 {p99s[tag]:6.1f} ms  "
            f"(slowest: {', '.join(f'{v:.0f}' for v in sorted(values)[-3:][::-1])} ms)"
        )
    if replies["refused"] or replies["awaiting"]:
        print(
            f"  PROBLEM: {replies['refused']} replies refused with 429, "
            f"{replies['awaiting']} updates never answered"
        )
    print(
        f"  broadcast progress     {during:,} of {count:,} received when the last probe was "
        "answered (the broadcast was still running)"
        if during < count - count // 20 - 5
        else f"  NOTE: the broadcast ended before the probes did ({busy_sent} sent)"
    )
    print_delivery(result)
    print(f"  bot exit status        {status}")
    print_logs(bot)
    if "idle" in p99s and "broadcast" in p99s:
        ratio = p99s["broadcast"] / p99s["idle"]
        print(f"  => p99 during broadcast / p99 without = {ratio:.2f} (target < 2)")
        checks.add(
            ratio < 2 and len(by_tag["broadcast"]) == busy_sent,
            f"run 3 reply p99 {p99s['broadcast']:.0f} ms during vs {p99s['idle']:.0f} ms "
            "without, target < 2x",
        )
    else:
        checks.add(False, "run 3 got no replies to measure")
    checks.add(not result.lost and not timed_out, f"run 3 lost {len(result.lost)}, target 0")


# --- main --------------------------------------------------------------------------------


def code_version() -> str:
    """The commit the bot runs from, and whether the tree has changes (best effort)."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_broadcast", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--recipients", type=int, default=22_000, help="voters in runs 1 and 2")
    parser.add_argument(
        "--chat-recipients", type=int, default=3_000, help="voters in run 3's broadcast"
    )
    parser.add_argument("--rate", type=float, default=25.0, help="JIAZHAN_OUTBOX_RATE")
    parser.add_argument("--latency", type=float, default=LATENCY, help="seconds per call")
    parser.add_argument(
        "--probes",
        type=int,
        default=100,
        help="/help messages per phase (100: p99 is the 2nd slowest, not the slowest)",
    )
    parser.add_argument(
        "--probe-interval",
        type=float,
        default=0.55,
        help="seconds between /help messages (the flood guard allows 20 per 10 s)",
    )
    parser.add_argument("--runs", default="1,2,3", help="which runs, e.g. 1,3")
    parser.add_argument("--keep", action="store_true", help="keep the databases and bot logs")
    args = parser.parse_args(argv)
    args.runs = {int(r) for r in args.runs.split(",") if r.strip()}
    if args.recipients < 40 or args.chat_recipients < 200:
        parser.error("--recipients must be >= 40 and --chat-recipients >= 200")
    return args


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"fake Bot API on 127.0.0.1 (own process): {args.latency * 1000:.0f} ms per call, "
        f"429 above {SEND_LIMIT} send* calls in any second, 403 for chat_id % {BLOCK_MODULO} "
        f"== 0 (5 % of voters); bot: `python -m bot`, JIAZHAN_OUTBOX_RATE={args.rate:g}, "
        f"code {code_version()}",
        flush=True,
    )
    checks = Checks()
    if args.keep:
        tmp = tempfile.mkdtemp(prefix="jiazhan-bench-broadcast-")
        print(f"keeping databases and bot logs in {tmp}")
        holder: contextlib.AbstractContextManager[str] = contextlib.nullcontext(tmp)
    else:
        holder = tempfile.TemporaryDirectory(prefix="jiazhan-bench-broadcast-")
    with holder as tmp:
        runs = {1: run_clean, 2: run_killed, 3: run_latency}
        for number in sorted(args.runs):
            try:
                await runs[number](Path(tmp) / f"run{number}", args, checks)
            except Exception as exc:  # report and go on with the next run
                print(f"  ERROR in run {number}: {exc!r}", flush=True)
                checks.add(False, f"run {number} did not complete: {exc!r}")
    print("\n== summary ==")
    for passed, text in checks.lines:
        print(f"  {'ok  ' if passed else 'FAIL'}  {text}")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
