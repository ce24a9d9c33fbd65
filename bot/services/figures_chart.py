"""The figures' chart PNG: the report's three rates per 街镇 side by side (the opinions'
response and satisfied rates, the suggestions' solved-or-progressed rate), drawn with the
Noto Sans CJK SC font the `mplfonts` dependency ships (bot.services.ballot_chart's
`chart_font`), so the Chinese street names and labels render on any machine. Imported
lazily (matplotlib takes a while), like ballot_chart."""

from __future__ import annotations

import io
from collections.abc import Callable

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import PercentFormatter

from bot.i18n import Texts
from bot.services.ballot_chart import chart_font
from bot.services.figures import FiguresReport, StreetFigures
from bot.services.figures_documents import area_name, percent, period_text
from bot.services.text import clip

STREET_CLIP = 12  # characters of a street's name beside its bars
BAR = 0.26  # one rate's bar, as a share of a street's row


def _response(street: StreetFigures) -> float | None:
    return street.response_rate


def _satisfied(street: StreetFigures) -> float | None:
    return street.satisfied_rate


def _progressed(street: StreetFigures) -> float | None:
    return street.solved_or_progressed_rate


# (the rate of a street, its legend's message id, its colour)
SERIES: tuple[tuple[Callable[[StreetFigures], float | None], str, str], ...] = (
    (_response, "stats.chart_response", "#1565c0"),
    (_satisfied, "stats.chart_satisfied", "#2e7d32"),
    (_progressed, "stats.chart_progressed", "#f9a825"),
)


def chart_figure(report: FiguresReport, texts: Texts, font: FontProperties) -> Figure:
    """Horizontal grouped bars: one row per 街镇 (the first on top), three bars in it, each
    labelled with its percentage (— where there was nothing to count). Call inside
    `chart_font()`."""
    streets = report.streets
    rows = max(len(streets), 1)
    figure = Figure(figsize=(9, max(3.6, 0.62 * rows + 2.2)), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for index, (value_of, label, colour) in enumerate(SERIES):
        positions = [row + (index - 1) * BAR for row in range(len(streets))]
        values = [value_of(street) for street in streets]
        bars = axes.barh(
            positions,
            [value or 0.0 for value in values],
            height=BAR,
            color=colour,
            label=texts(label),
        )
        axes.bar_label(
            bars,
            labels=[percent(texts, value) for value in values],
            padding=2,
            fontproperties=font,
            fontsize=8,
        )
    axes.set_yticks(range(len(streets)), [_street_label(s) for s in streets], fontproperties=font)
    axes.invert_yaxis()
    axes.set_xlim(0, 1.12)  # room for "100%" beside a full bar
    axes.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    axes.set_xlabel(texts("stats.chart_rate"), fontproperties=font)
    axes.set_title(
        texts(
            "stats.chart_title",
            period=period_text(texts, report.period),
            area=area_name(texts, report),
        ),
        fontproperties=font,
    )
    axes.legend(  # below the bars, never over them
        prop=font,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 - 0.5 / rows),
        ncol=len(SERIES),
        frameon=False,
    )
    figure.tight_layout()
    return figure


def _street_label(street: StreetFigures) -> str:
    return clip(street.name, STREET_CLIP)


def chart_png(report: FiguresReport, texts: Texts) -> bytes:
    with chart_font() as font:
        figure = chart_figure(report, texts, font)
        out = io.BytesIO()
        figure.savefig(out, format="png")
    return out.getvalue()
