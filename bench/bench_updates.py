"""Update throughput of the real Application over a slow fake Bot API, next to bare PTB.

1,000 voters (a fifth of them new: /start from a station's QR code and consent first) go
through the real /opinion conversation, about 20,400 updates interleaved across chats at
random (seeded; each chat's own updates in order). PTB's own polling fetches them from the
fake Bot API, parsing included (`--feed queue`: parsed straight onto the update queue), while
every Bot API call takes 50 ms. The same stream then goes the same way to a plain PTB
Application with trivial handlers (reply to a message, answer a tap) at the same latency and
concurrency: the ceiling. Each run has a fresh SQLite file.

Run from the project root:  .venv/bin/python -m bench.bench_updates  (--help for options)
Every check prints PASS or FAIL; the exit status is 1 when one fails, 0 otherwise.
`--break KIND` injects a fault in the bench (never in the bot) to show a check failing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    SimpleUpdateProcessor,
    filters,
)

from bot.app import build_application, on_shutdown, on_startup
from bot.clock import FixedClock
from bot.demo.botapi import BOT_USER, FakeBotAPI, Refusal
from bot.runtime.buttons.opinion import (
    MyPage,
    OpinionCategory,
    OpinionName,
    OpinionPhotosDone,
    OpinionSend,
    OpinionSkipLocation,
)
from bot.runtime.buttons.start import Consent
from bot.runtime.processor import ChatOrderedUpdateProcessor, chat_key
from bot.services import Services, build_services
from bot.settings import Settings, load_settings
from storage import Database
from tests.support.world import SHANGHAI, STATIONS_CSV, TOKEN

START = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
FIRST_USER_ID = 200_000_001
LANGUAGE_CODE = "zh-hans"
# Every button a voter taps sits on one message of the bot's, registered with the fake
# before the run (the stream is built in advance, so the ids of the messages the bot will
# send are not known yet). Far above the ids the fake hands out itself.
ANCHOR_ID = 900_000_000
OPINION_TEXT = "小区门口的红绿灯时间太短，老人过马路来不及。"
OPINION_CATEGORY = "traffic"
WAIT_LIMIT_SECONDS = 300.0
GET_UPDATES_LIMIT = 100  # what PTB's polling asks for, and Telegram's maximum

# Send carries the draft's token, which exists only once /opinion has begun: the stream
# holds this placeholder, and the chat's turn fills in the token its client would show.
SEND = "<send>"

# What one voter does, in order: two opinions sent, /my in between, a list page, and a
# third opinion abandoned with /cancel. 20 updates.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("text", "/opinion"),
    ("tap", OpinionCategory(code=OPINION_CATEGORY).pack()),
    ("text", OPINION_TEXT),
    ("tap", OpinionPhotosDone().pack()),
    ("tap", OpinionSkipLocation().pack()),
    ("tap", OpinionName(show=False).pack()),
    ("tap", SEND),
    ("text", "/my"),
    ("text", "/opinion"),
    ("tap", OpinionCategory(code=OPINION_CATEGORY).pack()),
    ("text", OPINION_TEXT),
    ("tap", OpinionPhotosDone().pack()),
    ("tap", OpinionSkipLocation().pack()),
    ("tap", OpinionName(show=False).pack()),
    ("tap", SEND),
    ("tap", MyPage(page=0).pack()),
    ("text", "/opinion"),
    ("tap", OpinionCategory(code="environment").pack()),
    ("text", OPINION_TEXT),
    ("text", "/cancel"),
)


def first_time_script(station_id: int) -> tuple[tuple[str, str], ...]:
    """A new voter opens the station's QR link (/start st_<id>), agrees, then does SCRIPT."""
    link = f"st_{station_id}"
    return (("text", f"/start {link}"), ("tap", Consent(link=link).pack()), *SCRIPT)


# What --break can inject (in the bench only), and the check each one is there to fail.
BREAKS = {
    "drop": "the processor drops every 100th update without running it",
    "reorder": "every 100th update runs outside its chat's lock, 1 s late",
    "refuse": "the fake Bot API refuses every 200th sendMessage (400 can't parse entities)",
    "old-send": "every 10th voter's second Send taps the button of their first opinion",
    "lose-consent": "every 10th consent of a new voter is not stored",
    "slow": "every update waits 300 ms more inside its chat's lock",
}


