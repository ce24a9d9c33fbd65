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

    async def refresh_seen(
        self, tx: Tx, telegram_id: int, full_name: str, username: str | None
    ) -> None:
        """A consented person wrote again: keep their name current and mark them reachable.
        Never touches a row without consent, so nothing personal is stored before it."""
        tx.defer(
            "UPDATE users SET full_name = ?, username = ?, active = 1"
            " WHERE telegram_id = ? AND consent_at IS NOT NULL",
            (full_name, username, telegram_id),
        )

    async def ensure(self, tx: Tx, telegram_id: int, locale: str, now: datetime) -> None:
        tx.defer(
            "INSERT INTO users (telegram_id, locale, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (telegram_id) DO NOTHING",
            (telegram_id, locale, stamp(now)),
        )

    async def staff_ids(self, tx: Tx) -> list[int]:
        """Every consented staff member and admin: who hears of a step staff must take."""
        rows = await tx.fetchall(
            "SELECT telegram_id FROM users WHERE role IN ('staff', 'admin')"
            " AND consent_at IS NOT NULL ORDER BY telegram_id"
        )
        return [int(r[0]) for r in rows]

    async def role_in(self, tx: Tx, telegram_id: int) -> Role:
        row = await tx.fetchone("SELECT role FROM users WHERE telegram_id = ?", (telegram_id,))
        return Role(row[0]) if row else Role.VOTER

    async def set_consent(
        self,
        tx: Tx,
        telegram_id: int,
        at: datetime,
        version: int,
        full_name: str,
        username: str | None,
        locale: str,
    ) -> None:
        """Record consent to notice `version` with the name, username and locale it allows us
        to keep; a language picked with /language, or kept from an earlier consent, wins over
        `locale`. Creates the row if a sweep removed it. Changes nothing for someone who
        already agreed to this version or a later one; an older consent (NULL version: 1) is
        replaced, time and version."""
        tx.defer(
            "INSERT INTO users (telegram_id, locale, full_name, username, consent_at,"
            " consent_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (telegram_id) DO UPDATE SET consent_at = excluded.consent_at,"
            " consent_version = excluded.consent_version,"
            " full_name = excluded.full_name, username = excluded.username, active = 1,"
            " locale = CASE WHEN users.locale_chosen OR users.consent_at IS NOT NULL"
            " THEN users.locale ELSE excluded.locale END"
            " WHERE users.consent_at IS NULL"
            " OR coalesce(users.consent_version, 1) < excluded.consent_version",
            (telegram_id, locale, full_name, username, stamp(at), version, stamp(at)),
        )

    async def clear_personal(self, tx: Tx, telegram_id: int, default_locale: str) -> None:
        """Forget everything the users row holds but the id and the first contact (PIPL
        erasure): name, username, station, language choice, consent and its notice, and the
        notices opt-out. The person is a stranger again; the role is left as it is (only a
        voter may be forgotten)."""
        tx.defer(
            "UPDATE users SET full_name = '', username = NULL, station_id = NULL,"
            " locale = ?, locale_chosen = 0, consent_at = NULL, consent_version = NULL,"
            " notice_shown_at = NULL, notices = 1, forget_token = NULL, met_deputy_id = NULL"
            " WHERE telegram_id = ?",
            (default_locale, telegram_id),
        )

    async def set_notice_shown(self, tx: Tx, telegram_id: int, at: datetime) -> None:
        """The first time the privacy notice was shown; later showings change nothing."""
        tx.defer(
            "UPDATE users SET notice_shown_at = ?"
            " WHERE telegram_id = ? AND notice_shown_at IS NULL",
            (stamp(at), telegram_id),
        )

    async def delete_unconsented(self, tx: Tx, created_before: datetime, limit: int) -> int:
        """Delete up to `limit` voters who never consented and were created before the given
        time, skipping anyone a foreign key refers to; returns how many went. The referring
        columns are read from the schema, so a table added later is respected too."""
        references = await tx.fetchall(
            'SELECT m.name AS tbl, f."from" AS col FROM sqlite_master m,'
            " pragma_foreign_key_list(m.name) f"
            " WHERE m.type = 'table' AND f.\"table\" = 'users' ORDER BY m.name, f.\"from\""
        )
        unreferenced = "".join(
            f' AND NOT EXISTS (SELECT 1 FROM "{r["tbl"]}" x WHERE x."{r["col"]}" = u.telegram_id)'
            for r in references
        )
        return await tx.execute_count(
            "DELETE FROM users WHERE telegram_id IN (SELECT u.telegram_id FROM users u"
            " WHERE u.consent_at IS NULL AND u.created_at < ? AND u.role = 'voter'"
            f"{unreferenced} LIMIT ?)",
            (stamp(created_before), limit),
        )

    async def set_locale(self, tx: Tx, telegram_id: int, locale: str) -> None:
        """A language the person picked themselves: kept even before consent."""
        tx.defer(
            "UPDATE users SET locale = ?, locale_chosen = 1 WHERE telegram_id = ?",
            (locale, telegram_id),
        )

    async def set_station(self, tx: Tx, telegram_id: int, station_id: int) -> None:
        tx.defer("UPDATE users SET station_id = ? WHERE telegram_id = ?", (station_id, telegram_id))

    async def set_met_deputy(self, tx: Tx, telegram_id: int, deputy_id: int | None) -> None:
        """The deputy whose code (代表码) the person opened last; None forgets it."""
        tx.defer(
            "UPDATE users SET met_deputy_id = ? WHERE telegram_id = ?", (deputy_id, telegram_id)
        )

    async def set_role(self, tx: Tx, telegram_id: int, role: Role) -> None:
        tx.defer("UPDATE users SET role = ? WHERE telegram_id = ?", (role, telegram_id))

    async def set_active(self, tx: Tx, telegram_id: int, active: bool) -> None:
        tx.defer("UPDATE users SET active = ? WHERE telegram_id = ?", (int(active), telegram_id))

    async def set_notices(self, tx: Tx, telegram_id: int, on: bool) -> None:
        tx.defer("UPDATE users SET notices = ? WHERE telegram_id = ?", (int(on), telegram_id))
