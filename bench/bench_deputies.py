"""The deputies' side at the scale of a district, with checks that can fail.

500 deputies with a year of duty turns each (a monthly reception rule per station, a home
visit every quarter, an annual account), 20,000 voters, one staff member and 100,000
opinions on one SQLite file. The bot runs, stops at 17:55 the evening before the first
reception day and restarts at 18:05, so the 18:00 reminders are caught up at start. Then
`/schedule` and `/inbox` (deputies, and staff over all 100,000 opinions, paging included)
go through the real Application over a fake Bot API that answers at once, so the figures
are the bot's own work. Every check prints PASS or FAIL; `--break KIND` injects a fault in
the bench (never in the bot) to show a check failing.

Run from the project root:  .venv/bin/python -m bench.bench_deputies  (--help for options)
Exit status 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bench.bench_updates import LogTally
from bot.app import build_application, on_shutdown, on_startup
from bot.clock import FixedClock
from bot.demo.botapi import FakeBotAPI, Output
from bot.runtime.buttons.inbox import InboxList
from bot.services import Services, build_services
from bot.settings import Settings, load_settings
from storage import Database
from storage.db import stamp
from storage.models import TurnKind
from tests.support.world import SHANGHAI, TOKEN

POPULATED_AT = datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI)  # when the calendar is set up
STREETS = 29
STATIONS_PER_STREET = 3
FIRST_DEPUTY = 300_000_001
FIRST_VOTER = 400_000_001
STAFF_ID = 500_000_001
CATEGORIES = ("urban", "traffic", "elderly", "education", "environment", "housing", "other")
STATUSES = ("submitted", "accepted", "answered", "closed", "declined")
PER_PAGE = 6  # handlers.inbox.PER_PAGE, restated: the bench's truth is its own

# The calendar the bench creates (the services are told this; the truth below is computed
# from these constants, not read back from the bot).
RULE_WEEK, RULE_WEEKDAY = 2, 5  # the 2nd Saturday (Monday = 0) of every month
RULE_HOURS = (clock_time(9), clock_time(11))
VISIT_HOURS = (clock_time(14), clock_time(16))
ACCOUNT_HOURS = (clock_time(9), clock_time(11))
EVENING_AT = clock_time(18)  # reminders go the evening before, an hour before, at the end
LOOK_BACK = timedelta(hours=48)  # how far back a start looks for missed reminders

# The bot's two lives: up before the first 18:00 reminders, down over 18:00, up again.
FIRST_START = datetime(2026, 1, 9, 17, 50, tzinfo=SHANGHAI)
STOP = datetime(2026, 1, 9, 17, 55, tzinfo=SHANGHAI)
RESTART = datetime(2026, 1, 9, 18, 5, tzinfo=SHANGHAI)
EVENING_MARK = "明天"  # what tells the evening reminder (zh_CN "reminder.evening") apart
APOLOGIES = ("error.internal", "error.forbidden", "error.not_your_record", "error.stale_button")
DRAIN_LIMIT_SECONDS = 120.0

BREAKS = {
    "skip-reminder": "the catch-up at restart skips every 100th reminder it queues",
    "double-reminder": "the catch-up at restart queues every 100th reminder twice",
    "wrong-page": "every 20th inbox page is the one after the page asked for",
    "crash": "every 50th /schedule fails inside the calendar service",
}


# --- the district ------------------------------------------------------------------------


@dataclass
class District:
    """What the bench created, as the bench knows it."""

    deputies: list[int]
    voters: list[int]
    station_of: dict[int, int]  # deputy or voter -> station id
    station_names: dict[int, str]
    turns: list[tuple[int, str, date, tuple[clock_time, clock_time]]]  # deputy, kind, day, hours
    opinions_at: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    held_by: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    opinions: int = 0

    def deputy_inbox(self, deputy: int) -> list[int]:
        """Opinion numbers a deputy's /inbox lists (their station's and what they hold),
        newest first."""
        return sorted(
            set(self.opinions_at[self.station_of[deputy]]) | set(self.held_by[deputy]),
            reverse=True,
        )


def nth_weekday(year: int, month: int, nth: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def reception_days(since: date, until: date) -> list[date]:
    days, year, month = [], since.year, since.month
    while date(year, month, 1) <= until:
        day = nth_weekday(year, month, RULE_WEEK, RULE_WEEKDAY)
        if since <= day <= until:
            days.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def at(day: date, hour: clock_time) -> datetime:
    return datetime.combine(day, hour, tzinfo=SHANGHAI)


def reminders_between(
    district: District, after: datetime, until: datetime
) -> list[tuple[int, str, date]]:
    """(deputy, reminder kind, turn day) of every reminder of the bench's turns whose time
    falls in (after, until]."""
    due = []
    for deputy, _, day, (starts, ends) in district.turns:
        times = {
            "evening": at(day - timedelta(days=1), EVENING_AT),
            "hour": at(day, starts) - timedelta(hours=1),
            "log_prompt": at(day, ends),
        }
        due.extend((deputy, kind, day) for kind, moment in times.items() if after < moment <= until)
    return due


async def populate(
    services: Services, deputies: int, voters: int, opinions: int, opinions_until: datetime
) -> District:
    """Stations, deputies, rules and turns through the services; voters, the staff member
    and opinions in bulk (the services would take minutes for 100,000 rows and are not
    what is measured)."""
    db, now = services.db, services.clock.now()
    rows = ["street,station,address,latitude,longitude"]
    for z in range(STREETS):
        for s in range(STATIONS_PER_STREET):
            rows.append(f"街镇{z:02d},联络站{z:02d}-{s},地址 {z}-{s},39.9{z:02d},116.3{s}")
    path = services.settings.database_path.parent / "stations.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    assert not (await services.stations.import_csv(path)).errors
    names = {int(r[0]): str(r[1]) for r in await db.fetchall("SELECT id, name FROM stations")}
    stations = STREETS * STATIONS_PER_STREET
    assert sorted(names) == list(range(1, stations + 1)), "stations are numbered from 1"
    deputy_ids = [FIRST_DEPUTY + i for i in range(deputies)]
    voter_ids = [FIRST_VOTER + i for i in range(voters)]
    station_of = {u: i % stations + 1 for ids in (deputy_ids, voter_ids) for i, u in enumerate(ids)}
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (telegram_id, role, locale, full_name, station_id, consent_at,"
            " created_at) VALUES (?, ?, 'zh_CN', ?, ?, ?, ?)",
            [(d, "deputy", f"代表{d}", station_of[d], stamp(now), stamp(now)) for d in deputy_ids]
            + [(v, "voter", f"选民{v}", station_of[v], stamp(now), stamp(now)) for v in voter_ids]
            + [(STAFF_ID, "staff", "工作人员", None, stamp(now), stamp(now))],
        )
        await tx.executemany(
            "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)",
            [(d, f"代表{d}", station_of[d], stamp(now)) for d in deputy_ids],
        )
    district = District(deputy_ids, voter_ids, station_of, names, [])
    calendar = services.calendar
    today = now.astimezone(SHANGHAI).date()
    for station in range(1, stations + 1):
        on_duty = [d for d in deputy_ids if station_of[d] == station]
        if not on_duty:
            continue
        await calendar.add_rule(
            None,
            station_id=station,
            week_of_month=RULE_WEEK,
            weekday=RULE_WEEKDAY,
            time_range=hours_text(RULE_HOURS),
            deputy_ids=on_duty,
        )
        # the rule's turns as the bench expects them: up to a year and a month ahead
        for day in reception_days(today, today + timedelta(days=400)):
            if at(day, RULE_HOURS[0]) > now:
                district.turns.extend((d, "reception", day, RULE_HOURS) for d in on_duty)
    for i, deputy in enumerate(deputy_ids):
        for quarter in range(4):
            day = today + timedelta(days=20 + 91 * quarter + i % 20)
            await calendar.add_turn(
                None,
                kind=TurnKind.HOME_VISIT,
                station_id=station_of[deputy],
                day=day,
                time_range=hours_text(VISIT_HOURS),
                deputy_ids=[deputy],
            )
            district.turns.append((deputy, "home_visit", day, VISIT_HOURS))
        day = today + timedelta(days=300 + i % 40)
        await calendar.add_turn(
            None,
            kind=TurnKind.ANNUAL_ACCOUNT,
            station_id=station_of[deputy],
            day=day,
            time_range=hours_text(ACCOUNT_HOURS),
            deputy_ids=[deputy],
        )
        district.turns.append((deputy, "annual_account", day, ACCOUNT_HOURS))
    await insert_opinions(db, district, opinions, opinions_until, stations)
    return district


def hours_text(hours: tuple[clock_time, clock_time]) -> str:
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


async def insert_opinions(
    db: Database, district: District, opinions: int, until: datetime, stations: int
) -> None:
    """A year of opinions up to `until`; the older ones were handled in time, as in a
    district that keeps its deadlines, so the deadline sweep has only its usual few to do.
    Opinion n gets id n and tracking number HD-2026-n."""
    rng = random.Random(7)
    batch = []
    for n in range(1, opinions + 1):
        created = until - timedelta(minutes=5 * (opinions - n))
        age = until - created
        if age < timedelta(days=3):
            status = rng.choice(STATUSES)
        elif age < timedelta(days=7):
            status = rng.choice(("accepted", "answered", "closed", "declined"))
        else:
            status = rng.choice(("closed", "declined"))
        station = rng.randrange(stations) + 1
        holder = (
            FIRST_DEPUTY + (station - 1)
            if status != "submitted" and station <= len(district.deputies)
            else None
        )
        district.opinions_at[station].append(n)
        if holder is not None:
            district.held_by[holder].append(n)
        answered = stamp(created + timedelta(hours=1)) if status in ("answered", "closed") else None
        batch.append(
            (
                n,
                f"HD-2026-{n:06d}",
                FIRST_VOTER + rng.randrange(len(district.voters)),
                station,
                rng.choice(CATEGORIES),
                f"第 {n} 条意见：小区门口的路灯坏了，晚上很不安全。",
                json.dumps([]),
                int(rng.random() < 0.5),
                status,
                stamp(created),
                stamp(created),
                holder,
                stamp(created) if holder else None,
                answered,
            )
        )
    district.opinions = opinions
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO opinions (id, tracking_no, author_id, station_id, category, text,"
            " photos, show_name, status, created_at, updated_at, holder_id, claimed_at,"
            " answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
        await tx.execute(
            "INSERT INTO tracking_sequences (year, last) VALUES (2026, ?)", (opinions,)
        )


# --- the bot's lives ---------------------------------------------------------------------


@dataclass
class Life:
    db: Database
    services: Services
    app: Application


async def begin_life(settings: Settings, clock: FixedClock, api: FakeBotAPI) -> Life:
    db = Database(settings.database_path)
    await db.connect()
    services = build_services(settings, db, clock)
    app = build_application(services, request=api)
    await app.initialize()
    return Life(db, services, app)


async def end_life(life: Life) -> None:
    await on_shutdown(life.app)
    await life.app.stop()
    await life.app.shutdown()
    await life.db.close()


async def drain_outbox(db: Database, clock: FixedClock) -> float:
    """Wait until nothing due is queued or being sent; returns the seconds waited."""
    began = time.perf_counter()
    while time.perf_counter() - began < DRAIN_LIMIT_SECONDS:
        pending = await db.scalar(
            "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending') AND not_before <= ?",
            (stamp(clock.now()),),
        )
        if not pending:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - began


async def naive_plan(services: Services, app: Application) -> tuple[float, int]:
    """The baseline: one JobQueue job for every reminder of the year, as a first design
    would plan them at start."""
    reminders = services.reminders
    assert app.job_queue is not None
    began = time.perf_counter()
    turns = await reminders.repo.turns_between(
        services.clock.now(), services.clock.now() + timedelta(days=400)
    )
    planned = 0
    for turn in turns:
        for kind, moment in reminders.fire_times(turn).items():
            for deputy in turn.deputy_ids:
                app.job_queue.run_once(
                    lambda _: None, when=moment, name=f"naive:{turn.id}:{deputy}:{kind}"
                )
                planned += 1
    elapsed = time.perf_counter() - began
    for job in app.job_queue.jobs():
        if job.name and job.name.startswith("naive:"):
            job.schedule_removal()
    return elapsed, planned


# --- the people's side: commands and taps --------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


Expect = Callable[[list[Output]], str | None]  # what is wrong with the replies, if anything


class Client:
    """Sends commands and taps through Application.process_update, timing each, and keeps
    what was wrong with the replies."""

    def __init__(self, app: Application, api: FakeBotAPI, apologies: list[str]) -> None:
        self.app = app
        self.api = api
        self.apologies = apologies
        self.update_ids = itertools.count(1)
        self.problems: list[str] = []
        self.replies = 0

    async def feed(self, user: int, data: dict[str, Any], expect: Expect | None) -> float:
        update_id = next(self.update_ids)
        update = Update.de_json({"update_id": update_id, **data}, self.app.bot)
        outputs_before, refusals_before = len(self.api.outputs), len(self.api.refusals)
        began = time.perf_counter()
        await self.app.process_update(update)
        elapsed = (time.perf_counter() - began) * 1000
        outputs = [o for o in self.api.outputs[outputs_before:] if o.chat_id == user]
        problem = self.judge(data, outputs, len(self.api.refusals) - refusals_before)
        if problem is None and expect is not None:
            problem = expect(outputs)
        self.replies += 1
        if problem is not None:
            self.problems.append(f"update {update_id} from {user}: {problem}")
        return elapsed

    def judge(self, data: dict[str, Any], outputs: list[Output], refused: int) -> str | None:
        """A reply came, none was refused, none is an apology, a tap was answered."""
        if refused:
            return f"{refused} calls refused by the fake Bot API"
        if not any(o.kind in ("message", "edit") for o in outputs):
            return "no reply"
        for output in outputs:
            if any(apology in output.text for apology in self.apologies):
                return f"an apology: {output.text[:40]!r}"
        query = data.get("callback_query")
        if query is not None and query["id"] not in self.api.callback_queries:
            return "the tap was never answered"
        return None

    async def command(self, user: int, text: str, expect: Expect | None = None) -> float:
        return await self.feed(
            user,
            {
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": user, "type": "private"},
                    "from": sender(user),
                    "text": text,
                    "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
                }
            },
            expect,
        )

    async def tap(
        self, user: int, message: dict[str, Any], data: str, expect: Expect | None = None
    ) -> float:
        query = {
            "id": f"{user}-{next(self.update_ids)}",
            "from": sender(user),
            "chat_instance": f"ci-{user}",
            "message": message,
            "data": data,
        }
        return await self.feed(user, {"callback_query": query}, expect)


def sender(user: int) -> dict[str, Any]:
    return {"id": user, "is_bot": False, "first_name": "x", "language_code": "zh"}


def day_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"  # zh_CN's yMMMd


def expect_schedule(station: str, next_day: date) -> Expect:
    """A /schedule reply names the station and the next reception day."""

    def check(outputs: list[Output]) -> str | None:
        text = "\n".join(o.text for o in outputs if o.kind == "message")
        if station not in text or day_text(next_day) not in text:
            return f"no {station} on {day_text(next_day)} in {text[:60]!r}"
        return None

    return check


def expect_page(numbers: list[int], page: int) -> Expect:
    """An inbox page lists these opinions, newest first, and says which page of how many."""
    pages = max(1, math.ceil(len(numbers) / PER_PAGE))
    wanted = [f"HD-2026-{n:06d}" for n in numbers[page * PER_PAGE : (page + 1) * PER_PAGE]]

    def check(outputs: list[Output]) -> str | None:
        shown = [o for o in outputs if o.kind in ("message", "edit") and o.markup]
        if not shown:
            return "no inbox list"
        labels = shown[-1].buttons()
        listed = [label.split(" · ")[0] for label in labels if label.startswith("HD-")]
        if listed != wanted:
            return f"page {page + 1} lists {listed[:2]}…, not {wanted[:2]}…"
        if pages > 1 and f"{page + 1}/{pages}" not in labels:
            return f"no {page + 1}/{pages} among the buttons"
        return None

    return check


def latest_message(api: FakeBotAPI, chat: int) -> dict[str, Any]:
    """The chat's newest message as it is now, as the client shows it."""
    return api.chat_messages(chat)[-1]


