"""The outbox queue and the broadcasts that fill it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import Audience, Broadcast, BroadcastCounts, BroadcastState, OutboxItem

BLOCKED = "blocked"

AUDIENCE_SQL: dict[Audience, str] = {
    Audience.VOTERS: (
        "SELECT telegram_id FROM users WHERE role = 'voter' AND consent_at IS NOT NULL"
        " AND active = 1 AND notices = 1"
    ),
    Audience.VOTERS_OF_STREET: (
        "SELECT telegram_id FROM users WHERE role = 'voter' AND consent_at IS NOT NULL"
        " AND active = 1 AND notices = 1"
        " AND station_id IN (SELECT id FROM stations WHERE street_id = ?)"
    ),
    Audience.VOTERS_OF_STATION: (
        "SELECT telegram_id FROM users WHERE role = 'voter' AND consent_at IS NOT NULL"
        " AND active = 1 AND notices = 1 AND station_id = ?"
    ),
    Audience.DEPUTIES: (
        "SELECT u.telegram_id FROM users u JOIN deputies d ON d.user_id = u.telegram_id"
        " WHERE u.role = 'deputy' AND u.active = 1"
    ),
    Audience.DEPUTIES_OF_STREET: (
        "SELECT u.telegram_id FROM users u JOIN deputies d ON d.user_id = u.telegram_id"
        " WHERE u.role = 'deputy' AND u.active = 1"
        " AND d.station_id IN (SELECT id FROM stations WHERE street_id = ?)"
    ),
}

# SQL on the outbox row being updated or claimed (`outbox`, or `o` in claim_due).
# A menu row returned to the queue while a newer one of its chat waits: only one may wait
# (the unique index outbox_menu_queued), and the newer sets what holds when it goes out.
SUPERSEDED = (
    "outbox.sets_menu = 1 AND EXISTS (SELECT 1 FROM outbox newer WHERE newer.sets_menu = 1"
    " AND newer.chat_id = outbox.chat_id AND newer.state = 'queued' AND newer.id <> outbox.id)"
)
REQUEUED = f"CASE WHEN {SUPERSEDED} THEN 'skipped' ELSE 'queued' END"
MENU_IN_FLIGHT = (
    "EXISTS (SELECT 1 FROM outbox sending WHERE sending.sets_menu = 1"
    " AND sending.chat_id = o.chat_id AND sending.state = 'sending')"
)

AUDIENCE_NEEDS_REF = frozenset(
    {Audience.VOTERS_OF_STREET, Audience.VOTERS_OF_STATION, Audience.DEPUTIES_OF_STREET}
)


class Claimed(OutboxItem):
    """A claimed row, with the post whose message it edits when it is the edit of a post to a
    channel (bot.services.outbox.Outbox.post)."""

    post_of: int | None = None


@dataclass(frozen=True)
class Posted:
    """Where a post to a channel stands: its row's state, and the message it became."""

    state: str
    message_id: int | None


class OutboxRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue_notice(
        self,
        tx: Tx,
        chat_id: int,
        key: str,
        params: Mapping[str, object],
        now: datetime,
        *,
        respects_opt_out: bool = False,
        not_before: datetime | None = None,
        buttons: list[list[dict[str, object]]] | None = None,
        about_opinion: int | None = None,
    ) -> int:
        return await tx.execute(
            "INSERT INTO outbox (chat_id, priority, message_key, params, respects_opt_out,"
            " not_before, created_at, buttons, about_opinion)"
            " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                key,
                json.dumps(dict(params), ensure_ascii=False),
                int(respects_opt_out),
                stamp(not_before or now),
                stamp(now),
                json.dumps(buttons, ensure_ascii=False) if buttons else None,
                about_opinion,
            ),
        )

    async def enqueue_menu(self, tx: Tx, chat_id: int, now: datetime) -> bool:
        """Queue the setting of `chat_id`'s command menu, unless one waits already (the
        dispatcher sets it to what holds when it is sent); a waiting one goes as a personal
        notice does (priority 0). True if one was queued or moved up."""
        count = await tx.execute_count(
            "INSERT INTO outbox (chat_id, priority, message_key, not_before, created_at,"
            " sets_menu) VALUES (?, 0, 'menu', ?, ?, 1)"
            # the waiting one may be a start-up row (priority 1): a change makes it personal
            " ON CONFLICT (chat_id) WHERE sets_menu = 1 AND state = 'queued'"
            " DO UPDATE SET priority = 0",
            (chat_id, stamp(now), stamp(now)),
        )
        return count > 0

    async def enqueue_notices(
        self,
        tx: Tx,
        chat_ids: Iterable[int],
        key: str,
        params: Mapping[str, object],
        now: datetime,
        *,
        respects_opt_out: bool = False,
        buttons: list[list[dict[str, object]]] | None = None,
        not_before: datetime | None = None,
        priority: int = 0,
    ) -> None:
        """The same notice for many chats, in one statement (tens of thousands at once);
        `priority` 1 lets personal notices (priority 0) queued later go first."""
        when = stamp(now)
        due = stamp(not_before or now)
        data = json.dumps(dict(params), ensure_ascii=False)
        markup = json.dumps(buttons, ensure_ascii=False) if buttons else None
        opt_out = int(respects_opt_out)
        await tx.executemany(
            "INSERT INTO outbox (chat_id, priority, message_key, params, respects_opt_out,"
            " not_before, created_at, buttons) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ((chat_id, priority, key, data, opt_out, due, when, markup) for chat_id in chat_ids),
        )

    async def enqueue_broadcast(
        self, tx: Tx, broadcast_id: int, chat_ids: Iterable[int], now: datetime
    ) -> None:
        when = stamp(now)
        await tx.executemany(
            "INSERT INTO outbox (chat_id, priority, broadcast_id, respects_opt_out, not_before,"
            " created_at) VALUES (?, 1, ?, 1, ?, ?)",
            ((chat_id, broadcast_id, when, when) for chat_id in chat_ids),
        )

    async def reset_in_flight(self) -> int:
        """Rows left 'sending' by a crash go back to the queue (they may be sent twice); of a
        chat's menu rows only the newest stays, as at most one may wait."""
        async with self.db.transaction() as tx:
            tx.defer(
                "UPDATE outbox SET state = 'skipped', reason = 'superseded'"
                " WHERE sets_menu = 1 AND state = 'sending' AND EXISTS (SELECT 1 FROM outbox"
                " later WHERE later.sets_menu = 1 AND later.chat_id = outbox.chat_id"
                " AND later.state IN ('queued', 'sending') AND later.id > outbox.id)"
            )
            return await tx.execute_count(
                "UPDATE outbox SET state = 'queued' WHERE state = 'sending'"
            )

    async def claim_due(self, now: datetime, limit: int) -> list[Claimed]:
        """Mark up to `limit` due rows 'sending' and return them, personal notices first."""
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT o.id, o.chat_id, o.attempts, o.broadcast_id, o.message_key, o.params,"
                " o.respects_opt_out, u.locale, u.active AS user_active,"
                " u.notices AS user_notices, b.text, b.photo, b.document, o.buttons, o.post_of,"
                " o.sets_menu"
                " FROM outbox o"
                " LEFT JOIN broadcasts b ON b.id = o.broadcast_id"
                " LEFT JOIN users u ON u.telegram_id = o.chat_id"
                " WHERE o.state = 'queued' AND o.not_before <= ?"
                " AND (o.broadcast_id IS NULL OR b.state = 'running')"
                # one menu call per chat in flight, so an older one never lands after a newer
                f" AND NOT (o.sets_menu = 1 AND {MENU_IN_FLIGHT})"
                " ORDER BY o.priority, o.id LIMIT ?",
                (stamp(now), limit),
            )
            if not rows:
                return []
            ids = [r["id"] for r in rows]
            tx.defer(
                f"UPDATE outbox SET state = 'sending' WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            )
        items = []
        for row in rows:
            data = dict(row)
            data["params"] = json.loads(data["params"])
            data["buttons"] = json.loads(data["buttons"]) if data["buttons"] else []
            items.append(Claimed.model_validate(data))
        return items

    async def finish(
        self,
        item_id: int,
        state: str,
        now: datetime,
        reason: str | None = None,
        *,
        message_id: int | None = None,
    ) -> None:
        """The row's outcome; a sent one keeps the message it became (`message_id`), a
        failed one the time it failed (the health report counts recent failures)."""
        async with self.db.transaction() as tx:
            tx.defer(
                "UPDATE outbox SET state = ?, reason = ?, sent_at = ?, message_id = ?,"
                " failed_at = ? WHERE id = ?",
                (
                    state,
                    reason,
                    stamp(now) if state == "sent" else None,
                    message_id,
                    stamp(now) if state == "failed" else None,
                    item_id,
                ),
            )

    async def retry_later(self, item_id: int, not_before: datetime, reason: str) -> None:
        """Queue the row again for `not_before`; its first due time is kept (`first_due`), so
        the health report sees how long it has really waited. A menu row with a newer one
        queued for its chat is superseded instead (only one may wait; the newer sets it)."""
        async with self.db.transaction() as tx:
            tx.defer(
                f"UPDATE outbox SET state = {REQUEUED}, attempts = attempts + 1,"
                " not_before = ?, first_due = COALESCE(first_due, not_before),"
                f" reason = CASE WHEN {SUPERSEDED} THEN 'superseded' ELSE ? END WHERE id = ?",
                (stamp(not_before), reason, item_id),
            )

    async def put_back(self, item_id: int) -> None:
        """Return a claimed row to the queue untouched (a pause, a flood wait, a stop); a
        menu row with a newer one queued for its chat is superseded instead."""
        async with self.db.transaction() as tx:
            tx.defer(
                f"UPDATE outbox SET state = {REQUEUED},"
                f" reason = CASE WHEN {SUPERSEDED} THEN 'superseded' ELSE reason END"
                " WHERE id = ?",
                (item_id,),
            )

    async def sending_count(self) -> int:
        return int(await self.db.scalar("SELECT count(*) FROM outbox WHERE state = 'sending'") or 0)

    async def has_due(self, now: datetime) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM outbox o LEFT JOIN broadcasts b ON b.id = o.broadcast_id"
            " WHERE o.state = 'queued' AND o.not_before <= ?"
            " AND (o.broadcast_id IS NULL OR b.state = 'running') LIMIT 1",
            (stamp(now),),
        )
        return row is not None

    async def withdraw(self, tx: Tx, item_id: int) -> bool:
        """A queued notice no longer needed (its content reached the person another way)
        is skipped; False when it was already claimed or finished."""
        changed = await tx.execute_count(
            "UPDATE outbox SET state = 'skipped', reason = 'withdrawn'"
            " WHERE id = ? AND state = 'queued'",
            (item_id,),
        )
        return changed == 1

    async def withdraw_about(self, tx: Tx, opinion_id: int, keys: Sequence[str]) -> int:
        """Skip the queued notices `keys` about one opinion; returns how many."""
        marks = ", ".join("?" * len(keys))
        return await tx.execute_count(
            "UPDATE outbox SET state = 'skipped', reason = 'withdrawn'"
            f" WHERE about_opinion = ? AND state = 'queued' AND message_key IN ({marks})",
            (opinion_id, *keys),
        )

    async def withdraw_marked(
        self, tx: Tx, keys: Sequence[str], name: str, value: int, chat_id: int | None = None
    ) -> int:
        """Skip the queued notices `keys` whose parameter `name` is `value` (the notices of
        one thing, e.g. a consultation's prompts and reminders once it closed), only those
        to `chat_id` when given; returns how many. Only queued rows are read (the partial
        index outbox_due)."""
        if not name.isidentifier():
            raise ValueError(f"not a parameter name: {name!r}")
        marks = ", ".join("?" * len(keys))
        sql = (
            "UPDATE outbox SET state = 'skipped', reason = 'withdrawn'"
            f" WHERE state = 'queued' AND message_key IN ({marks})"
            " AND json_extract(params, ?) = ?"
        )
        params: list[object] = [*keys, f"$.{name}", value]
        if chat_id is not None:
            sql += " AND chat_id = ?"
            params.append(chat_id)
        return await tx.execute_count(sql, params)

    # --- posts to a channel: a message kept and corrected in place ---------------------------

    async def correct_post(
        self, tx: Tx, post_id: int, params: Mapping[str, object], now: datetime
    ) -> bool:
        """The post `post_id` says `params` now. Still queued, it is simply rendered from them
        when sent; sent (or being sent), its message is edited by one queued edit (a later
        correction rewrites that edit while it waits); failed or skipped, it is queued again
        with them (one more repost). False when there is no such post (unknown, or an edit)."""
        row = await tx.fetchone(
            "SELECT chat_id, message_key, state FROM outbox WHERE id = ? AND post_of IS NULL"
            " AND broadcast_id IS NULL",
            (post_id,),
        )
        if row is None:
            return False
        data = json.dumps(dict(params), ensure_ascii=False)
        if row["state"] in ("failed", "skipped"):
            tx.defer(
                "UPDATE outbox SET params = ?, state = 'queued', attempts = 0,"
                " reposts = reposts + 1, not_before = ?, first_due = NULL, failed_at = NULL,"
                " reason = NULL WHERE id = ?",
                (data, stamp(now), post_id),
            )
            return True
        tx.defer("UPDATE outbox SET params = ? WHERE id = ?", (data, post_id))
        if row["state"] == "queued":
            return True
        waiting = await tx.execute_count(
            "UPDATE outbox SET params = ? WHERE post_of = ? AND state = 'queued'",
            (data, post_id),
        )
        if not waiting:
            await tx.execute(
                "INSERT INTO outbox (chat_id, priority, message_key, params, not_before,"
                " created_at, post_of) VALUES (?, 0, ?, ?, ?, ?, ?)",
                (row["chat_id"], row["message_key"], data, stamp(now), stamp(now), post_id),
            )
        return True

    async def posted(self, post_id: int) -> Posted | None:
        """Where post `post_id` stands: its state and, once sent, the message it became."""
        row = await self.db.fetchone(
            "SELECT state, message_id FROM outbox WHERE id = ?", (post_id,)
        )
        if row is None:
            return None
        return Posted(str(row[0]), None if row[1] is None else int(row[1]))

    async def release_now(self, tx: Tx, item_id: int, now: datetime) -> bool:
        """A queued notice held back until later becomes due at `now`; False when it was
        already due, claimed or finished."""
        changed = await tx.execute_count(
            "UPDATE outbox SET not_before = ? WHERE id = ? AND state = 'queued' AND not_before > ?",
            (stamp(now), item_id, stamp(now)),
        )
        return changed == 1


class BroadcastRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def audience_ids(
        self, audience: Audience, ref: int | None, tx: Tx | None = None
    ) -> list[int]:
        """Who a broadcast to `audience` reaches now: reachable, consenting, not opted out."""
        params = (ref,) if audience in AUDIENCE_NEEDS_REF else ()
        source = tx if tx is not None else self.db
        rows = await source.fetchall(AUDIENCE_SQL[audience] + " ORDER BY 1", params)
        return [int(r[0]) for r in rows]

    async def create(
        self,
        tx: Tx,
        *,
        created_by: int,
        audience: Audience,
        audience_ref: int | None,
        text: str,
        photo: str | None,
        document: str | None,
        total: int,
        now: datetime,
    ) -> int:
        return await tx.execute(
            "INSERT INTO broadcasts (created_by, audience, audience_ref, text, photo, document,"
            " total, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (created_by, audience, audience_ref, text, photo, document, total, stamp(now)),
        )

    async def get(self, broadcast_id: int, tx: Tx | None = None) -> Broadcast | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return None if row is None else Broadcast.model_validate(dict(row))

    async def recent(self, offset: int, limit: int) -> list[Broadcast]:
        rows = await self.db.fetchall(
            "SELECT * FROM broadcasts ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)
        )
        return [Broadcast.model_validate(dict(r)) for r in rows]

    async def count(self) -> int:
        return int(await self.db.scalar("SELECT count(*) FROM broadcasts") or 0)

    async def unfinished(self) -> list[Broadcast]:
        rows = await self.db.fetchall(
            "SELECT * FROM broadcasts WHERE state IN ('running', 'paused') ORDER BY id"
        )
        return [Broadcast.model_validate(dict(r)) for r in rows]

    async def set_state(
        self, tx: Tx, broadcast_id: int, state: BroadcastState, now: datetime | None = None
    ) -> None:
        tx.defer(
            "UPDATE broadcasts SET state = ?, finished_at = ? WHERE id = ?",
            (state, stamp(now) if now else None, broadcast_id),
        )

    async def set_progress_message(
        self, tx: Tx, broadcast_id: int, chat_id: int, message_id: int
    ) -> None:
        """The message that shows the broadcast's progress and its controls."""
        tx.defer(
            "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
            (chat_id, message_id, broadcast_id),
        )

    async def set_total(self, tx: Tx, broadcast_id: int, total: int) -> None:
        """The number of recipients queued."""
        tx.defer("UPDATE broadcasts SET total = ? WHERE id = ?", (total, broadcast_id))

    async def withdraw(self, tx: Tx, broadcast_id: int, now: datetime) -> bool:
        """Cancel a broadcast that was never started: no progress message, nothing queued.
        False when it had started after all."""
        changed = await tx.execute_count(
            "UPDATE broadcasts SET state = 'cancelled', finished_at = ?"
            " WHERE id = ? AND state IN ('running', 'paused') AND progress_message_id IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM outbox WHERE broadcast_id = broadcasts.id)",
            (stamp(now), broadcast_id),
        )
        return changed == 1

    async def skip_remaining(self, tx: Tx, broadcast_id: int, reason: str) -> int:
        return await tx.execute_count(
            "UPDATE outbox SET state = 'skipped', reason = ?"
            " WHERE broadcast_id = ? AND state = 'queued'",
            (reason, broadcast_id),
        )

    async def counts(self, broadcast_id: int, tx: Tx | None = None) -> BroadcastCounts:
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT state, reason = ? AS blocked, count(*) FROM outbox WHERE broadcast_id = ?"
            " GROUP BY state, blocked",
            (BLOCKED, broadcast_id),
        )
        totals: dict[str, int] = {}
        for state, blocked, n in rows:
            name = "blocked" if state == "skipped" and blocked else state
            totals[name] = totals.get(name, 0) + n
        return BroadcastCounts(**totals)
