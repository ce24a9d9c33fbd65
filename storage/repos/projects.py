"""Livelihood projects (民生实事): reading them is shared by the projects and the ballots."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from storage.db import Database, Tx
from storage.models import Project, ProjectState


def project_of(row: sqlite3.Row) -> Project:
    return Project.model_validate(dict(row))


class ProjectRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, project_id: int, tx: Tx | None = None) -> Project | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM projects WHERE id = ?", (project_id,))
        return project_of(row) if row is not None else None

    async def of_year(self, year: int, states: Collection[ProjectState] = ()) -> list[Project]:
        """The year's projects in the order they were entered, of `states` when given."""
        sql = "SELECT * FROM projects WHERE year = ?"
        params: list[object] = [year]
        if states:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
            params += [state.value for state in states]
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [project_of(row) for row in rows]
