"""The results files. The chart draws its Chinese for real: every character of every text
drawn (title, axis label, tick labels, legend) is in the font in use, which is the Noto Sans
CJK SC the `mplfonts` dependency ships, and matplotlib reports no missing glyph while drawing.
The .xlsx keeps what people typed as text."""

from __future__ import annotations

import io
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from openpyxl import load_workbook

from bot.i18n import I18n, Texts
from bot.services.ballot_chart import FONT_PATH, chart_figure, chart_font, chart_png
from bot.services.ballot_reports import xlsx_bytes
from bot.services.ballot_rules import BallotResult, Choice, compute
from bot.services.spreadsheets import TIME_FORMAT
from storage.models import Ballot, BallotMode, BallotPurpose, BallotState, Project, ProjectState

NOW = datetime(2026, 12, 31, 8, tzinfo=UTC)
TITLES = [
    "社区食堂扩建与老年助餐服务（第二期）",
    "老旧小区加装电梯·无障碍改造",
    "学院路口袋公园",
    "背街小巷环境整治提升——“精治”行动",
    "中小学课后托管",
]
COUNTS = {
    BallotMode.EACH: (Choice.FOR, Choice.AGAINST, Choice.ABSTAIN),
    BallotMode.K_OF_N: (Choice.CHOSEN,),
    BallotMode.RATING: (Choice.SATISFIED, Choice.BASIC, Choice.UNSATISFIED),
}


def texts(locale: str) -> Texts:
    return I18n(ZoneInfo("Asia/Shanghai")).texts(locale)


def result(mode: BallotMode) -> BallotResult:
    purpose = BallotPurpose.RATING if mode == BallotMode.RATING else BallotPurpose.SELECTION
    ballot = Ballot(
        id=1,
        year=2026,
        purpose=purpose,
        mode=mode,
        pick=2 if mode == BallotMode.K_OF_N else None,
        state=BallotState.CLOSED,
        entitled=12,
        opened_at=NOW,
        closed_at=NOW,
    )
    projects = [
        Project(
            id=n,
            year=2026,
            title=t,
            department="区民政局",
            state=ProjectState.CHOSEN,
            created_at=NOW,
        )
        for n, t in enumerate(TITLES, start=1)
    ]
    tallies = {
        p.id: {c: (p.id * (i + 2)) % 7 for i, c in enumerate(COUNTS[mode])} for p in projects
    }
    return compute(ballot, projects, tallies, 11, verdict_base="entitled", verdict_share=0.5)


def drawn_texts(figure: Figure) -> list[Text]:
    """Every text the drawn figure shows."""
    return [t for t in figure.findobj(match=Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("mode", list(BallotMode))
def test_the_font_in_use_covers_every_character_drawn(locale: str, mode: BallotMode) -> None:
    cmap = TTFont(FONT_PATH).getBestCmap()
    with chart_font() as font, warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would fail here
        figure = chart_figure(result(mode), texts(locale), font)
        figure.canvas.draw()
        shown = drawn_texts(figure)
        files = {Path(font_manager.findfont(t.get_fontproperties())) for t in shown}
    strings = [t.get_text() for t in shown]
    assert files == {FONT_PATH}
    drawn = "".join(strings)
    assert "社区食堂" in drawn and "（" in drawn and "“" in drawn  # the titles beside the bars
    legend = {
        texts(locale)(key)
        for key in ("ballot.choice_for", "ballot.choice_satisfied", "ballot.choice_chosen")
    }
    assert legend & set(strings)  # the legend is among the texts checked
    if locale == "zh_CN":
        assert "民生实事" in drawn and "票数" in drawn
    missing = sorted({c for c in drawn if ord(c) not in cmap and not c.isspace()})
    assert missing == []


def test_the_checks_above_would_catch_a_font_without_chinese() -> None:
    """What the test guards against: matplotlib's own default font has no Chinese; drawing
    with it warns of each missing glyph and its map lacks the characters."""
    default = Path(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans")))
    assert ord("满") not in TTFont(default).getBestCmap()
    figure = Figure()
    FigureCanvasAgg(figure)
    figure.add_subplot().set_title(
        "满意", fontproperties=font_manager.FontProperties(fname=default)
    )
    with warnings.catch_warnings(), pytest.raises(UserWarning, match="missing from font"):
        warnings.simplefilter("error")
        figure.canvas.draw()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_chart_is_a_png_of_every_project(locale: str, tmp_path: Path) -> None:
    png = chart_png(result(BallotMode.RATING), texts(locale))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert width >= 900 and height >= 350  # 9 inches wide at 110 dpi; a bar per project
    (tmp_path / f"rating-{locale}.png").write_bytes(png)


def test_a_title_typed_like_a_formula_stays_text_in_the_xlsx() -> None:
    base = result(BallotMode.EACH)
    project = base.rows[0].project.model_copy(update={"title": '=HYPERLINK("http://x")'})
    row = replace(base.rows[0], project=project)
    data = xlsx_bytes(replace(base, rows=[row]), texts("zh_CN"), ZoneInfo("Asia/Shanghai"))
    cells = [c for line in load_workbook(io.BytesIO(data)).active.iter_rows() for c in line]
    title = next(c for c in cells if c.value == '=HYPERLINK("http://x")')
    assert title.data_type == "s"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_opening_and_closing_are_date_times_in_the_settings_zone(locale: str) -> None:
    data = xlsx_bytes(result(BallotMode.EACH), texts(locale), ZoneInfo("Asia/Shanghai"))
    sheet = load_workbook(io.BytesIO(data)).active
    cells = {row[0].value: row[1] for row in sheet.iter_rows() if len(row) > 1}

    for key in ("ballot.xlsx_opened", "ballot.xlsx_closed"):
        cell = cells[texts(locale)(key)]
        assert cell.value == datetime(2026, 12, 31, 16, 0)  # 08:00 UTC, Shanghai's clock
        assert cell.number_format == TIME_FORMAT  # a time Excel sorts by, not text


@pytest.mark.parametrize("title", ["资金$5万$改造", "费用$^$项目"])
def test_a_title_with_dollar_signs_is_drawn_as_text_not_a_formula(title: str) -> None:
    base = result(BallotMode.RATING)
    project = base.rows[0].project.model_copy(update={"title": title})
    row = replace(base.rows[0], project=project)
    with chart_font() as font, warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph or a formula error fails here
        figure = chart_figure(replace(base, rows=[row, *base.rows[1:]]), texts("zh_CN"), font)
        figure.canvas.draw()
        drawn = [t.get_text() for t in drawn_texts(figure)]
    assert any(title in text for text in drawn)
