"""Update throughput of the real Application over a slow fake Bot API.

20,000 updates from 1,000 voters go through the real /opinion conversation, interleaved
round-robin on `app.update_queue` as polling would put them, while every Bot API call takes
50 ms. The same stream shape is then fed to PTB's sequential processing
(`SimpleUpdateProcessor(1)`) as the baseline, on a subset because it manages only ~10-20
updates/s. Each run has a fresh SQLite file in a temporary directory.

Run from the project root:  .venv/bin/python -m bench.bench_updates  (--help for options)
Exit status 1 when a chat's updates finished out of order in the concurrent run; 2 when a
run's sanity checks fail (updates lost or dropped, handler errors or warnings logged, button
alerts shown, wrong number of opinions stored); 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
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
from telegram.ext import BaseUpdateProcessor, SimpleUpdateProcessor

from bot.app import build_application, on_shutdown, on_startup
from bot.clock import FixedClock
from bot.runtime.buttons.opinion import (
    MyPage,
    OpinionCategory,
    OpinionName,
    OpinionPhotosDone,
    OpinionSend,
    OpinionSkipLocation,
)
from bot.runtime.processor import ChatOrderedUpdateProcessor, chat_key
from bot.services import Services, build_services
from bot.settings import Settings, load_settings
from storage import Database
from tests.support.botapi import BOT_USER, FakeBotAPI
from tests.support.world import SHANGHAI, STATIONS_CSV, TOKEN

START = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
FIRST_USER_ID = 200_000_001
LANGUAGE_CODE = "zh-hans"
# Every button a voter taps sits on one message of the bot's, registered with the fake
# before the run (the stream is built in advance, so the ids of the messages the bot will
# send are not known yet). Far above the ids the fake hands out itself.
ANCHOR_ID = 900_000_000
OPINION_TEXT = "小区门口的红绿灯时间太短，老人过马路来不及。"
WAIT_LIMIT_SECONDS = 300.0

# Send carries the draft's token, which exists only once /opinion has begun: the stream
# holds this placeholder, and the chat's turn fills in the token its client would show.
SEND = "<send>"

# What one voter does, in order: two opinions sent, /my in between, a list page, and a
# third opinion abandoned with /cancel. 20 updates.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("text", "/opinion"),
    ("tap", OpinionCategory(code="traffic").pack()),
    ("text", OPINION_TEXT),
    ("tap", OpinionPhotosDone().pack()),
    ("tap", OpinionSkipLocation().pack()),
    ("tap", OpinionName(show=False).pack()),
    ("tap", SEND),
    ("text", "/my"),
    ("text", "/opinion"),
    ("tap", OpinionCategory(code="traffic").pack()),
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


def build_stream(user_ids: list[int], date: int) -> list[dict[str, Any]]:
    """Round-robin: step 1 of every user, then step 2 of every user, … Update ids grow in
    queue order, so within a chat the queue order is ascending update id."""
    update_ids = itertools.count(1)
    message_ids = {u: itertools.count(1) for u in user_ids}
    query_ids = {u: itertools.count(1) for u in user_ids}
    stream: list[dict[str, Any]] = []
    for kind, payload in SCRIPT:
        for user_id in user_ids:
            sender = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name(user_id),
                "language_code": LANGUAGE_CODE,
            }
            if kind == "text":
                message: dict[str, Any] = {
                    "message_id": next(message_ids[user_id]),
                    "date": date,
                    "chat": {"id": user_id, "type": "private", "first_name": first_name(user_id)},
                    "from": sender,
                    "text": payload,
                }
                if payload.startswith("/"):
                    message["entities"] = [
                        {"type": "bot_command", "offset": 0, "length": len(payload.split()[0])}
                    ]
                stream.append({"update_id": next(update_ids), "message": message})
            else:
                query = {
                    # the fake reads the chat from the part before "-"
                    "id": f"{user_id}-{next(query_ids[user_id])}",
                    "from": sender,
                    "chat_instance": f"ci-{user_id}",
                    "message": anchor_message(user_id, date),
                    "data": payload,
                }
                stream.append({"update_id": next(update_ids), "callback_query": query})
    return stream


def _sender(data: dict[str, Any]) -> int:
    body = data.get("message") or data["callback_query"]
    return int(body["from"]["id"])


# --- recording processors ----------------------------------------------------------------


@dataclass(slots=True)
class Record:
    chat: int | None
    update_id: int
    admitted: float  # do_process_update entered (PTB's semaphore held)
    started: float | None  # Application.process_update began (after any per-chat wait)
    finished: float


Resolve = Callable[[Update], Awaitable[Awaitable[Any] | None]]


class Recorder:
    """Collects one Record per update, in completion order; `done` is set after `expected`.
    `resolve` may swap an update for another when its chat's turn comes (the Send token)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.records: list[Record] = []
        self.done = asyncio.Event()
        self.resolve: Resolve | None = None

    async def around(
        self,
        update: object,
        coroutine: Awaitable[Any],
        parent: Callable[[object, Awaitable[Any]], Awaitable[None]],
    ) -> None:
        admitted = time.perf_counter()
        started: float | None = None

        async def timed() -> None:
            nonlocal started
            started = time.perf_counter()
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
            if len(self.records) >= self.expected:
                self.done.set()


