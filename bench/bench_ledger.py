"""The suggestions ledger's .xlsx (代表建议台账) at 20,000 suggestions, with checks that can
fail.

One SQLite file through the real schema (every migration): 600 deputies, 60 handling
departments, and 20,000 suggestions over 2024-2026 (numbers JY<year>-NNNN), each assigned
(交办) to a lead department and 0-2 co-handling ones, with 0-3 confirmed co-signers; 90 % are
answered (A 40 %, B 40 %, C 20 %; 5 % of them answered twice after re-handling), class B
with 1-3 commitments, some done, some with progress updates, the ledger done where all are;
ratings, meetings, priority flags and late answers spread over them. The rows are inserted
in bulk SQL, as the bot's steps would leave them; the bench keeps what each row of the
.xlsx must say (its truth), computed from what it inserted, never from the bot.

`Ledger.export` (the staff's button: read, apply the ledger's rules, write the .xlsx with
openpyxl's write-only mode) is timed; the baseline is a raw openpyxl write-only workbook of
the same cells from the bench's own values (no styles, no formats), in the same run; the
ratio is printed. The file is read back with openpyxl and checked: exactly the 20,000
numbers, in order, and every column of every row equal to the truth.

`Ledger.page` (a tap on /ledger: the filters and the paging done by the database) is timed
over the list's filters and pages, p50 and p99 printed next to the export; each filter's
counts and first page are checked against the truth.

Every check prints PASS or FAIL; `--break KIND` injects a fault in the bench (never in the
bot) to show a check failing.

Run from the project root:  .venv/bin/python -m bench.bench_ledger  (--help for options)
Exit status 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from bench.bench_deputies import Check
from bench.bench_updates import LogTally
from bot.clock import FixedClock
from bot.i18n import Texts
from bot.services import build_services
from bot.services.ledger import LedgerFilter, LedgerStatus
from bot.settings import load_settings
from storage import Database
from storage.db import stamp
from tests.support.world import SHANGHAI, TOKEN

YEARS = (2024, 2025, 2026)
DEPUTIES = 600
DEPARTMENTS = 60
FIRST_DEPUTY = 300_000_001
STAFF_ID = 500_000_001
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=SHANGHAI)  # when staff export it
CLASSES = {
    "A": "A 已解决或基本解决",
    "B": "B 正在解决或列入计划逐步解决",
    "C": "C 因条件限制留作参考",
}
CATEGORIES = ("城市建设", "交通出行", "环境保护", "民生保障", "教育文化", "社会治理")
RATINGS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
COLUMNS = (
    "number",
    "title",
    "lead_deputy",
    "cosigners",
    "category",
    "lead_department",
    "co_departments",
    "assigned",
    "due",
    "answered",
    "on_time",
    "class",
    "met",
    "met_on",
    "rating",
    "rehandled",
    "commitments",
    "next_due",
    "progress",
    "progress_on",
    "priority",
    "status",
    "overdue",
)  # the .xlsx's columns, in order
PER_PAGE = 8  # as /ledger shows them
UPDATES = ("已完成方案设计", "正在施工", "已完成招标", "=已协调相关部门")  # one reads as a formula

BREAKS = {
    "unassign": "one suggestion's 交办 is undone in the database after the truth was kept",
    "edit-commitment": "one commitment's text is changed in the database after the truth",
    "undo-done": "one done commitment is marked not done in the database after the truth",
    "slow": "the timed export waits 5.1 s more",
    "slow-page": "each timed page waits 0.3 s more",
}


# --- the district ----------------------------------------------------------------------------


@dataclass
class Promise:
    text: str
    due_on: date
    done_at: datetime | None
    update: tuple[str, datetime, bool] | None  # the latest progress update


@dataclass
class Planned:
    """One suggestion as the bench inserts it."""

    id: int
    number: str
    title: str
    lead: int
    cosigners: list[int]
    category: str
    lead_department: int
    co_departments: list[int]
    assigned_at: datetime
    due_at: datetime
    priority: bool
    answered_at: datetime | None = None
    outcome: str | None = None
    on_time: bool = True
    met_on: date | None = None
    met: bool = False
    summary: str = ""
    rehandled: bool = False
    rating: str | None = None
    closed: bool = False
    promises: list[Promise] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.answered_at is None:
            return "assigned"
        return "closed" if self.closed else "answered"

    @property
    def ledger_done(self) -> datetime | None:
        """When the last commitment of a class-B answer was done (None: still open)."""
        if self.outcome != "B" or any(p.done_at is None for p in self.promises):
            return None
        return max(p.done_at for p in self.promises if p.done_at is not None)


def deputy_name(deputy_id: int) -> str:
    return f"代表{deputy_id - FIRST_DEPUTY + 1:03d}"


def department_name(department_id: int) -> str:
    return f"区第{department_id:02d}委办局"


def plan(count: int, rng: random.Random) -> list[Planned]:
    """`count` suggestions spread over YEARS, their numbers counted per year."""
    planned: list[Planned] = []
    sequence = dict.fromkeys(YEARS, 0)
    for index in range(count):
        year = YEARS[index * len(YEARS) // count]
        sequence[year] += 1
        lead = FIRST_DEPUTY + rng.randrange(DEPUTIES)
        others = [d for d in rng.sample(range(DEPUTIES), 3) if FIRST_DEPUTY + d != lead]
        departments = rng.sample(range(1, DEPARTMENTS + 1), 3)
        day_of_year = rng.randrange(0, 330 if year < 2026 else 240)
        assigned_at = datetime(year, 1, 5, 9, 0, tzinfo=SHANGHAI) + timedelta(days=day_of_year)
        local = assigned_at.date()
        month = local.month + 3
        due_day = date(local.year + (month - 1) // 12, (month - 1) % 12 + 1, min(local.day, 28))
        s = Planned(
            id=index + 1,
            number=f"JY{year}-{sequence[year]:04d}",
            title=f"关于第{index + 1}号民生事项的建议",
            lead=lead,
            cosigners=sorted(FIRST_DEPUTY + d for d in others[: rng.randrange(0, 4)]),
            category=rng.choice(CATEGORIES),
            lead_department=departments[0],
            co_departments=departments[1 : 1 + rng.randrange(0, 3)],
            assigned_at=assigned_at,
            due_at=datetime.combine(due_day + timedelta(days=1), datetime.min.time(), SHANGHAI),
            priority=rng.random() < 0.1,
        )
        if rng.random() < 0.9:
            answer(s, rng)
        planned.append(s)
    return planned


def answer(s: Planned, rng: random.Random) -> None:
    days = rng.randrange(20, 100)
    s.answered_at = s.assigned_at + timedelta(days=days, hours=rng.randrange(0, 8))
    if s.answered_at > NOW - timedelta(days=1):
        s.answered_at = NOW - timedelta(days=1)
    s.on_time = s.answered_at <= s.due_at
    roll = rng.random()
    s.outcome = "A" if roll < 0.4 else "B" if roll < 0.8 else "C"
    s.met = rng.random() < 0.8
    s.met_on = (s.answered_at - timedelta(days=3)).astimezone(SHANGHAI).date() if s.met else None
    s.summary = f"{s.number}的答复：已研究办理。"
    s.rehandled = rng.random() < 0.05
    if s.outcome == "B":
        for n in range(rng.randrange(1, 4)):
            due_on = (s.answered_at + timedelta(days=30 * (n + 1))).astimezone(SHANGHAI).date()
            done_at = None
            if due_on < NOW.date() and rng.random() < 0.6:
                done_at = datetime.combine(due_on, datetime.min.time(), SHANGHAI) + timedelta(
                    hours=10
                )
            update = None
            if done_at is not None:
                update = ("已按期完成", done_at, True)
            elif rng.random() < 0.5:
                at = s.answered_at + timedelta(days=10 + n)
                update = (rng.choice(UPDATES), at, False)
            s.promises.append(Promise(f"{s.number}的第{n + 1}项承诺", due_on, done_at, update))
    if s.answered_at < NOW - timedelta(days=25):
        s.closed = True
        s.rating = rng.choice([*RATINGS, None])


async def populate(db: Database, planned: list[Planned]) -> None:
    """Everything inserted in bulk, in one transaction, as the bot's steps leave it."""
    at = stamp(NOW - timedelta(days=900))
    suggestions, cosigners, assignments, answers, commitments, updates = [], [], [], [], [], []
    answer_id = 0
    commitment_id = 0
    for s in planned:
        suggestions.append(
            (
                s.id,
                s.number,
                s.lead,
                s.title,
                "事由",
                "具体建议",
                s.category,
                s.state,
                int(s.priority),
                stamp(s.assigned_at),
                stamp(s.assigned_at),
                stamp(s.assigned_at),
                stamp(s.assigned_at),
                stamp(s.due_at),
                stamp(s.answered_at) if s.answered_at else None,
                s.outcome,
                s.rating,
                stamp(s.answered_at + timedelta(days=3)) if s.rating and s.answered_at else None,
                int(s.rehandled),
                stamp(s.ledger_done) if s.ledger_done else None,
                stamp(s.answered_at + timedelta(days=25)) if s.closed and s.answered_at else None,
            )
        )
        cosigners += [(s.id, d, stamp(s.assigned_at)) for d in s.cosigners]
        # closing ends no assignment: the departments that handled it stay active
        assignments.append((s.id, s.lead_department, 1, "active", stamp(s.assigned_at)))
        assignments += [(s.id, d, 0, "active", stamp(s.assigned_at)) for d in s.co_departments]
        if s.answered_at is None or s.outcome is None:
            continue
        rounds = [1, 2] if s.rehandled else [1]
        for round_no in rounds:
            answer_id += 1
            latest = round_no == rounds[-1]
            answers.append(
                (
                    answer_id,
                    s.id,
                    round_no,
                    s.lead_department,
                    s.outcome if latest else "C",
                    int(s.met) if latest else 0,
                    s.met_on.isoformat() if latest and s.met_on else None,
                    s.summary if latest else "第一次答复。",
                    STAFF_ID,
                    stamp(s.answered_at - timedelta(days=0 if latest else 20)),
                    int(s.on_time) if latest else 1,
                )
            )
        for promise in s.promises:
            commitment_id += 1
            commitments.append(
                (
                    commitment_id,
                    s.id,
                    answer_id,
                    promise.text,
                    promise.due_on.isoformat(),
                    stamp(promise.done_at) if promise.done_at else None,
                )
            )
            if promise.update is not None:
                # an earlier update, then the latest: the .xlsx shows the latest only
                first = promise.update[1] - timedelta(days=1)
                updates.append((commitment_id, "开始推进", 0, stamp(first)))
                text, when, done = promise.update
                updates.append((commitment_id, text, int(done), stamp(when)))
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO streets (id, name) VALUES (1, '街镇')")
        await tx.execute(
            "INSERT INTO stations (id, street_id, name, address) VALUES (1, 1, '站', '')"
        )
        people = [FIRST_DEPUTY + d for d in range(DEPUTIES)]
        await tx.executemany(
            "INSERT INTO users (telegram_id, role, locale, full_name, station_id, consent_at,"
            " created_at) VALUES (?, 'deputy', 'zh_CN', ?, 1, ?, ?)",
            [(d, deputy_name(d), at, at) for d in people],
        )
        await tx.execute(
            "INSERT INTO users (telegram_id, role, locale, full_name, consent_at, created_at)"
            " VALUES (?, 'staff', 'zh_CN', '工作人员', ?, ?)",
            (STAFF_ID, at, at),
        )
        await tx.executemany(
            "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, 1, ?)",
            [(d, deputy_name(d), at) for d in people],
        )
        await tx.executemany(
            "INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)",
            [(d, department_name(d), at) for d in range(1, DEPARTMENTS + 1)],
        )
        await tx.executemany(
            "INSERT INTO suggestions (id, number, lead_deputy_id, title, reason, proposals,"
            " category, state, priority, created_at, updated_at, assigned_at,"
            " first_assigned_at, due_at, answered_at, outcome_class, rating, rated_at,"
            " rehandled, ledger_done_at, closed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            suggestions,
        )
        await tx.executemany(
            "INSERT INTO suggestion_cosigners (suggestion_id, deputy_id, state, invited_at)"
            " VALUES (?, ?, 'confirmed', ?)",
            cosigners,
        )
        await tx.executemany(
            "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead, state,"
            " assigned_at) VALUES (?, ?, ?, ?, ?)",
            assignments,
        )
        await tx.executemany(
            "INSERT INTO suggestion_answers (id, suggestion_id, round, department_id,"
            " outcome_class, met_deputy, met_on, summary, recorded_by, answered_at, on_time)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            answers,
        )
        await tx.executemany(
            "INSERT INTO suggestion_commitments (id, suggestion_id, answer_id, text, due_on,"
            " done_at) VALUES (?, ?, ?, ?, ?, ?)",
            commitments,
        )
        await tx.executemany(
            "INSERT INTO commitment_updates (commitment_id, text, done, author_id, at)"
            " VALUES (?, ?, ?, 1, ?)",
            updates,
        )