async def time_staff_inbox(
    client: Client, api: FakeBotAPI, district: District, samples: int, rng: random.Random
) -> dict[str, list[float]]:
    """The staff member's /inbox over every opinion, then paging with the › button the
    list shows, then deep pages (the data a › button carries that far in)."""
    everything = list(range(district.opinions, 0, -1))
    pages = math.ceil(len(everything) / PER_PAGE)
    commands = [
        await client.command(STAFF_ID, "/inbox", expect_page(everything, 0)) for _ in range(samples)
    ]
    nexts = []
    for page in range(1, min(samples, pages - 1) + 1):
        message = latest_message(api, STAFF_ID)
        data = InboxList(view="all", page=page).pack()
        if not any(
            b.get("callback_data") == data
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for b in row
        ):
            client.problems.append(f"no › button to page {page + 1} on the staff's list")
            break
        nexts.append(await client.tap(STAFF_ID, message, data, expect_page(everything, page)))
    deep = []
    for page in sorted(rng.sample(range(pages), min(samples, pages))):  # each a new page
        message = latest_message(api, STAFF_ID)
        data = InboxList(view="all", page=page).pack()
        deep.append(await client.tap(STAFF_ID, message, data, expect_page(everything, page)))
    return {
        "/inbox (staff)": commands,
        "› next page (staff)": nexts,
        "deep page (staff)": deep,
    }