class RecordingChatOrderedProcessor(ChatOrderedUpdateProcessor):
    """The application's own processor, recording around the parent's do_process_update."""

    def __init__(self, max_concurrent_updates: int, recorder: Recorder) -> None:
        super().__init__(max_concurrent_updates)
        self.recorder = recorder

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.recorder.around(update, coroutine, super().do_process_update)


class RecordingSimpleProcessor(SimpleUpdateProcessor):
    """PTB's default processor, recording around the parent's do_process_update."""

    def __init__(self, max_concurrent_updates: int, recorder: Recorder) -> None:
        super().__init__(max_concurrent_updates)
        self.recorder = recorder

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.recorder.around(update, coroutine, super().do_process_update)


ProcessorFactory = Callable[[Settings, Recorder], BaseUpdateProcessor]


def chat_ordered(settings: Settings, recorder: Recorder) -> BaseUpdateProcessor:
    return RecordingChatOrderedProcessor(settings.max_concurrent_updates, recorder)


def sequential(settings: Settings, recorder: Recorder) -> BaseUpdateProcessor:
    return RecordingSimpleProcessor(1, recorder)


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
            self.samples.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    def reset(self) -> None:
        self.counts.clear()
        self.samples.clear()


# --- one run -----------------------------------------------------------------------------


@dataclass
class Result:
    mode: str
    updates: int
    seconds: float
    latency_ms: list[float]
    handling_ms: list[float]
    order_kept: bool
    api_calls: int
    parse_seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


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


async def prepare_users(services: Services, workdir: Path, user_ids: list[int]) -> None:
    """Voters who consented and chose a station, spread over the imported stations."""
    csv_path = workdir / "stations.csv"
    csv_path.write_text(STATIONS_CSV, encoding="utf-8")
    report = await services.stations.import_csv(csv_path)
    if report.errors:
        raise RuntimeError(f"station import failed: {report.errors}")
    station_ids: list[int] = []
    for street in (await services.stations.streets(0, 100)).items:
        page = await services.stations.stations(street.id, 0, 100)
        station_ids.extend(s.id for s in page.items)
    for index, user_id in enumerate(user_ids):
        await services.users.touch(user_id, LANGUAGE_CODE, first_name(user_id), None)
        voter = await services.users.consent(user_id)
        await services.users.choose_station(voter, station_ids[index % len(station_ids)])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def check_order(stream: list[dict[str, Any]], records: list[Record]) -> tuple[bool, list[str]]:
    """Per chat, the completion order must equal the queue order, one update at a time
    (an update starting before the chat's previous one finished counts as a violation)."""
    queued: dict[int, list[int]] = defaultdict(list)
    for data in stream:
        queued[_sender(data)].append(data["update_id"])
    finished: dict[int | None, list[Record]] = defaultdict(list)
    for record in records:  # already in completion order
        finished[record.chat].append(record)
    problems: list[str] = []
    kept = True
    for chat, ids in queued.items():
        done = [r.update_id for r in finished.get(chat, [])]
        if done != ids:
            kept = False
            if len(problems) < 3:
                problems.append(f"chat {chat}: queued {ids[:8]}… finished {done[:8]}…")
    overlaps = 0
    for chat_records in finished.values():
        for before, after in itertools.pairwise(chat_records):
            if after.started is not None and after.started < before.finished:
                overlaps += 1
    if overlaps:
        kept = False
        problems.append(f"{overlaps} updates started before the chat's previous one finished")
    return kept, problems


