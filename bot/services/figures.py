"""The district's figures for any period and area: deputy work, opinions, suggestions,
consultations and projects, computed from the data (no counting by hand). The JSON names of
`FiguresReport` are an interface (README.md, "The figures"): `python -m bot report` prints
them, /stats shows them, and the .xlsx, .docx and chart are drawn from them."""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError
from bot.services.ballot_rules import Choice, Outcome, compute
from bot.services.conversations import Conversation
from bot.services.outbox import Outbox
from bot.services.suggestion_trail import SuggestionTrail
from bot.services.text import clean
from bot.services.typed_dates import YearDirection, parse_date
from bot.settings import Settings
from storage import Database
from storage.models import OutcomeClass, SuggestionState, User
from storage.repos.ballots import BallotRepo
from storage.repos.figures import FiguresRepo, OpinionCounts, Span, SuggestionFacts

FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a period may fall in
RATE_DIGITS = 4  # 0.592: a rate as a fraction, rounded
DAYS_DIGITS = 2  # median days to answer
TOP_CATEGORIES = 5  # a street's hot topics
SECONDS_A_DAY = 86_400
SATISFIED = frozenset({"satisfied", "basically"})  # 满意 + 基本满意, as both ratings store them
OVERDUE_STATES = frozenset({SuggestionState.ASSIGNED, SuggestionState.REHANDLING})
VERDICTS = (Outcome.SATISFIED, Outcome.BASIC, Outcome.UNSATISFIED)
QUARTER = re.compile(r"(\d{4})\s*[Qq]\s*([1-4])")
MONTH = re.compile(r"(\d{4})-(\d{1,2})")
YEAR = re.compile(r"\d{4}")
# what separates the two dates of a typed range: 至, 到, "to", a tilde, an en or em dash, or
# a dash between spaces; else two dates with a space between them
RANGE_SEPARATOR = re.compile(r"\s*(?:至|到|~|〜|—|–)\s*|\s+(?:-|to)\s+", re.IGNORECASE)


# --- periods and areas --------------------------------------------------------------------


class Period(BaseModel):
    """Local calendar days, both ends included."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        """From `start` to `end`; refused when reversed or outside 2000–2100."""
        _check_year(start.year)
        _check_year(end.year)
        if end < start:
            raise DomainError("stats.range_reversed")
        return cls(start=start, end=end)

    @classmethod
    def year(cls, year: int) -> Period:
        _check_year(year)
        return cls.of(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise DomainError("stats.bad_quarter")
        _check_year(year)
        first, last = 3 * quarter - 2, 3 * quarter
        return cls.of(date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise DomainError("stats.bad_month")
        _check_year(year)
        return cls.of(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    def span(self, zone: tzinfo, now: datetime) -> Span:
        """The period as the queries take it: from the first day's local midnight to the
        midnight after the last day."""
        return Span(
            start=datetime.combine(self.start, time(0), tzinfo=zone),
            end=datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone),
            first_day=self.start,
            last_day=self.end,
            now=now,
        )

    @property
    def years(self) -> range:
        return range(self.start.year, self.end.year + 1)


def _check_year(year: int) -> None:
    """A date of a year outside 2000–2100 is refused before it is made (9999-12-31 has no
    day after it)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError("stats.years_outside", first=FIRST_YEAR, last=LAST_YEAR)


def parse_year(raw: str) -> Period:
    """`2026`."""
    text = unicodedata.normalize("NFKC", clean(raw))
    if not YEAR.fullmatch(text):
        raise DomainError("stats.bad_year")
    return Period.year(int(text))


def parse_quarter(raw: str) -> Period:
    """`2026Q3` (or `2026q3`, `2026 Q3`)."""
    match = QUARTER.fullmatch(unicodedata.normalize("NFKC", clean(raw)))
    if match is None:
        raise DomainError("stats.bad_quarter")
    return Period.quarter(int(match[1]), int(match[2]))


def parse_month(raw: str) -> Period:
    """`2026-11` (or `2026-1`)."""
    match = MONTH.fullmatch(unicodedata.normalize("NFKC", clean(raw)))
    if match is None:
        raise DomainError("stats.bad_month")
    return Period.month(int(match[1]), int(match[2]))


