"""After the answer: the deputy's rating, the ledger (台账) of commitments and their progress
updates, the rows of the ledger's list and its .xlsx, and what publication (建议公开) reads.
Suggestions themselves are read and changed through storage.repos.suggestions."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from storage.db import Database, Tx, stamp
from storage.models import (
    Commitment,
    CommitmentUpdate,
    Suggestion,
    SuggestionAnswer,
    SuggestionRating,
    SuggestionState,
)
from storage.repos.suggestions import suggestion_of

# the latest answer of a suggestion: round 2 once re-handled, else round 1
LATEST_ANSWER = (
    "NOT EXISTS (SELECT 1 FROM suggestion_answers later"
    " WHERE later.suggestion_id = a.suggestion_id AND later.round > a.round)"
)
# who handles a suggestion: its active assignments (a return or a reassignment ends the others;
# closing ends none, so a closed suggestion keeps the departments that handled it)
HANDLING = "sa.state = 'active'"
# the department the ledger lists a suggestion under: the one that gave its latest answer, or
# before the answer its active lead (主办)
LEAD_DEPARTMENT = (
    "COALESCE((SELECT a.department_id FROM suggestion_answers a"
    f"   WHERE a.suggestion_id = s.id AND {LATEST_ANSWER}),"
    "  (SELECT sa.department_id FROM suggestion_assignments sa"
    "   WHERE sa.suggestion_id = s.id AND sa.lead = 1 AND sa.state = 'active'))"
)
# overdue: an answer past its deadline, or, on the ledger and open, a commitment of the latest
# answer past its date and not done (`j` is a row of `judged`)
OVERDUE = (
    "((j.state IN ('assigned', 'rehandling') AND j.due_at < :now)"
    " OR (j.on_ledger AND j.ledger_done_at IS NULL AND EXISTS (SELECT 1"
    "  FROM suggestion_commitments c JOIN suggestion_answers a ON a.id = c.answer_id"
    "  WHERE c.suggestion_id = j.id AND c.done_at IS NULL AND c.due_on < :today"
    f"  AND {LATEST_ANSWER})))"
)


def judged(on_ledger: str, only: str = "") -> str:
    """`listed`: every suggestion ever assigned (交办), or those `only` lets through (a
    condition on `s`), with what the ledger's rules make of it: on the ledger (`on_ledger`,
    see `class_sql`), overdue."""
    return (
        "WITH judged AS (SELECT s.id, s.number, s.title, s.state, s.priority, s.outcome_class,"
        f" s.due_at, s.ledger_done_at, {on_ledger} AS on_ledger,"
        f" {LEAD_DEPARTMENT} AS lead_department_id"
        f" FROM suggestions s WHERE s.first_assigned_at IS NOT NULL{only}),"
        f" listed AS (SELECT j.*, {OVERDUE} AS overdue FROM judged j)"
    )


# the deputy's rating is asked for once per round (reminders_sent)
RATING_SUBJECT = "suggestion"


def rating_reminder_kind(rehandled: bool) -> str:
    """reminders_sent.kind of the reminder to rate the answer of a round (1, or 2 after
    re-handling): as `awaiting_rating` reads it."""
    return f"rating_round{1 + int(rehandled)}"


@dataclass(frozen=True)
class YearClass:
    """An outcome class of the suggestions first assigned (交办) in [start, end): the year
    whose classes their answers take (bot.services.suggestion_trail.handling_year)."""

    start: datetime
    end: datetime
    code: str
    label: str  # the code and the label, as shown
    ledger: bool


def class_sql(classes: Sequence[YearClass]) -> tuple[str, str, dict[str, object]]:
    """What a suggestion's class is, in the classes of the year of its first 交办: whether it
    keeps a ledger, and its label ("B 正在解决或列入计划逐步解决"; a code the year lacks, as it
    is), as SQL expressions on `s`, and their named parameters."""
    on_ledger: list[str] = []
    labels: list[str] = []
    params: dict[str, object] = {}
    for n, c in enumerate(classes):
        params.update(
            {
                f"class{n}_from": stamp(c.start),
                f"class{n}_to": stamp(c.end),
                f"class{n}_code": c.code,
                f"class{n}_label": c.label,
            }
        )
        match = (
            f"s.outcome_class = :class{n}_code AND s.first_assigned_at >= :class{n}_from"
            f" AND s.first_assigned_at < :class{n}_to"
        )
        if c.ledger:
            on_ledger.append(f"({match})")
        labels.append(f"WHEN {match} THEN :class{n}_label")
    ledger = f"({' OR '.join(on_ledger)})" if on_ledger else "0"
    label = f"(CASE {' '.join(labels)} ELSE s.outcome_class END)" if labels else "s.outcome_class"
    return ledger, label, params


@dataclass(frozen=True)
class Handler:
    """A department handling a suggestion: the lead (主办) or a co-handling one (协办)."""

    department_id: int
    name: str
    lead: bool


@dataclass(frozen=True)
class Selection:
    """What the ledger's list and its .xlsx are narrowed to, and what the rules need to judge
    a suggestion: the classes that keep a ledger, and the time."""

    classes: Sequence[YearClass]
    now: datetime
    today: date
    status: str = ""  # "open" or "done" on the ledger; "" for every suggestion ever assigned
    department: int = 0  # the department listed (LEAD_DEPARTMENT); 0 for any
    outcome_class: str = ""  # "" for any
    overdue: bool = False
    priority: bool = False

    @property
    def everything(self) -> bool:
        return not (
            self.status or self.department or self.outcome_class or self.overdue or self.priority
        )

    def where(self) -> str:
        """The condition on a row `l` of `listed` (see `judged`)."""
        wanted = ["1"]
        if self.status == "open":
            wanted.append("l.on_ledger AND l.ledger_done_at IS NULL")
        elif self.status == "done":
            wanted.append("l.on_ledger AND l.ledger_done_at IS NOT NULL")
        if self.department:
            wanted.append("l.lead_department_id = :department")
        if self.outcome_class:
            wanted.append("l.outcome_class = :outcome_class")
        if self.overdue:
            wanted.append("l.overdue")
        if self.priority:
            wanted.append("l.priority")
        return " AND ".join(wanted)

    def params(self) -> dict[str, object]:
        return {
            **class_sql(self.classes)[2],
            "now": stamp(self.now),
            "today": self.today.isoformat(),
            "department": self.department,
            "outcome_class": self.outcome_class,
        }

    def judged(self, only: str = "") -> str:
        return judged(class_sql(self.classes)[0], only)

    @property
    def label(self) -> str:
        return class_sql(self.classes)[1]


@dataclass(frozen=True)
class Entry:
    """One suggestion as the ledger's list shows it (light: no texts but the title)."""

    id: int
    number: str
    title: str
    state: str
    priority: bool
    outcome_class: str | None
    on_ledger: bool  # its class keeps a ledger
    done: bool  # on the ledger, and every commitment done
    overdue: bool
    department: str  # LEAD_DEPARTMENT's name ("" before any)


