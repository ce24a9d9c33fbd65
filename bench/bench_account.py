"""/account at the scale of a district: one deputy's annual account (年述职) compiled among
1,000,000 opinions, 100,000 visits and 20,000 suggestions, with checks that can fail.

One SQLite file, made through the real schema (every migration), filled in bulk:

- the district: 29 streets of 3 stations, 500 deputies, 20,000 voters, 40 departments,
  30 livelihood projects, 20 consultations and 4 ballots (2025 and 2026, selection and
  rating) with every deputy entitled;
- the duty calendar of 2025 and 2026 for every station (a reception turn a month, a home
  visit a quarter, the annual account in January), each station's deputies on its turns,
  about 5 % of them absent;
- in bulk (recursive CTEs, INSERT … SELECT): 1,000,000 opinions, 100,000 visits, 20,000
  suggestions with their co-signers and assignments, 100,000 consultation comments, all of
  other deputies and voters, spread over 2025 and 2026;
- the deputy of interest (station 1) planted row by row with a known year, and what must not
  count: last year's turns, visits, opinions, suggestions, comments and ballots, deleted
  visits, withdrawn comments, declined and unconfirmed co-signatures, other deputies'
  absences on the same turns.

Then, against the truth the bench planted (never against what the bot reports):

1. `AnnualAccounts.compile` (what /account reads) is timed, median of `--runs`, after a
   warm-up; every figure of the result is checked.
2. The .docx is made and timed; read back with python-docx: the six headings in order, each
   figure's line, the tables of turns missed and suggestions, part 6 empty.
3. `/account` through the real Application over the fake Bot API, timed end to end (the
   message and the .docx sent): the message within Telegram's limit and holding the figures.

The baseline is a bare count of the deputy's held opinions (`SELECT count(*) … holder_id`),
from the same run; the ratio is printed. Every check prints PASS or FAIL; `--break KIND`
injects a fault in the bench's data or timing (never in the bot) to show a check failing.

Run from the project root:  .venv/bin/python -m bench.bench_account  (--help for options)
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from docx import Document

from bench.bench_deputies import APOLOGIES, Check, Client
from bench.bench_updates import LogTally
from bot.app import build_application
from bot.clock import FixedClock
from bot.demo.botapi import FakeBotAPI
from bot.i18n import Texts
from bot.services import build_services
from bot.services.account_documents import PLAN_LINES, SECTIONS
from bot.services.annual_accounts import AnnualAccount
from bot.services.calendar import TURN_LABELS
from bot.settings import load_settings
from storage import Database
from storage.db import stamp
from storage.models import TurnKind
from storage.repos.users import UserRepo
from tests.support.world import SHANGHAI, TOKEN

STREETS = 29
STATIONS_PER_STREET = 3
STATIONS = STREETS * STATIONS_PER_STREET
FIRST_DEPUTY = 300_000_001  # the deputy of interest; the others follow
FIRST_VOTER = 400_000_001
DEPARTMENTS = 40
PROJECTS = 30
CONSULTATIONS = 20
YEAR = 2026
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)  # the World's clock: late in the year
DAY_ZERO = "2025-01-01"  # bulk rows spread over 700 days from here (2025 and most of 2026)
STATES = ("submitted", "withdrawn", "declined", "assigned", "returned", "answered",
          "rehandling", "closed")  # fmt: skip
ASSIGNED_STATES = {"assigned", "returned", "answered", "rehandling", "closed"}
ANSWERED_STATES = {"answered", "rehandling", "closed"}
CLASSES = ("A", "B", "C")
CLASS_LABELS = {
    "A": "已解决或基本解决",
    "B": "正在解决或列入计划逐步解决",
    "C": "因条件限制留作参考",
}
RATINGS = ("satisfied", "basically", "unsatisfied")
SATISFACTIONS = ("satisfied", "basically", "unsatisfied", "not_rated", None)

BREAKS = {
    "extra-visit": "one more visit of the year is logged for the deputy after the truth is taken",
    "drop-absence": "one of the deputy's absences of the year is deleted after the truth",
    "confirm-cosign": "a co-signature the deputy declined is flipped to confirmed",
    "extra-comment": "one more live comment of the year by the deputy is inserted",
    "slow": "each timed compile waits 250 ms more",
}


# --- the truth -------------------------------------------------------------------------------


@dataclass
class Truth:
    """The deputy's 2026, as the bench planted it."""

    attended: dict[TurnKind, int] = field(default_factory=dict)
    missed: list[tuple[datetime, TurnKind, str]] = field(default_factory=list)
    coming: int = 0
    visits: int = 0
    voters_met: int = 0
    done: list[str] = field(default_factory=list)
    received: int = 0
    answered: int = 0
    rated: dict[str, int] = field(default_factory=dict)
    suggestions: dict[str, tuple[bool, str, str | None, str | None, str | None]] = field(
        default_factory=dict
    )  # number → (lead, state, department, outcome class, rating)
    comments: int = 0
    consultations: list[str] = field(default_factory=list)
    selection_votes: int = 0
    rating_votes: int = 0
    project_opinions: int = 0


