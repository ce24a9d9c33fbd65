"""Broadcast delivery of the real bot process against a fake Telegram Bot API over HTTP.

The fake Bot API (bench._broadcast_fake: aiohttp, its own process, 127.0.0.1) answers every
call after 50 ms, answers 429 when more than 30 send* calls arrived in the last second, and
403 "bot was blocked by the user" to exactly the chat ids the bench tells it (every voter
whose id is divisible by 20: 5 %). The real bot runs as `python -m bot` in a separate
process, pointed at it with JIAZHAN_BOT_API_BASE_URL, on a fresh SQLite file that holds the
stations, the voters, one staff member and one broadcast to all voters queued through
BroadcastService, which the bot resumes at start.

  run 1  the whole broadcast, then SIGTERM: delivery rate, and every voter accounted for
  run 2  the same with a SIGKILL half-way and a restart: duplicates only among the sends
         in flight at the kill
  run 3  probe voters write (/opinion, a category tap, the text, /cancel) while nothing
         else happens, then during a broadcast: reply latency p99, during / without

Every check compares the outcome with what the bench knows independently: the voters it
created, the chats it told the fake to refuse, and the fake's own record of what it
delivered. `--break KIND` runs the bot with a deliberately broken dispatcher (a subclass in
bench._broadcast_bot, never production code) so each check can be seen to fail.

Run from the project root:  .venv/bin/python -m bench.bench_broadcast  (--help)
Each check prints PASS or FAIL; the exit status is 1 when any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._broadcast_fake import SEND_LIMIT, FakeServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_STATIONS = ROOT / "samples" / "stations.csv"

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
FIRST_VOTER = 300_000_000  # divisible by 20: voter i is blocked when i % 20 == 0
BLOCK_MODULO = 20
STAFF_ID = 1_000_001
FIRST_PROBE = 999_000_001
PROBE_NAME = "探针"
NON_VOTER = 299_999_993  # --break rows: a chat outside the audience given a row
PROGRESS_MESSAGE_ID = 1  # the staff member's progress message, known to the fake
BROADCAST_TEXT = (
    "【家站通知】本周六上午 9:00 学院路街道代表之家开展代表进站接待活动，欢迎选民参加。"
)
OPINION_TEXT = "小区门口的红绿灯时间太短，老人过马路来不及。"

LATENCY = 0.05
BOT_STOP_SECONDS = 30.0
BOT_READY_SECONDS = 60.0
ANSWER_GRACE = 0.1  # s: an answer this fresh at the kill may not be recorded by the bot yet
RATE_TARGET = 0.95  # of the cap less the blocked share
LATENCY_RATIO = 2.0  # p99 during a broadcast / p99 without, at most
WARM_UP_BROADCAST = 100  # deliveries before the busy probes start

INSERT_USER = (
    "INSERT INTO users (telegram_id, role, locale, full_name, username, station_id,"
    " consent_at, active, created_at, notices) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
)


# --- checks ------------------------------------------------------------------------------


@dataclass
class Checks:
    """Every check of the run, in order: (passed, name, detail)."""

    lines: list[tuple[bool, str, str]] = field(default_factory=list)

    def add(self, passed: bool, name: str, detail: str) -> None:
        self.lines.append((passed, name, detail))
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {detail}", flush=True)

    @property
    def failed(self) -> bool:
        return any(not passed for passed, _, _ in self.lines)


# --- the bot process ---------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the bot gets SIGTERM if the bench process dies without cleaning up."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class BotProcess:
    """`python -m bot` in a directory without a .env, pointed at the fake; with a broken
    dispatcher, `python -m bench._broadcast_bot KIND` instead."""

    def __init__(self, workdir: Path, db_path: Path, rate: float, broken: str = "") -> None:
        self.workdir = workdir
        self.db_path = db_path
        self.api_url = ""
        self.rate = rate
        self.broken = broken
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
        command = [sys.executable, "-m", "bot"]
        if self.broken:
            command = [sys.executable, "-m", "bench._broadcast_bot", self.broken]
        log = self.workdir / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                command,
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

    async def kill(self) -> float:
        """SIGKILL, as a crash or an OOM kill would; returns the monotonic instant."""
        at = time.monotonic()
        if self.proc is not None:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 10)
            self.proc = None
        return at

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


def print_logs(bot: BotProcess) -> None:
    counts, samples = bot.log_summary()
    if not counts:
        print("  bot log                no warnings or errors")
        return
    print("  bot log                " + ", ".join(f"{k}: {n}" for k, n in counts.most_common()))
    for line in samples:
        print(f"    {line}")


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


@dataclass(frozen=True)
class Audience:
    """What the bench itself created: the truth every check compares with."""

    voters: list[int]
    blocked: list[int]  # the chat ids the fake is told to refuse with 403
    probes: list[int]

    @classmethod
    def of(cls, count: int, probes: int = 0) -> Audience:
        voters = [FIRST_VOTER + i for i in range(count)]
        return cls(
            voters=voters,
            blocked=[v for v in voters if v % BLOCK_MODULO == 0],
            probes=[FIRST_PROBE + i for i in range(probes)],
        )

    @property
    def span(self) -> tuple[int, int]:
        return self.voters[0], self.voters[-1] + 1

    @property
    def blocked_share(self) -> float:
        return len(self.blocked) / len(self.voters)

    def fake(self, latency: float) -> FakeServer:
        return FakeServer(TOKEN, self.span, self.blocked, latency)


async def prepare_database(db_path: Path, audience: Audience) -> None:
    """Stations, consenting voters with a station, one staff member, and the probe voters
    (who opted out of notices, so the broadcast does not reach them)."""
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
            (uid, "voter", "zh_CN", f"选民{i}", None, stations[i % len(stations)], now, now, 1)
            for i, uid in enumerate(audience.voters)
        ]
        rows.append((STAFF_ID, "staff", "zh_CN", "工作人员", None, stations[0], now, now, 1))
        rows += [
            (uid, "voter", "zh_CN", f"{PROBE_NAME}{i}", None, stations[0], now, now, 0)
            for i, uid in enumerate(audience.probes)
        ]
        async with db.transaction() as tx:
            await tx.executemany(INSERT_USER, rows)
    finally:
        await db.close()


async def setup_run(workdir: Path, audience: Audience) -> Path:
    """A fresh directory and database holding `audience`; returns the database's path."""
    await asyncio.to_thread(workdir.mkdir, parents=True)
    db_path = workdir / "jiazhan.sqlite3"
    began = time.monotonic()
    await prepare_database(db_path, audience)
    probes = f", {len(audience.probes)} probe voters (notices off)" if audience.probes else ""
    print(
        f"  setup                  {len(audience.voters):,} consenting voters with a station "
        f"({len(audience.blocked):,} of them refused with 403 by the fake), 1 staff{probes} "
        f"in {time.monotonic() - began:.1f} s",
        flush=True,
    )
    return db_path