def _day(raw: str, today: date, refusal: str) -> date:
    """One end of a range, through the one date parser; a day without its year is the
    latest such day up to today (figures are of the past)."""
    try:
        return parse_date(raw, today=today, direction=YearDirection.MOST_RECENT, refusal=refusal)
    except DomainError:
        raise DomainError(refusal) from None


def parse_range(raw: str | None, today: date) -> Period:
    """A typed range: `2026-01-01 至 2026-03-31`, `1月1日到3月31日`, `2026/1/1 ~ 2026/3/31`,
    `2026-01-01 2026-03-31` …; each date as bot.services.typed_dates reads it."""
    text = unicodedata.normalize("NFKC", clean(raw)).strip()
    parts = RANGE_SEPARATOR.split(text)
    if len(parts) != 2:
        parts = text.split()
    if len(parts) != 2 or not all(parts):
        raise DomainError("stats.bad_range")
    return Period.of(
        _day(parts[0], today, "stats.bad_range"), _day(parts[1], today, "stats.bad_range")
    )


def parse_dates(first: str, last: str) -> Period:
    """`--from D --to D` of the command line: full dates, as typed in chat."""
    today = date(LAST_YEAR, 12, 31)  # a date without its year is refused below anyway
    for raw in (first, last):
        if not re.search(r"\d{4}", raw):
            raise DomainError("stats.bad_dates")
    return Period.of(_day(first, today, "stats.bad_dates"), _day(last, today, "stats.bad_dates"))


class PeriodChoice(StrEnum):
    """The periods /stats offers as buttons."""

    THIS_MONTH = "month"
    THIS_QUARTER = "quarter"
    THIS_YEAR = "year"
    LAST_YEAR = "last_year"