def ts(moment: datetime) -> str:
    return stamp(moment)


def local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def nth_weekday(year: int, month: int, nth: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def station_turns(year: int) -> list[tuple[TurnKind, datetime]]:
    """One station's year: a reception turn a month (2nd Saturday), a home visit a quarter
    (3rd Sunday of its last month), the annual account on 20 January."""
    turns = [(TurnKind.RECEPTION, local(nth_weekday(year, m, 2, 5), 9)) for m in range(1, 13)]
    turns += [(TurnKind.HOME_VISIT, local(nth_weekday(year, m, 3, 6), 14)) for m in (3, 6, 9, 12)]
    turns.append((TurnKind.ANNUAL_ACCOUNT, local(date(year, 1, 20), 15)))
    return turns


# --- the district ------------------------------------------------------------------------------


async def populate(db: Database, args: argparse.Namespace) -> dict[int, list[int]]:
    """Places, people, departments, projects, consultations, ballots and the duty calendar;
    returns each station's turn ids (in station_turns order, 2025 then 2026)."""
    rng = random.Random(10)
    at = ts(NOW - timedelta(days=400))
    deputies = [FIRST_DEPUTY + i for i in range(args.deputies)]
    station_of = {d: i % STATIONS + 1 for i, d in enumerate(deputies)}
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO streets (id, name) VALUES (?, ?)",
            [(z + 1, f"街镇{z:02d}") for z in range(STREETS)],
        )
        await tx.executemany(
            "INSERT INTO stations (id, street_id, name) VALUES (?, ?, ?)",
            [
                (s, (s - 1) // STATIONS_PER_STREET + 1, f"联络站{s:02d}")
                for s in range(1, STATIONS + 1)
            ],
        )
        await tx.executemany(
            "INSERT INTO users (telegram_id, role, locale, full_name, station_id, consent_at,"
            " created_at) VALUES (?, 'deputy', 'zh_CN', ?, ?, ?, ?)",
            [(d, f"代表{d - FIRST_DEPUTY:03d}", station_of[d], at, at) for d in deputies],
        )
        await tx.executemany(
            "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)",
            [(d, f"代表{d - FIRST_DEPUTY:03d}", station_of[d], at) for d in deputies],
        )
        await tx.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)"
            " INSERT INTO users (telegram_id, role, locale, full_name, station_id, consent_at,"
            " created_at) SELECT ? + i, 'voter', 'zh_CN', '选民', 1 + i % ?, ?, ? FROM n",
            (args.voters, FIRST_VOTER, STATIONS, at, at),
        )
        await tx.executemany(
            "INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)",
            [(i, f"承办单位{i:02d}", at) for i in range(1, DEPARTMENTS + 1)],
        )
        await tx.executemany(
            "INSERT INTO projects (id, year, title, state, created_at)"
            " VALUES (?, ?, ?, 'chosen', ?)",
            [(i, YEAR, f"民生实事{i:02d}", at) for i in range(1, PROJECTS + 1)],
        )
        await tx.executemany(
            "INSERT INTO consultations (id, title, audience, deadline, state, created_at)"
            " VALUES (?, ?, 'everyone', ?, 'closed', ?)",
            [(i, f"《某某条例（草案{i:02d}）》", at, at) for i in range(1, CONSULTATIONS + 1)],
        )
        for ballot, (year, purpose) in enumerate(
            ((2025, "selection"), (2025, "rating"), (2026, "selection"), (2026, "rating")), 1
        ):
            mode = "each" if purpose == "selection" else "rating"
            await tx.execute(
                "INSERT INTO ballots (id, year, purpose, mode, entitled, opened_at, state)"
                " VALUES (?, ?, ?, ?, ?, ?, 'closed')",
                (ballot, year, purpose, mode, len(deputies), at),
            )
            await tx.executemany(
                "INSERT INTO ballot_voters (ballot_id, user_id, voted) VALUES (?, ?, ?)",
                [(ballot, d, int(rng.random() < 0.8)) for d in deputies[1:]],
            )
        turns: dict[int, list[int]] = {}
        links: list[tuple[int, int]] = []
        absences: list[tuple[int, int, str, str]] = []
        by_station: dict[int, list[int]] = {}
        for d in deputies[1:]:  # the deputy of interest is put on station 1's turns later
            by_station.setdefault(station_of[d], []).append(d)
        for station in range(1, STATIONS + 1):
            turns[station] = []
            for year in (2025, 2026):
                for kind, starts in station_turns(year):
                    turn_id = await tx.execute(
                        "INSERT INTO duty_turns (kind, station_id, starts_at, ends_at, uid,"
                        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            kind.value,
                            station,
                            ts(starts),
                            ts(starts + timedelta(hours=2)),
                            f"{station}-{kind.value}-{starts:%Y%m%d}@bench",
                            at,
                        ),
                    )
                    turns[station].append(turn_id)
                    for d in by_station.get(station, []):
                        links.append((turn_id, d))
                        if rng.random() < 0.05:
                            absences.append((turn_id, d, "另有公务", at))
        await tx.executemany(
            "INSERT INTO duty_turn_deputies (turn_id, deputy_id) VALUES (?, ?)", links
        )
        await tx.executemany(
            "INSERT INTO turn_absences (turn_id, deputy_id, reason, at) VALUES (?, ?, ?, ?)",
            absences,
        )
    return turns


