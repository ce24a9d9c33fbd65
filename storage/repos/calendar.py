"""The duty calendar: monthly reception rules, dated turns and their deputies, and the
record of reminders already sent."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import date, datetime

from storage.db import Database, Tx, stamp
from storage.models import DutyRule, DutyTurn, TurnKind

TURN_SELECT = (
    "SELECT t.*, (SELECT group_concat(deputy_id) FROM duty_turn_deputies d"
    " WHERE d.turn_id = t.id) AS deputy_list FROM duty_turns t"
)


def _turn(row: sqlite3.Row) -> DutyTurn:
    data = dict(row)
    raw = data.pop("deputy_list")
    data["deputy_ids"] = sorted(int(x) for x in raw.split(",")) if raw else []
    data.pop("created_at", None)
    return DutyTurn.model_validate(data)


class CalendarRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- rules -----------------------------------------------------------------------------

    async def add_rule(
        self,
        tx: Tx,
        *,
        station_id: int,
        week_of_month: int,
        weekday: int,
        starts: str,
        ends: str,
        valid_from: date,
        deputy_ids: Sequence[int],
        created_by: int | None,
        now: datetime,
    ) -> int:
        rule_id = await tx.execute(
            "INSERT INTO duty_rules (station_id, week_of_month, weekday, starts, ends,"
            " valid_from, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                station_id,
                week_of_month,
                weekday,
                starts,
                ends,
                valid_from.isoformat(),
                created_by,
                stamp(now),
            ),
        )
        await tx.executemany(
            "INSERT INTO duty_rule_deputies (rule_id, deputy_id) VALUES (?, ?)",
            [(rule_id, d) for d in deputy_ids],
        )
        return rule_id

    async def get_rule(self, rule_id: int, tx: Tx | None = None) -> DutyRule | None:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT r.*, (SELECT group_concat(deputy_id) FROM duty_rule_deputies d"
            " WHERE d.rule_id = r.id) AS deputy_list FROM duty_rules r WHERE r.id = ?",
            (rule_id,),
        )
        if row is None:
            return None
        data = dict(row)
        raw = data.pop("deputy_list")
        data["deputy_ids"] = sorted(int(x) for x in raw.split(",")) if raw else []
        return DutyRule.model_validate(data)

    async def rules(self) -> list[DutyRule]:
        rows = await self.db.fetchall("SELECT id FROM duty_rules ORDER BY id")
        rules = [await self.get_rule(r["id"]) for r in rows]
        return [r for r in rules if r is not None]

    async def update_rule(
        self,
        tx: Tx,
        rule_id: int,
        *,
        week_of_month: int,
        weekday: int,
        starts: str,
        ends: str,
        deputy_ids: Sequence[int],
    ) -> None:
        tx.defer(
            "UPDATE duty_rules SET week_of_month = ?, weekday = ?, starts = ?, ends = ?"
            " WHERE id = ?",
            (week_of_month, weekday, starts, ends, rule_id),
        )
        tx.defer("DELETE FROM duty_rule_deputies WHERE rule_id = ?", (rule_id,))
        await tx.executemany(
            "INSERT INTO duty_rule_deputies (rule_id, deputy_id) VALUES (?, ?)",
            [(rule_id, d) for d in deputy_ids],
        )

    async def end_rule(self, tx: Tx, rule_id: int, until: date) -> None:
        tx.defer("UPDATE duty_rules SET valid_until = ? WHERE id = ?", (until.isoformat(), rule_id))

    async def delete_rule_turns_from(self, tx: Tx, rule_id: int, moment: datetime) -> int:
        """Drop a rule's turns that have not begun; the past stays as it was. SQLite may
        give a dropped turn's id to a new one, so its reminder records go with it."""
        tx.defer(
            "DELETE FROM reminders_sent WHERE subject = 'turn' AND subject_id IN"
            " (SELECT id FROM duty_turns WHERE rule_id = ? AND starts_at > ?)",
            (rule_id, stamp(moment)),
        )
        return await tx.execute_count(
            "DELETE FROM duty_turns WHERE rule_id = ? AND starts_at > ?",
            (rule_id, stamp(moment)),
        )

    # --- turns -----------------------------------------------------------------------------

    async def add_turn(
        self,
        tx: Tx,
        *,
        kind: TurnKind,
        station_id: int | None,
        starts_at: datetime,
        ends_at: datetime,
        deputy_ids: Sequence[int],
        uid: str,
        now: datetime,
        rule_id: int | None = None,
        note: str = "",
    ) -> int | None:
        """Insert a turn; None when the rule already has a turn at that moment."""
        row = await tx.fetchone(
            "INSERT INTO duty_turns (kind, station_id, rule_id, starts_at, ends_at, uid, note,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (
                kind,
                station_id,
                rule_id,
                stamp(starts_at),
                stamp(ends_at),
                uid,
                note,
                stamp(now),
            ),
        )
        if row is None:
            return None
        turn_id = int(row[0])
        await tx.executemany(
            "INSERT INTO duty_turn_deputies (turn_id, deputy_id) VALUES (?, ?)",
            [(turn_id, d) for d in deputy_ids],
        )
        return turn_id

    async def turns_of_rule(self, rule_id: int) -> list[DutyTurn]:
        rows = await self.db.fetchall(
            f"{TURN_SELECT} WHERE t.rule_id = ? ORDER BY t.starts_at", (rule_id,)
        )
        return [_turn(r) for r in rows]

    async def get_turn(self, turn_id: int) -> DutyTurn | None:
        row = await self.db.fetchone(f"{TURN_SELECT} WHERE t.id = ?", (turn_id,))
        return None if row is None else _turn(row)

    async def turns_of_deputy(
        self, deputy_id: int, since: datetime, until: datetime | None = None, limit: int = 1000
    ) -> list[DutyTurn]:
        rows = await self.db.fetchall(
            f"{TURN_SELECT} WHERE t.id IN (SELECT turn_id FROM duty_turn_deputies"
            " WHERE deputy_id = ?) AND t.ends_at > ? AND (? IS NULL OR t.starts_at < ?)"
            " ORDER BY t.starts_at LIMIT ?",
            (
                deputy_id,
                stamp(since),
                until and stamp(until),
                until and stamp(until),
                limit,
            ),
        )
        return [_turn(r) for r in rows]

    async def receptions_at(self, station_id: int, since: datetime, limit: int) -> list[DutyTurn]:
        rows = await self.db.fetchall(
            f"{TURN_SELECT} WHERE t.station_id = ? AND t.kind = 'reception' AND t.ends_at > ?"
            " ORDER BY t.starts_at LIMIT ?",
            (station_id, stamp(since), limit),
        )
        return [_turn(r) for r in rows]

    async def turns_between(self, since: datetime, until: datetime) -> list[DutyTurn]:
        """Turns starting or ending within [since, until), for reminders and prompts."""
        rows = await self.db.fetchall(
            f"{TURN_SELECT} WHERE (t.starts_at >= ? AND t.starts_at < ?)"
            " OR (t.ends_at >= ? AND t.ends_at < ?) ORDER BY t.starts_at",
            (stamp(since), stamp(until), stamp(since), stamp(until)),
        )
        return [_turn(r) for r in rows]

    # --- reminders -------------------------------------------------------------------------

    async def mark_reminded(
        self,
        tx: Tx,
        subject: str,
        subject_id: int,
        recipient_id: int,
        kind: str,
        outcome: str,
        now: datetime,
    ) -> bool:
        """Record a reminder; False when it was already recorded (so it is never sent twice)."""
        row = await tx.fetchone(
            "INSERT INTO reminders_sent (subject, subject_id, recipient_id, kind, outcome, at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
            (subject, subject_id, recipient_id, kind, outcome, stamp(now)),
        )
        return row is not None

    async def reminded(
        self, subject: str, subject_ids: Collection[int]
    ) -> set[tuple[int, int, str]]:
        """Which (subject id, recipient, kind) of these subjects were already handled."""
        if not subject_ids:
            return set()
        ids = list(subject_ids)
        rows = await self.db.fetchall(
            "SELECT subject_id, recipient_id, kind FROM reminders_sent WHERE subject = ?"
            f" AND subject_id IN ({','.join('?' * len(ids))})",
            (subject, *ids),
        )
        return {(r[0], r[1], r[2]) for r in rows}

    async def same_open_rule(
        self, tx: Tx, station_id: int, week_of_month: int, weekday: int, starts: str, ends: str
    ) -> int | None:
        row = await tx.fetchone(
            "SELECT id FROM duty_rules WHERE station_id = ? AND week_of_month = ? AND weekday = ?"
            " AND starts = ? AND ends = ? AND valid_until IS NULL",
            (station_id, week_of_month, weekday, starts, ends),
        )
        return None if row is None else int(row[0])

    async def same_turn(
        self, tx: Tx, kind: TurnKind, station_id: int | None, starts_at: datetime
    ) -> int | None:
        row = await tx.fetchone(
            "SELECT id FROM duty_turns WHERE kind = ? AND station_id IS ? AND starts_at = ?",
            (kind, station_id, stamp(starts_at)),
        )
        return None if row is None else int(row[0])