def preset(choice: PeriodChoice, today: date) -> Period:
    if choice == PeriodChoice.THIS_MONTH:
        return Period.month(today.year, today.month)
    if choice == PeriodChoice.THIS_QUARTER:
        return Period.quarter(today.year, (today.month - 1) // 3 + 1)
    if choice == PeriodChoice.THIS_YEAR:
        return Period.year(today.year)
    return Period.year(today.year - 1)


class AreaKind(StrEnum):
    DISTRICT = "district"
    STREET = "street"  # 街镇
    STATION = "station"  # 联络站


@dataclass(frozen=True)
class Area:
    kind: AreaKind
    id: int | None = None

    @classmethod
    def district(cls) -> Area:
        return cls(AreaKind.DISTRICT)


# --- the report: its JSON names are the interface -----------------------------------------


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class AreaOut(Section):
    kind: AreaKind
    id: int | None
    name: str | None


class DeputyWork(Section):
    deputy_attendances: int
    voter_contacts: int
    things_done: int
    annual_accounts_given: int


class Opinions(Section):
    opinions_received: int
    accepted: int
    declined: int
    answered: int
    response_rate: float | None
    solved_rate: float | None
    satisfied_rate: float | None
    median_days_to_answer: float | None
    by_category: dict[str, int]
    top_categories_by_street: dict[str, list[tuple[str, int]]]


class SolvedOrProgressed(Section):
    count: int
    rate: float | None


class Suggestions(Section):
    suggestions_submitted: int
    assigned: int
    answered: int
    answered_on_time: int
    by_class: dict[str, int]
    solved_or_progressed: SolvedOrProgressed
    satisfied_rate: float | None
    met_before_answer_rate: float | None
    ledger_open: int
    overdue: int


class Consultations(Section):
    held: int
    comments: int


class RatedProject(Section):
    project_id: int
    title: str
    year: int
    verdict: str


class Projects(Section):
    projects_rated: int
    verdicts: dict[str, int]
    rated: list[RatedProject]


class StreetFigures(Section):
    """One 街镇's rates, the chart's bars."""

    id: int
    name: str
    opinions_received: int
    response_rate: float | None
    satisfied_rate: float | None
    suggestions_answered: int
    solved_or_progressed_rate: float | None


class FiguresReport(Section):
    period: Period
    area: AreaOut
    deputy_work: DeputyWork
    opinions: Opinions
    suggestions: Suggestions
    consultations: Consultations | None  # district-wide only
    projects: Projects | None  # district-wide only
    streets: list[StreetFigures]

    def as_json(self) -> dict[str, Any]:
        """The report under its documented names (the period's `from` and `to`)."""
        return self.model_dump(mode="json", by_alias=True)


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole rounded to 4 decimals; None (JSON null) when there is nothing to divide."""
    return None if whole <= 0 else round(part / whole, RATE_DIGITS)


# --- /stats: its conversation -------------------------------------------------------------


class StatsStep(StrEnum):
    PERIOD = "period"  # a period's button, or a range typed
    AREA = "area"  # the district, a street or a station
    STREET = "street"  # the street picker
    STATION = "station"  # the station picker


class StatsDraft(BaseModel):
    start: date | None = None
    end: date | None = None

    def period(self) -> Period:
        if self.start is None or self.end is None:
            raise DomainError("stats.no_period")
        return Period.of(self.start, self.end)


STATS = Conversation(
    "stats",
    steps=StatsStep,
    draft=StatsDraft,
    opened_by=("stats",),
    needs=Action.VIEW_STATS,
)


# --- the computation ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """The resolved area: its JSON, the stations it covers (None: all) and the streets."""

    out: AreaOut
    stations: list[int] | None  # None: the district
    every_station: list[int]  # the area's stations, the district's all listed
    street_of: dict[int, int]  # station → street
    streets: list[tuple[int, str]]  # the streets shown, in order


class Figures:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.zone = settings.zone
        self.repo = FiguresRepo(db)
        self.ballots = BallotRepo(db)
        self.trail = SuggestionTrail(db, clock, outbox)

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    # --- for staff in chat ---------------------------------------------------------------

    def preset(self, actor: User, choice: PeriodChoice) -> Period:
        ensure(actor, Action.VIEW_STATS)
        return preset(choice, self.today())

    def typed_period(self, actor: User, raw: str | None) -> Period:
        ensure(actor, Action.VIEW_STATS)
        return parse_range(raw, self.today())

    async def view(self, actor: User, period: Period, area: Area) -> FiguresReport:
        """The figures for a staff member."""
        ensure(actor, Action.VIEW_STATS)
        return await self.compute(period, area)

    # --- areas by name (the command line) ------------------------------------------------

    async def find_area(self, street: str | None, station: str | None) -> Area:
        """The area `--street NAME` and/or `--station NAME` name: a station's name may be
        shared by stations of different streets, then the street must be named too."""
        places = await self.repo.places()
        streets = dict((name, sid) for sid, name in await self.repo.streets())
        if street is not None and street not in streets:
            raise DomainError("stats.unknown_street", name=street)
        if station is None:
            return Area(AreaKind.STREET, streets[street]) if street else Area.district()
        found = [p for p in places if p.station == station and street in (None, p.street)]
        if not found:
            raise DomainError("stats.unknown_station", name=station)
        if len(found) > 1:
            names = "、".join(p.street for p in found)
            raise DomainError("stats.ambiguous_station", name=station, streets=names)
        return Area(AreaKind.STATION, found[0].station_id)

    async def _scope(self, area: Area) -> _Scope:
        places = await self.repo.places()
        streets = await self.repo.streets()
        street_of = {p.station_id: p.street_id for p in places}
        if area.kind == AreaKind.DISTRICT:
            out = AreaOut(kind=area.kind, id=None, name=None)
            return _Scope(out, None, [p.station_id for p in places], street_of, streets)
        if area.kind == AreaKind.STREET:
            named = [(sid, name) for sid, name in streets if sid == area.id]
            if not named:
                raise DomainError("stats.unknown_area")
            stations = [p.station_id for p in places if p.street_id == area.id]
            out = AreaOut(kind=area.kind, id=area.id, name=named[0][1])
            return _Scope(out, stations, stations, street_of, named)
        place = next((p for p in places if p.station_id == area.id), None)
        if place is None:
            raise DomainError("stats.unknown_area")
        out = AreaOut(kind=area.kind, id=place.station_id, name=place.station)
        only = [place.station_id]
        return _Scope(out, only, only, street_of, [(place.street_id, place.street)])

    # --- the figures ---------------------------------------------------------------------

    async def compute(self, period: Period, area: Area) -> FiguresReport:
        scope = await self._scope(area)
        span = period.span(self.zone, self.clock.now())
        opinion_rows = await self.repo.opinion_counts(span, scope.every_station)
        answered = sum(r.answered for r in opinion_rows)
        median = await self.repo.median_seconds_to_answer(
            span, scope.every_station, answered, district=scope.stations is None
        )
        facts = await self.repo.suggestions(span, scope.stations)
        classes = await self._classes(period.years, facts)
        district = area.kind == AreaKind.DISTRICT
        return FiguresReport(
            period=period,
            area=scope.out,
            deputy_work=await self._deputy_work(span, scope.stations),
            opinions=self._opinions(opinion_rows, median, scope),
            suggestions=self._suggestions(facts, classes, span.now),
            consultations=await self._consultations(span) if district else None,
            projects=await self._projects(span) if district else None,
            streets=self._streets(scope, opinion_rows, facts, classes),
        )

    async def _deputy_work(self, span: Span, stations: list[int] | None) -> DeputyWork:
        turns = await self.repo.turn_counts(span, stations)
        visits = await self.repo.visit_counts(span, stations)
        attended = sum(t.attended for t in turns)
        untied = sum(v.visits - v.on_attended_turns for v in visits)
        return DeputyWork(
            deputy_attendances=attended + untied,
            voter_contacts=sum(v.voters_met for v in visits),
            things_done=sum(v.things_done for v in visits),
            annual_accounts_given=sum(t.attended for t in turns if t.kind == "annual_account"),
        )

    def _opinions(
        self, rows: Sequence[OpinionCounts], median_seconds: float | None, scope: _Scope
    ) -> Opinions:
        total = _sum_opinions(rows)
        by_category: Counter[str] = Counter()
        by_street: dict[int, Counter[str]] = defaultdict(Counter)
        for row in rows:
            by_category[row.category] += row.received
            by_street[scope.street_of.get(row.station_id, 0)][row.category] += row.received
        top = {
            name: _ranked(by_street[sid])[:TOP_CATEGORIES]
            for sid, name in scope.streets
            if by_street.get(sid)
        }
        median = None
        if median_seconds is not None:
            median = round(median_seconds / SECONDS_A_DAY, DAYS_DIGITS)
        return Opinions(
            opinions_received=total.received,
            accepted=total.accepted,
            declined=total.declined,
            answered=total.answered,
            response_rate=rate(total.answered, total.received - total.declined),
            solved_rate=rate(total.solved, total.rated),
            satisfied_rate=rate(total.satisfied, total.rated),
            median_days_to_answer=median,
            by_category=dict(_ranked(by_category)),
            top_categories_by_street=top,
        )

    async def _classes(
        self, years: Iterable[int], facts: Sequence[SuggestionFacts]
    ) -> dict[int, list[OutcomeClass]]:
        """The outcome classes of the period's years and of every year an answer's
        assignment fell in (the classes the answer was given in)."""
        wanted = set(years) | {self._class_year(f) for f in facts if f.answered}
        return {year: await self.trail.outcome_classes(year) for year in sorted(wanted)}

    def _class_year(self, fact: SuggestionFacts) -> int:
        """The year of the first 交办 (suggestion_trail.handling_year), read in one query."""
        if fact.assigned_at is None:
            return self.today().year
        return fact.assigned_at.astimezone(self.zone).year

    def _class_of(
        self, fact: SuggestionFacts, classes: dict[int, list[OutcomeClass]]
    ) -> OutcomeClass | None:
        year = classes.get(self._class_year(fact), [])
        return next((c for c in year if c.code == fact.outcome_class), None)

    def _suggestions(
        self,
        facts: Sequence[SuggestionFacts],
        classes: dict[int, list[OutcomeClass]],
        now: datetime,
    ) -> Suggestions:
        by_class = {c.code: 0 for year in classes.values() for c in year}
        answered = [f for f in facts if f.answered]
        progressed = ledger_open = 0
        for fact in answered:
            code = fact.outcome_class or ""
            by_class[code] = by_class.get(code, 0) + 1
            kind = self._class_of(fact, classes)
            progressed += bool(kind and kind.counts_as_progress)
            ledger_open += bool(kind and kind.ledger and not fact.ledger_done)
        rated = [f for f in facts if f.rating is not None]
        return Suggestions(
            suggestions_submitted=len(facts),
            assigned=sum(f.assigned for f in facts),
            answered=len(answered),
            answered_on_time=sum(f.first_on_time for f in facts),
            by_class=by_class,
            solved_or_progressed=SolvedOrProgressed(
                count=progressed, rate=rate(progressed, len(answered))
            ),
            satisfied_rate=rate(sum(f.rating in SATISFIED for f in rated), len(rated)),
            met_before_answer_rate=rate(sum(f.met_deputy for f in answered), len(answered)),
            ledger_open=ledger_open,
            overdue=sum(
                f.state in OVERDUE_STATES and f.due_at is not None and f.due_at < now for f in facts
            ),
        )

    def _streets(
        self,
        scope: _Scope,
        opinion_rows: Sequence[OpinionCounts],
        facts: Sequence[SuggestionFacts],
        classes: dict[int, list[OutcomeClass]],
    ) -> list[StreetFigures]:
        opinions: dict[int, list[OpinionCounts]] = defaultdict(list)
        for row in opinion_rows:
            opinions[scope.street_of.get(row.station_id, 0)].append(row)
        answered: dict[int, list[SuggestionFacts]] = defaultdict(list)
        for fact in facts:
            if fact.answered:
                answered[scope.street_of.get(fact.station_id, 0)].append(fact)
        shown = []
        for sid, name in scope.streets:
            total = _sum_opinions(opinions.get(sid, []))
            done = answered.get(sid, [])
            progressed = 0
            for fact in done:
                kind = self._class_of(fact, classes)
                progressed += bool(kind and kind.counts_as_progress)
            shown.append(
                StreetFigures(
                    id=sid,
                    name=name,
                    opinions_received=total.received,
                    response_rate=rate(total.answered, total.received - total.declined),
                    satisfied_rate=rate(total.satisfied, total.rated),
                    suggestions_answered=len(done),
                    solved_or_progressed_rate=rate(progressed, len(done)),
                )
            )
        return shown

    async def _consultations(self, span: Span) -> Consultations:
        held, comments = await self.repo.consultations(span)
        return Consultations(held=held, comments=comments)

    async def _projects(self, span: Span) -> Projects:
        rated: list[RatedProject] = []
        for ballot_id in await self.repo.rating_ballots(span):
            ballot = await self.ballots.get(ballot_id)
            if ballot is None:
                continue
            projects = await self.ballots.projects(ballot_id)
            raw = await self.ballots.tallies(ballot_id)
            tallies = {p: {Choice(c): n for c, n in marks.items()} for p, marks in raw.items()}
            result = compute(
                ballot,
                projects,
                tallies,
                await self.ballots.voted(ballot_id),
                verdict_base=self.settings.rating_verdict_base,
                verdict_share=self.settings.rating_verdict_share,
            )
            rated += [
                RatedProject(
                    project_id=row.project.id,
                    title=row.project.title,
                    year=row.project.year,
                    verdict=row.outcome.value,
                )
                for row in sorted(result.rows, key=lambda r: (r.rank, r.project.id))
            ]
        verdicts = Counter(p.verdict for p in rated)
        return Projects(
            projects_rated=len(rated),
            verdicts={v.value: verdicts[v.value] for v in VERDICTS},
            rated=rated,
        )


@dataclass(frozen=True)
class _OpinionTotal:
    received: int = 0
    accepted: int = 0
    declined: int = 0
    answered: int = 0
    rated: int = 0
    solved: int = 0
    satisfied: int = 0


def _sum_opinions(rows: Iterable[OpinionCounts]) -> _OpinionTotal:
    rows = list(rows)
    return _OpinionTotal(
        received=sum(r.received for r in rows),
        accepted=sum(r.accepted for r in rows),
        declined=sum(r.declined for r in rows),
        answered=sum(r.answered for r in rows),
        rated=sum(r.rated for r in rows),
        solved=sum(r.solved for r in rows),
        satisfied=sum(r.satisfied for r in rows),
    )


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    """Most first; equal counts by name, so the order is always the same."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
