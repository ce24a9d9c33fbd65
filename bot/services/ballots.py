"""Secret ballots on livelihood projects: selection (票决) and year-end rating (测评).

Staff open a ballot for a year (the conversation OPEN): a selection over the year's
candidates, for / against / abstain on each ('each') or K of the N (差额票决, 'k_of_n'), or a
rating of the year's chosen projects. Opening fixes who may vote (every consented deputy
then), creates every counter at zero and tells each deputy through the outbox.

A deputy marks the projects in a draft (the conversation VOTE: resumable, every mark saved
with its step), submits, sees every choice once more and confirms. Only then it counts: one
transaction flips the deputy's `voted` from 0 to 1, adds one to a counter per mark and
removes the draft; nothing else is written, so the database knows who voted, never how.
A vote cannot be changed or cast twice. In 'k_of_n' a ballot with more than K chosen would
be void, so more than K is refused; fewer is allowed, with a warning on the confirmation.

Results exist only once the ballot is closed (by hand, or by `run_due` at its closing
time); closing a selection sets the projects chosen or rejected."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from fractions import Fraction

from pydantic import BaseModel, Field

from bot.access import Action, allowed, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.services.ballot_reports import BallotReports
from bot.services.ballot_rules import (
    MODE_CHOICES,
    PURPOSE_OF,
    BallotResult,
    Choice,
    Outcome,
    compute,
)
from bot.services.conversations import Conversation, DraftStore
from bot.services.outbox import Intent, NoticeButton, Outbox
from bot.services.text import clean
from bot.services.typed_dates import YearDirection, parse_date
from bot.settings import Settings
from storage import Database, Tx
from storage.models import (
    Ballot,
    BallotMode,
    BallotPurpose,
    BallotState,
    Project,
    ProjectState,
    User,
)
from storage.repos.ballots import BallotRepo

MAX_PROJECTS = 60  # on one ballot: its sheet pages and its confirmation fit their messages
CLOSED_SHOWN = 5  # closed ballots listed under the open ones
CLOSES_AT = time(23, 59)  # a closing day typed ends the ballot at this local time
# The projects a ballot of each purpose is about.
ELIGIBLE: dict[BallotPurpose, ProjectState] = {
    BallotPurpose.SELECTION: ProjectState.CANDIDATE,
    BallotPurpose.RATING: ProjectState.CHOSEN,
}
# The refusal when no year has projects for a ballot of this purpose.
NOTHING_TO_VOTE_ON: dict[BallotPurpose, str] = {
    BallotPurpose.SELECTION: "ballot.no_candidates",
    BallotPurpose.RATING: "ballot.no_chosen",
}
KIND_KEYS: dict[BallotPurpose, str] = {
    BallotPurpose.SELECTION: "ballot.kind_selection",
    BallotPurpose.RATING: "ballot.kind_rating",
}


# --- the deputy's vote ----------------------------------------------------------------------


class VoteStep(StrEnum):
    """The steps of /ballot (the values are stored: a vote in progress resumes)."""

    PICK = "pick"  # the open ballots, one to open
    CHOOSING = "choosing"  # the sheet: a mark per project
    CONFIRMING = "confirming"  # every mark shown once more, Confirm counts it


class VoteDraft(BaseModel):
    """The marks not yet cast. Removed in the transaction that counts them."""

    ballot: int | None = None
    choices: dict[int, Choice] = Field(default_factory=dict)  # project id → mark
    submitted: bool = False  # the confirmation was shown for exactly these marks


VOTE = Conversation(
    "ballot",
    steps=VoteStep,
    draft=VoteDraft,
    opened_by=("ballot",),
    needs=Action.VOTE_BALLOT,
    optional_steps=(VoteStep.PICK,),
)


# --- staff opening a ballot -------------------------------------------------------------------


class OpenStep(StrEnum):
    """The steps of opening a ballot from /ballots."""

    KIND = "kind"  # selection each / selection k_of_n / rating
    YEAR = "year"
    PICK = "pick"  # K, typed (k_of_n only)
    CLOSING = "closing"  # a closing day typed, or none
    PREVIEW = "preview"


class OpenDraft(BaseModel):
    mode: BallotMode | None = None
    year: int | None = None
    pick: int | None = None
    closes_on: date | None = None  # None: staff close it by hand


OPEN = Conversation("ballot_open", steps=OpenStep, draft=OpenDraft, needs=Action.MANAGE_PROJECTS)


@dataclass(frozen=True)
class Sheet:
    """A ballot as one deputy is marking it."""

    ballot: Ballot
    projects: list[Project]
    choices: dict[int, Choice]

    @property
    def missing(self) -> list[Project]:
        return [p for p in self.projects if p.id not in self.choices]

    @property
    def chosen(self) -> int:
        return sum(1 for c in self.choices.values() if c == Choice.CHOSEN)


@dataclass(frozen=True)
class Plan:
    """A ballot about to be opened, as the preview shows it."""

    mode: BallotMode
    year: int
    projects: int
    pick: int | None
    entitled: int
    closes_at: datetime | None

    @property
    def purpose(self) -> BallotPurpose:
        return PURPOSE_OF[self.mode]


@dataclass(frozen=True)
class Turnout:
    ballot: Ballot
    voted: int
    projects: int

    @property
    def share(self) -> Fraction:
        entitled = self.ballot.entitled
        return Fraction(self.voted, entitled) if entitled else Fraction(0)


def parse_pick(raw: str | None, projects: int) -> int:
    """K of a k_of_n ballot, typed: a whole number from 1 to N − 1 (full-width digits too)."""
    text = unicodedata.normalize("NFKC", clean(raw)).strip().rstrip("个项")
    maximum = projects - 1
    if not text.isdigit() or len(text) > 6:
        raise DomainError("ballot.pick_not_number", maximum=maximum)
    pick = int(text)
    if not 1 <= pick <= maximum:
        raise DomainError("ballot.pick_range", maximum=maximum, count=projects)
    return pick


class BallotService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
        self.repo = BallotRepo(db)
        self.votes = DraftStore(db, VOTE)
        self.opening = DraftStore(db, OPEN)
        self.reports = BallotReports(self.zone)

    # --- time ------------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def _closed_at(self, ballot: Ballot, now: datetime) -> datetime | None:
        """When the ballot closed (or its closing time passed), None while it is open."""
        if ballot.state == BallotState.CLOSED:
            return ballot.closed_at or ballot.opened_at
        if ballot.closes_at is not None and now >= ballot.closes_at:
            return ballot.closes_at
        return None

    # --- opening (staff) ---------------------------------------------------------------------

    async def open_draft(self, actor: User) -> OpenDraft:
        ensure(actor, Action.MANAGE_PROJECTS)
        return await self.opening.load(actor.telegram_id) or OpenDraft()

    async def _store_open(
        self, actor: User, chat_id: int, draft: OpenDraft | None, step: OpenStep | None
    ) -> None:
        await self.opening.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def begin_open(self, actor: User, chat_id: int) -> None:
        ensure(actor, Action.MANAGE_PROJECTS)
        await self.opening.ensure_alone(chat_id, actor.telegram_id, "ballot.busy_elsewhere")
        await self._store_open(actor, chat_id, OpenDraft(), OpenStep.KIND)

    async def discard_open(self, actor: User, chat_id: int) -> None:
        await self._store_open(actor, chat_id, None, None)

    async def choose_mode(
        self, actor: User, chat_id: int, mode: BallotMode
    ) -> list[tuple[int, int]]:
        """The kind of ballot; returns (year, projects) of the years it can be about."""
        ensure(actor, Action.MANAGE_PROJECTS)
        purpose = PURPOSE_OF[mode]
        years = await self.repo.eligible_years(ELIGIBLE[purpose])
        if not years:
            raise DomainError(NOTHING_TO_VOTE_ON[purpose])
        await self._store_open(actor, chat_id, OpenDraft(mode=mode), OpenStep.YEAR)
        return years

    async def _check_year(self, mode: BallotMode, year: int, tx: Tx | None = None) -> list[int]:
        """The projects a ballot of `mode` on `year` would hold; refused when there is none
        (or too few, or too many) or one of its purpose is open for that year already."""
        purpose = PURPOSE_OF[mode]
        ids = await self.repo.eligible_ids(year, ELIGIBLE[purpose], tx)
        if not ids:
            raise DomainError("ballot.no_projects", year=year)
        if mode == BallotMode.K_OF_N and len(ids) < 2:
            raise DomainError("ballot.too_few_for_pick", count=len(ids))
        if len(ids) > MAX_PROJECTS:
            raise DomainError("ballot.too_many_projects", maximum=MAX_PROJECTS, count=len(ids))
        running = await self.repo.open_of(purpose, year, tx)
        if running is not None:
            raise DomainError("ballot.already_open", number=running.id, year=year)
        return ids

    async def choose_year(self, actor: User, chat_id: int, year: int) -> tuple[OpenStep, int]:
        """The year; returns the next step and how many projects the ballot would hold."""
        draft = await self.open_draft(actor)
        if draft.mode is None:
            raise DomainError("ballot.no_open_draft")
        ids = await self._check_year(draft.mode, year)
        draft.year, draft.pick = year, None
        step = OpenStep.PICK if draft.mode == BallotMode.K_OF_N else OpenStep.CLOSING
        await self._store_open(actor, chat_id, draft, step)
        return step, len(ids)

    async def set_pick(self, actor: User, chat_id: int, raw: str | None) -> None:
        draft = await self.open_draft(actor)
        if draft.mode != BallotMode.K_OF_N or draft.year is None:
            raise DomainError("ballot.no_open_draft")
        ids = await self._check_year(draft.mode, draft.year)
        draft.pick = parse_pick(raw, len(ids))
        await self._store_open(actor, chat_id, draft, OpenStep.CLOSING)

    async def set_closing(self, actor: User, chat_id: int, raw: str | None) -> Plan:
        """The closing day typed (None: no closing time, staff close it by hand)."""
        draft = await self.open_draft(actor)
        if draft.mode is None or draft.year is None:
            raise DomainError("ballot.no_open_draft")
        if raw is None:
            draft.closes_on = None
        else:
            today = self.today()
            day = parse_date(
                raw, today=today, direction=YearDirection.NEXT, refusal="ballot.close_unparsable"
            )
            if day < today:
                raise DomainError("ballot.close_in_past", date=day)
            draft.closes_on = day
        await self._store_open(actor, chat_id, draft, OpenStep.PREVIEW)
        return await self.plan(actor)

    def _closes_at(self, day: date | None) -> datetime | None:
        return None if day is None else datetime.combine(day, CLOSES_AT, tzinfo=self.zone)

    async def plan(self, actor: User) -> Plan:
        draft = await self.open_draft(actor)
        if draft.mode is None or draft.year is None:
            raise DomainError("ballot.no_open_draft")
        ids = await self._check_year(draft.mode, draft.year)
        return Plan(
            mode=draft.mode,
            year=draft.year,
            projects=len(ids),
            pick=draft.pick,
            entitled=len(await self.repo.entitled_now()),
            closes_at=self._closes_at(draft.closes_on),
        )

    async def open(self, actor: User, chat_id: int) -> Ballot:
        """Open the ballot the preview showed: its voters fixed, its counters at zero, each
        deputy told, the conversation ended, all in one transaction."""
        draft = await self.open_draft(actor)
        mode, year = draft.mode, draft.year
        if mode is None or year is None or (mode == BallotMode.K_OF_N and draft.pick is None):
            raise DomainError("ballot.no_open_draft")
        now = self.clock.now()
        closes_at = self._closes_at(draft.closes_on)
        if closes_at is not None and closes_at <= now:
            raise DomainError("ballot.close_in_past", date=closes_at)
        purpose = PURPOSE_OF[mode]
        async with self.db.transaction() as tx:
            ids = await self._check_year(mode, year, tx)
            if draft.pick is not None and not 1 <= draft.pick < len(ids):
                raise DomainError("ballot.pick_range", maximum=len(ids) - 1, count=len(ids))
            voters = await self.repo.entitled_now(tx)
            if not voters:
                raise DomainError("ballot.no_voters")
            ballot_id = await self.repo.create(
                tx,
                year=year,
                purpose=purpose,
                mode=mode,
                pick=draft.pick if mode == BallotMode.K_OF_N else None,
                opened_by=actor.telegram_id,
                now=now,
                closes_at=closes_at,
                project_ids=ids,
                voter_ids=voters,
                choices=[c.value for c in MODE_CHOICES[mode]],
            )
            buttons = [
                [
                    NoticeButton(
                        label="ballot.vote_button", intent=Intent.OPEN_BALLOT, target=ballot_id
                    )
                ]
            ]
            params: dict[str, object] = {
                "year": year,
                "kind_key": KIND_KEYS[purpose],
                "count": len(ids),
            }
            if closes_at is not None:
                params["closes_at"] = closes_at.isoformat()
            key = "ballot.opened_notice" if closes_at is None else "ballot.opened_notice_until"
            await self.outbox.notify_many(tx, voters, key, buttons=buttons, params=params)
            await self.opening.put(tx, chat_id, actor.telegram_id, None, None, now)
        ballot = await self.repo.get(ballot_id)
        return present(ballot, "ballot")

    # --- watching and closing (staff) -----------------------------------------------------------

    async def board(self, actor: User) -> tuple[list[Turnout], list[Turnout]]:
        """The open ballots with their turnout, and the last few closed. Ballots whose
        closing time has passed are closed first, so none shows open past it."""
        ensure(actor, Action.MANAGE_PROJECTS)
        await self.run_due()
        opened = [await self._turnout(b) for b in await self.repo.open_ballots()]
        closed = [await self._turnout(b) for b in await self.repo.recently_closed(CLOSED_SHOWN)]
        return opened, closed

    async def _turnout(self, ballot: Ballot) -> Turnout:
        voted = await self.repo.voted(ballot.id)
        return Turnout(ballot, voted, await self.repo.project_count(ballot.id))

    async def turnout(self, actor: User, ballot_id: int) -> Turnout:
        ensure(actor, Action.MANAGE_PROJECTS)
        return await self._turnout(await self._ballot(ballot_id))

    async def _ballot(self, ballot_id: int, tx: Tx | None = None) -> Ballot:
        ballot = await self.repo.get(ballot_id, tx)
        if ballot is None:
            raise DomainError("ballot.unknown")
        return ballot

    async def close(self, actor: User, ballot_id: int) -> Ballot:
        """Close by hand (after staff confirmed); closing one closed already changes nothing."""
        ensure(actor, Action.MANAGE_PROJECTS)
        await self._close(ballot_id, by_hand=True)
        return await self._ballot(ballot_id)

    async def run_due(self) -> int:
        """Close every open ballot whose closing time has come; returns how many."""
        closed = 0
        for ballot_id in await self.repo.due(self.clock.now()):
            closed += await self._close(ballot_id, by_hand=False)
        return closed

    async def upcoming(self, until: datetime) -> list[datetime]:
        """Closing times of open ballots between now and `until`, for the scheduler: a
        ballot closes at its time, not up to a sweep later."""
        return await self.repo.closing_times(self.clock.now(), until)

    async def _close(self, ballot_id: int, *, by_hand: bool) -> bool:
        """Close, set a selection's projects chosen or rejected, drop the marks never cast and
        tell every entitled deputy (and, when it closed by itself, whoever opened it)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            ballot = await self._ballot(ballot_id, tx)
            if not await self.repo.close(tx, ballot_id, now):
                return False
            voted = await self.repo.voted(ballot_id, tx)
            if ballot.purpose == BallotPurpose.SELECTION:
                result = await self._result(ballot, voted, tx)
                chosen = [r.project.id for r in result.rows if r.outcome == Outcome.CHOSEN]
                rejected = [r.project.id for r in result.rows if r.outcome == Outcome.REJECTED]
                await self.repo.set_project_states(tx, chosen, rejected)
            await self.repo.drop_vote_drafts(tx, VOTE.name, ballot_id)
            results = [
                [
                    NoticeButton(
                        label="ballot.results_button", intent=Intent.OPEN_BALLOT, target=ballot_id
                    )
                ]
            ]
            params = {
                "year": ballot.year,
                "kind_key": KIND_KEYS[ballot.purpose],
                "entitled": ballot.entitled,
                "voted": voted,
            }
            voters = await self.repo.voter_ids(ballot_id, tx)
            await self.outbox.notify_many(
                tx, voters, "ballot.closed_notice", buttons=results, params=params
            )
            if not by_hand and ballot.opened_by is not None:
                await self.outbox.notify(
                    tx,
                    ballot.opened_by,
                    "ballot.closed_staff_notice",
                    buttons=results,
                    params={**params, "number": ballot.id},
                )
        await self.repo.forget_journal()  # the dropped marks' earlier versions
        return True

    async def _result(self, ballot: Ballot, voted: int, tx: Tx | None = None) -> BallotResult:
        projects = await self.repo.projects(ballot.id, tx)
        raw = await self.repo.tallies(ballot.id, tx)
        tallies = {p: {Choice(c): n for c, n in marks.items()} for p, marks in raw.items()}
        return compute(
            ballot,
            projects,
            tallies,
            voted,
            verdict_base=self.settings.rating_verdict_base,
            verdict_share=self.settings.rating_verdict_share,
        )

    async def results(self, actor: User, ballot_id: int) -> BallotResult:
        """A closed ballot's results, for staff and deputies; none while it is open."""
        if not (allowed(actor, Action.MANAGE_PROJECTS) or allowed(actor, Action.VOTE_BALLOT)):
            raise AccessDenied()
        ballot = await self._ballot(ballot_id)
        if ballot.state != BallotState.CLOSED:
            raise DomainError("ballot.results_after_close")
        return await self._result(ballot, await self.repo.voted(ballot_id))

    # --- voting (deputies) ---------------------------------------------------------------------

    async def pending(self, actor: User) -> list[Ballot]:
        """The open ballots the deputy may still vote in."""
        ensure(actor, Action.VOTE_BALLOT)
        now = self.clock.now()
        return [
            b
            for b in await self.repo.pending_for(actor.telegram_id)
            if self._closed_at(b, now) is None
        ]

    async def _votable(self, actor: User, ballot_id: int, tx: Tx | None = None) -> Ballot:
        """The ballot, which the actor may vote in now; otherwise the refusal that says why."""
        ensure(actor, Action.VOTE_BALLOT)
        ballot = await self._ballot(ballot_id, tx)
        closed = self._closed_at(ballot, self.clock.now())
        voted = await self.repo.voter(ballot_id, actor.telegram_id, tx)
        if voted:
            raise DomainError("ballot.already_voted")
        if closed is not None:
            raise DomainError("ballot.closed", closed=closed)
        if voted is None:
            raise DomainError("ballot.not_entitled")
        return ballot

    async def refusal(self, actor: User, ballot_id: int) -> DomainError:
        """Why a button of this ballot does nothing here: voted, closed, not entitled, or
        (it can still be voted in) the ballot is to be opened with /ballot first."""
        try:
            await self._votable(actor, ballot_id)
        except DomainError as error:
            return error
        return DomainError("ballot.open_first")

    async def is_open(self, ballot_id: int) -> bool:
        ballot = await self._ballot(ballot_id)
        return self._closed_at(ballot, self.clock.now()) is None

    async def _store_vote(
        self, actor: User, chat_id: int, draft: VoteDraft, step: VoteStep
    ) -> None:
        await self.votes.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def begin_pick(self, actor: User, chat_id: int) -> list[Ballot]:
        """/ballot: the ballots to vote in; the step is kept only when there is one to open."""
        ballots = await self.pending(actor)
        if ballots:
            draft = await self.votes.load(actor.telegram_id) or VoteDraft()
            await self._store_vote(actor, chat_id, draft, VoteStep.PICK)
        return ballots

    async def begin_vote(self, actor: User, chat_id: int, ballot_id: int) -> Sheet:
        """Open a ballot to mark: marks kept for it are kept (a vote in progress resumes);
        those of another ballot are dropped."""
        ballot = await self._votable(actor, ballot_id)
        await self.votes.ensure_alone(chat_id, actor.telegram_id, "ballot.busy_elsewhere")
        draft = await self.votes.load(actor.telegram_id) or VoteDraft()
        if draft.ballot != ballot_id:
            draft = VoteDraft(ballot=ballot_id)
        draft.submitted = False
        await self._store_vote(actor, chat_id, draft, VoteStep.CHOOSING)
        return Sheet(ballot, await self.repo.projects(ballot_id), dict(draft.choices))

    async def _marking(
        self, actor: User, ballot_id: int
    ) -> tuple[Ballot, list[Project], VoteDraft]:
        """The ballot being marked, its projects and the draft, which must be of this ballot."""
        ballot = await self._votable(actor, ballot_id)
        draft = await self.votes.load(actor.telegram_id)
        if draft is None or draft.ballot != ballot_id:
            raise DomainError("ballot.open_first")
        return ballot, await self.repo.projects(ballot_id), draft

    async def sheet(self, actor: User, ballot_id: int) -> Sheet:
        ballot, projects, draft = await self._marking(actor, ballot_id)
        return Sheet(ballot, projects, dict(draft.choices))

    async def current(self, actor: User) -> int | None:
        """The ballot the deputy's draft is about, if any."""
        draft = await self.votes.load(actor.telegram_id)
        return None if draft is None else draft.ballot

    async def mark(
        self, actor: User, chat_id: int, ballot_id: int, project_id: int, choice: Choice
    ) -> Sheet:
        """Mark one project (in 'k_of_n', CHOSEN toggles it, never beyond K)."""
        ballot, projects, draft = await self._marking(actor, ballot_id)
        if project_id not in {p.id for p in projects}:
            raise DomainError("ballot.not_in_ballot")
        if choice not in MODE_CHOICES[ballot.mode]:
            raise DomainError("ballot.bad_choice")
        if ballot.mode == BallotMode.K_OF_N:
            if project_id in draft.choices:
                del draft.choices[project_id]
            else:
                pick = ballot.pick or 0
                if sum(1 for c in draft.choices.values() if c == Choice.CHOSEN) >= pick:
                    raise DomainError("ballot.too_many", pick=pick)
                draft.choices[project_id] = choice
        else:
            draft.choices[project_id] = choice
        draft.submitted = False
        await self._store_vote(actor, chat_id, draft, VoteStep.CHOOSING)
        return Sheet(ballot, projects, dict(draft.choices))

    async def rest_abstain(self, actor: User, chat_id: int, ballot_id: int) -> Sheet:
        """'each': every project still unmarked is marked abstain, as the deputy asked."""
        ballot, projects, draft = await self._marking(actor, ballot_id)
        if ballot.mode != BallotMode.EACH:
            raise DomainError("ballot.bad_choice")
        for project in projects:
            draft.choices.setdefault(project.id, Choice.ABSTAIN)
        draft.submitted = False
        await self._store_vote(actor, chat_id, draft, VoteStep.CHOOSING)
        return Sheet(ballot, projects, dict(draft.choices))

    @staticmethod
    def _check_complete(
        ballot: Ballot, projects: list[Project], choices: dict[int, Choice]
    ) -> None:
        """A sheet that may be cast: every project marked ('each', 'rating'), at most K
        chosen ('k_of_n'), nothing but this ballot's projects and choices."""
        ids = {p.id for p in projects}
        allowed_choices = MODE_CHOICES[ballot.mode]
        if any(p not in ids for p in choices) or any(
            c not in allowed_choices for c in choices.values()
        ):
            raise DomainError("ballot.bad_choice")
        missing = len(ids - choices.keys())
        if ballot.mode == BallotMode.EACH and missing:
            raise DomainError("ballot.gaps", count=missing)
        if ballot.mode == BallotMode.RATING and missing:
            raise DomainError("ballot.gaps_rating", count=missing)
        if ballot.mode == BallotMode.K_OF_N and len(choices) > (ballot.pick or 0):
            raise DomainError("ballot.too_many", pick=ballot.pick or 0)

    async def submit(self, actor: User, chat_id: int, ballot_id: int) -> Sheet:
        """Show every mark once more before it counts (the confirmation)."""
        ballot, projects, draft = await self._marking(actor, ballot_id)
        self._check_complete(ballot, projects, draft.choices)
        draft.submitted = True
        await self._store_vote(actor, chat_id, draft, VoteStep.CONFIRMING)
        return Sheet(ballot, projects, dict(draft.choices))

    async def back(self, actor: User, chat_id: int, ballot_id: int) -> Sheet:
        ballot, projects, draft = await self._marking(actor, ballot_id)
        draft.submitted = False
        await self._store_vote(actor, chat_id, draft, VoteStep.CHOOSING)
        return Sheet(ballot, projects, dict(draft.choices))

    async def quit(self, actor: User, chat_id: int) -> None:
        """Leave without voting: the marks are dropped (the ballot can be opened again)."""
        async with self.db.transaction() as tx:
            await self.votes.put(tx, chat_id, actor.telegram_id, None, None, self.clock.now())
        await self.repo.forget_journal()

    async def cast(self, actor: User, chat_id: int, ballot_id: int) -> Ballot:
        """Count the confirmed marks: in one transaction the voter's row flips from 0 to 1,
        one counter per mark goes up by one, and the draft and the step are removed. Under
        a double tap or a replay only one flip succeeds; the other is refused."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            ballot = await self._votable(actor, ballot_id, tx)
            draft = await self.votes.load(actor.telegram_id, tx)
            if draft is None or draft.ballot != ballot_id or not draft.submitted:
                raise DomainError("ballot.open_first")
            projects = await self.repo.projects(ballot_id, tx)
            self._check_complete(ballot, projects, draft.choices)
            marks = [(project, choice.value) for project, choice in sorted(draft.choices.items())]
            if not await self.repo.count_vote(tx, ballot_id, actor.telegram_id, marks):
                raise DomainError("ballot.already_voted")
            await self.votes.put(tx, chat_id, actor.telegram_id, None, None, now)
        await self.repo.forget_journal()
        return ballot
