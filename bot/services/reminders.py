"""Reminders of duty turns: the evening before (18:00) and one hour before, and after a turn
the prompt to log the visit. The database is the truth: `run_due` sends what is due and
records it, so nothing goes twice and a restart only has to call it again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.calendar import TURN_LABELS
from bot.services.outbox import Intent, NoticeButton, Outbox
from storage import Database, Tx
from storage.models import DutyTurn
from storage.repos.calendar import CalendarRepo
from storage.repos.stations import StationRepo

EVENING, HOUR, LOG_PROMPT = "evening", "hour", "log_prompt"
EVENING_AT = time(18, 0)
LOOK_BACK = timedelta(hours=48)  # missed reminders older than this are not looked for
LOOK_AHEAD = timedelta(hours=48)


@dataclass(frozen=True)
class Due:
    turn: DutyTurn
    deputy_id: int
    kind: str
    at: datetime


class ReminderService:
    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.zone = zone
        self.outbox = outbox
        self.repo = CalendarRepo(db)
        self.stations = StationRepo(db)

    def fire_times(self, turn: DutyTurn) -> dict[str, datetime]:
        local_start = turn.starts_at.astimezone(self.zone)
        evening = datetime.combine(
            local_start.date() - timedelta(days=1), EVENING_AT, tzinfo=self.zone
        )
        return {
            EVENING: evening,
            HOUR: turn.starts_at - timedelta(hours=1),
            LOG_PROMPT: turn.ends_at,
        }

    async def _candidates(self, since: datetime, until: datetime) -> list[Due]:
        turns = await self.repo.turns_between(since - LOOK_AHEAD, until + LOOK_AHEAD)
        return [
            Due(turn, deputy_id, kind, at)
            for turn in turns
            for kind, at in self.fire_times(turn).items()
            for deputy_id in turn.deputy_ids
        ]

    async def upcoming(self, until: datetime) -> list[datetime]:
        """Fire times between now and `until`, for the scheduler to wake up at."""
        now = self.clock.now()
        return sorted({d.at for d in await self._candidates(now, until) if now < d.at <= until})

    async def run_due(self) -> int:
        """Send every reminder whose time has come and that was not sent before. A reminder
        for a turn that has already begun is dropped; of two due at once only the later goes."""
        now = self.clock.now()
        candidates = [
            d
            for d in await self._candidates(now - LOOK_BACK, now)
            if now - LOOK_BACK <= d.at <= now
        ]
        done = await self.repo.reminded("turn", {d.turn.id for d in candidates})
        due = [d for d in candidates if (d.turn.id, d.deputy_id, d.kind) not in done]
        sent = 0
        hour_due = {(d.turn.id, d.deputy_id) for d in due if d.kind == HOUR}
        for item in due:
            begun = now >= item.turn.starts_at
            # "tomorrow at …" is wrong once the turn's own day has come
            superseded = item.kind == EVENING and (
                (item.turn.id, item.deputy_id) in hour_due
                or now.astimezone(self.zone).date()
                >= item.turn.starts_at.astimezone(self.zone).date()
            )
            send = item.kind == LOG_PROMPT or not (begun or superseded)
            async with self.db.transaction() as tx:
                fresh = await self.repo.mark_reminded(
                    tx,
                    "turn",
                    item.turn.id,
                    item.deputy_id,
                    item.kind,
                    "sent" if send else "dropped",
                    now,
                )
                if fresh and send:
                    await self._notify(tx, item)
                    sent += 1
        return sent

    async def _notify(self, tx: Tx, item: Due) -> None:
        station = await self.stations.get(item.turn.station_id) if item.turn.station_id else None
        params = {
            "kind_key": TURN_LABELS[item.turn.kind],
            "starts_at": item.turn.starts_at.isoformat(),
            "station": station.name if station else "—",
            "address": (station.address or station.name) if station else "—",
        }
        if item.kind == LOG_PROMPT:
            await self.outbox.notify(
                tx,
                item.deputy_id,
                "reminder.log_prompt",
                buttons=[
                    [
                        NoticeButton(
                            label="reminder.log_button",
                            intent=Intent.LOG_VISIT,
                            target=item.turn.id,
                        )
                    ]
                ],
                params=params,
            )
        else:
            await self.outbox.notify(
                tx,
                item.deputy_id,
                f"reminder.{item.kind}",
                params=params,
            )
