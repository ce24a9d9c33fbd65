"""Voters' satisfaction with a deputy's annual account (年述职测评), by the same secret-ballot
rules as the project ratings.

Staff open a rating from /accounts (the conversation OPEN_RATING: deputy → year → closing
day → preview → open). Opening fixes who may vote (the consented, active voters of the
deputy's station then), creates every counter at zero and tells each voter through the
outbox. A voter picks 满意 / 基本满意 / 不满意, sees the choice once more and confirms; only
then it counts: one transaction flips the voter's `voted` from 0 to 1 and adds one to the
choice's counter, and writes nothing else, so the database knows who voted, never how. The
choice is kept nowhere before that (it travels in the confirmation's button). A vote cannot
be changed or cast twice. At its closing time `run_due` (the scheduler's sweep) closes it
and sends the counts and the verdict (bot.services.ballot_rules.verdict, over the base the
settings name) to whoever opened it and to the deputy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction

from pydantic import BaseModel

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError
from bot.services.ballot_rules import (
    CHOICE_LABELS,
    OUTCOME_LABELS,
    Choice,
    Outcome,
    rating_base,
    verdict,
)
from bot.services.ballots import CLOSES_AT
from bot.services.conversations import Conversation, DraftStore
from bot.services.deputy_notices import QuietHours
from bot.services.outbox import BULK, Intent, NoticeButton, Outbox
from bot.services.paging import Page, clamp_page
from bot.services.text import clean
from bot.services.typed_dates import YearDirection, parse_date
from bot.settings import Settings
from storage import Database, Tx
from storage.models import AccountRating, BallotState, SuggestionRating, User
from storage.repos.accounts import AccountRatingRepo, AccountRepo, RatingCounts
from storage.repos.accounts import DeputyFacts as DeputyFacts  # the handlers' too

CLOSED_SHOWN = 5  # closed ratings listed under the open ones
NAME_MATCHES = 10  # deputies listed for a name typed
YEARS_OFFERED = 2  # this year and the last: an account is given at the turn of the year


# What a voter marks: 满意 / 基本满意 / 不满意, as a suggestion's rating and as
# account_rating_tallies stores it. The same choices as a project rating's, so the verdict rule
# and the words are theirs.
BALLOT_CHOICES = {
    SuggestionRating.SATISFIED: Choice.SATISFIED,
    SuggestionRating.BASICALLY: Choice.BASIC,
    SuggestionRating.UNSATISFIED: Choice.UNSATISFIED,
}
LABELS = {choice: CHOICE_LABELS[ballot] for choice, ballot in BALLOT_CHOICES.items()}


class OpenStep(StrEnum):
    """The steps of opening a rating from /accounts (the values are stored)."""

    DEPUTY = "deputy"  # picked from the paged list, or a name typed
    YEAR = "year"
    CLOSING = "closing"  # the closing day, typed
    PREVIEW = "preview"


class OpenDraft(BaseModel):
    deputy: int | None = None
    year: int | None = None
    closes_on: date | None = None


OPEN_RATING = Conversation(
    "account_rating_open",
    steps=OpenStep,
    draft=OpenDraft,
    opened_by=("accounts",),
    needs=Action.OPEN_ACCOUNT_RATING,
)


@dataclass(frozen=True)
class Plan:
    """A rating about to be opened, as the preview shows it."""

    deputy: DeputyFacts
    year: int
    entitled: int
    closes_at: datetime
    rating_id: int | None = None  # once opened


@dataclass(frozen=True)
class Outcomes:
    """A rating's counts and, once closed, its verdict."""

    rating: AccountRating
    deputy: DeputyFacts | None
    counts: RatingCounts
    verdict: Outcome | None  # None while open: no result before the close

    @property
    def by_choice(self) -> dict[SuggestionRating, int]:
        return counted(self.counts)


def counted(counts: RatingCounts) -> dict[SuggestionRating, int]:
    """The tallies by choice."""
    return {
        SuggestionRating.SATISFIED: counts.satisfied,
        SuggestionRating.BASICALLY: counts.basically,
        SuggestionRating.UNSATISFIED: counts.unsatisfied,
    }


def rating_verdict(counts: RatingCounts, base: str, share: float) -> Outcome:
    """The project ratings' rule on an account's counts: more than `share` of the base
    (everyone entitled, or those who voted) 满意 → 满意, and so on."""
    marks = {BALLOT_CHOICES[choice]: count for choice, count in counted(counts).items()}
    total = rating_base(base, counts.voted, counts.entitled)
    return verdict(marks, Fraction(str(share)), total)


