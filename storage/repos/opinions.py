"""Opinions (意见建议), their history events and tracking-number sequences."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from storage.db import Database, Tx, stamp
from storage.models import Deputy, NoticeMode, Opinion, OpinionEvent, OpinionStatus


def opinion_of(row: sqlite3.Row | Mapping[str, Any]) -> Opinion:
    """An opinions row as the model (its photos stored as a JSON list)."""
    data = dict(row)
    data["photos"] = json.loads(data["photos"])
    return Opinion.model_validate(data)


# An opinion taken into a suggestion (代表建议); `o` is the opinions row. A withdrawn or declined
# suggestion lets its opinions go (SuggestionRepo.unlink_opinions), so an opinion linked is one
# in a live suggestion, and may be taken into no other (suggestion_opinions.opinion_id is
# unique): one fragment for what may be taken, the similar pool and the inbox alike.
IN_SUGGESTION = "EXISTS (SELECT 1 FROM suggestion_opinions so WHERE so.opinion_id = o.id)"
# While its suggestion is live the opinion is followed there: its own deadlines do not run and
# nobody releases, declines or answers it from the inbox.
IN_LIVE_SUGGESTION = (
    "EXISTS (SELECT 1 FROM suggestion_opinions so JOIN suggestions s ON s.id = so.suggestion_id"
    " WHERE so.opinion_id = o.id AND s.state NOT IN ('withdrawn', 'declined'))"
)


class OpinionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def next_sequence(self, tx: Tx, year: int) -> int:
        """Take the next number of `year`; it is never handed out again."""
        row = await tx.fetchone(
            "INSERT INTO tracking_sequences (year, last) VALUES (?, 1)"
            " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            (year,),
        )
        if row is None:
            raise RuntimeError("the tracking sequence returned no row")
        return int(row[0])

    async def count_by_author_since(self, tx: Tx | None, author_id: int, since: datetime) -> int:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT count(*) FROM opinions WHERE author_id = ? AND created_at >= ?",
            (author_id, stamp(since)),
        )
        return int(row[0]) if row else 0

    async def insert(
        self,
        tx: Tx,
        *,
        tracking_no: str,
        author_id: int | None,
        station_id: int,
        category: str,
        text: str,
        photos: list[str],
        latitude: float | None,
        longitude: float | None,
        show_name: bool,
        now: datetime,
        draft_token: str | None = None,
        voice_file_id: str | None = None,
        voice_seconds: int | None = None,
        addressed_to: int | None = None,
    ) -> int:
        """A new submitted opinion, unclaimed from now; `draft_token` names the draft it came
        from (unique). `author_id` None: entered at the reception desk for a visitor. A voice
        opinion has its voice's file_id and length (its `text` is ''); `addressed_to` is the
        deputy the voter wrote to by name (None: the station)."""
        return await tx.execute(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text, photos,"
            " latitude, longitude, show_name, status, created_at, updated_at, draft_token,"
            " unclaimed_since, voice_file_id, voice_seconds, addressed_to)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tracking_no,
                author_id,
                station_id,
                category,
                text,
                json.dumps(photos),
                latitude,
                longitude,
                int(show_name),
                OpinionStatus.SUBMITTED,
                stamp(now),
                stamp(now),
                draft_token,
                stamp(now),
                voice_file_id,
                voice_seconds,
                addressed_to,
            ),
        )

    async def bind_author(self, tx: Tx, opinion_id: int, author_id: int, now: datetime) -> bool:
        """A desk opinion claimed: `author_id` is its author from now on; False when it has
        an author already."""
        changed = await tx.execute_count(
            "UPDATE opinions SET author_id = ?, updated_at = ? WHERE id = ? AND author_id IS NULL",
            (author_id, stamp(now), opinion_id),
        )
        return changed == 1

    async def by_draft_token(self, draft_token: str, tx: Tx | None = None) -> Opinion | None:
        """The opinion submitted from the draft named `draft_token`, if any (a repeated Send)."""
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM opinions WHERE draft_token = ?", (draft_token,))
        return None if row is None else opinion_of(row)

    async def add_event(
        self,
        tx: Tx,
        opinion_id: int,
        at: datetime,
        actor_id: int | None,
        kind: str,
        note: str = "",
    ) -> None:
        tx.defer(
            "INSERT INTO opinion_events (opinion_id, at, actor_id, kind, note)"
            " VALUES (?, ?, ?, ?, ?)",
            (opinion_id, stamp(at), actor_id, kind, note),
        )

    async def get(self, opinion_id: int) -> Opinion | None:
        row = await self.db.fetchone("SELECT * FROM opinions WHERE id = ?", (opinion_id,))
        return None if row is None else opinion_of(row)

    async def count_by_author(self, author_id: int) -> int:
        return int(
            await self.db.scalar("SELECT count(*) FROM opinions WHERE author_id = ?", (author_id,))
            or 0
        )

    async def page_by_author(self, author_id: int, offset: int, limit: int) -> list[Opinion]:
        rows = await self.db.fetchall(
            "SELECT * FROM opinions WHERE author_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (author_id, limit, offset),
        )
        return [opinion_of(r) for r in rows]

    async def set_status(
        self, tx: Tx, opinion_id: int, status: OpinionStatus, now: datetime
    ) -> None:
        tx.defer(
            "UPDATE opinions SET status = ?, updated_at = ? WHERE id = ?",
            (status, stamp(now), opinion_id),
        )

    async def get_in(self, tx: Tx, opinion_id: int) -> Opinion | None:
        row = await tx.fetchone("SELECT * FROM opinions WHERE id = ?", (opinion_id,))
        return None if row is None else opinion_of(row)

    @staticmethod
    def _filter(status: OpinionStatus | None, street_id: int | None) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if street_id is not None:
            clauses.append("station_id IN (SELECT id FROM stations WHERE street_id = ?)")
            params.append(street_id)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    async def count_filtered(self, status: OpinionStatus | None, street_id: int | None) -> int:
        where, params = self._filter(status, street_id)
        return int(await self.db.scalar(f"SELECT count(*) FROM opinions{where}", params) or 0)

    async def page_filtered(
        self, status: OpinionStatus | None, street_id: int | None, offset: int, limit: int
    ) -> list[Opinion]:
        where, params = self._filter(status, street_id)
        rows = await self.db.fetchall(
            f"SELECT * FROM opinions{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [opinion_of(r) for r in rows]

    async def events(self, opinion_id: int) -> list[OpinionEvent]:
        rows = await self.db.fetchall(
            "SELECT * FROM opinion_events WHERE opinion_id = ? ORDER BY id", (opinion_id,)
        )
        return [OpinionEvent.model_validate(dict(r)) for r in rows]

    # --- the inbox -------------------------------------------------------------------------

    async def claim(self, tx: Tx, opinion_id: int, holder_id: int, now: datetime) -> bool:
        """Take an unheld, submitted opinion; False when someone else was first."""
        changed = await tx.execute_count(
            "UPDATE opinions SET holder_id = ?, claimed_at = ?, status = 'accepted',"
            " updated_at = ? WHERE id = ? AND holder_id IS NULL AND status = 'submitted'",
            (holder_id, stamp(now), stamp(now), opinion_id),
        )
        return changed == 1

    async def assign(self, tx: Tx, opinion_id: int, holder_id: int, now: datetime) -> bool:
        """Give a submitted or accepted opinion to `holder_id` (staff assigning it)."""
        changed = await tx.execute_count(
            "UPDATE opinions SET holder_id = ?, claimed_at = ?, status = 'accepted',"
            " updated_at = ? WHERE id = ? AND status IN ('submitted', 'accepted')",
            (holder_id, stamp(now), stamp(now), opinion_id),
        )
        return changed == 1

    async def release(self, tx: Tx, opinion_id: int, now: datetime) -> bool:
        """Back to submitted and unheld, for any deputy of the station to claim; its
        unclaimed clock starts again."""
        changed = await tx.execute_count(
            "UPDATE opinions SET holder_id = NULL, claimed_at = NULL, status = 'submitted',"
            " unclaimed_since = ?, updated_at = ? WHERE id = ? AND status = 'accepted'",
            (stamp(now), stamp(now), opinion_id),
        )
        return changed == 1

    async def accept_unheld(self, tx: Tx, opinion_id: int, now: datetime) -> bool:
        """Staff accept an opinion without giving it to a deputy."""
        changed = await tx.execute_count(
            "UPDATE opinions SET status = 'accepted', claimed_at = ?, updated_at = ?"
            " WHERE id = ? AND status = 'submitted'",
            (stamp(now), stamp(now), opinion_id),
        )
        return changed == 1

    async def mark_answered(self, tx: Tx, opinion_id: int, now: datetime) -> None:
        tx.defer(
            "UPDATE opinions SET status = 'answered', answered_at = ?, updated_at = ? WHERE id = ?",
            (stamp(now), stamp(now), opinion_id),
        )

    async def set_solved(self, tx: Tx, opinion_id: int, solved: str, now: datetime) -> bool:
        changed = await tx.execute_count(
            "UPDATE opinions SET solved = ?, updated_at = ?"
            " WHERE id = ? AND status = 'answered' AND satisfaction IS NULL",
            (solved, stamp(now), opinion_id),
        )
        return changed == 1

    async def rate(self, tx: Tx, opinion_id: int, satisfaction: str, now: datetime) -> bool:
        """Store the satisfaction and close the opinion; once, after `solved`."""
        changed = await tx.execute_count(
            "UPDATE opinions SET satisfaction = ?, rated_at = ?, status = 'closed',"
            " updated_at = ? WHERE id = ? AND status = 'answered' AND solved IS NOT NULL"
            " AND satisfaction IS NULL",
            (satisfaction, stamp(now), stamp(now), opinion_id),
        )
        return changed == 1

    async def set_comment(self, tx: Tx, opinion_id: int, comment: str, now: datetime) -> bool:
        changed = await tx.execute_count(
            "UPDATE opinions SET rating_comment = ?, updated_at = ? WHERE id = ?"
            " AND status = 'closed' AND rated_at IS NOT NULL AND rating_comment = ''",
            (comment, stamp(now), opinion_id),
        )
        return changed == 1

    async def reopen(self, tx: Tx, opinion_id: int, now: datetime) -> bool:
        """'Not solved': back to the same holder, once; the next answer is rated afresh."""
        changed = await tx.execute_count(
            "UPDATE opinions SET status = 'accepted', claimed_at = ?, answered_at = NULL,"
            " solved = NULL, satisfaction = NULL, rating_comment = '', rated_at = NULL,"
            " looked_again = 1, updated_at = ? WHERE id = ? AND status = 'closed'"
            " AND solved = 'no' AND looked_again = 0",
            (stamp(now), stamp(now), opinion_id),
        )
        return changed == 1

    async def close_unrated(
        self, tx: Tx, opinion_id: int, answered_before: datetime, now: datetime
    ) -> bool:
        changed = await tx.execute_count(
            "UPDATE opinions SET status = 'closed', satisfaction = 'not_rated', updated_at = ?"
            " WHERE id = ? AND status = 'answered' AND answered_at <= ?",
            (stamp(now), opinion_id, stamp(answered_before)),
        )
        return changed == 1

    async def last_asker(self, opinion_id: int, tx: Tx | None = None) -> int | None:
        """Who asked the voter the latest question (their reply goes back to them)."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT actor_id FROM opinion_events WHERE opinion_id = ? AND kind = 'asked'"
            " ORDER BY id DESC LIMIT 1",
            (opinion_id,),
        )
        return None if row is None or row[0] is None else int(row[0])

    @staticmethod
    def _inbox_filter(
        station_id: int | None, user_id: int | None, view: str
    ) -> tuple[str, list[object]]:
        """`user_id` None: every opinion (staff). Otherwise the deputy's station and what
        they hold. Views: all, new (waiting for a deputy), open (being handled)."""
        clauses: list[str] = []
        params: list[object] = []
        if user_id is None:
            if view == "new":
                clauses.append("status = 'submitted'")
            elif view == "open":
                clauses.append("status = 'accepted'")
        elif view == "new":
            clauses.append("station_id = ? AND status = 'submitted'")
            params.append(station_id)
        elif view == "open":
            clauses.append("holder_id = ? AND status = 'accepted'")
            params.append(user_id)
        else:
            clauses.append("(station_id = ? OR holder_id = ?)")
            params.extend([station_id, user_id])
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    async def count_inbox(self, station_id: int | None, user_id: int | None, view: str) -> int:
        where, params = self._inbox_filter(station_id, user_id, view)
        return int(await self.db.scalar(f"SELECT count(*) FROM opinions{where}", params) or 0)

    async def page_inbox(
        self, station_id: int | None, user_id: int | None, view: str, offset: int, limit: int
    ) -> list[Opinion]:
        where, params = self._inbox_filter(station_id, user_id, view)
        rows = await self.db.fetchall(
            f"SELECT * FROM opinions{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [opinion_of(r) for r in rows]

    # --- people the inbox writes to ----------------------------------------------------------

    async def deputy(self, user_id: int, tx: Tx | None = None) -> Deputy | None:
        """The deputy behind an account, only while the account still has the deputy role."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT d.* FROM deputies d JOIN users u ON u.telegram_id = d.user_id"
            " WHERE d.user_id = ? AND u.role = 'deputy'",
            (user_id,),
        )
        return None if row is None else Deputy.model_validate(dict(row))

    async def deputy_name(self, user_id: int, tx: Tx | None = None) -> str:
        """The name a holder goes by: their deputy name, else their Telegram name."""
        return (await self.deputy_names([user_id], tx))[user_id]

    async def deputy_names(self, user_ids: Sequence[int], tx: Tx | None = None) -> dict[int, str]:
        """The names these people go by (deputy name, else Telegram name, else the id), by
        id; every id asked for is answered."""
        if not user_ids:
            return {}
        ids = sorted(set(user_ids))
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT u.telegram_id, coalesce(d.name, u.full_name) FROM users u"
            " LEFT JOIN deputies d ON d.user_id = u.telegram_id"
            f" WHERE u.telegram_id IN ({','.join('?' * len(ids))})",
            ids,
        )
        found = {int(r[0]): str(r[1]) for r in rows if r[1]}
        return {i: found.get(i, str(i)) for i in ids}

    async def in_live_suggestion(self, tx: Tx | None, opinion_id: int) -> str | None:
        """The number of the live suggestion (代表建议) the opinion feeds, or None."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT s.number FROM suggestion_opinions so JOIN suggestions s"
            " ON s.id = so.suggestion_id WHERE so.opinion_id = ?"
            " AND s.state NOT IN ('withdrawn', 'declined')",
            (opinion_id,),
        )
        return None if row is None else str(row[0])

    async def station_deputies(self, station_id: int, tx: Tx | None = None) -> list[Deputy]:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT d.* FROM deputies d JOIN users u ON u.telegram_id = d.user_id"
            " WHERE d.station_id = ? AND u.role = 'deputy' ORDER BY d.name, d.user_id",
            (station_id,),
        )
        return [Deputy.model_validate(dict(r)) for r in rows]

    async def deputies_to_tell(self, station_id: int, tx: Tx) -> list[Deputy]:
        """The station's deputies a notice can reach: still deputies, consented, not blocked."""
        rows = await tx.fetchall(
            "SELECT d.* FROM deputies d JOIN users u ON u.telegram_id = d.user_id"
            " WHERE d.station_id = ? AND u.role = 'deputy' AND u.consent_at IS NOT NULL"
            " AND u.active = 1 ORDER BY d.user_id",
            (station_id,),
        )
        return [Deputy.model_validate(dict(r)) for r in rows]

    async def set_notice_mode(self, tx: Tx, user_id: int, mode: NoticeMode) -> bool:
        """False when the account has no deputies row."""
        changed = await tx.execute_count(
            "UPDATE deputies SET notice_mode = ? WHERE user_id = ?", (mode, user_id)
        )
        return changed == 1

    async def digest_deputies(self, kind: str) -> list[Deputy]:
        """Deputies who chose the digest and whose digest `kind` (naming the day) is not
        recorded yet."""
        rows = await self.db.fetchall(
            "SELECT d.* FROM deputies d JOIN users u ON u.telegram_id = d.user_id"
            " WHERE d.notice_mode = 'digest' AND u.role = 'deputy' AND u.consent_at IS NOT NULL"
            " AND u.active = 1 AND NOT EXISTS (SELECT 1 FROM reminders_sent r"
            " WHERE r.subject = 'digest' AND r.subject_id = d.user_id AND r.kind = ?)"
            " ORDER BY d.user_id",
            (kind,),
        )
        return [Deputy.model_validate(dict(r)) for r in rows]

    async def untold(
        self, tx: Tx, deputy: Deputy, since: datetime, until: datetime, prefix: str
    ) -> list[tuple[Opinion, str]]:
        """The deputy's station's opinions unclaimed since a moment in (since, until] that
        they did not write (a desk opinion has no author yet) and were not told of in this
        unclaimed period, and that no live suggestion follows, oldest first: (opinion, kind
        `prefix` || unclaimed_since that records telling them)."""
        rows = await tx.fetchall(
            "SELECT o.*, ? || o.unclaimed_since AS told_kind FROM opinions o"
            " WHERE o.station_id = ? AND o.status = 'submitted'"
            " AND o.unclaimed_since > ? AND o.unclaimed_since <= ? AND o.author_id IS NOT ?"
            " AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.subject = 'opinion'"
            " AND r.subject_id = o.id AND r.recipient_id = ? AND r.kind = ? || o.unclaimed_since)"
            f" AND NOT {IN_LIVE_SUGGESTION} ORDER BY o.unclaimed_since, o.id",
            (
                prefix,
                deputy.station_id,
                stamp(since),
                stamp(until),
                deputy.user_id,
                deputy.user_id,
                prefix,
            ),
        )
        found = []
        for row in rows:
            data = dict(row)
            kind = str(data.pop("told_kind"))
            found.append((opinion_of(data), kind))
        return found

    # --- deadlines: each query reads the (status, created_at) index ------------------------
    # Every instant below is at or after created_at, so `created_at <= cutoff` bounds the
    # range scanned without changing the answer. A reminder already recorded in
    # reminders_sent (subject 'opinion', with its kind) is not due any more.

    async def due_unclaimed(self, cutoff: datetime, prefix: str) -> list[tuple[int, str]]:
        """Unclaimed since `cutoff` or before, in no live suggestion: (opinion, kind); the kind
        names the unclaimed period (its unclaimed_since), so an opinion released again is
        reminded afresh."""
        rows = await self.db.fetchall(
            "SELECT o.id, ? || o.unclaimed_since FROM opinions o WHERE o.status = 'submitted'"
            " AND o.created_at <= ? AND o.unclaimed_since <= ?"
            " AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.subject = 'opinion'"
            " AND r.subject_id = o.id AND r.kind = ? || o.unclaimed_since)"
            f" AND NOT {IN_LIVE_SUGGESTION} ORDER BY o.created_at",
            (prefix, stamp(cutoff), stamp(cutoff), prefix),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def due_unanswered(self, cutoff: datetime, prefix: str) -> list[tuple[int, str]]:
        """Held too long without an answer: (opinion, kind); the kind names the holding
        (its claimed_at), so a new holder or a second look is reminded afresh."""
        rows = await self.db.fetchall(
            "SELECT o.id, ? || o.claimed_at FROM opinions o WHERE o.status = 'accepted'"
            " AND o.created_at <= ? AND o.claimed_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.subject = 'opinion'"
            " AND r.subject_id = o.id AND r.kind = ? || o.claimed_at)"
            f" AND NOT {IN_LIVE_SUGGESTION} ORDER BY o.created_at",
            (prefix, stamp(cutoff), stamp(cutoff), prefix),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def due_rating_reminders(self, cutoff: datetime, prefix: str) -> list[tuple[int, str]]:
        """Answered, not rated since `cutoff`: (opinion, kind naming the answer)."""
        rows = await self.db.fetchall(
            "SELECT o.id, ? || o.answered_at FROM opinions o WHERE o.status = 'answered'"
            " AND o.created_at <= ? AND o.answered_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.subject = 'opinion'"
            " AND r.subject_id = o.id AND r.kind = ? || o.answered_at) ORDER BY o.created_at",
            (prefix, stamp(cutoff), stamp(cutoff), prefix),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def due_closures(self, cutoff: datetime) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT o.id FROM opinions o WHERE o.status = 'answered' AND o.created_at <= ?"
            " AND o.answered_at <= ? ORDER BY o.created_at",
            (stamp(cutoff), stamp(cutoff)),
        )
        return [int(r[0]) for r in rows]

    async def stamp_of(self, tx: Tx, opinion_id: int, column: str) -> str | None:
        """An instant exactly as stored, to compare with a kind built from it."""
        if column not in ("claimed_at", "answered_at", "unclaimed_since"):
            raise ValueError(column)
        row = await tx.fetchone(f"SELECT {column} FROM opinions WHERE id = ?", (opinion_id,))
        return None if row is None or row[0] is None else str(row[0])
