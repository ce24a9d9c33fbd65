"""A district with known numbers for the figures' tests: deputies, duty turns and absences,
visits, opinions in every state and rating, suggestions in every state with answers, classes,
ratings and the ledger, consultations with comments and rating ballots, inserted with the
real schema. The seed keeps every row it chose as Python data, and `expected` computes each
figure from that data alone (local dates in Python, never the SQL under test), so a test
compares the report with counts made another way.

World's clock: 2026-11-26 10:00 in Shanghai. Boundaries are seeded on purpose: rows at the
first and last second of a month and a year in Shanghai time (00:00 Shanghai is 16:00 UTC the
day before), turns that have not ended yet, deleted visits, opinions about projects."""

from __future__ import annotations

import itertools
import random
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bot.services.privacy import NOTICE_VERSION
from storage.db import Tx, stamp
from tests.support.world import SHANGHAI, World

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
CATEGORIES = ("urban", "traffic", "elderly", "education", "environment", "housing", "other")
RATED = ("satisfied", "basically", "unsatisfied")
FIRST_VOTER = 5000
STAFF = 1
# the outcome classes staff set for 2025 (other years use the default A/B/C)
CLASSES_2025 = (
    ("甲", "已解决", True, False),
    ("乙", "列入计划", True, True),
    ("丙", "留作参考", False, False),
    ("丁", "其他", False, False),
)
DEFAULT_CLASSES = (("A", True, False), ("B", True, True), ("C", False, False))


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def utc(y: int, m: int, d: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=UTC)


# Instants on the edges of the periods the tests ask for, in UTC as Shanghai's midnight is.
EDGES = (
    utc(2026, 10, 31, 15, 59, 59),  # 2026-10-31 23:59:59 Shanghai: October
    utc(2026, 10, 31, 16, 0, 0),  # 2026-11-01 00:00:00 Shanghai: November
    utc(2026, 11, 30, 15, 59, 59),  # 2026-11-30 23:59:59: November
    utc(2026, 11, 30, 16, 0, 0),  # 2026-12-01 00:00:00: December
    utc(2025, 12, 31, 15, 59, 59),  # 2025-12-31 23:59:59: 2025
    utc(2025, 12, 31, 16, 0, 0),  # 2026-01-01 00:00:00: 2026
    utc(2025, 11, 30, 16, 0, 0),  # 2025-12-01 00:00:00: the first second of the range
    utc(2026, 1, 31, 15, 59, 59),  # 2026-01-31 23:59:59: the last second of the range
    utc(2026, 1, 31, 16, 0, 0),  # 2026-02-01 00:00:00: after the range
)


@dataclass
class Turn:
    id: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    deputies: list[int]
    absent: set[int] = field(default_factory=set)


@dataclass
class Visit:
    deputy: int
    day: date
    voters_met: int
    done: str
    turn: int | None = None
    deleted: bool = False


@dataclass
class Opinion:
    station: int
    category: str
    created_at: datetime
    status: str
    holder: int | None = None
    claimed_at: datetime | None = None
    answered_at: datetime | None = None
    solved: str | None = None
    satisfaction: str | None = None
    project: bool = False


@dataclass
class Answer:
    round: int
    code: str
    met: bool
    on_time: bool
    answered_at: datetime


@dataclass
class Suggestion:
    lead: int
    created_at: datetime
    state: str
    first_assigned_at: datetime | None = None
    assigned_at: datetime | None = None
    due_at: datetime | None = None
    answers: list[Answer] = field(default_factory=list)
    rating: str | None = None
    ledger_done_at: datetime | None = None

    @property
    def answered_at(self) -> datetime | None:
        return self.answers[-1].answered_at if self.answers else None

    @property
    def outcome_class(self) -> str | None:
        return self.answers[-1].code if self.answers else None


@dataclass
class Consultation:
    created_at: datetime
    comments: int
    withdrawn: int


@dataclass
class Ballot:
    purpose: str
    state: str
    closed_at: datetime | None
    entitled: int
    projects: list[tuple[str, dict[str, int]]]  # title, choice → votes
    project_ids: list[int] = field(default_factory=list)


