"""Reading a draft law article by article and commenting on it.

Reading: the open consultations a person may read (bot.access.may_read_consultation), a
consultation's table of contents (编 → 章), and one article per page, a long one split in
parts that each fit a Telegram message. Commenting: the COMMENT conversation (the text, then
for a voter whether to show their name), answers to the key questions, and a person's own
comments, which they edit or withdraw until the deadline. After it nothing more is taken:
every attempt gets "consultations.closed" with the instant comments stopped."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from html import escape
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.access import Action, ensure, ensure_may_read_consultation, may_read_consultation
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.services.consultations import ABOUT, REMINDER_KEYS
from bot.services.conversations import Conversation, DraftStore
from bot.services.draft_split import CHAPTER, PART, heading_level
from bot.services.outbox import Outbox
from bot.services.paging import Page, clamp_page
from bot.services.text import telegram_length, typed
from bot.settings import Settings
from storage import Database, Tx
from storage.models import (
    Consultation,
    ConsultationAudience,
    ConsultationComment,
    ConsultationQuestion,
    ConsultationState,
    PersonKind,
    Role,
    User,
)
from storage.repos.consultation_comments import (
    ArticleHead,
    ArticleOnPage,
    CommentRepo,
    OwnComment,
    TargetCount,
)
from storage.repos.consultations import ConsultationRepo
from storage.repos.deputies import DeputyRepo
from storage.repos.stations import StationRepo

# A comment is measured like an opinion (bot.services.text.typed): the minimum counts
# readable characters, the maximum every character left after cleaning.
COMMENT_MIN = 10
COMMENT_MAX = 2000
# An article's text on one page, in UTF-16 code units (Telegram's measure) after HTML
# escaping; the rest of the 4096 is the page's heading, markers and count (see handlers).
PAGE_BUDGET = 3500
SENTENCE_END = re.compile(r"(?<=[。；！？])")
SOFT_BREAK = "，、：,;: "  # where an overlong sentence is best cut

AUTHOR_KINDS = {
    Role.VOTER: PersonKind.VOTER,
    Role.DEPUTY: PersonKind.DEPUTY,
    Role.STAFF: PersonKind.STAFF,
    Role.ADMIN: PersonKind.STAFF,
}


class CommentStep(StrEnum):
    """The steps of commenting (the values are stored: a restart resumes)."""

    TEXT = "text"  # typing the comment, a free-text answer, or an edit
    NAME = "name"  # a voter chooses whether to show their name


class Target(BaseModel):
    """What a comment is about: an article (its position), a key question, or the whole
    draft when neither is set."""

    model_config = ConfigDict(frozen=True)

    article_position: int | None = None
    question_id: int | None = None


class CommentDraft(BaseModel):
    """A comment being written; `editing` is the id of the person's own comment being
    rewritten."""

    consultation: int | None = None
    target: Target = Target()
    at: int = 0  # the article the person was reading
    editing: int | None = None
    text: str | None = None


COMMENT = Conversation(
    "consultation_comment",
    steps=CommentStep,
    draft=CommentDraft,
    needs=Action.COMMENT_CONSULTATION,
)


def comment_text(raw: str | None) -> str:
    """A comment as typed, through the one cleaner, 10–2,000 characters."""
    return typed(
        raw,
        minimum=COMMENT_MIN,
        maximum=COMMENT_MAX,
        empty="consultations.text_empty",
        too_short="consultations.text_too_short",
        too_long="consultations.text_too_long",
    )


# --- splitting an article into pages --------------------------------------------------------


def shown_size(text: str) -> int:
    """The size Telegram counts (UTF-16 code units) of `text` once HTML-escaped."""
    return telegram_length(escape(text, quote=False))


def _joins(before: str, char: str) -> bool:
    """Whether `char` belongs with the character before it (a combining mark, a variation
    selector, a joiner or what a joiner joins): no part begins there."""
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in "\u200d\ufe0e\ufe0f"
        or before == "\u200d"
    )


def _cut(sentence: str, budget: int) -> list[str]:
    """An overlong sentence in pieces within `budget`: after a comma where one falls in the
    second half of a piece, else at the last whole character that fits."""
    pieces: list[str] = []
    rest = sentence
    while shown_size(rest) > budget:
        end, size = 0, 0
        while end < len(rest) and size + shown_size(rest[end]) <= budget:
            size += shown_size(rest[end])
            end += 1
        while end > 1 and _joins(rest[end - 1], rest[end]):  # a character with its marks
            end -= 1
        end = max(end, 1)
        soft = max(rest.rfind(c, 0, end) for c in SOFT_BREAK)
        if soft >= end // 2:
            end = soft + 1
        pieces.append(rest[:end])
        rest = rest[end:]
    return [*pieces, rest] if rest else pieces


def split_article(text: str, budget: int = PAGE_BUDGET) -> list[str]:
    """An article in parts that each fit `budget` once escaped, cut at paragraph (款, 项)
    boundaries, else at sentence ends (。；), else between whole characters; the parts
    joined give the text back exactly."""
    if shown_size(text) <= budget:
        return [text]
    pieces: list[str] = []
    for paragraph in text.splitlines(keepends=True):
        if shown_size(paragraph) <= budget:
            pieces.append(paragraph)
            continue
        for sentence in SENTENCE_END.split(paragraph):
            if sentence:
                pieces.extend(_cut(sentence, budget))
    parts: list[str] = []
    size = budget + 1
    for piece in pieces:
        piece_size = shown_size(piece)
        if parts and (size + piece_size <= budget or not piece.strip()):
            parts[-1] += piece  # a bare line break stays with the part it ends
            size += piece_size
        else:
            parts.append(piece)
            size = piece_size
    return parts


# --- the table of contents ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A line of the table of contents: a 编 or 章 heading (None: the articles before the
    first heading, named by their first article) and where it starts."""

    heading: str | None
    first: int  # the position of its first article
    first_number: int | None
    first_sub: int  # its 之M, 0 for an ordinary article
    children: tuple[Entry, ...] = ()


