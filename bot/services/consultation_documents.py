"""What a consultation's report holds, and the two files staff send upward: the .xlsx (one
row per comment and a summary sheet) and the .docx 意见汇总 (each article's text, then the
comments under it). Both are written in the staff member's language and streamed: openpyxl's
write-only mode, and the .docx body as one XML fragment (python-docx's per-paragraph calls
take seconds for 30,000 comments)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, nsmap
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import (
    WriteOnlyWorksheet,
)

from bot.i18n import N_, Texts
from bot.services.draft_split import article_body, article_label
from bot.services.spreadsheets import text_cell, time_cell, xml_safe
from bot.services.text import clip
from storage.models import Consultation, ConsultationArticle, ConsultationQuestion, PersonKind
from storage.repos.consultation_reports import ReportComment
from storage.repos.consultation_reports import Target as Target  # the handlers' too

KIND_LABELS: dict[PersonKind, str] = {
    PersonKind.DEPUTY: N_("report.kind_deputy"),
    PersonKind.VOTER: N_("report.kind_voter"),
    PersonKind.STAFF: N_("report.kind_staff"),
}
# Word shows Chinese in the reader's installed font of this name (w:eastAsia)
BODY_FONT = "宋体"
HEADING_FONT = "黑体"
HEADING_STYLES = ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3")
QUESTION_CLIP = 60  # a key question's text where it labels a row
UNSAFE_IN_NAME = re.compile(r"[^\w\-]+")
# What labels an article: (N, M) of 第N条之M, M 0 for an ordinary article, N None for a draft
# that is one text.
ArticleNumber = tuple[int | None, int]


# --- what a report holds ----------------------------------------------------------------


@dataclass(frozen=True)
class ArticleCount:
    position: int
    number: int | None
    sub: int  # M of 第N条之M, 0 otherwise
    comments: int
    adopted: int


@dataclass(frozen=True)
class ChoiceCount:
    choice: str
    count: int
    percent: int  # of the question's answers with an option, rounded


@dataclass(frozen=True)
class QuestionAnswers:
    question: ConsultationQuestion
    answers: int
    choices: list[ChoiceCount]
    free_text: int  # answers that carry text


@dataclass(frozen=True)
class ReportSummary:
    """The figures of the chat summary, the summary sheet and the .docx's head."""

    consultation: Consultation
    invited: int
    invited_by_kind: dict[PersonKind, int]
    commenters: int
    commenters_by_kind: dict[PersonKind, int]
    comments: int
    adopted: int
    whole: int  # comments on the whole draft
    articles: list[ArticleCount]  # those with comments, most-discussed first
    questions: list[QuestionAnswers]


@dataclass(frozen=True)
class ReportData:
    """Everything the two files are written from."""

    summary: ReportSummary
    articles: list[ConsultationArticle]
    comments: list[ReportComment]  # in report order
    counts: dict[Target, int] = field(default_factory=dict)  # comments per target

    @property
    def questions(self) -> list[ConsultationQuestion]:
        return [q.question for q in self.summary.questions]


@dataclass(frozen=True)
class ReportFile:
    name: str
    data: bytes


# --- labels -----------------------------------------------------------------------------


def question_label(texts: Texts, question: ConsultationQuestion, limit: int = 0) -> str:
    text = clip(question.text, limit) if limit else question.text
    return texts("report.question", number=question.position + 1, question=text)


def target_label(
    texts: Texts,
    target: Target,
    numbers: dict[int, ArticleNumber],
    questions: dict[int, ConsultationQuestion],
    limit: int = QUESTION_CLIP,
) -> str:
    """The article, key question or whole draft a comment is on."""
    if target.question_id is not None:
        question = questions.get(target.question_id)
        return question_label(texts, question, limit) if question else "?"
    if target.article_position is not None:
        number, sub = numbers.get(target.article_position, (None, 0))
        return article_label(number, texts, sub)
    return texts("report.whole")


def numbers_of(articles: Iterable[ConsultationArticle]) -> dict[int, ArticleNumber]:
    """Article position → what labels it, for target_label."""
    return {a.position: (a.number, a.sub) for a in articles}


