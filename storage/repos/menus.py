"""Each person's own command menu: what it was last set to (`users.menu`), and the menu rows
queued at start for everyone whose stored menu is not what it should be."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, stamp
from storage.models import Role

# Queued behind personal notices (priority 0): a release that changes a list may make many
# menus stale at once, and none of them is as urgent as a notice.
STALE_PRIORITY = 1


@dataclass(frozen=True)
class ExpectedMenu:
    """The menu a consented person of this effective role, stored locale and language choice
    should have (its fingerprint; None: no own menu)."""

    role: Role
    locale: str
    locale_chosen: bool
    menu: str | None


class MenuRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, telegram_id: int, menu: str | None) -> None:
        """The person's own menu was just set to `menu` (None: removed)."""
        async with self.db.transaction() as tx:
            tx.defer("UPDATE users SET menu = ? WHERE telegram_id = ?", (menu, telegram_id))

    async def queue_stale(
        self,
        expected: Sequence[ExpectedMenu],
        admin_ids: Sequence[int],
        notice_version: int,
        now: datetime,
    ) -> int:
        """Queue a menu row for every reachable person whose stored menu differs from the
        expected one of their kind, in one statement (never one query per person). A person
        of no kind listed (no current consent) should have none. The effective role follows
        `admin_ids` as UserService.get does; a consent counts only for `notice_version` or later.
        A chat with a menu row queued already keeps that one. Returns how many were queued."""
        if not expected:
            return 0
        values = ", ".join("(?, ?, ?, ?)" for _ in expected)
        params: list[object] = []
        for kind in expected:
            params += [kind.role.value, kind.locale, int(kind.locale_chosen), kind.menu]
        admins = ", ".join("?" for _ in admin_ids) or "NULL"
        async with self.db.transaction() as tx:
            return await tx.execute_count(
                # the WITH after INSERT: a statement that starts with WITH has no row count
                "INSERT OR IGNORE INTO outbox"
                " (chat_id, priority, message_key, not_before, created_at, sets_menu)"
                f" WITH expected (role, locale, chosen, menu) AS (VALUES {values})"
                " SELECT u.telegram_id, ?, 'menu', ?, ?, 1 FROM users u"
                " LEFT JOIN expected e"
                # the effective role: bot.services.users.UserService._effective is the rule
                # (admins from settings, both ways), repeated here to stay one statement
                f" ON e.role = CASE WHEN u.telegram_id IN ({admins}) THEN 'admin'"
                " WHEN u.role = 'admin' THEN 'voter' ELSE u.role END"
                " AND e.locale = u.locale AND e.chosen = u.locale_chosen"
                " AND u.consent_at IS NOT NULL AND COALESCE(u.consent_version, 1) >= ?"
                " WHERE u.active = 1 AND u.menu IS NOT e.menu",
                [
                    *params,
                    STALE_PRIORITY,
                    stamp(now),
                    stamp(now),
                    *admin_ids,
                    notice_version,
                ],
            )
