"""Handling departments (承办单位), their liaisons, and the one-time links that make an account
a department's liaison."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.db import Database, Tx, stamp
from storage.models import Department, DepartmentLiaison, LiaisonInvitation

# a department's load: its active assignments (a department with any cannot be deactivated)
ACTIVE_LOAD = (
    "(SELECT COUNT(*) FROM suggestion_assignments a WHERE a.department_id = d.id"
    " AND a.state = 'active')"
)


class DepartmentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, department_id: int, tx: Tx | None = None) -> Department | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone("SELECT * FROM departments WHERE id = ?", (department_id,))
        return None if row is None else Department.model_validate(dict(row))

    async def get_many(
        self, department_ids: Sequence[int], tx: Tx | None = None
    ) -> dict[int, Department]:
        if not department_ids:
            return {}
        source = tx if tx is not None else self.db
        ids = sorted(set(department_ids))
        rows = await source.fetchall(
            f"SELECT * FROM departments WHERE id IN ({','.join('?' * len(ids))})", ids
        )
        return {int(r["id"]): Department.model_validate(dict(r)) for r in rows}

    async def names(self, tx: Tx | None = None) -> list[Department]:
        """Every department, active or not: the names a new one must not repeat."""
        source = tx if tx is not None else self.db
        rows = await source.fetchall("SELECT * FROM departments ORDER BY id")
        return [Department.model_validate(dict(r)) for r in rows]

    async def count(self, *, active_only: bool, excluding: Sequence[int] = ()) -> int:
        where, params = _filter(active_only, excluding)
        value = await self.db.scalar(f"SELECT COUNT(*) FROM departments d {where}", params)
        return int(value or 0)

    async def page(
        self, offset: int, limit: int, *, active_only: bool, excluding: Sequence[int] = ()
    ) -> list[Department]:
        """Active departments first, then by name (the order every list shows)."""
        where, params = _filter(active_only, excluding)
        rows = await self.db.fetchall(
            f"SELECT * FROM departments d {where} ORDER BY d.active DESC, d.name, d.id"
            " LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [Department.model_validate(dict(r)) for r in rows]

    async def loads(self, department_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(liaisons, active assignments) of each department."""
        if not department_ids:
            return {}
        ids = sorted(set(department_ids))
        rows = await self.db.fetchall(
            "SELECT d.id, (SELECT COUNT(*) FROM department_liaisons l JOIN users u"
            " ON u.telegram_id = l.user_id AND u.role = 'liaison'"
            f" WHERE l.department_id = d.id), {ACTIVE_LOAD} FROM departments d"
            f" WHERE d.id IN ({','.join('?' * len(ids))})",
            ids,
        )
        return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}

    async def active_assignments(self, tx: Tx, department_id: int) -> int:
        value = await tx.fetchone(
            "SELECT COUNT(*) FROM suggestion_assignments WHERE department_id = ?"
            " AND state = 'active'",
            (department_id,),
        )
        return 0 if value is None else int(value[0])

    async def insert(self, tx: Tx, name: str, now: datetime) -> int:
        return await tx.execute(
            "INSERT INTO departments (name, created_at) VALUES (?, ?)", (name, stamp(now))
        )

    async def rename(self, tx: Tx, department_id: int, name: str) -> None:
        tx.defer("UPDATE departments SET name = ? WHERE id = ?", (name, department_id))

    async def set_active(self, tx: Tx, department_id: int, active: bool) -> None:
        tx.defer("UPDATE departments SET active = ? WHERE id = ?", (int(active), department_id))

    async def liaisons(self, department_id: int) -> list[DepartmentLiaison]:
        """The department's liaisons whose account is still a liaison's, by name."""
        rows = await self.db.fetchall(
            "SELECT l.* FROM department_liaisons l JOIN users u ON u.telegram_id = l.user_id"
            " AND u.role = 'liaison' WHERE l.department_id = ? ORDER BY l.name, l.user_id",
            (department_id,),
        )
        return [DepartmentLiaison.model_validate(dict(r)) for r in rows]

    async def without_liaison(
        self, department_ids: Sequence[int], tx: Tx | None = None
    ) -> list[int]:
        """Those of `department_ids` with no consented liaison: staff record their answers."""
        if not department_ids:
            return []
        source = tx if tx is not None else self.db
        ids = sorted(set(department_ids))
        rows = await source.fetchall(
            f"SELECT d.id FROM departments d WHERE d.id IN ({','.join('?' * len(ids))})"
            " AND NOT EXISTS (SELECT 1 FROM department_liaisons l JOIN users u"
            " ON u.telegram_id = l.user_id AND u.role = 'liaison' AND u.consent_at IS NOT NULL"
            " WHERE l.department_id = d.id) ORDER BY d.id",
            ids,
        )
        return [int(r[0]) for r in rows]

    async def liaison_of(self, user_id: int, tx: Tx | None = None) -> DepartmentLiaison | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM department_liaisons WHERE user_id = ?", (user_id,)
        )
        return None if row is None else DepartmentLiaison.model_validate(dict(row))

    async def unbind_liaison(self, tx: Tx, user_id: int, department_id: int) -> bool:
        """The account is no longer the department's liaison; False if it was not."""
        removed = await tx.execute_count(
            "DELETE FROM department_liaisons WHERE user_id = ? AND department_id = ?",
            (user_id, department_id),
        )
        return removed > 0

    async def bind_liaison(
        self, tx: Tx, user_id: int, department_id: int, name: str, now: datetime
    ) -> None:
        """The account becomes the department's liaison (a liaison invited by another
        department moves there)."""
        tx.defer(
            "INSERT INTO department_liaisons (user_id, department_id, name, joined_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
            " department_id = excluded.department_id, name = excluded.name,"
            " joined_at = excluded.joined_at",
            (user_id, department_id, name, stamp(now)),
        )


def _filter(active_only: bool, excluding: Sequence[int]) -> tuple[str, tuple[int, ...]]:
    clauses = ["d.active = 1"] if active_only else []
    if excluding:
        clauses.append(f"d.id NOT IN ({','.join('?' * len(excluding))})")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return where, tuple(excluding)


class LiaisonInvitationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        tx: Tx,
        *,
        code: str,
        name: str,
        department_id: int,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        tx.defer(
            "INSERT INTO liaison_invitations (code, name, department_id, created_by,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (code, name, department_id, created_by, stamp(now), stamp(expires_at)),
        )

    async def get_for_update(self, tx: Tx, code: str) -> LiaisonInvitation | None:
        row = await tx.fetchone("SELECT * FROM liaison_invitations WHERE code = ?", (code,))
        return None if row is None else LiaisonInvitation.model_validate(dict(row))

    async def mark_used(self, tx: Tx, code: str, user_id: int, now: datetime) -> bool:
        changed = await tx.execute_count(
            "UPDATE liaison_invitations SET used_by = ?, used_at = ?"
            " WHERE code = ? AND used_by IS NULL",
            (user_id, stamp(now), code),
        )
        return changed == 1
