"""Deputies and the one-time invitations that bind a Telegram account to one."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import Deputy, Invitation


class DeputyRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int, tx: Tx | None = None) -> Deputy | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM deputies WHERE user_id = ?", (user_id,))
        return None if row is None else Deputy.model_validate(dict(row))

    async def get_many(self, user_ids: set[int]) -> dict[int, Deputy]:
        if not user_ids:
            return {}
        ids = sorted(user_ids)
        rows = await self.db.fetchall(
            f"SELECT * FROM deputies WHERE user_id IN ({','.join('?' * len(ids))})", ids
        )
        return {r["user_id"]: Deputy.model_validate(dict(r)) for r in rows}

    async def at_station(self, station_id: int) -> list[Deputy]:
        rows = await self.db.fetchall(
            "SELECT * FROM deputies WHERE station_id = ? ORDER BY name", (station_id,)
        )
        return [Deputy.model_validate(dict(r)) for r in rows]

    async def by_name(self, name: str) -> list[Deputy]:
        rows = await self.db.fetchall("SELECT * FROM deputies WHERE name = ?", (name,))
        return [Deputy.model_validate(dict(r)) for r in rows]

    # --- a deputy's own code (代表码) --------------------------------------------------------

    async def by_code(self, code: str, tx: Tx | None = None) -> Deputy | None:
        """The serving deputy whose code this is now; None for a code never made, replaced
        since, or of someone who is no deputy any more."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT d.* FROM deputies d JOIN users u ON u.telegram_id = d.user_id"
            " WHERE d.code = ? AND u.role = 'deputy'",
            (code,),
        )
        return None if row is None else Deputy.model_validate(dict(row))

    async def give_code(self, tx: Tx, user_id: int, code: str) -> None:
        """The deputy's first code; one they have already is kept (a second tap makes none)."""
        tx.defer("UPDATE deputies SET code = ? WHERE user_id = ? AND code IS NULL", (code, user_id))

    async def replace_code(self, tx: Tx, user_id: int, old: str, new: str) -> bool:
        """`new` in place of `old`, which then opens nothing; False when `old` is not the
        deputy's code now (replaced already)."""
        changed = await tx.execute_count(
            "UPDATE deputies SET code = ? WHERE user_id = ? AND code = ?", (new, user_id, old)
        )
        return changed == 1

    async def upsert(self, tx: Tx, user_id: int, name: str, station_id: int, now: datetime) -> None:
        """A deputy's row, made or updated when an invitation is accepted. A deputy moved to
        another station loses their code (代表码): the ones handed out at the old station
        would move its voters to the new one (/mycode makes a new code)."""
        tx.defer(
            "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET name = excluded.name,"
            " station_id = excluded.station_id,"
            " code = CASE WHEN deputies.station_id = excluded.station_id"
            " THEN deputies.code END",
            (user_id, name, station_id, stamp(now)),
        )


class InvitationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        tx: Tx,
        code: str,
        deputy_name: str,
        station_id: int,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        tx.defer(
            "INSERT INTO invitations (code, deputy_name, station_id, created_by, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (code, deputy_name, station_id, created_by, stamp(now), stamp(expires_at)),
        )

    async def get_for_update(self, tx: Tx, code: str) -> Invitation | None:
        row = await tx.fetchone("SELECT * FROM invitations WHERE code = ?", (code,))
        return None if row is None else Invitation.model_validate(dict(row))

    async def mark_used(self, tx: Tx, code: str, user_id: int, now: datetime) -> bool:
        changed = await tx.execute_count(
            "UPDATE invitations SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
            (user_id, stamp(now), code),
        )
        return changed == 1