@dataclass
class District:
    station_names: dict[int, str]
    street_of: dict[int, int]
    street_names: dict[int, str]
    deputies: dict[int, int]  # deputy → station
    turns: list[Turn] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    opinions: list[Opinion] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    consultations: list[Consultation] = field(default_factory=list)
    ballots: list[Ballot] = field(default_factory=list)

    def station(self, name: str) -> int:
        return next(s for s, n in self.station_names.items() if n == name)

    def street(self, name: str) -> int:
        return next(s for s, n in self.street_names.items() if n == name)


# --- the plan -----------------------------------------------------------------------------


def plan(district: District, rng: random.Random) -> None:
    """Every row of the district, chosen here."""
    _plan_turns_and_visits(district, rng)
    _plan_opinions(district, rng)
    _plan_suggestions(district, rng)
    district.consultations += [
        Consultation(local(2026, 11, 3), comments=7, withdrawn=2),
        Consultation(local(2026, 3, 10), comments=4, withdrawn=0),
        Consultation(local(2025, 12, 31, 23, 59, 59), comments=5, withdrawn=1),
        Consultation(EDGES[1], comments=0, withdrawn=0),  # the first second of November
    ]
    district.ballots += [
        Ballot(
            "rating",
            "closed",
            local(2026, 11, 20, 18),
            10,
            [
                ("社区食堂扩建", {"satisfied": 6, "basic": 2, "unsatisfied": 1}),
                ("老旧小区加装电梯", {"satisfied": 5, "basic": 1, "unsatisfied": 3}),  # 5 of 10
                ("口袋公园", {"satisfied": 2, "basic": 2, "unsatisfied": 5}),
            ],
        ),
        Ballot("rating", "closed", local(2026, 1, 5, 18), 8, [("背街小巷整治", {"satisfied": 7})]),
        Ballot("rating", "closed", local(2026, 6, 30, 18), 8, [("中小学课后托管", {"basic": 8})]),
        Ballot("rating", "closed", local(2025, 12, 28), 8, [("去年项目", {"satisfied": 8})]),
        Ballot("rating", "open", None, 8, [("还在测评", {"satisfied": 1})]),
        Ballot("selection", "closed", local(2026, 11, 10), 8, [("票决项目", {"for": 6})]),
    ]


def _plan_turns_and_visits(district: District, rng: random.Random) -> None:
    deputies = sorted(district.deputies)
    ids = itertools.count(1)
    starts = [
        local(2026, 11, 7, 9),
        local(2026, 11, 14, 9),
        local(2026, 11, 1, 0, 0),  # the first minute of November
        local(2026, 10, 31, 23, 30),  # October, ends in November
        local(2026, 6, 13, 9),
        local(2026, 1, 1, 0, 0),
        local(2025, 12, 31, 20),
        local(2026, 1, 17, 9),
        local(2025, 12, 6, 9),
        local(2026, 11, 26, 9, 30),  # under way at 10:00: not past yet
        local(2026, 11, 28, 9),  # coming
    ]
    kinds = ["reception", "home_visit", "reception", "reception", "home_visit"]
    for n, start in enumerate(starts):
        chosen = rng.sample(deputies, rng.randint(1, 3))
        turn = Turn(next(ids), kinds[n % len(kinds)], start, start + timedelta(hours=2), chosen)
        if len(chosen) > 1 and n % 2 == 0:
            turn.absent.add(chosen[0])
        district.turns.append(turn)
    for start, absent in ((local(2026, 11, 21, 14), True), (local(2026, 1, 10, 14), False)):
        turn = Turn(next(ids), "annual_account", start, start + timedelta(hours=2), deputies[:3])
        if absent:
            turn.absent.add(deputies[1])
        district.turns.append(turn)

    days = [
        date(2026, 11, 1),
        date(2026, 11, 30),
        date(2026, 10, 31),
        date(2025, 12, 31),
        date(2026, 1, 1),
        date(2025, 12, 1),
        date(2026, 1, 31),
        date(2026, 2, 1),
        date(2026, 11, 12),
        date(2026, 5, 20),
    ]
    texts = ["", "  ", "\u3000", "修好了楼道灯", "协调加装护栏"]
    for n in range(40):
        deputy = rng.choice(deputies)
        visit = Visit(deputy, rng.choice(days), rng.randint(0, 60), rng.choice(texts))
        roll = n % 5
        if roll == 0:  # logged for a turn the deputy was on (attended or absent)
            mine = [t for t in district.turns if deputy in t.deputies]
            if mine:
                turn = rng.choice(mine)
                visit.turn, visit.day = turn.id, turn.starts_at.astimezone(SHANGHAI).date()
        elif roll == 1:  # for a turn of someone else
            others = [t for t in district.turns if deputy not in t.deputies]
            if others:
                visit.turn = rng.choice(others).id
        visit.deleted = n % 9 == 4
        district.visits.append(visit)
    # under way at 10:00 and nobody has logged a visit for it yet: it counts once it ends
    under_way = local(2026, 11, 26, 9)
    district.turns.append(
        Turn(next(ids), "annual_account", under_way, under_way + timedelta(hours=3), deputies[3:])
    )
    # the visit of each attended November turn's first deputy, as "log this visit?" leaves it
    for turn in district.turns[:3]:
        deputy = next((d for d in turn.deputies if d not in turn.absent), None)
        if deputy is not None:
            day = turn.starts_at.astimezone(SHANGHAI).date()
            district.visits.append(Visit(deputy, day, 12, "解决了停车难", turn.id))


