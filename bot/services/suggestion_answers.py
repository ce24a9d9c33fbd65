"""A department's side of a suggestion: the answer with its outcome class, the meeting with
the deputy and class-B commitments; the return (退办) within the working days allowed; and
the request for more time. Also the year's outcome classes as staff set them (the CLI).

Who acts: a department's liaison for their own department; staff may record the answer for
any department (one that does not use the bot) and return its part on its behalf (without
the limit of working days), never ask for time in its name (they extend directly)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.services.conversations import Conversation, DraftStore
from bot.services.outbox import Intent, NoticeButton, Outbox
from bot.services.paging import Page, clamp_page
from bot.services.suggestion_trail import (
    EventKind,
    SuggestionTrail,
    handling_year,
    last_day,
    working_days_after,
)
from bot.services.text import clean, typed
from bot.services.typed_dates import YearDirection, parse_date
from bot.settings import Settings
from storage import Database, Tx
from storage.models import (
    CosignerState,
    DepartmentLiaison,
    OutcomeClass,
    Role,
    Suggestion,
    SuggestionAnswer,
    SuggestionAssignment,
    SuggestionState,
    User,
)
from storage.repos.answers import AnswerRepo
from storage.repos.departments import DepartmentRepo
from storage.repos.deputies import DeputyRepo
from storage.repos.outcome_classes import OutcomeClassRepo
from storage.repos.suggestions import SuggestionRepo
from storage.repos.users import UserRepo

SUMMARY_MAX = 3000  # the answer's summary; the full official reply (公文) stays on paper
COMMITMENT_MAX = 150
MAX_COMMITMENTS = 10
REASON_MAX = 500  # of a return or an extension request
PROPOSED_MAX = 40  # the department proposed instead, as typed
ANSWERABLE = frozenset({SuggestionState.ASSIGNED, SuggestionState.REHANDLING})
ANSWERED = frozenset({SuggestionState.ANSWERED, SuggestionState.CLOSED})
# a lead's return moves the suggestion to 'returned'; a co-handler may still return its own
RETURNABLE = frozenset({SuggestionState.ASSIGNED, SuggestionState.RETURNED})

# outcome classes as staff set them for a year (python -m bot classes)
CLASS_CODE = re.compile(r"^[^\s:=,]{1,4}$")
CLASS_LABEL_MAX = 30
MIN_CLASSES = 2
MAX_CLASSES = 8
LEDGER_MARK = ":ledger"
# what the voters whose opinions fed the suggestion read when it is answered (trail.tell_voters
# adds its number and title)
VOTERS_TOLD = "answers.notice_answered_voters"

# --- the two conversations -------------------------------------------------------------------


class AnswerStep(StrEnum):
    """The steps of recording an answer (the values are stored: a restart resumes)."""

    CLASS = "class"  # the outcome class, as buttons
    MET = "met"  # met or talked with the deputy before answering (见面/沟通)?
    MET_DATE = "met_date"  # when, typed
    SUMMARY = "summary"  # the answer's summary, typed
    COMMITMENT = "commitment"  # a ledger class: what is promised, typed
    COMMITMENT_DATE = "commitment_date"  # by when, typed
    COMMITMENTS = "commitments"  # another one, or done
    PREVIEW = "preview"  # everything once more, then confirm


class Promise(BaseModel):
    """A commitment being entered: what, by which day."""

    text: str
    due_on: date


class AnswerDraft(BaseModel):
    """An answer being recorded for `department_id`, the suggestion's lead department."""

    suggestion_id: int
    department_id: int
    year: int  # whose outcome classes apply
    assigned_on: date  # no meeting can be dated before it
    outcome_class: str | None = None
    ledger: bool = False
    met_deputy: bool | None = None
    met_on: date | None = None
    summary: str | None = None
    commitments: list[Promise] = Field(default_factory=list)
    pending: str | None = None  # a commitment's text waiting for its date


ANSWER = Conversation(
    "suggestion_answer",
    steps=AnswerStep,
    draft=AnswerDraft,
    needs=Action.ANSWER_SUGGESTION,
    timeout=timedelta(days=3),  # an answer may wait for its official reply to be signed
)


class RequestStep(StrEnum):
    RETURN_REASON = "return_reason"
    RETURN_DEPARTMENT = "return_department"  # the department proposed instead (optional)
    RETURN_CONFIRM = "return_confirm"
    EXTENSION_REASON = "extension_reason"
    EXTENSION_CONFIRM = "extension_confirm"


class RequestKind(StrEnum):
    RETURN = "return"  # 退办
    EXTENSION = "extension"  # more time (延期)


class RequestDraft(BaseModel):
    """A department's return of its assignment, or its request for more time; `on_behalf`:
    a return staff make for a department (one without the bot, or past its days)."""

    kind: RequestKind
    suggestion_id: int
    assignment_id: int
    reason: str | None = None
    proposed: str = ""
    on_behalf: bool = False