def spread(i: str = "i") -> str:
    """An instant of the bulk rows: DAY_ZERO plus up to 700 days, as stamp() writes it."""
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S+00:00', '{DAY_ZERO}', '+' || ({i} % 700) || ' days',"
        f" '+' || ({i} * 37 % 86400) || ' seconds')"
    )


def counting(count: int) -> str:
    return f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {count} - 1)"


async def bulk(db: Database, args: argparse.Namespace) -> None:
    """Everyone else's opinions, visits, suggestions and comments, in bulk SQL."""
    others = args.deputies - 1
    other = f"({FIRST_DEPUTY} + 1 + i % {others})"  # never the deputy of interest
    async with db.transaction() as tx:
        await tx.execute(
            f"{counting(args.opinions)} INSERT INTO opinions (tracking_no, author_id,"
            " station_id, category, text, show_name, status, created_at, updated_at, holder_id,"
            " claimed_at, answered_at, satisfaction)"
            f" SELECT 'HD-B-' || i, {FIRST_VOTER} + i % {args.voters}, 1 + i % {STATIONS},"
            " 'cat' || (i % 8), '路灯不亮，晚上出行不便', 0,"
            " CASE i % 5 WHEN 0 THEN 'submitted' WHEN 1 THEN 'accepted' WHEN 2 THEN 'answered'"
            " ELSE 'closed' END, t, t,"
            f" CASE WHEN i % 5 = 0 THEN NULL ELSE {other} END,"
            " CASE WHEN i % 5 = 0 THEN NULL ELSE t END,"
            " CASE WHEN i % 5 >= 2 THEN t END,"
            " CASE WHEN i % 5 >= 3 THEN CASE i % 4 WHEN 0 THEN 'satisfied'"
            " WHEN 1 THEN 'basically' WHEN 2 THEN 'unsatisfied' ELSE 'not_rated' END END"
            f" FROM (SELECT i, {spread()} AS t FROM n)"
        )
        await tx.execute(
            f"{counting(args.visits)} INSERT INTO visits (deputy_id, kind, visit_date,"
            " station_id, voters_met, opinions_received, done_for_voters, created_at,"
            f" updated_at, deleted_at) SELECT {other}, 'reception',"
            f" date('{DAY_ZERO}', '+' || (i % 700) || ' days'), 1 + i % {STATIONS}, i % 40, 0,"
            " CASE WHEN i % 3 = 0 THEN '为民办实事' ELSE '' END, t, t,"
            " CASE WHEN i % 50 = 0 THEN t END"
            f" FROM (SELECT i, {spread()} AS t FROM n)"
        )
        await tx.execute(
            f"{counting(args.suggestions)} INSERT INTO suggestions (id, number, lead_deputy_id,"
            " title, reason, proposals, category, state, created_at, updated_at, outcome_class,"
            " rating) SELECT i + 1, 'JY-B-' || i, " + other + ", '关于某事的建议', '事由',"
            " '具体建议', '城市建设', s, t, t,"
            " CASE WHEN s IN ('answered', 'rehandling', 'closed')"
            " THEN char(65 + i % 3) END,"
            " CASE WHEN s = 'closed' THEN CASE i % 3 WHEN 0 THEN 'satisfied'"
            " WHEN 1 THEN 'basically' ELSE 'unsatisfied' END END"
            f" FROM (SELECT i, {spread()} AS t, CASE i % 8 "
            + " ".join(f"WHEN {k} THEN '{s}'" for k, s in enumerate(STATES))
            + " END AS s FROM n)"
        )
        # co-signers: another deputy (never the deputy of interest), in every state
        await tx.execute(
            f"{counting(args.suggestions)} INSERT INTO suggestion_cosigners (suggestion_id,"
            " deputy_id, state, invited_at) SELECT i + 1,"
            f" {FIRST_DEPUTY} + 1 + (i + 7) % {others},"
            " CASE i % 3 WHEN 0 THEN 'invited' WHEN 1 THEN 'confirmed' ELSE 'declined' END,"
            f" {spread()} FROM n"
        )
        await tx.execute(
            "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead, state,"
            " assigned_at) SELECT id, 1 + id % ?, 1,"
            " CASE state WHEN 'returned' THEN 'returned' ELSE 'active' END, created_at"
            " FROM suggestions WHERE state IN ('assigned', 'returned', 'answered', 'rehandling',"
            " 'closed')",
            (DEPARTMENTS,),
        )
        await tx.execute(
            f"{counting(args.comments)} INSERT INTO consultation_comments (consultation_id,"
            " author_id, text, author_kind, created_at, updated_at, withdrawn_at)"
            f" SELECT 1 + i % {CONSULTATIONS},"
            f" CASE WHEN i % 4 = 0 THEN {other} ELSE {FIRST_VOTER} + i % {args.voters} END,"
            " '建议修改', CASE WHEN i % 4 = 0 THEN 'deputy' ELSE 'voter' END, t, t,"
            " CASE WHEN i % 30 = 0 THEN t END"
            f" FROM (SELECT i, {spread()} AS t FROM n)"
        )


