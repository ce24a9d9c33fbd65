"""Deputies' suggestions (代表建议): the rows, their numbers, co-signers, the opinions they grew
from, and their trail of events. Assignment, answers and the ledger have repos of their own."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from storage.db import Database, Tx, stamp
from storage.models import (
    CosignerState,
    Deputy,
    Opinion,
    Suggestion,
    SuggestionAnswer,
    SuggestionCosigner,
    SuggestionEvent,
    SuggestionState,
)
from storage.repos.opinions import IN_SUGGESTION, opinion_of
from storage.repos.stations import LIKE_ESCAPE, containing

# The kinds of the events a suggestion leaves in each of its opinions' own history (labels:
# bot.services.opinions.EVENT_LABELS); the note is the suggestion's number.
OPINION_SUGGESTED = "suggested"  # taken into it
OPINION_WITHDRAWN_FROM = "suggestion_withdrawn"  # it was withdrawn: back with the deputies
OPINION_DECLINED_WITH = "suggestion_declined"  # it was declined (不予交办): back with them

# the columns a transition may set (never id, number or lead)
_SETTABLE = frozenset(Suggestion.model_fields) - {"id", "number", "lead_deputy_id", "created_at"}


def suggestion_of(row: sqlite3.Row | Mapping[str, Any]) -> Suggestion:
    return Suggestion.model_validate(dict(row))


def _value(value: object) -> object:
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, bool):
        return int(value)
    return value


class SuggestionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def next_number(self, tx: Tx, year: int) -> int:
        """Take the next sequence number of `year`; it is never handed out again."""
        row = await tx.fetchone(
            "INSERT INTO suggestion_sequences (year, last) VALUES (?, 1)"
            " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            (year,),
        )
        if row is None:
            raise RuntimeError("the suggestion sequence returned no row")
        return int(row[0])

    async def insert(
        self,
        tx: Tx,
        *,
        number: str,
        lead_deputy_id: int,
        title: str,
        reason: str,
        proposals: str,
        category: str,
        publish: bool,
        now: datetime,
    ) -> int:
        return await tx.execute(
            "INSERT INTO suggestions (number, lead_deputy_id, title, reason, proposals, category,"
            " publish, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                lead_deputy_id,
                title,
                reason,
                proposals,
                category,
                int(publish),
                SuggestionState.SUBMITTED,
                stamp(now),
                stamp(now),
            ),
        )

    async def get(self, suggestion_id: int) -> Suggestion | None:
        row = await self.db.fetchone("SELECT * FROM suggestions WHERE id = ?", (suggestion_id,))
        return None if row is None else suggestion_of(row)

    async def get_for_update(self, tx: Tx, suggestion_id: int) -> Suggestion | None:
        row = await tx.fetchone("SELECT * FROM suggestions WHERE id = ?", (suggestion_id,))
        return None if row is None else suggestion_of(row)

    async def update(self, tx: Tx, suggestion_id: int, now: datetime, **fields: object) -> None:
        """Set the named columns (and updated_at): one statement per transition."""
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise ValueError(f"not columns a transition sets: {sorted(unknown)}")
        names = [*fields, "updated_at"]
        values = [_value(v) for v in fields.values()] + [stamp(now)]
        tx.defer(
            f"UPDATE suggestions SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
            (*values, suggestion_id),
        )

    async def add_event(
        self,
        tx: Tx,
        suggestion_id: int,
        kind: str,
        now: datetime,
        actor_id: int | None = None,
        note: str = "",
    ) -> None:
        tx.defer(
            "INSERT INTO suggestion_events (suggestion_id, at, actor_id, kind, note)"
            " VALUES (?, ?, ?, ?, ?)",
            (suggestion_id, stamp(now), actor_id, kind, note),
        )

    async def events(self, suggestion_id: int) -> list[SuggestionEvent]:
        rows = await self.db.fetchall(
            "SELECT * FROM suggestion_events WHERE suggestion_id = ? ORDER BY id",
            (suggestion_id,),
        )
        return [SuggestionEvent.model_validate(dict(r)) for r in rows]

    async def link_opinions(self, tx: Tx, suggestion_id: int, opinion_ids: list[int]) -> None:
        await tx.executemany(
            "INSERT INTO suggestion_opinions (suggestion_id, opinion_id) VALUES (?, ?)",
            [(suggestion_id, opinion_id) for opinion_id in opinion_ids],
        )

    async def opinion_ids(self, suggestion_id: int, tx: Tx | None = None) -> list[int]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT opinion_id FROM suggestion_opinions WHERE suggestion_id = ?"
            " ORDER BY opinion_id",
            (suggestion_id,),
        )
        return [int(r[0]) for r in rows]

    async def suggestion_of_opinion(self, opinion_id: int) -> Suggestion | None:
        row = await self.db.fetchone(
            "SELECT s.* FROM suggestions s JOIN suggestion_opinions so"
            " ON so.suggestion_id = s.id WHERE so.opinion_id = ?",
            (opinion_id,),
        )
        return None if row is None else suggestion_of(row)

    async def voter_ids(self, tx: Tx, suggestion_id: int) -> list[int]:
        """The authors of the opinions a suggestion grew from, each once: told at each step.
        An opinion with no author (entered at the desk and unclaimed, or its author
        forgotten) has nobody to tell."""
        rows = await tx.fetchall(
            "SELECT DISTINCT o.author_id FROM suggestion_opinions so"
            " JOIN opinions o ON o.id = so.opinion_id WHERE so.suggestion_id = ?"
            " AND o.author_id IS NOT NULL ORDER BY o.author_id",
            (suggestion_id,),
        )
        return [int(r[0]) for r in rows]

    async def cosigners(self, suggestion_id: int, tx: Tx | None = None) -> list[SuggestionCosigner]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT * FROM suggestion_cosigners WHERE suggestion_id = ? ORDER BY invited_at,"
            " deputy_id",
            (suggestion_id,),
        )
        return [SuggestionCosigner.model_validate(dict(r)) for r in rows]

    async def invite_cosigner(
        self, tx: Tx, suggestion_id: int, deputy_id: int, now: datetime
    ) -> bool:
        """False when this deputy was invited already."""
        count = await tx.execute_count(
            "INSERT INTO suggestion_cosigners (suggestion_id, deputy_id, state, invited_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (suggestion_id, deputy_id, CosignerState.INVITED, stamp(now)),
        )
        return count > 0

    async def answer_cosigning(
        self, tx: Tx, suggestion_id: int, deputy_id: int, state: CosignerState, now: datetime
    ) -> bool:
        """Confirm or decline a pending invitation; False when none is pending."""
        count = await tx.execute_count(
            "UPDATE suggestion_cosigners SET state = ?, answered_at = ?"
            " WHERE suggestion_id = ? AND deputy_id = ? AND state = ?",
            (state, stamp(now), suggestion_id, deputy_id, CosignerState.INVITED),
        )
        return count > 0

    async def liaison_ids(self, tx: Tx, department_ids: list[int]) -> list[int]:
        """The consented liaisons of these departments: who hears of their assignments."""
        if not department_ids:
            return []
        marks = ",".join("?" * len(department_ids))
        rows = await tx.fetchall(
            "SELECT l.user_id FROM department_liaisons l JOIN users u"
            " ON u.telegram_id = l.user_id AND u.role = 'liaison'"
            f" WHERE l.department_id IN ({marks}) AND u.consent_at IS NOT NULL"
            " ORDER BY l.user_id",
            department_ids,
        )
        return [int(r[0]) for r in rows]

    # --- drafting: the opinions a deputy may take into a suggestion ------------------------

    @staticmethod
    def _takeable(deputy_id: int, station_id: int | None) -> tuple[str, list[object]]:
        """Open voters' opinions the deputy holds, or unclaimed ones of their station, that
        feed no suggestion (a project's supervision opinion is no voter's; one a withdrawn or
        declined suggestion let go may be taken again)."""
        return (
            " FROM opinions o WHERE o.status IN ('submitted', 'accepted')"
            " AND o.project_id IS NULL"
            " AND (o.holder_id = ? OR (o.holder_id IS NULL AND o.station_id = ?))"
            f" AND NOT {IN_SUGGESTION}",
            [deputy_id, station_id if station_id is not None else -1],
        )

    async def count_takeable(self, deputy_id: int, station_id: int | None) -> int:
        where, params = self._takeable(deputy_id, station_id)
        return int(await self.db.scalar(f"SELECT count(*){where}", params) or 0)

    async def page_takeable(
        self, deputy_id: int, station_id: int | None, offset: int, limit: int
    ) -> list[Opinion]:
        where, params = self._takeable(deputy_id, station_id)
        rows = await self.db.fetchall(
            f"SELECT o.*{where} ORDER BY o.id DESC LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return [opinion_of(r) for r in rows]

    async def opinions(self, opinion_ids: Sequence[int], tx: Tx | None = None) -> list[Opinion]:
        """These opinions, in the order given (unknown ids are left out)."""
        if not opinion_ids:
            return []
        source = tx if tx is not None else self.db
        marks = ",".join("?" * len(opinion_ids))
        rows = await source.fetchall(
            f"SELECT * FROM opinions WHERE id IN ({marks})", list(opinion_ids)
        )
        found = {int(r["id"]): opinion_of(r) for r in rows}
        return [found[i] for i in opinion_ids if i in found]

    async def linked(self, opinion_ids: Sequence[int], tx: Tx | None = None) -> dict[int, str]:
        """Which of these opinions feed a suggestion already: opinion id → its number."""
        if not opinion_ids:
            return {}
        source = tx if tx is not None else self.db
        marks = ",".join("?" * len(opinion_ids))
        rows = await source.fetchall(
            "SELECT so.opinion_id, s.number FROM suggestion_opinions so JOIN suggestions s"
            f" ON s.id = so.suggestion_id WHERE so.opinion_id IN ({marks})",
            list(opinion_ids),
        )
        return {int(r[0]): str(r[1]) for r in rows}

    async def hold_unclaimed(
        self, tx: Tx, opinion_ids: Sequence[int], holder_id: int, now: datetime
    ) -> list[int]:
        """The unheld ones among these open opinions get `holder_id` as their holder
        (accepted): taken into a suggestion, nobody is asked to claim them any more.
        Returns the ids that changed hands."""
        if not opinion_ids:
            return []
        marks = ",".join("?" * len(opinion_ids))
        rows = await tx.fetchall(
            "UPDATE opinions SET holder_id = ?, claimed_at = ?, status = 'accepted',"
            f" updated_at = ? WHERE id IN ({marks}) AND holder_id IS NULL"
            " AND status IN ('submitted', 'accepted') RETURNING id",
            [holder_id, stamp(now), stamp(now), *opinion_ids],
        )
        return sorted(int(r[0]) for r in rows)

    async def add_opinion_events(
        self,
        tx: Tx,
        opinion_ids: Sequence[int],
        now: datetime,
        actor_id: int,
        note: str,
        kind: str = OPINION_SUGGESTED,
    ) -> None:
        """One event in each opinion's own history: taken into a suggestion (`note` its
        number), or let go again by it (OPINION_WITHDRAWN_FROM, OPINION_DECLINED_WITH)."""
        await tx.executemany(
            "INSERT INTO opinion_events (opinion_id, at, actor_id, kind, note)"
            " VALUES (?, ?, ?, ?, ?)",
            [(opinion_id, stamp(now), actor_id, kind, note) for opinion_id in opinion_ids],
        )

    # --- a deputy's suggestions ------------------------------------------------------------

    _MINE = (
        " FROM suggestions s WHERE s.lead_deputy_id = ? OR s.id IN (SELECT c.suggestion_id"
        " FROM suggestion_cosigners c WHERE c.deputy_id = ? AND c.state != 'declined')"
    )

    async def count_of_deputy(self, deputy_id: int) -> int:
        return int(
            await self.db.scalar(f"SELECT count(*){self._MINE}", (deputy_id, deputy_id)) or 0
        )

    async def page_of_deputy(self, deputy_id: int, offset: int, limit: int) -> list[Suggestion]:
        """The deputy's suggestions, as lead or (invited or confirmed) co-signer, newest
        first."""
        rows = await self.db.fetchall(
            f"SELECT s.*{self._MINE} ORDER BY s.id DESC LIMIT ? OFFSET ?",
            (deputy_id, deputy_id, limit, offset),
        )
        return [suggestion_of(r) for r in rows]

    async def cosigner(
        self, suggestion_id: int, deputy_id: int, tx: Tx | None = None
    ) -> SuggestionCosigner | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM suggestion_cosigners WHERE suggestion_id = ? AND deputy_id = ?",
            (suggestion_id, deputy_id),
        )
        return None if row is None else SuggestionCosigner.model_validate(dict(row))

    async def fed_by_author(self, suggestion_id: int, author_id: int) -> bool:
        """Whether one of `author_id`'s opinions fed the suggestion."""
        row = await self.db.fetchone(
            "SELECT 1 FROM suggestion_opinions so JOIN opinions o ON o.id = so.opinion_id"
            " WHERE so.suggestion_id = ? AND o.author_id = ? LIMIT 1",
            (suggestion_id, author_id),
        )
        return row is not None

    async def of_authors_opinions(
        self, author_id: int, opinion_ids: Sequence[int]
    ) -> dict[int, Suggestion]:
        """opinion id → the suggestion it fed, for those of these opinions `author_id` wrote."""
        if not opinion_ids:
            return {}
        marks = ",".join("?" * len(opinion_ids))
        rows = await self.db.fetchall(
            "SELECT so.opinion_id AS fed_opinion, s.* FROM suggestion_opinions so"
            " JOIN suggestions s ON s.id = so.suggestion_id"
            " JOIN opinions o ON o.id = so.opinion_id"
            f" WHERE o.author_id = ? AND so.opinion_id IN ({marks})",
            [author_id, *opinion_ids],
        )
        found = {}
        for row in rows:
            data = dict(row)
            found[int(data.pop("fed_opinion"))] = suggestion_of(data)
        return found

    async def departments(self, suggestion_id: int) -> list[tuple[str, bool]]:
        """The departments handling it now (name, lead?), lead first; none before 交办."""
        rows = await self.db.fetchall(
            "SELECT d.name, a.lead FROM suggestion_assignments a JOIN departments d"
            " ON d.id = a.department_id WHERE a.suggestion_id = ? AND a.state = 'active'"
            " ORDER BY a.lead DESC, a.id",
            (suggestion_id,),
        )
        return [(str(r[0]), bool(r[1])) for r in rows]

    async def latest_answer(self, suggestion_id: int) -> tuple[SuggestionAnswer, str] | None:
        """The latest answer (办复) and the name of the department that gave it."""
        row = await self.db.fetchone(
            "SELECT a.*, d.name AS department_name FROM suggestion_answers a"
            " JOIN departments d ON d.id = a.department_id WHERE a.suggestion_id = ?"
            " ORDER BY a.round DESC LIMIT 1",
            (suggestion_id,),
        )
        if row is None:
            return None
        data = dict(row)
        name = str(data.pop("department_name"))
        return SuggestionAnswer.model_validate(data), name

    # --- co-signers (联名) -------------------------------------------------------------------

    @staticmethod
    def _candidates(
        suggestion_id: int, lead_id: int, words: str | None
    ) -> tuple[str, list[object]]:
        """Deputies (still deputies, consented) who are neither the lead nor invited yet;
        `words`: only those whose name holds them."""
        clause = (
            " FROM deputies d JOIN users u ON u.telegram_id = d.user_id"
            " WHERE u.role = 'deputy' AND u.consent_at IS NOT NULL AND d.user_id != ?"
            " AND NOT EXISTS (SELECT 1 FROM suggestion_cosigners c"
            " WHERE c.suggestion_id = ? AND c.deputy_id = d.user_id)"
        )
        params: list[object] = [lead_id, suggestion_id]
        if words:
            clause += f" AND d.name LIKE ? ESCAPE '{LIKE_ESCAPE}'"
            params.append(containing(words))
        return clause, params

    async def count_candidates(
        self, suggestion_id: int, lead_id: int, words: str | None = None
    ) -> int:
        where, params = self._candidates(suggestion_id, lead_id, words)
        return int(await self.db.scalar(f"SELECT count(*){where}", params) or 0)

    async def page_candidates(
        self,
        suggestion_id: int,
        lead_id: int,
        station_id: int | None,
        offset: int,
        limit: int,
        words: str | None = None,
    ) -> list[Deputy]:
        """The candidates, the lead's own station's first, then by name."""
        where, params = self._candidates(suggestion_id, lead_id, words)
        rows = await self.db.fetchall(
            f"SELECT d.*{where} ORDER BY d.station_id = ? DESC, d.name, d.user_id LIMIT ? OFFSET ?",
            [*params, station_id if station_id is not None else -1, limit, offset],
        )
        return [Deputy.model_validate(dict(r)) for r in rows]

    async def unlink_opinions(self, tx: Tx, suggestion_id: int) -> list[int]:
        """Let a withdrawn or declined suggestion's opinions go: they are open again, may be
        taken into another suggestion, and come back among the similar ones. Returns them."""
        rows = await tx.fetchall(
            "DELETE FROM suggestion_opinions WHERE suggestion_id = ? RETURNING opinion_id",
            (suggestion_id,),
        )
        return sorted(int(r[0]) for r in rows)