def author_name(texts: Texts, comment: ReportComment) -> str:
    """A deputy is named, and a voter who chose to be; anyone else is 匿名."""
    if comment.author_kind == PersonKind.DEPUTY:
        return comment.deputy_name or comment.full_name or texts("report.anonymous")
    if comment.show_name and comment.full_name:
        return comment.full_name
    return texts("report.anonymous")


def answer_text(comment: ReportComment) -> str:
    """A comment's words; an answer to a key question leads with the option picked."""
    if comment.choice and comment.text:
        return f"[{comment.choice}] {comment.text}"
    return comment.choice or comment.text


def file_name(texts: Texts, title: str, day: datetime, extension: str) -> str:
    """征求意见_{title}_{date}.xlsx, with only letters, digits, _ and - in the title."""
    safe = UNSAFE_IN_NAME.sub("_", title).strip("_")[:40] or "draft"
    local = day.astimezone(texts.zone).strftime("%Y%m%d")
    return f"{texts('report.file_prefix')}_{safe}_{local}.{extension}"


def _figures(texts: Texts, summary: ReportSummary) -> list[tuple[str, int]]:
    """The head figures, labelled: invited, commented and comments, with their kinds."""
    rows = [(texts("report.figure_invited"), summary.invited)]
    rows += [
        (texts("report.figure_of_kind", kind=texts(KIND_LABELS[kind])), count)
        for kind, count in sorted(summary.invited_by_kind.items())
    ]
    rows.append((texts("report.figure_commenters"), summary.commenters))
    rows += [
        (texts("report.figure_of_kind", kind=texts(KIND_LABELS[kind])), count)
        for kind, count in sorted(summary.commenters_by_kind.items())
    ]
    rows += [
        (texts("report.figure_comments"), summary.comments),
        (texts("report.figure_whole"), summary.whole),
        (texts("report.figure_adopted"), summary.adopted),
    ]
    return rows


# --- .xlsx ------------------------------------------------------------------------------


class _Sheet:
    """A write-only sheet: bold frozen headers, set widths, text never taken as a formula."""

    def __init__(self, sheet: WriteOnlyWorksheet, widths: Iterable[float]) -> None:
        self.sheet = sheet
        for index, width in enumerate(widths):
            letter = chr(ord("A") + index)
            # the stubs lack a write-only sheet's column_dimensions; openpyxl has them
            sheet.column_dimensions[letter].width = width  # type: ignore[attr-defined]
        self.bold = Font(bold=True)

    def header(self, *labels: str) -> None:
        cells = []
        for label in labels:
            cell = WriteOnlyCell(self.sheet, xml_safe(label))
            cell.font = self.bold
            cells.append(cell)
        self.sheet.append(cells)

    def row(self, *values: object) -> None:
        self.sheet.append([self.value(v) if isinstance(v, str) else v for v in values])

    def value(self, text: str) -> object:
        return text_cell(self.sheet, text)

    def time(self, moment: datetime, texts: Texts) -> object:
        """An instant in the staff member's zone, a date-time Excel sorts by."""
        return time_cell(self.sheet, moment, texts.zone)