# --- the update stream -------------------------------------------------------------------


def first_name(user_id: int) -> str:
    return f"选民{user_id - FIRST_USER_ID}"


def anchor_message(user_id: int, date: int) -> dict[str, Any]:
    return {
        "message_id": ANCHOR_ID,
        "date": date,
        "chat": {"id": user_id, "type": "private"},
        "from": BOT_USER,
        "text": "✅ 学院路第一联络站",
    }


def chat_updates(
    user_id: int, script: tuple[tuple[str, str], ...], date: int
) -> list[dict[str, Any]]:
    """One voter's updates in their order, without update ids yet."""
    sender = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name(user_id),
        "language_code": LANGUAGE_CODE,
    }
    updates: list[dict[str, Any]] = []
    for number, (kind, payload) in enumerate(script, 1):
        if kind == "text":
            message: dict[str, Any] = {
                "message_id": number,
                "date": date,
                "chat": {"id": user_id, "type": "private", "first_name": first_name(user_id)},
                "from": sender,
                "text": payload,
            }
            if payload.startswith("/"):
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(payload.split()[0])}
                ]
            updates.append({"message": message})
        else:
            query = {
                # the fake reads the chat from the part before "-"
                "id": f"{user_id}-{number}",
                "from": sender,
                "chat_instance": f"ci-{user_id}",
                "message": anchor_message(user_id, date),
                "data": payload,
            }
            updates.append({"callback_query": query})
    return updates


def interleave(chats: dict[int, list[dict[str, Any]]], seed: int) -> list[dict[str, Any]]:
    """A uniformly random interleaving of the chats' updates that keeps each chat's own
    order; update ids are given in queue order (1, 2, …)."""
    slots = [chat for chat, updates in chats.items() for _ in updates]
    random.Random(seed).shuffle(slots)
    cursors = {chat: iter(updates) for chat, updates in chats.items()}
    stream = []
    for update_id, chat in enumerate(slots, 1):
        data = next(cursors[chat])
        data["update_id"] = update_id
        stream.append(data)
    return stream


def sender_of(data: dict[str, Any]) -> int:
    body = data.get("message") or data["callback_query"]
    return int(body["from"]["id"])


def is_send(data: dict[str, Any]) -> bool:
    return bool(data.get("callback_query", {}).get("data") == SEND)


# --- the fake Bot API, serving the stream to PTB's polling ---------------------------------


class PollingFake(FakeBotAPI):
    """The strict fake, whose getUpdates hands out the stream as Telegram would: from the
    offset PTB confirms, at most `limit` at a time. With `refuse_every`, every n-th
    sendMessage is refused with Telegram's 400 (--break refuse)."""

    def __init__(self, latency: float, stream: list[dict[str, Any]], refuse_every: int = 0):
        super().__init__(latency=latency)
        self.stream = stream
        self.handed_out: dict[int, float] = {}
        self.refuse_every = refuse_every
        self._sends = 0

    def _getUpdates(self, params: dict[str, Any]) -> tuple[int, bytes]:
        offset = int(params.get("offset") or 1)
        limit = int(params.get("limit") or GET_UPDATES_LIMIT)
        batch = self.stream[max(offset, 1) - 1 : max(offset, 1) - 1 + limit]
        now = time.perf_counter()
        for data in batch:
            self.handed_out.setdefault(data["update_id"], now)
        return self._ok(batch)

    def _sendMessage(self, params: dict[str, Any]) -> tuple[int, bytes]:
        self._sends += 1
        if self.refuse_every and self._sends % self.refuse_every == 0:
            description = 'Bad Request: can\'t parse entities: unsupported start tag "x"'
            self.refusals.append(Refusal("sendMessage", params, description))
            return self._error(400, description)
        return super()._sendMessage(params)


# --- recording processors ----------------------------------------------------------------