def _plan_opinions(district: District, rng: random.Random) -> None:
    stations = sorted(district.station_names)
    deputies = sorted(district.deputies)
    span = int((NOW - local(2025, 11, 15)).total_seconds())
    start = local(2025, 11, 15)
    moments = [*EDGES, *(start + timedelta(seconds=rng.randrange(span)) for _ in range(260))]
    fates = [
        "submitted",
        "accepted",
        "accepted_by_staff",
        "declined",
        "declined_after_claim",
        "declined_after_staff_accept",  # claimed, nobody holding it: never accepted by a deputy
        "answered",
        "answered_by_staff",
        "answered_solved",
        "closed",
        "closed",
        "closed",
        "not_rated",
        "project",
    ]
    for n, created in enumerate(moments):
        station = stations[-1] if n % 17 == 3 else rng.choice(stations[:-1])
        category = CATEGORIES[min(int(rng.expovariate(0.6)), len(CATEGORIES) - 1)]
        opinion = Opinion(station, category, created, "submitted")
        fate = fates[n % len(fates)] if station != stations[-1] else "submitted"
        claimed = created + timedelta(seconds=rng.randint(600, 3 * 86_400))
        answered = claimed + timedelta(seconds=rng.randint(3600, 20 * 86_400))
        holder = rng.choice(deputies)
        if fate == "accepted":
            opinion.status, opinion.holder, opinion.claimed_at = "accepted", holder, claimed
        elif fate == "accepted_by_staff":
            opinion.status, opinion.claimed_at = "accepted", claimed
        elif fate == "declined":
            opinion.status = "declined"
        elif fate == "declined_after_claim":
            opinion.status, opinion.holder, opinion.claimed_at = "declined", holder, claimed
        elif fate == "declined_after_staff_accept":
            opinion.status, opinion.claimed_at = "declined", claimed
        elif fate in ("answered", "answered_solved"):
            opinion.status, opinion.holder, opinion.claimed_at = "answered", holder, claimed
            opinion.answered_at = answered
            opinion.solved = "no" if fate == "answered_solved" else None
        elif fate == "answered_by_staff":
            opinion.status, opinion.answered_at = "answered", answered
        elif fate in ("closed", "not_rated"):
            opinion.status, opinion.holder, opinion.claimed_at = "closed", holder, claimed
            opinion.answered_at = answered
            opinion.solved = rng.choice(("yes", "partly", "no", "yes"))
            opinion.satisfaction = rng.choice(RATED) if fate == "closed" else "not_rated"
        elif fate == "project":
            opinion.project = True
            opinion.status, opinion.holder, opinion.claimed_at = "closed", holder, claimed
            opinion.answered_at, opinion.solved, opinion.satisfaction = answered, "yes", "satisfied"
        district.opinions.append(opinion)


