"""The figures' chart and files: the chart draws its Chinese for real (every character of
every text drawn is in the font in use, the Noto Sans CJK SC that `mplfonts` ships, and
matplotlib reports no missing glyph), one row of three bars per 街镇; the .xlsx keeps the
figures as numbers and the typed names as text; the .docx has a heading per section."""

from __future__ import annotations

import io
import warnings
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.text import Text
from openpyxl import load_workbook

from bot.i18n import I18n, Texts
from bot.services.ballot_chart import FONT_PATH, chart_font
from bot.services.figures import (
    AreaKind,
    AreaOut,
    Consultations,
    DeputyWork,
    FiguresReport,
    Opinions,
    Period,
    Projects,
    RatedProject,
    SolvedOrProgressed,
    StreetFigures,
    Suggestions,
)
from bot.services.figures_chart import chart_figure, chart_png
from bot.services.figures_documents import docx_bytes, percent, xlsx_bytes

STREETS = [
    ("学院路街道", 0.9231, 0.8, 0.6),
    ("海淀街道", 0.5, None, 0.25),  # nobody rated: no bar, a dash
    ("清河街道", None, None, None),  # nothing at all
    ("中关村街道（含科技园区）", 1.0, 1.0, 1.0),  # clipped beside its bars
    ('=HYPERLINK("http://x")', 0.1, 0.2, 0.3),  # a name typed like a formula
    ("西三旗$5$街道", 0.3, 0.4, 0.5),  # dollar signs are text, never a formula
]


def texts(locale: str) -> Texts:
    return I18n(ZoneInfo("Asia/Shanghai")).texts(locale)


def report(area: AreaKind = AreaKind.DISTRICT) -> FiguresReport:
    streets = [
        StreetFigures(
            id=n,
            name=name,
            opinions_received=10 * n,
            response_rate=response,
            satisfied_rate=satisfied,
            suggestions_answered=n,
            solved_or_progressed_rate=progressed,
        )
        for n, (name, response, satisfied, progressed) in enumerate(STREETS, start=1)
    ]
    district = area == AreaKind.DISTRICT
    return FiguresReport(
        period=Period.of(date(2026, 1, 1), date(2026, 12, 31)),
        area=AreaOut(
            kind=area, id=None if district else 1, name=None if district else "学院路街道"
        ),
        deputy_work=DeputyWork(
            deputy_attendances=2712,
            voter_contacts=22_043,
            things_done=503,
            annual_accounts_given=96,
        ),
        opinions=Opinions(
            opinions_received=159,
            accepted=150,
            declined=3,
            answered=140,
            response_rate=0.8974,
            solved_rate=0.55,
            satisfied_rate=0.9,
            median_days_to_answer=3.25,
            by_category={"urban": 80, "traffic": 50, "其他自定义": 29},
            top_categories_by_street={"学院路街道": [("urban", 50), ("traffic", 20)]},
        ),
        suggestions=Suggestions(
            suggestions_submitted=150,
            assigned=147,
            answered=147,
            answered_on_time=140,
            by_class={"A": 61, "B": 26, "C": 60},
            solved_or_progressed=SolvedOrProgressed(count=87, rate=0.5918),
            satisfied_rate=1.0,
            met_before_answer_rate=0.95,
            ledger_open=26,
            overdue=0,
        ),
        consultations=Consultations(held=4, comments=312) if district else None,
        projects=Projects(
            projects_rated=2,
            verdicts={"satisfied": 1, "basic": 1, "unsatisfied": 0},
            rated=[
                RatedProject(project_id=1, title="社区食堂扩建", year=2026, verdict="satisfied"),
                RatedProject(project_id=2, title="=1+1", year=2026, verdict="basic"),
            ],
        )
        if district
        else None,
        streets=streets,
    )