# --- checks ------------------------------------------------------------------------------


def check_reminders(
    district: District, api: FakeBotAPI, outputs_upto: int, first_life: int
) -> Check:
    """Every reminder due while the bot was down reached its deputy exactly once, and
    none went out in the first life, where none was due."""
    before = reminders_between(district, FIRST_START - LOOK_BACK, FIRST_START)
    due = reminders_between(district, STOP, RESTART)
    wrong_kind = [d for d in due if d[1] != "evening" or d[2] != RESTART.date() + timedelta(1)]
    if wrong_kind:
        raise RuntimeError(f"the window should hold only evening reminders: {wrong_kind[:3]}")
    expected = Counter((deputy, day) for deputy, _, day in due)
    got: Counter[tuple[int, date]] = Counter()
    stray = 0
    for output in api.outputs[:outputs_upto]:
        if output.kind != "message" or output.chat_id not in district.station_of:
            continue
        if EVENING_MARK not in output.text or "⏰" not in output.text:
            continue
        days = [day for _, day in expected if day_text(day) in output.text]
        station = district.station_names[district.station_of[output.chat_id]]
        if days and station in output.text:
            got[(output.chat_id, days[0])] += 1
        else:
            stray += 1
    missing = [k for k in expected if got[k] == 0]
    twice = [k for k in expected if got[k] > 1]
    unexpected = [k for k in got if k not in expected]
    passed = (
        not before and not first_life and not missing and not twice and not (unexpected or stray)
    )
    return Check(
        "every reminder due at the restart sent exactly once",
        passed,
        f"{len(due)} due between {STOP:%H:%M} and {RESTART:%H:%M} "
        f"({len(set(d for d, _, _ in due))} deputies); {sum(got.values())} delivered: "
        f"{len(missing)} missing, {len(twice)} more than once, "
        f"{len(unexpected) + stray} not due; {first_life} reminders in the first life "
        f"(expected {len(before)})",
    )


