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

    async def end(self, tx: Tx, name: str, key: Key, user_id: int, opinion_draft: bool) -> None:
        """Remove a conversation's state and its draft (the opinion's own table or the
        conversation's kind in `drafts`)."""
        tx.defer(
            "DELETE FROM conversation_states WHERE name = ? AND key = ?",
            (name, json.dumps(list(key))),
        )
        tx.defer("DELETE FROM drafts WHERE user_id = ? AND kind = ?", (user_id, name))
        if opinion_draft:
            tx.defer("DELETE FROM opinion_drafts WHERE user_id = ?", (user_id,))

    async def told(self, tx: Tx, key: Key) -> None:
        """The person was told about every conversation the sweep ended."""
        tx.defer("DELETE FROM conversation_expiries WHERE key = ?", (json.dumps(list(key)),))

    async def sweep(
        self, tx: Tx, cutoff: datetime, now: datetime, quiet: frozenset[tuple[str, Any]]
    ) -> list[tuple[str, Key]]:
        """End every conversation that has not moved since `cutoff`, remember to tell its
        person (unless its (name, step) is `quiet`), and drop drafts older than that;
        returns the conversations ended."""
        rows = await tx.fetchall(
            "DELETE FROM conversation_states WHERE updated_at < ? RETURNING name, key, state",
            (stamp(cutoff),),
        )
        ended = [(r["name"], tuple(json.loads(r["key"]))) for r in rows]
        await tx.executemany(
            "INSERT INTO conversation_expiries (name, key, expired_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key, name) DO UPDATE SET expired_at = excluded.expired_at",
            [
                (r["name"], r["key"], stamp(now))
                for r in rows
                if (r["name"], json.loads(r["state"])) not in quiet
            ],
        )
        tx.defer("DELETE FROM drafts WHERE updated_at < ?", (stamp(cutoff),))
        tx.defer("DELETE FROM opinion_drafts WHERE updated_at < ?", (stamp(cutoff),))
        return ended

    async def forget_notices(self, tx: Tx, before: datetime) -> None:
        """Notices nobody came back for are dropped after a while, so the table stays small."""
        tx.defer("DELETE FROM conversation_expiries WHERE expired_at < ?", (stamp(before),))