async def queue_broadcast(db_path: Path) -> tuple[int, int]:
    """The staff member broadcasts to all voters through BroadcastService, as /broadcast
    does; returns the broadcast id and its recipient count."""
    from bot.clock import SystemClock
    from bot.services import build_services
    from bot.settings import load_settings
    from storage import Database
    from storage.models import Audience as To

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
        count = await broadcasts.set_audience(actor, STAFF_ID, To.VOTERS, None)
        preview = (await broadcasts.draft(actor)).preview
        created = await broadcasts.create(actor, STAFF_ID, preview)
        # the handler would have shown the progress message first; the dispatcher edits it
        broadcast = await broadcasts.start(
            actor, STAFF_ID, created.id, STAFF_ID, PROGRESS_MESSAGE_ID
        )
    finally:
        await db.close()
    return broadcast.id, count


def _break_rows(db_path: Path, broadcast_id: int, victim: int) -> None:
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        with conn:
            conn.execute(
                "DELETE FROM outbox WHERE broadcast_id = ? AND chat_id = ?", (broadcast_id, victim)
            )
            conn.execute(
                "INSERT INTO outbox (chat_id, priority, broadcast_id, respects_opt_out,"
                " not_before, created_at) SELECT ?, priority, broadcast_id, respects_opt_out,"
                " not_before, created_at FROM outbox WHERE broadcast_id = ? LIMIT 1",
                (NON_VOTER, broadcast_id),
            )
    finally:
        conn.close()


async def break_rows(db_path: Path, broadcast_id: int, audience: Audience) -> None:
    """--break rows: one voter's row removed, one row added for a chat outside the audience."""
    blocked = set(audience.blocked)
    victim = next(v for v in audience.voters[1:] if v not in blocked)
    await asyncio.to_thread(_break_rows, db_path, broadcast_id, victim)
    print(f"  BROKEN                 row of voter {victim} deleted, row for {NON_VOTER} added")


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