# --- the deputy of interest ------------------------------------------------------------------


async def plant(db: Database, station_turns_ids: list[int]) -> Truth:
    """The deputy's own rows, and what must not count; returns the truth of 2026."""
    deputy = FIRST_DEPUTY
    truth = Truth()
    at = ts(NOW - timedelta(days=1))
    # the turns of station 1, in station_turns order: 2025 first, then 2026
    schedule = station_turns(2025) + station_turns(2026)
    turns = list(zip(station_turns_ids, schedule, strict=True))
    this_year = [(t, kind, starts) for t, (kind, starts) in turns if starts.year == YEAR]
    absent = {  # two past, one to come
        this_year[2][0]: "出差在外地",
        this_year[5][0]: "参加市人代会培训",
        this_year[11][0]: "预计出国访问",
    }
    visited = [this_year[0][0], this_year[1][0], this_year[3][0], this_year[4][0]]
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO duty_turn_deputies (turn_id, deputy_id) VALUES (?, ?)",
            [(t, deputy) for t, _ in turns],
        )
        await tx.executemany(
            "INSERT INTO turn_absences (turn_id, deputy_id, reason, at) VALUES (?, ?, ?, ?)",
            [(t, deputy, reason, at) for t, reason in absent.items()]
            + [(turns[0][0], deputy, "去年的缺席", at)],
        )
    truth.attended = dict.fromkeys(TurnKind, 0)
    for turn_id, kind, starts in this_year:
        ends = starts + timedelta(hours=2)
        if turn_id in absent:
            truth.missed.append((starts, kind, absent[turn_id]))
        elif ends <= NOW:
            truth.attended[kind] += 1
        else:
            truth.coming += 1

    # visits: 150 of the year, 4 of them for a turn, 10 deleted, 30 last year
    rows: list[tuple[object, ...]] = []
    for i in range(150):
        day = date(YEAR, 1, 2) + timedelta(days=i * 2)
        met = i * 7 % 40 + 1
        done = f"为民办实事第{i + 1}件" if i % 3 == 0 else ""
        turn = visited[i] if i < len(visited) else None
        rows.append((deputy, day.isoformat(), turn, met, done, at, None))
        truth.visits += 1
        truth.voters_met += met
        if done:
            truth.done.append(done)
    rows += [(deputy, f"{YEAR}-06-{d:02d}", None, 99, "删除的", at, at) for d in range(1, 11)]
    rows += [(deputy, f"2025-03-{d:02d}", None, 50, "去年的", at, None) for d in range(1, 31)]
    # opinions held: 3,000 of the year, 500 last year; supervision opinions of projects
    opinions: list[tuple[object, ...]] = []
    for i in range(3_500):
        year = YEAR if i < 3_000 else 2025
        created = datetime(year, 1, 1, 8, tzinfo=SHANGHAI) + timedelta(days=i % 320, seconds=i)
        answered = i % 4 != 0
        satisfaction = SATISFACTIONS[i % 5] if answered else None
        status = "closed" if satisfaction else "answered" if answered else "accepted"
        opinions.append(
            (f"HD-D-{i:05d}", FIRST_VOTER + i, status, ts(created), deputy, ts(created),
             ts(created + timedelta(days=2)) if answered else None, satisfaction, None)
        )  # fmt: skip
        if year == YEAR:
            truth.received += 1
            truth.answered += answered
            if satisfaction in RATINGS:
                truth.rated[satisfaction] = truth.rated.get(satisfaction, 0) + 1
    for i in range(220):
        year = YEAR if i < 200 else 2025
        created = datetime(year, 2, 1, 8, tzinfo=SHANGHAI) + timedelta(days=i % 200)
        opinions.append(
            (f"HD-S-{i:05d}", deputy, "accepted", ts(created), None, None, None, None,
             1 + i % PROJECTS)
        )  # fmt: skip
        truth.project_opinions += year == YEAR
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO visits (deputy_id, kind, visit_date, station_id, turn_id, voters_met,"
            " opinions_received, done_for_voters, created_at, updated_at, deleted_at)"
            " VALUES (?, 'reception', ?, 1, ?, ?, 0, ?, ?, ?, ?)",
            [(*r[:5], r[5], r[5], r[6]) for r in rows],
        )
        await tx.executemany(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text,"
            " show_name, status, created_at, updated_at, holder_id, claimed_at, answered_at,"
            " satisfaction, project_id) VALUES (?, ?, 1, 'other', '意见', 0, ?, ?, ?, ?, ?, ?,"
            " ?, ?)",
            [(r[0], r[1], r[2], r[3], r[3], *r[4:]) for r in opinions],
        )
    await plant_suggestions(db, truth)
    await plant_supervision(db, truth)
    return truth


