"""A closed consultation's report for staff: the summary figures (counted in SQL), the .xlsx
and the .docx 意见汇总 (written by bot.services.consultation_documents), marking comments
adopted (采纳), and the feedback note (意见采纳情况反馈) that tells everyone who commented
whether any of their comments was adopted.

An open consultation shows its summary so far; its files, marks and feedback wait for the
close, when comments can no longer change. Once the feedback is published the marks stay as
the commenters were told."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError
from bot.i18n import Texts
from bot.services import consultation_documents as documents
from bot.services.consultation_documents import (
    ArticleCount,
    ArticleNumber,
    ChoiceCount,
    QuestionAnswers,
    ReportData,
    ReportFile,
    ReportSummary,
    numbers_of,
)
from bot.services.conversations import Conversation, DraftStore
from bot.services.deputy_notices import QuietHours
from bot.services.outbox import BULK, Outbox
from bot.services.paging import Page, clamp_page
from bot.services.text import clip, typed
from bot.settings import Settings
from storage import Database
from storage.models import (
    Consultation,
    ConsultationArticle,
    ConsultationQuestion,
    ConsultationState,
    User,
)
from storage.repos.consultation_reports import (
    ConsultationReportRepo,
    ReportComment,
    Target,
    TargetCount,
)
from storage.repos.consultations import ConsultationRepo

FEEDBACK_MIN = 10
FEEDBACK_MAX = 2_000
TITLE_IN_NOTICE = 200  # characters of the title a feedback notice repeats


class FeedbackStep(StrEnum):
    """The steps of writing the feedback note (the values are stored: a restart resumes)."""

    WRITE = "write"  # the note is asked for
    PREVIEW = "preview"  # shown with how many it goes to, and Publish


class FeedbackDraft(BaseModel):
    consultation: int | None = None
    text: str = ""


FEEDBACK = Conversation(
    "consultation_feedback",
    steps=FeedbackStep,
    draft=FeedbackDraft,
    needs=Action.OPEN_CONSULTATION,
)


@dataclass(frozen=True)
class TargetList:
    """The articles, whole draft and key questions that have comments, a page of them."""

    consultation: Consultation
    page: Page[TargetCount]
    numbers: dict[int, ArticleNumber]  # article position → 第N条(之M)
    questions: dict[int, ConsultationQuestion]


@dataclass(frozen=True)
class TargetPage:
    """A page of the comments on one target, each with its number under the target."""

    consultation: Consultation
    target: Target
    number: int | None  # the article's 第N条
    sub: int  # and its 之M, 0 for an ordinary article
    question: ConsultationQuestion | None
    comments: list[tuple[int, ReportComment]]
    total: int
    adopted: int
    page: int
    pages: int


@dataclass(frozen=True)
class FeedbackPreview:
    consultation: Consultation
    text: str
    recipients: int  # everyone who commented
    adopted: int  # of them, those with a comment adopted


def report_order(target: Target, questions: dict[int, ConsultationQuestion]) -> tuple[int, int]:
    """Articles in reading order, then the whole draft, then the key questions."""
    if target.question_id is not None:
        question = questions.get(target.question_id)
        return (2, question.position if question else 0)
    if target.article_position is not None:
        return (0, target.article_position)
    return (1, 0)


class ConsultationReports:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.quiet = QuietHours.of(settings)
        self.repo = ConsultationReportRepo(db)
        self.consultations = ConsultationRepo(db)
        self.steps = DraftStore(db, FEEDBACK)

    # --- the rules every step checks -------------------------------------------------------

    async def _consultation(self, actor: User, consultation_id: int) -> Consultation:
        ensure(actor, Action.OPEN_CONSULTATION)
        consultation = await self.consultations.get(consultation_id)
        if consultation is None:
            raise DomainError("report.unknown")
        return consultation

    async def _closed(self, actor: User, consultation_id: int) -> Consultation:
        consultation = await self._consultation(actor, consultation_id)
        if consultation.state != ConsultationState.CLOSED:
            # the instant itself: the handlers write it in the person's locale and zone
            raise DomainError("report.not_closed", deadline=consultation.deadline)
        return consultation

    def _unpublished(self, consultation: Consultation) -> None:
        if consultation.feedback_at is not None:
            raise DomainError("report.feedback_already", on=consultation.feedback_at)

    # --- the summary and the files ---------------------------------------------------------

    async def summary(self, actor: User, consultation_id: int) -> ReportSummary:
        """The figures of a consultation; of an open one, so far."""
        consultation = await self._consultation(actor, consultation_id)
        articles = await self.consultations.articles(consultation.id)
        return await self._summary(
            consultation, articles, await self.repo.counts_by_target(consultation.id)
        )

    async def _summary(
        self,
        consultation: Consultation,
        articles: list[ConsultationArticle],
        counts: list[TargetCount],
    ) -> ReportSummary:
        cid = consultation.id
        numbers = numbers_of(articles)
        by_target = {c.target: c for c in counts}
        discussed = sorted(
            (
                ArticleCount(position, *numbers.get(position, (None, 0)), c.comments, c.adopted)
                for c in counts
                if (position := c.target.article_position) is not None
            ),
            key=lambda a: (-a.comments, a.position),
        )
        chosen = await self.repo.choice_counts(cid)
        questions = []
        for question in await self.consultations.questions(cid):
            answered = by_target.get(Target(None, question.id))
            picks = chosen.get(question.id, {})
            options = question.choices + [c for c in picks if c not in question.choices]
            total = sum(picks.values())
            questions.append(
                QuestionAnswers(
                    question=question,
                    answers=answered.comments if answered else 0,
                    choices=[
                        ChoiceCount(o, picks.get(o, 0), round(100 * picks.get(o, 0) / total))
                        if total
                        else ChoiceCount(o, 0, 0)
                        for o in options
                    ],
                    free_text=answered.with_text if answered else 0,
                )
            )
        whole = by_target.get(Target(None, None))
        return ReportSummary(
            consultation=consultation,
            invited=consultation.invited,
            invited_by_kind=await self.repo.invited_by_kind(cid),
            commenters=await self.repo.commenters(cid),
            commenters_by_kind=await self.repo.commenters_by_kind(cid),
            comments=sum(c.comments for c in counts),
            adopted=sum(c.adopted for c in counts),
            whole=whole.comments if whole else 0,
            articles=discussed,
            questions=questions,
        )

    async def _data(self, actor: User, consultation_id: int) -> ReportData:
        consultation = await self._closed(actor, consultation_id)
        articles = await self.consultations.articles(consultation.id)
        counts = await self.repo.counts_by_target(consultation.id)
        return ReportData(
            summary=await self._summary(consultation, articles, counts),
            articles=articles,
            comments=await self.repo.comments(consultation.id),
            counts={c.target: c.comments for c in counts},
        )

    def _name(self, texts: Texts, consultation: Consultation, extension: str) -> str:
        day = consultation.closed_at or consultation.deadline
        return documents.file_name(texts, consultation.title, day, extension)

    async def xlsx(self, actor: User, consultation_id: int, texts: Texts) -> ReportFile:
        """One row per comment and a summary sheet, in the language of `texts`."""
        return await self._xlsx(await self._data(actor, consultation_id), texts)

    async def docx(self, actor: User, consultation_id: int, texts: Texts) -> ReportFile:
        """意见汇总: each article's text and the comments under it."""
        return await self._docx(await self._data(actor, consultation_id), texts)

    async def files(
        self, actor: User, consultation_id: int, texts: Texts
    ) -> tuple[ReportFile, ReportFile]:
        """The .xlsx and the .docx, from one reading of the comments."""
        data = await self._data(actor, consultation_id)
        return await self._xlsx(data, texts), await self._docx(data, texts)

    async def _xlsx(self, data: ReportData, texts: Texts) -> ReportFile:
        content = await asyncio.to_thread(documents.xlsx, data, texts)  # seconds of CPU
        return ReportFile(self._name(texts, data.summary.consultation, "xlsx"), content)

    async def _docx(self, data: ReportData, texts: Texts) -> ReportFile:
        content = await asyncio.to_thread(documents.docx, data, texts)
        return ReportFile(self._name(texts, data.summary.consultation, "docx"), content)

    # --- marking comments adopted ----------------------------------------------------------

    async def targets(
        self, actor: User, consultation_id: int, page: int, per_page: int
    ) -> TargetList:
        """What has comments, in report order, a page at a time."""
        consultation = await self._closed(actor, consultation_id)
        questions = {q.id: q for q in await self.consultations.questions(consultation.id)}
        counts = sorted(
            await self.repo.counts_by_target(consultation.id),
            key=lambda c: report_order(c.target, questions),
        )
        page, pages = clamp_page(page, len(counts), per_page)
        numbers = numbers_of(await self.consultations.articles(consultation.id))
        items = counts[page * per_page : (page + 1) * per_page]
        return TargetList(consultation, Page(items, page, pages), numbers, questions)

    async def target_page(
        self, actor: User, consultation_id: int, target: Target, page: int, per_page: int
    ) -> TargetPage:
        """A page of the comments on one article, question or the whole draft."""
        consultation = await self._closed(actor, consultation_id)
        number: int | None = None
        sub = 0
        question: ConsultationQuestion | None = None
        if target.question_id is not None:
            questions = {q.id: q for q in await self.consultations.questions(consultation.id)}
            question = questions.get(target.question_id)
            if question is None:
                raise DomainError("report.unknown")
        elif target.article_position is not None:
            article = await self.consultations.article(consultation.id, target.article_position)
            if article is None:
                raise DomainError("report.unknown")
            number, sub = article.number, article.sub
        counts = {c.target: c for c in await self.repo.counts_by_target(consultation.id)}
        count = counts.get(target)
        total = count.comments if count else 0
        page, pages = clamp_page(page, total, per_page)
        comments = await self.repo.comments_on(consultation.id, target, page * per_page, per_page)
        numbered = list(enumerate(comments, page * per_page + 1))
        return TargetPage(
            consultation=consultation,
            target=target,
            number=number,
            sub=sub,
            question=question,
            comments=numbered,
            total=total,
            adopted=count.adopted if count else 0,
            page=page,
            pages=pages,
        )

    async def toggle_adopted(self, actor: User, comment_id: int) -> tuple[int, Target, bool]:
        """Mark a comment adopted, or no longer; returns its consultation, target and new
        mark. Only while the consultation is closed and its feedback not yet published."""
        ensure(actor, Action.OPEN_CONSULTATION)
        async with self.db.transaction() as tx:
            comment = await self.repo.comment_state(comment_id, tx)
            if comment is None or comment.withdrawn:
                raise DomainError("report.comment_unknown")
            consultation = await self.consultations.get(comment.consultation_id, tx)
            if consultation is None or consultation.state != ConsultationState.CLOSED:
                raise DomainError("report.comment_unknown")
            self._unpublished(consultation)
            adopted = not comment.adopted
            await self.repo.set_adopted(tx, comment.id, adopted)
        return comment.consultation_id, comment.target, adopted

    # --- the feedback note -----------------------------------------------------------------

    async def begin_feedback(self, actor: User, chat_id: int, consultation_id: int) -> None:
        consultation = await self._closed(actor, consultation_id)
        self._unpublished(consultation)
        async with self.db.transaction() as tx:
            draft = FeedbackDraft(consultation=consultation.id)
            await self.steps.put(
                tx, chat_id, actor.telegram_id, draft, FeedbackStep.WRITE, self.clock.now()
            )

    async def feedback_draft(self, actor: User) -> FeedbackDraft:
        ensure(actor, Action.OPEN_CONSULTATION)
        return await self.steps.load(actor.telegram_id) or FeedbackDraft()

    async def set_feedback(self, actor: User, chat_id: int, raw: str | None) -> FeedbackPreview:
        """Keep the note (10–2,000 characters, cleaned) and move to its preview."""
        draft = await self.feedback_draft(actor)
        if draft.consultation is None:
            raise DomainError("report.feedback_no_draft")
        consultation = await self._closed(actor, draft.consultation)
        self._unpublished(consultation)
        text = typed(
            raw,
            minimum=FEEDBACK_MIN,
            maximum=FEEDBACK_MAX,
            empty="report.feedback_empty",
            too_short="report.feedback_too_short",
            too_long="report.feedback_too_long",
        )
        draft = FeedbackDraft(consultation=consultation.id, text=text)
        async with self.db.transaction() as tx:
            await self.steps.put(
                tx, chat_id, actor.telegram_id, draft, FeedbackStep.PREVIEW, self.clock.now()
            )
        recipients, adopted = await self.repo.commenters_adopted_count(consultation.id)
        return FeedbackPreview(consultation, text, recipients, adopted)

    async def publish(self, actor: User, chat_id: int, consultation_id: int) -> int:
        """Save the previewed note and tell everyone who commented, each whether any of their
        own comments was adopted, in one transaction; returns how many were told."""
        consultation = await self._closed(actor, consultation_id)
        self._unpublished(consultation)
        draft = await self.feedback_draft(actor)
        if draft.consultation != consultation.id or not draft.text:
            raise DomainError("report.feedback_no_draft")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if not await self.repo.publish_feedback(tx, consultation.id, draft.text, now):
                current = await self.consultations.get(consultation.id, tx)
                self._unpublished(current or consultation)  # another staff member's, just now
                raise DomainError("report.unknown")
            commenters = await self.repo.commenters_adopted(tx, consultation.id)
            title = clip(consultation.title, TITLE_IN_NOTICE)
            for adopted in (True, False):
                await self.outbox.notify_many(
                    tx,
                    (author for author, any_adopted in commenters if any_adopted == adopted),
                    "report.feedback_notice",
                    params={
                        "title": title,
                        "feedback": draft.text,
                        "adopted_key": "report.feedback_adopted"
                        if adopted
                        else "report.feedback_not_adopted",
                    },
                    priority=BULK,  # thousands at once: behind everyone's personal notices
                    not_before=self.quiet.held_until(now),  # and never in the night
                )
            await self.steps.put(tx, chat_id, actor.telegram_id, None, None, now)
        return len(commenters)

    async def discard_feedback(self, actor: User, chat_id: int) -> None:
        async with self.db.transaction() as tx:
            await self.steps.put(tx, chat_id, actor.telegram_id, None, None, self.clock.now())
