"""Secret ballots: all their SQL. The database knows who voted, never how: a vote flips its
voter's `voted` from 0 to 1 and adds one to counters created at zero when the ballot
opened, in one transaction, and writes nothing else (no row, no time, no order)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import Ballot, BallotMode, BallotPurpose, Project, ProjectState
from storage.repos.projects import project_of

# Who is entitled when a ballot opens: every deputy who has consented and not left.
ENTITLED_SQL = (
    "SELECT u.telegram_id FROM users u JOIN deputies d ON d.user_id = u.telegram_id"
    " WHERE u.role = 'deputy' AND u.consent_at IS NOT NULL AND u.active = 1"
    " ORDER BY u.telegram_id"
)


def ballot_of(row: sqlite3.Row) -> Ballot:
    return Ballot.model_validate(dict(row))


class BallotRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- opening ---------------------------------------------------------------------------

    async def eligible_years(self, state: ProjectState) -> list[tuple[int, int]]:
        """(year, how many projects) of the years with projects in `state`, latest first."""
        rows = await self.db.fetchall(
            "SELECT year, count(*) FROM projects WHERE state = ? GROUP BY year ORDER BY year DESC",
            (state.value,),
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    async def eligible_ids(self, year: int, state: ProjectState, tx: Tx | None = None) -> list[int]:
        """The year's projects in `state`, in the order they were entered."""
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT id FROM projects WHERE year = ? AND state = ? ORDER BY id", (year, state.value)
        )
        return [int(r[0]) for r in rows]

    async def entitled_now(self, tx: Tx | None = None) -> list[int]:
        source = tx if tx is not None else self.db
        return [int(r[0]) for r in await source.fetchall(ENTITLED_SQL)]

    async def open_of(
        self, purpose: BallotPurpose, year: int, tx: Tx | None = None
    ) -> Ballot | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM ballots WHERE purpose = ? AND year = ? AND state = 'open'",
            (purpose.value, year),
        )
        return ballot_of(row) if row is not None else None

    async def create(
        self,
        tx: Tx,
        *,
        year: int,
        purpose: BallotPurpose,
        mode: BallotMode,
        pick: int | None,
        opened_by: int,
        now: datetime,
        closes_at: datetime | None,
        project_ids: Sequence[int],
        voter_ids: Sequence[int],
        choices: Sequence[str],
    ) -> int:
        """The ballot, its projects, its voters (none voted) and every counter at zero, so a
        vote never creates a row."""
        ballot_id = await tx.execute(
            "INSERT INTO ballots (year, purpose, mode, pick, entitled, opened_by, opened_at,"
            " closes_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                year,
                purpose.value,
                mode.value,
                pick,
                len(voter_ids),
                opened_by,
                stamp(now),
                stamp(closes_at) if closes_at is not None else None,
            ),
        )
        await tx.executemany(
            "INSERT INTO ballot_projects (ballot_id, project_id, position) VALUES (?, ?, ?)",
            ((ballot_id, project, i) for i, project in enumerate(project_ids)),
        )
        await tx.executemany(
            "INSERT INTO ballot_voters (ballot_id, user_id, voted) VALUES (?, ?, 0)",
            ((ballot_id, voter) for voter in voter_ids),
        )
        await tx.executemany(
            "INSERT INTO ballot_tallies (ballot_id, project_id, choice, votes) VALUES (?, ?, ?, 0)",
            ((ballot_id, project, choice) for project in project_ids for choice in choices),
        )
        return ballot_id

    # --- reading ---------------------------------------------------------------------------

    async def get(self, ballot_id: int, tx: Tx | None = None) -> Ballot | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM ballots WHERE id = ?", (ballot_id,))
        return ballot_of(row) if row is not None else None

    async def projects(self, ballot_id: int, tx: Tx | None = None) -> list[Project]:
        """The ballot's projects in ballot order."""
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT p.* FROM ballot_projects bp JOIN projects p ON p.id = bp.project_id"
            " WHERE bp.ballot_id = ? ORDER BY bp.position",
            (ballot_id,),
        )
        return [project_of(r) for r in rows]

    async def project_count(self, ballot_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT count(*) FROM ballot_projects WHERE ballot_id = ?", (ballot_id,)
        )
        return int(row[0]) if row is not None else 0

    async def voter(self, ballot_id: int, user_id: int, tx: Tx | None = None) -> bool | None:
        """Whether `user_id` has voted; None when they are not entitled to."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT voted FROM ballot_voters WHERE ballot_id = ? AND user_id = ?",
            (ballot_id, user_id),
        )
        return None if row is None else bool(row[0])

    async def voter_ids(self, ballot_id: int, tx: Tx | None = None) -> list[int]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT user_id FROM ballot_voters WHERE ballot_id = ? ORDER BY user_id", (ballot_id,)
        )
        return [int(r[0]) for r in rows]

    async def voted(self, ballot_id: int, tx: Tx | None = None) -> int:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT count(*) FROM ballot_voters WHERE ballot_id = ? AND voted = 1", (ballot_id,)
        )
        return int(row[0]) if row is not None else 0

    async def pending_for(self, user_id: int) -> list[Ballot]:
        """Open ballots `user_id` is entitled to and has not voted in, oldest first."""
        rows = await self.db.fetchall(
            "SELECT b.* FROM ballots b JOIN ballot_voters v ON v.ballot_id = b.id"
            " WHERE b.state = 'open' AND v.user_id = ? AND v.voted = 0 ORDER BY b.id",
            (user_id,),
        )
        return [ballot_of(r) for r in rows]

    async def tallies(self, ballot_id: int, tx: Tx | None = None) -> dict[int, dict[str, int]]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT project_id, choice, votes FROM ballot_tallies WHERE ballot_id = ?",
            (ballot_id,),
        )
        found: dict[int, dict[str, int]] = {}
        for r in rows:
            found.setdefault(int(r[0]), {})[str(r[1])] = int(r[2])
        return found

    async def open_ballots(self) -> list[Ballot]:
        rows = await self.db.fetchall("SELECT * FROM ballots WHERE state = 'open' ORDER BY id")
        return [ballot_of(r) for r in rows]

    async def recently_closed(self, limit: int) -> list[Ballot]:
        rows = await self.db.fetchall(
            "SELECT * FROM ballots WHERE state = 'closed' ORDER BY closed_at DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [ballot_of(r) for r in rows]

    async def due(self, now: datetime) -> list[int]:
        """Open ballots whose closing time has come."""
        rows = await self.db.fetchall(
            "SELECT id FROM ballots WHERE state = 'open' AND closes_at IS NOT NULL"
            " AND closes_at <= ? ORDER BY id",
            (stamp(now),),
        )
        return [int(r[0]) for r in rows]

    async def closing_times(self, after: datetime, until: datetime) -> list[datetime]:
        """The distinct closing times of open ballots in (`after`, `until`], soonest first."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT closes_at FROM ballots WHERE state = 'open'"
            " AND closes_at > ? AND closes_at <= ? ORDER BY closes_at",
            (stamp(after), stamp(until)),
        )
        return [datetime.fromisoformat(str(r[0])) for r in rows]

    # --- voting ----------------------------------------------------------------------------

    async def count_vote(
        self, tx: Tx, ballot_id: int, user_id: int, marks: Sequence[tuple[int, str]]
    ) -> bool:
        """Count one vote: the voter's row flips from 0 to 1 and each (project, choice) of
        `marks` adds one to its counter, nothing else. False, with nothing written, when the
        voter is not there to flip (voted already, or not entitled). A counter missing is a
        broken ballot: raised, so the transaction rolls back."""
        flipped = await tx.execute_count(
            "UPDATE ballot_voters SET voted = 1 WHERE ballot_id = ? AND user_id = ? AND voted = 0",
            (ballot_id, user_id),
        )
        if flipped != 1:
            return False
        if marks:
            pairs = ", ".join("(?, ?)" for _ in marks)
            params: list[object] = [ballot_id]
            for project, choice in marks:
                params += [project, choice]
            added = await tx.execute_count(
                "UPDATE ballot_tallies SET votes = votes + 1 WHERE ballot_id = ?"
                f" AND (project_id, choice) IN (VALUES {pairs})",
                params,
            )
            if added != len(marks):
                raise RuntimeError(f"ballot {ballot_id}: {added} of {len(marks)} counters found")
        return True

    async def drop_vote_drafts(self, tx: Tx, kind: str, ballot_id: int) -> None:
        """The marks never cast on a closed ballot (drafts of `kind` about it): removed, and
        zeroed by secure_delete."""
        tx.defer(
            "DELETE FROM drafts WHERE kind = ? AND json_valid(data)"
            " AND json_extract(data, '$.ballot') = ?",
            (kind, ballot_id),
        )

    async def forget_journal(self) -> None:
        """Copy the write-ahead log into the database and truncate it, so earlier page
        versions (a vote's draft before it was removed, counters just before a vote) do not
        linger in the -wal file; outside any transaction."""
        await self.db.checkpoint()

    # --- closing ---------------------------------------------------------------------------

    async def close(self, tx: Tx, ballot_id: int, now: datetime) -> bool:
        """Close an open ballot; False when it was closed already."""
        changed = await tx.execute_count(
            "UPDATE ballots SET state = 'closed', closed_at = ? WHERE id = ? AND state = 'open'",
            (stamp(now), ballot_id),
        )
        return changed == 1

    async def set_project_states(
        self, tx: Tx, chosen: Sequence[int], rejected: Sequence[int]
    ) -> None:
        """A selection's outcome on its projects (those tied stay candidates)."""
        for state, ids in ((ProjectState.CHOSEN, chosen), (ProjectState.REJECTED, rejected)):
            if ids:
                marks = ",".join("?" * len(ids))
                tx.defer(
                    f"UPDATE projects SET state = ? WHERE id IN ({marks}) AND state = 'candidate'",
                    [state.value, *ids],
                )