async def plant_suggestions(db: Database, truth: Truth) -> None:
    deputy = FIRST_DEPUTY
    async with db.transaction() as tx:

        async def suggestion(number: str, lead: int, state: str, created: datetime, n: int) -> int:
            outcome = CLASSES[n % 3] if state in ANSWERED_STATES else None
            rating = RATINGS[n % 3] if state == "closed" else None
            suggestion_id = await tx.execute(
                "INSERT INTO suggestions (number, lead_deputy_id, title, reason, proposals,"
                " category, state, created_at, updated_at, outcome_class, rating)"
                " VALUES (?, ?, ?, '事由', '具体建议', '城市建设', ?, ?, ?, ?, ?)",
                (number, lead, f"关于第{n}项民生问题的建议", state, ts(created), ts(created),
                 outcome, rating),
            )  # fmt: skip
            department = None
            if state in ASSIGNED_STATES:
                department = 1 + n % DEPARTMENTS
                # an earlier lead that was replaced, then the latest one
                await tx.execute(
                    "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead,"
                    " state, assigned_at) VALUES (?, ?, 1, 'ended', ?)",
                    (suggestion_id, 1 + (n + 1) % DEPARTMENTS, ts(created)),
                )
                await tx.execute(
                    "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead,"
                    " state, assigned_at) VALUES (?, ?, 1, ?, ?)",
                    (
                        suggestion_id,
                        department,
                        "returned" if state == "returned" else "active",
                        ts(created),
                    ),
                )
                await tx.execute(
                    "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead,"
                    " state, assigned_at) VALUES (?, ?, 0, 'active', ?)",
                    (suggestion_id, 1 + (n + 2) % DEPARTMENTS, ts(created)),
                )
            if created.year == YEAR and (lead == deputy or number.startswith("JY-C-")):
                truth.suggestions[number] = (
                    lead == deputy,
                    state,
                    f"承办单位{department:02d}" if department else None,
                    outcome,
                    rating,
                )
            return suggestion_id

        def day(year: int, n: int) -> datetime:
            return datetime(year, 1, 5, 9, tzinfo=SHANGHAI) + timedelta(days=n * 5)

        for n in range(60):
            await suggestion(f"JY-D-{n:03d}", deputy, STATES[n % 8], day(YEAR, n), n)
        for n in range(15):
            await suggestion(f"JY-L-{n:03d}", deputy, STATES[n % 8], day(2025, n), n)
        for n in range(45):  # led by others; the deputy confirmed 25, declined 10, 10 unsaid
            cosign = "confirmed" if n < 25 else "declined" if n < 35 else "invited"
            number = f"JY-C-{n:03d}" if cosign == "confirmed" else f"JY-X-{n:03d}"
            sid = await suggestion(number, FIRST_DEPUTY + 1 + n, STATES[n % 8], day(YEAR, n), n)
            await tx.execute(
                "INSERT INTO suggestion_cosigners (suggestion_id, deputy_id, state, invited_at)"
                " VALUES (?, ?, ?, ?)",
                (sid, deputy, cosign, ts(day(YEAR, n))),
            )


