"""The ledger's .xlsx (代表建议台账): one row per suggestion ever assigned, in the staff
member's language, streamed with openpyxl's write-only mode (20,000 rows in a few seconds):
bold frozen headers, set widths, times and dates as real cells Excel sorts by (a date inside
a text, in the reader's locale), and text people typed never taken as a formula
(bot.services.spreadsheets)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.i18n import N_, Texts
from bot.services.spreadsheets import text_cell, time_cell, xml_safe
from bot.services.suggestion_trail import last_day
from storage.repos.ledger import Row

DATE_FORMAT = "yyyy-mm-dd"
# (header, width) of each column, in order
COLUMNS: tuple[tuple[str, float], ...] = (
    (N_("ledger.col_number"), 14),
    (N_("ledger.col_title"), 36),
    (N_("ledger.col_lead_deputy"), 10),
    (N_("ledger.col_cosigners"), 18),
    (N_("ledger.col_category"), 10),
    (N_("ledger.col_lead_department"), 20),
    (N_("ledger.col_co_departments"), 24),
    (N_("ledger.col_assigned"), 17),
    (N_("ledger.col_due"), 12),
    (N_("ledger.col_answered"), 17),
    (N_("ledger.col_on_time"), 8),
    (N_("ledger.col_class"), 24),
    (N_("ledger.col_met"), 8),
    (N_("ledger.col_met_on"), 12),
    (N_("ledger.col_rating"), 10),
    (N_("ledger.col_rehandled"), 8),
    (N_("ledger.col_commitments"), 50),
    (N_("ledger.col_next_due"), 12),
    (N_("ledger.col_progress"), 40),
    (N_("ledger.col_progress_on"), 12),
    (N_("ledger.col_priority"), 8),
    (N_("ledger.col_status"), 10),
    (N_("ledger.col_overdue"), 8),
)
STATUS_LABELS = {"open": N_("ledger.status_open"), "done": N_("ledger.status_done")}
LIST_SEPARATOR = "、"


@dataclass(frozen=True)
class Line:
    """One row: what the repo read (with the rules' overdue and class label), and its ledger
    status."""

    row: Row
    status: str | None  # "open" | "done" on the ledger, None off it


@dataclass(frozen=True)
class Book:
    lines: list[Line]
    zone: tzinfo


def file_name(texts: Texts, day: datetime) -> str:
    """代表建议台账_20261126.xlsx"""
    return f"{texts('ledger.file_prefix')}_{day.astimezone(texts.zone):%Y%m%d}.xlsx"


def xlsx(book: Book, texts: Texts) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(texts("ledger.sheet"))
    sheet.freeze_panes = "A2"
    for index, (_, width) in enumerate(COLUMNS):
        letter = get_column_letter(index + 1)
        # the stubs lack a write-only sheet's column_dimensions; openpyxl has them
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for label, _ in COLUMNS:
        cell = WriteOnlyCell(sheet, xml_safe(texts(label)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    # the words that repeat on every row, looked up once
    yes, no = texts("ledger.yes"), texts("ledger.no")
    ratings = {
        rating: texts(f"suggestion.rating.{rating}")
        for rating in ("satisfied", "basically", "unsatisfied")
    }
    unrated = texts("ledger.unrated")
    statuses = {code: texts(label) for code, label in STATUS_LABELS.items()}
    done_mark, open_mark = texts("ledger.promise_done"), texts("ledger.promise_open")
    zone = book.zone

    def text(value: str) -> object:
        return text_cell(sheet, value) if value else None

    def moment(value: datetime | None) -> object:
        return time_cell(sheet, value, zone) if value is not None else None

    def day(value: date | None) -> object:
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, datetime.combine(value, time(0)))
        cell.number_format = DATE_FORMAT
        return cell

    written: dict[date, str] = {}

    def shown(value: date) -> str:
        """A date inside a text, as the reader writes dates (each formatted once)."""
        if value not in written:
            written[value] = texts.date(value)
        return written[value]

    for line in book.lines:
        row = line.row
        answer = row.answer
        on_time: str | None = None
        met: str | None = None
        if answer is not None:
            on_time = yes if answer.on_time else no
            met = yes if answer.met_deputy else no
        if row.rating is not None:
            rating: str | None = ratings[row.rating.value]
        elif row.state == "closed" and answer is not None:
            rating = unrated
        else:
            rating = None
        promises = "\n".join(
            texts(
                "ledger.promise_line",
                n=n,
                text=p.text,
                day=shown(p.due_on),
                state=done_mark if p.done else open_mark,
            )
            for n, p in enumerate(row.promises, 1)
        )
        next_due = min((p.due_on for p in row.promises if not p.done), default=None)
        progress = row.progress
        sheet.append(
            [
                row.number,
                text(row.title),
                text(row.lead_deputy),
                text(LIST_SEPARATOR.join(row.cosigners)),
                text(row.category),
                text(row.lead_department),
                text(LIST_SEPARATOR.join(row.co_departments)),
                moment(row.assigned_at),
                day(last_day(row.due_at, zone) if row.due_at is not None else None),
                moment(row.answered_at),
                on_time,
                text(row.outcome),
                met,
                day(answer.met_on if answer is not None else None),
                rating,
                yes if row.rehandled else no,
                text(promises),
                day(next_due),
                text(progress.text if progress else ""),
                day(progress.at.astimezone(zone).date() if progress else None),
                yes if row.priority else no,
                statuses.get(line.status or ""),
                yes if row.overdue else no,
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
