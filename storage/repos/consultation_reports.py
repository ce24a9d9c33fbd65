"""What a consultation's report reads and writes: its figures counted in SQL, the comments in
report order (articles, then the whole draft, then the key questions), marking comments
adopted (采纳), and the feedback note (意见采纳情况反馈) with the commenters it goes to.

Only comments not withdrawn count, everywhere."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import PersonKind

LIVE = "consultation_id = ? AND withdrawn_at IS NULL"
# report order: articles by position, then the whole draft, then the key questions
REPORT_ORDER = (
    "c.question_id IS NOT NULL, c.article_position IS NULL, c.article_position, q.position, c.id"
)


@dataclass(frozen=True, slots=True)
class Target:
    """What a comment is on: an article (its position), a key question, or (both None) the
    whole draft."""

    article_position: int | None = None
    question_id: int | None = None


@dataclass(frozen=True, slots=True)
class TargetCount:
    """Comments on one target: how many, how many adopted, how many carry text."""

    target: Target
    comments: int
    adopted: int
    with_text: int


@dataclass(frozen=True, slots=True)
class ReportComment:
    """One comment as the report shows it. Plain slots, not a pydantic row: a report reads
    tens of thousands of them at once."""

    id: int
    target: Target
    choice: str | None
    text: str
    author_kind: PersonKind
    station: str | None
    deputy_name: str | None
    full_name: str
    show_name: bool
    adopted: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CommentState:
    """A comment's consultation and whether it still counts, for marking it adopted."""

    id: int
    consultation_id: int
    target: Target
    adopted: bool
    withdrawn: bool


COMMENT_COLUMNS = (
    "c.id, c.article_position, c.question_id, c.choice, c.text, c.author_kind,"
    " s.name AS station, d.name AS deputy_name, u.full_name, c.show_name, c.adopted,"
    " c.created_at"
)
COMMENT_JOINS = (
    " FROM consultation_comments c"
    " LEFT JOIN deputies d ON d.user_id = c.author_id"
    " LEFT JOIN users u ON u.telegram_id = c.author_id"
    # a voter's station is kept on the comment; a deputy's is their own
    " LEFT JOIN stations s ON s.id = COALESCE(c.station_id, d.station_id)"
    " LEFT JOIN consultation_questions q ON q.id = c.question_id"
)


def _comment(row: sqlite3.Row) -> ReportComment:
    return ReportComment(
        id=row[0],
        target=Target(row[1], row[2]),
        choice=row[3],
        text=row[4] or "",
        author_kind=PersonKind(row[5]),
        station=row[6],
        deputy_name=row[7],
        full_name=row[8] or "",
        show_name=bool(row[9]),
        adopted=bool(row[10]),
        created_at=datetime.fromisoformat(row[11]),
    )


def _target_sql(target: Target) -> tuple[str, tuple[int | None, int | None]]:
    return (
        "c.article_position IS ? AND c.question_id IS ?",
        (target.article_position, target.question_id),
    )


class ConsultationReportRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- figures ------------------------------------------------------------------------

    async def invited_by_kind(self, consultation_id: int) -> dict[PersonKind, int]:
        rows = await self.db.fetchall(
            "SELECT kind, COUNT(*) FROM consultation_invitees WHERE consultation_id = ?"
            " GROUP BY kind",
            (consultation_id,),
        )
        return {PersonKind(row[0]): int(row[1]) for row in rows}

    async def commenters_by_kind(self, consultation_id: int) -> dict[PersonKind, int]:
        rows = await self.db.fetchall(
            f"SELECT author_kind, COUNT(DISTINCT author_id) FROM consultation_comments"
            f" WHERE {LIVE} GROUP BY author_kind",
            (consultation_id,),
        )
        return {PersonKind(row[0]): int(row[1]) for row in rows}

    async def commenters(self, consultation_id: int) -> int:
        """Distinct people with a comment that counts (someone may have commented under two
        kinds, as a voter who later became a deputy)."""
        value = await self.db.scalar(
            f"SELECT COUNT(DISTINCT author_id) FROM consultation_comments WHERE {LIVE}",
            (consultation_id,),
        )
        return int(value or 0)

    async def counts_by_target(self, consultation_id: int) -> list[TargetCount]:
        rows = await self.db.fetchall(
            "SELECT article_position, question_id, COUNT(*), SUM(adopted), SUM(text != '')"
            f" FROM consultation_comments WHERE {LIVE}"
            " GROUP BY article_position, question_id",
            (consultation_id,),
        )
        return [
            TargetCount(Target(row[0], row[1]), int(row[2]), int(row[3]), int(row[4]))
            for row in rows
        ]

    async def choice_counts(self, consultation_id: int) -> dict[int, dict[str, int]]:
        """Per key question, how many picked each option."""
        rows = await self.db.fetchall(
            "SELECT question_id, choice, COUNT(*) FROM consultation_comments"
            f" WHERE {LIVE} AND question_id IS NOT NULL AND choice IS NOT NULL"
            " GROUP BY question_id, choice",
            (consultation_id,),
        )
        counts: dict[int, dict[str, int]] = {}
        for question_id, choice, count in rows:
            counts.setdefault(int(question_id), {})[str(choice)] = int(count)
        return counts

    # --- the comments -------------------------------------------------------------------

    async def comments(self, consultation_id: int) -> list[ReportComment]:
        """Every comment that counts, in report order, with its station and names."""
        rows = await self.db.fetchall(
            f"SELECT {COMMENT_COLUMNS}{COMMENT_JOINS}"
            " WHERE c.consultation_id = ? AND c.withdrawn_at IS NULL"
            f" ORDER BY {REPORT_ORDER}",
            (consultation_id,),
        )
        return [_comment(row) for row in rows]

    async def comments_on(
        self, consultation_id: int, target: Target, offset: int, limit: int
    ) -> list[ReportComment]:
        """A page of the comments on one target, oldest first (the numbering of the
        report's documents)."""
        where, params = _target_sql(target)
        rows = await self.db.fetchall(
            f"SELECT {COMMENT_COLUMNS}{COMMENT_JOINS}"
            f" WHERE c.consultation_id = ? AND c.withdrawn_at IS NULL AND {where}"
            " ORDER BY c.id LIMIT ? OFFSET ?",
            (consultation_id, *params, limit, offset),
        )
        return [_comment(row) for row in rows]

    async def comment_state(self, comment_id: int, tx: Tx | None = None) -> CommentState | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT id, consultation_id, article_position, question_id, adopted, withdrawn_at"
            " FROM consultation_comments WHERE id = ?",
            (comment_id,),
        )
        if row is None:
            return None
        return CommentState(
            id=int(row[0]),
            consultation_id=int(row[1]),
            target=Target(row[2], row[3]),
            adopted=bool(row[4]),
            withdrawn=row[5] is not None,
        )

    async def set_adopted(self, tx: Tx, comment_id: int, adopted: bool) -> None:
        tx.defer(
            "UPDATE consultation_comments SET adopted = ? WHERE id = ?",
            (int(adopted), comment_id),
        )

    # --- feedback -----------------------------------------------------------------------

    async def commenters_adopted(self, tx: Tx, consultation_id: int) -> list[tuple[int, bool]]:
        """Each person with a comment that counts, and whether any of theirs was adopted."""
        rows = await tx.fetchall(
            "SELECT author_id, MAX(adopted) FROM consultation_comments"
            f" WHERE {LIVE} GROUP BY author_id ORDER BY author_id",
            (consultation_id,),
        )
        return [(int(row[0]), bool(row[1])) for row in rows]

    async def commenters_adopted_count(self, consultation_id: int) -> tuple[int, int]:
        """How many people commented, and how many of them had a comment adopted."""
        row = await self.db.fetchone(
            "SELECT COUNT(*), COALESCE(SUM(adopted), 0) FROM (SELECT MAX(adopted) AS adopted"
            f" FROM consultation_comments WHERE {LIVE} GROUP BY author_id)",
            (consultation_id,),
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    async def publish_feedback(
        self, tx: Tx, consultation_id: int, text: str, now: datetime
    ) -> bool:
        """Save the note on a closed consultation that has none yet; False if it has one or
        is not closed (checked in the write itself: two staff publishing at once)."""
        changed = await tx.execute_count(
            "UPDATE consultations SET feedback = ?, feedback_at = ?"
            " WHERE id = ? AND state = 'closed' AND feedback IS NULL",
            (text, stamp(now), consultation_id),
        )
        return changed == 1