async def plant_supervision(db: Database, truth: Truth) -> None:
    deputy = FIRST_DEPUTY
    comments = []
    first: dict[int, datetime] = {}
    for i in range(110):
        year = YEAR if i < 90 else 2025
        created = datetime(year, 2, 1, 10, tzinfo=SHANGHAI) + timedelta(days=i * 3 % 280, hours=i)
        consultation = 1 + (i * 5) % 6
        withdrawn = year == YEAR and i % 9 == 0
        comments.append((consultation, deputy, ts(created), ts(created) if withdrawn else None))
        if year == YEAR and not withdrawn:
            truth.comments += 1
            if consultation not in first or created < first[consultation]:
                first[consultation] = created
    truth.consultations = [
        f"《某某条例（草案{c:02d}）》" for c in sorted(first, key=lambda c: (first[c], c))
    ]
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO consultation_comments (consultation_id, author_id, text, author_kind,"
            " created_at, updated_at, withdrawn_at) VALUES (?, ?, '意见', 'deputy', ?, ?, ?)",
            [(c, a, t, t, w) for c, a, t, w in comments],
        )
        # who voted, never how: 2026 selection and rating voted, 2025 selection only
        await tx.executemany(
            "INSERT INTO ballot_voters (ballot_id, user_id, voted) VALUES (?, ?, ?)",
            [(1, deputy, 1), (2, deputy, 0), (3, deputy, 1), (4, deputy, 1)],
        )
    truth.selection_votes, truth.rating_votes = 1, 1


async def inject(kind: str | None, db: Database) -> None:
    """A fault in the bench's data after the truth was taken (never in the bot)."""
    deputy = FIRST_DEPUTY
    at = ts(NOW - timedelta(days=1))
    async with db.transaction() as tx:
        if kind == "extra-visit":
            await tx.execute(
                "INSERT INTO visits (deputy_id, kind, visit_date, voters_met, opinions_received,"
                " created_at, updated_at) VALUES (?, 'other', '2026-10-10', 5, 0, ?, ?)",
                (deputy, at, at),
            )
        elif kind == "drop-absence":
            await tx.execute(
                "DELETE FROM turn_absences WHERE deputy_id = ? AND reason = '出差在外地'",
                (deputy,),
            )
        elif kind == "confirm-cosign":
            await tx.execute(
                "UPDATE suggestion_cosigners SET state = 'confirmed' WHERE deputy_id = ?"
                " AND suggestion_id = (SELECT id FROM suggestions WHERE number = 'JY-X-030')",
                (deputy,),
            )
        elif kind == "extra-comment":
            await tx.execute(
                "INSERT INTO consultation_comments (consultation_id, author_id, text,"
                " author_kind, created_at, updated_at) VALUES (1, ?, '多的', 'deputy', ?, ?)",
                (deputy, at, at),
            )


# --- checks ----------------------------------------------------------------------------------


def check_account(account: AnnualAccount, truth: Truth) -> Check:
    problems: list[str] = []

    def same(name: str, got: object, expected: object) -> None:
        if got == expected:
            return
        if isinstance(got, dict) and isinstance(expected, dict):  # only what differs
            keys = sorted(k for k in got.keys() | expected.keys() if got.get(k) != expected.get(k))
            got = {k: got.get(k) for k in keys[:3]}
            expected = {k: expected.get(k) for k in keys[:3]}
        problems.append(f"{name}: {got!r} ≠ {expected!r}")

    same("attended", {k: account.attended(k) for k in TurnKind}, truth.attended)
    same(
        "missed",
        [(t.starts_at, t.kind, t.absence_reason) for t in account.missed],
        [(s.astimezone(UTC), k, r) for s, k, r in truth.missed],
    )
    same("coming", account.coming, truth.coming)
    contact = account.contact
    same("visits", (contact.visits, contact.voters_met, contact.things_done),
         (truth.visits, truth.voters_met, len(truth.done)))  # fmt: skip
    same("things done", contact.done, truth.done)
    opinions = account.opinions
    same("opinions received, answered", (opinions.received, opinions.answered),
         (truth.received, truth.answered))  # fmt: skip
    same(
        "opinions rated",
        {"satisfied": opinions.satisfied, "basically": opinions.basically,
         "unsatisfied": opinions.unsatisfied},
        truth.rated,
    )  # fmt: skip
    got = {
        s.number: (
            s.lead,
            s.state.value,
            s.department,
            s.outcome_class,
            s.rating.value if s.rating else None,
        )
        for s in account.suggestions
    }
    same("suggestions", got, truth.suggestions)
    figures = account.supervision
    same("comments", (figures.comments, figures.consultations),
         (truth.comments, truth.consultations))  # fmt: skip
    same("ballots voted in", (figures.selection_votes, figures.rating_votes),
         (truth.selection_votes, truth.rating_votes))  # fmt: skip
    same("supervision opinions", figures.project_opinions, truth.project_opinions)
    detail = "; ".join(problems[:4]) if problems else (
        f"{sum(truth.attended.values())} turns attended, {len(truth.missed)} missed, "
        f"{truth.coming} to come; {truth.visits} visits ({truth.voters_met} voters met, "
        f"{len(truth.done)} things done); {truth.received:,} opinions ({truth.answered:,} "
        f"answered, {sum(truth.rated.values())} rated); {len(truth.suggestions)} suggestions; "
        f"{truth.comments} comments on {len(truth.consultations)} drafts; "
        f"{truth.project_opinions} supervision opinions"
    )  # fmt: skip
    return Check("every figure of the account is the truth planted", not problems, detail)