async def run_mode(
    mode: str,
    factory: ProcessorFactory,
    user_ids: list[int],
    stream_data: list[dict[str, Any]],
    workdir: Path,
    latency: float,
    tally: LogTally,
    max_concurrent: int | None = None,
) -> Result:
    await asyncio.to_thread(workdir.mkdir, parents=True)
    db = Database(workdir / "jiazhan.sqlite3")
    await db.connect()
    settings = bench_settings(db.path, max_concurrent)
    services = build_services(settings, db, FixedClock(START))
    await prepare_users(services, workdir, user_ids)

    api = FakeBotAPI(latency=latency)
    date = int(START.timestamp())
    for user_id in user_ids:
        api.messages[(user_id, ANCHOR_ID)] = anchor_message(user_id, date)

    recorder = Recorder(len(stream_data))
    app = build_application(services, request=api, processor=factory(settings, recorder))

    async def fill_in_send(update: Update) -> Awaitable[Any] | None:
        """The Send tap with the data of the Send button the voter's chat shows: the bot
        edits the one message every tap is on into the preview."""
        query = update.callback_query
        if query is None or query.data != SEND or query.from_user is None:
            return None
        shown = api.messages[(query.from_user.id, ANCHOR_ID)].get("reply_markup", {})
        sends = [
            button["callback_data"]
            for row in shown.get("inline_keyboard", [])
            for button in row
            if str(button.get("callback_data", "")).startswith(OpinionSend.prefix + ":")
        ]
        if not sends:
            missing_send.append(query.from_user.id)
            return None  # the placeholder goes through and is refused as a stale button
        data = update.to_dict()
        data["callback_query"]["data"] = sends[0]
        return app.process_update(Update.de_json(data, app.bot))

    missing_send: list[int] = []

    recorder.resolve = fill_in_send
    await app.initialize()
    await on_startup(app)  # as bot/__main__.py does: command menus, outbox dispatcher
    await app.start()
    tally.reset()
    calls_before = len(api.calls)

    began = time.perf_counter()
    updates = [Update.de_json(data, app.bot) for data in stream_data]
    parse_seconds = time.perf_counter() - began

    enqueued: dict[int, float] = {}
    first = time.perf_counter()
    for update in updates:
        enqueued[update.update_id] = time.perf_counter()
        app.update_queue.put_nowait(update)
    problems: list[str] = []
    try:
        await asyncio.wait_for(recorder.done.wait(), WAIT_LIMIT_SECONDS)
    except TimeoutError:
        problems.append(
            f"only {len(recorder.records)} of {len(stream_data)} updates finished "
            f"within {WAIT_LIMIT_SECONDS:.0f} s"
        )
    records = list(recorder.records)
    last = max((r.finished for r in records), default=first)
    api_calls = len(api.calls) - calls_before

    await on_shutdown(app)
    await app.stop()
    await app.shutdown()

    # sanity: nothing lost, nothing failed, every "send" stored an opinion
    seen = Counter(r.update_id for r in records)
    if len(seen) != len(stream_data) or any(n != 1 for n in seen.values()):
        problems.append(f"{len(seen)} distinct updates recorded for {len(stream_data)} queued")
    dropped = sum(1 for r in records if r.started is None)
    if dropped:
        problems.append(f"{dropped} updates dropped by the processor")
    sends = sum(1 for d in stream_data if d.get("callback_query", {}).get("data") == SEND)
    stored = await db.scalar("SELECT COUNT(*) FROM opinions")
    if stored != sends:
        problems.append(f"{stored} opinions stored for {sends} Send taps")
    if missing_send:
        problems.append(f"{len(missing_send)} Send taps found no Send button in the chat")
    if api.refusals:
        problems.append(f"{len(api.refusals)} calls refused by the fake Bot API")
    alerts = [o.text for o in api.outputs if o.kind == "alert" and o.text]
    if alerts:
        problems.append(f"{len(alerts)} button alerts, e.g. {alerts[0][:60]!r}")
    if tally.counts:
        problems.append(f"log warnings/errors: {dict(tally.counts)}; first: {tally.samples[:2]}")
    await db.close()

    order_kept, order_problems = check_order(stream_data, records)
    problems.extend(order_problems)
    return Result(
        mode=mode,
        updates=len(records),
        seconds=last - first,
        latency_ms=[(r.finished - enqueued[r.update_id]) * 1000 for r in records],
        handling_ms=[(r.finished - r.started) * 1000 for r in records if r.started is not None],
        order_kept=order_kept,
        api_calls=api_calls,
        parse_seconds=parse_seconds,
        problems=problems,
    )