@dataclass(slots=True)
class Record:
    chat: int | None
    update_id: int
    admitted: float  # do_process_update entered (PTB's semaphore held)
    started: float | None  # Application.process_update began (after any per-chat wait)
    finished: float


Resolve = Callable[[Update], Awaitable[Awaitable[Any] | None]]
Parent = Callable[[object, Awaitable[Any]], Awaitable[None]]


class Recorder:
    """Records one Record per update that reaches the processor's parent, in completion
    order, and counts every update handed to the processor (recorded or not); `done` is
    set once `expected` have been handed over and left. `resolve` may swap an update for
    another when its chat's turn comes (the Send token); `delay` is added inside the turn."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.records: list[Record] = []
        self.left = 0
        self.done = asyncio.Event()
        self.resolve: Resolve | None = None
        self.delay = 0.0

    def leave(self) -> None:
        self.left += 1
        if self.left >= self.expected:
            self.done.set()

    async def around(self, update: object, coroutine: Awaitable[Any], parent: Parent) -> None:
        admitted = time.perf_counter()
        started: float | None = None

        async def timed() -> None:
            nonlocal started
            started = time.perf_counter()
            if self.delay:
                await asyncio.sleep(self.delay)
            replacement = None
            if self.resolve is not None and isinstance(update, Update):
                replacement = await self.resolve(update)
            if replacement is None:
                await coroutine
                return
            if asyncio.iscoroutine(coroutine):
                coroutine.close()
            await replacement

        wrapped = timed()
        try:
            await parent(update, wrapped)
        finally:
            finished = time.perf_counter()
            if started is None:  # the parent dropped the update without running it
                wrapped.close()
                if asyncio.iscoroutine(coroutine):
                    coroutine.close()
            update_id = update.update_id if isinstance(update, Update) else -1
            self.records.append(Record(chat_key(update), update_id, admitted, started, finished))


async def unlocked(update: object, coroutine: Awaitable[Any]) -> None:
    """Runs an update with no regard to its chat (--break reorder)."""
    await coroutine


class Breaker:
    """The processor-side faults of --break, applied to the n-th update handed over."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self.handed = 0

    async def handle(
        self, update: object, coroutine: Awaitable[Any], recorder: Recorder, parent: Parent
    ) -> None:
        self.handed += 1
        try:
            if self.kind == "drop" and self.handed % 100 == 0:
                if asyncio.iscoroutine(coroutine):
                    coroutine.close()
                return
            if self.kind == "reorder" and self.handed % 100 == 0:
                await asyncio.sleep(1.0)
                await recorder.around(update, coroutine, unlocked)
                return
            await recorder.around(update, coroutine, parent)
        finally:
            recorder.leave()


class BenchChatOrderedProcessor(ChatOrderedUpdateProcessor):
    """The application's own processor, recorded around the parent's do_process_update."""

    def __init__(self, max_concurrent_updates: int, recorder: Recorder, breaker: Breaker):
        super().__init__(max_concurrent_updates)
        self.recorder = recorder
        self.breaker = breaker

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.breaker.handle(update, coroutine, self.recorder, super().do_process_update)


class BenchSimpleProcessor(SimpleUpdateProcessor):
    """PTB's own processor for the ceiling, recorded the same way (never broken)."""

    def __init__(self, max_concurrent_updates: int, recorder: Recorder) -> None:
        super().__init__(max_concurrent_updates)
        self.recorder = recorder
        self.breaker = Breaker(None)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.breaker.handle(update, coroutine, self.recorder, super().do_process_update)


# --- log watching ------------------------------------------------------------------------


