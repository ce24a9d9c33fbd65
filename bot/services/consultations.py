"""Draft-law consultations (征求意见): opening, prompts, reminders, closing.

Staff open one with /consult (the declared conversation CONSULT: the draft as a document or
pasted, its preview, title, summary, source, key questions, audience, deadline, confirm) or
with `python -m bot consultations create`. Opening saves the consultation, its articles,
questions and invitees and queues one prompt per invitee, all in one transaction (the draft
is read and split in a worker thread before it: never on the event loop, never holding the
write lock). Prompts go after personal notices and wait out the quiet hours. Deputies who
have not commented are reminded at 09:00 some days before the deadline (each reminder once,
the latest due only); at the deadline it closes, what is still queued for it is withdrawn,
and its creator is told."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import NoReturn

from pydantic import BaseModel, Field

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError, present
from bot.services.conversations import Conversation, DraftStore, DraftUnreadable
from bot.services.deputy_notices import QuietHours
from bot.services.draft_files import check_size, draft_text, megabytes
from bot.services.draft_split import DraftStructure, split_draft
from bot.services.outbox import BULK, Intent, NoticeButton, NoticeButtons, Outbox
from bot.services.paging import Page, clamp_page
from bot.services.text import clean, typed
from bot.services.typed_dates import YearDirection, parse_date
from bot.settings import Settings
from storage import Database, Tx
from storage.models import Consultation, ConsultationAudience, User, new_draft_token
from storage.repos.consultations import ArticleRow, ConsultationRepo
from storage.repos.drafts import conversation_key
from storage.repos.stations import StationRepo
from storage.repos.users import UserRepo

TITLE_MAX = 200
SUMMARY_MAX = 1000
SOURCE_MAX = 100
QUESTION_MAX = 300
QUESTIONS_MAX = 10
CHOICES_MIN, CHOICES_MAX = 2, 8
CHOICE_MAX = 30
# National drafts are open for comment at least this long (立法法 art. 40): a shorter time
# is allowed, with a warning.
NATIONAL_MIN_DAYS = 30
DEADLINE_TIME = time(23, 59, 59)  # a deadline is the end of its local day
REMINDER_TIME = time(9, 0)  # a reminder goes in the morning of its day, local time

# The notices about one consultation; each carries its id as the parameter `consultation`,
# so that those still queued when it closes are withdrawn.
PROMPT = "consult.prompt"
REMINDER_ONE, REMINDER_MANY = "consult.reminder_one", "consult.reminder_many"
REMINDER_KEYS = (REMINDER_ONE, REMINDER_MANY)
ABOUT = "consultation"

# The audiences whose street or station is picked.
NEEDS_PLACE = frozenset(
    {
        ConsultationAudience.DEPUTIES_OF_STREET,
        ConsultationAudience.VOTERS_OF_STREET,
        ConsultationAudience.VOTERS_OF_STATION,
    }
)


class QuestionPlan(BaseModel):
    """A key question (重点征求意见的问题): free text when `choices` is empty."""

    text: str
    choices: list[str] = Field(default_factory=list)


class ConsultationPlan(BaseModel):
    """Everything staff set before a consultation opens; `text` is the whole draft, split
    into its articles when it opens."""

    title: str
    summary: str = ""
    source: str = ""
    text: str
    questions: list[QuestionPlan] = Field(default_factory=list)
    audience: ConsultationAudience
    audience_ref: int | None = None
    deadline: datetime


class ConsultStep(StrEnum):
    """The steps of /consult (the values are stored: conversations in progress resume)."""

    DRAFT = "draft"  # a document, or the text pasted in one or more messages, then Done
    PREVIEW = "preview"  # the structure found: accept, fix (send again) or cancel
    TITLE = "title"
    SUMMARY = "summary"  # skippable
    SOURCE = "source"  # skippable
    QUESTIONS = "questions"  # a key question's text, or Done
    QUESTION_KIND = "question_kind"  # free text, or its options typed one per line
    AUDIENCE = "audience"  # who is prompted; a street or station picked for some
    DEADLINE = "deadline"  # a typed date
    CONFIRM = "confirm"  # everything summarised: open or cancel


class ConsultDraft(BaseModel):
    """A consultation being composed; after Open, only `opened_as` is kept, until the next."""

    text: str = ""  # the draft's text as received so far
    pasted: int = 0  # messages pasted into `text` (0: it came as a document, or nothing yet)
    replacing: bool = False  # what comes next replaces `text` (a fix asked for)
    title: str = ""
    summary: str = ""
    source: str = ""
    questions: list[QuestionPlan] = Field(default_factory=list)
    question: str = ""  # the key question whose kind is being asked
    audience: ConsultationAudience | None = None
    audience_ref: int | None = None
    picking: ConsultationAudience | None = None  # its street or station is being picked
    deadline: date | None = None
    # names the confirm screen last shown: only its Open opens (an older one showed other
    # choices)
    token: str = ""
    opened_as: int | None = None  # the consultation a confirmed draft became


CONSULT = Conversation(
    "consult",
    steps=ConsultStep,
    draft=ConsultDraft,
    # begun by the "new" button of /consult's list, which is no conversation of its own
    opened_by=(),
    needs=Action.OPEN_CONSULTATION,
)


@dataclass(frozen=True)
class Listed:
    """A consultation as /consult lists it."""

    consultation: Consultation
    comments: int


@dataclass(frozen=True)
class Opened:
    """A consultation opened from the command line, and what to say about it."""

    consultation: Consultation
    articles: int
    short_deadline: bool  # sooner than NATIONAL_MIN_DAYS


@dataclass(frozen=True)
class _Checked:
    """A plan checked and its draft split into the rows it is saved as: all that opening
    writes, ready before its transaction begins."""

    title: str
    summary: str
    source: str
    questions: list[QuestionPlan]
    audience: ConsultationAudience
    audience_ref: int | None
    deadline: datetime
    articles: list[ArticleRow]


@dataclass(frozen=True)
class Reach:
    """Who opening now would invite (voters with notices off are invited, not messaged)."""

    deputies: int
    voters: int

    @property
    def total(self) -> int:
        return self.deputies + self.voters


# --- what staff type, checked the same way in chat and on the command line ------------------


def consult_title(raw: str | None) -> str:
    return typed(
        raw, maximum=TITLE_MAX, empty="consult.title_empty", too_long="consult.title_too_long"
    )


def consult_summary(raw: str | None) -> str:
    return typed(
        raw,
        maximum=SUMMARY_MAX,
        empty="consult.summary_empty",
        too_long="consult.summary_too_long",
    )


def consult_source(raw: str | None) -> str:
    return typed(
        raw, maximum=SOURCE_MAX, empty="consult.source_empty", too_long="consult.source_too_long"
    )


def question_text(raw: str | None) -> str:
    return typed(
        raw,
        maximum=QUESTION_MAX,
        empty="consult.question_empty",
        too_long="consult.question_too_long",
    )


def question_choices(lines: list[str]) -> list[str]:
    """The options of a multiple-choice question, one per line: 2–8, each at most 30
    characters, no two alike; blank lines are ignored."""
    choices = [clean(line) for line in lines]
    choices = [choice for choice in choices if choice]
    if not CHOICES_MIN <= len(choices) <= CHOICES_MAX:
        raise DomainError(
            "consult.choices_count", minimum=CHOICES_MIN, maximum=CHOICES_MAX, count=len(choices)
        )
    for choice in choices:
        if len(choice) > CHOICE_MAX:
            raise DomainError("consult.choice_too_long", maximum=CHOICE_MAX, choice=choice)
    if len(set(choices)) != len(choices):
        raise DomainError("consult.choices_repeated")
    return choices


def check_question(question: QuestionPlan) -> QuestionPlan:
    """A key question as the command line brings it, checked as the chat checks one."""
    text = question_text(question.text)
    return QuestionPlan(
        text=text, choices=question_choices(question.choices) if question.choices else []
    )


def _split_cleaned(text: str) -> DraftStructure | None:
    """The structure of a draft's text once cleaned; None when nothing is left of it."""
    cleaned = clean(text)
    return split_draft(cleaned) if cleaned else None