REQUEST = Conversation(
    "assignment_request",
    steps=RequestStep,
    draft=RequestDraft,
    needs=Action.ANSWER_SUGGESTION,
    timeout=timedelta(hours=24),
)


# --- what is shown -------------------------------------------------------------------------


@dataclass(frozen=True)
class Handling:
    """One department's part in a suggestion: its assignment and its name."""

    assignment: SuggestionAssignment
    department: str


@dataclass(frozen=True)
class AssignedItem:
    suggestion: Suggestion
    lead: bool


@dataclass(frozen=True)
class AssignedList:
    department: str
    page: Page[AssignedItem]
    total: int


@dataclass(frozen=True)
class AssignmentView:
    """The department's card of one suggestion, with what it may do about it."""

    suggestion: Suggestion
    own: Handling
    others: list[Handling]
    lead_deputy: str
    cosigners: list[str]
    answer: SuggestionAnswer | None
    answer_class: OutcomeClass | None
    return_until: date | None  # the last working day a return is taken; None: not now
    may_answer: bool
    may_extend: bool


@dataclass(frozen=True)
class AnswerPreview:
    suggestion: Suggestion
    department: str
    outcome: OutcomeClass
    draft: AnswerDraft
    rate_by: date  # the last day the deputy may rate, if confirmed now


@dataclass(frozen=True)
class Answered:
    suggestion: Suggestion
    department: str
    outcome: OutcomeClass
    rate_by: date
    cosigners: int
    voters: int


@dataclass(frozen=True)
class RequestPreview:
    suggestion: Suggestion
    handling: Handling
    draft: RequestDraft


@dataclass(frozen=True)
class ClassSpec:
    """One class as typed on the command line: `A=已解决或基本解决`, `B=…:ledger`."""

    code: str
    label: str
    ledger: bool


class BackToStep(DomainError):
    """The answer cannot be confirmed as it stands: its draft went back to `step`, to redo."""

    def __init__(self, step: AnswerStep, key: str, **params: object) -> None:
        super().__init__(key, **params)
        self.step = step


# --- rules on typed text -----------------------------------------------------------------------


def answer_summary(raw: str | None) -> str:
    return typed(
        raw,
        maximum=SUMMARY_MAX,
        empty="answers.summary_empty",
        too_long="answers.summary_too_long",
    )


def commitment_text(raw: str | None) -> str:
    return typed(
        raw,
        maximum=COMMITMENT_MAX,
        empty="answers.commitment_empty",
        too_long="answers.commitment_too_long",
    )


def request_reason(raw: str | None) -> str:
    return typed(
        raw, maximum=REASON_MAX, empty="answers.reason_empty", too_long="answers.reason_too_long"
    )


def proposed_department(raw: str | None) -> str:
    return typed(
        raw,
        maximum=PROPOSED_MAX,
        empty="answers.proposed_empty",
        too_long="answers.proposed_too_long",
    )


def parse_class_spec(raw: str) -> ClassSpec:
    """`CODE=LABEL` or `CODE=LABEL:ledger`; the code 1-4 characters (no spaces, `:`, `=` or
    `,`), the label 1-30."""
    text = clean(raw)
    code, equals, label = text.partition("=")
    if not equals:
        raise DomainError("classes.bad_spec", spec=raw)
    ledger = label.endswith(LEDGER_MARK)
    if ledger:
        label = label.removesuffix(LEDGER_MARK)
    code = unicodedata.normalize("NFKC", code.strip())
    label = clean(label)
    if not CLASS_CODE.match(code):
        raise DomainError("classes.bad_code", code=code)
    if not label:
        raise DomainError("classes.empty_label", code=code)
    if len(label) > CLASS_LABEL_MAX:
        raise DomainError("classes.label_too_long", code=code, maximum=CLASS_LABEL_MAX)
    return ClassSpec(code, label, ledger)


def outcome_classes_of(
    year: int, specs: Sequence[ClassSpec], progress: Sequence[str] | None
) -> list[OutcomeClass]:
    """A year's classes from the specs, in order. `progress`: the codes that count as
    "solved or progressed"; None: every class but the last (by custom the last is the one
    kept for reference, 留作参考)."""
    if not MIN_CLASSES <= len(specs) <= MAX_CLASSES:
        raise DomainError("classes.count", minimum=MIN_CLASSES, maximum=MAX_CLASSES)
    seen: set[str] = set()
    for spec in specs:
        if spec.code.casefold() in seen:
            raise DomainError("classes.duplicate_code", code=spec.code)
        seen.add(spec.code.casefold())
    codes = [s.code for s in specs]
    if progress is None:
        counted = set(codes[:-1])
    else:
        counted = {unicodedata.normalize("NFKC", c.strip()) for c in progress if c.strip()}
        unknown = sorted(counted - set(codes))
        if unknown:
            raise DomainError("classes.unknown_progress", code=", ".join(unknown))
    return [
        OutcomeClass(
            year=year,
            code=spec.code,
            label=spec.label,
            position=i,
            counts_as_progress=spec.code in counted,
            ledger=spec.ledger,
        )
        for i, spec in enumerate(specs)
    ]