def xlsx(data: ReportData, texts: Texts) -> bytes:
    """Sheet 1: one row per comment; sheet 2: the summary figures and comments per article."""
    book = Workbook(write_only=True)
    numbers = numbers_of(data.articles)
    questions = {q.id: q for q in data.questions}

    sheet = book.create_sheet(texts("report.sheet_comments"))
    sheet.freeze_panes = "A2"
    comments = _Sheet(sheet, (16, 6, 8, 22, 12, 80, 17, 8))
    comments.header(
        texts("report.col_target"),
        texts("report.col_number"),
        texts("report.col_kind"),
        texts("report.col_station"),
        texts("report.col_name"),
        texts("report.col_text"),
        texts("report.col_time"),
        texts("report.col_adopted"),
    )
    # the few values that repeat over tens of thousands of rows, made cell-ready once
    kinds = {kind: texts(label) for kind, label in KIND_LABELS.items()}
    yes_no = {True: texts("report.yes"), False: texts("report.no")}
    ready: dict[str, object] = {}

    def once(text: str) -> object:
        value = ready.get(text)
        if value is None:
            value = comments.value(text)
            if isinstance(value, str):  # a cell object is refilled by openpyxl: never reused
                ready[text] = value
        return value

    labels: dict[Target, str] = {}
    append = comments.sheet.append
    for comment, ordinal in numbered(data.comments):
        label = labels.get(comment.target)
        if label is None:
            label = labels[comment.target] = target_label(texts, comment.target, numbers, questions)
        append(
            [
                once(label),
                ordinal,
                kinds[comment.author_kind],
                once(comment.station or ""),
                once(author_name(texts, comment)),
                comments.value(answer_text(comment)),
                comments.time(comment.created_at, texts),
                yes_no[comment.adopted],
            ]
        )

    sheet = book.create_sheet(texts("report.sheet_summary"))
    sheet.freeze_panes = "A2"
    summary = _Sheet(sheet, (40, 24, 12, 12))
    report = data.summary
    consultation = report.consultation
    summary.header(texts("report.col_item"), texts("report.col_value"))
    summary.row(texts("report.figure_title"), consultation.title)
    if consultation.source:
        summary.row(texts("report.figure_source"), consultation.source)
    summary.row(texts("report.figure_deadline"), summary.time(consultation.deadline, texts))
    for label, count in _figures(texts, report):
        summary.row(label, count)
    summary.row()
    summary.header(
        texts("report.col_target"), texts("report.col_comments"), texts("report.col_adopted")
    )
    adopted = {a.position: a.adopted for a in report.articles}
    for article in data.articles:
        target = Target(article.position, None)
        summary.row(
            article_label(article.number, texts, article.sub),
            data.counts.get(target, 0),
            adopted.get(article.position, 0),
        )
    summary.row(texts("report.whole"), report.whole)
    if report.questions:
        summary.row()
        summary.header(
            texts("report.col_question"),
            texts("report.col_choice"),
            texts("report.col_count"),
            texts("report.col_percent"),
        )
        for answers in report.questions:
            label = question_label(texts, answers.question)
            for choice in answers.choices:
                summary.row(label, choice.choice, choice.count, choice.percent)
            summary.row(label, texts("report.free_text"), answers.free_text)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def numbered(comments: Iterable[ReportComment]) -> Iterator[tuple[ReportComment, int]]:
    """Each comment with its number under its target (1, 2, …), as every view numbers it."""
    current: Target | None = None
    ordinal = 0
    for comment in comments:
        if comment.target != current:
            current, ordinal = comment.target, 0
        ordinal += 1
        yield comment, ordinal


# --- .docx ------------------------------------------------------------------------------


def paragraph_xml(text: str, style: str | None = None, indent: bool = False) -> str:
    """One paragraph's XML; a line break in the text stays a line break."""
    properties = ""
    if style or indent:
        inner = f'<w:pStyle w:val="{style}"/>' if style else ""
        inner += '<w:ind w:left="420"/>' if indent else ""
        properties = f"<w:pPr>{inner}</w:pPr>"
    lines = xml_safe(text).split("\n")
    runs = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
    return f"<w:p>{properties}<w:r>{runs}</w:r></w:p>"


def _w(name: str) -> str:
    """A WordprocessingML name in Clark notation ({namespace}name)."""
    return f"{{{nsmap['w']}}}{name}"


def set_east_asian_fonts(document: DocxDocument) -> None:
    """The East Asian font of the body and the headings, so Chinese renders in a Chinese
    face wherever the reader has it (a theme font would win over it: removed)."""
    styles = document.styles
    for name, font in (("Normal", BODY_FONT), *((s, HEADING_FONT) for s in HEADING_STYLES)):
        properties = styles[name].element.get_or_add_rPr()
        fonts = properties.get_or_add_rFonts()
        fonts.set(_w("eastAsia"), font)
        fonts.attrib.pop(_w("eastAsiaTheme"), None)
        if name == "Normal":
            language = properties.find(_w("lang"))
            if language is None:
                language = parse_xml(f"<w:lang {nsdecls('w')}/>")
                properties.append(language)
            language.set(_w("eastAsia"), "zh-CN")