def inject(kind: str | None, services: Services) -> None:
    """--break: the fault, wrapped around one service of the restarted bot."""
    counter = itertools.count(1)
    if kind in ("skip-reminder", "double-reminder"):
        reminders = services.reminders
        notify = reminders._notify

        async def faulty(tx: Any, item: Any) -> None:
            n = next(counter)
            if n % 100 == 0 and kind == "skip-reminder":
                return
            await notify(tx, item)
            if n % 100 == 0:
                await notify(tx, item)

        reminders._notify = faulty  # type: ignore[method-assign]
    elif kind == "wrong-page":
        inbox = services.inbox
        page_of = inbox.page

        async def shifted(actor: Any, view: str, page: int, per_page: int) -> Any:
            if next(counter) % 20 == 0:
                page += 1
            return await page_of(actor, view, page, per_page)

        inbox.page = shifted  # type: ignore[method-assign]
    elif kind == "crash":
        calendar = services.calendar
        next_turns_of = calendar.next_turns_of

        async def crashing(*args: Any, **kwargs: Any) -> Any:
            if next(counter) % 50 == 0:
                raise RuntimeError("injected by --break crash")
            return await next_turns_of(*args, **kwargs)

        calendar.next_turns_of = crashing  # type: ignore[method-assign]


# --- report ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_deputies",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<16} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--deputies", type=int, default=500)
    parser.add_argument("--voters", type=int, default=20_000)
    parser.add_argument("--opinions", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300, help="updates timed per row")
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-deputies-") as folder:
        return await run(Path(folder), argv)