async def wait_done(
    db_path: Path, server: FakeServer, bot: BotProcess, broadcast_id: int, rate: float, label: str
) -> bool:
    """Poll until the broadcast is done; False on timeout or when the bot died."""
    rows = await query(db_path, "SELECT total FROM broadcasts WHERE id = ?", (broadcast_id,))
    total = int(rows[0][0])
    deadline = time.monotonic() + total / rate * 1.6 + 120
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
                f"  [{label}] … {stats['ok_to_voters']:,} of {total:,} delivered, "
                f"{stats['too_many']} x 429",
                flush=True,
            )
        await asyncio.sleep(1.0)
    print(f"  [{label}] TIMED OUT waiting for the broadcast to finish", flush=True)
    return False


# --- accounting: every voter against the truth -------------------------------------------


@dataclass
class Accounting:
    """One broadcast's rows and the fake's deliveries, against the voters the bench created
    and the chats it told the fake to refuse."""

    voters: int
    rows: int
    missing_rows: list[int]  # voters without a row
    extra_rows: list[int]  # rows for chats that are not voters
    repeated_rows: list[int]  # voters with more than one row
    states: Counter[str]  # row states; skipped rows by reason ("blocked", "skipped (x)")
    lost: list[int]  # voters not refused by the fake, never delivered
    lost_recorded_sent: int  # of them, rows that say 'sent'
    wrongly_blocked: list[int]  # rows marked blocked, the fake never refused the chat
    unmarked_blocked: list[int]  # chats the fake refuses, their row not marked blocked
    duplicated: dict[int, int]  # voter -> deliveries, more than one
    stray: dict[int, int]  # deliveries to chats outside the audience (the author excepted)

    @property
    def odd_states(self) -> dict[str, int]:
        return {k: n for k, n in self.states.items() if k not in ("sent", "blocked")}

    @property
    def extra_messages(self) -> int:
        return sum(n - 1 for n in self.duplicated.values())


def account(
    audience: Audience,
    rows: list[tuple[Any, ...]],
    delivered: dict[int, int],
    refused: dict[int, int],
) -> Accounting:
    """Every voter and every row of the broadcast against the truth: `rows` are (chat_id,
    state, reason); `delivered` and `refused` are the fake's accepted and 403 calls per chat."""
    voters = set(audience.voters)
    blocked = set(audience.blocked)
    per_chat: Counter[int] = Counter()
    state_of: dict[int, str] = {}
    states: Counter[str] = Counter()
    for chat_id, state, reason in rows:
        name = state
        if state == "skipped":
            name = "blocked" if reason == "blocked" else f"skipped ({reason})"
        states[name] += 1
        per_chat[chat_id] += 1
        state_of[chat_id] = name
    marked = {c for c, name in state_of.items() if name == "blocked"}
    lost = [v for v in audience.voters if v not in blocked and not delivered.get(v)]
    allowed = voters | {STAFF_ID} | set(audience.probes)
    return Accounting(
        voters=len(voters),
        rows=len(rows),
        missing_rows=sorted(voters - set(per_chat)),
        extra_rows=sorted(set(per_chat) - voters),
        repeated_rows=sorted(c for c, n in per_chat.items() if n > 1 and c in voters),
        states=states,
        lost=lost,
        lost_recorded_sent=sum(1 for v in lost if state_of.get(v) == "sent"),
        wrongly_blocked=sorted(c for c in marked if not refused.get(c)),
        unmarked_blocked=sorted(c for c in blocked if c not in marked or delivered.get(c)),
        duplicated={c: n for c, n in delivered.items() if n > 1 and c in voters},
        stray={c: n for c, n in delivered.items() if c not in allowed},
    )


def _some(values: list[int] | dict[int, int]) -> str:
    """A few examples for a check's line."""
    items = list(values)[:3]
    return f" e.g. {', '.join(map(str, items))}" if items else ""


def print_accounting(a: Accounting) -> None:
    """The rows and the fake's deliveries, as counts."""
    states = ", ".join(f"{k} {n:,}" for k, n in sorted(a.states.items()))
    print(
        f"  outbox rows            {a.rows:,} for {a.voters:,} voters: {states}; missing "
        f"{len(a.missing_rows)}, for non-voters {len(a.extra_rows)}, repeated "
        f"{len(a.repeated_rows)}"
    )
    print(
        f"  fake's deliveries      lost {len(a.lost)} (rows 'sent' among them: "
        f"{a.lost_recorded_sent}); duplicated {len(a.duplicated)} voters "
        f"(+{a.extra_messages} messages); to chats outside the audience {len(a.stray)}"
    )
    print(
        f"  blocked                marked without a 403 from the fake {len(a.wrongly_blocked)}; "
        f"refused by the fake but not marked {len(a.unmarked_blocked)}"
    )