class SuggestionAnswers:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
        self.repo = AnswerRepo(db)
        self.departments = DepartmentRepo(db)
        self.suggestions = SuggestionRepo(db)
        self.users = UserRepo(db)
        self.deputies = DeputyRepo(db)
        self.classes = OutcomeClassRepo(db)
        self.trail = SuggestionTrail(db, clock, outbox)
        self.answers = DraftStore(db, ANSWER)
        self.requests = DraftStore(db, REQUEST)

    # --- time ------------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def return_deadline(self, assignment: SuggestionAssignment) -> datetime:
        """The end of the last working day on which the department may return it (退办)."""
        days = self.settings.suggestion_return_days
        return working_days_after(assignment.assigned_at, days, self.zone)

    # --- who answers -----------------------------------------------------------------------

    async def desk(self, actor: User) -> DepartmentLiaison | None:
        """The liaison's place in their department; None for staff, who answer for any."""
        ensure(actor, Action.ANSWER_SUGGESTION)
        if actor.role != Role.LIAISON:
            return None
        liaison = await self.departments.liaison_of(actor.telegram_id)
        if liaison is None:
            raise AccessDenied("answers.no_department")
        return liaison

    async def liaison(self, actor: User) -> DepartmentLiaison:
        """The actor as a department's liaison; staff are sent to /assign."""
        liaison = await self.desk(actor)
        if liaison is None:
            raise DomainError("answers.liaisons_only")
        return liaison

    async def _handlings(self, suggestion_id: int, tx: Tx | None = None) -> list[Handling]:
        return [
            Handling(a, name) for a, name in await self.repo.active_assignments(suggestion_id, tx)
        ]

    @staticmethod
    def _own(liaison: DepartmentLiaison, handlings: list[Handling]) -> Handling:
        """The liaison's department's active assignment; none: not theirs (any more)."""
        for handling in handlings:
            if handling.assignment.department_id == liaison.department_id:
                return handling
        raise AccessDenied("answers.not_your_assignment")

    @staticmethod
    def _lead(handlings: list[Handling]) -> Handling | None:
        return next((h for h in handlings if h.assignment.lead), None)

    def _answering(
        self, desk: DepartmentLiaison | None, suggestion: Suggestion, handlings: list[Handling]
    ) -> Handling:
        """The lead department's assignment the actor answers for, or why not."""
        if suggestion.state in ANSWERED:
            raise DomainError("answers.already_answered", number=suggestion.number)
        lead = self._lead(handlings)
        if suggestion.state not in ANSWERABLE or lead is None:
            raise DomainError("answers.not_answerable", number=suggestion.number)
        if desk is None:
            return lead
        own = self._own(desk, handlings)
        if not own.assignment.lead:
            raise DomainError("answers.co_cannot_answer", lead=lead.department)
        return own

    # --- the department's list and card ------------------------------------------------------

    async def assigned(self, actor: User, page: int, per_page: int) -> AssignedList:
        """The liaison's department's suggestions to answer, the nearest deadline first."""
        liaison = await self.liaison(actor)
        department = present(await self.departments.get(liaison.department_id), "department")
        total = await self.repo.count_open(liaison.department_id)
        page, pages = clamp_page(page, total, per_page)
        rows = await self.repo.page_open(liaison.department_id, page * per_page, per_page)
        items = [AssignedItem(s, a.lead) for s, a in rows]
        return AssignedList(department.name, Page(items, page, pages), total)

    async def view(self, actor: User, suggestion_id: int) -> AssignmentView:
        """One suggestion as its department sees it; another department's is refused."""
        liaison = await self.liaison(actor)
        suggestion = await self.suggestions.get(suggestion_id)
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        handlings = await self._handlings(suggestion_id)
        own = self._own(liaison, handlings)
        confirmed = [
            c.deputy_id
            for c in await self.suggestions.cosigners(suggestion_id)
            if c.state == CosignerState.CONFIRMED
        ]
        deputies = await self.deputies.get_many({suggestion.lead_deputy_id, *confirmed})
        cosigners = [deputies[d].name for d in confirmed if d in deputies]
        lead_deputy = deputies.get(suggestion.lead_deputy_id)
        answer = await self.repo.latest_answer(suggestion_id)
        answer_class = None
        if answer is not None:
            classes = await self.trail.outcome_classes(handling_year(suggestion, self.zone))
            answer_class = next((c for c in classes if c.code == answer.outcome_class), None)
        asked_at = await self.repo.extension_asked_at(suggestion_id)
        until = self.return_deadline(own.assignment)
        returnable = suggestion.state in RETURNABLE and self.clock.now() < until
        return AssignmentView(
            suggestion=suggestion,
            own=own,
            others=[h for h in handlings if h is not own],
            lead_deputy=lead_deputy.name if lead_deputy is not None else "",
            cosigners=cosigners,
            answer=answer,
            answer_class=answer_class,
            return_until=last_day(until, self.zone) if returnable else None,
            may_answer=own.assignment.lead and suggestion.state in ANSWERABLE,
            may_extend=self._extension_refusal(suggestion, own, asked_at) is None,
        )

    # --- the answer --------------------------------------------------------------------------

    async def outcome_classes(self, year: int) -> list[OutcomeClass]:
        return await self.trail.outcome_classes(year)

    async def begin_answer(
        self, actor: User, chat_id: int, suggestion_id: int
    ) -> tuple[Suggestion, str, list[OutcomeClass]]:
        """Open the answer of a suggestion for its lead department: the suggestion, the
        department's name and the classes to choose from."""
        desk = await self.desk(actor)
        suggestion = await self.suggestions.get(suggestion_id)
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        handling = self._answering(desk, suggestion, await self._handlings(suggestion_id))
        await self.answers.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        year = handling_year(suggestion, self.zone)
        draft = AnswerDraft(
            suggestion_id=suggestion.id,
            department_id=handling.assignment.department_id,
            year=year,
            assigned_on=handling.assignment.assigned_at.astimezone(self.zone).date(),
        )
        await self._keep_answer(actor, chat_id, draft, AnswerStep.CLASS)
        return suggestion, handling.department, await self.outcome_classes(year)

    async def answer_draft(self, actor: User) -> AnswerDraft:
        return await self.answers.required(actor, "answers.no_draft")

    async def _keep_answer(
        self, actor: User, chat_id: int, draft: AnswerDraft | None, step: AnswerStep | None
    ) -> None:
        await self.answers.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def discard_answer(self, actor: User, chat_id: int) -> None:
        await self._keep_answer(actor, chat_id, None, None)

    async def choose_class(
        self, actor: User, chat_id: int, code: str
    ) -> tuple[AnswerDraft, AnswerStep]:
        draft = await self.answer_draft(actor)
        chosen = next((c for c in await self.outcome_classes(draft.year) if c.code == code), None)
        if chosen is None:
            raise DomainError("answers.unknown_class")
        draft.outcome_class, draft.ledger = chosen.code, chosen.ledger
        if not chosen.ledger:
            draft.commitments, draft.pending = [], None
        return await self._to(actor, chat_id, draft, AnswerStep.MET)

    async def set_met(self, actor: User, chat_id: int, met: bool) -> tuple[AnswerDraft, AnswerStep]:
        draft = await self.answer_draft(actor)
        draft.met_deputy = met
        if not met:
            draft.met_on = None
            return await self._to(actor, chat_id, draft, AnswerStep.SUMMARY)
        return await self._to(actor, chat_id, draft, AnswerStep.MET_DATE)

    async def set_met_date(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[AnswerDraft, AnswerStep]:
        """The day of the meeting: not in the future, not before the assignment."""
        draft = await self.answer_draft(actor)
        today = self.today()
        value = parse_date(
            raw,
            today=today,
            direction=YearDirection.MOST_RECENT,
            refusal="answers.met_date_unparsable",
        )
        if value > today:
            raise DomainError("answers.met_date_future", date=value)
        if value < draft.assigned_on:
            raise DomainError("answers.met_date_before_assignment", assigned=draft.assigned_on)
        draft.met_on = value
        if draft.summary is not None:  # asked again at confirm: the rest is there already
            return await self._after_summary(actor, chat_id, draft)
        return await self._to(actor, chat_id, draft, AnswerStep.SUMMARY)

    async def set_summary(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[AnswerDraft, AnswerStep]:
        draft = await self.answer_draft(actor)
        draft.summary = answer_summary(raw)
        return await self._after_summary(actor, chat_id, draft)

    async def _after_summary(
        self, actor: User, chat_id: int, draft: AnswerDraft
    ) -> tuple[AnswerDraft, AnswerStep]:
        """The commitments of a ledger class come next, else the preview."""
        if not draft.ledger:
            return await self._to(actor, chat_id, draft, AnswerStep.PREVIEW)
        step = AnswerStep.COMMITMENTS if draft.commitments else AnswerStep.COMMITMENT
        return await self._to(actor, chat_id, draft, step)

    async def set_commitment_text(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[AnswerDraft, AnswerStep]:
        draft = await self.answer_draft(actor)
        draft.pending = commitment_text(raw)
        return await self._to(actor, chat_id, draft, AnswerStep.COMMITMENT_DATE)

    async def set_commitment_date(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[AnswerDraft, AnswerStep]:
        """The day a commitment is due: a day to come (a date without a year is the next
        such day)."""
        draft = await self.answer_draft(actor)
        if draft.pending is None:
            return await self._to(actor, chat_id, draft, AnswerStep.COMMITMENT)
        today = self.today()
        value = parse_date(
            raw, today=today, direction=YearDirection.NEXT, refusal="answers.due_unparsable"
        )
        if value <= today:
            raise DomainError("answers.due_not_future", date=value)
        draft.commitments.append(Promise(text=draft.pending, due_on=value))
        draft.pending = None
        return await self._to(actor, chat_id, draft, AnswerStep.COMMITMENTS)

    async def more_commitments(self, actor: User, chat_id: int) -> tuple[AnswerDraft, AnswerStep]:
        draft = await self.answer_draft(actor)
        if len(draft.commitments) >= MAX_COMMITMENTS:
            raise DomainError("answers.too_many_commitments", maximum=MAX_COMMITMENTS)
        return await self._to(actor, chat_id, draft, AnswerStep.COMMITMENT)

    async def commitments_done(self, actor: User, chat_id: int) -> tuple[AnswerDraft, AnswerStep]:
        draft = await self.answer_draft(actor)
        if draft.ledger and not draft.commitments:
            raise DomainError("answers.commitment_needed")
        return await self._to(actor, chat_id, draft, AnswerStep.PREVIEW)

    async def _to(
        self, actor: User, chat_id: int, draft: AnswerDraft, step: AnswerStep
    ) -> tuple[AnswerDraft, AnswerStep]:
        await self._keep_answer(actor, chat_id, draft, step)
        return draft, step

    def _rate_by(self, moment: datetime) -> datetime:
        return working_days_after(moment, self.settings.suggestion_rating_days, self.zone)

    async def _chosen(self, draft: AnswerDraft) -> OutcomeClass:
        classes = await self.outcome_classes(draft.year)
        chosen = next((c for c in classes if c.code == draft.outcome_class), None)
        if chosen is None:
            raise DomainError("answers.unknown_class")
        return chosen

    async def preview(self, actor: User) -> AnswerPreview:
        draft = await self.answer_draft(actor)
        suggestion = await self.suggestions.get(draft.suggestion_id)
        department = await self.departments.get(draft.department_id)
        if suggestion is None or department is None:
            raise DomainError("suggestion.unknown")
        return AnswerPreview(
            suggestion=suggestion,
            department=department.name,
            outcome=await self._chosen(draft),
            draft=draft,
            rate_by=last_day(self._rate_by(self.clock.now()), self.zone),
        )

    async def submit_answer(self, actor: User, chat_id: int) -> Answered:
        """Record the answer, in one transaction: the answer (round 2 after re-handling) and
        its commitments; the suggestion answered, with the deadline of the deputy's rating;
        the event; the lead deputy asked to rate, the co-signers and the voters told; the
        draft dropped. The draft is checked again as it stands now (a commitment whose day came
        while it waited goes back to be dated again), and inside the transaction: a double tap
        or a withdrawal, re-assignment or answer in between is refused."""
        desk = await self.desk(actor)
        draft = await self.answer_draft(actor)
        if draft.summary is None or draft.met_deputy is None:
            raise DomainError("answers.no_draft")
        chosen = await self._chosen(draft)
        await self._recheck(actor, chat_id, draft, chosen)
        now = self.clock.now()
        rate_by = self._rate_by(now)
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, draft.suggestion_id)
            handling = self._answering(desk, suggestion, await self._handlings(suggestion.id, tx))
            if handling.assignment.department_id != draft.department_id:
                raise DomainError("answers.reassigned")
            round_no = 2 if suggestion.rehandled else 1
            if await self.repo.answer(suggestion.id, round_no, tx) is not None:
                raise DomainError("answers.already_answered", number=suggestion.number)
            answer_id = await self.repo.add_answer(
                tx,
                suggestion_id=suggestion.id,
                round_no=round_no,
                department_id=draft.department_id,
                outcome_class=chosen.code,
                met_deputy=draft.met_deputy,
                met_on=draft.met_on if draft.met_deputy else None,
                summary=draft.summary,
                recorded_by=actor.telegram_id,
                now=now,
                on_time=suggestion.due_at is None or now <= suggestion.due_at,
            )
            if chosen.ledger:
                promises = [(p.text, p.due_on) for p in draft.commitments]
                await self.repo.add_commitments(tx, suggestion.id, answer_id, promises)
            await self.suggestions.update(
                tx,
                suggestion.id,
                now,
                state=SuggestionState.ANSWERED,
                answered_at=now,
                outcome_class=chosen.code,
                rating_due_at=rate_by,
                ledger_done_at=None,  # round 2: the ledger reopens for its new commitments
            )
            outcome = f"{chosen.code} {chosen.label}"
            await self.trail.record(tx, suggestion, EventKind.ANSWERED, actor.telegram_id, outcome)
            told = await self._tell_answered(tx, suggestion, handling, outcome, draft, rate_by)
            voters = await self.trail.tell_voters(
                tx,
                suggestion,
                VOTERS_TOLD,
                {"department": handling.department, "outcome": outcome},
            )
            await self.answers.put(tx, chat_id, actor.telegram_id, None, None, now)
            answered = present(await self.suggestions.get_for_update(tx, suggestion.id), "answer")
        rate_on = last_day(rate_by, self.zone)
        return Answered(answered, handling.department, chosen, rate_on, told, voters)

    async def _recheck(
        self, actor: User, chat_id: int, draft: AnswerDraft, chosen: OutcomeClass
    ) -> None:
        """The draft as confirmed now: a meeting has its day, and every commitment is still
        due after today (the draft may have waited days). Else the draft goes back to the
        step to redo, and `BackToStep` says which."""
        if draft.met_deputy and draft.met_on is None:
            await self._keep_answer(actor, chat_id, draft, AnswerStep.MET_DATE)
            raise BackToStep(AnswerStep.MET_DATE, "answers.met_date_missing")
        if not chosen.ledger:
            return
        today = self.today()
        passed = [p for p in draft.commitments if p.due_on <= today]
        if passed:
            draft.commitments = [p for p in draft.commitments if p.due_on > today]
            step = AnswerStep.COMMITMENTS if draft.commitments else AnswerStep.COMMITMENT
            await self._keep_answer(actor, chat_id, draft, step)
            raise BackToStep(step, "answers.commitments_passed", count=len(passed))
        if not draft.commitments:
            await self._keep_answer(actor, chat_id, draft, AnswerStep.COMMITMENT)
            raise BackToStep(AnswerStep.COMMITMENT, "answers.commitment_needed")

    async def _tell_answered(
        self,
        tx: Tx,
        suggestion: Suggestion,
        handling: Handling,
        outcome: str,
        draft: AnswerDraft,
        rate_by: datetime,
    ) -> int:
        """The lead deputy asked to rate the answer; the confirmed co-signers told. Returns
        how many co-signers."""
        rate = NoticeButton(
            label="answers.rate_button", intent=Intent.RATE_SUGGESTION, target=suggestion.id
        )
        kind = "answers.kind_reanswer" if suggestion.rehandled else "answers.kind_answer"
        await self.outbox.notify(
            tx,
            suggestion.lead_deputy_id,
            "answers.notice_answered",
            buttons=[[rate]],
            number=suggestion.number,
            title=suggestion.title,
            kind_key=kind,
            department=handling.department,
            outcome=outcome,
            summary=draft.summary or "",
            rate_by_on=last_day(rate_by, self.zone).isoformat(),
        )
        cosigners = [
            c.deputy_id
            for c in await self.suggestions.cosigners(suggestion.id, tx)
            if c.state == CosignerState.CONFIRMED
        ]
        for deputy_id in cosigners:
            await self.outbox.notify(
                tx,
                deputy_id,
                "answers.notice_answered_cosigner",
                number=suggestion.number,
                title=suggestion.title,
                kind_key=kind,
                department=handling.department,
                outcome=outcome,
            )
        return len(cosigners)

    # --- 退办 and more time ----------------------------------------------------------------

    def _return_refusal(
        self, suggestion: Suggestion, handling: Handling, on_behalf: bool = False
    ) -> DomainError | None:
        """Why the assignment may not be returned now: the suggestion's state, or for the
        department itself its working days are over (staff acting for it have no limit)."""
        if suggestion.state not in RETURNABLE:
            return DomainError("answers.return_not_now", number=suggestion.number)
        if on_behalf:
            return None
        until = self.return_deadline(handling.assignment)
        if self.clock.now() >= until:
            days = self.settings.suggestion_return_days
            return DomainError(
                "answers.return_too_late", days=days, last_day=last_day(until, self.zone)
            )
        return None

    def _extension_refusal(
        self, suggestion: Suggestion, handling: Handling, asked_at: datetime | None
    ) -> DomainError | None:
        """Why the department may not ask for more time; `asked_at`: when it was first asked,
        if ever (once per suggestion, granted or refused)."""
        if not handling.assignment.lead:
            return DomainError("answers.co_cannot_extend")
        if suggestion.state != SuggestionState.ASSIGNED:
            return DomainError("answers.extension_not_now", number=suggestion.number)
        if suggestion.extended:
            return DomainError("answers.already_extended")
        asked_at = asked_at or suggestion.extension_requested_at
        if asked_at is not None:
            asked = asked_at.astimezone(self.zone).date()
            return DomainError("answers.extension_already_asked", date=asked)
        return None

    async def _suggestion(self, suggestion_id: int, tx: Tx | None = None) -> Suggestion:
        if tx is not None:
            return await self.trail.load(tx, suggestion_id)
        suggestion = await self.suggestions.get(suggestion_id)
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        return suggestion

    async def _own_assignment(
        self, actor: User, suggestion_id: int, tx: Tx | None = None
    ) -> tuple[Suggestion, Handling]:
        liaison = await self.liaison(actor)
        suggestion = await self._suggestion(suggestion_id, tx)
        return suggestion, self._own(liaison, await self._handlings(suggestion_id, tx))

    async def _requested(
        self, actor: User, draft: RequestDraft, tx: Tx | None = None
    ) -> tuple[Suggestion, Handling]:
        """The suggestion and the assignment a request is about: the liaison's own, or for
        staff acting on a department's behalf, the one they picked while it is active."""
        if not draft.on_behalf:
            return await self._own_assignment(actor, draft.suggestion_id, tx)
        ensure(actor, Action.ASSIGN_SUGGESTION)
        suggestion = await self._suggestion(draft.suggestion_id, tx)
        for handling in await self._handlings(suggestion.id, tx):
            if handling.assignment.id == draft.assignment_id:
                return suggestion, handling
        assignment = await self.repo.assignment(draft.assignment_id, tx)
        department = (
            None if assignment is None else await self.departments.get(assignment.department_id, tx)
        )
        raise DomainError(
            "answers.return_for_gone",
            department=department.name if department is not None else "—",
            number=suggestion.number,
        )

    async def begin_return_for(
        self, actor: User, chat_id: int, assignment_id: int
    ) -> tuple[Suggestion, Handling]:
        """Staff open a return (退办) on a department's behalf, from their card: the same
        return as the department's own, without its limit of working days."""
        ensure(actor, Action.ASSIGN_SUGGESTION)
        assignment = await self.repo.assignment(assignment_id)
        if assignment is None:
            raise AccessDenied("error.stale_button")
        draft = RequestDraft(
            kind=RequestKind.RETURN,
            suggestion_id=assignment.suggestion_id,
            assignment_id=assignment.id,
            on_behalf=True,
        )
        suggestion, handling = await self._requested(actor, draft)
        refusal = self._return_refusal(suggestion, handling, on_behalf=True)
        if refusal is not None:
            raise refusal
        await self.requests.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        await self._keep_request(actor, chat_id, draft, RequestStep.RETURN_REASON)
        return suggestion, handling

    async def begin_request(
        self, actor: User, chat_id: int, suggestion_id: int, kind: RequestKind
    ) -> tuple[Suggestion, RequestStep, date | None]:
        """Open a return (退办) or a request for more time; for a return, also the last day
        one is taken."""
        suggestion, handling = await self._own_assignment(actor, suggestion_id)
        last: date | None = None
        if kind == RequestKind.RETURN:
            refusal = self._return_refusal(suggestion, handling)
            last = last_day(self.return_deadline(handling.assignment), self.zone)
            step = RequestStep.RETURN_REASON
        else:
            asked_at = await self.repo.extension_asked_at(suggestion.id)
            refusal = self._extension_refusal(suggestion, handling, asked_at)
            step = RequestStep.EXTENSION_REASON
        if refusal is not None:
            raise refusal
        await self.requests.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = RequestDraft(
            kind=kind, suggestion_id=suggestion.id, assignment_id=handling.assignment.id
        )
        await self._keep_request(actor, chat_id, draft, step)
        return suggestion, step, last

    async def request_draft(self, actor: User) -> RequestDraft:
        return await self.requests.required(actor, "answers.no_request")

    async def _keep_request(
        self, actor: User, chat_id: int, draft: RequestDraft | None, step: RequestStep | None
    ) -> None:
        await self.requests.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def discard_request(self, actor: User, chat_id: int) -> None:
        await self._keep_request(actor, chat_id, None, None)

    async def set_reason(self, actor: User, chat_id: int, raw: str | None) -> RequestStep:
        draft = await self.request_draft(actor)
        draft.reason = request_reason(raw)
        if draft.kind == RequestKind.RETURN:
            step = RequestStep.RETURN_DEPARTMENT
        else:
            step = RequestStep.EXTENSION_CONFIRM
        await self._keep_request(actor, chat_id, draft, step)
        return step

    async def set_proposed(self, actor: User, chat_id: int, raw: str | None) -> RequestStep:
        """The department proposed instead, typed; None: skipped."""
        draft = await self.request_draft(actor)
        draft.proposed = "" if raw is None else proposed_department(raw)
        await self._keep_request(actor, chat_id, draft, RequestStep.RETURN_CONFIRM)
        return RequestStep.RETURN_CONFIRM

    async def request_preview(self, actor: User) -> RequestPreview:
        draft = await self.request_draft(actor)
        suggestion, handling = await self._requested(actor, draft)
        return RequestPreview(suggestion, handling, draft)

    async def submit_request(self, actor: User, chat_id: int) -> RequestPreview:
        """The return or the request for more time, in one transaction with its event, the
        notices and the end of the conversation; the rules checked again inside it."""
        draft = await self.request_draft(actor)
        if draft.reason is None:
            raise DomainError("answers.no_request")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion, handling = await self._requested(actor, draft, tx)
            if handling.assignment.id != draft.assignment_id:
                raise AccessDenied("answers.not_your_assignment")
            if draft.kind == RequestKind.RETURN:
                await self._return(tx, actor, suggestion, handling, draft, now)
            else:
                await self._ask_extension(tx, actor, suggestion, handling, draft, now)
            await self.requests.put(tx, chat_id, actor.telegram_id, None, None, now)
            done = present(await self.suggestions.get_for_update(tx, suggestion.id), "request")
        return RequestPreview(done, handling, draft)

    async def _return(
        self,
        tx: Tx,
        actor: User,
        suggestion: Suggestion,
        handling: Handling,
        draft: RequestDraft,
        now: datetime,
    ) -> None:
        """退办: the assignment ends as returned; the lead's return sends the suggestion back
        to staff (returned, no deadline) while co-handlers stay; staff (but the one who made
        it) and the deputy told, and when staff made it for the department, its liaisons."""
        refusal = self._return_refusal(suggestion, handling, draft.on_behalf)
        if refusal is not None:
            raise refusal
        reason = draft.reason or ""
        returned = await self.repo.return_assignment(
            tx, handling.assignment.id, reason, draft.proposed, now
        )
        if not returned:
            raise AccessDenied("answers.not_your_assignment")
        lead = handling.assignment.lead
        if lead:
            await self.suggestions.update(
                tx, suggestion.id, now, state=SuggestionState.RETURNED, due_at=None
            )
        role = "answers.role_lead" if lead else "answers.role_co"
        note = f"{handling.department}: {reason}"
        await self.trail.record(tx, suggestion, EventKind.RETURNED, actor.telegram_id, note)
        review = NoticeButton(
            label="answers.review_button", intent=Intent.REVIEW_SUGGESTION, target=suggestion.id
        )
        for staff_id in await self.users.staff_ids(tx):
            if staff_id == actor.telegram_id:
                continue  # who made the return needs no notice of it
            await self.outbox.notify(
                tx,
                staff_id,
                "answers.notice_returned_staff",
                buttons=[[review]],
                number=suggestion.number,
                title=suggestion.title,
                department=handling.department,
                role_key=role,
                reason=reason,
                proposed=draft.proposed or "—",
            )
        await self.outbox.notify(
            tx,
            suggestion.lead_deputy_id,
            "answers.notice_returned_deputy",
            number=suggestion.number,
            title=suggestion.title,
            department=handling.department,
            role_key=role,
        )
        if draft.on_behalf:
            department = [handling.assignment.department_id]
            for liaison in await self.suggestions.liaison_ids(tx, department):
                await self.outbox.notify(
                    tx,
                    liaison,
                    "answers.notice_returned_for_department",
                    number=suggestion.number,
                    title=suggestion.title,
                    department=handling.department,
                    reason=reason,
                )

    async def _ask_extension(
        self,
        tx: Tx,
        actor: User,
        suggestion: Suggestion,
        handling: Handling,
        draft: RequestDraft,
        now: datetime,
    ) -> None:
        """The lead department asks for more time, once; staff approve or refuse it."""
        asked_at = await self.repo.extension_asked_at(suggestion.id, tx)
        refusal = self._extension_refusal(suggestion, handling, asked_at)
        if refusal is not None:
            raise refusal
        reason = draft.reason or ""
        await self.suggestions.update(
            tx, suggestion.id, now, extension_requested_at=now, extension_reason=reason
        )
        await self.trail.record(
            tx, suggestion, EventKind.EXTENSION_REQUESTED, actor.telegram_id, reason
        )
        review = NoticeButton(
            label="answers.review_button", intent=Intent.REVIEW_SUGGESTION, target=suggestion.id
        )
        due = suggestion.due_at or now
        for staff_id in await self.users.staff_ids(tx):
            await self.outbox.notify(
                tx,
                staff_id,
                "answers.notice_extension_staff",
                buttons=[[review]],
                number=suggestion.number,
                title=suggestion.title,
                department=handling.department,
                reason=reason,
                due_on=last_day(due, self.zone).isoformat(),
            )

    # --- the year's outcome classes (python -m bot classes) -----------------------------------

    async def year_classes(self, year: int) -> tuple[list[OutcomeClass], bool]:
        """The classes answers of `year` take, and whether staff set them (else the
        default)."""
        kept = await self.classes.of_year(year)
        return (kept, True) if kept else (await self.trail.outcome_classes(year), False)

    def _year_span(self, year: int) -> tuple[datetime, datetime]:
        start = datetime.combine(date(year, 1, 1), time(0), tzinfo=self.zone)
        end = datetime.combine(date(year + 1, 1, 1), time(0), tzinfo=self.zone)
        return start, end

    async def set_year_classes(self, year: int, classes: list[OutcomeClass]) -> None:
        """Replace the year's classes; a code that answers of that year already use must
        stay, and keep whether it counts as progress and keeps commitments on the ledger
        (their answers would change meaning); its label may be reworded."""
        start, end = self._year_span(year)
        given = {c.code: c for c in classes}
        async with self.db.transaction() as tx:
            used = await self.repo.class_codes_used(tx, start, end)
            dropped = sorted(code for code in used if code not in given)
            if dropped:
                count = sum(used[code] for code in dropped)
                raise DomainError(
                    "classes.code_in_use", year=year, code=", ".join(dropped), count=count
                )
            now = {c.code: c for c in await self.trail.outcome_classes(year)}
            changed = sorted(
                code
                for code in used
                if code in now
                and (given[code].ledger, given[code].counts_as_progress)
                != (now[code].ledger, now[code].counts_as_progress)
            )
            if changed:
                raise DomainError(
                    "classes.meaning_in_use",
                    year=year,
                    code=", ".join(changed),
                    count=sum(used[code] for code in changed),
                )
            await self.classes.replace_year(tx, year, classes)