def _plan_suggestions(district: District, rng: random.Random) -> None:
    deputies = sorted(district.deputies)
    moments = [
        *EDGES[:7],
        local(2026, 11, 5, 10),
        local(2026, 11, 18, 15),
        local(2026, 3, 2),
        local(2026, 4, 20),
        local(2026, 7, 7),
        local(2026, 8, 30),
        local(2026, 9, 15),
        local(2026, 10, 8),
        local(2026, 1, 20),
        local(2025, 12, 10),
    ]
    fates = [
        "submitted",
        "withdrawn",
        "declined",
        "assigned_due",
        "assigned_overdue",
        "returned",
        "answered_a",
        "answered_b_open",
        "closed_b_done",
        "closed_c_unsatisfied",
        "rehandling_overdue",
        "rehandling_due",
        "closed_round_two",
        "closed_basically",
        "closed_unrated",
        "answered_2025",
    ]
    for n, fate in enumerate(itertools.islice(itertools.cycle(fates), 48)):
        created = moments[n % len(moments)]
        if fate == "answered_2025":
            created = local(2025, 12, 2, 11)
        s = Suggestion(deputies[n % len(deputies)], created, "submitted")
        assigned = created + timedelta(days=rng.randint(1, 12))
        s.first_assigned_at = s.assigned_at = assigned
        s.due_at = assigned + timedelta(days=92)
        answered = assigned + timedelta(days=rng.randint(5, 120))
        on_time = answered <= s.due_at
        met = rng.random() < 0.6
        if fate in ("submitted", "withdrawn", "declined"):
            s.state = fate
            s.first_assigned_at = s.assigned_at = s.due_at = None
        elif fate in ("assigned_due", "assigned_overdue"):
            s.state = "assigned"
            s.due_at = NOW + (timedelta(days=20) if fate == "assigned_due" else -timedelta(hours=1))
        elif fate == "returned":
            s.state = "returned"
            s.due_at = NOW - timedelta(days=3)  # returned: not overdue, whatever its date
        elif fate == "answered_a":
            s.state = "answered"
            s.answers = [Answer(1, "A", met, on_time, answered)]
        elif fate == "answered_b_open":
            s.state = "answered"
            s.answers = [Answer(1, "B", met, on_time, answered)]
        elif fate == "closed_b_done":
            s.state, s.rating, s.ledger_done_at = "closed", "satisfied", answered + timedelta(30)
            s.answers = [Answer(1, "B", met, on_time, answered)]
        elif fate == "closed_c_unsatisfied":
            s.state, s.rating = "closed", "unsatisfied"
            s.answers = [Answer(1, "C", met, on_time, answered)]
        elif fate in ("rehandling_overdue", "rehandling_due"):
            s.state, s.rating = "rehandling", "unsatisfied"
            s.answers = [Answer(1, "C", met, on_time, answered)]
            late = fate == "rehandling_overdue"
            s.due_at = NOW + (-timedelta(minutes=5) if late else timedelta(days=40))
        elif fate == "closed_round_two":
            s.state, s.rating = "closed", "satisfied"
            second = answered + timedelta(days=50)
            s.answers = [Answer(1, "C", False, True, answered), Answer(2, "A", True, False, second)]
        elif fate == "closed_basically":
            s.state, s.rating = "closed", "basically"
            s.answers = [Answer(1, "B", met, on_time, answered)]
        elif fate == "closed_unrated":
            s.state = "closed"
            s.answers = [Answer(1, "A", met, on_time, answered)]
        elif fate == "answered_2025":  # assigned in 2025: answered in 2025's classes
            s.first_assigned_at = s.assigned_at = local(2025, 12, 20)
            s.state, s.rating = "closed", "satisfied"
            code = ("甲", "乙", "丙")[n % 3]
            s.answers = [Answer(1, code, met, True, local(2026, 1, 10))]
        if s.answers and s.answers[-1].answered_at > NOW:
            s.answers = [
                Answer(a.round, a.code, a.met, a.on_time, NOW - timedelta(hours=a.round))
                for a in s.answers
            ]
        district.suggestions.append(s)