def _volume(head: ArticleHead) -> str | None:
    return next((h for h in head.heading_path if heading_level(h) == PART), None)


def _chapter(head: ArticleHead) -> tuple[str, ...] | None:
    """The headings down to the article's 章, which tell its chapter apart (None: none)."""
    for depth, heading in enumerate(head.heading_path):
        if heading_level(heading) == CHAPTER:
            return tuple(head.heading_path[: depth + 1])
    return None


def _groups(heads: list[ArticleHead], by: Literal["volume", "chapter"]) -> list[Entry]:
    """Consecutive articles under the same 编 (or 章), each group an entry; a 编's entry
    holds its chapters."""
    entries: list[Entry] = []
    members: list[list[ArticleHead]] = []
    last: object = object()
    for head in heads:
        key: object = _volume(head) if by == "volume" else _chapter(head)
        if key != last:
            members.append([])
            last = key
        members[-1].append(head)
    for group in members:
        first = group[0]
        if by == "volume":
            heading = _volume(first)
            chapters = _groups(group, "chapter")
            children = tuple(chapters) if any(c.heading for c in chapters) else ()
        else:
            chapter = _chapter(first)
            heading = chapter[-1] if chapter else None
            children = ()
        entries.append(Entry(heading, first.position, first.number, first.sub, children))
    return entries


def contents(heads: list[ArticleHead]) -> list[Entry]:
    """The table of contents: by 编 (each holding its 章) when the draft has parts, else by
    章; empty when it has no chapters at all (reading then starts at the first article)."""
    if any(_volume(head) for head in heads):
        return _groups(heads, "volume")
    chapters = _groups(heads, "chapter")
    return chapters if any(entry.heading for entry in chapters) else []


# --- what the views get ---------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """An open consultation in /consultations, with what the person has commented on."""

    consultation: Consultation
    comments: int
    targets: list[TargetCount]


@dataclass(frozen=True)
class Overview:
    consultation: Consultation
    closed_at: datetime | None  # when comments stopped; None while it is open
    articles: int
    questions: int
    contents: list[Entry]
    first: int | None  # the first article's position (None: no text at all)


