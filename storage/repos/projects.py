"""Livelihood projects (民生实事): reading them is shared by the projects and the ballots;
candidates, progress updates, followers and supervision opinions are written here."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import Project, ProjectState, ProjectUpdate

# The columns an edit of a candidate may change; anything else is refused before SQL.
EDITABLE_COLUMNS = frozenset({"title", "description", "department", "budget_wan"})
# The order a year's projects are listed in: the chosen ones first, then the candidates.
STATE_ORDER = "CASE state WHEN 'chosen' THEN 0 WHEN 'candidate' THEN 1 ELSE 2 END"


def project_of(row: sqlite3.Row) -> Project:
    return Project.model_validate(dict(row))


def update_of(row: sqlite3.Row) -> ProjectUpdate:
    data = dict(row)
    data["photos"] = json.loads(data["photos"])
    return ProjectUpdate.model_validate(data)


class ProjectRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, project_id: int, tx: Tx | None = None) -> Project | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM projects WHERE id = ?", (project_id,))
        return project_of(row) if row is not None else None

    # --- listing ---------------------------------------------------------------------------

    @staticmethod
    def _states(states: Sequence[ProjectState]) -> tuple[str, list[object]]:
        return f"state IN ({', '.join('?' * len(states))})", [s.value for s in states]

    async def count_listed(self, year: int, states: Sequence[ProjectState]) -> int:
        clause, params = self._states(states)
        sql = f"SELECT count(*) FROM projects WHERE year = ? AND {clause}"
        return int(await self.db.scalar(sql, [year, *params]) or 0)

    async def page_listed(
        self, year: int, states: Sequence[ProjectState], offset: int, limit: int
    ) -> list[Project]:
        """A page of the year's projects of `states`: chosen first, then by entry."""
        clause, params = self._states(states)
        rows = await self.db.fetchall(
            f"SELECT * FROM projects WHERE year = ? AND {clause}"
            f" ORDER BY {STATE_ORDER}, id LIMIT ? OFFSET ?",
            [year, *params, limit, offset],
        )
        return [project_of(row) for row in rows]

    async def years(self, states: Sequence[ProjectState]) -> list[int]:
        """The years that have projects of `states`, oldest first."""
        clause, params = self._states(states)
        rows = await self.db.fetchall(
            f"SELECT DISTINCT year FROM projects WHERE {clause} ORDER BY year", params
        )
        return [int(row[0]) for row in rows]

    # --- candidates ------------------------------------------------------------------------

    async def title_taken(
        self, year: int, title: str, but: int | None = None, tx: Tx | None = None
    ) -> bool:
        """Whether another project of `year` (not withdrawn) has this title."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT 1 FROM projects WHERE year = ? AND title = ? AND state != 'withdrawn'"
            " AND id != ?",
            (year, title, but or 0),
        )
        return row is not None

    async def drop_withdrawn(self, tx: Tx, year: int, title: str) -> None:
        """Forget a withdrawn candidate of `year` with this title, so another may take it (a
        withdrawn candidate was never on a ballot, nor had progress or followers)."""
        await tx.execute(
            "DELETE FROM projects WHERE year = ? AND title = ? AND state = 'withdrawn'",
            (year, title),
        )

    async def add_candidate(
        self,
        tx: Tx,
        *,
        year: int,
        title: str,
        description: str,
        department: str,
        budget_wan: float | None,
        created_by: int | None,
        now: datetime,
    ) -> int | None:
        """A new candidate; a withdrawn project of the same title comes back as this one
        (titles are unique in a year). None when a live project has the title already."""
        row = await tx.fetchone(
            "INSERT INTO projects (year, title, description, department, budget_wan, state,"
            " percent_done, created_by, created_at) VALUES (?, ?, ?, ?, ?, 'candidate', 0, ?, ?)"
            " ON CONFLICT (year, title) DO UPDATE SET description = excluded.description,"
            " department = excluded.department, budget_wan = excluded.budget_wan,"
            " state = 'candidate', percent_done = 0, created_by = excluded.created_by,"
            " created_at = excluded.created_at WHERE projects.state = 'withdrawn'"
            " RETURNING id",
            (year, title, description, department, budget_wan, created_by, stamp(now)),
        )
        return None if row is None else int(row[0])

    async def on_ballot(self, project_id: int, tx: Tx | None = None) -> bool:
        """Whether a ballot has been opened on the project (it is then no longer edited)."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT 1 FROM ballot_projects WHERE project_id = ? LIMIT 1", (project_id,)
        )
        return row is not None

    async def edit(self, tx: Tx, project_id: int, column: str, value: object) -> None:
        if column not in EDITABLE_COLUMNS:
            raise ValueError(f"projects.{column} is not editable")
        tx.defer(f"UPDATE projects SET {column} = ? WHERE id = ?", (value, project_id))

    async def withdraw(self, tx: Tx, project_id: int) -> None:
        tx.defer("UPDATE projects SET state = 'withdrawn' WHERE id = ?", (project_id,))

    # --- progress --------------------------------------------------------------------------

    async def add_update(
        self,
        tx: Tx,
        *,
        project_id: int,
        author_id: int,
        percent_done: int,
        note: str,
        photos: list[str],
        now: datetime,
    ) -> int:
        """A progress update; the project's percent done becomes the update's."""
        update_id = await tx.execute(
            "INSERT INTO project_updates (project_id, author_id, percent_done, note, photos,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (project_id, author_id, percent_done, note, json.dumps(photos), stamp(now)),
        )
        tx.defer("UPDATE projects SET percent_done = ? WHERE id = ?", (percent_done, project_id))
        return update_id

    async def update(self, update_id: int) -> ProjectUpdate | None:
        row = await self.db.fetchone("SELECT * FROM project_updates WHERE id = ?", (update_id,))
        return None if row is None else update_of(row)

    async def latest_updates(self, project_id: int, limit: int) -> list[ProjectUpdate]:
        """The project's newest updates, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM project_updates WHERE project_id = ? ORDER BY id DESC LIMIT ?",
            (project_id, limit),
        )
        return [update_of(row) for row in rows]

    # --- followers -------------------------------------------------------------------------

    async def follow(self, tx: Tx, project_id: int, user_id: int, on: bool) -> None:
        if on:
            tx.defer(
                "INSERT INTO project_followers (project_id, user_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (project_id, user_id),
            )
        else:
            tx.defer(
                "DELETE FROM project_followers WHERE project_id = ? AND user_id = ?",
                (project_id, user_id),
            )

    async def follows(self, project_id: int, user_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM project_followers WHERE project_id = ? AND user_id = ?",
            (project_id, user_id),
        )
        return row is not None

    async def count_followers(self, project_id: int) -> int:
        sql = "SELECT count(*) FROM project_followers WHERE project_id = ?"
        return int(await self.db.scalar(sql, (project_id,)) or 0)

    async def followers(self, tx: Tx, project_id: int) -> list[int]:
        """Who follows the project, read inside the update's transaction."""
        rows = await tx.fetchall(
            "SELECT user_id FROM project_followers WHERE project_id = ? ORDER BY user_id",
            (project_id,),
        )
        return [int(row[0]) for row in rows]

    # --- supervision -----------------------------------------------------------------------

    async def mark_opinion(self, tx: Tx, opinion_id: int, project_id: int) -> None:
        """Say which project a deputy's supervision opinion is about."""
        tx.defer("UPDATE opinions SET project_id = ? WHERE id = ?", (project_id, opinion_id))

    async def opinion_project(self, opinion_id: int) -> int | None:
        row = await self.db.fetchone("SELECT project_id FROM opinions WHERE id = ?", (opinion_id,))
        return None if row is None or row[0] is None else int(row[0])
