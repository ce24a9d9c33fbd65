"""What every step of a suggestion shares: loading it inside the step's transaction, its
trail of events, telling the voters whose opinions it grew from (through the outbox), the
statutory deadlines, and the year's outcome classes."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.clock import Clock
from bot.errors import DomainError
from bot.i18n import N_
from bot.services.outbox import Outbox
from bot.services.working_days import add_working_days
from storage import Database
from storage.db import Tx
from storage.models import OutcomeClass, Suggestion
from storage.repos.outcome_classes import OutcomeClassRepo
from storage.repos.suggestions import SuggestionRepo

# used when staff have set no classes for a year (DOMAIN.md: the usual three)
DEFAULT_CLASSES: tuple[tuple[str, str, bool, bool], ...] = (
    ("A", "已解决或基本解决", True, False),
    ("B", "正在解决或列入计划逐步解决", True, True),
    ("C", "因条件限制留作参考", False, False),
)


class EventKind(StrEnum):
    """Every step a suggestion's trail records; each part records only these, and every view
    of the trail labels them from `EVENT_LABELS`."""

    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    COSIGNER_INVITED = "cosigner_invited"
    COSIGNER_CONFIRMED = "cosigner_confirmed"
    COSIGNER_DECLINED = "cosigner_declined"
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    DECLINED = "declined"
    RETURNED = "returned"
    PRIORITY_ON = "priority_on"
    PRIORITY_OFF = "priority_off"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENDED = "extended"
    EXTENSION_REFUSED = "extension_refused"
    ANSWERED = "answered"
    RATED = "rated"
    REHANDLING = "rehandling"
    CLOSED = "closed"
    COMMITMENT_UPDATE = "commitment_update"
    COMMITMENT_BLOCKED = "commitment_blocked"
    COMMITMENT_DONE = "commitment_done"
    LEDGER_DONE = "ledger_done"
    ANSWER_CORRECTED = "answer_corrected"
    PUBLISHED = "published"


EVENT_LABELS: dict[EventKind, str] = {
    EventKind.SUBMITTED: N_("suggestion.event_submitted"),
    EventKind.WITHDRAWN: N_("suggestion.event_withdrawn"),
    EventKind.COSIGNER_INVITED: N_("suggestion.event_cosigner_invited"),
    EventKind.COSIGNER_CONFIRMED: N_("suggestion.event_cosigner_confirmed"),
    EventKind.COSIGNER_DECLINED: N_("suggestion.event_cosigner_declined"),
    EventKind.ASSIGNED: N_("suggestion.event_assigned"),
    EventKind.REASSIGNED: N_("suggestion.event_reassigned"),
    EventKind.DECLINED: N_("suggestion.event_declined"),
    EventKind.RETURNED: N_("suggestion.event_returned"),
    EventKind.PRIORITY_ON: N_("suggestion.event_priority_on"),
    EventKind.PRIORITY_OFF: N_("suggestion.event_priority_off"),
    EventKind.EXTENSION_REQUESTED: N_("suggestion.event_extension_requested"),
    EventKind.EXTENDED: N_("suggestion.event_extended"),
    EventKind.EXTENSION_REFUSED: N_("suggestion.event_extension_refused"),
    EventKind.ANSWERED: N_("suggestion.event_answered"),
    EventKind.RATED: N_("suggestion.event_rated"),
    EventKind.REHANDLING: N_("suggestion.event_rehandling"),
    EventKind.CLOSED: N_("suggestion.event_closed"),
    EventKind.COMMITMENT_UPDATE: N_("suggestion.event_commitment_update"),
    EventKind.COMMITMENT_BLOCKED: N_("suggestion.event_commitment_blocked"),
    EventKind.COMMITMENT_DONE: N_("suggestion.event_commitment_done"),
    EventKind.LEDGER_DONE: N_("suggestion.event_ledger_done"),
    EventKind.ANSWER_CORRECTED: N_("suggestion.event_answer_corrected"),
    EventKind.PUBLISHED: N_("suggestion.event_published"),
}
# what voters may see of a trail: the steps of the handling, none of the internal ones
VOTER_EVENTS = frozenset(
    {
        EventKind.SUBMITTED,
        EventKind.WITHDRAWN,
        EventKind.ASSIGNED,
        EventKind.REASSIGNED,
        EventKind.DECLINED,
        EventKind.ANSWERED,
        EventKind.REHANDLING,
        EventKind.CLOSED,
        EventKind.COMMITMENT_DONE,
        EventKind.LEDGER_DONE,
        EventKind.PUBLISHED,
    }
)


def add_months(moment: datetime, months: int) -> datetime:
    """The same local wall time `months` calendar months later (the 31st becomes the month's
    last day): "three months from assignment" as a person counts it."""
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_after(start: datetime, months: int, zone: tzinfo) -> datetime:
    """A deadline `months` after `start`: the end of that local day (as an instant)."""
    local = add_months(start.astimezone(zone), months)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)


def working_days_after(start: datetime, days: int, zone: tzinfo) -> datetime:
    """The end of the `days`-th official working day after `start`'s local day."""
    last = add_working_days(start.astimezone(zone).date(), days)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)


def last_day(deadline: datetime, zone: tzinfo) -> date:
    """The last local day of a deadline that ends a day (00:00 of the next): what a person is
    told ("by 2027-02-27")."""
    return (deadline.astimezone(zone) - timedelta(microseconds=1)).date()


def handling_year(suggestion: Suggestion, zone: tzinfo) -> int:
    """The year whose outcome classes a suggestion's answers take: that of its first
    assignment (交办), so a suggestion sent in December and assigned in January, and its
    re-handling the next year, keep one set of classes."""
    start = suggestion.first_assigned_at or suggestion.assigned_at or suggestion.created_at
    return start.astimezone(zone).year


class SuggestionTrail:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.repo = SuggestionRepo(db)
        self.classes = OutcomeClassRepo(db)

    async def load(self, tx: Tx, suggestion_id: int) -> Suggestion:
        """The suggestion, read inside the step's transaction; a forged or stale id refuses."""
        suggestion = await self.repo.get_for_update(tx, suggestion_id)
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        return suggestion

    async def record(
        self,
        tx: Tx,
        suggestion: Suggestion,
        kind: EventKind,
        actor_id: int | None,
        note: str = "",
    ) -> None:
        await self.repo.add_event(tx, suggestion.id, kind, self.clock.now(), actor_id, note)

    async def tell_voters(
        self,
        tx: Tx,
        suggestion: Suggestion,
        key: str,
        params: Mapping[str, object] | None = None,
        *,
        not_before: datetime | None = None,
    ) -> int:
        """Queue `key` to every voter whose opinion fed the suggestion, with its number and
        title; returns how many. A step the scheduler takes at night passes `not_before`
        (the end of the quiet hours) so voters are not woken."""
        voters = await self.repo.voter_ids(tx, suggestion.id)
        if voters:
            await self.outbox.notify_many(
                tx,
                voters,
                key,
                not_before=not_before,
                params={
                    "number": suggestion.number,
                    "title": suggestion.title,
                    "suggestion_id": suggestion.id,
                    **(params or {}),
                },
            )
        return len(voters)

    async def outcome_classes(self, year: int) -> list[OutcomeClass]:
        """The classes staff set for `year`, else the default A/B/C."""
        kept = await self.classes.of_year(year)
        if kept:
            return kept
        return [
            OutcomeClass(
                year=year,
                code=code,
                label=label,
                position=i,
                counts_as_progress=progress,
                ledger=ledger,
            )
            for i, (code, label, progress, ledger) in enumerate(DEFAULT_CLASSES)
        ]
