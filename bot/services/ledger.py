"""The ledger (台账) of suggestions: the staff's list (by status, department, class, overdue,
priority), a suggestion's card and the .xlsx; the commitments of a promised solution
(a class with `ledger`, B by default) with their written progress updates, a reminder to the
department on each commitment's date and an alert to staff when no update follows; staff's
corrections of an answer; and publication (建议公开) of answered suggestions whose lead
deputy agreed, to the public channel, a correction editing the post.

A suggestion is on the ledger while its latest answer's class has `ledger` (the classes of
the year of its first 交办) and not every commitment of that answer is done."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel

from bot.access import Action, allowed, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError
from bot.i18n import Texts
from bot.services import ledger_documents as documents
from bot.services.consultation_documents import ReportFile
from bot.services.conversations import Conversation, DraftStore
from bot.services.deputy_notices import QuietHours
from bot.services.outbox import Intent, NoticeButton, Outbox
from bot.services.paging import clamp_page
from bot.services.suggestion_answers import SUMMARY_MAX
from bot.services.suggestion_trail import EventKind, SuggestionTrail, handling_year
from bot.services.text import clip, clip_units, typed
from bot.settings import Settings
from storage import Database
from storage.db import Tx
from storage.models import (
    Commitment,
    CommitmentUpdate,
    CosignerState,
    OutcomeClass,
    Suggestion,
    SuggestionAnswer,
    SuggestionState,
    User,
)
from storage.repos.ledger import Due, Entry, Handler, LedgerRepo, Row, Selection, YearClass
from storage.repos.suggestions import SuggestionRepo
from storage.repos.users import UserRepo

UPDATE_MIN = 5
UPDATE_MAX = 1000
# what a channel post repeats of a suggestion, in UTF-16 code units as Telegram counts its
# 4,096 (an emoji counts two): with the number and the template's words, about 3,800 at most
POST_TITLE = 200
POST_PROPOSALS = 1500
POST_SUMMARY = 1800
POST_DEPARTMENT = 100
POST_OUTCOME = 100
IN_NOTICE = 300  # characters of a commitment's text a notice repeats
# a post the channel refused (the bot not yet an administrator …) is tried again once a day,
# this many times
REPOST_EVERY = timedelta(days=1)
REPOSTS = 7
# the states in which an answer stands (re-handling: the first answer stands until the next)
ANSWERED = frozenset({SuggestionState.ANSWERED, SuggestionState.REHANDLING, SuggestionState.CLOSED})
AWAITING_ANSWER = frozenset({SuggestionState.ASSIGNED, SuggestionState.REHANDLING})


class LedgerStatus(StrEnum):
    """The status filter: every suggestion assigned, or those on the ledger still open, or
    those whose commitments were all done."""

    ALL = "all"
    OPEN = "open"
    DONE = "done"


class UpdateOutcome(StrEnum):
    """What a progress update says of its commitment."""

    DONE = "done"
    OPEN = "open"  # under way
    BLOCKED = "blocked"  # it cannot be done: the update is the written explanation


class UpdateStep(StrEnum):
    """The steps of a progress update (stored: a restart resumes)."""

    WRITE = "write"  # the update is typed
    OUTCOME = "outcome"  # then: done, not yet, or cannot be done


class UpdateDraft(BaseModel):
    commitment: int | None = None
    text: str = ""


UPDATE = Conversation(
    "commitment_update",
    steps=UpdateStep,
    draft=UpdateDraft,
    needs=Action.ANSWER_SUGGESTION,
)


class CorrectStep(StrEnum):
    SUMMARY = "summary"  # staff type the answer's corrected summary


class CorrectDraft(BaseModel):
    suggestion: int | None = None


CORRECT = Conversation(
    "answer_correction",
    steps=CorrectStep,
    draft=CorrectDraft,
    needs=Action.VIEW_LEDGER,
)


@dataclass(frozen=True)
class LedgerFilter:
    """What the ledger's list shows: `department` 0 and `outcome_class` "" are any."""

    status: LedgerStatus = LedgerStatus.ALL
    department: int = 0
    outcome_class: str = ""
    overdue: bool = False
    priority: bool = False


