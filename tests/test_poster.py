"""A station's poster (`python -m bot poster STATION`): an A4 PNG at 150 dpi and a PDF that
embeds its CJK font, whose QR code reads (zxing-cpp) as the station's link; every character
drawn is in the font drawn with; a long name is made to fit. The command line finds the
station by id or exact name, lists the stations a shared name could mean, takes the bot's
username from --bot or from the last /desk, and refuses anything else in one line."""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import warnings
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.text import Text
from PIL import Image

from bot import poster_cli, report_cli
from bot.clock import SystemClock
from bot.files import write_whole
from bot.i18n import I18n, Texts
from bot.runtime.buttons.start import station_link
from bot.services import build_services
from bot.services.ballot_chart import FONT_PATH, chart_font
from bot.services.posters import poster_figure, poster_pdf, poster_png
from bot.settings import Settings, load_settings
from storage import Database
from storage.models import Station
from storage.repos.desk import DeskRepo
from tests.support.cli import clean_env, run_bot

BOT = "jiazhan_test_bot"
LINK = "https://t.me/jiazhan_test_bot?start=st_1"
STATION = Station(
    id=1, street_id=1, street_name="学院路街道", name="学院路第一联络站", address="学院路 1 号"
)
STATIONS_CSV = """street,station,address,latitude,longitude
学院路街道,学院路第一联络站,学院路 1 号,39.99,116.35
学院路街道,社区联络站,学院路 20 号,,
海淀街道,社区联络站,海淀大街 8 号,,
"""


def texts(locale: str) -> Texts:
    return I18n(ZoneInfo("Asia/Shanghai")).texts(locale)


def decoded(png: bytes) -> list[str]:
    """What a QR reader finds on the poster (zxing-cpp, not the encoder under test)."""
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


# --- the poster ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_an_a4_png_and_a_pdf_with_the_font_embedded(locale: str, tmp_path: Path) -> None:
    png = poster_png(STATION, LINK, texts(locale))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1240, 1753)  # A4 at 150 dpi
    assert [round(d) for d in image.info["dpi"]] == [150, 150]
    pdf = poster_pdf(STATION, LINK, texts(locale))
    assert pdf.startswith(b"%PDF-")
    assert b"/MediaBox [ 0 0 595.44 841.68 ]" in pdf  # A4 in points
    fonts = set(re.findall(rb"/BaseFont /[A-Z]{6}\+([A-Za-z-]+)", pdf))
    assert fonts == {b"NotoSansCJKsc-Regular"} and b"/FontFile2" in pdf  # the font itself
    (tmp_path / f"poster-{locale}.png").write_bytes(png)


def test_the_qr_code_reads_as_the_link_given() -> None:
    assert decoded(poster_png(STATION, LINK, texts("zh_CN"))) == [LINK]
    other = "https://t.me/jiazhan_test_bot?start=st_2"
    assert decoded(poster_png(STATION, other, texts("en"))) == [other]


def drawn_texts(locale: str, station: Station) -> tuple[list[Text], set[Path]]:
    with chart_font() as font, warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would fail here
        figure = poster_figure(station, LINK, texts(locale), font)
        figure.canvas.draw()
        shown = [t for t in figure.findobj(match=Text) if t.get_visible() and t.get_text()]
        files = {Path(font_manager.findfont(t.get_fontproperties())) for t in shown}
    return shown, files


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_font_covers_every_character_drawn(locale: str) -> None:
    cmap = TTFont(FONT_PATH).getBestCmap()
    shown, files = drawn_texts(locale, STATION)
    strings = [t.get_text() for t in shown]
    assert files == {FONT_PATH}
    assert "学院路第一联络站" in strings and "学院路街道 · 学院路 1 号" in strings
    assert LINK in strings
    if locale == "zh_CN":
        assert "扫码关注本联络站 · 向人大代表反映意见建议" in strings
        assert "人大代表联络站" in strings
    drawn = "".join(strings)
    assert sorted({c for c in drawn if ord(c) not in cmap and not c.isspace()}) == []


def test_a_long_name_is_made_to_fit_the_page() -> None:
    long = STATION.model_copy(
        update={"name": "学院路街道清华东路社区居民委员会人大代表联络站第一分站"}
    )
    shown, _ = drawn_texts("zh_CN", long)
    [name] = [t for t in shown if t.get_text() == long.name]
    box = name.get_window_extent()
    page = name.get_figure().bbox
    assert box.x0 >= page.x0 and box.x1 <= page.x1
    assert name.get_fontsize() < 40


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def district(tmp_path: Path) -> Settings:
    """A database with three stations, two of them called 社区联络站."""
    settings = load_settings(
        _env_file=None, need_token=False, database_path=tmp_path / "jiazhan.sqlite3"
    )
    csv = tmp_path / "stations.csv"
    csv.write_text(STATIONS_CSV, encoding="utf-8")

    async def load() -> None:
        db = Database(settings.database_path)
        await db.connect()
        try:
            report = await build_services(settings, db, SystemClock()).stations.import_csv(csv)
            assert not report.errors
        finally:
            await db.close()

    asyncio.run(load())
    return settings