class LogTally(logging.Handler):
    """Counts warnings and errors by logger and keeps the first few messages."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}"] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{record.levelname} {record.name}: {record.getMessage()[:160]}")

    def reset(self) -> None:
        self.counts.clear()
        self.samples.clear()


# --- runs ----------------------------------------------------------------------------------


@dataclass
class Run:
    """What one run measured."""

    name: str
    updates: int
    seconds: float
    records: list[Record]
    handed_out: dict[int, float]
    calls: Counter[str]
    timed_out: bool
    cpu_seconds: float  # process CPU time (every thread) from the start to done
    fed_seconds: float  # from the start until the last update was handed out

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def latency_ms(self) -> list[float]:
        return [(r.finished - self.handed_out[r.update_id]) * 1000 for r in self.records]

    def handling_ms(self) -> list[float]:
        return [(r.finished - r.started) * 1000 for r in self.records if r.started is not None]


@dataclass
class Plan:
    """The stream and the truth the bench built it from."""

    stream: list[dict[str, Any]]
    regulars: list[int]
    newcomers: dict[int, int]  # new voter -> the station of their QR link
    station_ids: list[int]
    sends: Counter[int] = field(default_factory=Counter)  # voter -> Send taps in the stream


def bench_settings(db_path: Path, max_concurrent: int | None) -> Settings:
    extra: dict[str, Any] = {}
    if max_concurrent is not None:
        extra["max_concurrent_updates"] = max_concurrent
    return load_settings(
        _env_file=None,
        bot_token=TOKEN,
        database_path=db_path,
        admin_ids=[1],
        daily_opinion_limit=1000,
        flood_max_updates=1_000_000,
        flood_window_seconds=1.0,
        **extra,
    )


async def import_stations(services: Services, workdir: Path) -> list[int]:
    csv_path = workdir / "stations.csv"
    csv_path.write_text(STATIONS_CSV, encoding="utf-8")
    report = await services.stations.import_csv(csv_path)
    if report.errors:
        raise RuntimeError(f"station import failed: {report.errors}")
    station_ids: list[int] = []
    for street in (await services.stations.streets(0, 100)).items:
        page = await services.stations.stations(street.id, 0, 100)
        station_ids.extend(s.id for s in page.items)
    return sorted(station_ids)


def plan_stream(users: int, new_share: float, station_ids: list[int], seed: int) -> Plan:
    """Regular voters (set up before the run) and new ones (whose row the run creates),
    every voter's updates in order, the chats interleaved at random."""
    user_ids = [FIRST_USER_ID + i for i in range(users)]
    new_count = round(users * new_share)
    newcomers = {
        user_id: station_ids[i % len(station_ids)]
        for i, user_id in enumerate(user_ids[users - new_count :])
    }
    regulars = user_ids[: users - new_count]
    date = int(START.timestamp())
    chats = {u: chat_updates(u, SCRIPT, date) for u in regulars}
    for user_id, station in newcomers.items():
        chats[user_id] = chat_updates(user_id, first_time_script(station), date)
    plan = Plan(interleave(chats, seed), regulars, newcomers, station_ids)
    plan.sends.update(sender_of(d) for d in plan.stream if is_send(d))
    return plan


async def prepare_regulars(services: Services, station_ids: list[int], voters: list[int]) -> None:
    """Voters who consented and chose a station, spread over the stations."""
    for index, user_id in enumerate(voters):
        await services.users.touch(user_id, LANGUAGE_CODE, first_name(user_id), None)
        voter = await services.users.consent(user_id, first_name(user_id))
        await services.users.choose_station(voter, station_ids[index % len(station_ids)])


async def feed_queue(app: Application, api: PollingFake) -> None:
    """--feed queue: parse the stream 100 updates at a time, as polling does, and put them
    on the update queue with no getUpdates round trip in between."""
    for start in range(0, len(api.stream), GET_UPDATES_LIMIT):
        batch = api.stream[start : start + GET_UPDATES_LIMIT]
        now = time.perf_counter()
        for data in batch:
            api.handed_out[data["update_id"]] = now
        for update in Update.de_list(batch, app.bot):
            app.update_queue.put_nowait(update)
        await asyncio.sleep(0)