@dataclass(frozen=True)
class ArticlePage:
    """One page: an article, or one part of a long one."""

    consultation: Consultation
    closed_at: datetime | None
    article: ArticleOnPage
    text: str
    part: int
    parts: int

    @property
    def has_prev(self) -> bool:
        return self.part > 0 or self.article.position > 0

    @property
    def has_next(self) -> bool:
        return self.part < self.parts - 1 or self.article.has_next


@dataclass(frozen=True)
class Questions:
    consultation: Consultation
    closed_at: datetime | None
    questions: list[ConsultationQuestion]
    choices: dict[int, str]  # question id → the option this person picked


@dataclass(frozen=True)
class QuestionView:
    consultation: Consultation
    closed_at: datetime | None
    question: ConsultationQuestion
    ordinal: int  # 1, 2 … among the consultation's questions
    choice: str | None  # the option this person picked


@dataclass(frozen=True)
class Aim:
    """A comment's target as the person is shown it."""

    consultation: Consultation
    target: Target
    article_number: int | None = None
    article_sub: int = 0  # M of 第N条之M, 0 otherwise
    question_ordinal: int | None = None
    question_text: str = ""
    current: str = ""  # the text being edited


@dataclass(frozen=True)
class Saved:
    """A comment written (or rewritten)."""

    comment: OwnComment
    at: int  # the article the person was reading
    edited: bool = False


@dataclass(frozen=True)
class Mine:
    consultation: Consultation
    closed_at: datetime | None
    page: Page[OwnComment]
    total: int


@dataclass(frozen=True)
class Author:
    """Who a new comment is from: their kind, their station (a voter's own, a deputy's
    deputy station) and whether they are named (deputies and staff always are)."""

    author_id: int
    author_kind: PersonKind
    station_id: int | None
    show_name: bool


