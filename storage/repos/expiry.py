"""The life of a conversation's state and draft: who is in what, since when; ending one;
the nightly sweep of abandoned ones and the notice that tells a person once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.db import Database, Tx, stamp

Key = tuple[int | str, ...]


class ConversationExpiryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of(self, key: Key) -> tuple[dict[str, tuple[datetime, Any]], list[str]]:
        """The conversations `key` is in (name → when it last moved and its step), and the
        ones the sweep ended that the person was not yet told about; one read."""
        rows = await self.db.fetchall(
            "SELECT 'active' AS kind, name, updated_at AS at, state FROM conversation_states"
            " WHERE key = ?"
            " UNION ALL"
            " SELECT 'expired', name, expired_at, NULL FROM conversation_expiries WHERE key = ?",
            (json.dumps(list(key)), json.dumps(list(key))),
        )
        active = {
            r["name"]: (datetime.fromisoformat(r["at"]), json.loads(r["state"]))
            for r in rows
            if r["kind"] == "active"
        }
        return active, [r["name"] for r in rows if r["kind"] == "expired"]

    async def end(self, tx: Tx, name: str, key: Key, user_id: int, draft_table: str) -> None:
        """Remove a conversation's state and its draft (in `draft_table`: the opinion's own
        table, or the conversation's kind in `drafts`)."""
        tx.defer(
            "DELETE FROM conversation_states WHERE name = ? AND key = ?",
            (name, json.dumps(list(key))),
        )
        if draft_table == "opinion_drafts":
            tx.defer("DELETE FROM opinion_drafts WHERE user_id = ?", (user_id,))
        else:
            tx.defer("DELETE FROM drafts WHERE user_id = ? AND kind = ?", (user_id, name))

    async def told(self, tx: Tx, key: Key) -> None:
        """The person was told about every conversation the sweep ended."""
        tx.defer("DELETE FROM conversation_expiries WHERE key = ?", (json.dumps(list(key)),))

    async def sweep(
        self,
        tx: Tx,
        name: str,
        draft_table: str,
        cutoff: datetime,
        now: datetime,
        quiet: frozenset[str],
    ) -> list[tuple[str, Key]]:
        """End every `name` conversation that has not moved since `cutoff`, remember to tell
        its person (unless its step is `quiet`), and drop its drafts older than that;
        returns the conversations ended."""
        rows = await tx.fetchall(
            "DELETE FROM conversation_states WHERE name = ? AND updated_at < ?"
            " RETURNING name, key, state",
            (name, stamp(cutoff)),
        )
        ended = [(r["name"], tuple(json.loads(r["key"]))) for r in rows]
        await tx.executemany(
            "INSERT INTO conversation_expiries (name, key, expired_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key, name) DO UPDATE SET expired_at = excluded.expired_at",
            [
                (r["name"], r["key"], stamp(now))
                for r in rows
                if json.loads(r["state"]) not in quiet
            ],
        )
        if draft_table == "opinion_drafts":
            tx.defer("DELETE FROM opinion_drafts WHERE updated_at < ?", (stamp(cutoff),))
        else:
            tx.defer("DELETE FROM drafts WHERE kind = ? AND updated_at < ?", (name, stamp(cutoff)))
        return ended

    async def sweep_rest(self, tx: Tx, declared: list[str], cutoff: datetime) -> None:
        """States and drafts under names nothing declares (an older version's, a pending
        invitation's) are dropped once older than `cutoff`, silently."""
        marks = ", ".join("?" * len(declared)) or "''"
        tx.defer(
            f"DELETE FROM conversation_states WHERE name NOT IN ({marks}) AND updated_at < ?",
            (*declared, stamp(cutoff)),
        )
        tx.defer(
            f"DELETE FROM drafts WHERE kind NOT IN ({marks}) AND updated_at < ?",
            (*declared, stamp(cutoff)),
        )

    async def forget_notices(self, tx: Tx, before: datetime) -> None:
        """Notices nobody came back for are dropped after a while, so the table stays small."""
        tx.defer("DELETE FROM conversation_expiries WHERE expired_at < ?", (stamp(before),))