async def drive(
    app: Application, api: PollingFake, recorder: Recorder, name: str, feed: str
) -> Run:
    """Start polling (or the queue feeder), wait until every update has been handed over
    and has left the processor, stop. The clock runs from the start to the last finish."""
    calls_before = Counter(c.method for c in api.calls)
    assert app.updater is not None
    first, cpu = time.perf_counter(), time.process_time()
    feeder = None
    if feed == "polling":
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
    else:
        feeder = asyncio.create_task(feed_queue(app, api))
    timed_out = False
    try:
        await asyncio.wait_for(recorder.done.wait(), WAIT_LIMIT_SECONDS)
    except TimeoutError:
        timed_out = True
    cpu = time.process_time() - cpu
    records = list(recorder.records)
    last = max((r.finished for r in records), default=first)
    if feeder is not None:
        await feeder
    else:
        await app.updater.stop()
    calls = Counter(c.method for c in api.calls) - calls_before
    fed = max(api.handed_out.values(), default=first) - first
    return Run(
        name, len(records), last - first, records, api.handed_out, calls, timed_out, cpu, fed
    )


async def run_bot(
    plan: Plan,
    workdir: Path,
    latency: float,
    max_concurrent: int | None,
    tally: LogTally,
    breaking: str | None,
    feed: str,
) -> tuple[Run, list[Check]]:
    """The real Application on a fresh database, then the checks on what it did."""
    await asyncio.to_thread(workdir.mkdir, parents=True)
    db = Database(workdir / "jiazhan.sqlite3")
    await db.connect()
    settings = bench_settings(db.path, max_concurrent)
    services = build_services(settings, db, FixedClock(START))
    station_ids = await import_stations(services, workdir)
    if station_ids != plan.station_ids:
        raise RuntimeError(f"stations {station_ids}, the stream links to {plan.station_ids}")
    await prepare_regulars(services, station_ids, plan.regulars)
    newcomer_rows_before = await count_users(db, list(plan.newcomers))

    api = PollingFake(latency, plan.stream, refuse_every=200 if breaking == "refuse" else 0)
    date = int(START.timestamp())
    for user_id in [*plan.regulars, *plan.newcomers]:
        api.messages[(user_id, ANCHOR_ID)] = anchor_message(user_id, date)

    recorder = Recorder(len(plan.stream))
    if breaking == "slow":
        recorder.delay = 0.3
    processor = BenchChatOrderedProcessor(
        settings.max_concurrent_updates, recorder, Breaker(breaking)
    )
    app = build_application(services, request=api, processor=processor)
    missing_send: list[int] = []
    first_send: dict[int, str] = {}

    async def fill_in_send(update: Update) -> Awaitable[Any] | None:
        """The Send tap with the data of the Send button the voter's chat shows: the bot
        edits the one message every tap is on into the preview."""
        query = update.callback_query
        if query is None or query.data != SEND or query.from_user is None:
            return None
        voter = query.from_user.id
        shown = api.messages[(voter, ANCHOR_ID)].get("reply_markup", {})
        sends = [
            button["callback_data"]
            for row in shown.get("inline_keyboard", [])
            for button in row
            if str(button.get("callback_data", "")).startswith(OpinionSend.prefix + ":")
        ]
        if not sends:
            missing_send.append(voter)
            return None  # the placeholder goes through and is refused as a stale button
        data = sends[0]
        if voter not in first_send:
            first_send[voter] = data
        elif breaking == "old-send" and (voter - FIRST_USER_ID) % 10 == 0:
            data = first_send[voter]  # an outdated message's button
        as_dict = update.to_dict()
        as_dict["callback_query"]["data"] = data
        return app.process_update(Update.de_json(as_dict, app.bot))

    recorder.resolve = fill_in_send
    if breaking == "lose-consent":
        lose_every_tenth_consent(services)
    await app.initialize()
    await on_startup(app)  # as bot/__main__.py does: command menus, outbox dispatcher
    await app.start()
    tally.reset()
    run = await drive(app, api, recorder, "this bot (chat-ordered)", feed)
    await on_shutdown(app)
    await app.stop()
    await app.shutdown()
    logged = dict(tally.counts), list(tally.samples)

    checks = [
        check_recorded(plan, run),
        check_order(plan, run),
        Check(
            "no warning or error logged",
            not logged[0],
            f"{sum(logged[0].values())} records: {logged[0]}; first: {logged[1][:2]}"
            if logged[0]
            else "none",
        ),
        check_alerts(api),
        await check_opinions(db, plan, missing_send),
        await check_newcomers(db, plan, newcomer_rows_before),
        Check(
            "the fake Bot API refused no call",
            not api.refusals,
            f"{len(api.refusals)} refused, e.g. {api.refusals[0].description!r}"
            if api.refusals
            else "none refused",
        ),
    ]
    await db.close()
    return run, checks