class CommentService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
        self.consultations = ConsultationRepo(db)
        self.repo = CommentRepo(db)
        self.stations = StationRepo(db)
        self.deputies = DeputyRepo(db)
        self.steps = DraftStore(db, COMMENT)

    # --- open or closed ------------------------------------------------------------------

    def closed_at(self, consultation: Consultation) -> datetime | None:
        """When comments stopped being taken (the deadline, or an earlier close); None
        while they still are."""
        if consultation.state == ConsultationState.CLOSED:
            closed = consultation.closed_at or consultation.deadline
            return min(closed, consultation.deadline)
        if self.clock.now() >= consultation.deadline:
            return consultation.deadline
        return None

    def ensure_open(self, consultation: Consultation) -> None:
        closed = self.closed_at(consultation)
        if closed is not None:
            raise DomainError("consultations.closed", closed_at=closed)

    # --- who reads what ------------------------------------------------------------------

    async def _street_of(self, actor: User) -> int | None:
        """The street of a voter's station (what a voters-of-street audience is)."""
        if actor.role != Role.VOTER or actor.station_id is None:
            return None
        station = await self.stations.get(actor.station_id)
        return station.street_id if station is not None else None

    async def readable(self, actor: User, consultation_id: int) -> Consultation:
        """The consultation, if the actor may read it; a missing one is refused alike."""
        ensure(actor, Action.COMMENT_CONSULTATION)
        consultation = await self.consultations.get(consultation_id)
        if consultation is None:
            raise AccessDenied()
        street = None
        if consultation.audience == ConsultationAudience.VOTERS_OF_STREET:
            street = await self._street_of(actor)
        ensure_may_read_consultation(actor, consultation, street)
        return consultation

    async def open_ones(self, actor: User) -> list[Listed]:
        """The open consultations the actor may read, soonest deadline first, with what
        they have already commented on in each."""
        ensure(actor, Action.COMMENT_CONSULTATION)
        street = await self._street_of(actor)
        readable = [
            c
            for c in await self.consultations.open_ones(self.clock.now())
            if may_read_consultation(actor, c, street)
        ]
        targets = await self.repo.own_targets(actor.telegram_id, [c.id for c in readable])
        listed = []
        for consultation in readable:
            own = [t for t in targets if t.consultation_id == consultation.id]
            listed.append(Listed(consultation, sum(t.comments for t in own), own))
        return listed

    # --- reading -------------------------------------------------------------------------

    async def overview(self, actor: User, consultation_id: int) -> Overview:
        consultation = await self.readable(actor, consultation_id)
        heads = await self.repo.heads(consultation.id)
        return Overview(
            consultation,
            self.closed_at(consultation),
            articles=len(heads),
            questions=await self.repo.question_count(consultation.id),
            contents=contents(heads),
            first=heads[0].position if heads else None,
        )

    async def page(
        self, actor: User, consultation_id: int, position: int, part: int
    ) -> ArticlePage:
        """The article at `position`, part `part` (past the last part: the last part, which
        is where ◀ from the next article lands)."""
        consultation = await self.readable(actor, consultation_id)
        article = await self.repo.page(consultation.id, position)
        if article is None:
            raise DomainError("consultations.no_such_article")
        parts = split_article(article.text)
        part = min(part, len(parts) - 1)
        return ArticlePage(
            consultation, self.closed_at(consultation), article, parts[part], part, len(parts)
        )

    async def questions(self, actor: User, consultation_id: int) -> Questions:
        consultation = await self.readable(actor, consultation_id)
        return Questions(
            consultation,
            self.closed_at(consultation),
            await self.consultations.questions(consultation.id),
            await self.repo.choices(consultation.id, actor.telegram_id),
        )

    async def _question(
        self, actor: User, question_id: int
    ) -> tuple[Consultation, ConsultationQuestion, int]:
        question = await self.repo.question(question_id)
        if question is None:
            raise AccessDenied("error.stale_button")
        consultation = await self.readable(actor, question.consultation_id)
        ids = [q.id for q in await self.consultations.questions(consultation.id)]
        return consultation, question, ids.index(question.id) + 1

    async def question(self, actor: User, question_id: int) -> QuestionView:
        consultation, question, ordinal = await self._question(actor, question_id)
        mine = await self.repo.choice_of(question.id, actor.telegram_id)
        return QuestionView(
            consultation,
            self.closed_at(consultation),
            question,
            ordinal,
            mine.choice if mine is not None else None,
        )

    async def choose(self, actor: User, question_id: int, option: int) -> QuestionView:
        """Answer a multiple-choice question: one answer per person, changeable until the
        deadline."""
        consultation, question, ordinal = await self._question(actor, question_id)
        self.ensure_open(consultation)
        if not 0 <= option < len(question.choices):
            raise AccessDenied("error.stale_button")
        choice = question.choices[option]
        async with self.db.transaction() as tx:
            mine = await self.repo.choice_of(question.id, actor.telegram_id, tx)
            if mine is not None:
                await self.repo.set_choice(tx, mine.id, choice, self.clock.now())
            else:
                await self._insert(
                    tx,
                    await self._author(actor),
                    consultation,
                    Target(question_id=question.id),
                    text="",
                    choice=choice,
                )
        return QuestionView(consultation, None, question, ordinal, choice)

    # --- the comment conversation ----------------------------------------------------------

    async def _author(self, actor: User, show_name: bool | None = None) -> Author:
        """The author of a new comment; a voter is named only if they chose to be."""
        kind = AUTHOR_KINDS[actor.role]
        station = actor.station_id if kind == PersonKind.VOTER else None
        if kind == PersonKind.DEPUTY:
            deputy = await self.deputies.get(actor.telegram_id)
            station = deputy.station_id if deputy is not None else None
        named = kind != PersonKind.VOTER or bool(show_name)
        return Author(actor.telegram_id, kind, station, named)

    async def _insert(
        self,
        tx: Tx,
        author: Author,
        consultation: Consultation,
        target: Target,
        *,
        text: str,
        choice: str | None = None,
    ) -> int:
        """A new comment; a deputy's reminder still queued for this consultation (held
        through the quiet hours) no longer says they have not commented, so it is withdrawn."""
        if author.author_kind == PersonKind.DEPUTY:
            await self.outbox.withdraw_marked(
                tx, REMINDER_KEYS, ABOUT, consultation.id, chat_id=author.author_id
            )
        return await self.repo.insert(
            tx,
            consultation_id=consultation.id,
            author_id=author.author_id,
            author_kind=author.author_kind,
            station_id=author.station_id,
            show_name=author.show_name,
            article_position=target.article_position,
            question_id=target.question_id,
            text=text,
            choice=choice,
            now=self.clock.now(),
        )

    async def _store(
        self,
        tx: Tx,
        actor: User,
        chat_id: int,
        draft: CommentDraft | None,
        step: CommentStep | None,
    ) -> None:
        await self.steps.put(tx, chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def _aim(self, consultation: Consultation, target: Target) -> Aim:
        """The target checked against the consultation, with what names it; the one text of
        a draft without articles is commented on as the whole draft."""
        if target.article_position is not None:
            article = await self.consultations.article(consultation.id, target.article_position)
            if article is None:
                raise DomainError("consultations.no_such_article")
            if article.number is None:
                return Aim(consultation, Target())
            return Aim(consultation, target, article_number=article.number, article_sub=article.sub)
        if target.question_id is not None:
            questions = await self.consultations.questions(consultation.id)
            ids = [q.id for q in questions]
            if target.question_id not in ids:
                raise AccessDenied("error.stale_button")
            question = questions[ids.index(target.question_id)]
            if question.choices:  # answered with its buttons, not in words
                raise AccessDenied("error.stale_button")
            return Aim(
                consultation,
                target,
                question_ordinal=ids.index(question.id) + 1,
                question_text=question.text,
            )
        return Aim(consultation, target)

    async def begin(
        self, actor: User, chat_id: int, consultation_id: int, target: Target, at: int = 0
    ) -> Aim:
        """Start a comment on `target`, read from the article at `at`: the person types it
        next."""
        consultation = await self.readable(actor, consultation_id)
        self.ensure_open(consultation)
        aim = await self._aim(consultation, target)
        await self.steps.ensure_alone(chat_id, actor.telegram_id, "consultations.busy")
        draft = CommentDraft(consultation=consultation.id, target=aim.target, at=at)
        async with self.db.transaction() as tx:
            await self._store(tx, actor, chat_id, draft, CommentStep.TEXT)
        return aim

    async def _own(self, actor: User, comment_id: int) -> tuple[OwnComment, Consultation]:
        """The actor's own live comment and its consultation, which must still be open."""
        ensure(actor, Action.COMMENT_CONSULTATION)
        comment = await self.repo.get(comment_id)
        if comment is None or comment.author_id != actor.telegram_id:
            raise AccessDenied("error.not_your_record")
        if comment.withdrawn_at is not None:
            raise DomainError("consultations.comment_withdrawn")
        consultation = await self.readable(actor, comment.consultation_id)
        self.ensure_open(consultation)
        return comment, consultation

    async def begin_edit(self, actor: User, chat_id: int, comment_id: int, at: int = 0) -> Aim:
        """Rewrite one's own comment: the person types the new text next."""
        comment, consultation = await self._own(actor, comment_id)
        if comment.choice is not None:  # an answer is changed with the question's buttons
            raise AccessDenied("error.stale_button")
        target = Target(article_position=comment.article_position, question_id=comment.question_id)
        aim = await self._aim(consultation, target)
        await self.steps.ensure_alone(chat_id, actor.telegram_id, "consultations.busy")
        draft = CommentDraft(consultation=consultation.id, target=target, at=at, editing=comment.id)
        async with self.db.transaction() as tx:
            await self._store(tx, actor, chat_id, draft, CommentStep.TEXT)
        return replace(aim, current=comment.text)

    async def draft(self, actor: User) -> CommentDraft:
        """The comment being written; none kept is refused (the conversation then ends)."""
        draft = await self.steps.load(actor.telegram_id)
        if draft is None or draft.consultation is None:
            raise DomainError("consultations.no_draft")
        return draft

    async def _still_open(self, actor: User, chat_id: int, draft: CommentDraft) -> Consultation:
        """The draft's consultation, if comments are still taken; otherwise the draft is
        dropped (the conversation ends) and the refusal raised."""
        consultation = await self.readable(actor, present(draft.consultation, "consultation"))
        if self.closed_at(consultation) is not None:
            await self.discard(actor, chat_id)
            self.ensure_open(consultation)
        return consultation

    async def take_text(self, actor: User, chat_id: int, raw: str | None) -> Saved | None:
        """The typed comment: saved at once (a deputy, staff, an edit), or kept while a voter
        chooses whether to show their name (None)."""
        draft = await self.draft(actor)
        consultation = await self._still_open(actor, chat_id, draft)
        text = comment_text(raw)
        if draft.editing is not None:
            return await self._rewrite(actor, chat_id, draft, draft.editing, text)
        if actor.role == Role.VOTER:
            draft.text = text
            async with self.db.transaction() as tx:
                await self._store(tx, actor, chat_id, draft, CommentStep.NAME)
            return None
        return await self._write(actor, chat_id, consultation, draft, text, None)

    async def choose_name(self, actor: User, chat_id: int, show_name: bool) -> Saved:
        """A voter's choice to be named or not, which saves the comment."""
        draft = await self.draft(actor)
        consultation = await self._still_open(actor, chat_id, draft)
        text = draft.text
        if text is None:
            raise DomainError("consultations.no_draft")
        return await self._write(actor, chat_id, consultation, draft, text, show_name)

    async def _write(
        self,
        actor: User,
        chat_id: int,
        consultation: Consultation,
        draft: CommentDraft,
        text: str,
        show_name: bool | None,
    ) -> Saved:
        """The comment saved and the conversation ended, in one transaction."""
        author = await self._author(actor, show_name)
        async with self.db.transaction() as tx:
            comment_id = await self._insert(tx, author, consultation, draft.target, text=text)
            await self._store(tx, actor, chat_id, None, None)
            comment = await self.repo.get(comment_id, tx)
        return Saved(present(comment, "comment"), draft.at)

    async def _rewrite(
        self, actor: User, chat_id: int, draft: CommentDraft, comment_id: int, text: str
    ) -> Saved:
        comment, _ = await self._own(actor, comment_id)
        async with self.db.transaction() as tx:
            changed = await self.repo.set_text(tx, comment.id, text, self.clock.now())
            await self._store(tx, actor, chat_id, None, None)
            saved = await self.repo.get(comment.id, tx)
        if not changed:
            raise DomainError("consultations.comment_withdrawn")
        return Saved(present(saved, "comment"), draft.at, edited=True)

    async def discard(self, actor: User, chat_id: int) -> None:
        async with self.db.transaction() as tx:
            await self._store(tx, actor, chat_id, None, None)

    # --- one's own comments --------------------------------------------------------------

    async def mine(self, actor: User, consultation_id: int, page: int, per_page: int) -> Mine:
        """The actor's live comments on one consultation, oldest first."""
        consultation = await self.readable(actor, consultation_id)
        total = await self.repo.own_count(consultation.id, actor.telegram_id)
        page, pages = clamp_page(page, total, per_page)
        items = await self.repo.own(consultation.id, actor.telegram_id, page * per_page, per_page)
        return Mine(consultation, self.closed_at(consultation), Page(items, page, pages), total)

    async def own(self, actor: User, comment_id: int) -> OwnComment:
        """One's own comment, if it may still be withdrawn."""
        comment, _ = await self._own(actor, comment_id)
        return comment

    async def withdraw(self, actor: User, comment_id: int) -> ConsultationComment:
        """Withdraw one's own comment: it leaves every count."""
        comment, _ = await self._own(actor, comment_id)
        async with self.db.transaction() as tx:
            if not await self.repo.withdraw(tx, comment.id, self.clock.now()):
                raise DomainError("consultations.comment_withdrawn")
        return comment
