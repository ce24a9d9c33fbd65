"""A department's side of a suggestion: its active assignments, the answer with
its class-B commitments, the return (退办), and which outcome classes answers already use."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from storage.db import Database, Tx, stamp
from storage.models import (
    AssignmentState,
    Commitment,
    Suggestion,
    SuggestionAnswer,
    SuggestionAssignment,
    SuggestionState,
)
from storage.repos.suggestions import suggestion_of

# the states in which a department has something to do: answer, or answer again
OPEN_STATES = (SuggestionState.ASSIGNED, SuggestionState.REHANDLING)
_ASSIGNMENT_COLUMNS = tuple(SuggestionAssignment.model_fields)


def _assignment(row: sqlite3.Row | Mapping[str, Any], prefix: str = "") -> SuggestionAssignment:
    return SuggestionAssignment.model_validate({c: row[prefix + c] for c in _ASSIGNMENT_COLUMNS})


class AnswerRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- what a department has to do ------------------------------------------------------

    async def count_open(self, department_id: int) -> int:
        marks = ",".join("?" * len(OPEN_STATES))
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM suggestion_assignments a JOIN suggestions s"
            " ON s.id = a.suggestion_id WHERE a.department_id = ? AND a.state = ?"
            f" AND s.state IN ({marks})",
            (department_id, AssignmentState.ACTIVE, *OPEN_STATES),
        )
        return int(row[0]) if row is not None else 0

    async def page_open(
        self, department_id: int, offset: int, limit: int
    ) -> list[tuple[Suggestion, SuggestionAssignment]]:
        """The department's open suggestions, the nearest deadline first."""
        marks = ",".join("?" * len(OPEN_STATES))
        columns = ", ".join(f"a.{c} AS a_{c}" for c in _ASSIGNMENT_COLUMNS)
        rows = await self.db.fetchall(
            f"SELECT s.*, {columns} FROM suggestion_assignments a JOIN suggestions s"
            " ON s.id = a.suggestion_id WHERE a.department_id = ? AND a.state = ?"
            f" AND s.state IN ({marks})"
            " ORDER BY s.due_at IS NULL, s.due_at, s.id LIMIT ? OFFSET ?",
            (department_id, AssignmentState.ACTIVE, *OPEN_STATES, limit, offset),
        )
        return [(suggestion_of(r), _assignment(r, "a_")) for r in rows]

    async def active_assignments(
        self, suggestion_id: int, tx: Tx | None = None
    ) -> list[tuple[SuggestionAssignment, str]]:
        """The suggestion's active assignments with their departments' names, the lead
        first."""
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT a.*, d.name AS department_name FROM suggestion_assignments a"
            " JOIN departments d ON d.id = a.department_id"
            " WHERE a.suggestion_id = ? AND a.state = ? ORDER BY a.lead DESC, a.id",
            (suggestion_id, AssignmentState.ACTIVE),
        )
        return [(_assignment(r), str(r["department_name"])) for r in rows]

    async def assignment(
        self, assignment_id: int, tx: Tx | None = None
    ) -> SuggestionAssignment | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM suggestion_assignments WHERE id = ?", (assignment_id,)
        )
        return None if row is None else _assignment(row)

    # --- 退办 -------------------------------------------------------------------------------

    async def return_assignment(
        self, tx: Tx, assignment_id: int, reason: str, proposed: str, now: datetime
    ) -> bool:
        """End an active assignment as returned by its department; False if it is no longer
        active."""
        count = await tx.execute_count(
            "UPDATE suggestion_assignments SET state = ?, return_reason = ?,"
            " proposed_department = ?, returned_at = ? WHERE id = ? AND state = ?",
            (
                AssignmentState.RETURNED,
                reason,
                proposed,
                stamp(now),
                assignment_id,
                AssignmentState.ACTIVE,
            ),
        )
        return count > 0

    async def extension_asked_at(self, suggestion_id: int, tx: Tx | None = None) -> datetime | None:
        """When a department first asked for more time, if ever (a refusal clears the
        suggestion's request, not this event)."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT MIN(at) FROM suggestion_events WHERE suggestion_id = ?"
            " AND kind = 'extension_requested'",
            (suggestion_id,),
        )
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

    # --- the answer -----------------------------------------------------------------------

    async def add_answer(
        self,
        tx: Tx,
        *,
        suggestion_id: int,
        round_no: int,
        department_id: int,
        outcome_class: str,
        met_deputy: bool,
        met_on: date | None,
        summary: str,
        recorded_by: int,
        now: datetime,
        on_time: bool,
    ) -> int:
        return await tx.execute(
            "INSERT INTO suggestion_answers (suggestion_id, round, department_id, outcome_class,"
            " met_deputy, met_on, summary, recorded_by, answered_at, on_time)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                suggestion_id,
                round_no,
                department_id,
                outcome_class,
                int(met_deputy),
                None if met_on is None else met_on.isoformat(),
                summary,
                recorded_by,
                stamp(now),
                int(on_time),
            ),
        )

    async def add_commitments(
        self, tx: Tx, suggestion_id: int, answer_id: int, promises: list[tuple[str, date]]
    ) -> None:
        await tx.executemany(
            "INSERT INTO suggestion_commitments (suggestion_id, answer_id, text, due_on)"
            " VALUES (?, ?, ?, ?)",
            [(suggestion_id, answer_id, text, due.isoformat()) for text, due in promises],
        )

    async def answer(
        self, suggestion_id: int, round_no: int, tx: Tx | None = None
    ) -> SuggestionAnswer | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM suggestion_answers WHERE suggestion_id = ? AND round = ?",
            (suggestion_id, round_no),
        )
        return None if row is None else SuggestionAnswer.model_validate(dict(row))

    async def latest_answer(self, suggestion_id: int) -> SuggestionAnswer | None:
        row = await self.db.fetchone(
            "SELECT * FROM suggestion_answers WHERE suggestion_id = ? ORDER BY round DESC LIMIT 1",
            (suggestion_id,),
        )
        return None if row is None else SuggestionAnswer.model_validate(dict(row))

    async def commitments(self, answer_id: int) -> list[Commitment]:
        rows = await self.db.fetchall(
            "SELECT * FROM suggestion_commitments WHERE answer_id = ? ORDER BY due_on, id",
            (answer_id,),
        )
        return [Commitment.model_validate(dict(r)) for r in rows]

    # --- the outcome classes in use ---------------------------------------------------------

    async def class_codes_used(self, tx: Tx, start: datetime, end: datetime) -> dict[str, int]:
        """How many answers use each class code among the suggestions first assigned in
        [start, end): a year's classes, as the answers of that year took them."""
        rows = await tx.fetchall(
            "SELECT a.outcome_class, COUNT(*) FROM suggestion_answers a"
            " JOIN suggestions s ON s.id = a.suggestion_id"
            " WHERE COALESCE(s.first_assigned_at, s.assigned_at, s.created_at) >= ?"
            " AND COALESCE(s.first_assigned_at, s.assigned_at, s.created_at) < ?"
            " GROUP BY a.outcome_class",
            (stamp(start), stamp(end)),
        )
        return {str(r[0]): int(r[1]) for r in rows}