def figure_lines(texts: Texts, truth: Truth) -> list[str]:
    """Lines the account must hold, written from the truth with the catalog."""
    return [
        texts(
            "account.attended",
            count=sum(truth.attended.values()),
            reception=truth.attended[TurnKind.RECEPTION],
            home=truth.attended[TurnKind.HOME_VISIT],
            account=truth.attended[TurnKind.ANNUAL_ACCOUNT],
        ),
        texts("account.missed_head", count=len(truth.missed)),
        texts("account.coming", count=truth.coming),
        texts(
            "account.contact_visits",
            visits=truth.visits,
            voters=truth.voters_met,
            done=len(truth.done),
        ),
        texts(
            "account.contact_opinions",
            received=truth.received,
            answered=truth.answered,
            rated=sum(truth.rated.values()),
            satisfied=truth.rated.get("satisfied", 0),
            basically=truth.rated.get("basically", 0),
            unsatisfied=truth.rated.get("unsatisfied", 0),
        ),
        texts(
            "account.suggestions_count",
            led=sum(1 for v in truth.suggestions.values() if v[0]),
            cosigned=sum(1 for v in truth.suggestions.values() if not v[0]),
        ),
        texts("account.comments", count=truth.comments, consultations=len(truth.consultations)),
        texts("account.ballots", selection=truth.selection_votes, rating=truth.rating_votes),
        texts("account.project_opinions", count=truth.project_opinions),
    ]


def check_docx(data: bytes, texts: Texts, truth: Truth) -> Check:
    document = Document(io.BytesIO(data))
    paragraphs = [(p.style.name if p.style else "", p.text) for p in document.paragraphs]
    lines = [text for _, text in paragraphs]
    problems: list[str] = []
    headings = [text for style, text in paragraphs if style == "Heading 1"]
    if headings != [texts(s) for s in SECTIONS]:
        problems.append(f"headings {headings}")
    problems += [f"missing {line!r}" for line in figure_lines(texts, truth) if line not in lines]
    plan = texts(SECTIONS[5])
    if plan in lines and lines[lines.index(plan) + 1 :] != [""] * PLAN_LINES:
        problems.append("part 6 is not empty")
    tables = document.tables
    if len(tables) != 2:
        problems.append(f"{len(tables)} tables")
    else:
        missed = [[c.text for c in row.cells] for row in tables[0].rows][1:]
        expected = [
            [texts.date(s), texts(TURN_LABELS[k]), "联络站01", r] for s, k, r in truth.missed
        ]
        if missed != expected:
            problems.append(f"turns missed {missed[:2]} ≠ {expected[:2]}")
        numbers = [row.cells[0].text for row in tables[1].rows][1:]
        if sorted(numbers) != sorted(truth.suggestions):
            problems.append(f"{len(numbers)} suggestions in the table")
    return Check(
        "the .docx: six headings in order, every figure, the tables, part 6 empty",
        not problems,
        "; ".join(problems[:4])
        if problems
        else f"{len(paragraphs)} paragraphs, {len(tables)} tables, {len(data) / 1e3:.0f} kB",
    )


async def timed(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await work()
        seconds.append(time.perf_counter() - began)
    return seconds, result


def row(name: str, values: list[float], baseline: list[float] | None = None) -> str:
    line = (
        f"{name:<56}{len(values):>5}{statistics.median(values) * 1e3:>10.1f}"
        f"{min(values) * 1e3:>9.1f}{max(values) * 1e3:>9.1f}"
    )
    if baseline:
        line += f"{statistics.median(values) / statistics.median(baseline):>9.1f}×"
    return line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_account",
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<16} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--deputies", type=int, default=500)
    parser.add_argument("--voters", type=int, default=20_000)
    parser.add_argument("--opinions", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--suggestions", type=int, default=20_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (median)")
    parser.add_argument("--max-ms", type=float, default=200.0, help="the /account budget")
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-account-") as folder:
        return await run(Path(folder), argv)