def check_accounting(
    checks: Checks, run: str, a: Accounting, timed_out: bool, duplicates_allowed: bool
) -> None:
    """The checks every finished broadcast must pass; duplicates are checked by the caller
    when some are allowed."""
    checks.add(not timed_out, f"{run} finished", "broadcast 'done', no row left queued/sending")
    row_faults = len(a.missing_rows) + len(a.extra_rows) + len(a.repeated_rows)
    checks.add(
        not row_faults,
        f"{run} rows",
        f"one row per voter created ({a.rows:,} rows, {a.voters:,} voters): missing "
        f"{len(a.missing_rows)}, for non-voters {len(a.extra_rows)}{_some(a.extra_rows)}, "
        f"repeated {len(a.repeated_rows)}",
    )
    odd = a.odd_states
    checks.add(
        not odd,
        f"{run} states",
        "rows only 'sent' or blocked"
        + (": also " + ", ".join(f"{k} {n}" for k, n in odd.items()) if odd else ""),
    )
    checks.add(
        not a.lost,
        f"{run} lost",
        f"{len(a.lost)} voters not refused by the fake and never delivered "
        f"({a.lost_recorded_sent} of them recorded 'sent'){_some(a.lost)}",
    )
    checks.add(
        not a.wrongly_blocked and not a.unmarked_blocked,
        f"{run} blocked",
        f"blocked rows = the chats the fake refuses: marked without a 403 "
        f"{len(a.wrongly_blocked)}{_some(a.wrongly_blocked)}, refused but not marked "
        f"{len(a.unmarked_blocked)}",
    )
    checks.add(
        not a.stray,
        f"{run} stray",
        f"{len(a.stray)} chats outside the audience got messages{_some(a.stray)}",
    )
    if not duplicates_allowed:
        checks.add(
            not a.duplicated,
            f"{run} duplicated",
            f"{len(a.duplicated)} voters delivered more than once (+{a.extra_messages} "
            f"messages){_some(a.duplicated)}",
        )


# --- the rate ----------------------------------------------------------------------------


@dataclass
class Rate:
    """What the fake saw of the broadcast: deliveries and send calls to voters over time."""

    cap: float
    blocked_share: float
    delivered: int
    span: float
    calls: int
    call_span: float
    too_many: int
    longest_pause: float

    @classmethod
    def of(cls, stats: dict[str, Any], cap: float, blocked_share: float) -> Rate:
        first, last = stats["first_ok"], stats["last_ok"]
        first_call, last_call = stats["first_call"], stats["last_call"]
        return cls(
            cap=cap,
            blocked_share=blocked_share,
            delivered=stats["ok_to_voters"],
            span=(last - first) if first and last else 0.0,
            calls=stats["calls_to_voters"],
            call_span=(last_call - first_call) if first_call and last_call else 0.0,
            too_many=stats["too_many"],
            longest_pause=stats["longest_pause"],
        )

    @property
    def per_second(self) -> float:
        return self.delivered / self.span if self.span > 0 else 0.0

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.call_span if self.call_span > 0 else 0.0

    @property
    def deliverable(self) -> float:
        """The most a dispatcher at the cap can deliver: the blocked share goes on 403s."""
        return self.cap * (1 - self.blocked_share)

    def print(self) -> None:
        print(
            f"  cap                    {self.cap:g} msg/s (JIAZHAN_OUTBOX_RATE); blocked share "
            f"{self.blocked_share:.1%}, so at most {self.deliverable:.2f} deliveries/s"
        )
        print(
            f"  delivered              {self.per_second:.2f} msg/s = "
            f"{self.per_second / self.deliverable:.1%} of cap x (1 - blocked share)  "
            f"[{self.delivered:,} voters' messages over {self.span:.1f} s, first to last]"
        )
        print(
            f"  send calls (incl. 403) {self.calls_per_second:.2f} calls/s = "
            f"{self.calls_per_second / self.cap:.1%} of cap  [{self.calls:,} calls over "
            f"{self.call_span:.1f} s]"
        )
        print(f"  429s answered          {self.too_many}")


# --- runs 1 and 2 ------------------------------------------------------------------------


@dataclass
class KillReport:
    """Run 2's crash: what was in flight, by the fake's clock and by the database."""

    delivered_before: int
    open_at_kill: list[int]  # accepted, not answered when the bot died
    answering: list[int]  # answered less than ANSWER_GRACE before
    claimed: int  # rows 'sending' in the database (the claimed batch)
    claimed_delivered: int  # of them, delivered by the fake

    @property
    def in_flight(self) -> Counter[int]:
        return Counter(self.open_at_kill) + Counter(self.answering)