@dataclass(frozen=True)
class Listed:
    """One line of the list: the suggestion, its ledger status (None: not on the ledger)."""

    entry: Entry

    @property
    def status(self) -> LedgerStatus | None:
        return status_of(self.entry.on_ledger, self.entry.done)

    @property
    def overdue(self) -> bool:
        return self.entry.overdue

    @property
    def department(self) -> str:
        return self.entry.department


@dataclass(frozen=True)
class LedgerPage:
    items: list[Listed]
    page: int
    pages: int
    total: int  # those the filter lets through
    open: int  # of them, on the ledger and open
    done: int  # and done
    departments: dict[int, str]  # every department that handled one, by id
    classes: list[str]  # the class codes to filter by, in order


@dataclass(frozen=True)
class Promised:
    """A commitment with its progress updates, oldest first."""

    commitment: Commitment
    updates: list[CommitmentUpdate]
    overdue: bool


@dataclass(frozen=True)
class LedgerCard:
    suggestion: Suggestion
    lead_deputy: str
    cosigners: list[str]
    handlers: list[Handler]
    answer: SuggestionAnswer | None
    answer_department: str
    outcome: str  # the class's code and label
    promised: list[Promised]
    status: LedgerStatus | None
    overdue: bool
    classes: list[OutcomeClass]  # the year's classes, for a correction


@dataclass(frozen=True)
class CommitmentView:
    """A commitment as its department (or staff) sees it to post an update."""

    suggestion: Suggestion
    commitment: Commitment
    department: str
    updates: list[CommitmentUpdate]


@dataclass(frozen=True)
class UpdatePosted:
    view: CommitmentView
    outcome: UpdateOutcome
    all_done: bool  # the last open commitment: the suggestion left the ledger


@dataclass
class Years:
    """The outcome classes of the years a call needs, read once (`load`), then looked up:
    the one place a class is worded ("B 正在解决或列入计划逐步解决")."""

    trail: SuggestionTrail
    kept: dict[int, list[OutcomeClass]] = field(default_factory=dict)
    labels: dict[tuple[int, str], str] = field(default_factory=dict)

    async def load(self, years: Iterable[int]) -> Years:
        for year in set(years) - set(self.kept):
            classes = self.kept[year] = await self.trail.outcome_classes(year)
            self.labels.update({(year, c.code): f"{c.code} {c.label}" for c in classes})
        return self

    def label(self, year: int, code: str) -> str:
        """ "B 正在解决或列入计划逐步解决"; a code the year no longer has, as it is."""
        return self.labels.get((year, code), code)


def status_of(on_ledger: bool, done: bool) -> LedgerStatus | None:
    """A suggestion's ledger status: open or done on it, None off it."""
    if not on_ledger:
        return None
    return LedgerStatus.DONE if done else LedgerStatus.OPEN


