"""The figures as people read them: each section's lines (a label and a value, in the reader's
language), the .xlsx (one sheet per section, the categories, the streets) and the .docx
(a heading per section, each with its table). The chat message and the chart use the same
labels and the same percent and day formats, so every place says a figure the same way."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from docx import Document
from docx.document import Document as DocxDocument
from docx.table import Table
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from bot.i18n import N_, Texts
from bot.services.ballot_rules import OUTCOME_LABELS, Outcome
from bot.services.consultation_documents import set_east_asian_fonts
from bot.services.figures import AreaKind, FiguresReport, Period
from bot.services.opinions import CATEGORY_LABELS
from bot.services.spreadsheets import text_cell, xml_safe

PERCENT_DIGITS = 1  # 59.2%
PERCENT_FORMAT = "0.0%"
DAYS_FORMAT = "0.00"
TOP_SHOWN = 5  # categories named in the chat message and a street's row


class Kind(StrEnum):
    COUNT = "count"
    RATE = "rate"  # a fraction shown as a percentage; None shown as —
    DAYS = "days"


@dataclass(frozen=True)
class Line:
    """One figure: its label (a message id, or text already translated), its JSON name and
    its value."""

    label: str
    name: str
    value: int | float | None
    kind: Kind = Kind.COUNT


@dataclass(frozen=True)
class Part:
    """A section of the report: its title and its lines (None: district-wide only)."""

    title: str
    name: str
    lines: list[Line] | None


AREA_KINDS = {
    AreaKind.DISTRICT: N_("stats.area_district"),
    AreaKind.STREET: N_("stats.area_street"),
    AreaKind.STATION: N_("stats.area_station"),
}


# --- words and numbers ------------------------------------------------------------------


def percent(texts: Texts, rate: float | None) -> str:
    """A rate as a percentage in the reader's locale (59.2%); — when there was nothing to
    count."""
    if rate is None:
        return texts("stats.none")
    return texts("stats.percent", value=texts.number(round(rate * 100, PERCENT_DIGITS)))


def value_text(texts: Texts, line: Line) -> str:
    if line.value is None:
        return texts("stats.none")
    if line.kind == Kind.RATE:
        return percent(texts, line.value)
    return texts.number(line.value)


def day_text(texts: Texts, day: date) -> str:
    """A calendar day in the locale's format (Texts formats instants; noon is that day)."""
    return texts.date(datetime.combine(day, time(12), tzinfo=texts.zone))


def period_text(texts: Texts, period: Period) -> str:
    start, end = day_text(texts, period.start), day_text(texts, period.end)
    return start if period.start == period.end else texts("stats.period", start=start, end=end)


def area_name(texts: Texts, report: FiguresReport) -> str:
    """全区, or the street's or station's name (as typed by staff: escape it for HTML)."""
    if report.area.kind == AreaKind.DISTRICT or report.area.name is None:
        return texts("stats.area_district")
    return report.area.name


def category_name(texts: Texts, code: str) -> str:
    label = CATEGORY_LABELS.get(code)
    return texts(label) if label else code


def top_categories(texts: Texts, counts: list[tuple[str, int]] | dict[str, int]) -> str:
    pairs = list(counts.items()) if isinstance(counts, dict) else counts
    separator = texts("stats.list_separator")
    return separator.join(
        texts("stats.category_count", category=category_name(texts, c), count=texts.number(n))
        for c, n in pairs[:TOP_SHOWN]
    )


# --- the sections -------------------------------------------------------------------------