# --- the rows -----------------------------------------------------------------------------


async def seed_district(world: World, seed: int = 10) -> District:
    """Deputies at three of World's four stations (清河联络站 has none), then every row the
    plan chose."""
    stations = await world.rows(
        "SELECT s.id, s.name, z.id AS street, z.name AS street_name FROM stations s"
        " JOIN streets z ON z.id = s.street_id ORDER BY s.id"
    )
    district = District(
        station_names={r["id"]: r["name"] for r in stations},
        street_of={r["id"]: r["street"] for r in stations},
        street_names={r["street"]: r["street_name"] for r in stations},
        deputies={},
    )
    first, second, haidian, _qinghe = (r["id"] for r in stations)
    district.deputies = {201: first, 202: first, 203: second, 204: haidian, 205: haidian}
    plan(district, random.Random(seed))
    await _insert(world, district)
    return district


async def _insert(world: World, d: District) -> None:
    at = stamp(local(2025, 1, 1))
    async with world.db.transaction() as tx:
        people = [(u, "deputy", s) for u, s in d.deputies.items()]
        people += [(FIRST_VOTER + s, "voter", s) for s in d.station_names]
        await tx.executemany(
            "INSERT OR IGNORE INTO users (telegram_id, role, locale, full_name, station_id,"
            " consent_at, consent_version, created_at) VALUES (?, ?, 'zh_CN', '', ?, ?, ?, ?)",
            [(u, role, s, at, NOTICE_VERSION, at) for u, role, s in people],
        )
        await tx.executemany(
            "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)",
            [(u, f"代表{u}", s, at) for u, s in d.deputies.items()],
        )
        for turn in d.turns:
            await tx.execute(
                "INSERT INTO duty_turns (id, kind, station_id, starts_at, ends_at, uid,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    turn.id,
                    turn.kind,
                    d.deputies[turn.deputies[0]],
                    stamp(turn.starts_at),
                    stamp(turn.ends_at),
                    f"seed-{turn.id}",
                    at,
                ),
            )
            await tx.executemany(
                "INSERT INTO duty_turn_deputies (turn_id, deputy_id) VALUES (?, ?)",
                [(turn.id, deputy) for deputy in turn.deputies],
            )
            await tx.executemany(
                "INSERT INTO turn_absences (turn_id, deputy_id, reason, at) VALUES (?, ?, ?, ?)",
                [(turn.id, deputy, "出差", at) for deputy in sorted(turn.absent)],
            )
        await tx.executemany(
            "INSERT INTO visits (deputy_id, kind, visit_date, station_id, turn_id, voters_met,"
            " opinions_received, done_for_voters, created_at, updated_at, deleted_at)"
            " VALUES (?, 'reception', ?, ?, ?, ?, 0, ?, ?, ?, ?)",
            [
                (
                    v.deputy,
                    v.day.isoformat(),
                    d.deputies[v.deputy],
                    v.turn,
                    v.voters_met,
                    v.done,
                    at,
                    at,
                    at if v.deleted else None,
                )
                for v in d.visits
            ],
        )
        project = await tx.execute(
            "INSERT INTO projects (year, title, state, created_at) VALUES (2026, '督办项目',"
            " 'chosen', ?)",
            (at,),
        )
        await tx.executemany(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text, show_name,"
            " status, created_at, updated_at, holder_id, claimed_at, answered_at, solved,"
            " satisfaction, project_id) VALUES (?, ?, ?, ?, '路灯不亮', 0, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?)",
            [
                (
                    f"HD-T-{n:05d}",
                    FIRST_VOTER + o.station,
                    o.station,
                    o.category,
                    o.status,
                    stamp(o.created_at),
                    stamp(o.created_at),
                    o.holder,
                    stamp(o.claimed_at) if o.claimed_at else None,
                    stamp(o.answered_at) if o.answered_at else None,
                    o.solved,
                    o.satisfaction,
                    project if o.project else None,
                )
                for n, o in enumerate(d.opinions)
            ],
        )
        await _insert_suggestions(tx, d, at)
        await _insert_consultations(tx, d, at)
        await _insert_ballots(tx, d, at)


