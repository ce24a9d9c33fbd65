"""A suggestion between staff and the departments: 交办 to a lead (主办) and any co-handling
(协办) departments, 不予交办 with a reason, reassignment after 退办, 重点督办, the deadline and
its one extension, and the deadline's reminders and overdue alert.

Two conversations are declared here (assigning, declining); each step stores its typed
draft with the step, so a restart resumes where staff were. Every transition happens in one
transaction with its event on the trail and the notices it causes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.services.conversations import Conversation, DraftStore
from bot.services.departments import DepartmentService
from bot.services.deputy_notices import QuietHours
from bot.services.outbox import Intent, NoticeButton, Outbox
from bot.services.paging import Page, clamp_page
from bot.services.suggestion_answers import RETURNABLE
from bot.services.suggestion_trail import EventKind, SuggestionTrail, due_after, last_day
from bot.services.text import typed
from bot.settings import Settings
from storage import Database, Tx
from storage.models import (
    AssignmentState,
    CosignerState,
    Department,
    Suggestion,
    SuggestionEvent,
    SuggestionState,
    User,
)
from storage.repos.assignments import AssignedDepartment, AssignmentRepo, QueueEntry
from storage.repos.deputies import DeputyRepo
from storage.repos.suggestions import OPINION_DECLINED_WITH, SuggestionRepo
from storage.repos.users import UserRepo

REASON_MAX = 500  # 不予交办: the reason the deputy reads
TRAIL_SHOWN = 10  # the latest events a card shows

ASSIGNABLE = (SuggestionState.SUBMITTED, SuggestionState.RETURNED)
HANDLED = (SuggestionState.ASSIGNED, SuggestionState.REHANDLING)
UNFLAGGABLE = (SuggestionState.WITHDRAWN, SuggestionState.DECLINED)
# Why a suggestion cannot be assigned (a withdrawn one, a double tap …).
NOT_ASSIGNABLE = {
    SuggestionState.WITHDRAWN: "assign.refused_withdrawn",
    SuggestionState.DECLINED: "assign.refused_declined",
}
ASSIGNED_ALREADY = "assign.refused_assigned"


class QueuePart(StrEnum):
    """The three parts of staff's queue."""

    NEW = "new"  # 待交办
    RETURNED = "returned"  # 退办, to reassign
    HANDLING = "handling"  # 办理中: assigned or re-handling, by deadline


PART_STATE = {
    QueuePart.NEW: SuggestionState.SUBMITTED,
    QueuePart.RETURNED: SuggestionState.RETURNED,
    QueuePart.HANDLING: SuggestionState.ASSIGNED,
}


def part_of(state: SuggestionState) -> QueuePart:
    """The part of the queue a suggestion in `state` is listed in (or would go back to)."""
    if state == SuggestionState.SUBMITTED:
        return QueuePart.NEW
    if state == SuggestionState.RETURNED:
        return QueuePart.RETURNED
    return QueuePart.HANDLING


# --- the two conversations -----------------------------------------------------------------


class AssignStep(StrEnum):
    LEAD = "lead"  # pick the lead department (主办)
    CO = "co"  # toggle the co-handling ones (协办)
    CONFIRM = "confirm"


class AssignDraft(BaseModel):
    suggestion_id: int
    lead: int | None = None
    co: list[int] = Field(default_factory=list)


ASSIGNING = Conversation(
    "suggestion_assign",
    steps=AssignStep,
    draft=AssignDraft,
    needs=Action.ASSIGN_SUGGESTION,
)


class DeclineStep(StrEnum):
    REASON = "reason"
    CONFIRM = "confirm"


class DeclineDraft(BaseModel):
    suggestion_id: int
    reason: str | None = None


DECLINING = Conversation(
    "suggestion_decline",
    steps=DeclineStep,
    draft=DeclineDraft,
    needs=Action.ASSIGN_SUGGESTION,
)


def decline_reason(raw: str | None) -> str:
    return typed(
        raw, maximum=REASON_MAX, empty="assign.reason_empty", too_long="assign.reason_too_long"
    )


# --- what is shown -------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    part: QueuePart
    page: Page[QueueEntry]
    counts: dict[QueuePart, int]
    overdue: int
    now: datetime


