"""The lead deputy's rating of an answer (满意 / 基本满意 / 不满意, with an optional comment)
within `suggestion_rating_days` official working days of it (代表法: written feedback within
15 working days), and re-handling (重新办理) asked once after 不满意, answered again within
`rehandle_due_months`. A reminder goes a few working days before the last day; an answer
still unrated at the deadline closes the suggestion unrated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError
from bot.services.conversations import Conversation, DraftStore
from bot.services.deputy_notices import QuietHours
from bot.services.ledger import Years
from bot.services.outbox import Intent, NoticeButton, Outbox
from bot.services.suggestion_trail import (
    EventKind,
    SuggestionTrail,
    due_after,
    handling_year,
    last_day,
)
from bot.services.text import typed
from bot.services.working_days import add_working_days
from bot.settings import Settings
from storage import Database
from storage.db import Tx
from storage.models import (
    Commitment,
    Suggestion,
    SuggestionAnswer,
    SuggestionRating,
    SuggestionState,
    User,
)
from storage.repos.calendar import CalendarRepo
from storage.repos.ledger import RATING_SUBJECT, LedgerRepo, rating_reminder_kind
from storage.repos.suggestions import SuggestionRepo
from storage.repos.users import UserRepo

REMIND_WORKING_DAYS = 3  # the lead deputy is reminded when this many working days are left
COMMENT_MAX = 500


class RateStep(StrEnum):
    """The one step of rating (stored: a restart resumes): the rating is chosen; a comment
    may be typed, then it is confirmed."""

    CONFIRM = "confirm"


class RateDraft(BaseModel):
    suggestion: int | None = None
    rating: SuggestionRating | None = None
    comment: str = ""


RATE = Conversation(
    "suggestion_rating",
    steps=RateStep,
    draft=RateDraft,
    needs=Action.RATE_SUGGESTION,
    optional_steps=(RateStep.CONFIRM,),  # walked away from: nothing is lost but a choice
)


@dataclass(frozen=True)
class AnswerView:
    """What the lead deputy rates: the latest answer, who gave it, what it promised."""

    suggestion: Suggestion
    answer: SuggestionAnswer
    department: str
    outcome: str  # the class's code and label, as the year's classes word it
    commitments: list[Commitment]
    last_day: date  # the last day to rate
    may_rehandle: bool  # re-handling is asked once: not after a round-2 answer


@dataclass(frozen=True)
class RatePreview:
    view: AnswerView
    rating: SuggestionRating
    comment: str


@dataclass(frozen=True)
class Rated:
    """The outcome: closed with the rating, or sent back for re-handling (then `due_on`, the
    new answer's last day)."""

    suggestion: Suggestion
    rating: SuggestionRating
    rehandling: bool
    due_on: date | None
    told: int  # departments' liaisons and staff told of the re-handling, or co-signers


class SuggestionFeedback:
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
        self.reminders = CalendarRepo(db)
        self.steps = DraftStore(db, RATE)

    # --- the rules every step checks -------------------------------------------------------

    def _rateable(self, actor: User, suggestion: Suggestion | None) -> Suggestion:
        """The lead deputy's answered suggestion, within the time to rate it."""
        ensure(actor, Action.RATE_SUGGESTION)
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        if suggestion.lead_deputy_id != actor.telegram_id:
            raise AccessDenied("rating.not_lead")
        if suggestion.state != SuggestionState.ANSWERED or suggestion.rating_due_at is None:
            if suggestion.state == SuggestionState.CLOSED and suggestion.rated_at is not None:
                raise DomainError("rating.already_rated", on=suggestion.rated_at)
            raise DomainError("rating.not_awaiting", number=suggestion.number)
        if self.clock.now() >= suggestion.rating_due_at:
            raise DomainError("rating.too_late", day=self.last_day(suggestion.rating_due_at))
        return suggestion

    def last_day(self, deadline: datetime) -> date:
        return last_day(deadline, self.zone)

    async def view(self, actor: User, suggestion_id: int) -> AnswerView:
        """The answer the lead deputy is asked to rate."""
        suggestion = self._rateable(actor, await self.suggestions.get(suggestion_id))
        return await self._view(suggestion)

    async def _view(self, suggestion: Suggestion) -> AnswerView:
        answer = await self.repo.latest_answer(suggestion.id)
        if answer is None or suggestion.rating_due_at is None:
            raise DomainError("rating.not_awaiting", number=suggestion.number)
        year = handling_year(suggestion, self.zone)
        years = await Years(self.trail).load([year])
        return AnswerView(
            suggestion=suggestion,
            answer=answer,
            department=await self.repo.department_name(answer.department_id) or "",
            outcome=years.label(year, answer.outcome_class),
            commitments=await self.repo.commitments(answer.id),
            last_day=self.last_day(suggestion.rating_due_at),
            may_rehandle=not suggestion.rehandled,
        )

    # --- choosing, commenting, confirming ----------------------------------------------------

    async def choose(
        self, actor: User, chat_id: int, suggestion_id: int, rating: SuggestionRating
    ) -> RatePreview:
        """The rating chosen (again, to change it): kept with any comment typed so far."""
        suggestion = self._rateable(actor, await self.suggestions.get(suggestion_id))
        await self.steps.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        kept = await self.steps.load(actor.telegram_id)
        comment = kept.comment if kept is not None and kept.suggestion == suggestion.id else ""
        draft = RateDraft(suggestion=suggestion.id, rating=rating, comment=comment)
        await self.steps.keep(chat_id, actor.telegram_id, draft, RateStep.CONFIRM, self.clock.now())
        return RatePreview(await self._view(suggestion), rating, comment)

    async def comment(self, actor: User, chat_id: int, raw: str | None) -> RatePreview:
        """A comment typed (again: it replaces the last one)."""
        draft = await self._draft(actor)
        suggestion = self._rateable(actor, await self.suggestions.get(draft.suggestion or 0))
        text = typed(
            raw,
            maximum=COMMENT_MAX,
            empty="rating.comment_empty",
            too_long="rating.comment_too_long",
        )
        kept = draft.model_copy(update={"comment": text})
        await self.steps.keep(chat_id, actor.telegram_id, kept, RateStep.CONFIRM, self.clock.now())
        return RatePreview(await self._view(suggestion), self._rating(kept), text)

    async def preview(self, actor: User) -> RatePreview:
        draft = await self._draft(actor)
        suggestion = self._rateable(actor, await self.suggestions.get(draft.suggestion or 0))
        return RatePreview(await self._view(suggestion), self._rating(draft), draft.comment)

    async def _draft(self, actor: User) -> RateDraft:
        ensure(actor, Action.RATE_SUGGESTION)
        draft = await self.steps.load(actor.telegram_id)
        if draft is None or draft.suggestion is None or draft.rating is None:
            raise DomainError("rating.no_draft")
        return draft

    @staticmethod
    def _rating(draft: RateDraft) -> SuggestionRating:
        if draft.rating is None:
            raise DomainError("rating.no_draft")
        return draft.rating

    async def discard(self, actor: User, chat_id: int) -> None:
        await self.steps.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    async def confirm(self, actor: User, chat_id: int, suggestion_id: int, rehandle: bool) -> Rated:
        """The rating given: 满意 and 基本满意 close the suggestion; 不满意 closes it too, or,
        with `rehandle` and never re-handled before, sends it back to the same departments."""
        self._rateable(actor, await self.suggestions.get(suggestion_id))  # a replay: "rated"
        draft = await self._draft(actor)
        if draft.suggestion != suggestion_id:  # the confirm button of another rating
            raise DomainError("rating.no_draft")
        rating = self._rating(draft)
        if rehandle and rating != SuggestionRating.UNSATISFIED:
            raise AccessDenied("error.stale_button")  # only 不满意 offers re-handling
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion = self._rateable(actor, await self.trail.load(tx, suggestion_id))
            if rehandle and suggestion.rehandled:
                raise DomainError("rating.no_third_round")
            if rehandle:
                rated = await self._rehandle(tx, actor, suggestion, draft.comment, now)
            else:
                rated = await self._close(tx, actor, suggestion, rating, draft.comment, now)
            await self.steps.put(tx, chat_id, actor.telegram_id, None, None, now)
        return rated

    async def _close(
        self,
        tx: Tx,
        actor: User,
        suggestion: Suggestion,
        rating: SuggestionRating,
        comment: str,
        now: datetime,
    ) -> Rated:
        if not await self.repo.close(tx, suggestion.id, now, rating, comment):
            raise DomainError("rating.not_awaiting", number=suggestion.number)
        # the label and the card carry the rating; the departments keep it (handled by them)
        await self.trail.record(tx, suggestion, EventKind.RATED, actor.telegram_id)
        rating_key = f"suggestion.rating.{rating.value}"
        cosigners = await self.repo.confirmed_cosigners(tx, suggestion.id)
        for deputy_id in cosigners:
            await self.outbox.notify(
                tx,
                deputy_id,
                "rating.notice_cosigner",
                number=suggestion.number,
                title=suggestion.title,
                rating_key=rating_key,
            )
        # voters hear the outcome, never the deputy's comment
        await self.trail.tell_voters(
            tx, suggestion, "rating.notice_voters_rated", {"rating_key": rating_key}
        )
        closed = suggestion.model_copy(
            update={"state": SuggestionState.CLOSED, "rating": rating, "closed_at": now}
        )
        return Rated(closed, rating, False, None, len(cosigners))

    async def _rehandle(
        self, tx: Tx, actor: User, suggestion: Suggestion, comment: str, now: datetime
    ) -> Rated:
        due = due_after(now, self.settings.rehandle_due_months, self.zone)
        await self.suggestions.update(
            tx,
            suggestion.id,
            now,
            state=SuggestionState.REHANDLING,
            rating=SuggestionRating.UNSATISFIED,
            rated_at=now,
            rating_comment=comment,
            rehandled=True,
            due_at=due,
            rating_due_at=None,
        )
        await self.trail.record(tx, suggestion, EventKind.REHANDLING, actor.telegram_id, comment)
        due_on = self.last_day(due).isoformat()  # told as the last day, in the reader's locale
        params = {
            "number": suggestion.number,
            "title": suggestion.title,
            "comment": comment or "—",
            "due_on": due_on,
        }
        departments = await self.repo.active_department_ids(tx, suggestion.id)
        liaisons = await self.suggestions.liaison_ids(tx, departments)
        open_assignment = NoticeButton(
            label="rating.open_assignment_button",
            intent=Intent.OPEN_ASSIGNMENT,
            target=suggestion.id,
        )
        for liaison_id in liaisons:
            await self.outbox.notify(
                tx,
                liaison_id,
                "rating.notice_rehandle_department",
                buttons=[[open_assignment]],
                params=params,
            )
        staff = await self.users.staff_ids(tx)
        review = NoticeButton(
            label="rating.review_button", intent=Intent.REVIEW_SUGGESTION, target=suggestion.id
        )
        for staff_id in staff:
            await self.outbox.notify(
                tx, staff_id, "rating.notice_rehandle_staff", buttons=[[review]], params=params
            )
        for deputy_id in await self.repo.confirmed_cosigners(tx, suggestion.id):
            await self.outbox.notify(
                tx,
                deputy_id,
                "rating.notice_cosigner_rehandling",
                number=suggestion.number,
                title=suggestion.title,
            )
        await self.trail.tell_voters(
            tx, suggestion, "rating.notice_voters_rehandling", {"due_on": due_on}
        )
        sent_back = suggestion.model_copy(
            update={"state": SuggestionState.REHANDLING, "rehandled": True, "due_at": due}
        )
        told = len(liaisons) + len(staff)
        return Rated(sent_back, SuggestionRating.UNSATISFIED, True, self.last_day(due), told)

    # --- the deadline ---------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Remind the lead deputies whose last day to rate is near (once per answer), and
        close the suggestions whose answer went unrated past the deadline; returns how many
        notices were queued. Only those due are read: a sweep with nothing due writes
        nothing."""
        now = self.clock.now()
        today = now.astimezone(self.zone).date()
        # at most REMIND_WORKING_DAYS working days after today: a last day before the next one
        horizon = datetime.combine(
            add_working_days(today, REMIND_WORKING_DAYS + 1), time(0), tzinfo=self.zone
        )
        queued = 0
        for suggestion in await self.repo.awaiting_rating(horizon, now):
            deadline = suggestion.rating_due_at
            if deadline is None:
                continue
            if now >= deadline:
                queued += await self._close_unrated(suggestion.id, now)
            else:
                queued += await self._remind(suggestion, deadline, now)
        return queued

    async def _remind(self, suggestion: Suggestion, deadline: datetime, now: datetime) -> int:
        kind = rating_reminder_kind(suggestion.rehandled)
        async with self.db.transaction() as tx:
            first = await self.reminders.mark_reminded(
                tx, RATING_SUBJECT, suggestion.id, suggestion.lead_deputy_id, kind, "sent", now
            )
            if not first:
                return 0
            rate = NoticeButton(
                label="rating.rate_button", intent=Intent.RATE_SUGGESTION, target=suggestion.id
            )
            await self.outbox.notify(
                tx,
                suggestion.lead_deputy_id,
                "rating.reminder",
                buttons=[[rate]],
                not_before=self.quiet.held_until(now),
                number=suggestion.number,
                title=suggestion.title,
                last_at=(deadline - timedelta(minutes=1)).isoformat(),
            )
        return 1

    async def _close_unrated(self, suggestion_id: int, now: datetime) -> int:
        """Closed unrated at the deadline, which ends a day: the sweep may run at 00:00-00:05,
        so every notice waits out the quiet hours."""
        held = self.quiet.held_until(now)
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, suggestion_id)
            if not await self.repo.close(tx, suggestion.id, now, None, ""):
                return 0
            await self.trail.record(tx, suggestion, EventKind.CLOSED, None)  # unrated
            await self.outbox.notify(
                tx,
                suggestion.lead_deputy_id,
                "rating.notice_closed_unrated",
                not_before=held,
                number=suggestion.number,
                title=suggestion.title,
            )
            voters = await self.trail.tell_voters(
                tx, suggestion, "rating.notice_voters_closed", not_before=held
            )
        return 1 + voters