async def run(folder: Path, argv: list[str] | None) -> int:
    load_at_start = os.getloadavg()[0]
    began_all = time.perf_counter()
    args = parse_args(argv)
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    logging.getLogger().setLevel(logging.WARNING)
    if args.breaking:
        print(f"BREAK {args.breaking}: {BREAKS[args.breaking]}")
    slow = args.breaking == "slow"

    clock = FixedClock(NOW)
    settings = load_settings(
        _env_file=None, bot_token=TOKEN, database_path=folder / "bench.sqlite3"
    )
    db = Database(settings.database_path)
    await db.connect()
    began = time.perf_counter()
    turns = await populate(db, args)
    await bulk(db, args)
    truth = await plant(db, turns[1])
    built = time.perf_counter() - began
    await inject(args.breaking, db)
    sizes = {
        table: int(await db.scalar(f"SELECT count(*) FROM {table}") or 0)
        for table in ("opinions", "visits", "suggestions", "suggestion_cosigners",
                      "suggestion_assignments", "consultation_comments", "duty_turns",
                      "duty_turn_deputies", "turn_absences")
    }  # fmt: skip
    print(
        "data: " + ", ".join(f"{n:,} {t}" for t, n in sizes.items()) + f"; built in {built:.0f} s"
    )

    services = build_services(settings, db, clock)
    accounts = services.annual_accounts
    actor = await UserRepo(db).get(FIRST_DEPUTY)
    if actor is None:
        raise RuntimeError("the deputy of interest is missing")
    texts = services.i18n.texts("zh_CN")

    async def compile_work() -> AnnualAccount:
        account = await accounts.compile(actor, YEAR)
        if slow:
            await asyncio.sleep(0.25)
        return account

    async def docx_work() -> bytes:
        return await accounts.docx(account, texts)

    async def baseline_work() -> Any:
        return await db.scalar(
            "SELECT count(*) FROM opinions WHERE holder_id = ?", (actor.telegram_id,)
        )

    await compile_work()  # warm-up: the page cache, not counted
    compile_times, account = await timed(args.runs, compile_work)
    docx_times, data = await timed(args.runs, docx_work)
    baseline_times, _ = await timed(args.runs, baseline_work)

    # /account through the real Application over the fake Bot API
    api = FakeBotAPI()
    app = build_application(services, request=api)
    await app.initialize()
    client = Client(app, api, [texts(k) for k in APOLOGIES])
    await client.command(actor.telegram_id, "/account")  # warm-up
    chat_times = [
        await client.command(actor.telegram_id, "/account") / 1e3 for _ in range(args.runs)
    ]
    sent = [o for o in api.outputs if o.chat_id == actor.telegram_id]
    last_messages = [o.text for o in sent if o.kind == "message"][-1:]
    documents = api.calls_to("sendDocument")
    await app.shutdown()
    await db.close()

    message = last_messages[0] if last_messages else ""
    shown = [line for line in figure_lines(texts, truth) if line not in message]
    median = statistics.median(compile_times) * 1e3
    checks = [
        check_account(account, truth),
        check_docx(data, texts, truth),
        Check(
            "/account through the app: the message within 4,096 characters with every figure,"
            " the .docx sent",
            not client.problems and not shown and len(message) <= 4096
            and len(documents) == args.runs + 1,
            "; ".join(client.problems[:2] + [f"missing {s!r}" for s in shown[:2]])
            or f"{len(message):,} characters, {len(documents)} documents sent",
        ),
        Check(
            f"AnnualAccounts.compile under {args.max_ms:g} ms (median of {args.runs})",
            median < args.max_ms,
            f"median {median:.1f} ms, max {max(compile_times) * 1e3:.1f} ms",
        ),
        Check(
            "no warning or error logged",
            not tally.counts,
            f"{dict(tally.counts)}; first: {tally.samples[:2]}" if tally.counts else "none",
        ),
    ]  # fmt: skip

    print()
    print(f"{'/account (ms)':<56}{'runs':>5}{'median':>10}{'min':>9}{'max':>9}{'ratio':>10}")
    print(row("AnnualAccounts.compile (every query of the year)", compile_times, baseline_times))
    print(row("the .docx (python-docx, off the event loop)", docx_times, baseline_times))
    print(row("/account through the app: message + .docx sent", chat_times, baseline_times))
    print(row("baseline: SELECT count(*) of the deputy's held opinions", baseline_times))
    print(
        f"load average (1 min) at start {load_at_start:.2f}, now {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} CPUs; the whole run took {time.perf_counter() - began_all:.0f} s"
    )
    print()
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