def poster(settings: Settings, *args: str) -> int:
    parser = argparse.ArgumentParser()
    poster_cli.add_parser(parser.add_subparsers())
    return poster_cli.main(settings, parser.parse_args(["poster", *args]))


def remember(settings: Settings, username: str) -> None:
    """What /desk does: the bot's username kept in the database."""

    async def keep() -> None:
        db = Database(settings.database_path)
        await db.connect()
        try:
            async with db.transaction() as tx:
                await DeskRepo(db).remember_bot_username(tx, username, SystemClock().now())
        finally:
            await db.close()

    asyncio.run(keep())


def test_by_name_or_id_both_files_are_written(
    district: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "posters"
    out.mkdir()
    assert (
        poster(district, "学院路第一联络站", "--bot", "@jiazhan_test_bot", "--out", str(out)) == 0
    )
    png, pdf = out / "学院路第一联络站-poster.png", out / "学院路第一联络站-poster.pdf"
    assert png.exists() and pdf.read_bytes().startswith(b"%PDF-")
    printed = capsys.readouterr().out
    assert str(png) in printed and LINK in printed
    assert decoded(png.read_bytes()) == [LINK]
    # by id, the other 社区联络站
    assert poster(district, "3", "--bot", BOT, "--out", str(out)) == 0
    want = "https://t.me/jiazhan_test_bot?start=st_3"
    assert decoded((out / "社区联络站-poster.png").read_bytes()) == [want]
    assert {p.name for p in out.iterdir()} == {
        "学院路第一联络站-poster.png",
        "学院路第一联络站-poster.pdf",
        "社区联络站-poster.png",
        "社区联络站-poster.pdf",
    }


def test_the_username_the_desk_last_used_serves_without_bot(
    district: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert poster(district, "1", "--out", str(tmp_path)) == 1
    assert capsys.readouterr().err == (
        "error: the bot's username is not known here yet: give --bot USERNAME"
        " (the bot remembers it once /desk has been used)\n"
    )
    remember(district, "haidian_jiazhan_bot")
    assert poster(district, "1", "--out", str(tmp_path)) == 0
    want = "https://t.me/haidian_jiazhan_bot?start=st_1"
    assert decoded((tmp_path / "学院路第一联络站-poster.png").read_bytes()) == [want]


@pytest.mark.parametrize(
    "args, error",
    [
        (["清河联络站"], "error: no station has the id or the name '清河联络站'\n"),
        (["99"], "error: no station has the id or the name '99'\n"),
        (
            ["社区联络站"],
            "error: 2 stations are named '社区联络站'; give one's id:\n"
            "  2  学院路街道 · 社区联络站\n"
            "  3  海淀街道 · 社区联络站\n",
        ),
        (
            ["1", "--bot", "not a bot!"],
            "error: That is not a bot username: 5 to 32 letters, digits or underscores,"
            " starting with a letter.\n",
        ),
        (
            ["1", "--out", "/no/such/folder"],
            "error: cannot write to /no/such/folder: no such folder\n",
        ),
    ],
)
def test_a_bad_argument_is_one_clear_refusal(
    district: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    error: str,
) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path)]
    if "--bot" not in args:
        args = [*args, "--bot", BOT]
    assert poster(district, *args) == 1
    assert capsys.readouterr().err == error
    assert not list(tmp_path.glob("*-poster.*"))


def test_no_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(_env_file=None, need_token=False, database_path=tmp_path / "x.db")
    assert poster(settings, "1", "--bot", BOT, "--out", str(tmp_path)) == 1
    assert capsys.readouterr().err == f"error: no database at {tmp_path / 'x.db'}\n"


def test_python_m_bot_poster_needs_no_token(district: Settings, tmp_path: Path) -> None:
    env = clean_env(JIAZHAN_DATABASE_PATH=str(district.database_path))
    done = run_bot(tmp_path, env, "poster", "学院路第一联络站", "--bot", BOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # nothing but the two lines on stdout
    assert done.stdout.splitlines()[1] == f"its QR code opens {LINK}"
    assert (tmp_path / "学院路第一联络站-poster.png").exists()
    assert (tmp_path / "学院路第一联络站-poster.pdf").exists()


# --- one way to do each thing ----------------------------------------------------------------


def test_links_are_made_in_one_place_outside_the_services() -> None:
    """The domain services know nothing of Telegram: no t.me link, no deep-link prefix; the
    links come from bot.runtime.buttons.start, which the poster command uses too."""
    services = Path(poster_cli.__file__).parent / "services"
    for source in services.glob("*.py"):
        code = source.read_text(encoding="utf-8")
        assert "t.me/" not in code and '"st_"' not in code and '"claim_"' not in code, source
    assert poster_cli.station_link is station_link
    assert station_link(BOT, 1) == LINK


def test_the_command_lines_share_one_whole_file_writer(tmp_path: Path) -> None:
    assert poster_cli.write_whole is report_cli.write_whole is write_whole
    target = tmp_path / "poster.png"
    write_whole(target, b"new")
    assert target.read_bytes() == b"new"
    with pytest.raises(OSError):
        write_whole(tmp_path / "missing" / "poster.png", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["poster.png"]  # no temporary left