def parts(texts: Texts, report: FiguresReport) -> list[Part]:
    """Every section with its lines, labels translated."""
    work = report.deputy_work
    opinions = report.opinions
    suggestions = report.suggestions

    def line(label: str, name: str, value: int | float | None, kind: Kind = Kind.COUNT) -> Line:
        return Line(texts(label), name, value, kind)

    result = [
        Part(
            texts("stats.section_deputy_work"),
            "deputy_work",
            [
                line("stats.deputy_attendances", "deputy_attendances", work.deputy_attendances),
                line("stats.voter_contacts", "voter_contacts", work.voter_contacts),
                line("stats.things_done", "things_done", work.things_done),
                line(
                    "stats.annual_accounts_given",
                    "annual_accounts_given",
                    work.annual_accounts_given,
                ),
            ],
        ),
        Part(
            texts("stats.section_opinions"),
            "opinions",
            [
                line("stats.opinions_received", "opinions_received", opinions.opinions_received),
                line("stats.accepted", "accepted", opinions.accepted),
                line("stats.declined", "declined", opinions.declined),
                line("stats.answered", "answered", opinions.answered),
                line("stats.response_rate", "response_rate", opinions.response_rate, Kind.RATE),
                line("stats.solved_rate", "solved_rate", opinions.solved_rate, Kind.RATE),
                line("stats.satisfied_rate", "satisfied_rate", opinions.satisfied_rate, Kind.RATE),
                line(
                    "stats.median_days",
                    "median_days_to_answer",
                    opinions.median_days_to_answer,
                    Kind.DAYS,
                ),
            ],
        ),
        Part(
            texts("stats.section_suggestions"),
            "suggestions",
            [
                line(
                    "stats.suggestions_submitted",
                    "suggestions_submitted",
                    suggestions.suggestions_submitted,
                ),
                line("stats.assigned", "assigned", suggestions.assigned),
                line("stats.suggestions_answered", "answered", suggestions.answered),
                line("stats.answered_on_time", "answered_on_time", suggestions.answered_on_time),
                *(
                    Line(texts("stats.of_class", code=code), f"by_class {code}", count)
                    for code, count in suggestions.by_class.items()
                ),
                line(
                    "stats.solved_or_progressed",
                    "solved_or_progressed count",
                    suggestions.solved_or_progressed.count,
                ),
                line(
                    "stats.solved_or_progressed_rate",
                    "solved_or_progressed rate",
                    suggestions.solved_or_progressed.rate,
                    Kind.RATE,
                ),
                line(
                    "stats.suggestion_satisfied_rate",
                    "satisfied_rate",
                    suggestions.satisfied_rate,
                    Kind.RATE,
                ),
                line(
                    "stats.met_before_answer_rate",
                    "met_before_answer_rate",
                    suggestions.met_before_answer_rate,
                    Kind.RATE,
                ),
                line("stats.ledger_open", "ledger_open", suggestions.ledger_open),
                line("stats.overdue", "overdue", suggestions.overdue),
            ],
        ),
    ]
    consultations = report.consultations
    result.append(
        Part(
            texts("stats.section_consultations"),
            "consultations",
            None
            if consultations is None
            else [
                line("stats.consultations_held", "held", consultations.held),
                line("stats.consultation_comments", "comments", consultations.comments),
            ],
        )
    )
    projects = report.projects
    result.append(
        Part(
            texts("stats.section_projects"),
            "projects",
            None
            if projects is None
            else [
                line("stats.projects_rated", "projects_rated", projects.projects_rated),
                *(
                    Line(texts(OUTCOME_LABELS[Outcome(v)]), f"verdicts {v}", n)
                    for v, n in projects.verdicts.items()
                ),
            ],
        )
    )
    return result


def file_name(texts: Texts, report: FiguresReport, extension: str) -> str:
    """统计_2026-11-01_2026-11-30.xlsx: the period in ASCII, whatever the area's name."""
    period = report.period
    return f"{texts('stats.file_prefix')}_{period.start}_{period.end}.{extension}"


# --- .xlsx ----------------------------------------------------------------------------------


def _bold_row(sheet: Worksheet) -> None:
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def _put(sheet: Worksheet, line: Line, texts: Texts) -> None:
    """label, value (a number Excel computes with; — for a null), the JSON name."""
    value: object = texts("stats.none") if line.value is None else line.value
    sheet.append([text_cell(sheet, line.label), value, line.name])
    cell = sheet.cell(row=sheet.max_row, column=2)
    if line.value is not None and line.kind == Kind.RATE:
        cell.number_format = PERCENT_FORMAT
    elif line.value is not None and line.kind == Kind.DAYS:
        cell.number_format = DAYS_FORMAT


def xlsx_bytes(report: FiguresReport, texts: Texts) -> bytes:
    """Sheets: the summary (what, when, where), one per section, the categories, the
    streets (their rates and hot topics), and the projects rated."""
    book = Workbook()
    summary = book.worksheets[0]
    summary.title = xml_safe(texts("stats.sheet_summary"))
    summary.append([xml_safe(texts("stats.title"))])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([texts("stats.xlsx_period"), period_text(texts, report.period)])
    kind = texts(AREA_KINDS[report.area.kind])
    summary.append([texts("stats.xlsx_area"), text_cell(summary, area_name(texts, report)), kind])
    for part in parts(texts, report):
        if part.lines is None:
            summary.append([part.title, texts("stats.district_only")])
            continue
        sheet = book.create_sheet(xml_safe(part.title))
        sheet.append([texts("stats.col_figure"), texts("stats.col_value"), texts("stats.col_name")])
        _bold_row(sheet)
        for line in part.lines:
            _put(sheet, line, texts)
        sheet.column_dimensions["A"].width = 28
        sheet.column_dimensions["B"].width = 14
        sheet.column_dimensions["C"].width = 28
    _categories_sheet(book, report, texts)
    _streets_sheet(book, report, texts)
    if report.projects is not None and report.projects.rated:
        sheet = book.create_sheet(xml_safe(texts("stats.sheet_projects_rated")))
        sheet.append(
            [texts("stats.col_project"), texts("stats.col_year"), texts("stats.col_verdict")]
        )
        _bold_row(sheet)
        for project in report.projects.rated:
            verdict = texts(OUTCOME_LABELS[Outcome(project.verdict)])
            sheet.append([text_cell(sheet, project.title), project.year, verdict])
        sheet.column_dimensions["A"].width = 36
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 30
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _categories_sheet(book: Workbook, report: FiguresReport, texts: Texts) -> None:
    sheet = book.create_sheet(xml_safe(texts("stats.sheet_categories")))
    sheet.append([texts("stats.col_category"), texts("stats.col_code"), texts("stats.col_count")])
    _bold_row(sheet)
    for code, count in report.opinions.by_category.items():
        sheet.append([category_name(texts, code), text_cell(sheet, code), count])
    sheet.column_dimensions["A"].width = 20