async def _insert_suggestions(tx: Tx, d: District, at: str) -> None:
    department = await tx.execute(
        "INSERT INTO departments (name, created_at) VALUES ('区城管委', ?)", (at,)
    )
    await tx.executemany(
        "INSERT INTO outcome_classes (year, code, label, position, counts_as_progress, ledger)"
        " VALUES (2025, ?, ?, ?, ?, ?)",
        [
            (c, label, i, int(p), int(ledger))
            for i, (c, label, p, ledger) in enumerate(CLASSES_2025)
        ],
    )

    def iso(moment: datetime | None) -> str | None:
        return stamp(moment) if moment else None

    for n, s in enumerate(d.suggestions, start=1):
        sid = await tx.execute(
            "INSERT INTO suggestions (number, lead_deputy_id, title, reason, proposals, category,"
            " state, created_at, updated_at, first_assigned_at, assigned_at, due_at,"
            " answered_at, outcome_class, rating, ledger_done_at, rehandled)"
            " VALUES (?, ?, '标题', '事由', '建议', 'urban', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f"JY-T-{n:04d}",
                s.lead,
                s.state,
                stamp(s.created_at),
                stamp(s.created_at),
                iso(s.first_assigned_at),
                iso(s.assigned_at),
                iso(s.due_at),
                iso(s.answered_at),
                s.outcome_class,
                s.rating,
                iso(s.ledger_done_at),
                int(len(s.answers) > 1 or s.state == "rehandling"),
            ),
        )
        for a in s.answers:
            await tx.execute(
                "INSERT INTO suggestion_answers (suggestion_id, round, department_id,"
                " outcome_class, met_deputy, met_on, summary, recorded_by, answered_at, on_time)"
                " VALUES (?, ?, ?, ?, ?, NULL, '答复', ?, ?, ?)",
                (sid, a.round, department, a.code, int(a.met), STAFF, stamp(a.answered_at),
                 int(a.on_time)),
            )  # fmt: skip


async def _insert_consultations(tx: Tx, d: District, at: str) -> None:
    for c in d.consultations:
        cid = await tx.execute(
            "INSERT INTO consultations (title, audience, deadline, state, created_at)"
            " VALUES ('条例草案', 'everyone', ?, 'closed', ?)",
            (stamp(c.created_at + timedelta(days=20)), stamp(c.created_at)),
        )
        await tx.executemany(
            "INSERT INTO consultation_comments (consultation_id, author_id, text, author_kind,"
            " created_at, updated_at, withdrawn_at) VALUES (?, ?, '意见', 'voter', ?, ?, ?)",
            [
                (cid, FIRST_VOTER + min(d.station_names), at, at, at if n < c.withdrawn else None)
                for n in range(c.comments + c.withdrawn)
            ],
        )


async def _insert_ballots(tx: Tx, d: District, at: str) -> None:
    for b in d.ballots:
        mode = "rating" if b.purpose == "rating" else "each"
        bid = await tx.execute(
            "INSERT INTO ballots (year, purpose, mode, state, entitled, opened_at, closed_at)"
            " VALUES (2026, ?, ?, ?, ?, ?, ?)",
            (b.purpose, mode, b.state, b.entitled, at, stamp(b.closed_at) if b.closed_at else None),
        )
        for position, (title, tally) in enumerate(b.projects):
            pid = await tx.execute(
                "INSERT INTO projects (year, title, state, created_at) VALUES (2026, ?, 'chosen',"
                " ?)",
                (title, at),
            )
            b.project_ids.append(pid)
            await tx.execute(
                "INSERT INTO ballot_projects (ballot_id, project_id, position) VALUES (?, ?, ?)",
                (bid, pid, position),
            )
            await tx.executemany(
                "INSERT INTO ballot_tallies (ballot_id, project_id, choice, votes)"
                " VALUES (?, ?, ?, ?)",
                [(bid, pid, choice, votes) for choice, votes in tally.items()],
            )


# --- the truth ----------------------------------------------------------------------------


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _classes(year: int) -> list[tuple[str, bool, bool]]:
    if year == 2025:
        return [(c, progress, ledger) for c, _, progress, ledger in CLASSES_2025]
    return list(DEFAULT_CLASSES)


