"""The deputies' side at the scale of a district.

500 deputies with a year of duty turns each (a monthly reception rule per station, a home
visit every quarter, an annual account) and 100,000 opinions on one SQLite file. It prints

- the start-up rebuild of reminder jobs (send what was missed, plan the next hours), next to
  the naive baseline that plans one JobQueue job per reminder of the whole year;
- p50/p99 of `/schedule` (deputies and voters) and `/inbox` handled by the real Application
  over a fake Bot API that answers at once, so the figures are the bot's own work.

Run from the project root:  .venv/bin/python -m bench.bench_deputies
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application, on_shutdown
from bot.clock import FixedClock
from bot.runtime.scheduler import Scheduler
from bot.services import Services, build_services
from bot.settings import load_settings
from storage import Database
from storage.db import stamp
from storage.models import TurnKind
from tests.support.botapi import FakeBotAPI
from tests.support.world import SHANGHAI, TOKEN

START = datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI)
STREETS = 29
STATIONS_PER_STREET = 3
FIRST_DEPUTY = 300_000_001
FIRST_VOTER = 400_000_001
CATEGORIES = ("urban", "traffic", "elderly", "education", "environment", "housing", "other")
STATUSES = ("submitted", "accepted", "answered", "closed", "declined")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def populate(services: Services, deputies: int, voters: int, opinions: int) -> None:
    """Stations, deputies, rules and turns through the services; voters and opinions in
    bulk (the services would take minutes for 100,000 rows and are not what is measured)."""
    db, now = services.db, services.clock.now()
    rows = ["street,station,address,latitude,longitude"]
    for z in range(STREETS):
        for s in range(STATIONS_PER_STREET):
            rows.append(f"街镇{z:02d},联络站{z:02d}-{s},地址 {z}-{s},39.9{z:02d},116.3{s}")
    path = Path(tempfile.mkdtemp()) / "stations.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    assert not (await services.stations.import_csv(path)).errors
    stations = STREETS * STATIONS_PER_STREET
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (telegram_id, role, locale, full_name, station_id, consent_at,"
            " created_at) VALUES (?, ?, 'zh_CN', ?, ?, ?, ?)",
            [
                (FIRST_DEPUTY + i, "deputy", f"代表{i}", i % stations + 1, stamp(now), stamp(now))
                for i in range(deputies)
            ]
            + [
                (FIRST_VOTER + i, "voter", f"选民{i}", i % stations + 1, stamp(now), stamp(now))
                for i in range(voters)
            ],
        )
        await tx.executemany(
            "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)",
            [(FIRST_DEPUTY + i, f"代表{i}", i % stations + 1, stamp(now)) for i in range(deputies)],
        )
    calendar = services.calendar
    for station in range(1, stations + 1):
        on_duty = [FIRST_DEPUTY + i for i in range(deputies) if i % stations + 1 == station]
        if not on_duty:
            continue
        await calendar.add_rule(
            None,
            station_id=station,
            week_of_month=2,
            weekday=5,
            time_range="09:00-11:00",
            deputy_ids=on_duty,
        )
    today = now.astimezone(SHANGHAI).date()
    for i in range(deputies):
        deputy = FIRST_DEPUTY + i
        for quarter in range(4):
            await calendar.add_turn(
                None,
                kind=TurnKind.HOME_VISIT,
                station_id=i % stations + 1,
                day=today + timedelta(days=20 + 91 * quarter + i % 20),
                time_range="14:00-16:00",
                deputy_ids=[deputy],
            )
        await calendar.add_turn(
            None,
            kind=TurnKind.ANNUAL_ACCOUNT,
            station_id=i % stations + 1,
            day=today + timedelta(days=300 + i % 40),
            time_range="09:00-11:00",
            deputy_ids=[deputy],
        )
    rng = random.Random(7)
    batch = []
    for n in range(1, opinions + 1):
        # a year of opinions; the older ones were handled in time, as in a district that
        # keeps its deadlines, so the deadline sweep has only its usual few to do
        created = now - timedelta(minutes=5 * (opinions - n))
        age = now - created
        if age < timedelta(days=3):
            status = rng.choice(STATUSES)
        elif age < timedelta(days=7):
            status = rng.choice(("accepted", "answered", "closed", "declined"))
        else:
            status = rng.choice(("closed", "declined"))
        station = rng.randrange(stations) + 1
        holder = (
            FIRST_DEPUTY + (station - 1) if status != "submitted" and station <= deputies else None
        )
        answered = stamp(created + timedelta(hours=1)) if status in ("answered", "closed") else None
        claimed = stamp(created) if holder else None
        text = f"第 {n} 条意见：小区门口的路灯坏了，晚上很不安全。"
        batch.append(
            (
                f"HD-2026-{n:06d}",
                FIRST_VOTER + rng.randrange(voters),
                station,
                rng.choice(CATEGORIES),
                text,
                json.dumps([]),
                int(rng.random() < 0.5),
                status,
                stamp(created),
                stamp(created),
                holder,
                claimed,
                answered,
            )
        )
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text, photos,"
            " show_name, status, created_at, updated_at, holder_id, claimed_at, answered_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
        await tx.execute(
            "INSERT INTO tracking_sequences (year, last) VALUES (2026, ?)", (opinions,)
        )


async def naive_plan(services: Services, app: Any) -> tuple[float, int]:
    """The baseline: one JobQueue job for every reminder of the year, as a first design
    would plan them at start."""
    reminders = services.reminders
    began = time.perf_counter()
    turns = await reminders.repo.turns_between(
        services.clock.now(), services.clock.now() + timedelta(days=400)
    )
    planned = 0
    for turn in turns:
        for kind, at in reminders.fire_times(turn).items():
            for deputy in turn.deputy_ids:
                app.job_queue.run_once(
                    lambda _: None, when=at, name=f"naive:{turn.id}:{deputy}:{kind}"
                )
                planned += 1
    elapsed = time.perf_counter() - began
    for job in app.job_queue.jobs():
        if job.name and job.name.startswith("naive:"):
            job.schedule_removal()
    return elapsed, planned


def command(user_id: int, text: str, update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "x", "language_code": "zh"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def time_handler(app: Any, users: list[int], text: str, first_update: int) -> list[float]:
    timings = []
    for n, user in enumerate(users):
        update = Update.de_json(command(user, text, first_update + n), app.bot)
        began = time.perf_counter()
        await app.process_update(update)
        timings.append((time.perf_counter() - began) * 1000)
    return timings


async def main() -> None:
    # the bench's clock is not the wall clock the JobQueue runs on: past-due jobs are expected
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deputies", type=int, default=500)
    parser.add_argument("--voters", type=int, default=20_000)
    parser.add_argument("--opinions", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-deputies-"))
    clock = FixedClock(START)
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        database_path=folder / "bench.sqlite3",
        flood_max_updates=100_000,
    )
    db = Database(settings.database_path)
    await db.connect()
    services = build_services(settings, db, clock)
    began = time.perf_counter()
    await populate(services, args.deputies, args.voters, args.opinions)
    turns = await db.scalar("SELECT count(*) FROM duty_turns")
    links = await db.scalar("SELECT count(*) FROM duty_turn_deputies")
    built = time.perf_counter() - began
    print(
        f"data: {args.deputies} deputies, {turns} turns ({links} deputy-turns), "
        f"{args.opinions} opinions, {args.voters} voters; built in {built:.1f} s"
    )

    app = build_application(services, request=FakeBotAPI())
    await app.initialize()
    # the time just before the evening reminders of the first monthly reception turns
    clock.set(datetime(2026, 1, 9, 17, 30, tzinfo=SHANGHAI))
    began = time.perf_counter()
    planned = await Scheduler(app, services).start()
    rebuild = time.perf_counter() - began
    began = time.perf_counter()
    deadlines = await services.inbox.run_due()
    sweep = time.perf_counter() - began
    naive, naive_jobs = await naive_plan(services, app)
    print()
    print(f"{'start-up rebuild':40} {'seconds':>8} {'jobs':>8}")
    print(f"{'windowed (this bot)':40} {rebuild:8.3f} {planned:8d}")
    print(f"{'baseline: a job per reminder of the year':40} {naive:8.3f} {naive_jobs:8d}")
    print(f"(the first opinion-deadline sweep after start: {sweep:.3f} s, {deadlines} notices)")

    await app.start()
    rng = random.Random(3)
    deputies = [FIRST_DEPUTY + rng.randrange(args.deputies) for _ in range(args.samples)]
    voters = [FIRST_VOTER + rng.randrange(args.voters) for _ in range(args.samples)]
    await time_handler(app, deputies[:20], "/schedule", 1)  # warm up
    results = {
        "/schedule (deputy)": await time_handler(app, deputies, "/schedule", 10_000),
        "/schedule (voter)": await time_handler(app, voters, "/schedule", 20_000),
        "/inbox (deputy)": await time_handler(app, deputies, "/inbox", 30_000),
    }
    print()
    print(f"{'handler':24} {'samples':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(
            f"{name:24} {len(values):8d} {statistics.median(values):8.2f} "
            f"{percentile(values, 99):8.2f} {max(values):8.2f}"
        )
    await on_shutdown(app)
    await app.stop()
    await app.shutdown()
    await db.close()


if __name__ == "__main__":
    asyncio.run(main())
