"""A closed ballot's results as files for staff, in the staff member's language: an .xlsx
(every count, share and outcome per project, under a header with the turnout and the rule)
and the bar chart PNG of bot.services.ballot_chart."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.i18n import N_, Texts
from bot.services.ballot_rules import (
    CHOICE_LABELS,
    MODE_LABELS,
    OUTCOME_LABELS,
    TITLES,
    BallotResult,
)
from bot.services.spreadsheets import text_cell, time_cell, xml_safe
from storage.models import Ballot, BallotMode

SHARE_LABELS: dict[BallotMode, str] = {
    BallotMode.EACH: N_("ballot.share_for"),
    BallotMode.K_OF_N: N_("ballot.share_votes"),
    BallotMode.RATING: N_("ballot.share_satisfied"),
}
RULES: dict[BallotMode, str] = {  # texts(…, pick=…, share=…, base=…); plain ids, as N_()
    BallotMode.EACH: "ballot.rule_each",  # would read as a call without the placeholders
    BallotMode.K_OF_N: "ballot.rule_k_of_n",
    BallotMode.RATING: "ballot.rule_rating",
}
BASE_LABELS = {"entitled": N_("ballot.base_entitled"), "voted": N_("ballot.base_voted")}


def percent(share: Fraction) -> str:
    """A share as people read it in a table: 30.8%."""
    return f"{float(share) * 100:.1f}%"


def title_of(texts: Texts, ballot: Ballot) -> str:
    return texts(TITLES[ballot.purpose], year=ballot.year)


def mode_of(texts: Texts, ballot: Ballot, projects: int) -> str:
    return texts(MODE_LABELS[ballot.mode], count=projects, pick=ballot.pick or 0)


def rule_of(texts: Texts, result: BallotResult) -> str:
    """The rule the outcomes follow, in words (for ratings, with the settings' share and base)."""
    return texts(
        RULES[result.ballot.mode],
        pick=result.ballot.pick or 0,
        share=percent(result.verdict_share),
        base=texts(BASE_LABELS[result.verdict_base]),
    )


# --- .xlsx ------------------------------------------------------------------------------------


def xlsx_bytes(result: BallotResult, texts: Texts, zone: ZoneInfo) -> bytes:
    """One sheet: a header (title, mode, entitled, voted, turnout, times, the rule), then
    one row per project, ranked, with every count, the share and the outcome."""
    ballot = result.ballot
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = xml_safe(texts("ballot.xlsx_sheet"))
    bold = Font(bold=True)

    def local(moment: datetime | None) -> object:
        """A date-time cell Excel sorts by, in the settings' zone; empty when not yet."""
        return time_cell(sheet, moment, zone) if moment else None

    head: list[tuple[str, object]] = [
        (texts("ballot.xlsx_mode"), mode_of(texts, ballot, len(result.rows))),
        (texts("ballot.xlsx_entitled"), ballot.entitled),
        (texts("ballot.xlsx_voted"), result.voted),
        (texts("ballot.xlsx_turnout"), float(result.turnout)),
        (texts("ballot.xlsx_opened"), local(ballot.opened_at)),
        (texts("ballot.xlsx_closed"), local(ballot.closed_at)),
        (texts("ballot.xlsx_rule"), rule_of(texts, result)),
    ]
    sheet.append([xml_safe(title_of(texts, ballot))])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in head:
        sheet.append([label, value])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        if isinstance(value, float):  # the turnout
            sheet.cell(row=sheet.max_row, column=2).number_format = "0.0%"
    sheet.append([])
    columns = [
        texts("ballot.xlsx_rank"),
        texts("ballot.xlsx_project"),
        texts("ballot.xlsx_department"),
        *(texts(CHOICE_LABELS[c]) for c in result.choices),
        texts(SHARE_LABELS[ballot.mode]),
        texts("ballot.xlsx_outcome"),
    ]
    sheet.append(columns)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for row in result.rows:
        sheet.append(
            [
                row.rank,
                text_cell(sheet, row.project.title),  # typed by people: never a formula
                text_cell(sheet, row.project.department),
                *(row.counts[c] for c in result.choices),
                float(row.share),
                texts(OUTCOME_LABELS[row.outcome]),
            ]
        )
        sheet[sheet.max_row][-2].number_format = "0.0%"
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 40
    sheet.column_dimensions["C"].width = 20
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class BallotReports:
    """The files of a result, made off the event loop (drawing and zipping take a while)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    async def xlsx(self, result: BallotResult, texts: Texts) -> bytes:
        return await asyncio.to_thread(xlsx_bytes, result, texts, self.zone)

    async def chart(self, result: BallotResult, texts: Texts) -> bytes:
        # matplotlib is imported on the first chart, not by every start of `python -m bot`
        from bot.services.ballot_chart import chart_png

        return await asyncio.to_thread(chart_png, result, texts)