# --- report ------------------------------------------------------------------------------


def print_table(results: list[Result]) -> None:
    header = (
        f"{'mode':<30} {'updates':>7} {'seconds':>8} {'updates/s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'handle p50':>10} {'handle p99':>10}  order kept"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        p50 = percentile(r.latency_ms, 50) if r.latency_ms else float("nan")
        p99 = percentile(r.latency_ms, 99) if r.latency_ms else float("nan")
        h50 = percentile(r.handling_ms, 50) if r.handling_ms else float("nan")
        h99 = percentile(r.handling_ms, 99) if r.handling_ms else float("nan")
        print(
            f"{r.mode:<30} {r.updates:>7} {r.seconds:>8.2f} {r.rate:>9.1f} "
            f"{p50:>8.0f} {p99:>8.0f} {h50:>10.0f} {h99:>10.0f}  {'yes' if r.order_kept else 'NO'}"
        )


def users_from(count: int) -> list[int]:
    return [FIRST_USER_ID + i for i in range(count)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_updates", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--users", type=int, default=1000, help="voters in the concurrent run")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Bot API call")
    parser.add_argument(
        "--baseline-users", type=int, default=50, help="voters in the sequential subset"
    )
    parser.add_argument(
        "--baseline-updates",
        type=int,
        default=400,
        help="updates in the sequential subset (the first N of those voters' stream)",
    )
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        help="max_concurrent_updates of the concurrent run (default: the setting's default)",
    )
    parser.add_argument("--skip-baseline", action="store_true", help="only the concurrent run")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    began = time.perf_counter()
    args = parse_args(argv)
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    logging.getLogger().setLevel(logging.WARNING)

    users = users_from(args.users)
    date = int(START.timestamp())
    stream = build_stream(users, date)
    print(
        f"fake Bot API latency {args.latency * 1000:.0f} ms per call; "
        f"{len(users)} voters x {len(SCRIPT)} updates = {len(stream)} updates, "
        "queued round-robin"
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="jiazhan-bench-") as tmp:
        concurrent = await run_mode(
            "concurrent (chat-ordered)",
            chat_ordered,
            users,
            stream,
            Path(tmp) / "concurrent",
            args.latency,
            tally,
            args.max_concurrent,
        )
        results.append(concurrent)
        if not args.skip_baseline:
            base_users = users_from(min(args.baseline_users, args.users))
            # the same round-robin shape over fewer voters, cut after N updates
            base_stream = build_stream(base_users, date)[: args.baseline_updates]
            baseline = await run_mode(
                "sequential SUBSET (PTB, 1)",
                sequential,
                base_users,
                base_stream,
                Path(tmp) / "sequential",
                args.latency,
                tally,
            )
            results.append(baseline)

    print()
    print_table(results)
    print()
    print(
        "p50/p99: enqueue -> done (all updates are queued at once, so this includes the "
        "backlog);\nhandle p50/p99: Application.process_update start -> done."
    )
    for r in results:
        print(
            f"{r.mode}: {r.api_calls} Bot API calls ({r.api_calls / max(r.updates, 1):.2f} per "
            f"update); Update.de_json of the stream took {r.parse_seconds:.2f} s (not timed)"
        )
    if not args.skip_baseline:
        base = results[1]
        print(
            f"NOTE: the sequential baseline is a SUBSET: the first {base.updates} updates of "
            f"{min(args.baseline_users, args.users)} voters (same round-robin shape), not the "
            f"{concurrent.updates} of the concurrent run."
        )
        if base.rate:
            print(f"speed-up: {concurrent.rate / base.rate:.0f}x updates/s")
    failed = False
    for r in results:
        for problem in r.problems:
            print(f"PROBLEM [{r.mode}]: {problem}")
            failed = True
    print(
        f"per-chat order in the concurrent run: {'kept' if concurrent.order_kept else 'VIOLATED'}"
    )
    print(f"total benchmark time {time.perf_counter() - began:.0f} s")
    if not concurrent.order_kept:
        return 1
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