class Ledger:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.zone = settings.zone
        self.quiet = QuietHours.of(settings)
        self.trail = SuggestionTrail(db, clock, outbox)
        self.suggestions = SuggestionRepo(db)
        self.users = UserRepo(db)
        self.repo = LedgerRepo(db)
        self.updating = DraftStore(db, UPDATE)
        self.correcting = DraftStore(db, CORRECT)

    # --- the rules ---------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def _new_year(self, year: int) -> datetime:
        return datetime.combine(date(year, 1, 1), time(0), tzinfo=self.zone)

    async def year_classes(self) -> list[YearClass]:
        """Every year's outcome classes, over the years of first 交办 (handling_year): what
        the list, the .xlsx and the sweep judge each suggestion by."""
        span = await self.repo.assigned_span()
        if span is None:
            return []
        first, last = (moment.astimezone(self.zone).year for moment in span)
        years = await Years(self.trail).load(range(first, last + 1))
        return [
            YearClass(
                self._new_year(year),
                self._new_year(year + 1),
                c.code,
                years.label(year, c.code),
                c.ledger,
            )
            for year in range(first, last + 1)
            for c in years.kept[year]
        ]

    async def selection(self, wanted: LedgerFilter) -> Selection:
        """The filter in storage's terms, with the classes and the time the rules judge by."""
        status = "" if wanted.status == LedgerStatus.ALL else wanted.status.value
        return Selection(
            classes=await self.year_classes(),
            now=self.clock.now(),
            today=self.today(),
            status=status,
            department=wanted.department,
            outcome_class=wanted.outcome_class,
            overdue=wanted.overdue,
            priority=wanted.priority,
        )

    # --- the list ------------------------------------------------------------------------------

    async def page(self, actor: User, wanted: LedgerFilter, page: int, per_page: int) -> LedgerPage:
        """A page of the suggestions the filter lets through, newest first (the filter and
        the paging done by the database)."""
        ensure(actor, Action.VIEW_LEDGER)
        selection = await self.selection(wanted)
        counts = await self.repo.counts(selection)
        page, pages = clamp_page(page, counts.total, per_page)
        entries = await self.repo.entries(selection, page * per_page, per_page)
        classes = [c.code for c in await self.trail.outcome_classes(self.today().year)]
        classes += [code for code in await self.repo.outcome_codes() if code not in classes]
        if wanted.outcome_class and wanted.outcome_class not in classes:
            classes.append(wanted.outcome_class)
        return LedgerPage(
            items=[Listed(entry) for entry in entries],
            page=page,
            pages=pages,
            total=counts.total,
            open=counts.open,
            done=counts.done,
            departments=dict(await self.repo.departments()),
            classes=classes,
        )

    async def departments(self, actor: User) -> list[tuple[int, str]]:
        """The departments to filter by: every one that ever handled a suggestion."""
        ensure(actor, Action.VIEW_LEDGER)
        return await self.repo.departments()

    async def export(self, actor: User, wanted: LedgerFilter, texts: Texts) -> ReportFile:
        """The .xlsx of what the filter lets through: one row per suggestion."""
        ensure(actor, Action.VIEW_LEDGER)
        rows = await self.repo.rows(await self.selection(wanted))
        book = self._book(rows)
        content = await asyncio.to_thread(documents.xlsx, book, texts)  # seconds of CPU
        return ReportFile(documents.file_name(texts, self.clock.now()), content)

    def _book(self, rows: list[Row]) -> documents.Book:
        lines = [
            documents.Line(row, status_of(row.on_ledger, row.ledger_done_at is not None))
            for row in rows
        ]
        return documents.Book(lines, self.zone)

    # --- a suggestion's card ---------------------------------------------------------------------

    async def card(self, actor: User, suggestion_id: int) -> LedgerCard:
        ensure(actor, Action.VIEW_LEDGER)
        suggestion = await self.suggestions.get(suggestion_id)
        if suggestion is None or suggestion.first_assigned_at is None:
            raise DomainError("suggestion.unknown")
        entry = await self.repo.entry(await self.selection(LedgerFilter()), suggestion.id)
        if entry is None:
            raise DomainError("suggestion.unknown")
        year = handling_year(suggestion, self.zone)
        years = await Years(self.trail).load([year])
        answer = await self.repo.latest_answer(suggestion.id)
        commitments = await self.repo.commitments(answer.id) if answer else []
        updates = await self.repo.updates([c.id for c in commitments])
        today = self.today()
        status = status_of(entry.on_ledger, entry.done)
        promised = [
            Promised(
                c,
                updates.get(c.id, []),
                status == LedgerStatus.OPEN and c.done_at is None and c.due_on < today,
            )
            for c in commitments
        ]
        cosigners = await self.suggestions.cosigners(suggestion.id)
        names = [
            await self.repo.deputy_name(c.deputy_id)
            for c in cosigners
            if c.state == CosignerState.CONFIRMED
        ]
        return LedgerCard(
            suggestion=suggestion,
            lead_deputy=await self.repo.deputy_name(suggestion.lead_deputy_id),
            cosigners=names,
            handlers=await self.repo.handlers(suggestion.id),
            answer=answer,
            answer_department=await self.repo.department_name(answer.department_id) or ""
            if answer
            else "",
            outcome=years.label(year, answer.outcome_class) if answer else "",
            promised=promised,
            status=status,
            overdue=entry.overdue,
            classes=years.kept[year],
        )

    # --- progress updates on a commitment ----------------------------------------------------

    async def _commitment(self, actor: User, commitment_id: int) -> CommitmentView:
        """The commitment, for its department's liaison or staff; refused while the
        suggestion is handled again (the new answer brings its own commitments), and once
        its answer was replaced by a later one."""
        ensure(actor, Action.ANSWER_SUGGESTION)
        commitment = await self.repo.commitment(commitment_id)
        if commitment is None:
            raise DomainError("ledger.commitment_unknown")
        suggestion = await self.suggestions.get(commitment.suggestion_id)
        answer = await self.repo.latest_answer(commitment.suggestion_id)
        if suggestion is None or answer is None:
            raise DomainError("ledger.commitment_unknown")
        if not allowed(actor, Action.VIEW_LEDGER) and not await self.repo.is_liaison_of(
            actor.telegram_id, answer.department_id
        ):
            raise AccessDenied("ledger.not_your_commitment")
        if answer.id != commitment.answer_id:
            raise DomainError("ledger.commitment_replaced", number=suggestion.number)
        self._not_rehandling(suggestion)
        updates = await self.repo.updates([commitment.id])
        return CommitmentView(
            suggestion=suggestion,
            commitment=commitment,
            department=await self.repo.department_name(answer.department_id) or "",
            updates=updates.get(commitment.id, []),
        )

    async def commitment(self, actor: User, commitment_id: int) -> CommitmentView:
        return await self._commitment(actor, commitment_id)

    @staticmethod
    def _not_rehandling(suggestion: Suggestion) -> None:
        """Round 1's commitments wait while the suggestion is handled again: done meanwhile,
        they would take it off the ledger before round 2 is answered."""
        if suggestion.state == SuggestionState.REHANDLING:
            raise DomainError("ledger.commitment_rehandling", number=suggestion.number)

    @staticmethod
    def _open(view: CommitmentView) -> None:
        if view.commitment.done_at is not None:
            raise DomainError("ledger.commitment_done")

    async def begin_update(self, actor: User, chat_id: int, commitment_id: int) -> CommitmentView:
        view = await self._commitment(actor, commitment_id)
        self._open(view)
        await self.updating.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = UpdateDraft(commitment=commitment_id)
        await self.updating.keep(
            chat_id, actor.telegram_id, draft, UpdateStep.WRITE, self.clock.now()
        )
        return view

    async def update_draft(self, actor: User) -> UpdateDraft:
        ensure(actor, Action.ANSWER_SUGGESTION)
        draft = await self.updating.load(actor.telegram_id)
        if draft is None or draft.commitment is None:
            raise DomainError("ledger.no_draft")
        return draft

    async def write_update(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[CommitmentView, str]:
        """The update typed (again: it replaces the last one); then its outcome is asked."""
        draft = await self.update_draft(actor)
        view = await self._commitment(actor, draft.commitment or 0)
        self._open(view)
        text = typed(
            raw,
            minimum=UPDATE_MIN,
            maximum=UPDATE_MAX,
            empty="ledger.update_empty",
            too_short="ledger.update_too_short",
            too_long="ledger.update_too_long",
        )
        kept = draft.model_copy(update={"text": text})
        await self.updating.keep(
            chat_id, actor.telegram_id, kept, UpdateStep.OUTCOME, self.clock.now()
        )
        return view, text

    async def post_update(
        self, actor: User, chat_id: int, commitment_id: int, outcome: UpdateOutcome
    ) -> UpdatePosted:
        """The update saved with what it says: done (the last one takes the suggestion off
        the ledger: the deputy and the voters told), under way, or cannot be done (staff
        told: the update is the written explanation, the commitment stays open)."""
        view = await self._commitment(actor, commitment_id)
        self._open(view)  # a replay after it was done says so
        draft = await self.update_draft(actor)
        if draft.commitment != commitment_id or not draft.text:
            raise DomainError("ledger.no_draft")
        now = self.clock.now()
        all_done = False
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, view.suggestion.id)
            self._not_rehandling(suggestion)  # re-handling asked meanwhile
            current = await self.repo.commitment(commitment_id, tx)
            if current is None or current.done_at is not None:  # done meanwhile, by another
                raise DomainError("ledger.commitment_done")
            latest = await self.repo.latest_answer(suggestion.id, tx)
            if latest is None or latest.id != current.answer_id:  # answered again meanwhile
                raise DomainError("ledger.commitment_replaced", number=suggestion.number)
            done = outcome == UpdateOutcome.DONE
            if done:
                await self.repo.mark_done(tx, commitment_id, now)
            await self.repo.add_update(tx, commitment_id, draft.text, done, actor.telegram_id, now)
            text = clip(view.commitment.text, IN_NOTICE)
            if done:
                await self.trail.record(
                    tx, suggestion, EventKind.COMMITMENT_DONE, actor.telegram_id, text
                )
                all_done = await self._maybe_all_done(tx, suggestion, view.commitment, now)
            elif outcome == UpdateOutcome.BLOCKED:
                await self.trail.record(
                    tx, suggestion, EventKind.COMMITMENT_BLOCKED, actor.telegram_id, draft.text
                )
                await self._tell_staff_blocked(tx, suggestion, view, draft.text)
            else:
                await self.trail.record(
                    tx, suggestion, EventKind.COMMITMENT_UPDATE, actor.telegram_id, draft.text
                )
            await self.updating.put(tx, chat_id, actor.telegram_id, None, None, now)
        return UpdatePosted(await self._commitment(actor, commitment_id), outcome, all_done)

    async def _maybe_all_done(
        self, tx: Tx, suggestion: Suggestion, commitment: Commitment, now: datetime
    ) -> bool:
        if await self.repo.open_commitments(tx, commitment.answer_id):
            return False
        await self.suggestions.update(tx, suggestion.id, now, ledger_done_at=now)
        await self.trail.record(tx, suggestion, EventKind.LEDGER_DONE, None)
        await self.outbox.notify(
            tx,
            suggestion.lead_deputy_id,
            "ledger.notice_done_deputy",
            number=suggestion.number,
            title=suggestion.title,
        )
        await self.trail.tell_voters(tx, suggestion, "ledger.notice_done_voters")
        return True

    async def _tell_staff_blocked(
        self, tx: Tx, suggestion: Suggestion, view: CommitmentView, explanation: str
    ) -> None:
        button = NoticeButton(
            label="ledger.open_commitment_button",
            intent=Intent.COMMITMENT_UPDATE,
            target=view.commitment.id,
        )
        for staff_id in await self.users.staff_ids(tx):
            await self.outbox.notify(
                tx,
                staff_id,
                "ledger.notice_blocked",
                buttons=[[button]],
                number=suggestion.number,
                title=suggestion.title,
                department=view.department,
                commitment=clip(view.commitment.text, IN_NOTICE),
                explanation=explanation,
            )

    async def discard_update(self, actor: User, chat_id: int) -> None:
        await self.updating.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    # --- staff correct an answer -------------------------------------------------------------

    async def _correctable(
        self, actor: User, suggestion_id: int
    ) -> tuple[Suggestion, SuggestionAnswer]:
        ensure(actor, Action.VIEW_LEDGER)
        suggestion = await self.suggestions.get(suggestion_id)
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        answer = await self.repo.latest_answer(suggestion.id)
        if answer is None or suggestion.state not in ANSWERED:
            raise DomainError("ledger.not_answered", number=suggestion.number)
        return suggestion, answer

    async def begin_correction(
        self, actor: User, chat_id: int, suggestion_id: int
    ) -> SuggestionAnswer:
        suggestion, answer = await self._correctable(actor, suggestion_id)
        await self.correcting.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = CorrectDraft(suggestion=suggestion.id)
        await self.correcting.keep(
            chat_id, actor.telegram_id, draft, CorrectStep.SUMMARY, self.clock.now()
        )
        return answer

    async def correction_draft(self, actor: User) -> CorrectDraft:
        ensure(actor, Action.VIEW_LEDGER)
        draft = await self.correcting.load(actor.telegram_id)
        if draft is None or draft.suggestion is None:
            raise DomainError("ledger.no_draft")
        return draft

    async def correct_summary(self, actor: User, chat_id: int, raw: str | None) -> Suggestion:
        """The corrected summary, typed: saved at once (the deputy told, the post edited)."""
        draft = await self.correction_draft(actor)
        summary = typed(
            raw,
            maximum=SUMMARY_MAX,
            empty="ledger.summary_empty",
            too_long="ledger.summary_too_long",
        )
        suggestion = await self._correct(actor, draft.suggestion or 0, summary=summary)
        await self.correcting.keep(chat_id, actor.telegram_id, None, None, self.clock.now())
        return suggestion

    async def correct_class(self, actor: User, suggestion_id: int, code: str) -> Suggestion:
        """A class of the year chosen instead; one that keeps a ledger needs commitments the
        answer made (else the department answers again)."""
        suggestion, answer = await self._correctable(actor, suggestion_id)
        chosen = next(
            (
                c
                for c in await self.trail.outcome_classes(handling_year(suggestion, self.zone))
                if c.code == code
            ),
            None,
        )
        if chosen is None:
            raise AccessDenied("error.stale_button")
        if chosen.code == answer.outcome_class:
            raise DomainError("ledger.class_unchanged", outcome=chosen.code)
        if chosen.ledger and not await self.repo.commitments(answer.id):
            raise DomainError("ledger.class_needs_commitments", outcome=chosen.code)
        return await self._correct(actor, suggestion.id, outcome_class=chosen.code)

    async def discard_correction(self, actor: User, chat_id: int) -> None:
        await self.correcting.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    async def _correct(
        self,
        actor: User,
        suggestion_id: int,
        *,
        summary: str | None = None,
        outcome_class: str | None = None,
    ) -> Suggestion:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, suggestion_id)
            answer = await self.repo.latest_answer(suggestion.id, tx)
            if answer is None or suggestion.state not in ANSWERED:
                raise DomainError("ledger.not_answered", number=suggestion.number)
            await self.repo.correct_answer(
                tx, answer.id, summary=summary, outcome_class=outcome_class
            )
            if outcome_class is not None:
                await self.suggestions.update(tx, suggestion.id, now, outcome_class=outcome_class)
                note = f"{answer.outcome_class} → {outcome_class}"
                what = "ledger.corrected_class"
            else:
                note = clip(summary or "", IN_NOTICE)
                what = "ledger.corrected_summary"
            await self.trail.record(
                tx, suggestion, EventKind.ANSWER_CORRECTED, actor.telegram_id, note
            )
            await self.outbox.notify(
                tx,
                suggestion.lead_deputy_id,
                "ledger.notice_corrected",
                number=suggestion.number,
                title=suggestion.title,
                what_key=what,
            )
            corrected = await self.trail.load(tx, suggestion.id)
            if corrected.channel_outbox_id is not None:
                await self._publish(tx, corrected)
        return corrected

    # --- publication (建议公开) ------------------------------------------------------------------

    async def _publish(self, tx: Tx, suggestion: Suggestion) -> bool:
        """Post (or correct the post of, or post again after a failure) an answered
        suggestion whose lead deputy agreed, to the channel when one is set; False when
        nothing is to be published."""
        channel = self.settings.publication_channel_id
        if channel is None or not suggestion.publish:
            return False
        answer = await self.repo.latest_answer(suggestion.id, tx)
        if answer is None:
            return False
        department = await self.repo.department_name(answer.department_id) or ""
        year = handling_year(suggestion, self.zone)
        years = await Years(self.trail).load([year])
        params: dict[str, object] = {
            "number": suggestion.number,
            "title": clip_units(suggestion.title, POST_TITLE),
            "proposals": clip_units(suggestion.proposals, POST_PROPOSALS),
            "department": clip_units(department, POST_DEPARTMENT),
            "outcome": clip_units(years.label(year, answer.outcome_class), POST_OUTCOME),
            "summary": clip_units(answer.summary, POST_SUMMARY),
        }
        earlier = suggestion.channel_outbox_id
        posted = await self.outbox.post(tx, channel, "ledger.post", params, replaces=earlier)
        await self.repo.mark_posted(tx, suggestion.id, posted, answer.id)
        if earlier is None:
            await self.trail.record(tx, suggestion, EventKind.PUBLISHED, None)
        return True

    async def _publish_due(self, now: datetime) -> int:
        if self.settings.publication_channel_id is None:
            return 0
        queued = 0
        for due in await self.repo.to_publish(now - REPOST_EVERY, REPOSTS):
            async with self.db.transaction() as tx:
                suggestion = await self.trail.load(tx, due.suggestion_id)
                if suggestion.channel_outbox_id != due.post_id:  # posted meanwhile
                    continue
                if await self._publish(tx, suggestion):
                    queued += 1
        return queued

    # --- the sweep -----------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Ask the departments for a progress update on each commitment whose date came,
        alert staff to those still without one `commitment_grace_days` later (each once),
        of suggestions open on the ledger; and post what is to be published (again, after a
        failure); returns how many were queued."""
        now = self.clock.now()
        classes = await self.year_classes()
        queued = 0
        for due in await self.repo.commitments_due(self.today(), classes):
            queued += await self._remind(due, now)
        grace = timedelta(days=self.settings.commitment_grace_days)
        for due in await self.repo.commitments_unanswered(now - grace, classes):
            queued += await self._alert(due, now)
        return queued + await self._publish_due(now)

    @staticmethod
    def _button(commitment: Commitment, label: str) -> NoticeButton:
        return NoticeButton(label=label, intent=Intent.COMMITMENT_UPDATE, target=commitment.id)

    async def _remind(self, due: Due, now: datetime) -> int:
        async with self.db.transaction() as tx:
            if not await self.repo.mark_reminded(tx, due.commitment.id, now):
                return 0
            suggestion = await self.trail.load(tx, due.suggestion_id)
            # a department without the bot: staff post its update for it
            recipients = await self.suggestions.liaison_ids(
                tx, [due.department_id]
            ) or await self.users.staff_ids(tx)
            for recipient in recipients:
                await self.outbox.notify(
                    tx,
                    recipient,
                    "ledger.notice_commitment_due",
                    buttons=[[self._button(due.commitment, "ledger.update_button")]],
                    not_before=self.quiet.held_until(now),
                    number=suggestion.number,
                    title=suggestion.title,
                    commitment=clip(due.commitment.text, IN_NOTICE),
                    due_on=due.commitment.due_on.isoformat(),
                )
        return len(recipients)

    async def _alert(self, due: Due, now: datetime) -> int:
        async with self.db.transaction() as tx:
            if not await self.repo.mark_alerted(tx, due.commitment.id, now):
                return 0
            suggestion = await self.trail.load(tx, due.suggestion_id)
            department = await self.repo.department_name(due.department_id) or ""
            staff = await self.users.staff_ids(tx)
            for staff_id in staff:
                await self.outbox.notify(
                    tx,
                    staff_id,
                    "ledger.notice_commitment_silent",
                    buttons=[[self._button(due.commitment, "ledger.open_commitment_button")]],
                    not_before=self.quiet.held_until(now),
                    number=suggestion.number,
                    title=suggestion.title,
                    department=department,
                    commitment=clip(due.commitment.text, IN_NOTICE),
                    due_on=due.commitment.due_on.isoformat(),
                    days=self.settings.commitment_grace_days,
                )
        return len(staff)