def drawn_texts(figure: Figure) -> list[Text]:
    return [t for t in figure.findobj(match=Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_font_in_use_covers_every_character_drawn(locale: str) -> None:
    cmap = TTFont(FONT_PATH).getBestCmap()
    with chart_font() as font, warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would fail here
        figure = chart_figure(report(), texts(locale), font)
        figure.canvas.draw()
        shown = drawn_texts(figure)
        files = {Path(font_manager.findfont(t.get_fontproperties())) for t in shown}
    strings = [t.get_text() for t in shown]
    drawn = "".join(strings)
    assert files == {FONT_PATH}
    assert "学院路街道" in strings and "海淀街道" in strings and "西三旗$5$街道" in strings
    assert "中关村街道（含科技…" in strings or any(s.startswith("中关村") for s in strings)
    legend = {texts(locale)(k) for k in ("stats.chart_response", "stats.chart_satisfied",
                                         "stats.chart_progressed")}  # fmt: skip
    assert legend <= set(strings)  # the legend is among the texts checked
    assert "92.3%" in strings and "—" in strings  # a bar's label, and none where none
    if locale == "zh_CN":
        assert "各街镇三项比例" in drawn and "全区" in drawn and "2026年1月1日" in drawn
    missing = sorted({c for c in drawn if ord(c) not in cmap and not c.isspace()})
    assert missing == []


def test_one_row_of_three_bars_per_street() -> None:
    with chart_font() as font:
        figure = chart_figure(report(), texts("zh_CN"), font)
    axes = figure.axes[0]
    groups = [c for c in axes.containers if isinstance(c, BarContainer)]
    assert len(groups) == 3
    widths = [[bar.get_width() for bar in group] for group in groups]
    assert widths[0] == [0.9231, 0.5, 0.0, 1.0, 0.1, 0.3]  # response rates, street by street
    assert widths[1][:3] == [0.8, 0.0, 0.0] and widths[2][1] == 0.25
    labels = [t.get_text() for t in axes.get_yticklabels()]
    assert labels[:3] == ["学院路街道", "海淀街道", "清河街道"]


def test_the_check_above_would_catch_a_font_without_chinese() -> None:
    default = Path(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans")))
    assert ord("街") not in TTFont(default).getBestCmap()


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_chart_is_a_png_as_tall_as_its_streets(locale: str, tmp_path: Path) -> None:
    png = chart_png(report(), texts(locale))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert width >= 900 and height >= 600  # 9 inches at 110 dpi; six streets of bars
    (tmp_path / f"figures-{locale}.png").write_bytes(png)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_xlsx_holds_numbers_and_text(locale: str) -> None:
    t = texts(locale)
    book = load_workbook(io.BytesIO(xlsx_bytes(report(), t)))
    assert book.sheetnames == [
        t("stats.sheet_summary"),
        t("stats.section_deputy_work"),
        t("stats.section_opinions"),
        t("stats.section_suggestions"),
        t("stats.section_consultations"),
        t("stats.section_projects"),
        t("stats.sheet_categories"),
        t("stats.sheet_streets"),
        t("stats.sheet_projects_rated"),
    ]
    suggestions = {
        r[2].value: r[1] for r in book[t("stats.section_suggestions")].iter_rows(min_row=2)
    }
    assert suggestions["solved_or_progressed rate"].value == 0.5918
    assert suggestions["solved_or_progressed rate"].number_format == "0.0%"
    assert suggestions["by_class B"].value == 26
    streets = list(book[t("stats.sheet_streets")].iter_rows(min_row=2, values_only=True))
    assert streets[1][:4] == ("海淀街道", 20, 0.5, t("stats.none"))
    formula = next(c for row in book[t("stats.sheet_streets")].iter_rows() for c in row
                   if c.value == '=HYPERLINK("http://x")')  # fmt: skip
    assert formula.data_type == "s"
    rated = list(book[t("stats.sheet_projects_rated")].iter_rows(min_row=2))
    assert rated[1][0].value == "=1+1" and rated[1][0].data_type == "s"


def test_a_smaller_area_says_district_wide_only() -> None:
    t = texts("zh_CN")
    book = load_workbook(io.BytesIO(xlsx_bytes(report(AreaKind.STREET), t)))
    assert t("stats.section_consultations") not in book.sheetnames
    summary = [r for r in book[t("stats.sheet_summary")].iter_rows(values_only=True)]
    assert (t("stats.section_projects"), t("stats.district_only"), None) in summary
    document = Document(io.BytesIO(docx_bytes(report(AreaKind.STREET), t)))
    assert t("stats.district_only") in [p.text for p in document.paragraphs]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_docx_has_a_heading_and_a_table_per_section(locale: str) -> None:
    t = texts(locale)
    document = Document(io.BytesIO(docx_bytes(report(), t)))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        t("stats.section_deputy_work"),
        t("stats.section_opinions"),
        t("stats.section_suggestions"),
        t("stats.section_consultations"),
        t("stats.section_projects"),
        t("stats.sheet_categories"),
        t("stats.sheet_streets"),
        t("stats.sheet_projects_rated"),
    ]
    first = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert first[t("stats.voter_contacts")] == t.number(22_043)
    solved = {row.cells[0].text: row.cells[1].text for row in document.tables[2].rows}
    assert solved[t("stats.solved_or_progressed_rate")] == "59.2%" == percent(t, 0.5918)
    streets = [[c.text for c in row.cells] for row in document.tables[6].rows]
    assert streets[3][:2] == ["清河街道", "—"]
