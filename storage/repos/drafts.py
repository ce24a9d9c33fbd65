"""Opinion drafts and the conversation state that goes with them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.db import Database, Tx, stamp


def _object(text: str) -> dict[str, Any]:
    """A stored draft's JSON; anything but an object (damaged) reads as an empty one, for
    the model to refuse."""
    data = json.loads(text)
    return data if isinstance(data, dict) else {"": data}


def conversation_key(chat_id: int, user_id: int) -> tuple[int, int]:
    """The key PTB's ConversationHandler uses with per_chat and per_user."""
    return (chat_id, user_id)


class DraftRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int, tx: Tx | None = None) -> dict[str, Any] | None:
        """The voter's draft; inside `tx` when given (submission reads and deletes it there)."""
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT data FROM opinion_drafts WHERE user_id = ?", (user_id,))
        return None if row is None else _object(row[0])

    async def save(self, tx: Tx, user_id: int, data: dict[str, Any], now: datetime) -> None:
        tx.defer(
            "INSERT INTO opinion_drafts (user_id, data, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (user_id, json.dumps(data, ensure_ascii=False), stamp(now)),
        )

    async def delete(self, tx: Tx, user_id: int) -> None:
        tx.defer("DELETE FROM opinion_drafts WHERE user_id = ?", (user_id,))


class ConversationRepo:
    """ConversationHandler states; keys are stored as JSON arrays, states as JSON values."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self, name: str) -> dict[tuple[int | str, ...], Any]:
        rows = await self.db.fetchall(
            "SELECT key, state FROM conversation_states WHERE name = ?", (name,)
        )
        return {tuple(json.loads(r["key"])): json.loads(r["state"]) for r in rows}

    async def active_names(self, key: tuple[int | str, ...]) -> set[str]:
        """The conversations this key is in the middle of."""
        rows = await self.db.fetchall(
            "SELECT name FROM conversation_states WHERE key = ?", (json.dumps(list(key)),)
        )
        return {r[0] for r in rows}

    async def get(self, name: str, key: tuple[int | str, ...], tx: Tx | None = None) -> Any:
        """The step `key` is at in conversation `name` (None: not in it); inside `tx` if given."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT state FROM conversation_states WHERE name = ? AND key = ?",
            (name, json.dumps(list(key))),
        )
        return None if row is None else json.loads(row[0])

    async def put(
        self,
        tx: Tx,
        name: str,
        key: tuple[int | str, ...],
        state: Any,
        now: datetime | None = None,
    ) -> None:
        """Store or (state None) end a conversation; `now` is when it last moved, from the
        caller's clock, so an abandoned one expires on time (needed unless ending)."""
        if state is None:
            tx.defer(
                "DELETE FROM conversation_states WHERE name = ? AND key = ?",
                (name, json.dumps(list(key))),
            )
            return
        if now is None:
            raise ValueError("a conversation's state is stored with the time it moved")
        tx.defer(
            "INSERT INTO conversation_states (name, key, state, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            (name, json.dumps(list(key)), json.dumps(state), stamp(now)),
        )


class KindDraftRepo:
    """Short multi-step inputs (a broadcast being composed, a reason being typed), by kind."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int, kind: str, tx: Tx | None = None) -> dict[str, Any] | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT data FROM drafts WHERE user_id = ? AND kind = ?", (user_id, kind)
        )
        return None if row is None else _object(row[0])

    async def save(
        self, tx: Tx, user_id: int, kind: str, data: dict[str, Any], now: datetime
    ) -> None:
        tx.defer(
            "INSERT INTO drafts (user_id, kind, data, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id, kind) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (user_id, kind, json.dumps(data, ensure_ascii=False), stamp(now)),
        )

    async def delete(self, tx: Tx, user_id: int, kind: str) -> None:
        tx.defer("DELETE FROM drafts WHERE user_id = ? AND kind = ?", (user_id, kind))
