"""The duty calendar (月进站、季回家、年述职): monthly reception rules that produce dated
turns, one-off turns, home visits and annual accounts; what deputies and voters see of it;
and the .ics a phone's calendar imports."""

from __future__ import annotations

import calendar as month_calendar
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import icalendar
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    Field,
    StringConstraints,
    model_validator,
)

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError, present
from bot.i18n import N_
from bot.services.conversations import Conversation, DraftStore
from bot.services.typed_dates import YearDirection, parse_date, parse_time_range
from storage import Database, Tx
from storage.models import Deputy, DutyRule, DutyTurn, Station, TurnKind, User
from storage.repos.calendar import CalendarRepo
from storage.repos.deputies import DeputyRepo
from storage.repos.stations import StationRepo

HORIZON_DAYS = 400  # rules produce turns this far ahead; a daily sweep extends it
WEEKS_OF_MONTH = (1, 2, 3, 4, -1)  # -1: the last
TURN_LABELS = {
    TurnKind.RECEPTION: N_("turn.reception"),
    TurnKind.HOME_VISIT: N_("turn.home_visit"),
    TurnKind.ANNUAL_ACCOUNT: N_("turn.annual_account"),
}
# the refusal of a draft an older version (or a damaged row) left in a shape no longer read


def _week_of_month(value: int) -> int:
    if value not in WEEKS_OF_MONTH:
        raise ValueError(f"weeks of the month are {WEEKS_OF_MONTH}")
    return value


WeekNumber = Annotated[int, AfterValidator(_week_of_month)]  # 1..4, or -1: the last
Weekday = Annotated[int, Field(ge=0, le=6)]  # Monday = 0
HourMinute = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


def nth_weekday(year: int, month: int, week_of_month: int, weekday: int) -> date | None:
    """The nth (1..5, or -1 for last) `weekday` (Monday = 0) of a month; None if absent."""
    days = [
        d
        for d in month_calendar.Calendar().itermonthdates(year, month)
        if d.month == month and d.weekday() == weekday
    ]
    if week_of_month == -1:
        return days[-1]
    return days[week_of_month - 1] if week_of_month <= len(days) else None


@dataclass(frozen=True)
class TurnView:
    """A turn with what people are shown about it."""

    turn: DutyTurn
    station: Station | None
    deputies: list[Deputy]


class DutyStep(StrEnum):
    """The steps of /duty (the values are stored: conversations in progress resume)."""

    MENU = "menu"  # what to set up, or the rules
    STATION = "station"
    WEEK = "week"  # a rule's week of the month
    WEEKDAY = "weekday"
    DATE = "date"  # a one-off turn's day, typed
    TIME = "time"  # the hours, typed
    DEPUTIES = "deputies"
    CONFIRM = "confirm"  # the summary, with Save
    RULES = "rules"  # the open rules, to change or end


class DutyTask(StrEnum):
    """What a /duty draft sets up."""

    RULE = "rule"  # a new monthly reception rule
    CHANGE = "change"  # an open rule's week, weekday, hours and deputies
    RECEPTION = "reception"  # one-off turns, of their kind
    HOME_VISIT = "home_visit"
    ANNUAL_ACCOUNT = "annual_account"


ONE_OFF_TURNS = {
    DutyTask.RECEPTION: TurnKind.RECEPTION,
    DutyTask.HOME_VISIT: TurnKind.HOME_VISIT,
    DutyTask.ANNUAL_ACCOUNT: TurnKind.ANNUAL_ACCOUNT,
}


class DutyDraft(BaseModel):
    """A rule, a rule's change or a one-off turn being set up in /duty. Older versions
    stored "mode", "date", "deputies" and the hours as one "time" ("09:00-11:00"); those
    drafts are read too, so a conversation in progress survives an upgrade."""

    task: DutyTask | None = Field(default=None, validation_alias=AliasChoices("task", "mode"))
    rule_id: int | None = None  # the rule being changed
    station_id: int | None = None
    week: WeekNumber | None = None
    weekday: Weekday | None = None
    day: date | None = Field(default=None, validation_alias=AliasChoices("day", "date"))
    starts: HourMinute | None = None
    ends: HourMinute | None = None
    deputy_ids: list[int] = Field(
        default_factory=list, validation_alias=AliasChoices("deputy_ids", "deputies")
    )

    @model_validator(mode="before")
    @classmethod
    def _hours_in_one(cls, data: Any) -> Any:
        """An older draft's "time" ("09:00-11:00") as its start and end."""
        if isinstance(data, dict) and isinstance(data.get("time"), str):
            starts, _, ends = data["time"].partition("-")
            data = {**data, "starts": starts, "ends": ends}
        return data

    @property
    def is_rule(self) -> bool:
        return self.task in (DutyTask.RULE, DutyTask.CHANGE)

    def time_range(self) -> str:
        return f"{filled(self.starts)}-{filled(self.ends)}"


