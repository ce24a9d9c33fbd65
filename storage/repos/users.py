"""Users: Telegram accounts with a role, locale, station and consent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import Role, User


class UserRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, telegram_id: int) -> User | None:
        row = await self.db.fetchone("SELECT * FROM users WHERE telegram_id = ?", (telegram_id,))
        return None if row is None else User.model_validate(dict(row))

    async def get_many(self, ids: Sequence[int]) -> dict[int, User]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self.db.fetchall(f"SELECT * FROM users WHERE telegram_id IN ({marks})", ids)
        return {r["telegram_id"]: User.model_validate(dict(r)) for r in rows}

    async def upsert_seen(
        self,
        tx: Tx,
        telegram_id: int,
        locale: str,
        full_name: str,
        username: str | None,
        now: datetime,
    ) -> None:
        """Create the user on first contact; refresh name and mark active on later ones.
        A row made before the person ever wrote (e.g. by /staff add) takes their language
        on that first contact."""
        tx.defer(
            "INSERT INTO users (telegram_id, locale, full_name, username, created_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (telegram_id) DO UPDATE SET full_name = excluded.full_name,"
            " username = excluded.username, active = 1,"
            " locale = CASE WHEN users.full_name = '' AND users.consent_at IS NULL"
            " THEN excluded.locale ELSE users.locale END",
            (telegram_id, locale, full_name, username, stamp(now)),
        )

    async def ensure(self, tx: Tx, telegram_id: int, locale: str, now: datetime) -> None:
        tx.defer(
            "INSERT INTO users (telegram_id, locale, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (telegram_id) DO NOTHING",
            (telegram_id, locale, stamp(now)),
        )

    async def role_in(self, tx: Tx, telegram_id: int) -> Role:
        row = await tx.fetchone("SELECT role FROM users WHERE telegram_id = ?", (telegram_id,))
        return Role(row[0]) if row else Role.VOTER

    async def set_consent(self, tx: Tx, telegram_id: int, at: datetime) -> None:
        tx.defer(
            "UPDATE users SET consent_at = ? WHERE telegram_id = ? AND consent_at IS NULL",
            (stamp(at), telegram_id),
        )

    async def set_locale(self, tx: Tx, telegram_id: int, locale: str) -> None:
        tx.defer("UPDATE users SET locale = ? WHERE telegram_id = ?", (locale, telegram_id))

    async def set_station(self, tx: Tx, telegram_id: int, station_id: int) -> None:
        tx.defer("UPDATE users SET station_id = ? WHERE telegram_id = ?", (station_id, telegram_id))

    async def set_role(self, tx: Tx, telegram_id: int, role: Role) -> None:
        tx.defer("UPDATE users SET role = ? WHERE telegram_id = ?", (role, telegram_id))

    async def set_active(self, tx: Tx, telegram_id: int, active: bool) -> None:
        tx.defer("UPDATE users SET active = ? WHERE telegram_id = ?", (int(active), telegram_id))

    async def set_notices(self, tx: Tx, telegram_id: int, on: bool) -> None:
        tx.defer("UPDATE users SET notices = ? WHERE telegram_id = ?", (int(on), telegram_id))