async def crash_half_way(
    db_path: Path, server: FakeServer, bot: BotProcess, count: int, rate: float
) -> KillReport:
    """SIGKILL once the fake has delivered half of `count`; then ask the fake which accepted
    sends were in flight at that instant (both processes read the same CLOCK_MONOTONIC)."""
    half = count // 2
    deadline = time.monotonic() + half / rate * 2 + 120
    stats = await server.stats()
    while stats["ok_to_voters"] < half and time.monotonic() < deadline and bot.running:
        await asyncio.sleep(0.1)
        stats = await server.stats()
    if stats["ok_to_voters"] < half:
        raise RuntimeError(f"never reached half-way ({stats['ok_to_voters']}):\n{bot.tail()}")
    killed_at = await bot.kill()
    await asyncio.sleep(LATENCY * 4)  # the fake's open calls run out into the closed sockets
    flight = await server.in_flight(killed_at, ANSWER_GRACE)
    at_kill = await server.stats(chats=True)
    sending = await query(db_path, "SELECT chat_id FROM outbox WHERE state = 'sending'")
    states = await outbox_states(db_path)
    report = KillReport(
        delivered_before=at_kill["ok_to_voters"],
        open_at_kill=flight["open"],
        answering=flight["answering"],
        claimed=len(sending),
        claimed_delivered=sum(1 for (c,) in sending if at_kill["delivered"].get(c)),
    )
    print(
        f"  killed (SIGKILL)       after {report.delivered_before:,} delivered; outbox then: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(states.items())),
        flush=True,
    )
    print(
        f"  in flight at the kill  the fake: {len(report.open_at_kill)} accepted sends not yet "
        f"answered, {len(report.answering)} answered < {ANSWER_GRACE * 1000:.0f} ms before; "
        f"the database: {report.claimed} rows claimed ('sending'), {report.claimed_delivered} "
        "of them delivered",
        flush=True,
    )
    return report


async def run_broadcast(
    workdir: Path, args: argparse.Namespace, checks: Checks, *, crash: bool
) -> None:
    """Run 1 (`crash` False) or run 2: one broadcast to every voter, then the accounting."""
    n = args.recipients
    run = "run 2" if crash else "run 1"
    how = "SIGKILL half-way, restart" if crash else "uninterrupted"
    print(f"\n== {run}: broadcast to {n:,} voters, {how} ==", flush=True)
    audience = Audience.of(n)
    db_path = await setup_run(workdir, audience)
    broadcast_id, _ = await queue_broadcast(db_path)
    if args.broken == "rows":
        await break_rows(db_path, broadcast_id, audience)
    server = audience.fake(args.latency)
    bot = BotProcess(workdir, db_path, args.rate, args.dispatcher_break)
    kill: KillReport | None = None
    try:
        await server.start()
        bot.api_url = server.base_url
        began = time.monotonic()
        bot.start()
        if crash:
            kill = await crash_half_way(db_path, server, bot, n, args.rate)
            await asyncio.sleep(1.0)
            bot.start()
        timed_out = not await wait_done(db_path, server, bot, broadcast_id, args.rate, run)
        status = await bot.terminate()
        stats = await server.stats(chats=True)
        rows = await query(
            db_path,
            "SELECT chat_id, state, reason FROM outbox WHERE broadcast_id = ?",
            (broadcast_id,),
        )
    finally:
        await bot.terminate()
        await server.stop()
    seconds = time.monotonic() - began
    rate = Rate.of(stats, args.rate, audience.blocked_share)
    rate.print()
    if crash and rate.span > rate.longest_pause > 0:
        gap = rate.longest_pause
        print(
            f"  restart gap            {gap:.1f} s without deliveries (kill, restart, start-up) "
            f"is inside the span above; without it: {rate.delivered / (rate.span - gap):.2f} "
            "msg/s"
        )
    tally = account(audience, rows, stats["delivered"], stats["refused"])
    print_accounting(tally)
    calls = ", ".join(f"{m} {c:,}" for m, c in sorted(stats["methods"].items()))
    print(f"  Bot API calls          {calls}")
    print(f"  wall time              {seconds:.0f} s (setup excluded); bot exit status {status}")
    print_logs(bot)
    check_accounting(checks, run, tally, timed_out, duplicates_allowed=crash)
    if kill is not None:
        check_crash_duplicates(checks, run, tally, kill)
    else:
        ratio = rate.per_second / rate.deliverable if rate.deliverable else 0.0
        checks.add(
            ratio >= RATE_TARGET,
            f"{run} rate",
            f"delivered {rate.per_second:.2f} msg/s = {ratio:.1%} of cap x (1 - "
            f"{rate.blocked_share:.1%} blocked) = {rate.deliverable:.2f}, target >= "
            f"{RATE_TARGET:.0%} (send calls {rate.calls_per_second / rate.cap:.1%} of cap)",
        )