def lose_every_tenth_consent(services: Services) -> None:
    """--break lose-consent: every 10th consent given during the run is not stored."""
    users = services.users
    real_consent = users.consent
    given = itertools.count(1)

    async def lossy(
        telegram_id: int,
        full_name: str = "",
        username: str | None = None,
        locale: str | None = None,
    ) -> Any:
        if next(given) % 10 == 0:
            return await users.get(telegram_id)
        return await real_consent(telegram_id, full_name, username, locale)

    users.consent = lossy  # type: ignore[method-assign]


async def run_ceiling(
    plan: Plan, latency: float, max_concurrent: int, tally: LogTally, feed: str
) -> tuple[Run, list[Check]]:
    """A plain PTB Application with trivial handlers on the same stream, fake, latency and
    concurrency: what PTB itself manages, the ceiling for this bot."""
    api = PollingFake(latency, plan.stream)
    recorder = Recorder(len(plan.stream))
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(api)
        .get_updates_request(api)
        .concurrent_updates(BenchSimpleProcessor(max_concurrent, recorder))
        .build()
    )

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("好的")

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()

    app.add_handler(MessageHandler(filters.ALL, reply))
    app.add_handler(CallbackQueryHandler(answer))
    await app.initialize()
    await app.start()
    tally.reset()
    run = await drive(app, api, recorder, "bare PTB, trivial handlers", feed)
    await app.stop()
    await app.shutdown()
    handled = {r.update_id for r in run.records if r.started is not None}
    check = Check(
        "ceiling run handled every update, quietly",
        len(handled) == len(plan.stream) and not tally.counts and not api.refusals,
        f"{len(handled)} of {len(plan.stream)} handled; logged {dict(tally.counts)}; "
        f"{len(api.refusals)} refused",
    )
    return run, [check]


# --- checks ------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


async def count_users(db: Database, user_ids: list[int]) -> int:
    if not user_ids:
        return 0
    marks = ",".join("?" * len(user_ids))
    return int(
        await db.scalar(f"SELECT count(*) FROM users WHERE telegram_id IN ({marks})", user_ids) or 0
    )


def check_recorded(plan: Plan, run: Run) -> Check:
    """Every update handed out was run by the application exactly once."""
    ran = Counter(r.update_id for r in run.records if r.started is not None)
    dropped = sum(1 for r in run.records if r.started is None)
    queued = {d["update_id"] for d in plan.stream}
    missing = queued - set(ran)
    twice = [u for u, n in ran.items() if n > 1]
    passed = not missing and not twice and not dropped and not run.timed_out
    detail = (
        f"{len(ran)} of {len(queued)} updates ran; {len(missing)} never ran"
        + (f" (e.g. {sorted(missing)[:5]})" if missing else "")
        + f"; {len(twice)} ran twice; {dropped} dropped by the processor"
        + ("; TIMED OUT" if run.timed_out else "")
    )
    return Check("every queued update recorded exactly once", passed, detail)


def check_order(plan: Plan, run: Run) -> Check:
    """Per chat, the completion order equals the queue order, one update at a time (an
    update starting before the chat's previous one finished is a violation)."""
    queued: dict[int, list[int]] = defaultdict(list)
    for data in plan.stream:
        queued[sender_of(data)].append(data["update_id"])
    finished: dict[int | None, list[Record]] = defaultdict(list)
    for record in run.records:  # already in completion order
        finished[record.chat].append(record)
    broken = []
    for chat, ids in queued.items():
        done = [r.update_id for r in finished.get(chat, [])]
        ran = set(done)
        if done != [u for u in ids if u in ran]:  # order among those that ran
            broken.append(chat)
    overlaps = 0
    for chat_records in finished.values():
        for before, after in itertools.pairwise(chat_records):
            if after.started is not None and after.started < before.finished:
                overlaps += 1
    return Check(
        "order kept in every chat",
        not broken and not overlaps,
        f"{len(broken)} chats finished out of queue order"
        + (f" (e.g. {broken[:3]})" if broken else "")
        + f"; {overlaps} updates started before their chat's previous one finished",
    )


