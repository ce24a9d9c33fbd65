"""A closed ballot's results as files for staff, in the staff member's language: an .xlsx
(every count, share and outcome per project, under a header with the turnout and the rule)
and a bar chart PNG drawn with the Noto Sans CJK SC font that the `mplfonts` dependency
ships, so Chinese renders on any machine without relying on system fonts."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from fractions import Fraction
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator
from openpyxl import Workbook
from openpyxl.styles import Font

from bot.i18n import N_, Texts
from bot.services.ballot_rules import (
    CHOICE_LABELS,
    MODE_LABELS,
    OUTCOME_LABELS,
    TITLES,
    BallotResult,
    Choice,
)
from bot.services.spreadsheets import text_cell, time_cell, xml_safe
from bot.services.text import clip
from storage.models import Ballot, BallotMode

FONT_PATH = Path(str(resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"))
CHART_TITLE_CLIP = 18  # characters of a project's title beside its bar
COLORS: dict[Choice, str] = {
    Choice.FOR: "#2e7d32",
    Choice.AGAINST: "#c62828",
    Choice.ABSTAIN: "#9e9e9e",
    Choice.CHOSEN: "#1565c0",
    Choice.SATISFIED: "#2e7d32",
    Choice.BASIC: "#f9a825",
    Choice.UNSATISFIED: "#c62828",
}
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
_drawing = threading.Lock()  # matplotlib's rc settings are global: one chart at a time


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


# --- the bar chart ----------------------------------------------------------------------------


@contextmanager
def chart_font() -> Iterator[FontProperties]:
    """The CJK font for every text of a chart, the tick labels drawn later included: known to
    matplotlib's font manager and made the default while the chart is built and saved."""
    font = FontProperties(fname=str(FONT_PATH))
    names = {entry.fname for entry in font_manager.fontManager.ttflist}
    if str(FONT_PATH) not in names:
        font_manager.fontManager.addfont(str(FONT_PATH))
    with (
        _drawing,
        rc_context({"font.family": "sans-serif", "font.sans-serif": [font.get_name()]}),
    ):
        yield font


def chart_figure(result: BallotResult, texts: Texts, font: FontProperties) -> Figure:
    """Stacked horizontal bars, one per project (rank 1 on top), one segment per choice,
    and the line a project must pass: half of the entitled (selection) or the verdict's
    share of its base (rating). Call inside `chart_font()`."""
    ballot = result.ballot
    rows = result.rows
    figure = Figure(figsize=(9, max(3.2, 0.5 * len(rows) + 2.0)), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(rows)))
    left = [0] * len(rows)
    for choice in result.choices:
        values = [row.counts[choice] for row in rows]
        axes.barh(
            positions,
            values,
            left=left,
            color=COLORS[choice],
            label=texts(CHOICE_LABELS[choice]),
            height=0.6,
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    if ballot.mode == BallotMode.RATING:
        line = float(result.verdict_share * result.base)
        line_label = texts("ballot.chart_verdict_line", share=percent(result.verdict_share))
    else:
        line = ballot.entitled / 2
        line_label = texts("ballot.chart_majority_line")
    axes.axvline(line, color="#424242", linestyle="--", linewidth=1, label=line_label)
    labels = [f"{row.rank}. {clip(row.project.title, CHART_TITLE_CLIP)}" for row in rows]
    axes.set_yticks(positions, labels, fontproperties=font)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(ballot.entitled, max(left, default=0), 1))
    axes.set_xlabel(texts("ballot.chart_votes"), fontproperties=font)
    axes.set_title(
        texts(
            "ballot.chart_title",
            title=title_of(texts, ballot),
            voted=result.voted,
            entitled=ballot.entitled,
        ),
        fontproperties=font,
    )
    axes.legend(  # below the bars, never over them
        prop=font,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1 - 0.6 / max(len(rows), 1)),
        ncol=len(result.choices) + 1,
        frameon=False,
    )
    figure.tight_layout()
    return figure


def chart_png(result: BallotResult, texts: Texts) -> bytes:
    with chart_font() as font:
        figure = chart_figure(result, texts, font)
        out = io.BytesIO()
        figure.savefig(out, format="png")
    return out.getvalue()


class BallotReports:
    """The files of a result, made off the event loop (drawing and zipping take a while)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    async def xlsx(self, result: BallotResult, texts: Texts) -> bytes:
        return await asyncio.to_thread(xlsx_bytes, result, texts, self.zone)

    async def chart(self, result: BallotResult, texts: Texts) -> bytes:
        return await asyncio.to_thread(chart_png, result, texts)