def _comment_lines(
    texts: Texts,
    comments: Iterable[tuple[int, ReportComment]],
    kinds: dict[PersonKind, str],
    mark: str,
) -> Iterator[str]:
    """Comments with their numbers under their target, indented under it."""
    for ordinal, comment in comments:
        where = kinds[comment.author_kind]
        if comment.station:
            where = texts("report.kind_at_station", kind=where, station=comment.station)
        line = texts(
            "report.doc_comment",
            number=ordinal,
            where=where,
            text=answer_text(comment),
            adopted=mark if comment.adopted else "",
        )
        yield paragraph_xml(line, indent=True)


def docx(data: ReportData, texts: Texts) -> bytes:
    """意见汇总: title, source, deadline, the figures; each article's text with the comments
    under it (numbered, with kind and station); the whole-draft comments; the answers to
    the key questions."""
    report = data.summary
    consultation = report.consultation
    kinds = {kind: texts(label) for kind, label in KIND_LABELS.items()}
    mark = texts("report.adopted_mark")
    by_target: dict[Target, list[ReportComment]] = {}
    for comment in data.comments:
        by_target.setdefault(comment.target, []).append(comment)

    parts = [
        paragraph_xml(consultation.title, "Title"),
        paragraph_xml(texts("report.doc_subtitle"), "Subtitle"),
    ]
    if consultation.source:
        parts.append(paragraph_xml(texts("report.doc_source", source=consultation.source)))
    parts.append(
        paragraph_xml(texts("report.doc_deadline", deadline=texts.datetime(consultation.deadline)))
    )
    parts += [
        paragraph_xml(texts("report.doc_figure", label=label, count=count))
        for label, count in _figures(texts, report)
    ]

    parts.append(paragraph_xml(texts("report.doc_articles"), "Heading1"))
    headings: list[str] = []
    for article in data.articles:
        path = article.heading_path
        depth = 0
        while depth < min(len(path), len(headings)) and path[depth] == headings[depth]:
            depth += 1
        parts += [paragraph_xml(heading, "Heading2") for heading in path[depth:]]
        headings = list(path)
        label = article_label(article.number, texts, article.sub)
        parts.append(paragraph_xml(label, "Heading3"))
        # the label above says 第十二条: the text's own "第十二条" / "第12条" is not repeated
        text = article.text if article.number is None else article_body(article.text)
        parts += [paragraph_xml(line) for line in text.split("\n") if line.strip()]
        comments = by_target.get(Target(article.position, None), [])
        if comments:
            parts += _comment_lines(texts, enumerate(comments, 1), kinds, mark)
        else:
            parts.append(paragraph_xml(texts("report.doc_no_comments"), indent=True))

    parts.append(paragraph_xml(texts("report.doc_whole"), "Heading1"))
    whole = by_target.get(Target(None, None), [])
    parts += _comment_lines(texts, enumerate(whole, 1), kinds, mark)
    if not whole:
        parts.append(paragraph_xml(texts("report.doc_no_comments"), indent=True))

    if report.questions:
        parts.append(paragraph_xml(texts("report.doc_questions"), "Heading1"))
    for answers in report.questions:
        parts.append(paragraph_xml(question_label(texts, answers.question), "Heading2"))
        parts += [
            paragraph_xml(
                texts(
                    "report.doc_choice",
                    choice=choice.choice,
                    count=choice.count,
                    percent=choice.percent,
                )
            )
            for choice in answers.choices
        ]
        parts.append(paragraph_xml(texts("report.doc_free_text", count=answers.free_text)))
        answered = enumerate(by_target.get(Target(None, answers.question.id), []), 1)
        written = [(ordinal, c) for ordinal, c in answered if c.text.strip()]
        parts += _comment_lines(texts, written, kinds, mark)

    document = Document()
    set_east_asian_fonts(document)
    document.core_properties.title = xml_safe(consultation.title)
    body = document.element.body
    section = body[-1]  # the section properties stay last
    fragment = parse_xml(f"<w:body {nsdecls('w')}>{''.join(parts)}</w:body>")
    for paragraph in list(fragment):
        section.addprevious(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
