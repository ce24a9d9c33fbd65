"""The outcome classes of suggestion answers, per year (a setting staff keep)."""

from __future__ import annotations

from storage.db import Database, Tx
from storage.models import OutcomeClass


class OutcomeClassRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_year(self, year: int) -> list[OutcomeClass]:
        rows = await self.db.fetchall(
            "SELECT * FROM outcome_classes WHERE year = ? ORDER BY position", (year,)
        )
        return [OutcomeClass.model_validate(dict(r)) for r in rows]

    async def replace_year(self, tx: Tx, year: int, classes: list[OutcomeClass]) -> None:
        tx.defer("DELETE FROM outcome_classes WHERE year = ?", (year,))
        for c in classes:
            tx.defer(
                "INSERT INTO outcome_classes (year, code, label, position, counts_as_progress,"
                " ledger) VALUES (?, ?, ?, ?, ?, ?)",
                (year, c.code, c.label, c.position, int(c.counts_as_progress), int(c.ledger)),
            )