def articles_of(structure: DraftStructure) -> list[ArticleRow]:
    """The rows a draft is saved as: one per article (条), or one for a draft that is one
    text. Its preamble (title, 目录) and appendix are not articles (see draft_split)."""
    return [
        (article.number, article.sub, list(article.heading_path), article.text)
        for article in structure.articles
    ]


class ConsultationService:
    """Staff's side of consultations: composing one step by step, opening it with its
    prompts, the list and closing early, and the timed work (reminders, closing)."""

    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
        self.quiet = QuietHours.of(settings)
        self.repo = ConsultationRepo(db)
        self.users = UserRepo(db)
        self.stations = StationRepo(db)
        self.steps = DraftStore(db, CONSULT)

    # --- time -----------------------------------------------------------------------------

    def today(self) -> date:
        return self._day_of(self.clock.now())

    def _day_of(self, moment: datetime) -> date:
        """The local calendar day of an instant."""
        return moment.astimezone(self.zone).date()

    def deadline_of(self, day: date) -> datetime:
        """The instant comments stop: the end of `day`, local time."""
        return datetime.combine(day, DEADLINE_TIME, tzinfo=self.zone)

    def reminder_at(self, deadline: datetime, days: int) -> datetime:
        """When the reminder `days` before `deadline` goes: REMINDER_TIME, local time, on
        the day `days` before the deadline's day."""
        day = deadline.astimezone(self.zone).date() - timedelta(days=days)
        return datetime.combine(day, REMINDER_TIME, tzinfo=self.zone)

    def example_deadline(self) -> date:
        """A last day to show as an example: NATIONAL_MIN_DAYS from today."""
        return self.today() + timedelta(days=NATIONAL_MIN_DAYS)

    def check_deadline(self, day: date) -> None:
        """A last day must come after today."""
        if day <= self.today():
            raise DomainError("consult.deadline_not_after_today", date=day)

    def short_deadline(self, day: date) -> bool:
        """Sooner than NATIONAL_MIN_DAYS from today: allowed, with a warning."""
        return (day - self.today()).days < NATIONAL_MIN_DAYS

    def parse_deadline(self, raw: str | None) -> date:
        """A typed date (bot.services.typed_dates); without a year, the next such day."""
        try:
            return parse_date(
                raw,
                today=self.today(),
                direction=YearDirection.NEXT,
                refusal="consult.deadline_unparsable",
            )
        except DomainError as error:  # the example a deadline can be, not today
            raise DomainError(error.key, example=self.example_deadline().isoformat()) from None

    # --- the conversation's draft ------------------------------------------------------------

    async def draft(self, actor: User) -> ConsultDraft:
        ensure(actor, Action.OPEN_CONSULTATION)
        return await self.steps.load(actor.telegram_id) or ConsultDraft()

    async def save(
        self, actor: User, chat_id: int, draft: ConsultDraft, step: ConsultStep | None
    ) -> None:
        """The draft and the step it is at, written together (step None ends it)."""
        ensure(actor, Action.OPEN_CONSULTATION)
        await self.steps.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def begin(self, actor: User, chat_id: int) -> None:
        """A new consultation: the draft is asked for. It begins with a button, which the
        gate's one-conversation-at-a-time rule (for commands) does not see: checked here."""
        ensure(actor, Action.OPEN_CONSULTATION)
        await self.steps.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        await self.save(actor, chat_id, ConsultDraft(), ConsultStep.DRAFT)

    async def discard(self, actor: User, chat_id: int) -> None:
        await self.save(actor, chat_id, ConsultDraft(), None)

    # --- 1–2: the draft and its preview -----------------------------------------------------

    def check_upload(self, size: int | None) -> None:
        """A document's announced size, before anything is downloaded."""
        if size is not None:
            check_size(size, self.settings.draft_max_bytes)

    async def take_document(
        self, actor: User, chat_id: int, data: bytes, file_name: str | None
    ) -> DraftStructure:
        """The draft from a .docx or .txt document: it replaces anything received before,
        and its preview is next."""
        text = await asyncio.to_thread(draft_text, data, file_name, self.settings.draft_max_bytes)
        structure = await asyncio.to_thread(split_draft, text)
        draft = await self.draft(actor)
        draft.text, draft.pasted, draft.replacing = text, 0, False
        await self.save(actor, chat_id, draft, ConsultStep.PREVIEW)
        return structure

    async def take_pasted(
        self, actor: User, chat_id: int, raw: str | None, *, replace: bool = False
    ) -> ConsultDraft:
        """One pasted message, added to what was pasted before; it replaces the draft when
        it is the first of a fix (asked for, or pasted over the preview), or when the draft
        came as a document. Pasting goes on until Done."""
        piece = clean(raw)
        if not piece:
            raise DomainError("consult.paste_empty")
        draft = await self.draft(actor)
        if replace or draft.replacing or not draft.pasted:
            draft.text, draft.pasted = "", 0
        text = f"{draft.text}\n{piece}" if draft.text else piece
        if len(text.encode()) > self.settings.draft_max_bytes:
            raise DomainError(
                "consult.paste_too_large", maximum=megabytes(self.settings.draft_max_bytes)
            )
        draft.text, draft.pasted, draft.replacing = text, draft.pasted + 1, False
        await self.save(actor, chat_id, draft, ConsultStep.DRAFT)
        return draft

    def refuse_too_large(self) -> NoReturn:
        """Telegram would not hand the file over (it lets bots fetch 20 MB at most): refused
        as a file announced too large is."""
        check_size(self.settings.draft_max_bytes + 1, self.settings.draft_max_bytes)
        raise RuntimeError("check_size let a file larger than the maximum through")

    async def structure(self, draft: ConsultDraft) -> DraftStructure:
        """The structure of the draft's text, as its preview showed it (split off the event
        loop: a draft may be a whole code)."""
        return await asyncio.to_thread(split_draft, draft.text)

    async def preview(self, actor: User, chat_id: int) -> DraftStructure:
        """The structure of the draft received, shown before anything is saved."""
        draft = await self.draft(actor)
        if not draft.text or draft.replacing:
            raise DomainError("consult.nothing_yet")
        structure = await self.structure(draft)
        await self.save(actor, chat_id, draft, ConsultStep.PREVIEW)
        return structure

    async def fix(self, actor: User, chat_id: int) -> None:
        """The corrected text or file is asked for: what comes next replaces the draft."""
        draft = await self.draft(actor)
        draft.replacing = True
        await self.save(actor, chat_id, draft, ConsultStep.DRAFT)

    async def accept(self, actor: User, chat_id: int) -> None:
        draft = await self.draft(actor)
        if not draft.text or draft.replacing:
            raise DomainError("consult.nothing_yet")
        await self.save(actor, chat_id, draft, ConsultStep.TITLE)

    # --- 3–5: title, summary, source ---------------------------------------------------------

    async def set_title(self, actor: User, chat_id: int, raw: str | None) -> None:
        title = consult_title(raw)
        draft = await self.draft(actor)
        draft.title = title
        await self.save(actor, chat_id, draft, ConsultStep.SUMMARY)

    async def set_summary(self, actor: User, chat_id: int, raw: str | None) -> None:
        """The short summary; None skips it."""
        summary = "" if raw is None else consult_summary(raw)
        draft = await self.draft(actor)
        draft.summary = summary
        await self.save(actor, chat_id, draft, ConsultStep.SOURCE)

    async def set_source(self, actor: User, chat_id: int, raw: str | None) -> None:
        """Who the draft comes from (市人大常委会法制办 …); None skips it."""
        source = "" if raw is None else consult_source(raw)
        draft = await self.draft(actor)
        draft.source = source
        await self.save(actor, chat_id, draft, ConsultStep.QUESTIONS)

    # --- 6: key questions ---------------------------------------------------------------------

    async def ask_question(self, actor: User, chat_id: int, raw: str | None) -> None:
        """A key question's text; whether it is free text or multiple choice is asked next."""
        draft = await self.draft(actor)
        if len(draft.questions) >= QUESTIONS_MAX:
            raise DomainError("consult.too_many_questions", maximum=QUESTIONS_MAX)
        draft.question = question_text(raw)
        await self.save(actor, chat_id, draft, ConsultStep.QUESTION_KIND)

    async def add_question(self, actor: User, chat_id: int, options: str | None) -> ConsultDraft:
        """The question asked, as free text (`options` None) or with its options typed one
        per line; back to the questions."""
        draft = await self.draft(actor)
        if not draft.question:
            raise DomainError("error.stale_button")
        choices = [] if options is None else question_choices((options or "").split("\n"))
        draft.questions.append(QuestionPlan(text=draft.question, choices=choices))
        draft.question = ""
        await self.save(actor, chat_id, draft, ConsultStep.QUESTIONS)
        return draft

    async def questions_done(self, actor: User, chat_id: int) -> None:
        draft = await self.draft(actor)
        draft.question = ""
        await self.save(actor, chat_id, draft, ConsultStep.AUDIENCE)

    # --- 7: audience -------------------------------------------------------------------------

    async def check_audience(self, audience: ConsultationAudience, ref: int | None) -> None:
        if audience not in NEEDS_PLACE:
            return
        if ref is None:
            raise DomainError("consult.audience_needs_place")
        if audience == ConsultationAudience.VOTERS_OF_STATION:
            if await self.stations.get(ref) is None:
                raise DomainError("station.unknown")
        elif await self.stations.get_street(ref) is None:
            raise DomainError("station.unknown")

    async def reach(self, audience: ConsultationAudience, ref: int | None) -> Reach:
        deputies, voters = await self.repo.audience_counts(audience, ref)
        return Reach(deputies, voters)

    async def pick_place(self, actor: User, chat_id: int, audience: ConsultationAudience) -> None:
        """An audience of one street or station is chosen: its place is picked next."""
        if audience not in NEEDS_PLACE:
            raise DomainError("error.stale_button")
        draft = await self.draft(actor)
        draft.audience, draft.audience_ref, draft.picking = None, None, audience
        await self.save(actor, chat_id, draft, ConsultStep.AUDIENCE)

    async def change_audience(self, actor: User, chat_id: int) -> None:
        draft = await self.draft(actor)
        draft.audience, draft.audience_ref, draft.picking = None, None, None
        await self.save(actor, chat_id, draft, ConsultStep.AUDIENCE)

    async def set_audience(
        self, actor: User, chat_id: int, audience: ConsultationAudience, ref: int | None
    ) -> Reach:
        """The audience (and its place); returns the exact number to be prompted. The
        deadline is asked next."""
        await self.check_audience(audience, ref)
        draft = await self.draft(actor)
        draft.audience = audience
        draft.audience_ref = ref if audience in NEEDS_PLACE else None
        draft.picking = None
        await self.save(actor, chat_id, draft, ConsultStep.DEADLINE)
        return await self.reach(audience, draft.audience_ref)

    # --- 8–9: deadline, confirm -------------------------------------------------------------

    async def set_deadline(self, actor: User, chat_id: int, raw: str | None) -> ConsultDraft:
        """The typed last day (the deadline is its end); a day not after today is refused.
        A new confirm screen is next (`token` names it)."""
        day = self.parse_deadline(raw)
        self.check_deadline(day)
        draft = await self.draft(actor)
        draft.deadline = day
        draft.token = new_draft_token()
        await self.save(actor, chat_id, draft, ConsultStep.CONFIRM)
        return draft

    async def confirm(self, actor: User, chat_id: int, token: str) -> Consultation:
        """Open the consultation as the confirm screen `token` showed it, and end the
        conversation, in one transaction; in place of the draft, remember what it became."""
        draft = await self.draft(actor)
        if not draft.token or token != draft.token:
            raise DomainError("consult.old_confirm")
        if draft.audience is None or draft.deadline is None or not draft.text:
            raise DomainError("consult.nothing_yet")
        plan = ConsultationPlan(
            title=draft.title,
            summary=draft.summary,
            source=draft.source,
            text=draft.text,
            questions=draft.questions,
            audience=draft.audience,
            audience_ref=draft.audience_ref,
            deadline=self.deadline_of(draft.deadline),
        )
        checked = await self._checked(actor, plan)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            consultation = await self._write(tx, actor, checked)
            memo = ConsultDraft(opened_as=consultation.id).model_dump(mode="json")
            await self.steps.drafts.save(tx, actor.telegram_id, CONSULT.name, memo, now)
            key = conversation_key(chat_id, actor.telegram_id)
            await self.steps.states.put(tx, CONSULT.name, key, None, now)
        self.outbox.wake()
        return consultation

    async def opened_as(self, actor: User) -> int | None:
        """The consultation the actor's last confirmed draft became, while no new one is
        begun: what an Open tapped again is answered with."""
        try:
            return (await self.draft(actor)).opened_as
        except DraftUnreadable:
            return None

    # --- opening ------------------------------------------------------------------------------

    async def open_from_file(
        self,
        data: bytes,
        file_name: str,
        *,
        title: str,
        deadline: str,
        summary: str = "",
        source: str = "",
        audience: str = ConsultationAudience.EVERYONE.value,
        audience_ref: int | None = None,
        questions: Sequence[str] = (),
    ) -> Opened:
        """`python -m bot consultations create`: the draft from a file's bytes, the deadline
        typed as in chat (YYYY-MM-DD, 12-31, 12月31日 …), each key question as TEXT or
        TEXT|option|option…; opened by nobody in particular (staff hear when it closes)."""
        day = self.parse_deadline(deadline)
        self.check_deadline(day)
        try:
            chosen = ConsultationAudience(audience)
        except ValueError:
            known = ", ".join(a.value for a in ConsultationAudience)
            raise DomainError("consult.unknown_audience", audience=audience, known=known) from None
        asked = []
        for raw in questions:
            text, *options = raw.split("|")
            asked.append(QuestionPlan(text=text, choices=options))
        plan = ConsultationPlan(
            title=title,
            summary=summary,
            source=source,
            text=await asyncio.to_thread(
                draft_text, data, file_name, self.settings.draft_max_bytes
            ),
            questions=asked,
            audience=chosen,
            audience_ref=audience_ref,
            deadline=self.deadline_of(day),
        )
        consultation = await self.open(None, plan)
        articles = await self.repo.article_count(consultation.id)
        return Opened(consultation, articles, self.short_deadline(day))

    async def open(self, actor: User | None, plan: ConsultationPlan) -> Consultation:
        """Save the consultation with its articles and questions and prompt its audience
        through the outbox, in one transaction; `actor` None is the command line."""
        checked = await self._checked(actor, plan)
        async with self.db.transaction() as tx:
            consultation = await self._write(tx, actor, checked)
        self.outbox.wake()
        return consultation

    async def _checked(self, actor: User | None, plan: ConsultationPlan) -> _Checked:
        """The plan checked again (the command line brings it whole) and its draft split,
        before any transaction: splitting a whole code runs in a worker thread and must not
        hold the write lock."""
        if actor is not None:
            ensure(actor, Action.OPEN_CONSULTATION)
        title = consult_title(plan.title)
        summary = consult_summary(plan.summary) if clean(plan.summary) else ""
        source = consult_source(plan.source) if clean(plan.source) else ""
        if len(plan.questions) > QUESTIONS_MAX:
            raise DomainError("consult.too_many_questions", maximum=QUESTIONS_MAX)
        questions = [check_question(q) for q in plan.questions]
        if plan.deadline <= self.clock.now():
            raise DomainError("consult.deadline_passed")
        structure = await asyncio.to_thread(_split_cleaned, plan.text)
        if structure is None:
            raise DomainError("consult.nothing_yet")
        ref = plan.audience_ref if plan.audience in NEEDS_PLACE else None
        await self.check_audience(plan.audience, ref)
        return _Checked(
            title=title,
            summary=summary,
            source=source,
            questions=questions,
            audience=plan.audience,
            audience_ref=ref,
            deadline=plan.deadline,
            articles=articles_of(structure),
        )

    async def _write(self, tx: Tx, actor: User | None, plan: _Checked) -> Consultation:
        """The rows of a checked plan written inside `tx`, one prompt queued per invitee:
        after the personal notices queued meanwhile, held through the quiet hours."""
        now = self.clock.now()
        consultation_id = await self.repo.create(
            tx,
            title=plan.title,
            summary=plan.summary,
            source=plan.source,
            audience=plan.audience,
            audience_ref=plan.audience_ref,
            deadline=plan.deadline,
            created_by=actor.telegram_id if actor is not None else None,
            now=now,
        )
        await self.repo.add_articles(tx, consultation_id, plan.articles)
        await self.repo.add_questions(
            tx, consultation_id, [(q.text, q.choices) for q in plan.questions]
        )
        deputies, voters = await self.repo.invite(
            tx, consultation_id, plan.audience, plan.audience_ref
        )
        params = {
            "title": plan.title,
            "deadline_at": plan.deadline.isoformat(),
            ABOUT: consultation_id,
        }
        buttons = _read_button(consultation_id)
        held = self.quiet.held_until(now)
        # deputies are always prompted; a voter who turned notices off is invited all the
        # same (they may read and comment), and the outbox skips their prompt
        for invitees, respects_opt_out in ((deputies, False), (voters, True)):
            await self.outbox.notify_many(
                tx,
                invitees,
                PROMPT,
                respects_opt_out=respects_opt_out,
                buttons=buttons,
                not_before=held,
                priority=BULK,
                params=params,
            )
        return present(await self.repo.get(consultation_id, tx), "consultation")

    # --- staff's list, closing early ---------------------------------------------------------

    async def listed(self, actor: User, page: int, per_page: int) -> Page[Listed]:
        """Open consultations (soonest deadline first), then closed ones, with their
        comment counts."""
        ensure(actor, Action.OPEN_CONSULTATION)
        page, pages = clamp_page(page, await self.repo.count(), per_page)
        items = await self.repo.page(page * per_page, per_page)
        counts = await self.repo.comment_counts([c.id for c in items])
        return Page([Listed(c, counts.get(c.id, 0)) for c in items], page, pages)

    async def get(self, actor: User, consultation_id: int) -> Listed:
        ensure(actor, Action.OPEN_CONSULTATION)
        consultation = await self.repo.get(consultation_id)
        if consultation is None:
            raise DomainError("consult.unknown")
        counts = await self.repo.comment_counts([consultation_id])
        return Listed(consultation, counts.get(consultation_id, 0))

    async def close(self, actor: User, consultation_id: int) -> Consultation:
        """Close an open consultation now (staff); its creator, if someone else, is told."""
        ensure(actor, Action.OPEN_CONSULTATION)
        async with self.db.transaction() as tx:
            closed = await self._close(tx, consultation_id, self.clock.now())
            if closed is None:
                if await self.repo.get(consultation_id, tx) is None:
                    raise DomainError("consult.unknown")
                raise DomainError("consult.already_closed")
            await self._tell_closed(tx, closed, skip=actor.telegram_id)
        self.outbox.wake()
        return closed

    async def _close(self, tx: Tx, consultation_id: int, at: datetime) -> Consultation | None:
        """Close it inside `tx` (None when it was not open), withdrawing its prompts and
        reminders still queued (held through the quiet hours, or behind a long queue):
        they would invite comments no longer taken."""
        closed = await self.repo.close(tx, consultation_id, at)
        if closed is not None:
            await self.outbox.withdraw_marked(tx, (PROMPT, *REMINDER_KEYS), ABOUT, consultation_id)
        return closed

    # --- timed work ---------------------------------------------------------------------------

    def _reminder_times(self, consultation: Consultation) -> dict[int, datetime]:
        """Days before the deadline → when that reminder goes, for the reminders whose
        time comes after it opened."""
        times = {
            days: self.reminder_at(consultation.deadline, days)
            for days in self.settings.consultation_reminder_days
        }
        return {
            days: at
            for days, at in times.items()
            if consultation.created_at < at < consultation.deadline
        }

    def _due_reminder(self, consultation: Consultation, now: datetime) -> int | None:
        """The reminder due now (days before the deadline): the latest of those whose time
        has come since it opened, or None."""
        due = [days for days, at in self._reminder_times(consultation).items() if at <= now]
        return min(due) if due else None

    async def run_due(self) -> int:
        """Timed work (the scheduler's sweep and its deadline jobs call this): close what
        has reached its deadline, then send the reminders due. Returns how many
        consultations were closed or reminded about."""
        now = self.clock.now()
        done = 0
        for consultation in await self.repo.open_until(now):
            async with self.db.transaction() as tx:
                closed = await self._close(tx, consultation.id, consultation.deadline)
                if closed is not None:
                    await self._tell_closed(tx, closed)
                    done += 1
        open_ones = await self.repo.open_ones(now)
        sent = await self.repo.reminders_sent([c.id for c in open_ones])
        for consultation in open_ones:
            days = self._due_reminder(consultation, now)
            if days is None or (consultation.id, days) in sent:
                continue
            # sent late (the bot was down at its time) into the quiet hours, it waits for their
            # end; one that would then wait past the deadline is recorded and not sent
            held = self.quiet.held_until(now)
            async with self.db.transaction() as tx:
                if not await self.repo.record_reminder(tx, consultation.id, days, now):
                    continue
                done += 1
                if held is not None and held >= consultation.deadline:
                    continue
                silent = await self.repo.silent_deputies(tx, consultation.id)
                # sent late, it says how many days are really left, not its nominal count
                left = max(1, (self._day_of(consultation.deadline) - self._day_of(now)).days)
                await self.outbox.notify_many(
                    tx,
                    silent,
                    REMINDER_ONE if left == 1 else REMINDER_MANY,
                    buttons=_read_button(consultation.id),
                    not_before=held,
                    params={
                        "title": consultation.title,
                        "deadline_at": consultation.deadline.isoformat(),
                        "days": left,
                        ABOUT: consultation.id,
                    },
                )
        if done:
            self.outbox.wake()  # what was queued is committed now
        return done

    async def upcoming(self, until: datetime) -> list[datetime]:
        """Deadlines and reminder times between now and `until`, for the scheduler."""
        now = self.clock.now()
        times: set[datetime] = set()
        for consultation in await self.repo.all_open():
            times.add(consultation.deadline)
            times.update(self._reminder_times(consultation).values())
        return sorted(at for at in times if now < at <= until)

    async def _tell_closed(
        self, tx: Tx, consultation: Consultation, skip: int | None = None
    ) -> None:
        """Its creator (every staff member, for one opened from the command line) hears it
        closed, with the report a tap away."""
        if consultation.created_by is not None:
            recipients = [consultation.created_by]
        else:
            recipients = await self.users.staff_ids(tx)
        recipients = [r for r in recipients if r != skip]
        if not recipients:
            return
        await self.outbox.notify_many(
            tx,
            recipients,
            "consult.closed_notice",
            buttons=[
                [
                    NoticeButton(
                        label="consult.report",
                        intent=Intent.CONSULTATION_REPORT,
                        target=consultation.id,
                    )
                ]
            ],
            params={
                "title": consultation.title,
                "invited": consultation.invited,
                "comments": (await self.repo.comment_counts([consultation.id])).get(
                    consultation.id, 0
                ),
            },
        )


def _read_button(consultation_id: int) -> NoticeButtons:
    return [
        [
            NoticeButton(
                label="consult.read_button",
                intent=Intent.READ_CONSULTATION,
                target=consultation_id,
            )
        ]
    ]
