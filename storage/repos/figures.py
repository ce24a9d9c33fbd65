"""The counts behind the district's figures (bot.services.figures): each query reads one kind
of record for a period (instants as stored, UTC; local dates for visits) and an optional set
of stations, and groups by station, so one pass serves the district, its streets and a
station alike. Rules that need the year's outcome classes are the service's."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from storage.db import Database, stamp

# above this many answers, the median walks the index of the time taken rather than sort
SORT_AT_MOST = 20_000
# blank as people see it: spaces, tabs, line breaks and the ideographic space
BLANK = " \t\r\n\u3000"
# a duty turn attended: past (ended by `now`) and no absence recorded for the deputy
ATTENDED = (
    "t.ends_at <= :now AND NOT EXISTS (SELECT 1 FROM turn_absences a"
    " WHERE a.turn_id = t.id AND a.deputy_id = td.deputy_id)"
)


@dataclass(frozen=True)
class Span:
    """A period as the queries take it: [start, end) as instants, and the local dates."""

    start: datetime
    end: datetime  # exclusive: the start of the day after the last
    first_day: date
    last_day: date
    now: datetime

    def params(self) -> dict[str, object]:
        return {
            "start": stamp(self.start),
            "end": stamp(self.end),
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "now": stamp(self.now),
        }


@dataclass(frozen=True)
class Place:
    station_id: int
    station: str
    street_id: int
    street: str


@dataclass(frozen=True)
class OpinionCounts:
    """Opinions of one station and category received in the period."""

    station_id: int
    category: str
    received: int
    accepted: int
    declined: int
    answered: int
    rated: int
    solved: int  # rated, and solved 'yes'
    satisfied: int  # 满意 or 基本满意


@dataclass(frozen=True)
class TurnCount:
    """Attended (turn, deputy) pairs of one station's deputies and one kind of turn."""

    station_id: int
    kind: str
    attended: int


@dataclass(frozen=True)
class VisitCounts:
    """Visits logged by one station's deputies in the period."""

    station_id: int
    visits: int
    voters_met: int
    things_done: int
    on_attended_turns: int  # logged for a turn the deputy attended: counted with the turn


@dataclass(frozen=True)
class SuggestionFacts:
    """One suggestion submitted in the period, with what the figures ask of it."""

    station_id: int
    state: str
    assigned: bool
    assigned_at: datetime | None
    answered: bool
    outcome_class: str | None
    rating: str | None
    ledger_done: bool
    due_at: datetime | None
    first_on_time: bool  # its first-round answer was on time
    met_deputy: bool  # its latest answer came after meeting the deputy


def _in(column: str, stations: Sequence[int] | None) -> tuple[str, dict[str, object]]:
    """` AND column IN (…)` for a set of stations (nothing for the whole district)."""
    if stations is None:
        return "", {}
    names = {f"s{i}": station for i, station in enumerate(stations)}
    listed = ", ".join(f":{name}" for name in names) or "NULL"
    return f" AND {column} IN ({listed})", dict(names)


def _instant(raw: str | None) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(raw)


class FiguresRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- places ----------------------------------------------------------------------------

    async def places(self) -> list[Place]:
        """Every station with its street, streets in their order (id), stations in theirs."""
        rows = await self.db.fetchall(
            "SELECT s.id, s.name, z.id, z.name FROM stations s JOIN streets z ON z.id = s.street_id"
            " ORDER BY z.id, s.id"
        )
        return [Place(int(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]

    async def streets(self) -> list[tuple[int, str]]:
        """Every street (街镇), stations or not, in id order."""
        rows = await self.db.fetchall("SELECT id, name FROM streets ORDER BY id")
        return [(int(r[0]), str(r[1])) for r in rows]

    # --- opinions --------------------------------------------------------------------------

    async def opinion_counts(self, span: Span, stations: Sequence[int]) -> list[OpinionCounts]:
        """Per station and category. The stations are always listed (every one for the
        district), and so are the categories they have (found first, one index seek per
        category): the figures' index (migration 0012) leads with (station, category,
        received), so each pair is one range of it, read in the order it is grouped in."""
        where, params = _in("station_id", stations)
        rows = await self.db.fetchall(
            "WITH RECURSIVE seen(station, category) AS ("
            "   SELECT value, (SELECT min(category) FROM opinions"
            "       WHERE project_id IS NULL AND station_id = value)"
            "   FROM json_each(:stations)"
            " UNION ALL"
            "   SELECT station, (SELECT min(o.category) FROM opinions o"
            "       WHERE o.project_id IS NULL AND o.station_id = seen.station"
            "       AND o.category > seen.category)"
            "   FROM seen WHERE category IS NOT NULL)"
            " SELECT station_id, category, count(*),"
            " count(holder_id) + count(*) FILTER (WHERE holder_id IS NULL"
            "     AND status IN ('accepted', 'answered', 'closed')),"
            " count(*) FILTER (WHERE status = 'declined'),"
            " count(answered_at),"
            # satisfaction holds a rating, 'not_rated' or NULL (its CHECK): <> skips both
            " count(*) FILTER (WHERE satisfaction <> 'not_rated'),"
            " count(*) FILTER (WHERE satisfaction <> 'not_rated' AND solved = 'yes'),"
            " count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically'))"
            " FROM opinions WHERE project_id IS NULL"
            " AND category IN (SELECT category FROM seen WHERE category IS NOT NULL)"
            f" AND created_at >= :start AND created_at < :end{where}"
            " GROUP BY station_id, category",
            {**span.params(), **params, "stations": json.dumps(list(stations))},
        )
        return [OpinionCounts(int(r[0]), str(r[1]), *(int(v) for v in tuple(r)[2:])) for r in rows]

    async def median_seconds_to_answer(
        self, span: Span, stations: Sequence[int], answered: int, *, district: bool
    ) -> float | None:
        """The median of (answered − received) in whole seconds over the `answered` opinions
        received in the period at `stations` that have an answer; None when there are none.

        Many of them over the whole `district` (its year): walked in the order of the time
        they took, on the index of that time (migration 0012), to the middle one, with no
        sorting; the received instant is kept out of the index choice (`+created_at`) for
        that. Few (a street, a month): the period's range of each station, sorted."""
        if answered <= 0:
            return None
        took = "unixepoch(answered_at) - unixepoch(created_at)"
        window = {"take": 2 - answered % 2, "skip": (answered - 1) // 2}
        if district and answered > SORT_AT_MOST:
            sql = (
                f"SELECT {took} AS took FROM opinions"
                " WHERE project_id IS NULL AND answered_at IS NOT NULL"
                " AND +created_at >= :start AND +created_at < :end"
                " ORDER BY took LIMIT :take OFFSET :skip"
            )
            params: dict[str, object] = {}
        else:
            where, params = _in("station_id", stations)
            sql = (
                f"SELECT {took} AS took FROM opinions"
                " WHERE project_id IS NULL AND answered_at IS NOT NULL"
                f" AND created_at >= :start AND created_at < :end{where}"
                " ORDER BY took LIMIT :take OFFSET :skip"
            )
        rows = await self.db.fetchall(sql, {**span.params(), **params, **window})
        values = [int(r[0]) for r in rows]
        return sum(values) / len(values) if values else None

    # --- deputy work -----------------------------------------------------------------------

    async def turn_counts(self, span: Span, stations: Sequence[int] | None) -> list[TurnCount]:
        where, params = _in("d.station_id", stations)
        rows = await self.db.fetchall(
            "SELECT d.station_id, t.kind, count(*) FROM duty_turns t"
            " JOIN duty_turn_deputies td ON td.turn_id = t.id"
            " JOIN deputies d ON d.user_id = td.deputy_id"
            f" WHERE t.starts_at >= :start AND t.starts_at < :end AND {ATTENDED}{where}"
            " GROUP BY d.station_id, t.kind",
            {**span.params(), **params},
        )
        return [TurnCount(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def visit_counts(self, span: Span, stations: Sequence[int] | None) -> list[VisitCounts]:
        where, params = _in("d.station_id", stations)
        rows = await self.db.fetchall(
            "SELECT d.station_id, count(*), coalesce(sum(v.voters_met), 0),"
            " coalesce(sum(trim(v.done_for_voters, :blank) != ''), 0),"
            " coalesce(sum(v.turn_id IS NOT NULL AND EXISTS (SELECT 1 FROM duty_turns t"
            "     JOIN duty_turn_deputies td ON td.turn_id = t.id"
            f"     WHERE t.id = v.turn_id AND td.deputy_id = v.deputy_id AND {ATTENDED})), 0)"
            " FROM visits v JOIN deputies d ON d.user_id = v.deputy_id"
            " WHERE v.deleted_at IS NULL AND v.visit_date >= :first_day"
            f" AND v.visit_date <= :last_day{where} GROUP BY d.station_id",
            {**span.params(), **params, "blank": BLANK},
        )
        return [VisitCounts(*(int(v) for v in r)) for r in rows]

    # --- suggestions -----------------------------------------------------------------------

    async def suggestions(
        self, span: Span, stations: Sequence[int] | None
    ) -> list[SuggestionFacts]:
        """The suggestions submitted in the period, by their lead deputy's station."""
        where, params = _in("d.station_id", stations)
        rows = await self.db.fetchall(
            "SELECT d.station_id, s.state, s.first_assigned_at IS NOT NULL,"
            " coalesce(s.first_assigned_at, s.assigned_at, s.answered_at),"
            " s.answered_at IS NOT NULL, s.outcome_class, s.rating,"
            " s.ledger_done_at IS NOT NULL, s.due_at,"
            " coalesce((SELECT a.on_time FROM suggestion_answers a"
            "     WHERE a.suggestion_id = s.id AND a.round = 1), 0),"
            " coalesce((SELECT a.met_deputy FROM suggestion_answers a"
            "     WHERE a.suggestion_id = s.id ORDER BY a.round DESC LIMIT 1), 0)"
            " FROM suggestions s JOIN deputies d ON d.user_id = s.lead_deputy_id"
            f" WHERE s.created_at >= :start AND s.created_at < :end{where}",
            {**span.params(), **params},
        )
        return [
            SuggestionFacts(
                station_id=int(r[0]),
                state=str(r[1]),
                assigned=bool(r[2]),
                assigned_at=_instant(r[3]),
                answered=bool(r[4]),
                outcome_class=r[5],
                rating=r[6],
                ledger_done=bool(r[7]),
                due_at=_instant(r[8]),
                first_on_time=bool(r[9]),
                met_deputy=bool(r[10]),
            )
            for r in rows
        ]

    # --- consultations and projects (district-wide) --------------------------------------

    async def consultations(self, span: Span) -> tuple[int, int]:
        """(consultations opened in the period, their comments not withdrawn)."""
        row = await self.db.fetchone(
            "SELECT count(*), coalesce(sum((SELECT count(*) FROM consultation_comments c"
            "   WHERE c.consultation_id = k.id AND c.withdrawn_at IS NULL)), 0)"
            " FROM consultations k WHERE k.created_at >= :start AND k.created_at < :end",
            span.params(),
        )
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    async def rating_ballots(self, span: Span) -> list[int]:
        """The year-end rating ballots (测评) closed in the period, in the order they closed."""
        rows = await self.db.fetchall(
            "SELECT id FROM ballots WHERE purpose = 'rating' AND state = 'closed'"
            " AND closed_at >= :start AND closed_at < :end ORDER BY closed_at, id",
            span.params(),
        )
        return [int(r[0]) for r in rows]
