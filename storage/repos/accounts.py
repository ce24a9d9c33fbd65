"""The annual account (年述职): a deputy's year read from the data, the duty turns they could
not attend (turn_absences), and the voters' secret rating of the account (account_ratings).

Every figure of a year is read for one deputy through an index on that deputy (turns,
visits, held and authored opinions, suggestions, comments, ballot voters), so compiling an
account costs the same whatever the size of the district."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from storage.db import Database, Tx, stamp
from storage.models import AccountRating, Suggestion, SuggestionRating, SuggestionState, TurnKind
from storage.repos.stations import containing
from storage.repos.suggestions import suggestion_of

# Who may rate a deputy's account: the consented, active voters of the deputy's station.
STATION_VOTERS_SQL = (
    "SELECT telegram_id FROM users WHERE station_id = ? AND role = 'voter'"
    " AND consent_at IS NOT NULL AND active = 1 ORDER BY telegram_id"
)
DEPUTIES_SQL = (
    "SELECT d.user_id, d.name, d.station_id, s.name AS station_name, z.name AS street_name,"
    " d.joined_at FROM deputies d JOIN users u ON u.telegram_id = d.user_id"
    " JOIN stations s ON s.id = d.station_id JOIN streets z ON z.id = s.street_id"
    " WHERE u.role = 'deputy'"
)


class AccountRow(BaseModel):
    model_config = ConfigDict(frozen=True)


class DeputyFacts(AccountRow):
    """Who gives the account: name, station, street, and when they joined the bot."""

    user_id: int
    name: str
    station_id: int
    station_name: str
    street_name: str
    joined_at: datetime


class AccountTurn(AccountRow):
    """One duty turn of the deputy, with what the account makes of it: an absence recorded
    (its reason), or a visit logged for it (then the deputy was there)."""

    id: int
    kind: TurnKind
    starts_at: datetime
    ends_at: datetime
    station_name: str | None = None
    absence_reason: str | None = None
    visited: bool = False

    @property
    def absent(self) -> bool:
        return self.absence_reason is not None


class ContactFigures(AccountRow):
    """Visits logged (not deleted) in the year: how many, the people met, things done."""

    visits: int = 0
    voters_met: int = 0
    things_done: int = 0  # visits whose done_for_voters is not blank
    done: list[str] = []  # what was done, in date order


class OpinionFigures(AccountRow):
    """Voters' opinions of the year the deputy holds, answered and rated."""

    received: int = 0
    answered: int = 0
    satisfied: int = 0
    basically: int = 0
    unsatisfied: int = 0

    @property
    def rated(self) -> int:
        return self.satisfied + self.basically + self.unsatisfied


class AccountSuggestion(AccountRow):
    """A suggestion of the year the deputy leads or co-signed (confirmed)."""

    suggestion: Suggestion
    lead: bool
    department: str | None = None  # the lead department (主办) of the latest assignment

    @property
    def id(self) -> int:
        return self.suggestion.id

    @property
    def number(self) -> str:
        return self.suggestion.number

    @property
    def title(self) -> str:
        return self.suggestion.title

    @property
    def state(self) -> SuggestionState:
        return self.suggestion.state

    @property
    def outcome_class(self) -> str | None:
        return self.suggestion.outcome_class

    @property
    def rating(self) -> SuggestionRating | None:
        return self.suggestion.rating


class SupervisionFigures(AccountRow):
    """Consultation comments (live), the ballots voted in (never how), and supervision
    opinions on livelihood projects, of the year."""

    comments: int = 0
    consultations: list[str] = []  # the titles commented on, in the order first commented
    selection_votes: int = 0
    rating_votes: int = 0
    project_opinions: int = 0


class RatingCounts(AccountRow):
    """An account rating's turnout and tallies: who voted is counted apart from how."""

    entitled: int
    voted: int
    satisfied: int = 0
    basically: int = 0
    unsatisfied: int = 0


def _turn(row: sqlite3.Row) -> AccountTurn:
    return AccountTurn.model_validate(dict(row))


def _rating(row: sqlite3.Row) -> AccountRating:
    return AccountRating.model_validate(dict(row))


def _window(start: datetime, end: datetime) -> tuple[str, str]:
    return stamp(start), stamp(end)