def check_alerts(api: FakeBotAPI) -> Check:
    alerts = [o.text for o in api.outputs if o.kind == "alert" and o.text]
    return Check(
        "no button alert shown",
        not alerts,
        f"{len(alerts)} alerts, e.g. {alerts[0][:60]!r}" if alerts else "none",
    )


async def check_opinions(db: Database, plan: Plan, missing_send: list[int]) -> Check:
    """One opinion stored per Send tap of each voter in the stream, with what they typed."""
    rows = await db.fetchall(
        "SELECT author_id, count(*), sum(text = ? AND category = ?) FROM opinions"
        " GROUP BY author_id",
        (OPINION_TEXT, OPINION_CATEGORY),
    )
    stored = Counter({int(r[0]): int(r[1]) for r in rows})
    as_typed = sum(int(r[2]) for r in rows)
    wrong = [v for v in set(stored) | set(plan.sends) if stored[v] != plan.sends[v]]
    total, expected = sum(stored.values()), sum(plan.sends.values())
    passed = not wrong and as_typed == total and not missing_send
    return Check(
        "one opinion stored per Send in the stream",
        passed,
        f"{total} stored for {expected} Send taps; {len(wrong)} voters with another count"
        + (f" (e.g. {wrong[:3]})" if wrong else "")
        + f"; {total - as_typed} not as typed; {len(missing_send)} Sends found no button",
    )


async def check_newcomers(db: Database, plan: Plan, rows_before: int) -> Check:
    """Each new voter's users row was created in the run, with the consent, the name
    allowed by it and the station of the QR link they opened."""
    ids = list(plan.newcomers)
    marks = ",".join("?" * len(ids)) or "NULL"
    rows = await db.fetchall(
        f"SELECT telegram_id, consent_at, full_name, station_id FROM users"
        f" WHERE telegram_id IN ({marks})",
        ids,
    )
    found = {int(r[0]): r for r in rows}
    bad = [
        user_id
        for user_id, station in plan.newcomers.items()
        if user_id not in found
        or found[user_id][1] is None
        or found[user_id][2] != first_name(user_id)
        or found[user_id][3] != station
    ]
    return Check(
        "new voters' users rows written in the run",
        rows_before == 0 and not bad,
        f"{len(ids)} new voters: {rows_before} rows before the run, {len(found)} after, "
        f"{len(bad)} without consent, name or the QR station"
        + (f" (e.g. {bad[:3]})" if bad else ""),
    )


