"""交办: which departments handle a suggestion (one lead, any co-handling), staff's queue of
suggestions to assign or follow, and the deadlines' reminders that are due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import AssignmentState, Suggestion, SuggestionAssignment, SuggestionState
from storage.repos.suggestions import suggestion_of

HANDLING = (SuggestionState.ASSIGNED, SuggestionState.REHANDLING)
SUBJECT = "suggestion"  # reminders_sent.subject of the deadlines' notices


class AssignedDepartment(SuggestionAssignment):
    """An assignment row with its department's name, as the card lists it."""

    department_name: str


@dataclass(frozen=True)
class QueueEntry:
    """A suggestion in staff's queue, with its lead deputy's name."""

    suggestion: Suggestion
    deputy_name: str


# the order of each part of the queue: the oldest waiting first (a returned one since the
# lead department returned it); what is being handled by its deadline, so the overdue first
_RETURNED_AT = (
    "(SELECT MAX(a.returned_at) FROM suggestion_assignments a WHERE a.suggestion_id = s.id"
    " AND a.lead = 1 AND a.state = 'returned')"
)
_ORDER = {
    SuggestionState.SUBMITTED: "s.priority DESC, s.created_at, s.id",
    SuggestionState.RETURNED: f"s.priority DESC, {_RETURNED_AT}, s.id",
    SuggestionState.ASSIGNED: "s.due_at, s.id",
}


class AssignmentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- the rows of a suggestion ----------------------------------------------------------

    async def of_suggestion(self, suggestion_id: int) -> list[AssignedDepartment]:
        """Every round's rows, the lead first within a round."""
        rows = await self.db.fetchall(
            "SELECT a.*, d.name AS department_name FROM suggestion_assignments a"
            " JOIN departments d ON d.id = a.department_id WHERE a.suggestion_id = ?"
            " ORDER BY a.assigned_at, a.lead DESC, a.id",
            (suggestion_id,),
        )
        return [AssignedDepartment.model_validate(dict(r)) for r in rows]

    async def active(self, tx: Tx, suggestion_id: int) -> list[SuggestionAssignment]:
        rows = await tx.fetchall(
            "SELECT * FROM suggestion_assignments WHERE suggestion_id = ? AND state = ?"
            " ORDER BY lead DESC, id",
            (suggestion_id, AssignmentState.ACTIVE),
        )
        return [SuggestionAssignment.model_validate(dict(r)) for r in rows]

    async def insert(
        self,
        tx: Tx,
        suggestion_id: int,
        department_id: int,
        *,
        lead: bool,
        now: datetime,
        assigned_by: int,
    ) -> None:
        tx.defer(
            "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead, state,"
            " assigned_at, assigned_by) VALUES (?, ?, ?, ?, ?, ?)",
            (
                suggestion_id,
                department_id,
                int(lead),
                AssignmentState.ACTIVE,
                stamp(now),
                assigned_by,
            ),
        )

    async def end(self, tx: Tx, assignment_ids: Sequence[int]) -> None:
        """Rows of an earlier round that a reassignment replaces."""
        for assignment_id in assignment_ids:
            tx.defer(
                "UPDATE suggestion_assignments SET state = ? WHERE id = ? AND state = ?",
                (AssignmentState.ENDED, assignment_id, AssignmentState.ACTIVE),
            )

    # --- staff's queue ---------------------------------------------------------------------

    async def counts(self, now: datetime) -> dict[str, int]:
        """How many wait in each part of the queue, and how many handled ones are overdue
        (key 'overdue')."""
        rows = await self.db.fetchall(
            "SELECT CASE WHEN state IN ('assigned', 'rehandling') THEN 'assigned' ELSE state END,"
            " COUNT(*), SUM(state IN ('assigned', 'rehandling') AND due_at <= ?)"
            " FROM suggestions WHERE state IN ('submitted', 'returned', 'assigned', 'rehandling')"
            " GROUP BY 1",
            (stamp(now),),
        )
        counts = {str(r[0]): int(r[1]) for r in rows}
        counts["overdue"] = sum(int(r[2] or 0) for r in rows)
        return counts

    async def queue(self, part: SuggestionState, offset: int, limit: int) -> list[QueueEntry]:
        """A page of one part of the queue: submitted, returned, or being handled (assigned
        and re-handling, by deadline)."""
        states = HANDLING if part == SuggestionState.ASSIGNED else (part,)
        rows = await self.db.fetchall(
            "SELECT s.*, COALESCE(d.name, '') AS deputy_name FROM suggestions s"
            " LEFT JOIN deputies d ON d.user_id = s.lead_deputy_id"
            f" WHERE s.state IN ({','.join('?' * len(states))})"
            f" ORDER BY {_ORDER[part]} LIMIT ? OFFSET ?",
            (*states, limit, offset),
        )
        return [QueueEntry(suggestion_of(r), str(r["deputy_name"])) for r in rows]

    # --- deadlines -------------------------------------------------------------------------

    async def due_within(
        self, after: datetime | None, until: datetime, kind: str
    ) -> list[tuple[Suggestion, str]]:
        """Handled suggestions due in (after, until] (after None: any time up to `until`)
        not yet told of under `kind` for their present deadline: (suggestion, the kind
        naming that deadline). A new deadline (an extension, a reassignment, re-handling)
        is a new kind, so it is told afresh."""
        rows = await self.db.fetchall(
            "SELECT s.*, ? || '@' || s.due_at AS reminder_kind FROM suggestions s"
            " WHERE s.state IN ('assigned', 'rehandling') AND s.due_at > ? AND s.due_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.subject = ?"
            " AND r.subject_id = s.id AND r.kind = ? || '@' || s.due_at)"
            " ORDER BY s.due_at, s.id",
            (kind, "" if after is None else stamp(after), stamp(until), SUBJECT, kind),
        )
        return [(suggestion_of(r), str(r["reminder_kind"])) for r in rows]

    async def active_departments(self, tx: Tx, suggestion_id: int) -> list[int]:
        rows = await tx.fetchall(
            "SELECT department_id FROM suggestion_assignments WHERE suggestion_id = ?"
            " AND state = 'active' ORDER BY lead DESC, id",
            (suggestion_id,),
        )
        return [int(r[0]) for r in rows]

    async def mark_told(
        self, tx: Tx, suggestion_id: int, recipients: Sequence[int], kind: str, now: datetime
    ) -> bool:
        """Record a deadline's notice as sent to `recipients`; False when another sweep
        recorded it first (then nothing is sent)."""
        told = await tx.fetchone(
            "SELECT 1 FROM reminders_sent WHERE subject = ? AND subject_id = ? AND kind = ?",
            (SUBJECT, suggestion_id, kind),
        )
        if told is not None:
            return False
        for recipient in recipients:
            tx.defer(
                "INSERT INTO reminders_sent (subject, subject_id, recipient_id, kind, outcome, at)"
                " VALUES (?, ?, ?, ?, 'sent', ?) ON CONFLICT DO NOTHING",
                (SUBJECT, suggestion_id, recipient, kind, stamp(now)),
            )
        return True
