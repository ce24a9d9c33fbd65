"""`python -m bot report` in a real subprocess over a seeded district: JSON (on stdout or to a
file) equal to the truth tests/support/district_seed.py counts; .xlsx and .docx read back;
every bad argument one line on stderr and exit status 2, with nothing written."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.i18n import I18n
from tests.support.cli import clean_env, run_bot
from tests.support.district_seed import District, expected, seed_district
from tests.support.world import SHANGHAI, World

EN = I18n(SHANGHAI).texts("en")
ZH = I18n(SHANGHAI).texts("zh_CN")


@pytest.fixture
async def district(world: World) -> District:
    return await seed_district(world)


def report(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(JIAZHAN_DATABASE_PATH=str(world.db_path))
    return run_bot(world.tmp_path, env, "report", *args)


def truth(district: District, first: date, last: date, area: tuple[str, int | None]) -> dict:
    """The truth as of now: the command line runs on the real clock."""
    return expected(district, first, last, area, now=datetime.now(UTC))


async def test_json_on_stdout_is_the_truth(world: World, district: District) -> None:
    done = report(world, "--year", "2026")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    printed = json.loads(done.stdout)
    assert printed == truth(district, date(2026, 1, 1), date(2026, 12, 31), ("district", None))
    assert "学院路街道" in done.stdout  # Chinese as it is, not \\u escapes


async def test_json_to_a_file_for_a_quarter_and_a_street(world: World, district: District) -> None:
    out = world.tmp_path / "q4.json"
    done = report(world, "--quarter", "2026Q4", "--street", "学院路街道", "--output", str(out))
    assert done.returncode == 0, done.stderr
    street = district.street("学院路街道")
    want = truth(district, date(2026, 10, 1), date(2026, 12, 31), ("street", street))
    assert json.loads(out.read_text(encoding="utf-8")) == want
    assert str(out) in done.stdout


async def test_xlsx_for_a_month_and_a_station(world: World, district: District) -> None:
    out = world.tmp_path / "november.xlsx"
    done = report(
        world, "--month", "2026-11", "--station", "海淀街道联络站", "--format", "xlsx",
        "--output", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    station = district.station("海淀街道联络站")
    want = truth(district, date(2026, 11, 1), date(2026, 11, 30), ("station", station))
    book = load_workbook(io.BytesIO(out.read_bytes()))
    for section, title in (
        ("deputy_work", "stats.section_deputy_work"),
        ("opinions", "stats.section_opinions"),
    ):
        sheet = book[ZH(title)]
        values = {row[2].value: row[1].value for row in sheet.iter_rows(min_row=2)}
        for name, value in want[section].items():  # type: ignore[union-attr]
            if isinstance(value, dict):
                continue
            assert values[name] == (ZH("stats.none") if value is None else value), name
    suggestions = {
        r[2].value: r[1].value for r in book[ZH("stats.section_suggestions")].iter_rows(min_row=2)
    }
    assert suggestions["suggestions_submitted"] == want["suggestions"]["suggestions_submitted"]  # type: ignore[index]
    assert ZH("stats.section_consultations") not in book.sheetnames  # district-wide only


async def test_docx_for_a_range_in_english(world: World, district: District) -> None:
    out = world.tmp_path / "winter.docx"
    done = report(
        world, "--from", "2025-12-01", "--to", "2026-01-31", "--format", "docx",
        "--locale", "en", "--output", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    want = truth(district, date(2025, 12, 1), date(2026, 1, 31), ("district", None))
    document = Document(io.BytesIO(out.read_bytes()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert EN("stats.section_suggestions") in headings
    suggestions = {r.cells[0].text: r.cells[1].text for r in document.tables[2].rows}
    by_class = want["suggestions"]["by_class"]  # type: ignore[index]
    assert set(by_class) >= {"A", "甲"}  # two years, two sets of classes
    for code, count in by_class.items():
        assert suggestions[EN("stats.of_class", code=code)] == EN.number(count)


@pytest.mark.parametrize(
    "args, says",
    [
        (["--quarter", "2026Q5"], EN("stats.bad_quarter")),
        (["--month", "2026-13"], EN("stats.bad_month")),
        (["--year", "1999"], EN("stats.years_outside", first=2000, last=2100)),
        (["--year", "twenty"], EN("stats.bad_year")),
        (["--from", "2026-03-01"], EN("stats.bad_dates")),
        (["--from", "3-1", "--to", "2026-03-31"], EN("stats.bad_dates")),
        (["--from", "2026-03-01", "--to", "2026-01-01"], EN("stats.range_reversed")),
        (["--from", "2026-02-30", "--to", "2026-03-01"], EN("stats.bad_dates")),
        (
            ["--year", "2026", "--street", "不存在街道"],
            EN("stats.unknown_street", name="不存在街道"),
        ),
        (["--year", "2026", "--station", "无名站"], EN("stats.unknown_station", name="无名站")),
        (["--year", "2026", "--format", "xlsx"], "--output"),
    ],
)
async def test_bad_arguments_are_refused(
    world: World, district: District, args: list[str], says: str
) -> None:
    before = sorted(p.name for p in world.tmp_path.iterdir())
    done = report(world, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in world.tmp_path.iterdir()) == before


async def test_argparse_refuses_a_missing_or_double_period(world: World) -> None:
    for args in ([], ["--year", "2026", "--month", "2026-11"], ["--to", "2026-01-01"]):
        done = report(world, *args)
        assert done.returncode == 2 and "usage:" in done.stderr


async def test_an_output_that_cannot_be_written(world: World, district: District) -> None:
    missing = world.tmp_path / "no-such-folder" / "report.xlsx"
    done = report(world, "--year", "2026", "--format", "xlsx", "--output", str(missing))
    assert done.returncode == 2 and "cannot write" in done.stderr
    assert not missing.parent.exists()
    folder = world.tmp_path / "a-folder"
    folder.mkdir()
    done = report(world, "--year", "2026", "--output", str(folder))
    assert done.returncode == 2 and "folder" in done.stderr
    assert list(folder.iterdir()) == []


async def test_an_earlier_file_is_replaced_whole(world: World, district: District) -> None:
    out = world.tmp_path / "figures.json"
    out.write_text("old", encoding="utf-8")
    done = report(world, "--month", "2026-11", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["period"]["from"] == "2026-11-01"
    leftovers = [p.name for p in world.tmp_path.iterdir() if p.name.startswith(".figures")]
    assert leftovers == []


def test_no_database_is_refused_and_none_is_made(tmp_path: Path) -> None:
    env = clean_env(JIAZHAN_DATABASE_PATH=str(tmp_path / "missing.sqlite3"))
    done = run_bot(tmp_path, env, "report", "--year", "2026")
    assert done.returncode == 2 and "no database" in done.stderr
    assert list(tmp_path.iterdir()) == []