DUTY = Conversation(
    "duty",
    steps=DutyStep,
    draft=DutyDraft,
    opened_by=("duty",),
    needs=Action.MANAGE_CALENDAR,
)

T = TypeVar("T")


def filled(value: T | None) -> T:
    """A part of the draft an earlier step set; missing, the button tapped belongs to a step
    the conversation has not reached (or has left)."""
    if value is None:
        raise DomainError("error.stale_button")
    return value


class CalendarService:
    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.zone = zone
        self.repo = CalendarRepo(db)
        self.stations = StationRepo(db)
        self.deputies = DeputyRepo(db)
        self.steps = DraftStore(db, DUTY)

    # --- the staff's draft while they set up a rule or a turn in chat -----------------------

    async def draft(self, actor: User) -> DutyDraft:
        """The actor's draft (a fresh one if none is kept)."""
        ensure(actor, Action.MANAGE_CALENDAR)
        return await self.steps.load(actor.telegram_id) or DutyDraft()

    async def save_draft(
        self, actor: User, chat_id: int, draft: DutyDraft | None, step: DutyStep | None
    ) -> None:
        """The draft and its conversation step together; `step` None discards both."""
        ensure(actor, Action.MANAGE_CALENDAR)
        await self.steps.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    def turn_day(self, raw: str | None) -> date:
        """A one-off turn's day as typed (without a year, its next occurrence); not past."""
        day = parse_date(
            raw, today=self.today(), direction=YearDirection.NEXT, refusal="duty.bad_date"
        )
        if day < self.today():
            raise DomainError("duty.in_the_past")
        return day

    async def complete(self, actor: User, chat_id: int, draft: DutyDraft) -> DutyRule | DutyTurn:
        """Save what the draft sets up (a new rule, a rule's change or a one-off turn) and
        end the conversation. A draft missing a part means a stale Save button."""
        task, station_id = filled(draft.task), filled(draft.station_id)
        time_range = draft.time_range()
        if not draft.deputy_ids:
            raise DomainError("error.stale_button")
        saved: DutyRule | DutyTurn
        if task is DutyTask.RULE:
            saved = await self.add_rule(
                actor,
                station_id=station_id,
                week_of_month=filled(draft.week),
                weekday=filled(draft.weekday),
                time_range=time_range,
                deputy_ids=draft.deputy_ids,
            )
        elif task is DutyTask.CHANGE:
            saved = await self.change_rule(
                actor,
                filled(draft.rule_id),
                week_of_month=filled(draft.week),
                weekday=filled(draft.weekday),
                time_range=time_range,
                deputy_ids=draft.deputy_ids,
            )
        else:
            saved = await self.add_turn(
                actor,
                kind=ONE_OFF_TURNS[task],
                station_id=station_id,
                day=filled(draft.day),
                time_range=time_range,
                deputy_ids=draft.deputy_ids,
            )
        await self.save_draft(actor, chat_id, None, None)
        return saved

    def at(self, day: date, hhmm: str) -> datetime:
        hours, minutes = (int(p) for p in hhmm.split(":"))
        return datetime.combine(day, time(hours, minutes), tzinfo=self.zone).astimezone(UTC)

    @staticmethod
    def new_uid() -> str:
        """A one-off turn's iCalendar UID; a rule's turns use rule and date instead."""
        return f"turn-{uuid.uuid4()}@jiazhan"

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    async def _check(self, station_id: int | None, deputy_ids: Sequence[int]) -> None:
        if station_id is not None and await self.stations.get(station_id) is None:
            raise DomainError("station.unknown")
        if not deputy_ids:
            raise DomainError("duty.no_deputies")
        for deputy_id in deputy_ids:
            if await self.deputies.get(deputy_id) is None:
                raise DomainError("duty.unknown_deputy")

    # --- rules -----------------------------------------------------------------------------

    async def add_rule(
        self,
        actor: User | None,
        *,
        station_id: int,
        week_of_month: int,
        weekday: int,
        time_range: str,
        deputy_ids: Sequence[int],
        valid_from: date | None = None,
    ) -> DutyRule:
        """A monthly reception rule; its turns for the coming months are produced at once."""
        if actor is not None:
            ensure(actor, Action.MANAGE_CALENDAR)
        if week_of_month not in WEEKS_OF_MONTH or not 0 <= weekday <= 6:
            raise DomainError("duty.bad_rule")
        starts, ends = parse_time_range(time_range)
        await self._check(station_id, deputy_ids)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            rule_id = await self.repo.add_rule(
                tx,
                station_id=station_id,
                week_of_month=week_of_month,
                weekday=weekday,
                starts=starts,
                ends=ends,
                valid_from=valid_from or self.today(),
                deputy_ids=deputy_ids,
                created_by=actor.telegram_id if actor else None,
                now=now,
            )
            rule = await self.repo.get_rule(rule_id, tx)
            rule = present(rule, "rule")
            await self.produce(tx, rule, now)
        return rule

    async def change_rule(
        self,
        actor: User,
        rule_id: int,
        *,
        week_of_month: int,
        weekday: int,
        time_range: str,
        deputy_ids: Sequence[int],
    ) -> DutyRule:
        """Change a rule from now on; the turns it already produced in the past stay."""
        ensure(actor, Action.MANAGE_CALENDAR)
        if week_of_month not in WEEKS_OF_MONTH or not 0 <= weekday <= 6:
            raise DomainError("duty.bad_rule")
        starts, ends = parse_time_range(time_range)
        rule = await self._open_rule(rule_id)
        await self._check(rule.station_id, deputy_ids)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self.repo.update_rule(
                tx,
                rule_id,
                week_of_month=week_of_month,
                weekday=weekday,
                starts=starts,
                ends=ends,
                deputy_ids=deputy_ids,
            )
            await self.repo.delete_rule_turns_from(tx, rule_id, now)
            changed = await self.repo.get_rule(rule_id, tx)
            changed = present(changed, "changed")
            await self.produce(tx, changed, now)
        return changed

    async def end_rule(self, actor: User, rule_id: int) -> DutyRule:
        """No more turns from this rule after today; past and today's turns stay."""
        ensure(actor, Action.MANAGE_CALENDAR)
        await self._open_rule(rule_id)
        now = self.clock.now()
        today = self.today()
        async with self.db.transaction() as tx:
            await self.repo.end_rule(tx, rule_id, today)
            end_of_today = self.at(today + timedelta(days=1), "00:00")
            await self.repo.delete_rule_turns_from(tx, rule_id, max(now, end_of_today))
            rule = await self.repo.get_rule(rule_id, tx)
        rule = present(rule, "rule")
        return rule

    async def open_rule(self, actor: User, rule_id: int) -> DutyRule:
        """A rule that still runs, for staff to change or end."""
        ensure(actor, Action.MANAGE_CALENDAR)
        return await self._open_rule(rule_id)

    async def turns_of_rule(self, rule_id: int) -> int:
        """How many turns a rule has produced."""
        return len(await self.repo.turns_of_rule(rule_id))

    async def _open_rule(self, rule_id: int) -> DutyRule:
        rule = await self.repo.get_rule(rule_id)
        if rule is None or rule.valid_until is not None:
            raise DomainError("duty.rule_not_open")
        return rule

    async def rules(self, actor: User) -> list[DutyRule]:
        ensure(actor, Action.MANAGE_CALENDAR)
        return [r for r in await self.repo.rules() if r.valid_until is None]

    async def produce(self, tx: Tx, rule: DutyRule, now: datetime) -> int:
        """Insert the rule's turns from now (or its start) up to the horizon; idempotent."""
        first = max(rule.valid_from, now.astimezone(self.zone).date())
        last = first + timedelta(days=HORIZON_DAYS)
        if rule.valid_until is not None:
            last = min(last, rule.valid_until)
        made = 0
        year, month = first.year, first.month
        while date(year, month, 1) <= last:
            day = nth_weekday(year, month, rule.week_of_month, rule.weekday)
            if day is not None and first <= day <= last:
                starts_at = self.at(day, rule.starts)
                if starts_at > now:
                    turn_id = await self.repo.add_turn(
                        tx,
                        kind=TurnKind.RECEPTION,
                        station_id=rule.station_id,
                        starts_at=starts_at,
                        ends_at=self.at(day, rule.ends),
                        deputy_ids=rule.deputy_ids,
                        uid=f"turn-r{rule.id}-{day.isoformat()}@jiazhan",
                        now=now,
                        rule_id=rule.id,
                    )
                    made += turn_id is not None
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return made

    async def extend_horizon(self) -> int:
        """Produce turns of every open rule up to the horizon (a daily sweep)."""
        now = self.clock.now()
        made = 0
        for rule in await self.repo.rules():
            if rule.valid_until is None or rule.valid_until >= now.astimezone(self.zone).date():
                async with self.db.transaction() as tx:
                    made += await self.produce(tx, rule, now)
        return made

    # --- one-off turns ---------------------------------------------------------------------

    async def add_turn(
        self,
        actor: User | None,
        *,
        kind: TurnKind,
        station_id: int | None,
        day: date,
        time_range: str,
        deputy_ids: Sequence[int],
        note: str = "",
    ) -> DutyTurn:
        """A one-off reception turn, a home visit (回家) or an annual account (述职)."""
        if actor is not None:
            ensure(actor, Action.MANAGE_CALENDAR)
        starts, ends = parse_time_range(time_range)
        await self._check(station_id, deputy_ids)
        now = self.clock.now()
        starts_at = self.at(day, starts)
        if starts_at <= now:
            raise DomainError("duty.in_the_past")
        async with self.db.transaction() as tx:
            turn_id = await self.repo.add_turn(
                tx,
                kind=kind,
                station_id=station_id,
                starts_at=starts_at,
                ends_at=self.at(day, ends),
                deputy_ids=deputy_ids,
                uid=self.new_uid(),
                now=now,
                note=note,
            )
        turn_id = present(turn_id, "turn id")
        turn = await self.repo.get_turn(turn_id)
        turn = present(turn, "turn")
        return turn

    # --- what people see -------------------------------------------------------------------

    async def _views(self, turns: list[DutyTurn]) -> list[TurnView]:
        """Turns with their stations and deputies, fetched once for the whole list."""
        stations = {
            station_id: await self.stations.get(station_id)
            for station_id in {t.station_id for t in turns if t.station_id is not None}
        }
        deputies = await self.deputies.get_many({d for t in turns for d in t.deputy_ids})
        return [
            TurnView(
                turn,
                stations.get(turn.station_id) if turn.station_id is not None else None,
                [deputies[d] for d in turn.deputy_ids if d in deputies],
            )
            for turn in turns
        ]

    async def next_turns_of(self, deputy: User, limit: int = 5) -> list[TurnView]:
        ensure(deputy, Action.EXPORT_CALENDAR)
        turns = await self.repo.turns_of_deputy(deputy.telegram_id, self.clock.now(), limit=limit)
        return await self._views(turns)

    async def next_receptions_at(self, station_id: int, limit: int = 5) -> list[TurnView]:
        turns = await self.repo.receptions_at(station_id, self.clock.now(), limit)
        return await self._views(turns)

    async def deputies_at(self, station_id: int) -> list[Deputy]:
        return await self.deputies.at_station(station_id)

    async def get_turn(self, turn_id: int) -> DutyTurn | None:
        return await self.repo.get_turn(turn_id)

    async def ics(self, deputy: User, titles: dict[TurnKind, str], calendar_name: str) -> bytes:
        """The deputy's turns from 30 days ago on, one VEVENT each with a stable UID."""
        ensure(deputy, Action.EXPORT_CALENDAR)
        since = self.clock.now() - timedelta(days=30)
        cal = icalendar.Calendar()
        cal.add("prodid", "-//jiazhan//duty calendar//ZH")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", calendar_name)
        cal.add("x-wr-timezone", str(self.zone))
        for turn in await self.repo.turns_of_deputy(deputy.telegram_id, since, limit=5000):
            station = await self.stations.get(turn.station_id) if turn.station_id else None
            event = icalendar.Event()
            event.add("uid", turn.uid)
            event.add("dtstamp", self.clock.now())
            event.add("dtstart", turn.starts_at.astimezone(self.zone))
            event.add("dtend", turn.ends_at.astimezone(self.zone))
            title = titles[turn.kind]
            event.add("summary", f"{title} · {station.name}" if station else title)
            if station is not None:
                event.add("location", station.address or station.name)
                if station.latitude is not None and station.longitude is not None:
                    event.add("geo", (station.latitude, station.longitude))
            if turn.note:
                event.add("description", turn.note)
            cal.add_component(event)
        cal.add_missing_timezones()
        return bytes(cal.to_ical())