@dataclass(frozen=True)
class Counts:
    """How many suggestions a selection holds, and of them open and done on the ledger."""

    total: int
    open: int
    done: int


# an `Entry`, from `listed`
ENTRY_COLUMNS = (
    "SELECT l.id, l.number, l.title, l.state, l.priority, l.outcome_class, l.on_ledger,"
    " l.ledger_done_at IS NOT NULL AS done, l.overdue, COALESCE(d.name, '') AS department"
    " FROM listed l LEFT JOIN departments d ON d.id = l.lead_department_id"
)


@dataclass(frozen=True)
class Promise:
    """A commitment as the ledger's .xlsx shows it."""

    text: str
    due_on: date
    done: bool


@dataclass(frozen=True)
class Progress:
    """The latest progress update of a suggestion's commitments."""

    text: str
    at: datetime
    done: bool


@dataclass(frozen=True)
class Reply:
    """The latest answer as the .xlsx shows it."""

    outcome_class: str
    on_time: bool
    met_deputy: bool
    met_on: date | None


@dataclass
class Row:
    """Everything one line of the ledger's .xlsx holds (read in bulk: plain values)."""

    id: int
    number: str
    title: str
    category: str
    state: SuggestionState
    priority: bool
    rehandled: bool
    rating: SuggestionRating | None
    first_assigned_at: datetime | None
    assigned_at: datetime | None
    due_at: datetime | None
    answered_at: datetime | None
    ledger_done_at: datetime | None
    lead_deputy: str
    on_ledger: bool
    overdue: bool
    outcome: str  # the class's code and label ("" before the answer)
    cosigners: list[str] = field(default_factory=list)
    lead_department: str = ""
    co_departments: list[str] = field(default_factory=list)
    answer: Reply | None = None
    promises: list[Promise] = field(default_factory=list)
    progress: Progress | None = None


