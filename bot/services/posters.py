"""A station's poster, to print and put on the wall: A4 portrait, the station's name, street
and address, a large QR code of its link (given by the caller: the deep link that makes it
the voter's own station) and a line inviting people to scan it. PNG and PDF, drawn by
matplotlib in the Noto Sans CJK SC that `mplfonts` ships (bot.services.ballot_chart), so the
Chinese renders on any machine and the PDF carries the font itself."""

from __future__ import annotations

import io
import logging

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from bot.i18n import Texts
from bot.services.ballot_chart import chart_font
from bot.services.qr_codes import qr_matrix
from storage.models import Station

A4_INCHES = (8.27, 11.69)  # portrait
PNG_DPI = 150  # 1240 × 1753 pixels: sharp enough to print, small enough to send
# The QR code's square, in fractions of the page (left, bottom, width, height): 60% of its
# width (about 12.6 cm), centred, above the invitation.
QR_WIDTH = 0.6
QR_BOX = (
    (1 - QR_WIDTH) / 2,
    0.26,
    QR_WIDTH,
    QR_WIDTH * A4_INCHES[0] / A4_INCHES[1],
)
NAME_POINTS = 40  # the station's name, unless too long for the page's width
TEXT_WIDTH = 0.9  # the share of the page's width a line may take
# The PDF's font is subset by fontTools, which reports every table it prunes at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
INK = "#1a1a1a"
MUTED = "#555555"
ACCENT = "#b71c1c"  # the red of the header and the invitation


def poster_figure(station: Station, link: str, texts: Texts, font: FontProperties) -> Figure:
    """The poster as a matplotlib figure; call inside `chart_font()`."""
    figure = Figure(figsize=A4_INCHES, dpi=PNG_DPI, facecolor="white")
    FigureCanvasAgg(figure)

    widest = TEXT_WIDTH * figure.bbox.width

    def line(y: float, text: str, points: float, color: str = INK) -> None:
        """One centred line, made smaller if it would not fit the page's width."""
        drawn = figure.text(
            0.5, y, text, ha="center", va="center", fontproperties=font, size=points, color=color
        )
        width = drawn.get_window_extent().width
        if width > widest:
            drawn.set_fontsize(points * widest / width)

    line(0.89, texts("poster.header"), 22, ACCENT)
    line(0.825, station.name, NAME_POINTS)
    place = " · ".join(part for part in (station.street_name, station.address) if part)
    if place:
        line(0.775, place, 18, MUTED)
    matrix = qr_matrix(link)
    axes = figure.add_axes(QR_BOX)
    axes.imshow(
        np.array(matrix, dtype=np.uint8),
        cmap="binary",
        vmin=0,
        vmax=1,
        interpolation="none",  # every module a crisp square, the PDF's too
        aspect="auto",
    )
    axes.set_axis_off()
    line(0.21, texts("poster.invitation"), 24, ACCENT)
    line(0.165, texts("poster.how"), 14, MUTED)
    line(0.13, link, 10, MUTED)
    return figure


def _drawn(station: Station, link: str, texts: Texts, fmt: str) -> bytes:
    with chart_font() as font, rc_context({"pdf.fonttype": 42}):  # the PDF embeds the font
        figure = poster_figure(station, link, texts, font)
        out = io.BytesIO()
        figure.savefig(out, format=fmt, dpi=PNG_DPI, metadata=_metadata(station, texts, fmt))
    return out.getvalue()


def _metadata(station: Station, texts: Texts, fmt: str) -> dict[str, str]:
    title = f"{station.name} · {texts('poster.header')}"
    return {"Title": title} if fmt == "pdf" else {"Title": title, "Software": "jiazhan"}


def poster_png(station: Station, link: str, texts: Texts) -> bytes:
    """The poster of `station` with the QR code of `link`, as a PNG at PNG_DPI."""
    return _drawn(station, link, texts, "png")


def poster_pdf(station: Station, link: str, texts: Texts) -> bytes:
    """The poster of `station` with the QR code of `link`, as a one-page A4 PDF, its font
    embedded."""
    return _drawn(station, link, texts, "pdf")