def _streets_sheet(book: Workbook, report: FiguresReport, texts: Texts) -> None:
    sheet = book.create_sheet(xml_safe(texts("stats.sheet_streets")))
    sheet.append(
        [
            texts("stats.col_street"),
            texts("stats.opinions_received"),
            texts("stats.response_rate"),
            texts("stats.satisfied_rate"),
            texts("stats.suggestions_answered"),
            texts("stats.solved_or_progressed_rate"),
            texts("stats.col_top"),
        ]
    )
    _bold_row(sheet)
    top = report.opinions.top_categories_by_street
    for street in report.streets:
        rates = (street.response_rate, street.satisfied_rate, street.solved_or_progressed_rate)
        sheet.append(
            [
                text_cell(sheet, street.name),
                street.opinions_received,
                *(texts("stats.none") if r is None else r for r in rates[:2]),
                street.suggestions_answered,
                texts("stats.none") if rates[2] is None else rates[2],
                text_cell(sheet, top_categories(texts, top.get(street.name, []))),
            ]
        )
        for column in (3, 4, 6):
            sheet.cell(row=sheet.max_row, column=column).number_format = PERCENT_FORMAT
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["G"].width = 48


# --- .docx ----------------------------------------------------------------------------------


def _table(document: DocxDocument, header: list[str], rows: list[list[str]]) -> Table:
    """A bordered table: the header in bold, then the rows."""
    table: Table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = xml_safe(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for line, row in zip(table.rows[1:], rows, strict=True):
        for cell, text in zip(line.cells, row, strict=True):
            cell.text = xml_safe(text)
    return table


def docx_bytes(report: FiguresReport, texts: Texts) -> bytes:
    """The title, the period and area, then a heading and a table per section, the
    categories, the streets and the projects rated: a document staff edit into their
    report."""
    document = Document()
    set_east_asian_fonts(document)
    document.core_properties.title = xml_safe(texts("stats.title"))
    document.add_heading(xml_safe(texts("stats.title")), level=0)
    where = texts(
        "stats.doc_scope",
        period=period_text(texts, report.period),
        area=area_name(texts, report),
    )
    document.add_paragraph(xml_safe(where))
    header = [texts("stats.col_figure"), texts("stats.col_value")]
    for part in parts(texts, report):
        document.add_heading(xml_safe(part.title), level=1)
        if part.lines is None:
            document.add_paragraph(texts("stats.district_only"))
            continue
        _table(document, header, [[line.label, value_text(texts, line)] for line in part.lines])
    document.add_heading(texts("stats.sheet_categories"), level=1)
    rows = [
        [category_name(texts, code), texts.number(count)]
        for code, count in report.opinions.by_category.items()
    ]
    _table(document, [texts("stats.col_category"), texts("stats.col_count")], rows)
    document.add_heading(texts("stats.sheet_streets"), level=1)
    top = report.opinions.top_categories_by_street
    _table(
        document,
        [
            texts("stats.col_street"),
            texts("stats.response_rate"),
            texts("stats.satisfied_rate"),
            texts("stats.solved_or_progressed_rate"),
            texts("stats.col_top"),
        ],
        [
            [
                street.name,
                percent(texts, street.response_rate),
                percent(texts, street.satisfied_rate),
                percent(texts, street.solved_or_progressed_rate),
                top_categories(texts, top.get(street.name, [])) or texts("stats.none"),
            ]
            for street in report.streets
        ],
    )
    if report.projects is not None and report.projects.rated:
        document.add_heading(texts("stats.sheet_projects_rated"), level=1)
        _table(
            document,
            [texts("stats.col_project"), texts("stats.col_verdict")],
            [[p.title, texts(OUTCOME_LABELS[Outcome(p.verdict)])] for p in report.projects.rated],
        )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- made off the event loop (drawing and zipping take a while) ---------------------------


async def xlsx(report: FiguresReport, texts: Texts) -> bytes:
    return await asyncio.to_thread(xlsx_bytes, report, texts)


async def docx(report: FiguresReport, texts: Texts) -> bytes:
    return await asyncio.to_thread(docx_bytes, report, texts)


async def chart(report: FiguresReport, texts: Texts) -> bytes:
    # matplotlib is imported on the first chart, not by every start of `python -m bot`
    from bot.services.figures_chart import chart_png

    return await asyncio.to_thread(chart_png, report, texts)
