"""A deputy's year compiled from the data for the annual account (年述职): a message and an
editable .docx (bot.services.account_documents), in six parts: basic facts, meetings,
contact with voters, suggestions, supervision and consultations, and the shortcomings and
next year's plan the deputy writes themselves.

Turns attended are counted as the district's figures count deputy_attendances: a duty turn
of the year assigned to the deputy that is over counts as attended unless an absence is
recorded for it. From /account the deputy marks a turn "未能参加" with a typed reason (the
conversation ABSENCE: the reason is its one step), corrects the reason or undoes it; a turn
with a visit logged for it was attended and cannot be marked."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from pydantic import BaseModel

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.i18n import Texts
from bot.services.account_documents import docx as account_docx
from bot.services.conversations import Conversation, DraftStore
from bot.services.ledger import Years
from bot.services.outbox import Outbox
from bot.services.paging import Page, clamp_page
from bot.services.suggestion_trail import SuggestionTrail, handling_year
from bot.services.text import clean, typed
from bot.settings import Settings
from storage import Database, Tx
from storage.models import TurnKind, User
from storage.repos.accounts import (
    AccountRepo,
    AccountSuggestion,
    ContactFigures,
    OpinionFigures,
    SupervisionFigures,
)
from storage.repos.accounts import AccountTurn as AccountTurn  # the handlers' too
from storage.repos.accounts import DeputyFacts as DeputyFacts

EARLIEST_YEAR = 2000
YEAR = re.compile(r"[0-9]{1,6}")
REASON_MAX = 200
TURNS_PER_PAGE = 8


class AbsenceStep(StrEnum):
    """The one step of marking a turn missed (the value is stored: a restart resumes)."""

    REASON = "reason"


class AbsenceDraft(BaseModel):
    """The turn being marked missed, and the list page to go back to."""

    turn: int | None = None
    year: int | None = None
    page: int = 0


ABSENCE = Conversation(
    "account_absence", steps=AbsenceStep, draft=AbsenceDraft, needs=Action.GIVE_ACCOUNT
)


@dataclass(frozen=True)
class AnnualAccount:
    """Everything the message and the .docx show, read at `made_at`."""

    deputy: DeputyFacts
    year: int
    made_at: datetime
    complete: bool  # the year is over: nothing more will be added to it
    turns: list[AccountTurn]  # the year's turns, past and coming
    contact: ContactFigures
    opinions: OpinionFigures
    suggestions: list[AccountSuggestion]
    # each answered suggestion's class, as the year of its first 交办 words it
    outcomes: dict[int, str]
    supervision: SupervisionFigures

    def attended(self, kind: TurnKind | None = None) -> int:
        """Turns that are over and have no absence recorded (of `kind`, or all)."""
        return sum(
            1
            for t in self.turns
            if t.ends_at <= self.made_at and not t.absent and kind in (None, t.kind)
        )

    @property
    def missed(self) -> list[AccountTurn]:
        """Every turn of the year with an absence recorded, with its reason."""
        return [t for t in self.turns if t.absent]

    @property
    def coming(self) -> int:
        return sum(1 for t in self.turns if t.ends_at > self.made_at and not t.absent)

    @property
    def led(self) -> list[AccountSuggestion]:
        return [s for s in self.suggestions if s.lead]

    @property
    def cosigned(self) -> list[AccountSuggestion]:
        return [s for s in self.suggestions if not s.lead]

    def class_label(self, item: AccountSuggestion) -> str:
        """ "B 正在解决或列入计划逐步解决"; empty before an answer."""
        return self.outcomes.get(item.id, "")


def parse_year(raw: str | None, today: date) -> int:
    """The year typed after /account: this year when nothing is; 2026 or 2026年 (full-width
    digits too); not before EARLIEST_YEAR, not in the future."""
    text = unicodedata.normalize("NFKC", clean(raw)).strip().removesuffix("年").strip()
    if not text:
        return today.year
    if not YEAR.fullmatch(text):
        raise DomainError("account.year_not_number", example=today.year)
    return check_year(int(text), today)


def check_year(year: int, today: date) -> int:
    """A year an account can be given for: from EARLIEST_YEAR to this year."""
    if year < EARLIEST_YEAR:
        raise DomainError("account.year_too_early", earliest=EARLIEST_YEAR)
    if year > today.year:
        raise DomainError("account.year_in_future", year=year, current=today.year)
    return year


def absence_reason(raw: str | None) -> str:
    """Why the deputy could not attend: cleaned, not empty, at most REASON_MAX characters."""
    return typed(
        raw, maximum=REASON_MAX, empty="account.reason_empty", too_long="account.reason_too_long"
    )


class AnnualAccounts:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.zone = settings.zone
        self.repo = AccountRepo(db)
        self.trail = SuggestionTrail(db, clock, outbox)
        self.absences = DraftStore(db, ABSENCE)

    # --- time ------------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def window(self, year: int) -> tuple[datetime, datetime]:
        """The local year as instants: [1 January 00:00, next 1 January 00:00)."""
        start = datetime.combine(date(year, 1, 1), time(0), tzinfo=self.zone)
        return start, datetime.combine(date(year + 1, 1, 1), time(0), tzinfo=self.zone)

    def year_of(self, moment: datetime) -> int:
        return moment.astimezone(self.zone).year

    # --- the account -----------------------------------------------------------------------

    async def deputy(self, actor: User) -> DeputyFacts:
        """The actor's deputy record; GIVE_ACCOUNT is checked first."""
        ensure(actor, Action.GIVE_ACCOUNT)
        deputy = await self.repo.deputy(actor.telegram_id)
        if deputy is None:
            raise DomainError("account.not_a_deputy")
        return deputy

    def year(self, raw: str | None) -> int:
        return parse_year(raw, self.today())

    async def compile(self, actor: User, year: int) -> AnnualAccount:
        """The deputy's `year` read from the data (see the module's docstring)."""
        deputy = await self.deputy(actor)
        return await self.compile_for(deputy, check_year(year, self.today()))

    async def compile_for(self, deputy: DeputyFacts, year: int) -> AnnualAccount:
        """The account of `deputy` for `year`, without the actor's checks (the CLI and the
        benchmark read it too)."""
        now = self.clock.now()
        start, end = self.window(year)
        deputy_id = deputy.user_id
        turns = await self.repo.turns(deputy_id, start, end)
        contact = await self.repo.contact(deputy_id, f"{year:04d}-01-01", f"{year:04d}-12-31")
        opinions = await self.repo.opinions(deputy_id, start, end)
        suggestions = await self.repo.suggestions(deputy_id, start, end)
        supervision = await self.repo.supervision(deputy_id, year, start, end)
        return AnnualAccount(
            deputy=deputy,
            year=year,
            made_at=now,
            complete=now >= end,
            turns=turns,
            contact=contact,
            opinions=opinions,
            suggestions=suggestions,
            outcomes=await self._outcomes(suggestions),
            supervision=supervision,
        )

    async def _outcomes(self, suggestions: list[AccountSuggestion]) -> dict[int, str]:
        """Each answered suggestion's class label, in the classes of its handling year."""
        answered = [s for s in suggestions if s.outcome_class]
        years = await Years(self.trail).load(
            handling_year(s.suggestion, self.zone) for s in answered
        )
        return {
            s.id: years.label(handling_year(s.suggestion, self.zone), s.outcome_class or "")
            for s in answered
        }

    async def docx(self, account: AnnualAccount, texts: Texts) -> bytes:
        """The editable .docx of the account, in the deputy's language (off the event loop)."""
        return await asyncio.to_thread(account_docx, account, texts)

    # --- the year's turns and the ones missed ------------------------------------------------

    async def turns(self, actor: User, year: int, page: int, per_page: int) -> Page[AccountTurn]:
        """A page of the deputy's turns of `year`, past and coming, in time order."""
        deputy = await self.deputy(actor)
        start, end = self.window(year)
        turns = await self.repo.turns(deputy.user_id, start, end)
        page, pages = clamp_page(page, len(turns), per_page)
        first = page * per_page
        return Page(turns[first : first + per_page], page, pages)

    async def turn(self, actor: User, turn_id: int, year: int) -> AccountTurn:
        """One of the deputy's turns of `year`: another deputy's, or another year's, is
        refused (the button was forged or is stale)."""
        deputy = await self.deputy(actor)
        turn = await self.repo.turn(deputy.user_id, turn_id)
        if turn is None:
            if await self.repo.turn_exists(turn_id):
                raise AccessDenied("account.not_your_turn")
            raise DomainError("account.turn_unknown")
        if self.year_of(turn.starts_at) != year:
            raise DomainError("account.turn_other_year", year=year)
        return turn

    async def _markable(self, actor: User, turn_id: int, year: int) -> AccountTurn:
        turn = await self.turn(actor, turn_id, year)
        if turn.visited:
            raise DomainError("account.turn_visited")
        return turn

    async def _still_theirs(
        self, tx: Tx, actor: User, turn_id: int, *, unvisited: bool = False
    ) -> None:
        """Inside the writing transaction, once more: the turn is still the deputy's (and,
        with `unvisited`, no visit was logged for it since)."""
        turn = await self.repo.turn(actor.telegram_id, turn_id, tx)
        if turn is None:
            raise AccessDenied("account.not_your_turn")
        if unvisited and turn.visited:
            raise DomainError("account.turn_visited")

    async def begin_absence(
        self, actor: User, chat_id: int, turn_id: int, year: int, page: int
    ) -> AccountTurn:
        """Start marking the turn missed (or correcting the reason): the reason is asked."""
        turn = await self._markable(actor, turn_id, year)
        await self.absences.ensure_alone(chat_id, actor.telegram_id, "account.busy_elsewhere")
        draft = AbsenceDraft(turn=turn_id, year=year, page=page)
        await self.absences.keep(
            chat_id, actor.telegram_id, draft, AbsenceStep.REASON, self.clock.now()
        )
        return turn

    async def absence_draft(self, actor: User) -> AbsenceDraft:
        draft = await self.absences.load(actor.telegram_id)
        if draft is None or draft.turn is None or draft.year is None:
            raise DomainError("account.no_draft")
        return draft

    async def record_absence(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[AccountTurn, AbsenceDraft]:
        """The reason typed: the absence is saved (or its reason corrected) and the
        conversation ends, in one transaction."""
        draft = await self.absence_draft(actor)
        turn_id, year = present(draft.turn, "turn"), present(draft.year, "year")
        reason = absence_reason(raw)
        await self._markable(actor, turn_id, year)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self._still_theirs(tx, actor, turn_id, unvisited=True)
            await self.repo.record_absence(tx, turn_id, actor.telegram_id, reason, now)
            await self.absences.put(tx, chat_id, actor.telegram_id, None, None, now)
        return await self.turn(actor, turn_id, year), draft

    async def cancel_absence(self, actor: User, chat_id: int) -> AbsenceDraft | None:
        """Leave without saving; the draft (if any) says where to go back to."""
        draft = await self.absences.load(actor.telegram_id)
        await self.absences.keep(chat_id, actor.telegram_id, None, None, self.clock.now())
        return draft

    async def undo_absence(self, actor: User, turn_id: int, year: int) -> AccountTurn:
        """The turn was attended after all: the absence goes."""
        await self.turn(actor, turn_id, year)
        async with self.db.transaction() as tx:
            await self._still_theirs(tx, actor, turn_id)
            if not await self.repo.remove_absence(tx, turn_id, actor.telegram_id):
                raise DomainError("account.not_absent")
        return await self.turn(actor, turn_id, year)

    def is_past(self, turn: AccountTurn) -> bool:
        """The turn is over: without an absence it counts as attended."""
        return turn.ends_at <= self.clock.now()