def check_crash_duplicates(checks: Checks, run: str, a: Accounting, kill: KillReport) -> None:
    """Duplicates only where a send was in flight at the kill, and no more of them."""
    in_flight = kill.in_flight
    outside = [c for c in a.duplicated if c not in in_flight]
    answering = sum(1 for c in a.duplicated if c in kill.answering)
    extra_allowed = sum(in_flight.values())
    checks.add(
        not outside and a.extra_messages <= extra_allowed,
        f"{run} duplicated",
        f"{len(a.duplicated)} voters delivered more than once (+{a.extra_messages} messages; "
        f"{answering} of them answered just before the kill), target <= {extra_allowed} sends "
        f"in flight at the kill by the fake's record (the claimed batch was {kill.claimed}), "
        f"all of them among those; duplicated without a send in flight "
        f"{len(outside)}{_some(outside)}",
    )


# --- run 3: reply latency ----------------------------------------------------------------


def probe_script() -> list[tuple[str, str, str]]:
    """One probe voter's cycle, (step, text, tap data): every step writes the draft and the
    conversation's state (OpinionService.save / discard) before it answers."""
    from bot.runtime.buttons.opinion import OpinionCategory

    return [
        ("/opinion", "/opinion", ""),
        ("category", "", OpinionCategory(code="traffic").pack()),
        ("text", OPINION_TEXT, ""),
        ("/cancel", "/cancel", ""),
    ]


def expected_replies() -> dict[str, tuple[str, str | None]]:
    """step -> (the reply's method, a button it must carry; None: no buttons at all)."""
    from bot.runtime.buttons.opinion import OpinionCancel, OpinionCategory, OpinionPhotosDone

    return {
        "/opinion": ("sendMessage", OpinionCategory(code="traffic").pack()),
        "category": ("editMessageText", OpinionCancel().pack()),
        "text": ("sendMessage", OpinionPhotosDone().pack()),
        "/cancel": ("sendMessage", None),
    }


def as_expected(sample: dict[str, Any], expected: dict[str, tuple[str, str | None]]) -> bool:
    method, button = expected[sample["step"]]
    buttons = sample["buttons"]
    return sample["method"] == method and (button in buttons if button else not buttons)


class Probes:
    """The probe voters walk the script, each a step every `interval` seconds (staggered);
    a voter's place in the script carries over from one phase to the next."""

    def __init__(self, server: FakeServer, chats: list[int], interval: float) -> None:
        self.server = server
        self.chats = chats
        self.interval = interval
        self.script = probe_script()
        self.place = dict.fromkeys(chats, 0)
        self.stop = asyncio.Event()

    async def phase(self, count: int, tag: str) -> int:
        """`count` steps in all; returns how many were injected (fewer if stopped)."""
        self.stop.clear()
        shares = [
            count // len(self.chats) + (i < count % len(self.chats)) for i in range(len(self.chats))
        ]
        done = await asyncio.gather(
            *(
                self._walk(i, chat, share, tag)
                for i, (chat, share) in enumerate(zip(self.chats, shares, strict=True))
            )
        )
        return sum(done)

    async def cycles(self, tag: str) -> int:
        """Every voter through one whole cycle (the warm-up)."""
        return await self.phase(len(self.script) * len(self.chats), tag)

    async def _walk(self, index: int, chat: int, steps: int, tag: str) -> int:
        await asyncio.sleep(self.interval * index / len(self.chats))
        start = time.monotonic()
        for i in range(steps):
            if self.stop.is_set():
                return i
            step, text, data = self.script[self.place[chat] % len(self.script)]
            self.place[chat] += 1
            await self.server.inject(chat, step=step, tag=tag, text=text, data=data)
            delay = start + (i + 1) * self.interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        return steps