class AccountRepo:
    """What a deputy's year holds, and the absences they record."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def deputy(self, user_id: int) -> DeputyFacts | None:
        row = await self.db.fetchone(f"{DEPUTIES_SQL} AND d.user_id = ?", (user_id,))
        return None if row is None else DeputyFacts.model_validate(dict(row))

    async def turns(
        self, deputy_id: int, start: datetime, end: datetime, tx: Tx | None = None
    ) -> list[AccountTurn]:
        """The deputy's duty turns starting in [start, end), in time order."""
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT t.id, t.kind, t.starts_at, t.ends_at, s.name AS station_name,"
            " a.reason AS absence_reason,"
            " EXISTS (SELECT 1 FROM visits v WHERE v.turn_id = t.id AND v.deputy_id = d.deputy_id"
            " AND v.deleted_at IS NULL) AS visited"
            " FROM duty_turn_deputies d JOIN duty_turns t ON t.id = d.turn_id"
            " LEFT JOIN stations s ON s.id = t.station_id"
            " LEFT JOIN turn_absences a ON a.turn_id = t.id AND a.deputy_id = d.deputy_id"
            " WHERE d.deputy_id = ? AND t.starts_at >= ? AND t.starts_at < ?"
            " ORDER BY t.starts_at, t.id",
            (deputy_id, *_window(start, end)),
        )
        return [_turn(r) for r in rows]

    async def turn(self, deputy_id: int, turn_id: int, tx: Tx | None = None) -> AccountTurn | None:
        """One turn of this deputy; None when it does not exist or is not theirs."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT t.id, t.kind, t.starts_at, t.ends_at, s.name AS station_name,"
            " a.reason AS absence_reason,"
            " EXISTS (SELECT 1 FROM visits v WHERE v.turn_id = t.id AND v.deputy_id = d.deputy_id"
            " AND v.deleted_at IS NULL) AS visited"
            " FROM duty_turn_deputies d JOIN duty_turns t ON t.id = d.turn_id"
            " LEFT JOIN stations s ON s.id = t.station_id"
            " LEFT JOIN turn_absences a ON a.turn_id = t.id AND a.deputy_id = d.deputy_id"
            " WHERE d.deputy_id = ? AND t.id = ?",
            (deputy_id, turn_id),
        )
        return None if row is None else _turn(row)

    async def turn_exists(self, turn_id: int) -> bool:
        return (
            await self.db.fetchone("SELECT 1 FROM duty_turns WHERE id = ?", (turn_id,)) is not None
        )

    async def contact(self, deputy_id: int, first_day: str, last_day: str) -> ContactFigures:
        """Visits with a visit_date (a local date) from `first_day` to `last_day`."""
        rows = await self.db.fetchall(
            "SELECT voters_met, done_for_voters FROM visits WHERE deputy_id = ?"
            " AND deleted_at IS NULL AND visit_date >= ? AND visit_date <= ?"
            " ORDER BY visit_date, id",
            (deputy_id, first_day, last_day),
        )
        done = [str(r[1]).strip() for r in rows if str(r[1]).strip()]
        return ContactFigures(
            visits=len(rows),
            voters_met=sum(int(r[0]) for r in rows),
            things_done=len(done),
            done=done,
        )

    async def opinions(self, deputy_id: int, start: datetime, end: datetime) -> OpinionFigures:
        """Voters' opinions (not supervision opinions) submitted in [start, end) that the
        deputy holds: how many, answered, and rated by satisfaction."""
        row = await self.db.fetchone(
            "SELECT count(*), count(answered_at),"
            " coalesce(sum(satisfaction = 'satisfied'), 0),"
            " coalesce(sum(satisfaction = 'basically'), 0),"
            " coalesce(sum(satisfaction = 'unsatisfied'), 0)"
            " FROM opinions WHERE holder_id = ? AND project_id IS NULL"
            " AND created_at >= ? AND created_at < ?",
            (deputy_id, *_window(start, end)),
        )
        if row is None:
            return OpinionFigures()
        received, answered, satisfied, basically, unsatisfied = (int(v) for v in row)
        return OpinionFigures(
            received=received,
            answered=answered,
            satisfied=satisfied,
            basically=basically,
            unsatisfied=unsatisfied,
        )

    async def suggestions(
        self, deputy_id: int, start: datetime, end: datetime
    ) -> list[AccountSuggestion]:
        """Suggestions submitted in [start, end) that the deputy leads or co-signed
        (confirmed), in number order, each with its lead department."""
        rows = await self.db.fetchall(
            "SELECT s.*, s.lead_deputy_id = :deputy AS lead,"
            " (SELECT p.name FROM suggestion_assignments a JOIN departments p"
            " ON p.id = a.department_id WHERE a.suggestion_id = s.id AND a.lead = 1"
            " ORDER BY a.state = 'active' DESC, a.id DESC LIMIT 1) AS department"
            " FROM suggestions s WHERE s.id IN ("
            " SELECT id FROM suggestions WHERE lead_deputy_id = :deputy"
            " UNION SELECT suggestion_id FROM suggestion_cosigners"
            " WHERE deputy_id = :deputy AND state = 'confirmed')"
            " AND s.created_at >= :start AND s.created_at < :end ORDER BY s.created_at, s.id",
            {"deputy": deputy_id, "start": stamp(start), "end": stamp(end)},
        )
        return [
            AccountSuggestion(
                suggestion=suggestion_of(r), lead=bool(r["lead"]), department=r["department"]
            )
            for r in rows
        ]

    async def supervision(
        self, deputy_id: int, year: int, start: datetime, end: datetime
    ) -> SupervisionFigures:
        """Comments on consultations, ballots of `year` voted in, supervision opinions."""
        window = _window(start, end)
        # consultations are few, comments many: each consultation opened before the year's
        # end is looked up in the (consultation, author) index (CROSS JOIN keeps that
        # order), never a scan of every comment
        comments = await self.db.fetchall(
            "SELECT c.title, count(*) FROM consultations c CROSS JOIN consultation_comments m"
            " ON m.consultation_id = c.id AND m.author_id = ?"
            " WHERE c.created_at < ? AND m.withdrawn_at IS NULL"
            " AND m.created_at >= ? AND m.created_at < ?"
            " GROUP BY c.id ORDER BY min(m.created_at), c.id",
            (deputy_id, window[1], *window),
        )
        # who voted is all the account reads of a ballot: never how (secret ballot)
        votes = await self.db.fetchall(
            "SELECT b.purpose, count(*) FROM ballots b JOIN ballot_voters v"
            " ON v.ballot_id = b.id AND v.user_id = ? AND v.voted = 1"
            " WHERE b.year = ? GROUP BY b.purpose",
            (deputy_id, year),
        )
        by_purpose = {str(r[0]): int(r[1]) for r in votes}
        supervised = await self.db.scalar(
            "SELECT count(*) FROM opinions WHERE author_id = ? AND project_id IS NOT NULL"
            " AND created_at >= ? AND created_at < ?",
            (deputy_id, *window),
        )
        return SupervisionFigures(
            comments=sum(int(r[1]) for r in comments),
            consultations=[str(r[0]) for r in comments],
            selection_votes=by_purpose.get("selection", 0),
            rating_votes=by_purpose.get("rating", 0),
            project_opinions=int(supervised or 0),
        )

    # --- absences ---------------------------------------------------------------------------

    async def record_absence(
        self, tx: Tx, turn_id: int, deputy_id: int, reason: str, now: datetime
    ) -> None:
        """Mark the turn missed with `reason`, or correct the reason given before."""
        tx.defer(
            "INSERT INTO turn_absences (turn_id, deputy_id, reason, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (turn_id, deputy_id) DO UPDATE SET reason = excluded.reason,"
            " at = excluded.at",
            (turn_id, deputy_id, reason, stamp(now)),
        )

    async def remove_absence(self, tx: Tx, turn_id: int, deputy_id: int) -> bool:
        removed = await tx.execute_count(
            "DELETE FROM turn_absences WHERE turn_id = ? AND deputy_id = ?", (turn_id, deputy_id)
        )
        return removed == 1

    # --- the deputies staff pick from -------------------------------------------------------

    async def count_deputies(self) -> int:
        return int(
            await self.db.scalar(
                "SELECT count(*) FROM deputies d JOIN users u ON u.telegram_id = d.user_id"
                " WHERE u.role = 'deputy'"
            )
            or 0
        )

    async def deputies_page(self, offset: int, limit: int) -> list[DeputyFacts]:
        rows = await self.db.fetchall(
            f"{DEPUTIES_SQL} ORDER BY d.name, d.user_id LIMIT ? OFFSET ?", (limit, offset)
        )
        return [DeputyFacts.model_validate(dict(r)) for r in rows]

    async def deputies_named(self, words: str, limit: int) -> list[DeputyFacts]:
        """Deputies whose name holds `words`, by name."""
        rows = await self.db.fetchall(
            f"{DEPUTIES_SQL} AND d.name LIKE ? ESCAPE '\\' ORDER BY d.name, d.user_id LIMIT ?",
            (containing(words), limit),
        )
        return [DeputyFacts.model_validate(dict(r)) for r in rows]


class AccountRatingRepo:
    """Secret ratings of an account: the database knows who voted, never how. A vote flips
    its voter's `voted` from 0 to 1 and adds one to a counter created at zero when the
    rating opened, in one transaction, and writes nothing else (no row, no time, no order)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def station_voters(self, station_id: int, tx: Tx | None = None) -> list[int]:
        source = tx if tx is not None else self.db
        return [int(r[0]) for r in await source.fetchall(STATION_VOTERS_SQL, (station_id,))]

    async def of_deputy_year(
        self, deputy_id: int, year: int, tx: Tx | None = None
    ) -> AccountRating | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM account_ratings WHERE deputy_id = ? AND year = ?", (deputy_id, year)
        )
        return None if row is None else _rating(row)

    async def get(self, rating_id: int, tx: Tx | None = None) -> AccountRating | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM account_ratings WHERE id = ?", (rating_id,))
        return None if row is None else _rating(row)

    async def create(
        self,
        tx: Tx,
        *,
        deputy_id: int,
        year: int,
        station_id: int,
        opened_by: int,
        now: datetime,
        closes_at: datetime,
        voter_ids: Sequence[int],
    ) -> int:
        """The rating, its voters (none voted) and every counter at zero, so a vote never
        creates a row."""
        rating_id = await tx.execute(
            "INSERT INTO account_ratings (deputy_id, year, station_id, opened_by, opened_at,"
            " closes_at) VALUES (?, ?, ?, ?, ?, ?)",
            (deputy_id, year, station_id, opened_by, stamp(now), stamp(closes_at)),
        )
        await tx.executemany(
            "INSERT INTO account_rating_voters (rating_id, voter_id, voted) VALUES (?, ?, 0)",
            ((rating_id, voter) for voter in voter_ids),
        )
        await tx.executemany(
            "INSERT INTO account_rating_tallies (rating_id, choice, count) VALUES (?, ?, 0)",
            ((rating_id, choice.value) for choice in SuggestionRating),
        )
        return rating_id

    async def voter(self, rating_id: int, user_id: int, tx: Tx | None = None) -> bool | None:
        """Whether `user_id` has voted; None when they are not entitled to."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT voted FROM account_rating_voters WHERE rating_id = ? AND voter_id = ?",
            (rating_id, user_id),
        )
        return None if row is None else bool(row[0])

    async def count_vote(
        self, tx: Tx, rating_id: int, user_id: int, choice: SuggestionRating
    ) -> bool:
        """Count one vote: the voter's row flips from 0 to 1 and the choice's counter adds
        one, nothing else. False, with nothing written, when there is no row to flip (voted
        already, or not entitled). A counter missing is a broken rating: raised, so the
        transaction rolls back."""
        flipped = await tx.execute_count(
            "UPDATE account_rating_voters SET voted = 1"
            " WHERE rating_id = ? AND voter_id = ? AND voted = 0",
            (rating_id, user_id),
        )
        if flipped != 1:
            return False
        added = await tx.execute_count(
            "UPDATE account_rating_tallies SET count = count + 1"
            " WHERE rating_id = ? AND choice = ?",
            (rating_id, choice.value),
        )
        if added != 1:
            raise RuntimeError(f"account rating {rating_id}: no counter for {choice!r}")
        return True

    async def counts(self, rating_id: int, tx: Tx | None = None) -> RatingCounts:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT count(*), coalesce(sum(voted), 0) FROM account_rating_voters"
            " WHERE rating_id = ?",
            (rating_id,),
        )
        tallies = await source.fetchall(
            "SELECT choice, count FROM account_rating_tallies WHERE rating_id = ?", (rating_id,)
        )
        by_choice = {str(r[0]): int(r[1]) for r in tallies}
        return RatingCounts(
            entitled=int(row[0]) if row is not None else 0,
            voted=int(row[1]) if row is not None else 0,
            **by_choice,
        )

    async def voter_ids(self, rating_id: int, tx: Tx | None = None) -> list[int]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT voter_id FROM account_rating_voters WHERE rating_id = ? ORDER BY voter_id",
            (rating_id,),
        )
        return [int(r[0]) for r in rows]

    async def open_ratings(self) -> list[AccountRating]:
        rows = await self.db.fetchall(
            "SELECT * FROM account_ratings WHERE state = 'open' ORDER BY closes_at, id"
        )
        return [_rating(r) for r in rows]

    async def recently_closed(self, limit: int) -> list[AccountRating]:
        rows = await self.db.fetchall(
            "SELECT * FROM account_ratings WHERE state = 'closed'"
            " ORDER BY closed_at DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [_rating(r) for r in rows]

    async def due(self, now: datetime) -> list[int]:
        """Open ratings whose closing time has come."""
        rows = await self.db.fetchall(
            "SELECT id FROM account_ratings WHERE state = 'open' AND closes_at <= ? ORDER BY id",
            (stamp(now),),
        )
        return [int(r[0]) for r in rows]

    async def close(self, tx: Tx, rating_id: int, now: datetime) -> bool:
        """Close an open rating; False when it was closed already."""
        changed = await tx.execute_count(
            "UPDATE account_ratings SET state = 'closed', closed_at = ?"
            " WHERE id = ? AND state = 'open'",
            (stamp(now), rating_id),
        )
        return changed == 1
