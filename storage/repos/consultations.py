"""Draft-law consultations: the consultation, its articles in reading order, its key
questions. Reading them is shared by opening, commenting and reporting; opening, reminding
and closing write here too."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import (
    Consultation,
    ConsultationArticle,
    ConsultationAudience,
    ConsultationQuestion,
)


def consultation_of(row: sqlite3.Row) -> Consultation:
    return Consultation.model_validate(dict(row))


def article_of(row: sqlite3.Row) -> ConsultationArticle:
    data = dict(row)
    data["heading_path"] = json.loads(data["heading_path"])
    return ConsultationArticle.model_validate(data)


def question_of(row: sqlite3.Row) -> ConsultationQuestion:
    data = dict(row)
    data["choices"] = json.loads(data["choices"]) if data["choices"] else []
    return ConsultationQuestion.model_validate(data)


class ConsultationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, consultation_id: int, tx: Tx | None = None) -> Consultation | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM consultations WHERE id = ?", (consultation_id,))
        return consultation_of(row) if row is not None else None

    async def open_ones(self, now: datetime) -> list[Consultation]:
        """Open consultations whose deadline has not passed, soonest deadline first."""
        rows = await self.db.fetchall(
            "SELECT * FROM consultations WHERE state = 'open' AND deadline > ?"
            " ORDER BY deadline, id",
            (stamp(now),),
        )
        return [consultation_of(row) for row in rows]

    async def article_count(self, consultation_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM consultation_articles WHERE consultation_id = ?",
            (consultation_id,),
        )
        return int(row[0]) if row is not None else 0

    async def articles(self, consultation_id: int) -> list[ConsultationArticle]:
        rows = await self.db.fetchall(
            "SELECT * FROM consultation_articles WHERE consultation_id = ? ORDER BY position",
            (consultation_id,),
        )
        return [article_of(row) for row in rows]

    async def article(self, consultation_id: int, position: int) -> ConsultationArticle | None:
        row = await self.db.fetchone(
            "SELECT * FROM consultation_articles WHERE consultation_id = ? AND position = ?",
            (consultation_id, position),
        )
        return article_of(row) if row is not None else None

    async def questions(self, consultation_id: int) -> list[ConsultationQuestion]:
        rows = await self.db.fetchall(
            "SELECT * FROM consultation_questions WHERE consultation_id = ? ORDER BY position",
            (consultation_id,),
        )
        return [question_of(row) for row in rows]

    # --- opening ---------------------------------------------------------------------------

    async def create(
        self,
        tx: Tx,
        *,
        title: str,
        summary: str,
        source: str,
        audience: ConsultationAudience,
        audience_ref: int | None,
        deadline: datetime,
        created_by: int | None,
        now: datetime,
    ) -> int:
        return await tx.execute(
            "INSERT INTO consultations (title, summary, source, audience, audience_ref,"
            " deadline, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                title,
                summary,
                source,
                audience,
                audience_ref,
                stamp(deadline),
                created_by,
                stamp(now),
            ),
        )

    async def add_articles(
        self, tx: Tx, consultation_id: int, articles: Iterable[ArticleRow]
    ) -> None:
        """The draft's articles, positions 0, 1, 2 … in the order given."""
        await tx.executemany(
            "INSERT INTO consultation_articles (consultation_id, position, number, sub,"
            " heading_path, text) VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    consultation_id,
                    position,
                    number,
                    sub,
                    json.dumps(list(path), ensure_ascii=False),
                    text,
                )
                for position, (number, sub, path, text) in enumerate(articles)
            ),
        )

    async def add_questions(
        self, tx: Tx, consultation_id: int, questions: Iterable[tuple[str, Sequence[str]]]
    ) -> None:
        """Key questions in order: (text, choices), free text when there are no choices."""
        await tx.executemany(
            "INSERT INTO consultation_questions (consultation_id, position, text, choices)"
            " VALUES (?, ?, ?, ?)",
            (
                (
                    consultation_id,
                    position,
                    text,
                    json.dumps(list(choices), ensure_ascii=False) if choices else None,
                )
                for position, (text, choices) in enumerate(questions)
            ),
        )

    async def audience_counts(
        self, audience: ConsultationAudience, ref: int | None
    ) -> tuple[int, int]:
        """How many deputies and voters opening now would invite."""
        deputies_sql, deputies_params = _deputies(audience, ref)
        voters = _voters(audience, ref)
        deputies = await self.db.scalar(f"SELECT count(*) FROM ({deputies_sql})", deputies_params)
        voter_count = 0
        if voters is not None:
            voter_count = await self.db.scalar(f"SELECT count(*) FROM ({voters[0]})", voters[1])
        return int(deputies or 0), int(voter_count or 0)

    async def invite(
        self, tx: Tx, consultation_id: int, audience: ConsultationAudience, ref: int | None
    ) -> tuple[list[int], list[int]]:
        """Record everyone invited (INSERT … SELECT) and set the invited count; returns the
        deputies and the voters invited."""
        deputies_sql, deputies_params = _deputies(audience, ref)
        tx.defer(
            "INSERT INTO consultation_invitees (consultation_id, user_id, kind)"
            f" SELECT ?, telegram_id, 'deputy' FROM ({deputies_sql})",
            (consultation_id, *deputies_params),
        )
        voters = _voters(audience, ref)
        if voters is not None:
            tx.defer(
                "INSERT OR IGNORE INTO consultation_invitees (consultation_id, user_id, kind)"
                f" SELECT ?, telegram_id, 'voter' FROM ({voters[0]})",
                (consultation_id, *voters[1]),
            )
        tx.defer(
            "UPDATE consultations SET invited = (SELECT count(*) FROM consultation_invitees"
            " WHERE consultation_id = ?) WHERE id = ?",
            (consultation_id, consultation_id),
        )
        rows = await tx.fetchall(
            "SELECT user_id, kind FROM consultation_invitees WHERE consultation_id = ?"
            " ORDER BY user_id",
            (consultation_id,),
        )
        deputies = [int(r[0]) for r in rows if r[1] == "deputy"]
        invited_voters = [int(r[0]) for r in rows if r[1] == "voter"]
        return deputies, invited_voters

    # --- the list staff see ---------------------------------------------------------------

    async def count(self) -> int:
        return int(await self.db.scalar("SELECT count(*) FROM consultations") or 0)

    async def page(self, offset: int, limit: int) -> list[Consultation]:
        """Open ones first (soonest deadline first), then closed ones, latest closed first."""
        rows = await self.db.fetchall(
            "SELECT * FROM consultations"
            " ORDER BY state = 'closed', CASE WHEN state = 'open' THEN deadline END,"
            " CASE WHEN state = 'open' THEN id END, closed_at DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [consultation_of(row) for row in rows]

    async def comment_counts(self, ids: Sequence[int]) -> dict[int, int]:
        """Comments not withdrawn, per consultation."""
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = await self.db.fetchall(
            "SELECT consultation_id, count(*) FROM consultation_comments"
            f" WHERE consultation_id IN ({marks}) AND withdrawn_at IS NULL"
            " GROUP BY consultation_id",
            tuple(ids),
        )
        return {int(r[0]): int(r[1]) for r in rows}

    # --- reminders and closing ------------------------------------------------------------

    async def open_until(self, until: datetime) -> list[Consultation]:
        """Consultations still open though their deadline is at or before `until` (the
        sweep closes them)."""
        rows = await self.db.fetchall(
            "SELECT * FROM consultations WHERE state = 'open' AND deadline <= ?"
            " ORDER BY deadline, id",
            (stamp(until),),
        )
        return [consultation_of(row) for row in rows]

    async def all_open(self) -> list[Consultation]:
        rows = await self.db.fetchall(
            "SELECT * FROM consultations WHERE state = 'open' ORDER BY deadline, id"
        )
        return [consultation_of(row) for row in rows]

    async def reminders_sent(self, consultation_ids: Sequence[int]) -> set[tuple[int, int]]:
        """(consultation, days before) of every reminder already sent."""
        if not consultation_ids:
            return set()
        marks = ", ".join("?" * len(consultation_ids))
        rows = await self.db.fetchall(
            "SELECT consultation_id, days_before FROM consultation_reminders"
            f" WHERE consultation_id IN ({marks})",
            tuple(consultation_ids),
        )
        return {(int(r[0]), int(r[1])) for r in rows}

    async def record_reminder(
        self, tx: Tx, consultation_id: int, days_before: int, now: datetime
    ) -> bool:
        """Mark the reminder sent; False when it already was (another run got there first)."""
        changed = await tx.execute_count(
            "INSERT OR IGNORE INTO consultation_reminders (consultation_id, days_before, sent_at)"
            " VALUES (?, ?, ?)",
            (consultation_id, days_before, stamp(now)),
        )
        return changed == 1

    async def silent_deputies(self, tx: Tx, consultation_id: int) -> list[int]:
        """Invited deputies with no comment standing (none, or every one withdrawn)."""
        rows = await tx.fetchall(
            "SELECT i.user_id FROM consultation_invitees i"
            " WHERE i.consultation_id = ? AND i.kind = 'deputy' AND NOT EXISTS ("
            "SELECT 1 FROM consultation_comments c WHERE c.consultation_id = i.consultation_id"
            " AND c.author_id = i.user_id AND c.withdrawn_at IS NULL)"
            " ORDER BY i.user_id",
            (consultation_id,),
        )
        return [int(r[0]) for r in rows]

    async def close(self, tx: Tx, consultation_id: int, at: datetime) -> Consultation | None:
        """Close an open consultation; None when it was not open (closed meanwhile)."""
        changed = await tx.execute_count(
            "UPDATE consultations SET state = 'closed', closed_at = ?"
            " WHERE id = ? AND state = 'open'",
            (stamp(at), consultation_id),
        )
        return await self.get(consultation_id, tx) if changed == 1 else None


# number, sub (M of 第N条之M, else 0), heading path, text
ArticleRow = tuple[int | None, int, Sequence[str], str]

# Deputies invited: all of them, but for a consultation of one street's deputies.
DEPUTIES_SQL = (
    "SELECT u.telegram_id FROM users u JOIN deputies d ON d.user_id = u.telegram_id"
    " WHERE u.role = 'deputy' AND u.active = 1 AND u.consent_at IS NOT NULL"
)
# Voters invited: every consented, reachable one of the audience, notices off or not (they
# may read and comment all the same; the outbox skips the prompts of those who opted out).
VOTERS_SQL = (
    "SELECT telegram_id FROM users WHERE role = 'voter' AND consent_at IS NOT NULL AND active = 1"
)
IN_STREET = "SELECT id FROM stations WHERE street_id = ?"


def _deputies(audience: ConsultationAudience, ref: int | None) -> tuple[str, tuple[object, ...]]:
    if audience == ConsultationAudience.DEPUTIES_OF_STREET:
        return f"{DEPUTIES_SQL} AND d.station_id IN ({IN_STREET})", (ref,)
    return DEPUTIES_SQL, ()


def _voters(
    audience: ConsultationAudience, ref: int | None
) -> tuple[str, tuple[object, ...]] | None:
    """The voters of the audience (consented, reachable); None: no voters."""
    if audience == ConsultationAudience.EVERYONE:
        return VOTERS_SQL, ()
    if audience == ConsultationAudience.VOTERS_OF_STATION:
        return f"{VOTERS_SQL} AND station_id = ?", (ref,)
    if audience == ConsultationAudience.VOTERS_OF_STREET:
        return f"{VOTERS_SQL} AND station_id IN ({IN_STREET})", (ref,)
    return None
