"""A closed ballot's bar chart PNG, drawn with the Noto Sans CJK SC font that the `mplfonts`
dependency ships, so Chinese renders on any machine without relying on system fonts."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

from bot.i18n import Texts
from bot.services.ballot_reports import percent, title_of
from bot.services.ballot_rules import CHOICE_LABELS, BallotResult, Choice
from bot.services.text import clip
from storage.models import BallotMode

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
_drawing = threading.Lock()  # matplotlib's rc settings are global: one chart at a time


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
        rc_context(
            {
                "font.family": "sans-serif",
                "font.sans-serif": [font.get_name()],
                "text.parse_math": False,  # a title with "$" is text, never a formula
            }
        ),
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