@dataclass(frozen=True)
class HandlingCard:
    """A suggestion as staff handle it, with what they may do now."""

    suggestion: Suggestion
    deputy_name: str
    cosigners: list[str]  # confirmed ones
    opinions: int
    assignments: list[AssignedDepartment]
    events: list[SuggestionEvent]
    without_liaison: list[str]  # active departments whose answer staff record
    overdue: bool
    may_assign: bool
    may_decline: bool
    may_flag: bool
    may_extend: bool
    extension_asked: bool
    may_answer: bool
    returnable: list[AssignedDepartment]  # active parts staff may give back for a department


@dataclass(frozen=True)
class AssignPreview:
    suggestion: Suggestion
    lead: Department
    co: list[Department]
    due_at: datetime
    without_liaison: list[str]


@dataclass(frozen=True)
class AssignResult:
    suggestion: Suggestion
    lead: str
    co: list[str]
    without_liaison: list[str]


class SuggestionHandling:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
        self.quiet = QuietHours.of(settings)
        self.trail = SuggestionTrail(db, clock, outbox)
        self.suggestions = SuggestionRepo(db)
        self.users = UserRepo(db)
        self.assignments = AssignmentRepo(db)
        self.departments = DepartmentService(db, clock, settings, outbox)
        self.deputies = DeputyRepo(db)
        self.assigning = DraftStore(db, ASSIGNING)
        self.declining = DraftStore(db, DECLINING)

    # --- the queue and the card ------------------------------------------------------------

    async def queue(self, actor: User, part: QueuePart, page: int, per_page: int) -> Queue:
        ensure(actor, Action.ASSIGN_SUGGESTION)
        now = self.clock.now()
        raw = await self.assignments.counts(now)
        counts = {p: raw.get(str(PART_STATE[p]), 0) for p in QueuePart}
        page, pages = clamp_page(page, counts[part], per_page)
        items = await self.assignments.queue(PART_STATE[part], page * per_page, per_page)
        return Queue(part, Page(items, page, pages), counts, raw["overdue"], now)

    async def suggestion(self, actor: User, suggestion_id: int) -> Suggestion:
        ensure(actor, Action.ASSIGN_SUGGESTION)
        return await self._get(suggestion_id)

    async def _get(self, suggestion_id: int) -> Suggestion:
        suggestion = await self.suggestions.get(suggestion_id)
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        return suggestion

    async def card(self, actor: User, suggestion_id: int) -> HandlingCard:
        ensure(actor, Action.ASSIGN_SUGGESTION)
        s = await self._get(suggestion_id)
        deputy = await self.deputies.get(s.lead_deputy_id)
        confirmed = [
            c.deputy_id
            for c in await self.suggestions.cosigners(s.id)
            if c.state == CosignerState.CONFIRMED
        ]
        names = await self.deputies.get_many(set(confirmed))
        assignments = await self.assignments.of_suggestion(s.id)
        active = [a for a in assignments if a.state == AssignmentState.ACTIVE]
        lacking = set(await self.departments.without_liaison([a.department_id for a in active]))
        handled = s.state in HANDLED
        # once per suggestion (代表法: "extendable once"), whichever round asked
        extendable = s.state == SuggestionState.ASSIGNED and not s.extended
        return HandlingCard(
            suggestion=s,
            deputy_name=deputy.name if deputy else "",
            cosigners=[names[i].name for i in confirmed if i in names],
            opinions=len(await self.suggestions.opinion_ids(s.id)),
            assignments=assignments,
            events=(await self.suggestions.events(s.id))[-TRAIL_SHOWN:],
            without_liaison=[a.department_name for a in active if a.department_id in lacking],
            overdue=handled and s.due_at is not None and s.due_at <= self.clock.now(),
            may_assign=s.state in ASSIGNABLE,
            may_decline=s.state == SuggestionState.SUBMITTED,
            may_flag=s.state not in UNFLAGGABLE,
            may_extend=extendable,
            extension_asked=extendable and s.extension_requested_at is not None,
            may_answer=handled,
            returnable=active if s.state in RETURNABLE else [],  # 退办 staff make for them
        )

    # --- 交办 (and reassignment after 退办) --------------------------------------------------

    @staticmethod
    def _assignable(suggestion: Suggestion) -> None:
        if suggestion.state not in ASSIGNABLE:
            key = NOT_ASSIGNABLE.get(suggestion.state, ASSIGNED_ALREADY)
            raise DomainError(key, number=suggestion.number)

    async def begin_assign(self, actor: User, chat_id: int, suggestion_id: int) -> Suggestion:
        ensure(actor, Action.ASSIGN_SUGGESTION)
        suggestion = await self._get(suggestion_id)
        self._assignable(suggestion)
        await self.assigning.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = AssignDraft(suggestion_id=suggestion.id)
        await self._keep_assign(actor, chat_id, draft, AssignStep.LEAD)
        return suggestion

    async def assign_draft(self, actor: User) -> AssignDraft:
        return await self.assigning.required(actor, "assign.no_draft")

    async def _keep_assign(
        self, actor: User, chat_id: int, draft: AssignDraft | None, step: AssignStep | None
    ) -> None:
        await self.assigning.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def discard_assign(self, actor: User, chat_id: int) -> None:
        ensure(actor, Action.ASSIGN_SUGGESTION)
        await self._keep_assign(actor, chat_id, None, None)

    async def pick_lead(self, actor: User, chat_id: int, department_id: int) -> AssignDraft:
        """The lead department (主办); it is no co-handling one as well."""
        draft = await self.assign_draft(actor)
        lead = await self.departments.active(department_id)
        draft.lead = lead.id
        draft.co = [d for d in draft.co if d != lead.id]
        await self._keep_assign(actor, chat_id, draft, AssignStep.CO)
        return draft

    async def toggle_co(self, actor: User, chat_id: int, department_id: int) -> AssignDraft:
        """A co-handling department (协办) on or off; the lead cannot be one."""
        draft = await self.assign_draft(actor)
        if draft.lead is None:
            raise DomainError("assign.no_lead")
        if department_id == draft.lead:
            lead = await self.departments.active(department_id)
            raise DomainError("assign.lead_not_co", name=lead.name)
        if department_id in draft.co:
            draft.co.remove(department_id)
        else:
            draft.co.append((await self.departments.active(department_id)).id)
        await self._keep_assign(actor, chat_id, draft, AssignStep.CO)
        return draft

    async def change_lead(self, actor: User, chat_id: int) -> AssignDraft:
        draft = await self.assign_draft(actor)
        await self._keep_assign(actor, chat_id, draft, AssignStep.LEAD)
        return draft

    async def back_to_co(self, actor: User, chat_id: int) -> AssignDraft:
        draft = await self.assign_draft(actor)
        if draft.lead is None:
            raise DomainError("assign.no_lead")
        await self._keep_assign(actor, chat_id, draft, AssignStep.CO)
        return draft

    async def review_assignment(self, actor: User, chat_id: int) -> AssignPreview:
        """What 交办 will do, to confirm: the departments, the deadline, and which of them
        have no liaison (staff will record their answer)."""
        draft = await self.assign_draft(actor)
        if draft.lead is None:
            raise DomainError("assign.no_lead")
        suggestion = await self._get(draft.suggestion_id)
        self._assignable(suggestion)
        lead = await self.departments.active(draft.lead)
        co = [await self.departments.active(d) for d in draft.co]
        lacking = set(await self.departments.without_liaison([lead.id, *draft.co]))
        await self._keep_assign(actor, chat_id, draft, AssignStep.CONFIRM)
        return AssignPreview(
            suggestion=suggestion,
            lead=lead,
            co=co,
            due_at=self._due(self.clock.now()),
            without_liaison=[d.name for d in [lead, *co] if d.id in lacking],
        )

    def _due(self, start: datetime) -> datetime:
        return due_after(start, self.settings.suggestion_due_months, self.zone)

    def _last_day(self, due: datetime) -> str:
        """A deadline as people are told it: its last day (ISO, a `*_on` notice parameter)."""
        return last_day(due, self.zone).isoformat()

    async def refuse_confirm(self, actor: User, suggestion_id: int) -> None:
        """A 交办 confirmed with no assignment under way (a double tap, an old message):
        why it cannot be, in the words that fit the suggestion's state."""
        ensure(actor, Action.ASSIGN_SUGGESTION)
        self._assignable(await self._get(suggestion_id))
        raise DomainError("assign.no_draft")

    async def confirm_assign(self, actor: User, chat_id: int, suggestion_id: int) -> AssignResult:
        """交办, or reassignment after 退办: in one transaction the rows of the new round
        (the still-active rows of an earlier one end; returned ones stay returned), the
        suggestion assigned with a deadline from now, the event, and the notices to the
        deputies, the voters and the departments' liaisons. The conversation ends."""
        draft = await self.assign_draft(actor)
        if draft.suggestion_id != suggestion_id:  # an older preview's button: the step stays
            raise AccessDenied("error.stale_button")
        if draft.lead is None:
            raise DomainError("assign.no_lead")
        now = self.clock.now()
        due = self._due(now)
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, suggestion_id)
            self._assignable(suggestion)
            lead = await self.departments.active(draft.lead, tx)
            co = [await self.departments.active(d, tx) for d in draft.co]
            if lead.id in draft.co:
                raise DomainError("assign.lead_not_co", name=lead.name)
            earlier = await self.assignments.active(tx, suggestion.id)
            await self.assignments.end(tx, [a.id for a in earlier])
            for department, is_lead in [(lead, True), *((d, False) for d in co)]:
                await self.assignments.insert(
                    tx,
                    suggestion.id,
                    department.id,
                    lead=is_lead,
                    now=now,
                    assigned_by=actor.telegram_id,
                )
            await self.suggestions.update(
                tx,
                suggestion.id,
                now,
                state=SuggestionState.ASSIGNED,
                assigned_at=now,
                first_assigned_at=suggestion.first_assigned_at or now,
                due_at=due,
            )  # an extension, or its request, stays with the suggestion: it is once for it
            names = [lead.name, *(d.name for d in co)]
            kind = EventKind.REASSIGNED if suggestion.first_assigned_at else EventKind.ASSIGNED
            await self.trail.record(tx, suggestion, kind, actor.telegram_id, "、".join(names))
            await self._tell_assigned(tx, suggestion, lead, co, due)
            dropped = {a.department_id for a in earlier} - {lead.id, *draft.co}
            await self._tell_liaisons(tx, suggestion, sorted(dropped), "assign.notice_ended")
            await self.assigning.put(tx, chat_id, actor.telegram_id, None, None, now)
            assigned = await self.suggestions.get_for_update(tx, suggestion.id)
        lacking = set(await self.departments.without_liaison([lead.id, *draft.co]))
        return AssignResult(
            suggestion=present(assigned, "suggestion"),
            lead=lead.name,
            co=[d.name for d in co],
            without_liaison=[d.name for d in [lead, *co] if d.id in lacking],
        )

    async def _deputies_of(self, tx: Tx, suggestion: Suggestion) -> list[int]:
        """The lead deputy and the confirmed co-signers: who hears of 交办 and 不予交办."""
        cosigners = await self.suggestions.cosigners(suggestion.id, tx)
        confirmed = [c.deputy_id for c in cosigners if c.state == CosignerState.CONFIRMED]
        return [suggestion.lead_deputy_id, *confirmed]

    async def _tell_assigned(
        self, tx: Tx, suggestion: Suggestion, lead: Department, co: list[Department], due: datetime
    ) -> None:
        due_on = self._last_day(due)
        about = {"number": suggestion.number, "title": suggestion.title, "due_on": due_on}
        view = [[_button("assign.open_suggestion", Intent.OPEN_SUGGESTION, suggestion.id)]]
        for deputy_id in await self._deputies_of(tx, suggestion):
            await self.outbox.notify(
                tx,
                deputy_id,
                "assign.notice_deputy",
                buttons=view,
                params={**about, "lead": lead.name, "co": "、".join(d.name for d in co) or "—"},
            )
        await self.trail.tell_voters(
            tx, suggestion, "assign.notice_voters", {"department": lead.name, "due_on": due_on}
        )
        work = [[_button("assign.open_assignment", Intent.OPEN_ASSIGNMENT, suggestion.id)]]
        for department, role in [(lead, "assign.role_lead"), *((d, "assign.role_co") for d in co)]:
            for liaison in await self.suggestions.liaison_ids(tx, [department.id]):
                await self.outbox.notify(
                    tx,
                    liaison,
                    "assign.notice_liaison",
                    buttons=work,
                    params={**about, "department": department.name, "role_key": role},
                )

    async def _tell_liaisons(
        self,
        tx: Tx,
        suggestion: Suggestion,
        department_ids: list[int],
        key: str,
        due: datetime | None = None,
    ) -> int:
        """Queue `key` to the liaisons of these departments; returns how many."""
        liaisons = await self.suggestions.liaison_ids(tx, department_ids)
        params: dict[str, object] = {"number": suggestion.number, "title": suggestion.title}
        if due is not None:
            params["due_on"] = self._last_day(due)
        work = [[_button("assign.open_assignment", Intent.OPEN_ASSIGNMENT, suggestion.id)]]
        for liaison in liaisons:
            await self.outbox.notify(tx, liaison, key, buttons=work, params=params)
        return len(liaisons)

    # --- 不予交办 ---------------------------------------------------------------------------

    @staticmethod
    def _declinable(suggestion: Suggestion) -> None:
        if suggestion.state == SuggestionState.RETURNED:
            raise DomainError("assign.decline_returned", number=suggestion.number)
        if suggestion.state != SuggestionState.SUBMITTED:
            key = NOT_ASSIGNABLE.get(suggestion.state, ASSIGNED_ALREADY)
            raise DomainError(key, number=suggestion.number)

    async def begin_decline(self, actor: User, chat_id: int, suggestion_id: int) -> Suggestion:
        ensure(actor, Action.ASSIGN_SUGGESTION)
        suggestion = await self._get(suggestion_id)
        self._declinable(suggestion)
        await self.declining.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = DeclineDraft(suggestion_id=suggestion.id)
        now = self.clock.now()
        await self.declining.keep(chat_id, actor.telegram_id, draft, DeclineStep.REASON, now)
        return suggestion

    async def decline_draft(self, actor: User) -> DeclineDraft:
        return await self.declining.required(actor, "assign.no_draft")

    async def discard_decline(self, actor: User, chat_id: int) -> None:
        ensure(actor, Action.ASSIGN_SUGGESTION)
        await self.declining.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    async def give_reason(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[Suggestion, str]:
        """The reason typed (the one cleaner; empty or too long refused), kept to confirm."""
        draft = await self.decline_draft(actor)
        draft.reason = decline_reason(raw)
        suggestion = await self._get(draft.suggestion_id)
        now = self.clock.now()
        await self.declining.keep(chat_id, actor.telegram_id, draft, DeclineStep.CONFIRM, now)
        return suggestion, draft.reason

    async def refuse_decline(self, actor: User, suggestion_id: int) -> None:
        """A 不予交办 confirmed with none under way: why not, for the suggestion's state."""
        ensure(actor, Action.ASSIGN_SUGGESTION)
        self._declinable(await self._get(suggestion_id))
        raise DomainError("assign.no_draft")

    async def confirm_decline(self, actor: User, chat_id: int, suggestion_id: int) -> Suggestion:
        """不予交办: the suggestion declined with the reason, which the deputies read; its
        opinions let go (open again with the deputies, each with an event in its history) and
        their voters told so; the conversation ends."""
        draft = await self.decline_draft(actor)
        if draft.suggestion_id != suggestion_id or draft.reason is None:
            raise AccessDenied("error.stale_button")  # an older preview's button
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, suggestion_id)
            self._declinable(suggestion)
            await self.suggestions.update(
                tx,
                suggestion.id,
                now,
                state=SuggestionState.DECLINED,
                decline_reason=draft.reason,
            )
            await self.trail.record(
                tx, suggestion, EventKind.DECLINED, actor.telegram_id, draft.reason
            )
            view = [[_button("assign.open_suggestion", Intent.OPEN_SUGGESTION, suggestion.id)]]
            for deputy_id in await self._deputies_of(tx, suggestion):
                await self.outbox.notify(
                    tx,
                    deputy_id,
                    "assign.notice_declined",
                    buttons=view,
                    number=suggestion.number,
                    title=suggestion.title,
                    reason=draft.reason,
                )
            # told before the opinions go: the voters are found through them
            await self.trail.tell_voters(tx, suggestion, "assign.voters_declined")
            released = await self.suggestions.unlink_opinions(tx, suggestion.id)
            await self.suggestions.add_opinion_events(
                tx, released, now, actor.telegram_id, suggestion.number, kind=OPINION_DECLINED_WITH
            )
            await self.declining.put(tx, chat_id, actor.telegram_id, None, None, now)
            declined = await self.suggestions.get_for_update(tx, suggestion.id)
        return present(declined, "suggestion")

    # --- 重点督办 ---------------------------------------------------------------------------

    async def set_priority(self, actor: User, suggestion_id: int, on: bool) -> Suggestion:
        """Flag (or unflag) for priority supervision; the departments handling it hear of
        the flag. Tapping twice changes nothing more."""
        ensure(actor, Action.ASSIGN_SUGGESTION)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, suggestion_id)
            if suggestion.state in UNFLAGGABLE:
                raise DomainError("assign.not_flaggable", number=suggestion.number)
            if suggestion.priority != on:
                await self.suggestions.update(tx, suggestion.id, now, priority=on)
                kind = EventKind.PRIORITY_ON if on else EventKind.PRIORITY_OFF
                await self.trail.record(tx, suggestion, kind, actor.telegram_id)
                if on and suggestion.state in HANDLED:
                    departments = await self.assignments.active_departments(tx, suggestion.id)
                    await self._tell_liaisons(tx, suggestion, departments, "assign.notice_priority")
            flagged = await self.suggestions.get_for_update(tx, suggestion.id)
        return present(flagged, "suggestion")

    # --- the one extension -----------------------------------------------------------------

    def _extended_due(self, suggestion: Suggestion) -> datetime:
        start = present(suggestion.assigned_at, "assigned_at of an assigned suggestion")
        return due_after(start, self.settings.suggestion_extended_months, self.zone)

    def _extendable(self, suggestion: Suggestion) -> None:
        """Only while first handled, and once per suggestion: a reassignment after 退办 keeps
        an extension given before it (the department's view says the same)."""
        if suggestion.state != SuggestionState.ASSIGNED:
            raise DomainError("assign.not_extendable", number=suggestion.number)
        if suggestion.extended:
            due = present(suggestion.due_at, "due_at of an extended suggestion")
            raise DomainError(
                "assign.extended_already", number=suggestion.number, due=last_day(due, self.zone)
            )

    async def extension_preview(
        self, actor: User, suggestion_id: int
    ) -> tuple[Suggestion, datetime]:
        """The suggestion and the deadline an extension would give it."""
        ensure(actor, Action.ASSIGN_SUGGESTION)
        suggestion = await self._get(suggestion_id)
        self._extendable(suggestion)
        return suggestion, self._extended_due(suggestion)

    async def extend(self, actor: User, suggestion_id: int) -> Suggestion:
        """Extend once (代表法 art. 51: up to six months from 交办, with staff's consent),
        asked by the department or on staff's own; the departments and the lead deputy
        told."""
        ensure(actor, Action.ASSIGN_SUGGESTION)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, suggestion_id)
            self._extendable(suggestion)
            due = self._extended_due(suggestion)
            await self.suggestions.update(tx, suggestion.id, now, extended=True, due_at=due)
            note = suggestion.extension_reason if suggestion.extension_requested_at else ""
            await self.trail.record(tx, suggestion, EventKind.EXTENDED, actor.telegram_id, note)
            departments = await self.assignments.active_departments(tx, suggestion.id)
            await self._tell_liaisons(tx, suggestion, departments, "assign.notice_extended", due)
            await self.outbox.notify(
                tx,
                suggestion.lead_deputy_id,
                "assign.notice_deputy_extended",
                number=suggestion.number,
                title=suggestion.title,
                due_on=self._last_day(due),
            )
            extended = await self.suggestions.get_for_update(tx, suggestion.id)
        return present(extended, "suggestion")

    async def refuse_extension(self, actor: User, suggestion_id: int) -> Suggestion:
        """The department's request for more time refused: the deadline stays; the
        departments told."""
        ensure(actor, Action.ASSIGN_SUGGESTION)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, suggestion_id)
            self._extendable(suggestion)
            if suggestion.extension_requested_at is None:
                raise DomainError("assign.no_extension_request", number=suggestion.number)
            await self.suggestions.update(tx, suggestion.id, now, extension_requested_at=None)
            await self.trail.record(
                tx,
                suggestion,
                EventKind.EXTENSION_REFUSED,
                actor.telegram_id,
                suggestion.extension_reason,
            )
            departments = await self.assignments.active_departments(tx, suggestion.id)
            due = present(suggestion.due_at, "due_at of an assigned suggestion")
            await self._tell_liaisons(
                tx, suggestion, departments, "assign.notice_extension_refused", due
            )
            refused = await self.suggestions.get_for_update(tx, suggestion.id)
        return present(refused, "suggestion")

    # --- deadlines -------------------------------------------------------------------------

    async def run_due(self) -> int:
        """The deadlines' reminders and alerts that are due; returns how many were queued.

        Each handled suggestion's departments hear once at each of `suggestion_reminder_days`
        before its deadline, only the most pressing one that is due (a sweep after a
        downtime sends the 7-day reminder, not the 30-day one too): their liaisons, or staff
        for a department without one (staff record its answer). Staff hear once when the
        deadline passes unanswered. A new deadline is reminded of afresh. A sweep at night
        (deadlines end at local midnight) holds its notices until the quiet hours end."""
        now = self.clock.now()
        queued = 0
        days = sorted(set(self.settings.suggestion_reminder_days))
        after = now
        for day in days:
            until = now + timedelta(days=day)
            for suggestion, kind in await self.assignments.due_within(after, until, f"d{day}"):
                queued += await self._remind(suggestion, kind, now)
            after = until
        for suggestion, kind in await self.assignments.due_within(None, now, "overdue"):
            queued += await self._alert_overdue(suggestion, kind, now)
        return queued

    async def _still_due(self, tx: Tx, listed: Suggestion) -> Suggestion | None:
        """The suggestion as it is now, if it is still handled with the deadline the sweep
        listed it by (answered, returned or extended meanwhile: nothing to send)."""
        current = await self.trail.load(tx, listed.id)
        if current.state not in HANDLED or current.due_at != listed.due_at:
            return None
        return current

    async def _remind(self, listed: Suggestion, kind: str, now: datetime) -> int:
        async with self.db.transaction() as tx:
            suggestion = await self._still_due(tx, listed)
            if suggestion is None:
                return 0
            due = present(suggestion.due_at, "due_at of a handled suggestion")
            liaisons: list[int] = []
            lacking: list[int] = []  # departments without a liaison: staff answer for them
            for department in await self.assignments.active_departments(tx, suggestion.id):
                found = await self.suggestions.liaison_ids(tx, [department])
                liaisons.extend(found)
                if not found:
                    lacking.append(department)
            staff = await self.users.staff_ids(tx) if lacking else []
            told = [*liaisons, *staff]
            if not told or not await self.assignments.mark_told(tx, suggestion.id, told, kind, now):
                return 0
            about: dict[str, object] = {
                "number": suggestion.number,
                "title": suggestion.title,
                "days": math.ceil((due - now) / timedelta(days=1)),
                "due_on": self._last_day(due),
            }
            held = self.quiet.held_until(now)
            work = [[_button("assign.open_assignment", Intent.OPEN_ASSIGNMENT, suggestion.id)]]
            for liaison in liaisons:
                await self.outbox.notify(
                    tx,
                    liaison,
                    "assign.remind_liaison",
                    buttons=work,
                    not_before=held,
                    params=about,
                )
            if staff:
                names = await self.departments.names(lacking, tx)
                review = [
                    [_button("assign.review_button", Intent.REVIEW_SUGGESTION, suggestion.id)]
                ]
                for member in staff:
                    await self.outbox.notify(
                        tx,
                        member,
                        "assign.remind_staff",
                        buttons=review,
                        not_before=held,
                        params={
                            **about,
                            "departments": "、".join(names[d] for d in lacking if d in names),
                        },
                    )
        return len(liaisons) + len(staff)

    async def _alert_overdue(self, listed: Suggestion, kind: str, now: datetime) -> int:
        async with self.db.transaction() as tx:
            suggestion = await self._still_due(tx, listed)
            if suggestion is None:
                return 0
            due = present(suggestion.due_at, "due_at of a handled suggestion")
            staff = await self.users.staff_ids(tx)
            if not staff or not await self.assignments.mark_told(
                tx, suggestion.id, staff, kind, now
            ):
                return 0
            departments = await self.assignments.active_departments(tx, suggestion.id)
            names = await self.departments.names(departments, tx)
            review = [[_button("assign.review_button", Intent.REVIEW_SUGGESTION, suggestion.id)]]
            for member in staff:
                await self.outbox.notify(
                    tx,
                    member,
                    "assign.alert_overdue",
                    buttons=review,
                    not_before=self.quiet.held_until(now),
                    number=suggestion.number,
                    title=suggestion.title,
                    departments="、".join(names[d] for d in departments if d in names),
                    due_on=self._last_day(due),
                )
        return len(staff)


def _button(label: str, intent: Intent, target: int) -> NoticeButton:
    return NoticeButton(label=label, intent=intent, target=target)