async def run(folder: Path, argv: list[str] | None) -> int:
    """The whole bench, its files in `folder`."""
    load_at_start = os.getloadavg()[0]
    args = parse_args(argv)
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    logging.getLogger().setLevel(logging.WARNING)
    # The JobQueue runs on the wall clock, not the bench's: the jobs planned for January
    # 2026 are past due to it, and APScheduler warns that it runs them late. Only those.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    if args.breaking:
        print(f"BREAK {args.breaking}: {BREAKS[args.breaking]}")

    clock = FixedClock(POPULATED_AT)
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
    district = await populate(services, args.deputies, args.voters, args.opinions, RESTART)
    turns = await db.scalar("SELECT count(*) FROM duty_turns")
    links = await db.scalar("SELECT count(*) FROM duty_turn_deputies")
    await db.close()
    print(
        f"data: {args.deputies} deputies, {turns} turns ({links} deputy-turns), "
        f"{args.opinions} opinions, {args.voters} voters, 1 staff member; built in "
        f"{time.perf_counter() - began:.1f} s"
    )

    # first life: up at 17:50, nothing due; down at 17:55, before the 18:00 reminders
    api = FakeBotAPI()
    clock.set(FIRST_START)
    life = await begin_life(settings, clock, api)
    began = time.perf_counter()
    await on_startup(life.app)
    first_start = time.perf_counter() - began
    await life.app.start()
    await drain_outbox(life.db, clock)
    first_life_reminders = sum(1 for o in api.outputs if "⏰" in o.text)
    clock.set(STOP)
    await end_life(life)

    # second life: up at 18:05; the start catches up the 18:00 reminders
    clock.set(RESTART)
    life = await begin_life(settings, clock, api)
    inject(args.breaking, life.services)
    reminders_queued = "SELECT count(*) FROM outbox WHERE message_key LIKE 'reminder.%'"
    queued_before = await life.db.scalar(reminders_queued)
    began = time.perf_counter()
    await on_startup(life.app)
    restart = time.perf_counter() - began
    caught_up = int(await life.db.scalar(reminders_queued) or 0) - int(queued_before or 0)
    await life.app.start()
    began = time.perf_counter()
    deadlines = await life.services.inbox.run_due()
    sweep = time.perf_counter() - began
    delivered_in = await drain_outbox(life.db, clock)
    reminder_check = check_reminders(district, api, len(api.outputs), first_life_reminders)
    naive, naive_jobs = await naive_plan(life.services, life.app)

    print()
    print(f"{'start-up rebuild':44} {'seconds':>8} {'jobs':>6} {'caught up':>10}")
    print(f"{'first start 17:50 (nothing missed)':44} {first_start:8.3f} {'':>6} {0:>10}")
    print(f"{'restart 18:05 (18:00 reminders missed)':44} {restart:8.3f} {'':>6} {caught_up:>10}")
    print(f"{'baseline: a job per reminder of the year':44} {naive:8.3f} {naive_jobs:>6}")
    print(
        f"restart / baseline: {restart / naive:.2f}; first start / baseline: "
        f"{first_start / naive:.2f}  (on_startup timed whole: menus, outbox, Scheduler.start)"
    )
    print(
        f"the restart queued {caught_up} reminders; the outbox delivered everything due in "
        f"{delivered_in:.1f} s at its {settings.outbox_rate:g}/s; the first opinion-deadline "
        f"sweep took {sweep:.3f} s, {deadlines} notices"
    )

    client = Client(life.app, api, [life.services.i18n.texts("zh_CN")(k) for k in APOLOGIES])
    rng = random.Random(3)
    deputies = [rng.choice(district.deputies) for _ in range(args.samples)]
    voters = [rng.choice(district.voters) for _ in range(args.samples)]
    next_reception = reception_days(RESTART.date() + timedelta(days=1), date(2027, 12, 31))[0]

    def schedule_of(user: int) -> Expect:
        return expect_schedule(district.station_names[district.station_of[user]], next_reception)

    for user in deputies[:20]:  # warm up
        await client.command(user, "/schedule", schedule_of(user))
    results: dict[str, list[float]] = {
        "/schedule (deputy)": [
            await client.command(u, "/schedule", schedule_of(u)) for u in deputies
        ],
        "/schedule (voter)": [await client.command(u, "/schedule", schedule_of(u)) for u in voters],
        "/inbox (deputy)": [
            await client.command(u, "/inbox", expect_page(district.deputy_inbox(u), 0))
            for u in deputies
        ],
    }
    results.update(await time_staff_inbox(client, api, district, args.samples, rng))
    print()
    print(f"{'handler':24} {'samples':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        if values:
            print(
                f"{name:24} {len(values):8d} {statistics.median(values):8.2f} "
                f"{percentile(values, 99):8.2f} {max(values):8.2f}"
            )
    print(
        f"staff: {args.opinions} opinions, {math.ceil(args.opinions / PER_PAGE)} pages of "
        f"{PER_PAGE}; deep pages are taps with the data of a › button at a random page"
    )
    print(
        f"load average (1 min) at start {load_at_start:.2f}, now {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} CPUs: figures rise when other work shares the machine"
    )
    await end_life(life)

    checks = [
        reminder_check,
        Check(
            "every reply came, valid, not an apology, as expected",
            not client.problems,
            f"{client.replies} updates, {len(client.problems)} wrong"
            + (f"; first: {client.problems[:2]}" if client.problems else ""),
        ),
        Check(
            "no warning or error logged",
            not tally.counts,
            f"{sum(tally.counts.values())} records: {dict(tally.counts)}; "
            f"first: {tally.samples[:2]}"
            if tally.counts
            else "none",
        ),
    ]
    print()
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