async def wait_replies(server: FakeServer, expected: int, within: float = 15.0) -> dict[str, Any]:
    """The fake's probe records once `expected` steps are answered, refused or given up."""
    deadline = time.monotonic() + within
    replies = await server.replies()
    while (
        len(replies["samples"]) + len(replies["refused"]) + len(replies["unanswered"]) < expected
        and time.monotonic() < deadline
    ):
        await asyncio.sleep(0.2)
        replies = await server.replies()
    return replies


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summary(values: list[float]) -> str:
    """Percentiles of latencies in milliseconds, for one line."""
    return (
        f"p50 {percentile(values, 50):6.1f} ms  p90 {percentile(values, 90):6.1f} ms  "
        f"p99 {percentile(values, 99):6.1f} ms  max {max(values):6.1f} ms"
    )


async def run_latency(workdir: Path, args: argparse.Namespace, checks: Checks) -> None:
    """Run 3: the probes' reply latency without a broadcast (the baseline), then during one.
    The bot is stopped once the probes are done; the broadcast is not waited for."""
    n = args.latency_recipients
    print(
        f"\n== run 3: reply latency of a writing probe, without and during a broadcast to "
        f"{n:,} voters ==",
        flush=True,
    )
    audience = Audience.of(n, probes=args.probe_voters)
    db_path = await setup_run(workdir, audience)
    server = audience.fake(args.latency)
    bot = BotProcess(workdir, db_path, args.rate, args.dispatcher_break)
    probes = Probes(server, audience.probes, args.probe_interval)
    sent: dict[str, int] = {}
    unblocked = n - len(audience.blocked)
    try:
        await server.start()
        bot.api_url = server.base_url
        bot.start()
        await wait_ready(bot, server)
        await asyncio.sleep(2.0)  # let start-up settle
        # one cycle per voter first, not counted: the first steps run cold code paths
        sent["warm-up"] = await probes.cycles("warm-up")
        sent["idle"] = await probes.phase(args.probes, "idle")
        await wait_replies(server, sent["warm-up"] + sent["idle"])

        await queue_broadcast(db_path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (await server.stats())["ok_to_voters"] >= WARM_UP_BROADCAST:
                break
            await asyncio.sleep(0.1)

        async def watch() -> None:
            """Stop the probes if the broadcast ends first: they must all fall within it."""
            while not probes.stop.is_set():
                if (await server.stats())["ok_to_voters"] >= unblocked:
                    probes.stop.set()
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(watch())
        sent["broadcast"] = await probes.phase(args.probes, "broadcast")
        probes.stop.set()
        await watcher
        replies = await wait_replies(server, sum(sent.values()))
        during = (await server.stats())["ok_to_voters"]
        status = await bot.terminate()
        states = await outbox_states(db_path)
    finally:
        await bot.terminate()
        await server.stop()

    print(
        f"  probe                  {args.probe_voters} voters (notices off), each a step every "
        f"{args.probe_interval:g} s: /opinion, tap a category, the text, /cancel; every step "
        "writes the draft and its state. Latency: from the update going on the fake's queue "
        "to the reply (sendMessage / editMessageText) arriving at the fake"
    )
    expected = expected_replies()
    p99: dict[str, float] = {}
    faults: list[str] = []
    for tag, label in (("idle", "no broadcast"), ("broadcast", "during broadcast")):
        samples = [s for s in replies["samples"] if s["tag"] == tag]
        refused = sum(1 for r in replies["refused"] if r["tag"] == tag)
        unanswered = sum(1 for r in replies["unanswered"] + replies["awaiting"] if r["tag"] == tag)
        odd = sum(1 for s in samples if not as_expected(s, expected))
        values = [s["seconds"] * 1000 for s in samples]
        if len(samples) != sent[tag] or refused or odd:
            faults.append(
                f"{label}: {len(samples)}/{sent[tag]} answered, {refused} replies refused with "
                f"429, {unanswered} never answered, {odd} not the expected reply"
            )
        if not values:
            print(f"  {label:<22} no replies to {sent[tag]} steps")
            continue
        p99[tag] = percentile(values, 99)
        print(f"  {label:<22} {len(values)}/{sent[tag]} replies  {summary(values)}")
        by_step: dict[str, list[float]] = defaultdict(list)
        for s in samples:
            by_step[s["step"]].append(s["seconds"] * 1000)
        print(
            "  "
            + " " * 23
            + "p99 by step: "
            + ", ".join(f"{k} {percentile(v, 99):.0f} ms" for k, v in by_step.items())
        )
    still_running = during < unblocked
    print(
        f"  broadcast progress     {during:,} of {unblocked:,} deliverable delivered when the "
        f"last probe was answered; outbox at the stop: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(states.items()))
    )
    print(f"  bot exit status        {status}")
    print_logs(bot)
    if not still_running:
        faults.append("the broadcast ended before the probes did")
    if replies["unsolicited"]:
        faults.append(f"{replies['unsolicited']} replies to the probes nobody asked for")
    checks.add(
        not faults and min(sent["idle"], sent["broadcast"]) >= args.probes,
        "run 3 probes",
        f"{sent['idle']} + {sent['broadcast']} writing steps, each answered as expected, "
        "all during the broadcast" + ("; " + "; ".join(faults) if faults else ""),
    )
    if "idle" in p99 and "broadcast" in p99:
        ratio = p99["broadcast"] / p99["idle"]
        checks.add(
            ratio < LATENCY_RATIO,
            "run 3 latency",
            f"reply p99 {p99['broadcast']:.0f} ms during the broadcast / {p99['idle']:.0f} ms "
            f"without (baseline, same run) = {ratio:.2f}, target < {LATENCY_RATIO:g}",
        )
    else:
        checks.add(False, "run 3 latency", "no replies to measure")


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


def break_kinds() -> dict[str, str]:
    """--break kinds and what each breaks: the dispatcher's, and the bench's own `rows`."""
    from bench._broadcast_bot import KINDS

    return {
        **KINDS,
        "rows": "the bench deletes one voter's outbox row and adds one for a non-voter",
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options; --break rows is done by the bench, the other kinds by the bot."""
    kinds = break_kinds()
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_broadcast",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<9} {v}" for k, v in kinds.items()),
    )
    parser.add_argument("--recipients", type=int, default=22_000, help="voters in runs 1 and 2")
    parser.add_argument(
        "--latency-recipients", type=int, default=22_000, help="voters in run 3's broadcast"
    )
    parser.add_argument("--rate", type=float, default=25.0, help="JIAZHAN_OUTBOX_RATE")
    parser.add_argument("--latency", type=float, default=LATENCY, help="seconds per call")
    parser.add_argument(
        "--probes", type=int, default=1000, help="probe steps (latency samples) per phase"
    )
    parser.add_argument("--probe-voters", type=int, default=5, help="probe voters in run 3")
    parser.add_argument(
        "--probe-interval",
        type=float,
        default=2.0,
        help="seconds between one probe voter's steps: 5 voters every 2 s make at most 3 "
        "replies in any second, which the cap leaves room for under the fake's 429 limit",
    )
    parser.add_argument("--runs", default="1,2,3", help="which runs, e.g. 1,3")
    parser.add_argument("--keep", action="store_true", help="keep the databases and bot logs")
    parser.add_argument(
        "--break",
        dest="broken",
        choices=sorted(kinds),
        default="",
        help="run deliberately broken, so the checks are seen to fail (see below)",
    )
    args = parser.parse_args(argv)
    args.runs = {int(r) for r in args.runs.split(",") if r.strip()}
    args.dispatcher_break = args.broken if args.broken != "rows" else ""
    if args.recipients < 400 or args.latency_recipients < 400:
        parser.error("--recipients and --latency-recipients must be >= 400")
    if args.probe_voters < 1 or args.probe_interval < 0.5:
        parser.error("--probe-voters >= 1 and --probe-interval >= 0.5 (the flood guard)")
    return args


async def main(argv: list[str] | None = None) -> int:
    """The runs chosen, each check as PASS/FAIL, and exit status 1 when any failed."""
    args = parse_args(argv)
    command = "python -m " + (
        f"bench._broadcast_bot {args.dispatcher_break}" if args.dispatcher_break else "bot"
    )
    print(
        f"fake Bot API on 127.0.0.1 (own process): {args.latency * 1000:.0f} ms per call, "
        f"429 above {SEND_LIMIT} send* calls in any second, 403 for the voters whose id "
        f"% {BLOCK_MODULO} == 0 (5 %); bot: `{command}`, JIAZHAN_OUTBOX_RATE={args.rate:g}, "
        f"code {code_version()}",
        flush=True,
    )
    if args.broken:
        print(
            f"BROKEN RUN (--break {args.broken}): {break_kinds()[args.broken]}; "
            "the checks guarding against it must FAIL",
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
        for number in sorted(args.runs):
            workdir = Path(tmp) / f"run{number}"
            try:
                if number == 3:
                    await run_latency(workdir, args, checks)
                elif number in (1, 2):
                    await run_broadcast(workdir, args, checks, crash=number == 2)
            except Exception as exc:  # report and go on with the next run
                print(f"  ERROR in run {number}: {exc!r}", flush=True)
                checks.add(False, f"run {number} completed", repr(exc))
    print("\n== summary ==" + (f" (--break {args.broken})" if args.broken else ""))
    for passed, name, detail in checks.lines:
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {detail}")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