class AccountRatings:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.zone = settings.zone
        self.repo = AccountRatingRepo(db)
        self.accounts = AccountRepo(db)
        self.opening = DraftStore(db, OPEN_RATING)
        self.quiet = QuietHours.of(settings)

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def _verdict(self, counts: RatingCounts) -> Outcome:
        return rating_verdict(
            counts, self.settings.rating_verdict_base, self.settings.rating_verdict_share
        )

    async def _outcomes(self, rating: AccountRating, tx: Tx | None = None) -> Outcomes:
        counts = await self.repo.counts(rating.id, tx)
        closed = rating.state == BallotState.CLOSED
        return Outcomes(
            rating,
            await self.accounts.deputy(rating.deputy_id),
            counts if closed else counts.model_copy(update={c.value: 0 for c in SuggestionRating}),
            self._verdict(counts) if closed else None,
        )

    # --- staff: the board and opening --------------------------------------------------------

    async def board(self, actor: User) -> tuple[list[Outcomes], list[Outcomes]]:
        """The open ratings with their turnout (never their counts), and the last few
        closed with their results. Ratings whose closing time has passed are closed first."""
        ensure(actor, Action.OPEN_ACCOUNT_RATING)
        await self.run_due()
        opened = [await self._outcomes(r) for r in await self.repo.open_ratings()]
        closed = [await self._outcomes(r) for r in await self.repo.recently_closed(CLOSED_SHOWN)]
        return opened, closed

    async def _store(self, actor: User, chat_id: int, draft: OpenDraft, step: OpenStep) -> None:
        await self.opening.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def draft(self, actor: User) -> OpenDraft:
        ensure(actor, Action.OPEN_ACCOUNT_RATING)
        return await self.opening.load(actor.telegram_id) or OpenDraft()

    async def begin(self, actor: User, chat_id: int) -> None:
        """/accounts: a new opening, at the deputy step."""
        ensure(actor, Action.OPEN_ACCOUNT_RATING)
        await self._store(actor, chat_id, OpenDraft(), OpenStep.DEPUTY)

    async def discard(self, actor: User, chat_id: int) -> None:
        await self.opening.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    async def deputies(self, actor: User, page: int, per_page: int) -> Page[DeputyFacts]:
        ensure(actor, Action.OPEN_ACCOUNT_RATING)
        page, pages = clamp_page(page, await self.accounts.count_deputies(), per_page)
        items = await self.accounts.deputies_page(page * per_page, per_page)
        return Page(items, page, pages)

    async def named(self, actor: User, raw: str | None) -> list[DeputyFacts]:
        """Deputies whose name holds what was typed (at most NAME_MATCHES)."""
        ensure(actor, Action.OPEN_ACCOUNT_RATING)
        words = clean(raw)
        if not words:
            raise DomainError("account.name_empty")
        found = await self.accounts.deputies_named(words, NAME_MATCHES)
        if not found:
            raise DomainError("account.no_deputy_named", name=words)
        return found

    async def _deputy(self, deputy_id: int) -> DeputyFacts:
        deputy = await self.accounts.deputy(deputy_id)
        if deputy is None:
            raise DomainError("account.deputy_unknown")
        return deputy

    async def choose_deputy(
        self, actor: User, chat_id: int, deputy_id: int
    ) -> tuple[DeputyFacts, list[int]]:
        """The deputy; returns them and the years offered."""
        draft = await self.draft(actor)
        deputy = await self._deputy(deputy_id)
        draft.deputy, draft.year, draft.closes_on = deputy_id, None, None
        await self._store(actor, chat_id, draft, OpenStep.YEAR)
        this_year = self.today().year
        return deputy, [this_year - i for i in range(YEARS_OFFERED)]

    async def _check(self, deputy: DeputyFacts, year: int, tx: Tx | None = None) -> list[int]:
        """The voters who would be entitled; refused when the deputy's account of that year
        has a rating already, or nobody could vote."""
        if not self.today().year - YEARS_OFFERED < year <= self.today().year:
            raise DomainError("account.rating_year", year=year)
        existing = await self.repo.of_deputy_year(deputy.user_id, year, tx)
        if existing is not None:
            raise DomainError("account.rating_exists", name=deputy.name, year=year)
        voters = await self.repo.station_voters(deputy.station_id, tx)
        if not voters:
            raise DomainError("account.no_voters", station=deputy.station_name)
        return voters

    async def choose_year(self, actor: User, chat_id: int, year: int) -> DeputyFacts:
        draft = await self.draft(actor)
        if draft.deputy is None:
            raise DomainError("account.no_open_draft")
        deputy = await self._deputy(draft.deputy)
        await self._check(deputy, year)
        draft.year = year
        await self._store(actor, chat_id, draft, OpenStep.CLOSING)
        return deputy

    async def set_closing(self, actor: User, chat_id: int, raw: str | None) -> Plan:
        """The closing day typed: the rating closes at its end (as a ballot does)."""
        draft = await self.draft(actor)
        if draft.deputy is None or draft.year is None:
            raise DomainError("account.no_open_draft")
        today = self.today()
        day = parse_date(
            raw, today=today, direction=YearDirection.NEXT, refusal="account.close_unparsable"
        )
        if day < today:
            raise DomainError("account.close_in_past", date=day)
        draft.closes_on = day
        await self._store(actor, chat_id, draft, OpenStep.PREVIEW)
        return await self.plan(actor)

    def _closes_at(self, day: date) -> datetime:
        return datetime.combine(day, CLOSES_AT, tzinfo=self.zone)

    async def plan(self, actor: User) -> Plan:
        draft = await self.draft(actor)
        if draft.deputy is None or draft.year is None or draft.closes_on is None:
            raise DomainError("account.no_open_draft")
        deputy = await self._deputy(draft.deputy)
        voters = await self._check(deputy, draft.year)
        return Plan(deputy, draft.year, len(voters), self._closes_at(draft.closes_on))

    async def open(self, actor: User, chat_id: int) -> Plan:
        """Open the rating the preview showed: its voters fixed, its counters at zero, each
        voter told, the conversation ended, all in one transaction."""
        draft = await self.draft(actor)
        if draft.deputy is None or draft.year is None or draft.closes_on is None:
            raise DomainError("account.no_open_draft")
        now = self.clock.now()
        closes_at = self._closes_at(draft.closes_on)
        if closes_at <= now:
            raise DomainError("account.close_in_past", date=draft.closes_on)
        deputy = await self._deputy(draft.deputy)
        async with self.db.transaction() as tx:
            voters = await self._check(deputy, draft.year, tx)
            rating_id = await self.repo.create(
                tx,
                deputy_id=deputy.user_id,
                year=draft.year,
                station_id=deputy.station_id,
                opened_by=actor.telegram_id,
                now=now,
                closes_at=closes_at,
                voter_ids=voters,
            )
            buttons = [
                [
                    NoticeButton(
                        label="account.rate_button", intent=Intent.RATE_ACCOUNT, target=rating_id
                    )
                ]
            ]
            # every entitled voter is told, notices off or not: the notice is their ballot;
            # a rating opened at night waits for the end of the quiet hours
            await self.outbox.notify_many(
                tx,
                voters,
                "account.rating_notice",
                buttons=buttons,
                not_before=self.quiet.held_until(now),
                priority=BULK,
                params={
                    "name": deputy.name,
                    "year": draft.year,
                    "station": deputy.station_name,
                    "closes_at": closes_at.isoformat(),
                },
            )
            await self.opening.put(tx, chat_id, actor.telegram_id, None, None, now)
        return Plan(deputy, draft.year, len(voters), closes_at, rating_id)

    # --- a voter's ballot ----------------------------------------------------------------------

    async def _votable(
        self, actor: User, rating_id: int, tx: Tx | None = None
    ) -> tuple[AccountRating, DeputyFacts]:
        """The rating, which the actor may vote in now; otherwise the refusal that says why:
        voted already, closed, or not entitled (a voter of another station)."""
        ensure(actor, Action.RATE_ACCOUNT)
        rating = await self.repo.get(rating_id, tx)
        if rating is None:
            raise DomainError("account.rating_unknown")
        voted = await self.repo.voter(rating_id, actor.telegram_id, tx)
        if voted:
            raise DomainError("account.already_voted")
        if rating.state == BallotState.CLOSED or rating.closes_at <= self.clock.now():
            raise DomainError("account.rating_closed", closed=rating.closed_at or rating.closes_at)
        if voted is None:
            raise DomainError("account.not_entitled")
        return rating, await self._deputy(rating.deputy_id)

    async def ballot(self, actor: User, rating_id: int) -> tuple[AccountRating, DeputyFacts]:
        """The ballot to mark (and, with a choice, to confirm): nothing is stored."""
        return await self._votable(actor, rating_id)

    async def cast(
        self, actor: User, rating_id: int, choice: SuggestionRating
    ) -> tuple[AccountRating, DeputyFacts]:
        """Count the confirmed choice: the voter's row flips from 0 to 1 and one counter goes
        up, in one transaction. Under a double tap or a replay only one flip succeeds."""
        async with self.db.transaction() as tx:
            rating, deputy = await self._votable(actor, rating_id, tx)
            if not await self.repo.count_vote(tx, rating_id, actor.telegram_id, choice):
                raise DomainError("account.already_voted")
        # the counters' earlier versions leave the write-ahead log
        await self.db.checkpoint()
        return rating, deputy

    # --- closing -------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Close every open rating whose closing time has come; returns how many."""
        closed = 0
        for rating_id in await self.repo.due(self.clock.now()):
            closed += await self._close(rating_id)
        return closed

    async def _close(self, rating_id: int) -> bool:
        """Close, and tell whoever opened it and the deputy the counts and the verdict (it
        closes at 23:59: the results wait out the quiet hours)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            rating = await self.repo.get(rating_id, tx)
            if rating is None or not await self.repo.close(tx, rating_id, now):
                return False
            counts = await self.repo.counts(rating_id, tx)
            deputy = await self._deputy(rating.deputy_id)
            params: dict[str, object] = {
                "name": deputy.name,
                "year": rating.year,
                "entitled": counts.entitled,
                "voted": counts.voted,
                "n_satisfied": counts.satisfied,
                "n_basically": counts.basically,
                "n_unsatisfied": counts.unsatisfied,
                "verdict_key": OUTCOME_LABELS[self._verdict(counts)],
            }
            told = {deputy.user_id} | ({rating.opened_by} if rating.opened_by else set())
            for chat_id in sorted(told):
                await self.outbox.notify(
                    tx,
                    chat_id,
                    "account.rating_closed_notice",
                    not_before=self.quiet.held_until(now),
                    params=params,
                )
        return True