# --- the truth -------------------------------------------------------------------------------


def naive(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def overdue(s: Planned) -> bool:
    """An answer past its deadline, or a class-B commitment past its date and not done."""
    open_due = [p.due_on for p in s.promises if p.done_at is None]
    late_answer = s.answered_at is None and s.due_at < NOW
    late_promise = (
        s.outcome == "B" and s.ledger_done is None and bool(open_due) and min(open_due) < NOW.date()
    )
    return late_answer or late_promise


def expected_row(s: Planned, texts: Texts) -> list[object]:
    """What the .xlsx row of `s` must hold, from what the bench inserted."""
    yes, no = texts("ledger.yes"), texts("ledger.no")
    open_due = [p.due_on for p in s.promises if p.done_at is None]
    if s.outcome != "B":
        status = None
    else:
        status = texts("ledger.status_done" if s.ledger_done else "ledger.status_open")

    def day(value: date) -> str:  # a date in a text, as the reader writes dates
        return texts.date(datetime.combine(value, datetime.min.time(), SHANGHAI))

    promises = "\n".join(
        texts(
            "ledger.promise_line",
            n=n,
            text=p.text,
            day=day(p.due_on),
            state=texts("ledger.promise_done" if p.done_at else "ledger.promise_open"),
        )
        for n, p in enumerate(s.promises, 1)
    )
    latest = max((p.update for p in s.promises if p.update), key=lambda u: u[1], default=None)
    answered = s.answered_at is not None
    if not answered:
        rating = None
    elif s.rating:
        rating = texts(f"suggestion.rating.{s.rating}")
    else:
        rating = texts("ledger.unrated") if s.closed else None
    return [
        s.number,
        s.title,
        deputy_name(s.lead),
        "、".join(deputy_name(d) for d in s.cosigners) or None,
        s.category,
        department_name(s.lead_department),
        "、".join(department_name(d) for d in s.co_departments) or None,
        naive(s.assigned_at),
        naive(s.due_at - timedelta(days=1)),
        naive(s.answered_at) if s.answered_at else None,
        (yes if s.on_time else no) if answered else None,
        CLASSES[s.outcome] if s.outcome else None,
        (yes if s.met else no) if answered else None,
        datetime.combine(s.met_on, datetime.min.time()) if answered and s.met_on else None,
        rating,
        yes if s.rehandled else no,
        promises or None,
        datetime.combine(min(open_due), datetime.min.time()) if open_due else None,
        latest[0] if latest else None,
        datetime.combine(naive(latest[1]).date(), datetime.min.time()) if latest else None,
        yes if s.priority else no,
        status,
        yes if overdue(s) else no,
    ]


@dataclass(frozen=True)
class Listing:
    """One view of /ledger the bench times, and what it must show."""

    name: str
    wanted: LedgerFilter
    page: int
    total: int
    open: int
    done: int
    first: list[str]  # the numbers on the page, in order


def listings(planned: list[Planned]) -> list[Listing]:
    """The list's filters, each with its truth: counts and the page's numbers."""
    newest = sorted(planned, key=lambda s: s.id, reverse=True)
    departments = {s.lead_department for s in planned}
    department = min(departments)

    def view(
        name: str, wanted: LedgerFilter, keep: Callable[[Planned], bool], page: int = 0
    ) -> Listing:
        kept = [s for s in newest if keep(s)]
        on = [s for s in kept if s.outcome == "B"]
        pages = max(1, -(-len(kept) // PER_PAGE))
        shown = min(page, pages - 1)
        return Listing(
            name,
            wanted,
            page,
            len(kept),
            sum(1 for s in on if not s.ledger_done),
            sum(1 for s in on if s.ledger_done),
            [s.number for s in kept[shown * PER_PAGE : (shown + 1) * PER_PAGE]],
        )

    return [
        view("everything, the first page", LedgerFilter(), lambda s: True),
        view("everything, page 1,000", LedgerFilter(), lambda s: True, 1000),
        view(
            "open on the ledger",
            LedgerFilter(LedgerStatus.OPEN),
            lambda s: s.outcome == "B" and not s.ledger_done,
        ),
        view("done", LedgerFilter(LedgerStatus.DONE), lambda s: bool(s.ledger_done)),
        view(
            "one department",
            LedgerFilter(department=department),
            lambda s: s.lead_department == department,
        ),
        view("class B", LedgerFilter(outcome_class="B"), lambda s: s.outcome == "B"),
        view("overdue", LedgerFilter(overdue=True), overdue),
        view(
            "重点督办, overdue",
            LedgerFilter(overdue=True, priority=True),
            lambda s: s.priority and overdue(s),
        ),
    ]


# --- the faults ------------------------------------------------------------------------------


async def inject(kind: str | None, db: Database, planned: list[Planned]) -> str:
    """The fault of `--break`, in the database the bot reads (the truth stays as it was)."""
    if kind == "unassign":
        victim = planned[len(planned) // 2]
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE suggestions SET first_assigned_at = NULL WHERE id = ?", (victim.id,)
            )
        return f"{victim.number} no longer assigned"
    if kind == "edit-commitment":
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE suggestion_commitments SET text = text || '（改）' WHERE id = 7"
            )
        return "commitment 7 edited"
    if kind == "undo-done":
        async with db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT id FROM suggestion_commitments WHERE done_at IS NOT NULL LIMIT 1"
            )
            if row is not None:
                await tx.execute(
                    "UPDATE suggestion_commitments SET done_at = NULL WHERE id = ?", (row[0],)
                )
        return "one done commitment undone"
    return ""


# --- the run ---------------------------------------------------------------------------------


async def timed(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await work()
        seconds.append(time.perf_counter() - began)
    return seconds, result


def raw_xlsx(rows: list[list[object]]) -> bytes:
    """The baseline: the same cells, written by openpyxl's write-only mode, nothing more."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("ledger")
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_back(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def check_numbers(rows: list[list[object]], planned: list[Planned]) -> Check:
    got = [r[0] for r in rows[1:]]
    wanted = [s.number for s in planned]
    missing = sorted(set(wanted) - set(got))
    extra = sorted(set(got) - set(wanted), key=str)
    twice = len(got) - len(set(got))
    return Check(
        f"the .xlsx holds exactly the {len(wanted):,} numbers, once each, in order",
        got == wanted,
        f"{len(got):,} rows; {len(missing)} missing, {len(extra)} not in the truth, {twice} twice"
        + (f"; e.g. missing {missing[:3]}" if missing else "")
        + ("; order differs" if not missing and not extra and not twice and got != wanted else ""),
    )


def check_values(rows: list[list[object]], planned: list[Planned], texts: Texts) -> Check:
    by_number = {r[0]: r for r in rows[1:]}
    wrong: list[str] = []
    cells = 0
    for s in planned:
        got = by_number.get(s.number)
        if got is None:
            continue
        want = expected_row(s, texts)
        cells += len(want)
        for column, (a, b) in enumerate(zip(got, want, strict=True)):
            if a != b:
                wrong.append(f"{s.number} column {column + 1}: {a!r} != {b!r}")
    header_ok = rows[0] == [texts(f"ledger.col_{name}") for name in COLUMNS]
    return Check(
        "every column of every row equals the bench's truth (and the header is right)",
        not wrong and header_ok and cells > 0,
        f"{cells:,} cells compared, {len(wrong)} differ"
        + ("" if header_ok else "; the header differs")
        + (f"; first: {wrong[:2]}" if wrong else ""),
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_ledger",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<16} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--suggestions", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of the export, and baseline")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--max-export", type=float, default=5.0, help="seconds, the median")
    parser.add_argument("--page-rounds", type=int, default=5, help="rounds over the filters")
    parser.add_argument("--max-page", type=float, default=0.2, help="seconds, a page's p99")
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    args = parser.parse_args(argv)
    if not 1 <= args.suggestions <= 9999 * len(YEARS):
        parser.error(f"--suggestions must be 1 to {9999 * len(YEARS):,} (four-digit numbers)")
    return args


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile `p` of `values`."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)] if ordered else 0.0


def row(name: str, values: list[float], baseline: list[float] | None = None) -> str:
    line = (
        f"{name:<52}{len(values):>6}{statistics.median(values):>11.3f}"
        f"{min(values):>10.3f}{max(values):>10.3f}"
    )
    if baseline:
        line += f"{statistics.median(values) / statistics.median(baseline):>8.1f}×"
    return line


async def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        return await run(Path(folder), argv)


async def run(folder: Path, argv: list[str] | None) -> int:
    args = parse_args(argv)
    load_at_start = os.getloadavg()[0]
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    logging.getLogger().setLevel(logging.WARNING)
    if args.breaking:
        print(f"BREAK {args.breaking}: {BREAKS[args.breaking]}")
    began_all = time.perf_counter()
    clock = FixedClock(NOW)
    settings = load_settings(
        _env_file=None, bot_token=TOKEN, database_path=folder / "bench.sqlite3"
    )
    db = Database(settings.database_path)
    await db.connect()
    services = build_services(settings, db, clock)
    texts = services.i18n.texts("zh_CN")
    planned = plan(args.suggestions, random.Random(args.seed))
    began = time.perf_counter()
    await populate(db, planned)
    seeded = time.perf_counter() - began
    injected = await inject(args.breaking, db, planned)
    staff = await services.users.get(STAFF_ID)
    if staff is None:
        raise RuntimeError("the staff member was not created")
    counts = await db.fetchone(
        "SELECT (SELECT count(*) FROM suggestion_answers), (SELECT count(*) FROM"
        " suggestion_commitments), (SELECT count(*) FROM commitment_updates),"
        " (SELECT count(*) FROM suggestion_assignments), (SELECT count(*) FROM"
        " suggestion_cosigners)"
    )
    print(
        f"district: {len(planned):,} suggestions over {len(YEARS)} years, {DEPUTIES} deputies, "
        f"{DEPARTMENTS} departments; {counts[0]:,} answers, {counts[1]:,} commitments, "
        f"{counts[2]:,} progress updates, {counts[3]:,} assignments, {counts[4]:,} co-signers; "
        f"inserted in {seeded:.1f} s" + (f"; {injected}" if injected else "")
    )

    async def export() -> bytes:
        made = await services.ledger.export(staff, LedgerFilter(), texts)
        if args.breaking == "slow":
            await asyncio.sleep(5.1)
        return made.data

    async def read_only() -> Any:
        return await services.ledger.repo.rows(await services.ledger.selection(LedgerFilter()))

    truth = [[texts(f"ledger.col_{name}") for name in COLUMNS]]
    truth += [expected_row(s, texts) for s in planned]

    async def baseline() -> bytes:
        return await asyncio.to_thread(raw_xlsx, truth)

    export_times, data = await timed(args.runs, export)
    read_times, _ = await timed(args.runs, read_only)
    baseline_times, _ = await timed(args.runs, baseline)
    views = listings(planned)
    page_times: list[float] = []
    wrong_pages: dict[str, str] = {}  # a filter → what it showed instead of the truth
    for _ in range(args.page_rounds):
        for view in views:
            began = time.perf_counter()
            shown = await services.ledger.page(staff, view.wanted, view.page, PER_PAGE)
            if args.breaking == "slow-page":
                await asyncio.sleep(0.3)
            page_times.append(time.perf_counter() - began)
            got = (shown.total, shown.open, shown.done, [i.entry.number for i in shown.items])
            if got != (view.total, view.open, view.done, view.first):
                wrong_pages[view.name] = f"{got[:3]} != {(view.total, view.open, view.done)}"
    began = time.perf_counter()
    rows = read_back(data)
    reading_back = time.perf_counter() - began
    median = statistics.median(export_times)
    checks = [
        check_numbers(rows, planned),
        check_values(rows, planned, texts),
        Check(
            f"the .xlsx under {args.max_export:g} s",
            median < args.max_export,
            f"median {median:.3f} s of {len(export_times)}, max {max(export_times):.3f} s, "
            f"{len(data) / 1e6:.1f} MB",
        ),
        Check(
            "every filter of /ledger shows the truth's counts and page",
            not wrong_pages,
            f"{len(views)} filters × {args.page_rounds} rounds; "
            + (
                f"{len(wrong_pages)} differ: {list(wrong_pages.items())[:2]}"
                if wrong_pages
                else "all right"
            ),
        ),
        Check(
            f"a page of /ledger under {args.max_page * 1000:g} ms (p99)",
            percentile(page_times, 99) < args.max_page,
            f"p50 {percentile(page_times, 50) * 1000:.1f} ms, "
            f"p99 {percentile(page_times, 99) * 1000:.1f} ms of {len(page_times)}",
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
    await db.close()

    on_ledger = sum(1 for s in planned if s.outcome == "B")
    done = sum(1 for s in planned if s.ledger_done)
    unanswered = sum(1 for s in planned if s.answered_at is None)
    print(
        f"on the ledger (class B): {on_ledger:,}, {done:,} of them done; unanswered {unanswered:,}"
    )
    print()
    print(f"{'seconds':<52}{'runs':>6}{'median':>11}{'min':>10}{'max':>10}{'ratio':>9}")
    print(
        row("Ledger.export: read, rules, .xlsx (the staff's button)", export_times, baseline_times)
    )
    print(row("  of it: LedgerRepo.rows (the reads)", read_times))
    print(row("baseline: the same cells, raw openpyxl write-only", baseline_times))
    print(
        f"{'Ledger.page: a tap on /ledger (filters, paging)':<52}{len(page_times):>6}"
        f"{'p50':>11}{percentile(page_times, 50):>10.3f}{'p99':>10}"
        f"{percentile(page_times, 99):>9.3f}"
    )
    print(
        f"reading the file back for the checks took {reading_back:.1f} s; load average (1 min) "
        f"at start {load_at_start:.2f}, now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
        f"the whole run took {time.perf_counter() - began_all:.0f} s"
    )
    print()
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
