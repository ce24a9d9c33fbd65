"""Draft-law consultations: the consultation, its articles in reading order, its key
questions. Reading them is shared by opening, commenting and reporting."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import Consultation, ConsultationArticle, ConsultationQuestion


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
