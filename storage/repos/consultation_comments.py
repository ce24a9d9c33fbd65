"""Reading a consultation page by page and the comments on it: every query of reading and
commenting (the shared reads of a consultation are storage.repos.consultations)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from pydantic import Field

from storage.db import Database, Tx, stamp
from storage.models import ConsultationComment, ConsultationQuestion, PersonKind, Row
from storage.repos.consultations import question_of

# What a comment's target is named by: the article's number (None: a draft that is one
# text) and its 之M (0: none), the question's place among the consultation's questions (1, 2 …).
TARGET_COLUMNS = """
    a.number AS article_number,
    coalesce(a.sub, 0) AS article_sub,
    CASE WHEN q.id IS NOT NULL THEN
      (SELECT COUNT(*) FROM consultation_questions q2
        WHERE q2.consultation_id = q.consultation_id AND q2.position <= q.position)
    END AS question_ordinal
"""
TARGET_JOINS = """
    LEFT JOIN consultation_articles a
      ON a.consultation_id = c.consultation_id AND a.position = c.article_position
    LEFT JOIN consultation_questions q ON q.id = c.question_id
"""


class ArticleHead(Row):
    """An article without its text: enough for the table of contents."""

    position: int
    number: int | None = None
    sub: int = 0  # M of 第N条之M, 0 otherwise
    heading_path: list[str] = Field(default_factory=list)


class ArticleOnPage(Row):
    """One article as a page shows it, with the live comments on it, whether another
    article follows and how many key questions there are."""

    position: int
    number: int | None = None
    sub: int = 0  # M of 第N条之M, 0 otherwise
    heading_path: list[str] = Field(default_factory=list)
    text: str
    comments: int
    has_next: bool
    questions: int  # the consultation's key questions


class OwnComment(ConsultationComment):
    """A person's own comment with what names its target."""

    article_number: int | None = None
    article_sub: int = 0
    question_ordinal: int | None = None


class TargetCount(Row):
    """How many live comments a person has on one target of one consultation."""

    consultation_id: int
    article_position: int | None = None
    article_number: int | None = None
    article_sub: int = 0
    question_id: int | None = None
    question_ordinal: int | None = None
    comments: int


def _heads(row: sqlite3.Row) -> dict[str, object]:
    data = dict(row)
    data["heading_path"] = json.loads(data["heading_path"])
    return data


class CommentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reading ---------------------------------------------------------------------------

    async def page(self, consultation_id: int, position: int) -> ArticleOnPage | None:
        """The article at `position` with its live comment count, in one indexed read (the
        count uses consultation_comments_article, the next article the primary key)."""
        row = await self.db.fetchone(
            """
            SELECT a.position, a.number, a.sub, a.heading_path, a.text,
                   (SELECT COUNT(*) FROM consultation_comments c
                     WHERE c.consultation_id = a.consultation_id
                       AND c.article_position = a.position AND c.withdrawn_at IS NULL)
                     AS comments,
                   EXISTS (SELECT 1 FROM consultation_articles n
                            WHERE n.consultation_id = a.consultation_id
                              AND n.position = a.position + 1) AS has_next,
                   (SELECT COUNT(*) FROM consultation_questions q
                     WHERE q.consultation_id = a.consultation_id) AS questions
              FROM consultation_articles a
             WHERE a.consultation_id = ? AND a.position = ?
            """,
            (consultation_id, position),
        )
        return ArticleOnPage.model_validate(_heads(row)) if row is not None else None

    async def heads(self, consultation_id: int) -> list[ArticleHead]:
        """Every article's position, number and headings, in reading order."""
        rows = await self.db.fetchall(
            "SELECT position, number, sub, heading_path FROM consultation_articles"
            " WHERE consultation_id = ? ORDER BY position",
            (consultation_id,),
        )
        return [ArticleHead.model_validate(_heads(row)) for row in rows]

    async def question(self, question_id: int) -> ConsultationQuestion | None:
        row = await self.db.fetchone(
            "SELECT * FROM consultation_questions WHERE id = ?", (question_id,)
        )
        return question_of(row) if row is not None else None

    async def question_count(self, consultation_id: int) -> int:
        count = await self.db.scalar(
            "SELECT COUNT(*) FROM consultation_questions WHERE consultation_id = ?",
            (consultation_id,),
        )
        return int(count or 0)

    # --- a person's own comments -----------------------------------------------------------

    async def get(self, comment_id: int, tx: Tx | None = None) -> OwnComment | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            f"SELECT c.*, {TARGET_COLUMNS} FROM consultation_comments c {TARGET_JOINS}"
            " WHERE c.id = ?",
            (comment_id,),
        )
        return OwnComment.model_validate(dict(row)) if row is not None else None

    async def own_count(self, consultation_id: int, author_id: int) -> int:
        count = await self.db.scalar(
            "SELECT COUNT(*) FROM consultation_comments"
            " WHERE consultation_id = ? AND author_id = ? AND withdrawn_at IS NULL",
            (consultation_id, author_id),
        )
        return int(count or 0)

    async def own(
        self, consultation_id: int, author_id: int, offset: int, limit: int
    ) -> list[OwnComment]:
        """The author's live comments on one consultation, oldest first."""
        rows = await self.db.fetchall(
            f"SELECT c.*, {TARGET_COLUMNS} FROM consultation_comments c {TARGET_JOINS}"
            " WHERE c.consultation_id = ? AND c.author_id = ? AND c.withdrawn_at IS NULL"
            " ORDER BY c.id LIMIT ? OFFSET ?",
            (consultation_id, author_id, limit, offset),
        )
        return [OwnComment.model_validate(dict(row)) for row in rows]

    async def own_targets(
        self, author_id: int, consultation_ids: Sequence[int]
    ) -> list[TargetCount]:
        """What the author has commented on in each of these consultations, one row per
        target (an article, a question, or the whole draft when both are NULL)."""
        if not consultation_ids:
            return []
        marks = ", ".join("?" for _ in consultation_ids)
        rows = await self.db.fetchall(
            f"""
            SELECT c.consultation_id, c.article_position, c.question_id, COUNT(*) AS comments,
                   {TARGET_COLUMNS}
              FROM consultation_comments c {TARGET_JOINS}
             WHERE c.consultation_id IN ({marks}) AND c.author_id = ?
               AND c.withdrawn_at IS NULL
             GROUP BY c.consultation_id, c.article_position, c.question_id
             ORDER BY c.consultation_id, c.article_position IS NULL, c.article_position,
                      c.question_id IS NULL, question_ordinal
            """,
            (*consultation_ids, author_id),
        )
        return [TargetCount.model_validate(dict(row)) for row in rows]

    async def choice_of(
        self, question_id: int, author_id: int, tx: Tx | None = None
    ) -> ConsultationComment | None:
        """The author's live answer to a multiple-choice question, if any."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM consultation_comments WHERE question_id = ? AND author_id = ?"
            " AND choice IS NOT NULL AND withdrawn_at IS NULL ORDER BY id LIMIT 1",
            (question_id, author_id),
        )
        return ConsultationComment.model_validate(dict(row)) if row is not None else None

    async def choices(self, consultation_id: int, author_id: int) -> dict[int, str]:
        """The author's live answers to the multiple-choice questions: question id → option."""
        rows = await self.db.fetchall(
            "SELECT question_id, choice FROM consultation_comments"
            " WHERE consultation_id = ? AND author_id = ? AND choice IS NOT NULL"
            " AND withdrawn_at IS NULL ORDER BY id",
            (consultation_id, author_id),
        )
        return {int(row[0]): str(row[1]) for row in rows}

    # --- writing ---------------------------------------------------------------------------

    async def insert(
        self,
        tx: Tx,
        *,
        consultation_id: int,
        author_id: int,
        author_kind: PersonKind,
        station_id: int | None,
        show_name: bool,
        article_position: int | None,
        question_id: int | None,
        text: str,
        choice: str | None,
        now: datetime,
    ) -> int:
        at = stamp(now)
        return await tx.execute(
            "INSERT INTO consultation_comments (consultation_id, author_id, article_position,"
            " question_id, choice, text, author_kind, station_id, show_name, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                consultation_id,
                author_id,
                article_position,
                question_id,
                choice,
                text,
                str(author_kind),
                station_id,
                int(show_name),
                at,
                at,
            ),
        )

    async def set_text(self, tx: Tx, comment_id: int, text: str, now: datetime) -> int:
        """Replace a live comment's text; returns how many rows changed (0: withdrawn)."""
        return await tx.execute_count(
            "UPDATE consultation_comments SET text = ?, updated_at = ?"
            " WHERE id = ? AND withdrawn_at IS NULL",
            (text, stamp(now), comment_id),
        )

    async def set_choice(self, tx: Tx, comment_id: int, choice: str, now: datetime) -> None:
        tx.defer(
            "UPDATE consultation_comments SET choice = ?, updated_at = ? WHERE id = ?",
            (choice, stamp(now), comment_id),
        )

    async def withdraw(self, tx: Tx, comment_id: int, now: datetime) -> int:
        """Withdraw a live comment; returns how many rows changed (0: already withdrawn)."""
        return await tx.execute_count(
            "UPDATE consultation_comments SET withdrawn_at = ?"
            " WHERE id = ? AND withdrawn_at IS NULL",
            (stamp(now), comment_id),
        )
