"""`python -m bot report --format json` at the scale of a district, with checks that can fail.

One SQLite file through the real schema (every migration), built in bulk: 20 streets of 5
stations, 500 deputies, 2,000 voters, about 5,100 duty turns with their deputies and
absences, 100,000 visits, 1,000,000 opinions in every state and rating, 20,000 suggestions
in every state with their answers, 36 consultations with comments and two rating ballots,
spread over 2024-01-01 … 2026-11-30. The bench chose every row, and counts every figure of
2026 from its own choices as it makes them (for the district and for one street): those
counts are the truth the report is checked against, never the bot's own numbers.

Timed (median of --runs): `Figures.compute` for the year 2026 and the JSON dump, as
`python -m bot report --year 2026 --format json` does them, for the whole district and for
one street. Baseline from the same file: a bare `SELECT count(*) FROM opinions WHERE
created_at` over the year; the output gives the ratio. Every check prints PASS or FAIL;
`--break KIND` injects a fault in the bench's data or timing (never in the bot).

Run from the project root:  .venv/bin/python -m bench.bench_report  (--help for options)
Exit status 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_deputies import Check
from bench.bench_updates import LogTally
from bot.clock import FixedClock
from bot.services import build_services
from bot.services.figures import Area, AreaKind, Period
from bot.settings import Settings, load_settings
from storage import Database
from storage.db import stamp
from tests.support.world import SHANGHAI, TOKEN

STREETS = 20
STATIONS_PER_STREET = 5
DEPUTIES_PER_STATION = 5
VOTERS_PER_STATION = 20
FIRST_DEPUTY = 300_000_001
FIRST_VOTER = 400_000_001
STAFF_ID = 500_000_001
YEAR = 2026
FIRST_DAY = date(2024, 1, 1)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
YEAR_START = datetime(YEAR, 1, 1, tzinfo=SHANGHAI)
YEAR_END = datetime(YEAR + 1, 1, 1, tzinfo=SHANGHAI)
THE_STREET = 7  # the street timed on its own (a id from 1 to STREETS)
CATEGORIES = (
    "urban", "traffic", "elderly", "education", "environment",
    "housing", "jobs", "safety", "culture", "other",
)  # fmt: skip
RATED = ("satisfied", "basically", "unsatisfied")
BATCH = 100_000
CLASS_PROGRESS = {"A": True, "B": True, "C": False}  # the default classes (no year set)
CLASS_LEDGER = {"A": False, "B": True, "C": False}

# What migration 0012 adds (storage/migrations/0012_figures.sql); the bench adds it itself
# only to a schema that lacks it, and says so.
FIGURES_INDEXES = {
    "opinions_figures": "CREATE INDEX opinions_figures ON opinions(station_id, category,"
    " created_at, status, satisfaction, solved, holder_id, answered_at)"
    " WHERE project_id IS NULL",
    "opinions_answer_times": "CREATE INDEX opinions_answer_times ON opinions(station_id,"
    " created_at, answered_at) WHERE project_id IS NULL AND answered_at IS NOT NULL",
    "opinions_answer_order": "CREATE INDEX opinions_answer_order ON opinions("
    "unixepoch(answered_at) - unixepoch(created_at), created_at)"
    " WHERE project_id IS NULL AND answered_at IS NOT NULL",
}
BREAKS = {
    "drop-opinion": "one opinion received in 2026 is deleted after the truth was counted",
    "edge-opinion": "an opinion of 2026-01-01 00:00 Shanghai is moved one second earlier",
    "extra-visit": "a visit of 2026 the truth does not know is logged",
    "reopen": "one answered opinion of 2026 loses its answer (reopened, as 'not solved' does)",
    "no-index": "the figures' indexes (migration 0012) are dropped before timing",
    "slow": "each timed report waits 0.6 s inside its timer",
}


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def iso(seconds: int | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


START_TS, NOW_TS = ts(datetime.combine(FIRST_DAY, datetime.min.time(), SHANGHAI)), ts(NOW)
IN_YEAR = (ts(YEAR_START), ts(YEAR_END))


def in_year(seconds: int) -> bool:
    return IN_YEAR[0] <= seconds < IN_YEAR[1]


def local_day(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, SHANGHAI).date()


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


# --- the truth, counted as the rows are chosen -------------------------------------------


@dataclass
class OpinionTally:
    received: int = 0
    accepted: int = 0
    declined: int = 0
    answered: int = 0
    rated: int = 0
    solved: int = 0
    satisfied: int = 0
    categories: Counter[str] = field(default_factory=Counter)


@dataclass
class Truth:
    """2026's figures for one scope (the district, or one street), as the bench counts them."""

    street: int | None  # None: the district
    street_names: dict[int, str]
    opinions: OpinionTally = field(default_factory=OpinionTally)
    by_street: dict[int, OpinionTally] = field(default_factory=lambda: defaultdict(OpinionTally))
    took: list[int] = field(default_factory=list)
    attended: int = 0
    annual: int = 0
    visits: int = 0
    untied: int = 0
    voters_met: int = 0
    things_done: int = 0
    suggestions: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    consultations: tuple[int, int] = (0, 0)
    projects: list[dict[str, Any]] = field(default_factory=list)

    def covers(self, street: int) -> bool:
        return self.street is None or street == self.street

    def json(self) -> dict[str, Any]:
        o = self.opinions
        streets = sorted(self.street_names) if self.street is None else [self.street]

        def ranked(counter: Counter[str]) -> list[tuple[str, int]]:
            return sorted(counter.items(), key=lambda item: (-item[1], item[0]))

        answered = [(z, s) for z, _, s in self.suggestions if s["answered"]]
        progressed = [(z, s) for z, s in answered if CLASS_PROGRESS.get(s["class"], False)]
        rated = [s for _, _, s in self.suggestions if s["rating"] is not None]
        by_class = {"A": 0, "B": 0, "C": 0}
        for _, s in answered:
            by_class[s["class"]] += 1
        per_street = []
        for z in streets:
            t = self.by_street.get(z, OpinionTally())
            done = [s for street, s in answered if street == z]
            moved = [s for s in done if CLASS_PROGRESS.get(s["class"], False)]
            per_street.append(
                {
                    "id": z,
                    "name": self.street_names[z],
                    "opinions_received": t.received,
                    "response_rate": rate(t.answered, t.received - t.declined),
                    "satisfied_rate": rate(t.satisfied, t.rated),
                    "suggestions_answered": len(done),
                    "solved_or_progressed_rate": rate(len(moved), len(done)),
                }
            )
        district = self.street is None
        verdicts = Counter(p["verdict"] for p in self.projects)
        return {
            "period": {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"},
            "area": {
                "kind": "district" if district else "street",
                "id": self.street,
                "name": None if district else self.street_names[self.street or 0],
            },
            "deputy_work": {
                "deputy_attendances": self.attended + self.untied,
                "voter_contacts": self.voters_met,
                "things_done": self.things_done,
                "annual_accounts_given": self.annual,
            },
            "opinions": {
                "opinions_received": o.received,
                "accepted": o.accepted,
                "declined": o.declined,
                "answered": o.answered,
                "response_rate": rate(o.answered, o.received - o.declined),
                "solved_rate": rate(o.solved, o.rated),
                "satisfied_rate": rate(o.satisfied, o.rated),
                "median_days_to_answer": (
                    round(statistics.median(self.took) / 86400, 2) if self.took else None
                ),
                "by_category": dict(ranked(o.categories)),
                "top_categories_by_street": {
                    self.street_names[z]: [
                        list(p) for p in ranked(self.by_street[z].categories)[:5]
                    ]
                    for z in streets
                    if self.by_street.get(z) and self.by_street[z].received
                },
            },
            "suggestions": {
                "suggestions_submitted": len(self.suggestions),
                "assigned": sum(s["assigned"] for _, _, s in self.suggestions),
                "answered": len(answered),
                "answered_on_time": sum(s["first_on_time"] for _, _, s in self.suggestions),
                "by_class": by_class,
                "solved_or_progressed": {
                    "count": len(progressed),
                    "rate": rate(len(progressed), len(answered)),
                },
                "satisfied_rate": rate(
                    sum(s["rating"] in ("satisfied", "basically") for s in rated), len(rated)
                ),
                "met_before_answer_rate": rate(sum(s["met"] for _, s in answered), len(answered)),
                "ledger_open": sum(
                    CLASS_LEDGER.get(s["class"], False) and not s["ledger_done"]
                    for _, s in answered
                ),
                "overdue": sum(s["overdue"] for _, _, s in self.suggestions),
            },
            "consultations": (
                {"held": self.consultations[0], "comments": self.consultations[1]}
                if district
                else None
            ),
            "projects": (
                {
                    "projects_rated": len(self.projects),
                    "verdicts": {v: verdicts[v] for v in ("satisfied", "basic", "unsatisfied")},
                    "rated": self.projects,
                }
                if district
                else None
            ),
            "streets": per_street,
        }


# --- the district, row by row ------------------------------------------------------------


@dataclass
class District:
    station_street: dict[int, int]
    deputy_station: dict[int, int]
    voters_of: dict[int, list[int]]
    truths: list[Truth]
    attended: set[tuple[int, int]] = field(default_factory=set)  # (turn, deputy), any year

    def street_of_deputy(self, deputy: int) -> int:
        return self.station_street[self.deputy_station[deputy]]


async def insert(db: Database, sql: str, rows: list[tuple[Any, ...]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with db.transaction() as tx:
            await tx.executemany(sql, rows[start : start + BATCH])


@asynccontextmanager
async def loading(db: Database, table: str) -> AsyncIterator[None]:
    """Bulk loading: `table`'s own indexes dropped while its rows go in, then made again from
    their schema SQL (migrations' and all), as they were."""
    indexes = await db.fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL",
        (table,),
    )
    async with db.transaction() as tx:
        for name, _ in indexes:
            await tx.execute(f'DROP INDEX "{name}"')
    yield
    async with db.transaction() as tx:
        for _, sql in indexes:
            await tx.execute(sql)


async def build_places(db: Database) -> District:
    names = {z: f"第{z:02d}街道" for z in range(1, STREETS + 1)}
    stations = {
        (z - 1) * STATIONS_PER_STREET + s: z
        for z in range(1, STREETS + 1)
        for s in range(1, STATIONS_PER_STREET + 1)
    }
    deputies = {
        FIRST_DEPUTY + (station - 1) * DEPUTIES_PER_STATION + k: station
        for station in stations
        for k in range(DEPUTIES_PER_STATION)
    }
    voters = {
        station: [
            FIRST_VOTER + (station - 1) * VOTERS_PER_STATION + k for k in range(VOTERS_PER_STATION)
        ]
        for station in stations
    }
    at = stamp(datetime.combine(FIRST_DAY, datetime.min.time(), SHANGHAI))
    await insert(db, "INSERT INTO streets (id, name) VALUES (?, ?)", list(names.items()))
    await insert(
        db,
        "INSERT INTO stations (id, street_id, name) VALUES (?, ?, ?)",
        [
            (s, z, f"{names[z]}第{(s - 1) % STATIONS_PER_STREET + 1}联络站")
            for s, z in stations.items()
        ],
    )
    users = [(d, "deputy", s) for d, s in deputies.items()]
    users += [(v, "voter", s) for s, ids in voters.items() for v in ids]
    users.append((STAFF_ID, "staff", None))
    await insert(
        db,
        "INSERT INTO users (telegram_id, role, locale, station_id, consent_at, created_at)"
        " VALUES (?, ?, 'zh_CN', ?, ?, ?)",
        [(u, role, s, at, at) for u, role, s in users],
    )
    await insert(
        db,
        "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)",
        [(d, f"代表{d - FIRST_DEPUTY + 1:03d}", s, at) for d, s in deputies.items()],
    )
    truths = [Truth(None, names), Truth(THE_STREET, names)]
    return District(stations, deputies, voters, truths)


def months() -> Iterator[tuple[int, int]]:
    for year in range(FIRST_DAY.year, YEAR + 1):
        for month in range(1, 13):
            yield year, month


async def build_turns(
    db: Database, d: District, rng: random.Random
) -> dict[int, list[tuple[int, int]]]:
    """Monthly receptions (two deputies), quarterly home visits and a yearly annual
    account (every deputy of the station), some deputies absent; returns each deputy's
    (turn, start) pairs."""
    turns: list[tuple[Any, ...]] = []
    pairs: list[tuple[int, int]] = []
    absent: list[tuple[int, int]] = []
    of_deputy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    by_station: dict[int, list[int]] = defaultdict(list)
    for deputy, station in d.deputy_station.items():
        by_station[station].append(deputy)
    turn_id = 0
    at = stamp(NOW)
    for station, deputies in sorted(by_station.items()):
        street = d.station_street[station]
        for year, month in months():
            plan = [
                (
                    "reception",
                    datetime(year, month, 10, 9, tzinfo=SHANGHAI),
                    deputies[month % 5 :][:2] or deputies[:2],
                )
            ]
            if month % 3 == 0:
                plan.append(
                    ("home_visit", datetime(year, month, 20, 14, tzinfo=SHANGHAI), deputies)
                )
            if month == 11:
                plan.append(
                    ("annual_account", datetime(year, 11, 22, 9, tzinfo=SHANGHAI), deputies)
                )
            for kind, start, chosen in plan:
                turn_id += 1
                end = start + timedelta(hours=2)
                turns.append((turn_id, kind, station, stamp(start), stamp(end), f"b-{turn_id}", at))
                for deputy in chosen:
                    pairs.append((turn_id, deputy))
                    missed = rng.random() < 0.08
                    if missed:
                        absent.append((turn_id, deputy))
                    past = end <= NOW
                    of_deputy[deputy].append((turn_id, ts(start)))
                    if past and not missed:
                        d.attended.add((turn_id, deputy))
                        if in_year(ts(start)):
                            for truth in d.truths:
                                if truth.covers(street):
                                    truth.attended += 1
                                    truth.annual += kind == "annual_account"
    await insert(
        db,
        "INSERT INTO duty_turns (id, kind, station_id, starts_at, ends_at, uid, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        turns,
    )
    await insert(db, "INSERT INTO duty_turn_deputies (turn_id, deputy_id) VALUES (?, ?)", pairs)
    await insert(
        db,
        "INSERT INTO turn_absences (turn_id, deputy_id, reason, at) VALUES (?, ?, '出差', ?)",
        [(t, deputy, at) for t, deputy in absent],
    )
    return of_deputy


async def build_visits(
    db: Database,
    d: District,
    rng: random.Random,
    count: int,
    of_deputy: dict[int, list[tuple[int, int]]],
) -> None:
    deputies = sorted(d.deputy_station)
    days = (NOW.date() - FIRST_DAY).days + 1
    rows = []
    at = stamp(NOW)
    for _ in range(count):
        deputy = rng.choice(deputies)
        turn = None
        day = FIRST_DAY + timedelta(days=rng.randrange(days))
        if rng.random() < 0.2:  # logged from a turn's "log this visit?" prompt
            turn, start = rng.choice(of_deputy[deputy])
            day = local_day(start)
        met = rng.randint(0, 40)
        done = rng.choice(("为居民协调解决停车问题", "", " ", "修好楼道灯", "", ""))
        deleted = rng.random() < 0.02
        rows.append(
            (
                deputy,
                day.isoformat(),
                d.deputy_station[deputy],
                turn,
                met,
                done,
                at,
                at,
                at if deleted else None,
            )
        )
        if deleted or day.year != YEAR:
            continue
        street = d.street_of_deputy(deputy)
        for truth in d.truths:
            if truth.covers(street):
                truth.visits += 1
                truth.voters_met += met
                truth.things_done += bool(done.strip())
                truth.untied += (turn, deputy) not in d.attended
    await insert(
        db,
        "INSERT INTO visits (deputy_id, kind, visit_date, station_id, turn_id, voters_met,"
        " opinions_received, done_for_voters, created_at, updated_at, deleted_at)"
        " VALUES (?, 'reception', ?, ?, ?, ?, 0, ?, ?, ?, ?)",
        rows,
    )


# what voters write, of the lengths they write it (the rows weigh what real ones weigh)
TEXTS = tuple(
    ("小区门口的路灯坏了很久，晚上出行很不方便，希望尽快修复。" * k)[: 30 + 37 * k]
    for k in range(1, 9)
)
OPINION_FATES = (
    ("submitted", 5), ("accepted", 4), ("accepted_by_staff", 4), ("declined", 2),
    ("declined_after_claim", 2), ("answered", 8), ("answered_by_staff", 2),
    ("closed", 58), ("not_rated", 12), ("project", 3),
)  # fmt: skip


async def build_opinions(db: Database, d: District, rng: random.Random, count: int) -> None:
    fates = [f for f, weight in OPINION_FATES for _ in range(weight)]
    stations = sorted(d.station_street)
    deputies_of: dict[int, list[int]] = defaultdict(list)
    for deputy, station in d.deputy_station.items():
        deputies_of[station].append(deputy)
    project = 1
    async with db.transaction() as tx:
        project = await tx.execute(
            "INSERT INTO projects (year, title, state, created_at)"
            " VALUES (?, '督办项目', 'chosen', ?)",
            (YEAR, stamp(NOW)),
        )
    sql = (
        "INSERT INTO opinions (id, tracking_no, author_id, station_id, category, text, show_name,"
        " status, created_at, updated_at, unclaimed_since, holder_id, claimed_at, answered_at,"
        " solved, satisfaction, project_id) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?)"
    )
    span = NOW_TS - START_TS
    # numbered in the order they came in, as the bot numbers them
    moments = sorted(START_TS + rng.randrange(span) for _ in range(count))
    rows: list[tuple[Any, ...]] = []
    district, street_truth = d.truths
    for n, created in enumerate(moments, start=1):
        station = rng.choice(stations)
        street = d.station_street[station]
        # each street has its own favourite topics: the top five differ by street
        category = CATEGORIES[(int(rng.expovariate(0.45)) + street) % len(CATEGORIES)]
        fate = rng.choice(fates)
        status, holder, claimed, answered, solved, satisfaction = (
            "submitted",
            None,
            None,
            None,
            None,
            None,
        )
        claim_at = created + rng.randint(600, 3 * 86400)
        answer_at = claim_at + rng.randint(3600, 20 * 86400)
        if fate in ("accepted", "declined_after_claim"):
            status = "accepted" if fate == "accepted" else "declined"
            holder, claimed = rng.choice(deputies_of[station]), claim_at
        elif fate == "accepted_by_staff":
            status, claimed = "accepted", claim_at
        elif fate == "declined":
            status = "declined"
        elif fate == "answered":
            status, holder, claimed, answered = (
                "answered",
                rng.choice(deputies_of[station]),
                claim_at,
                answer_at,
            )
            solved = rng.choice((None, "no"))
        elif fate == "answered_by_staff":
            status, answered = "answered", answer_at
        elif fate in ("closed", "not_rated", "project"):
            status, holder, claimed, answered = (
                "closed",
                rng.choice(deputies_of[station]),
                claim_at,
                answer_at,
            )
            solved = rng.choice(("yes", "yes", "partly", "no"))
            satisfaction = rng.choice(RATED) if fate != "not_rated" else "not_rated"
        is_project = fate == "project"
        at = iso(created)
        rows.append((n, f"HD-B-{n:07d}", rng.choice(d.voters_of[station]), station, category,
                     rng.choice(TEXTS), status, at, at, at, holder, iso(claimed), iso(answered),
                     solved, satisfaction, project if is_project else None))  # fmt: skip
        if not is_project and in_year(created):
            for truth in (district, street_truth):
                if not truth.covers(street):
                    continue
                for tally in (truth.opinions, truth.by_street[street]):
                    tally.received += 1
                    tally.accepted += (
                        status in ("accepted", "answered", "closed") or holder is not None
                    )
                    tally.declined += status == "declined"
                    tally.answered += answered is not None
                    rated = satisfaction in RATED
                    tally.rated += rated
                    tally.solved += rated and solved == "yes"
                    tally.satisfied += satisfaction in ("satisfied", "basically")
                    tally.categories[category] += 1
                if answered is not None:
                    truth.took.append(answered - created)
        if len(rows) == BATCH:
            await insert(db, sql, rows)
            rows = []
    await insert(db, sql, rows)


SUGGESTION_FATES = (
    "submitted", "withdrawn", "declined", "assigned", "returned", "answered_a", "answered_b",
    "closed_b_done", "closed_c", "rehandling", "closed_round_two", "closed_basically",
    "closed_unrated",
)  # fmt: skip


async def build_suggestions(db: Database, d: District, rng: random.Random, count: int) -> None:
    deputies = sorted(d.deputy_station)
    async with db.transaction() as tx:
        department = await tx.execute(
            "INSERT INTO departments (name, created_at) VALUES ('区城管委', ?)", (stamp(NOW),)
        )
    rows: list[tuple[Any, ...]] = []
    answers: list[tuple[Any, ...]] = []
    span = NOW_TS - START_TS
    for n in range(1, count + 1):
        lead = rng.choice(deputies)
        created = START_TS + rng.randrange(span)
        fate = rng.choice(SUGGESTION_FATES)
        assigned = created + rng.randint(86400, 12 * 86400)
        due = assigned + 92 * 86400
        answered = assigned + rng.randint(5 * 86400, 120 * 86400)
        state, first, latest, code, rating, ledger_done, rehandled = (
            fate,
            assigned,
            assigned,
            None,
            None,
            None,
            0,
        )
        rounds: list[tuple[int, str, int, int, int]] = []  # round, class, met, on time, at
        met = int(rng.random() < 0.7)
        on_time = int(answered <= due)
        if fate in ("submitted", "withdrawn", "declined"):
            first = latest = None
            due = None
        elif fate == "assigned":
            due = NOW_TS + rng.randint(-30, 30) * 86400
        elif fate == "returned":
            pass
        elif fate in ("answered_a", "answered_b"):
            state, code = "answered", fate[-1].upper()
        elif fate == "closed_b_done":
            state, code, rating, ledger_done = "closed", "B", "satisfied", answered + 30 * 86400
        elif fate == "closed_c":
            state, code, rating = "closed", "C", rng.choice(("unsatisfied", "basically"))
        elif fate == "rehandling":
            state, code, rating, rehandled = "rehandling", "C", "unsatisfied", 1
            rounds.append((1, "C", met, on_time, answered))
            due = NOW_TS + rng.randint(-20, 40) * 86400
        elif fate == "closed_round_two":
            state, code, rating, rehandled = "closed", "A", "satisfied", 1
            rounds.append((1, "C", 0, on_time, answered))
            answered += 50 * 86400
            met, on_time = 1, int(rng.random() < 0.5)
        elif fate == "closed_basically":
            state, code, rating = "closed", "B", "basically"
        elif fate == "closed_unrated":
            state, code = "closed", "A"
        if code is not None:
            rounds.append((len(rounds) + 1, code, met, on_time, answered))
        last_answer = rounds[-1][4] if rounds else None
        rows.append((n, f"JY-B-{n:06d}", lead, state, iso(created), iso(created), iso(first),
                     iso(latest), iso(due), iso(last_answer), code, rating, iso(ledger_done),
                     rehandled))  # fmt: skip
        answers += [(n, r, department, c, m, STAFF_ID, iso(at), t) for r, c, m, t, at in rounds]
        if not in_year(created):
            continue
        street = d.street_of_deputy(lead)
        facts = {
            "assigned": first is not None,
            "answered": code is not None,
            "class": code,
            "rating": rating,
            "ledger_done": ledger_done is not None,
            "first_on_time": bool(rounds and rounds[0][3]),
            "met": bool(rounds and rounds[-1][2]),
            "overdue": state in ("assigned", "rehandling") and due is not None and due < NOW_TS,
        }
        for truth in d.truths:
            if truth.covers(street):
                truth.suggestions.append((street, fate, facts))
    await insert(
        db,
        "INSERT INTO suggestions (id, number, lead_deputy_id, title, reason, proposals,"
        " category, state, created_at, updated_at, first_assigned_at, assigned_at, due_at,"
        " answered_at, outcome_class, rating, ledger_done_at, rehandled) VALUES (?, ?, ?,"
        " '标题', '事由', '建议', 'urban', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    await insert(
        db,
        "INSERT INTO suggestion_answers (suggestion_id, round, department_id, outcome_class,"
        " met_deputy, summary, recorded_by, answered_at, on_time) VALUES (?, ?, ?, ?, ?, '答复',"
        " ?, ?, ?)",
        answers,
    )


async def build_consultations_and_ballots(db: Database, d: District, rng: random.Random) -> None:
    district = d.truths[0]
    held = comments = 0
    voter = d.voters_of[1][0]
    at = stamp(NOW)
    for n, (year, month) in enumerate(months()):
        created = datetime(year, month, 3, 9, tzinfo=SHANGHAI)
        if created > NOW:
            continue
        async with db.transaction() as tx:
            cid = await tx.execute(
                "INSERT INTO consultations (title, audience, deadline, state, created_at)"
                " VALUES (?, 'everyone', ?, 'closed', ?)",
                (f"条例草案{n}", stamp(created + timedelta(days=20)), stamp(created)),
            )
            live, withdrawn = rng.randint(0, 80), rng.randint(0, 4)
            await tx.executemany(
                "INSERT INTO consultation_comments (consultation_id, author_id, text, author_kind,"
                " created_at, updated_at, withdrawn_at) VALUES (?, ?, '意见', 'voter', ?, ?, ?)",
                [
                    (cid, voter, at, at, at if k < withdrawn else None)
                    for k in range(live + withdrawn)
                ],
            )
        if created.year == YEAR:
            held, comments = held + 1, comments + live
    district.consultations = (held, comments)
    entitled = len(d.deputy_station)
    for closed in (
        datetime(YEAR - 1, 12, 20, 18, tzinfo=SHANGHAI),
        datetime(YEAR, 11, 25, 18, tzinfo=SHANGHAI),
    ):
        async with db.transaction() as tx:
            bid = await tx.execute(
                "INSERT INTO ballots (year, purpose, mode, state, entitled, opened_at, closed_at)"
                " VALUES (?, 'rating', 'rating', 'closed', ?, ?, ?)",
                (closed.year, entitled, stamp(closed - timedelta(days=7)), stamp(closed)),
            )
            rows = []
            for position in range(30):
                pid = await tx.execute(
                    "INSERT INTO projects (year, title, state, created_at)"
                    " VALUES (?, ?, 'chosen', ?)",
                    (closed.year, f"{closed.year}年民生实事{position + 1:02d}", at),
                )
                await tx.execute(
                    "INSERT INTO ballot_projects (ballot_id, project_id, position)"
                    " VALUES (?, ?, ?)",
                    (bid, pid, position),
                )
                satisfied = rng.randint(100, 400)
                basic = rng.randint(0, entitled - satisfied)
                tally = {
                    "satisfied": satisfied,
                    "basic": basic,
                    "unsatisfied": entitled - satisfied - basic,
                }
                await tx.executemany(
                    "INSERT INTO ballot_tallies (ballot_id, project_id, choice, votes)"
                    " VALUES (?, ?, ?, ?)",
                    [(bid, pid, c, v) for c, v in tally.items()],
                )
                verdict = (
                    "satisfied" if satisfied * 2 > entitled
                    else "basic" if (satisfied + basic) * 2 > entitled
                    else "unsatisfied"
                )  # fmt: skip
                title = f"{closed.year}年民生实事{position + 1:02d}"
                rows.append(((-satisfied, -(satisfied + basic)), pid, title, verdict))
        if closed.year == YEAR:
            district.projects = [
                {"project_id": pid, "title": title, "year": YEAR, "verdict": verdict}
                for _, pid, title, verdict in sorted(rows)
            ]


async def apply_break(kind: str | None, db: Database) -> None:
    if kind is None or kind in ("slow", "no-index"):
        return
    async with db.transaction() as tx:
        if kind == "drop-opinion":
            await tx.execute(
                "DELETE FROM opinions WHERE id = (SELECT min(id) FROM opinions"
                " WHERE created_at >= ? AND project_id IS NULL)",
                (stamp(YEAR_START),),
            )
        elif kind == "edge-opinion":
            await tx.execute(
                "UPDATE opinions SET created_at = ? WHERE id = (SELECT min(id) FROM opinions"
                " WHERE created_at >= ? AND project_id IS NULL)",
                (stamp(YEAR_START - timedelta(seconds=1)), stamp(YEAR_START)),
            )
        elif kind == "extra-visit":
            await tx.execute(
                "INSERT INTO visits (deputy_id, kind, visit_date, voters_met, opinions_received,"
                " created_at, updated_at) VALUES (?, 'other', '2026-06-01', 7, 0, ?, ?)",
                (FIRST_DEPUTY, stamp(NOW), stamp(NOW)),
            )
        elif kind == "reopen":
            await tx.execute(
                "UPDATE opinions SET status = 'accepted', answered_at = NULL, solved = NULL,"
                " satisfaction = NULL WHERE id = (SELECT min(id) FROM opinions"
                " WHERE created_at >= ? AND status = 'closed' AND project_id IS NULL)",
                (stamp(YEAR_START),),
            )


# --- the run ------------------------------------------------------------------------------


def compare(name: str, got: dict[str, Any], want: dict[str, Any]) -> Check:
    """Every figure of every section, the first differences named."""
    wrong = []
    for section, value in want.items():
        if got.get(section) == value:
            continue
        if isinstance(value, dict) and isinstance(got.get(section), dict):
            wrong += [
                f"{section}.{k}: {got[section].get(k)!r} ≠ {v!r}"
                for k, v in value.items()
                if got[section].get(k) != v
            ]
        else:
            wrong.append(f"{section} differs")
    figures = sum(len(v) if isinstance(v, dict) else 1 for v in want.values())
    detail = (
        f"{figures} figures in {len(want)} sections equal the truth"
        if not wrong
        else "; ".join(wrong)[:400]
    )
    return Check(name, not wrong, detail)


async def timed(work: Callable[[], Awaitable[Any]], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - began)
    return times, result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_report",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<14} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--opinions", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--suggestions", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each report")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--max-district", type=float, default=500.0, help="ms, the median")
    parser.add_argument("--max-street", type=float, default=100.0, help="ms, the median")
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        return await run(Path(folder), parse_args(argv))


async def run(folder: Path, args: argparse.Namespace) -> int:
    load_at_start = os.getloadavg()[0]
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    logging.getLogger().setLevel(logging.WARNING)
    if args.breaking:
        print(f"BREAK {args.breaking}: {BREAKS[args.breaking]}")
    rng = random.Random(args.seed)
    settings = load_settings(
        _env_file=None, bot_token=TOKEN, database_path=folder / "bench.sqlite3"
    )
    db = Database(settings.database_path)
    await db.connect()
    try:
        return await measure(db, settings, args, rng, load_at_start, tally)
    finally:
        await db.close()  # an open connection's thread would keep the process alive


async def measure(
    db: Database,
    settings: Settings,
    args: argparse.Namespace,
    rng: random.Random,
    load_at_start: float,
    tally: LogTally,
) -> int:
    began = time.perf_counter()
    district = await build_places(db)
    of_deputy = await build_turns(db, district, rng)
    async with loading(db, "visits"):
        await build_visits(db, district, rng, args.visits, of_deputy)
    async with loading(db, "opinions"):
        await build_opinions(db, district, rng, args.opinions)
    await build_suggestions(db, district, rng, args.suggestions)
    await build_consultations_and_ballots(db, district, rng)
    added = await ensure_figures_indexes(db)
    built = time.perf_counter() - began
    if added:
        print(f"the schema lacks {', '.join(added)} (migration 0012): the bench added them")
    await apply_break(args.breaking, db)
    if args.breaking == "no-index":
        await drop_figures_indexes(db)
    size = settings.database_path.stat().st_size
    counts = {
        table: await db.scalar(f"SELECT count(*) FROM {table}")
        for table in ("opinions", "visits", "suggestions", "duty_turns", "duty_turn_deputies")
    }
    in_2026 = await db.scalar(
        "SELECT count(*) FROM opinions WHERE created_at >= ? AND created_at < ?",
        (stamp(YEAR_START), stamp(YEAR_END)),
    )
    print(
        f"built in {built:.1f} s ({size / 1e6:.0f} MB): "
        + ", ".join(f"{n:,} {t}" for t, n in counts.items())
        + f"; {in_2026:,} opinions received in {YEAR}"
    )

    clock = FixedClock(NOW)
    figures = build_services(settings, db, clock).figures
    period = Period.year(YEAR)
    slow = args.breaking == "slow"

    def report(area: Area) -> Callable[[], Awaitable[str]]:
        async def work() -> str:
            result = await figures.compute(period, area)
            text = json.dumps(result.as_json(), ensure_ascii=False, indent=2, allow_nan=False)
            if slow:
                await asyncio.sleep(0.6)
            return text

        return work

    async def baseline() -> int:
        return int(
            await db.scalar(
                "SELECT count(*) FROM opinions WHERE created_at BETWEEN ? AND ?",
                (stamp(YEAR_START), stamp(YEAR_END - timedelta(microseconds=1))),
            )
        )

    await report(Area.district())()  # warm-up: the page cache, as a running bot has it
    district_times, district_json = await timed(report(Area.district()), args.runs)
    street_times, street_json = await timed(report(Area(AreaKind.STREET, THE_STREET)), args.runs)
    base_times, _ = await timed(baseline, args.runs)

    truth_district, truth_street = district.truths
    checks = [
        compare(f"district {YEAR}: every figure", json.loads(district_json), truth_district.json()),
        compare(
            f"street {THE_STREET} {YEAR}: every figure",
            json.loads(street_json),
            truth_street.json(),
        ),
        Check(
            f"district report under {args.max_district:.0f} ms",
            statistics.median(district_times) * 1000 < args.max_district,
            f"median {statistics.median(district_times) * 1000:.1f} ms",
        ),
        Check(
            f"street report under {args.max_street:.0f} ms",
            statistics.median(street_times) * 1000 < args.max_street,
            f"median {statistics.median(street_times) * 1000:.1f} ms",
        ),
        Check("no warning or error logged", not tally.counts, ", ".join(tally.samples) or "none"),
    ]
    base = statistics.median(base_times)
    print()
    title = f"report --year {YEAR} --format json"
    print(f"{title:<52}{'runs':>6}{'median ms':>11}{'min':>9}{'max':>9}{'× base':>9}")
    for name, values in (
        ("district-wide (Figures.compute + JSON dump)", district_times),
        (f"one street ({STATIONS_PER_STREET} stations)", street_times),
        ("baseline: bare count(*) of the year's opinions", base_times),
    ):
        median = statistics.median(values)
        print(f"{name:<52}{len(values):>6}{median * 1000:>11.1f}{min(values) * 1000:>9.1f}"
              f"{max(values) * 1000:>9.1f}{median / base:>9.1f}")  # fmt: skip
    print(f"\nload average {load_at_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print()
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    return 0 if all(c.passed for c in checks) else 1


async def ensure_figures_indexes(db: Database) -> list[str]:
    """The indexes of migration 0012, made where the schema lacks them; their names."""
    present = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
    missing = [name for name in FIGURES_INDEXES if name not in present]
    async with db.transaction() as tx:
        for name in missing:
            await tx.execute(FIGURES_INDEXES[name])
    return missing


async def drop_figures_indexes(db: Database) -> None:
    """--break no-index: the indexes migration 0012 adds, dropped."""
    async with db.transaction() as tx:
        for name in FIGURES_INDEXES:
            await tx.execute(f'DROP INDEX IF EXISTS "{name}"')


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