@dataclass(frozen=True)
class Due:
    """A commitment whose date came (or whose reminder went unanswered), with where it
    belongs: the suggestion, and the department that promised it."""

    commitment: Commitment
    suggestion_id: int
    department_id: int


@dataclass(frozen=True)
class Unposted:
    """An answered suggestion to post to the publication channel, or whose post is out of
    date (`post_id`: the post's outbox row, None when never posted)."""

    suggestion_id: int
    post_id: int | None


class LedgerRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- the answer and its commitments ----------------------------------------------------

    async def latest_answer(
        self, suggestion_id: int, tx: Tx | None = None
    ) -> SuggestionAnswer | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM suggestion_answers WHERE suggestion_id = ? ORDER BY round DESC LIMIT 1",
            (suggestion_id,),
        )
        return None if row is None else SuggestionAnswer.model_validate(dict(row))

    async def commitments(self, answer_id: int, tx: Tx | None = None) -> list[Commitment]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT * FROM suggestion_commitments WHERE answer_id = ? ORDER BY due_on, id",
            (answer_id,),
        )
        return [Commitment.model_validate(dict(r)) for r in rows]

    async def commitment(self, commitment_id: int, tx: Tx | None = None) -> Commitment | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM suggestion_commitments WHERE id = ?", (commitment_id,)
        )
        return None if row is None else Commitment.model_validate(dict(row))

    async def updates(self, commitment_ids: Sequence[int]) -> dict[int, list[CommitmentUpdate]]:
        """The progress updates of these commitments, oldest first."""
        if not commitment_ids:
            return {}
        marks = ",".join("?" * len(commitment_ids))
        rows = await self.db.fetchall(
            f"SELECT * FROM commitment_updates WHERE commitment_id IN ({marks}) ORDER BY id",
            list(commitment_ids),
        )
        found: dict[int, list[CommitmentUpdate]] = defaultdict(list)
        for row in rows:
            update = CommitmentUpdate.model_validate(dict(row))
            found[update.commitment_id].append(update)
        return dict(found)

    async def add_update(
        self, tx: Tx, commitment_id: int, text: str, done: bool, author_id: int, now: datetime
    ) -> None:
        tx.defer(
            "INSERT INTO commitment_updates (commitment_id, text, done, author_id, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (commitment_id, text, int(done), author_id, stamp(now)),
        )

    async def mark_done(self, tx: Tx, commitment_id: int, now: datetime) -> None:
        tx.defer(
            "UPDATE suggestion_commitments SET done_at = ? WHERE id = ? AND done_at IS NULL",
            (stamp(now), commitment_id),
        )

    async def open_commitments(self, tx: Tx, answer_id: int) -> int:
        return int(
            (
                await tx.fetchone(
                    "SELECT count(*) FROM suggestion_commitments"
                    " WHERE answer_id = ? AND done_at IS NULL",
                    (answer_id,),
                )
                or (0,)
            )[0]
        )

    async def correct_answer(
        self, tx: Tx, answer_id: int, *, summary: str | None, outcome_class: str | None
    ) -> None:
        """Staff correct what the answer says (its summary) or its outcome class."""
        if summary is not None:
            tx.defer("UPDATE suggestion_answers SET summary = ? WHERE id = ?", (summary, answer_id))
        if outcome_class is not None:
            tx.defer(
                "UPDATE suggestion_answers SET outcome_class = ? WHERE id = ?",
                (outcome_class, answer_id),
            )

    # --- who handles it ----------------------------------------------------------------------

    async def handlers(self, suggestion_id: int, tx: Tx | None = None) -> list[Handler]:
        """The departments handling it (after closing: those that did), the lead first."""
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT DISTINCT d.id, d.name, sa.lead FROM suggestion_assignments sa"
            " JOIN departments d ON d.id = sa.department_id"
            f" WHERE sa.suggestion_id = ? AND {HANDLING} ORDER BY sa.lead DESC, sa.id",
            (suggestion_id,),
        )
        return [Handler(int(r[0]), str(r[1]), bool(r[2])) for r in rows]

    async def active_department_ids(self, tx: Tx, suggestion_id: int) -> list[int]:
        rows = await tx.fetchall(
            "SELECT DISTINCT department_id FROM suggestion_assignments"
            " WHERE suggestion_id = ? AND state = 'active' ORDER BY department_id",
            (suggestion_id,),
        )
        return [int(r[0]) for r in rows]

    async def department_name(self, department_id: int) -> str | None:
        value = await self.db.scalar("SELECT name FROM departments WHERE id = ?", (department_id,))
        return None if value is None else str(value)

    async def departments(self) -> list[tuple[int, str]]:
        """Every department that ever handled a suggestion, by name (the ledger's filter)."""
        rows = await self.db.fetchall(
            "SELECT d.id, d.name FROM departments d WHERE EXISTS"
            " (SELECT 1 FROM suggestion_assignments sa WHERE sa.department_id = d.id)"
            " ORDER BY d.name"
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def is_liaison_of(self, user_id: int, department_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM department_liaisons WHERE user_id = ? AND department_id = ?",
            (user_id, department_id),
        )
        return row is not None

    async def deputy_name(self, deputy_id: int) -> str:
        value = await self.db.scalar("SELECT name FROM deputies WHERE user_id = ?", (deputy_id,))
        return "" if value is None else str(value)

    async def confirmed_cosigners(self, tx: Tx, suggestion_id: int) -> list[int]:
        rows = await tx.fetchall(
            "SELECT deputy_id FROM suggestion_cosigners WHERE suggestion_id = ?"
            " AND state = 'confirmed' ORDER BY deputy_id",
            (suggestion_id,),
        )
        return [int(r[0]) for r in rows]

    # --- the rating's deadline ----------------------------------------------------------------

    async def awaiting_rating(self, until: datetime, now: datetime) -> list[Suggestion]:
        """Answered suggestions whose time to rate ends by `until`, the lead deputy not told
        yet (reminders_sent, kind `rating_round<n>`), or ends by `now` (to close unrated)."""
        rows = await self.db.fetchall(
            "SELECT * FROM suggestions s WHERE s.state = 'answered'"
            " AND s.rating_due_at IS NOT NULL AND s.rating_due_at <= :until"
            " AND (s.rating_due_at <= :now OR NOT EXISTS (SELECT 1 FROM reminders_sent r"
            "  WHERE r.subject = :subject AND r.subject_id = s.id"
            "  AND r.recipient_id = s.lead_deputy_id"
            "  AND r.kind = 'rating_round' || (1 + s.rehandled)))"
            " ORDER BY s.rating_due_at, s.id",
            {"until": stamp(until), "now": stamp(now), "subject": RATING_SUBJECT},
        )
        return [suggestion_of(r) for r in rows]

    async def close(
        self,
        tx: Tx,
        suggestion_id: int,
        now: datetime,
        rating: SuggestionRating | None,
        comment: str,
    ) -> bool:
        """answered → closed with `rating` (None: the deadline passed unrated); False when it
        was no longer awaiting a rating."""
        changed = await tx.execute_count(
            "UPDATE suggestions SET state = 'closed', rating = ?, rated_at = ?,"
            " rating_comment = ?, closed_at = ?, updated_at = ?"
            " WHERE id = ? AND state = 'answered'",
            (
                rating,
                stamp(now) if rating is not None else None,
                comment,
                stamp(now),
                stamp(now),
                suggestion_id,
            ),
        )
        return changed == 1

    # --- the ledger's reminders and alerts -------------------------------------------------

    async def commitments_due(self, today: date, classes: Sequence[YearClass]) -> list[Due]:
        """Commitments of the latest answers whose date has come, not done and never asked
        about, of suggestions open on the ledger; none of a suggestion being re-handled (its
        new answer brings its own), none once its class no longer keeps a ledger."""
        return await self._due(
            "c.due_on <= :today AND c.reminded_at IS NULL", {"today": today.isoformat()}, classes
        )

    async def commitments_unanswered(
        self, reminded_before: datetime, classes: Sequence[YearClass]
    ) -> list[Due]:
        """Commitments asked about before `reminded_before` with no update since, whose
        staff were not alerted yet (of suggestions still open on the ledger)."""
        return await self._due(
            "c.reminded_at <= :before AND c.alerted_at IS NULL AND NOT EXISTS (SELECT 1 FROM"
            " commitment_updates u WHERE u.commitment_id = c.id AND u.at >= c.reminded_at)",
            {"before": stamp(reminded_before)},
            classes,
        )

    async def _due(
        self, condition: str, params: dict[str, object], classes: Sequence[YearClass]
    ) -> list[Due]:
        on_ledger, _, class_params = class_sql(classes)
        rows = await self.db.fetchall(
            "SELECT c.*, a.department_id FROM suggestion_commitments c"
            " JOIN suggestion_answers a ON a.id = c.answer_id"
            " JOIN suggestions s ON s.id = c.suggestion_id"
            f" WHERE c.done_at IS NULL AND {condition} AND {LATEST_ANSWER}"
            " AND s.state IN ('answered', 'closed') AND s.ledger_done_at IS NULL"
            f" AND {on_ledger} ORDER BY c.due_on, c.id",
            {**params, **class_params},
        )
        found = []
        for row in rows:
            data = dict(row)
            department_id = int(data.pop("department_id"))
            commitment = Commitment.model_validate(data)
            found.append(Due(commitment, commitment.suggestion_id, department_id))
        return found

    async def mark_reminded(self, tx: Tx, commitment_id: int, now: datetime) -> bool:
        """False when another sweep asked already (never twice)."""
        changed = await tx.execute_count(
            "UPDATE suggestion_commitments SET reminded_at = ?"
            " WHERE id = ? AND reminded_at IS NULL AND done_at IS NULL",
            (stamp(now), commitment_id),
        )
        return changed == 1

    async def mark_alerted(self, tx: Tx, commitment_id: int, now: datetime) -> bool:
        changed = await tx.execute_count(
            "UPDATE suggestion_commitments SET alerted_at = ?"
            " WHERE id = ? AND alerted_at IS NULL AND done_at IS NULL",
            (stamp(now), commitment_id),
        )
        return changed == 1

    # --- the ledger's list ---------------------------------------------------------------------

    async def counts(self, wanted: Selection) -> Counts:
        """How many suggestions `wanted` lets through, and of them open and done on the
        ledger."""
        row = await self.db.fetchone(
            f"{wanted.judged()} SELECT count(*),"
            " coalesce(sum(l.on_ledger AND l.ledger_done_at IS NULL), 0),"
            " coalesce(sum(l.on_ledger AND l.ledger_done_at IS NOT NULL), 0)"
            f" FROM listed l WHERE {wanted.where()}",
            wanted.params(),
        )
        return Counts(0, 0, 0) if row is None else Counts(int(row[0]), int(row[1]), int(row[2]))

    async def entries(self, wanted: Selection, offset: int, limit: int) -> list[Entry]:
        """A page of what `wanted` lets through, newest first."""
        rows = await self.db.fetchall(
            f"{wanted.judged()} {ENTRY_COLUMNS}"
            f" WHERE {wanted.where()} ORDER BY l.id DESC LIMIT :limit OFFSET :offset",
            {**wanted.params(), "limit": limit, "offset": offset},
        )
        return [_entry(r) for r in rows]

    async def entry(self, wanted: Selection, suggestion_id: int) -> Entry | None:
        """One suggestion ever assigned, as the list shows it."""
        row = await self.db.fetchone(
            f"{wanted.judged(' AND s.id = :id')} {ENTRY_COLUMNS}",
            {**wanted.params(), "id": suggestion_id},
        )
        return None if row is None else _entry(row)

    async def outcome_codes(self) -> list[str]:
        """The outcome classes of the suggestions ever answered, in order."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT outcome_class FROM suggestions"
            " WHERE first_assigned_at IS NOT NULL AND outcome_class IS NOT NULL ORDER BY 1"
        )
        return [str(r[0]) for r in rows]

    async def assigned_span(self) -> tuple[datetime, datetime] | None:
        """The first and the last first 交办 of any suggestion (None before any)."""
        row = await self.db.fetchone(
            "SELECT min(first_assigned_at), max(first_assigned_at) FROM suggestions"
        )
        if row is None or row[0] is None:
            return None
        return datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1])

    async def rows(self, wanted: Selection) -> list[Row]:
        """The .xlsx's lines of what `wanted` lets through, in the order submitted (so by
        number). A few set-wise reads, put together here."""
        found: dict[int, Row] = {}
        for r in await self.db.fetchall(
            f"{wanted.judged()} SELECT s.id, s.number, s.title, s.category, s.state, s.priority,"
            " s.rehandled, s.rating, s.first_assigned_at, s.assigned_at, s.due_at,"
            " s.answered_at, s.ledger_done_at, COALESCE(d.name, ''), l.on_ledger, l.overdue,"
            f" {wanted.label} FROM listed l JOIN suggestions s ON s.id = l.id"
            " LEFT JOIN deputies d ON d.user_id = s.lead_deputy_id"
            f" WHERE {wanted.where()} ORDER BY s.id",
            wanted.params(),
        ):
            found[r[0]] = Row(
                id=r[0],
                number=r[1],
                title=r[2],
                category=r[3],
                state=SuggestionState(r[4]),
                priority=bool(r[5]),
                rehandled=bool(r[6]),
                rating=SuggestionRating(r[7]) if r[7] else None,
                first_assigned_at=_instant(r[8]),
                assigned_at=_instant(r[9]),
                due_at=_instant(r[10]),
                answered_at=_instant(r[11]),
                ledger_done_at=_instant(r[12]),
                lead_deputy=r[13],
                on_ledger=bool(r[14]),
                overdue=bool(r[15]),
                outcome=r[16] or "",
            )
        if wanted.everything:
            where, params = "s.first_assigned_at IS NOT NULL", []
        else:
            # the ids go in as one JSON array: any number of them, one parameter
            where, params = "s.id IN (SELECT value FROM json_each(?))", [_json_ids(list(found))]
        chosen = f"({where})"
        for r in await self.db.fetchall(
            "SELECT c.suggestion_id, d.name FROM suggestion_cosigners c"
            " JOIN suggestions s ON s.id = c.suggestion_id"
            " JOIN deputies d ON d.user_id = c.deputy_id"
            f" WHERE c.state = 'confirmed' AND {chosen} ORDER BY c.invited_at, c.deputy_id",
            params,
        ):
            found[int(r[0])].cosigners.append(str(r[1]))
        for r in await self.db.fetchall(
            "SELECT DISTINCT sa.suggestion_id, sa.lead, d.name, sa.id FROM"
            " suggestion_assignments sa JOIN suggestions s ON s.id = sa.suggestion_id"
            " JOIN departments d ON d.id = sa.department_id"
            f" WHERE {HANDLING} AND {chosen} ORDER BY sa.suggestion_id, sa.lead DESC, sa.id",
            params,
        ):
            row = found[int(r[0])]
            if r[1] and not row.lead_department:
                row.lead_department = str(r[2])
            elif not r[1] and str(r[2]) not in row.co_departments:
                row.co_departments.append(str(r[2]))
        answers: dict[int, int] = {}  # answer id → suggestion id
        for r in await self.db.fetchall(
            "SELECT a.id, a.suggestion_id, a.outcome_class, a.on_time, a.met_deputy, a.met_on,"
            " d.name FROM suggestion_answers a JOIN suggestions s ON s.id = a.suggestion_id"
            " JOIN departments d ON d.id = a.department_id"
            f" WHERE {LATEST_ANSWER} AND {chosen}",
            params,
        ):
            row = found[r[1]]
            row.answer = Reply(
                r[2], bool(r[3]), bool(r[4]), date.fromisoformat(r[5]) if r[5] else None
            )
            row.lead_department = r[6]  # the one that answered, and promised
            answers[r[0]] = r[1]
        latest: dict[int, Progress] = {}
        for r in await self.db.fetchall(
            "SELECT c.answer_id, c.text, c.due_on, c.done_at, u.text, u.at, u.done"
            " FROM suggestion_commitments c JOIN suggestions s ON s.id = c.suggestion_id"
            " LEFT JOIN commitment_updates u ON u.id ="
            "  (SELECT max(id) FROM commitment_updates WHERE commitment_id = c.id)"
            f" WHERE {chosen} ORDER BY c.due_on, c.id",
            params,
        ):
            suggestion_id = answers.get(int(r[0]))
            if suggestion_id is None:  # a commitment of an earlier, replaced answer
                continue
            found[suggestion_id].promises.append(
                Promise(str(r[1]), date.fromisoformat(r[2]), r[3] is not None)
            )
            if r[4] is not None:
                progress = Progress(str(r[4]), datetime.fromisoformat(r[5]), bool(r[6]))
                known = latest.get(suggestion_id)
                if known is None or progress.at >= known.at:
                    latest[suggestion_id] = progress
        for suggestion_id, progress in latest.items():
            found[suggestion_id].progress = progress
        return list(found.values())

    # --- publication ---------------------------------------------------------------------------

    async def to_publish(self, retry_before: datetime, reposts: int) -> list[Unposted]:
        """Answered suggestions the lead deputy agreed to publish that were never posted;
        posted ones whose post shows an answer that is no longer the latest (a round 2); and
        those whose post failed (or was skipped), tried last before `retry_before` and queued
        again fewer than `reposts` times."""
        rows = await self.db.fetchall(
            "SELECT s.id, s.channel_outbox_id FROM suggestions s"
            " JOIN suggestion_answers a ON a.suggestion_id = s.id"
            " LEFT JOIN outbox o ON o.id = s.channel_outbox_id"
            f" WHERE s.publish = 1 AND s.answered_at IS NOT NULL AND {LATEST_ANSWER}"
            " AND (s.channel_outbox_id IS NULL OR s.posted_answer_id IS NOT a.id"
            "  OR (o.state IN ('failed', 'skipped') AND o.reposts < ? AND o.not_before <= ?))"
            " ORDER BY s.id",
            (reposts, stamp(retry_before)),
        )
        return [Unposted(int(r[0]), None if r[1] is None else int(r[1])) for r in rows]

    async def mark_posted(self, tx: Tx, suggestion_id: int, post_id: int, answer_id: int) -> None:
        """The suggestion's post is outbox row `post_id`, showing answer `answer_id`."""
        tx.defer(
            "UPDATE suggestions SET channel_outbox_id = ?, posted_answer_id = ? WHERE id = ?",
            (post_id, answer_id, suggestion_id),
        )


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=int(row["id"]),
        number=str(row["number"]),
        title=str(row["title"]),
        state=str(row["state"]),
        priority=bool(row["priority"]),
        outcome_class=row["outcome_class"],
        on_ledger=bool(row["on_ledger"]),
        done=bool(row["on_ledger"]) and bool(row["done"]),
        overdue=bool(row["overdue"]),
        department=str(row["department"]),
    )


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _json_ids(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