def expected(
    d: District, first: date, last: date, area: tuple[str, int | None], now: datetime = NOW
) -> dict[str, object]:
    """Every figure of the report for local days `first`…`last` and `area` (kind, id),
    counted from the seed's own data."""
    kind, area_id = area
    if kind == "district":
        stations = set(d.station_names)
        streets = sorted(d.street_names)
        name = None
    elif kind == "street":
        stations = {s for s, z in d.street_of.items() if z == area_id}
        streets = [area_id]
        name = d.street_names[area_id]
    else:
        stations = {area_id}
        streets = [d.street_of[area_id]]
        name = d.station_names[area_id]

    def within(moment: datetime) -> bool:
        return first <= _day(moment) <= last

    def ours(deputy: int) -> bool:
        return d.deputies[deputy] in stations

    # deputy work
    attended = {
        (t.id, deputy)
        for t in d.turns
        for deputy in t.deputies
        if t.ends_at <= now and deputy not in t.absent
    }
    pairs = [
        (t, deputy)
        for t in d.turns
        for deputy in t.deputies
        if (t.id, deputy) in attended and within(t.starts_at) and ours(deputy)
    ]
    visits = [v for v in d.visits if not v.deleted and first <= v.day <= last and ours(v.deputy)]
    untied = [v for v in visits if (v.turn, v.deputy) not in attended]
    deputy_work = {
        "deputy_attendances": len(pairs) + len(untied),
        "voter_contacts": sum(v.voters_met for v in visits),
        "things_done": sum(1 for v in visits if v.done.strip()),
        "annual_accounts_given": sum(1 for t, _ in pairs if t.kind == "annual_account"),
    }

    # opinions
    ops = [
        o for o in d.opinions if not o.project and within(o.created_at) and o.station in stations
    ]

    def opinion_figures(rows: list[Opinion]) -> dict[str, object]:
        declined = sum(1 for o in rows if o.status == "declined")
        answered = [o for o in rows if o.answered_at is not None]
        rated = [o for o in rows if o.satisfaction in RATED]
        return {
            "received": len(rows),
            "response_rate": _rate(len(answered), len(rows) - declined),
            "satisfied_rate": _rate(
                sum(1 for o in rated if o.satisfaction in ("satisfied", "basically")), len(rated)
            ),
        }

    answered_ops = [o for o in ops if o.answered_at is not None]
    rated_ops = [o for o in ops if o.satisfaction in RATED]
    took = [
        int(o.answered_at.timestamp()) - int(o.created_at.timestamp())  # type: ignore[union-attr]
        for o in answered_ops
    ]
    categories = Counter(o.category for o in ops)

    def ranked(counter: Counter[str]) -> list[tuple[str, int]]:
        return sorted(counter.items(), key=lambda item: (-item[1], item[0]))

    top: dict[str, list[list[object]]] = {}
    for street in streets:
        counter = Counter(o.category for o in ops if d.street_of[o.station] == street)
        if counter:
            top[d.street_names[street]] = [[c, n] for c, n in ranked(counter)[:5]]
    opinions = {
        "opinions_received": len(ops),
        "accepted": sum(
            1 for o in ops if o.status in ("accepted", "answered", "closed") or o.holder is not None
        ),
        "declined": sum(1 for o in ops if o.status == "declined"),
        "answered": len(answered_ops),
        "response_rate": opinion_figures(ops)["response_rate"],
        "solved_rate": _rate(sum(1 for o in rated_ops if o.solved == "yes"), len(rated_ops)),
        "satisfied_rate": opinion_figures(ops)["satisfied_rate"],
        "median_days_to_answer": round(statistics.median(took) / 86400, 2) if took else None,
        "by_category": dict(ranked(categories)),
        "top_categories_by_street": top,
    }

    # suggestions
    sugs = [s for s in d.suggestions if within(s.created_at) and ours(s.lead)]

    def class_year(s: Suggestion) -> int:
        moment = s.first_assigned_at or s.assigned_at or s.answered_at
        return _day(moment).year if moment else now.year  # type: ignore[arg-type]

    def kind_of(s: Suggestion) -> tuple[str, bool, bool] | None:
        return next((c for c in _classes(class_year(s)) if c[0] == s.outcome_class), None)

    answered_sugs = [s for s in sugs if s.answers]
    years = set(range(first.year, last.year + 1)) | {class_year(s) for s in answered_sugs}
    by_class: dict[str, int] = {}
    for year in sorted(years):
        for code, _, _ in _classes(year):
            by_class.setdefault(code, 0)
    for s in answered_sugs:
        by_class[s.outcome_class or ""] = by_class.get(s.outcome_class or "", 0) + 1

    def progressed(rows: list[Suggestion]) -> int:
        return sum(1 for s in rows if (k := kind_of(s)) is not None and k[1])

    rated_sugs = [s for s in sugs if s.rating is not None]
    suggestions = {
        "suggestions_submitted": len(sugs),
        "assigned": sum(1 for s in sugs if s.first_assigned_at is not None),
        "answered": len(answered_sugs),
        "answered_on_time": sum(1 for s in sugs if s.answers and s.answers[0].on_time),
        "by_class": by_class,
        "solved_or_progressed": {
            "count": progressed(answered_sugs),
            "rate": _rate(progressed(answered_sugs), len(answered_sugs)),
        },
        "satisfied_rate": _rate(
            sum(1 for s in rated_sugs if s.rating in ("satisfied", "basically")), len(rated_sugs)
        ),
        "met_before_answer_rate": _rate(
            sum(1 for s in answered_sugs if s.answers[-1].met), len(answered_sugs)
        ),
        "ledger_open": sum(
            1
            for s in answered_sugs
            if (k := kind_of(s)) is not None and k[2] and s.ledger_done_at is None
        ),
        "overdue": sum(
            1
            for s in sugs
            if s.state in ("assigned", "rehandling") and s.due_at is not None and s.due_at < now
        ),
    }

    # consultations and projects: the district only
    consultations = projects = None
    if kind == "district":
        held = [c for c in d.consultations if within(c.created_at)]
        consultations = {"held": len(held), "comments": sum(c.comments for c in held)}
        rated_projects = []
        closed = [b for b in d.ballots if b.closed_at is not None and b.state == "closed"]
        for b in sorted(closed, key=lambda b: b.closed_at or now):
            if b.purpose != "rating" or b.closed_at is None or not within(b.closed_at):
                continue
            rows = []
            for pid, (title, tally) in zip(b.project_ids, b.projects, strict=True):
                satisfied, basic = tally.get("satisfied", 0), tally.get("basic", 0)
                verdict = (
                    "satisfied"
                    if satisfied * 2 > b.entitled
                    else "basic"
                    if (satisfied + basic) * 2 > b.entitled
                    else "unsatisfied"
                )
                rows.append(((-satisfied, -(satisfied + basic)), pid, title, verdict))
            rated_projects += [
                {"project_id": pid, "title": title, "year": 2026, "verdict": verdict}
                for _, pid, title, verdict in sorted(rows)
            ]
        verdicts = Counter(p["verdict"] for p in rated_projects)
        projects = {
            "projects_rated": len(rated_projects),
            "verdicts": {v: verdicts[v] for v in ("satisfied", "basic", "unsatisfied")},
            "rated": rated_projects,
        }

    per_street = []
    for street in streets:
        rows = [o for o in ops if d.street_of[o.station] == street]
        figures = opinion_figures(rows)
        done = [s for s in answered_sugs if d.street_of[d.deputies[s.lead]] == street]
        per_street.append(
            {
                "id": street,
                "name": d.street_names[street],
                "opinions_received": figures["received"],
                "response_rate": figures["response_rate"],
                "satisfied_rate": figures["satisfied_rate"],
                "suggestions_answered": len(done),
                "solved_or_progressed_rate": _rate(progressed(done), len(done)),
            }
        )

    return {
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "area": {"kind": kind, "id": area_id, "name": name},
        "deputy_work": deputy_work,
        "opinions": opinions,
        "suggestions": suggestions,
        "consultations": consultations,
        "projects": projects,
        "streets": per_street,
    }