# --- report ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def print_table(runs: list[Run]) -> None:
    header = (
        f"{'run':<28} {'updates':>7} {'seconds':>8} {'updates/s':>9} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'handle p50':>10} {'handle p99':>10} {'calls/update':>12} "
        f"{'CPU ms/update':>13}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        latency, handling = r.latency_ms(), r.handling_ms()
        replies = sum(n for m, n in r.calls.items() if m != "getUpdates")
        cpu_ms = r.cpu_seconds * 1000 / max(r.updates, 1)
        print(
            f"{r.name:<28} {r.updates:>7} {r.seconds:>8.2f} {r.rate:>9.1f} "
            f"{percentile(latency, 50):>7.0f} {percentile(latency, 99):>7.0f} "
            f"{percentile(handling, 50):>10.0f} {percentile(handling, 99):>10.0f} "
            f"{replies / max(r.updates, 1):>12.2f} {cpu_ms:>13.2f}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_updates",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<13} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--users", type=int, default=1000, help="voters (default 1000)")
    parser.add_argument(
        "--new-share",
        type=float,
        default=0.2,
        help="share of the voters who are new: /start from a QR link, consent (default 0.2)",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Bot API call")
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        help="max_concurrent_updates of both runs (default: the setting's default)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the interleaving")
    parser.add_argument(
        "--min-rate",
        type=float,
        default=510.0,
        help="the check's floor for this bot's updates/s (default 510; 0 for none)",
    )
    parser.add_argument(
        "--feed",
        choices=("polling", "queue"),
        default="polling",
        help="polling: PTB's getUpdates loop over the fake (default); queue: parsed 100 at a "
        "time straight onto the update queue, no getUpdates round trips",
    )
    parser.add_argument("--skip-ceiling", action="store_true", help="no bare PTB run")
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    began = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    args = parse_args(argv)
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    logging.getLogger().setLevel(logging.WARNING)

    # the import numbers the sample's stations from 1 (run_bot checks it)
    station_ids = list(range(1, len(STATIONS_CSV.strip().splitlines())))
    plan = plan_stream(args.users, args.new_share, station_ids, args.seed)
    parse_began = time.perf_counter()
    Update.de_list(plan.stream, None)
    parse_seconds = time.perf_counter() - parse_began
    concurrency = bench_settings(Path("unused"), args.max_concurrent).max_concurrent_updates
    print(
        f"fake Bot API latency {args.latency * 1000:.0f} ms per call, getUpdates included; "
        f"{len(plan.regulars)} voters x {len(SCRIPT)} updates + {len(plan.newcomers)} new "
        f"voters x {len(SCRIPT) + 2} = {len(plan.stream)} updates, chats interleaved at "
        f"random (seed {args.seed}), "
        + (
            f"fetched by PTB's polling {GET_UPDATES_LIMIT} at a time"
            if args.feed == "polling"
            else f"parsed {GET_UPDATES_LIMIT} at a time straight onto the update queue"
        )
        + f"; max_concurrent_updates {concurrency}"
    )
    if args.breaking:
        print(f"BREAK {args.breaking}: {BREAKS[args.breaking]}")
    with tempfile.TemporaryDirectory(prefix="jiazhan-bench-") as tmp:
        ours, checks = await run_bot(
            plan,
            Path(tmp) / "bot",
            args.latency,
            args.max_concurrent,
            tally,
            args.breaking,
            args.feed,
        )
    runs = [ours]
    if not args.skip_ceiling:
        ceiling, ceiling_checks = await run_ceiling(
            plan, args.latency, concurrency, tally, args.feed
        )
        runs.append(ceiling)
        checks.extend(ceiling_checks)
    if args.min_rate:
        checks.append(
            Check(
                f"this bot handles at least {args.min_rate:.0f} updates/s",
                ours.rate >= args.min_rate,
                f"{ours.rate:.1f} updates/s",
            )
        )

    print()
    print_table(runs)
    print()
    print(
        "timed from the start of the feed to the last update done, so the parsing (and with "
        "polling, getUpdates) is in it\n"
        f"(Update.de_json of the whole stream alone: {parse_seconds:.2f} s);\n"
        "p50/p99: handed out -> done; handle: Application.process_update start "
        "-> done;\ncalls/update: Bot API calls other than getUpdates; CPU: the process's, fake "
        "Bot API included.\n"
        f"load average (1 min) at start {load_at_start:.2f}, at the end {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} CPUs: figures drop when other work shares the machine."
    )
    for r in runs:
        print(
            f"{r.name}: the last update was handed out after {r.fed_seconds:.1f} s of "
            f"{r.seconds:.1f} s; calls {dict(r.calls.most_common())}"
        )
    waited = sum(1 for r in ours.records if r.started and r.started - r.admitted > 0.001)
    print(
        f"{waited} updates of this bot waited for their chat's previous update (another of "
        "the chat's updates was in hand when they were admitted)"
    )
    if not args.skip_ceiling:
        print(
            f"this bot {ours.rate:.1f} updates/s, ceiling (bare PTB) {runs[1].rate:.1f} "
            f"updates/s, ratio {ours.rate / runs[1].rate:.2f}"
        )
        if runs[1].fed_seconds > 0.9 * runs[1].seconds:
            print(
                "NOTE: the ceiling run was bound by its feed (the last update was handed out "
                "just before the end), not by PTB's handling; --feed queue takes the getUpdates "
                "round trips out."
            )
    print()
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    print(f"total benchmark time {time.perf_counter() - began:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
