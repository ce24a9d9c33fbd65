"""The reception desk's entries (desk_entries: the visitor's name, phone, spoken consent and
the claim code of an opinion staff entered for them) and the bot's @username the desk last
made a link with (the posters' links).

For the privacy work: `visitor_data_of_author` lists and `erase_visitor_data_of_author`
erases the visitor data of the entries a person claimed (/mydata, /forget);
`erase_visitor_data_closed_before` erases it for opinions closed or declined before a time
(retention)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from storage.db import Database, Tx, stamp
from storage.repos.privacy import RETAINED_STATUSES


class DeskEntry(BaseModel):
    """One desk_entries row: an opinion entered at the desk for a visitor."""

    model_config = ConfigDict(frozen=True)

    opinion_id: int
    staff_id: int
    visitor_name: str = ""
    visitor_phone: str = ""
    consent_noted_at: datetime
    claim_code: str
    claim_expires_at: datetime
    claimed_by: int | None = None
    claimed_at: datetime | None = None
    erased_at: datetime | None = None


class DeskRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        tx: Tx,
        *,
        opinion_id: int,
        staff_id: int,
        visitor_name: str,
        visitor_phone: str,
        consent_noted_at: datetime,
        claim_code: str,
        claim_expires_at: datetime,
    ) -> None:
        tx.defer(
            "INSERT INTO desk_entries (opinion_id, staff_id, visitor_name, visitor_phone,"
            " consent_noted_at, claim_code, claim_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                opinion_id,
                staff_id,
                visitor_name,
                visitor_phone,
                stamp(consent_noted_at),
                claim_code,
                stamp(claim_expires_at),
            ),
        )

    async def get(self, opinion_id: int, tx: Tx | None = None) -> DeskEntry | None:
        """The desk entry of an opinion; None for an opinion a voter sent themselves."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT * FROM desk_entries WHERE opinion_id = ?", (opinion_id,)
        )
        return None if row is None else DeskEntry.model_validate(dict(row))

    async def by_code(self, tx: Tx, claim_code: str) -> DeskEntry | None:
        row = await tx.fetchone("SELECT * FROM desk_entries WHERE claim_code = ?", (claim_code,))
        return None if row is None else DeskEntry.model_validate(dict(row))

    async def by_token(self, draft_token: str, tx: Tx | None = None) -> DeskEntry | None:
        """The entry made from the desk draft named `draft_token` (its opinion keeps the
        token), if any: a repeated Send."""
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT e.* FROM desk_entries e JOIN opinions o ON o.id = e.opinion_id"
            " WHERE o.draft_token = ?",
            (draft_token,),
        )
        return None if row is None else DeskEntry.model_validate(dict(row))

    async def mark_claimed(self, tx: Tx, opinion_id: int, user_id: int, now: datetime) -> bool:
        """The code is used by `user_id`, once: False when it was used already."""
        changed = await tx.execute_count(
            "UPDATE desk_entries SET claimed_by = ?, claimed_at = ?"
            " WHERE opinion_id = ? AND claimed_at IS NULL",
            (user_id, stamp(now), opinion_id),
        )
        return changed == 1

    # --- for the privacy work -----------------------------------------------------------

    async def visitor_data_of_author(self, author_id: int, tx: Tx | None = None) -> list[DeskEntry]:
        """The desk entries of the opinions `author_id` claimed, oldest first."""
        source = tx if tx is not None else self.db
        rows = await source.fetchall(
            "SELECT * FROM desk_entries WHERE claimed_by = ? ORDER BY opinion_id", (author_id,)
        )
        return [DeskEntry.model_validate(dict(r)) for r in rows]

    async def erase_visitor_data_of_author(self, tx: Tx, author_id: int, now: datetime) -> int:
        """Erase the name and phone of the entries `author_id` claimed, and the link to them
        (the code stays used); returns how many entries were erased."""
        return await tx.execute_count(
            "UPDATE desk_entries SET visitor_name = '', visitor_phone = '', claimed_by = NULL,"
            " erased_at = ? WHERE claimed_by = ?",
            (stamp(now), author_id),
        )

    async def erase_visitor_data_closed_before(
        self, tx: Tx, before: datetime, now: datetime, limit: int
    ) -> int:
        """Erase the name and phone (and the claiming account) of up to `limit` entries whose
        opinion was closed or declined before `before` (its last change), not erased yet;
        returns how many were erased: call again until it is less than `limit`."""
        return await tx.execute_count(
            "UPDATE desk_entries SET visitor_name = '', visitor_phone = '', claimed_by = NULL,"
            " erased_at = ? WHERE opinion_id IN (SELECT e.opinion_id FROM desk_entries e"
            " JOIN opinions o ON o.id = e.opinion_id WHERE e.erased_at IS NULL"
            f" AND o.status IN {RETAINED_STATUSES} AND o.updated_at < ? LIMIT ?)",
            (stamp(now), stamp(before), limit),
        )

    # --- the bot's link ---------------------------------------------------------------------

    async def bot_username(self) -> str | None:
        """The @username the desk last made a link with (None: never)."""
        value = await self.db.scalar("SELECT username FROM desk_bot WHERE id = 1")
        return None if value is None else str(value)

    async def remember_bot_username(self, tx: Tx, username: str, now: datetime) -> None:
        tx.defer(
            "INSERT INTO desk_bot (id, username, seen_at) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET username = excluded.username,"
            " seen_at = excluded.seen_at",
            (username, stamp(now)),
        )
