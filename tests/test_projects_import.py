"""`python -m bot projects import FILE.csv|xlsx [--year Y]`: a year's candidates in bulk, with
English or Chinese headers, from a CSV or the first sheet of a workbook; any bad row (no
title, a bad budget, a title repeated in the file or already entered) is reported by line and
nothing is written, as the stations import does."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from bot.services.project_import import ProjectImport, import_projects
from tests.support.cli import clean_env, run_bot
from tests.support.projects import project
from tests.support.world import World

HEADER = "title,description,department,budget\n"


def write(tmp_path: Path, text: str | bytes, name: str = "projects.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def workbook(tmp_path: Path, rows: list[list[Any]], name: str = "projects.xlsx") -> Path:
    """A workbook whose first sheet holds `rows`, and a second sheet that must be ignored."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    other = book.create_sheet("说明")
    other.append(["title"])
    other.append(["不是项目"])
    path = tmp_path / name
    book.save(path)
    return path


async def imported(world: World, path: Path, year: int | None = None) -> ProjectImport:
    return await import_projects(world.services.projects, path, year)


async def projects(world: World) -> list[tuple[Any, ...]]:
    rows = await world.rows(
        "SELECT year, title, description, department, budget_wan, state, created_by"
        " FROM projects ORDER BY id"
    )
    return [tuple(r.values()) for r in rows]


# --- the service -------------------------------------------------------------------------------


async def test_a_csv_with_english_headers(world: World) -> None:
    path = write(
        world.tmp_path,
        "\ufeff"
        + HEADER
        + "老旧小区加装电梯,为 30 个小区加装电梯,区住建委,1200\n"
        + '"社区食堂, 第二批","新建 10 个食堂",区民政局,85.5\n'
        + "\n"  # a blank line is skipped
        + "背街小巷整治,,区城管委,\n",
    )
    report = await imported(world, path)
    assert (report.errors, report.imported, report.year) == ([], 3, 2026)
    assert await projects(world) == [
        (2026, "老旧小区加装电梯", "为 30 个小区加装电梯", "区住建委", 1200.0, "candidate", None),
        (2026, "社区食堂, 第二批", "新建 10 个食堂", "区民政局", 85.5, "candidate", None),
        (2026, "背街小巷整治", "", "区城管委", None, "candidate", None),
    ]


async def test_a_cell_over_several_lines_keeps_them_and_later_lines_keep_their_numbers(
    world: World,
) -> None:
    path = write(
        world.tmp_path,
        HEADER
        + '老旧小区加装电梯,"第一批 30 个小区\n第二批 20 个小区",区住建委,1200\n'  # lines 2-3
        + "社区食堂,,区民政局,85.5\n"  # line 4
        + "预算不对,,区住建委,一百万\n",  # line 5
    )
    report = await imported(world, path)
    assert report.imported == 0
    assert len(report.errors) == 1 and report.errors[0].startswith("line 5:")
    row = '老旧小区加装电梯,"第一批\n第二批",区住建委,\n'
    fixed = write(world.tmp_path, HEADER + row, "ok.csv")
    report = await imported(world, fixed)
    assert report.imported == 1
    assert (await projects(world))[0][2] == "第一批\n第二批"


async def test_chinese_headers_in_any_order_and_only_the_title_needed(world: World) -> None:
    path = write(
        world.tmp_path,
        "承办单位,项目名称,预算（万元）,简介\n区教委,学校周边交通,３００万元,护栏与接送区\n",
    )
    report = await imported(world, path, 2027)
    assert (report.errors, report.imported, report.year) == ([], 1, 2027)
    assert await projects(world) == [
        (2027, "学校周边交通", "护栏与接送区", "区教委", 300.0, "candidate", None)
    ]
    only_titles = write(world.tmp_path, "项目名称\n口袋公园\n健身步道\n", "titles.csv")
    report = await imported(world, only_titles, 2027)
    assert (report.errors, report.imported) == ([], 2)
    assert [p[1] for p in await projects(world)][-2:] == ["口袋公园", "健身步道"]


async def test_an_xlsx_with_chinese_headers(world: World) -> None:
    path = workbook(
        world.tmp_path,
        [
            ["项目名称", "项目内容", "责任单位", "预算（万元）"],
            ["社区养老驿站", "新建 5 个驿站", "区民政局", 500],
            ["便民菜店", None, "区商务局", 85.5],
            [None, None, None, None],  # an empty row is skipped
            ["公共充电桩", "新增 200 个", "区发改委", None],
        ],
    )
    report = await imported(world, path, 2026)
    assert (report.errors, report.imported) == ([], 3)
    assert await projects(world) == [
        (2026, "社区养老驿站", "新建 5 个驿站", "区民政局", 500.0, "candidate", None),
        (2026, "便民菜店", "", "区商务局", 85.5, "candidate", None),
        (2026, "公共充电桩", "新增 200 个", "区发改委", None, "candidate", None),
    ]


async def test_bad_rows_are_reported_by_line_and_nothing_is_saved(world: World) -> None:
    await project(world, "已有的项目")
    before = await projects(world)
    path = write(
        world.tmp_path,
        HEADER
        + "好的项目,,区住建委,100\n"  # line 2: fine, but not saved either
        + ",没有名称,区住建委,10\n"  # line 3
        + "预算不对,,区住建委,一百万\n"  # line 4
        + "预算为负,,区住建委,-5\n"  # line 5
        + "好的项目,重复,区住建委,\n"  # line 6
        + "已有的项目,,区住建委,\n"  # line 7
        + "列数不对,,区住建委\n"  # line 8
        + ("长" * 101)
        + ",,区住建委,\n",  # line 9
    )
    report = await imported(world, path)
    assert report.imported == 0
    errors = "\n".join(report.errors)
    assert errors.splitlines() == [
        "line 3: the title (项目名称) is missing",
        "line 4: the budget '一百万' is not an amount of 万元 from 0 to 10000000, like 120 or 85.5",
        "line 5: the budget '-5' is not an amount of 万元 from 0 to 10000000, like 120 or 85.5",
        "line 6: the title '好的项目' repeats line 2",
        "line 8: expected 4 columns, found 3",
        "line 9: the title is longer than 100 characters",
    ]
    assert await projects(world) == before

    # Once the file is right, the title already entered is the one thing left to report.
    path = write(world.tmp_path, HEADER + "好的项目,,区住建委,100\n已有的项目,,区住建委,\n")
    report = await imported(world, path)
    assert report.errors == ["line 3: a project titled '已有的项目' already exists in 2026"]
    assert await projects(world) == before
    # ... which another year does not have.
    report = await imported(world, path, 2027)
    assert (report.errors, report.imported) == ([], 2)


async def test_bad_rows_of_a_workbook(world: World) -> None:
    path = workbook(
        world.tmp_path,
        [
            ["title", "budget"],
            ["甲", -1],
            [None, 5],
            ["乙", "abc", "多余的一列"],
        ],
    )
    report = await imported(world, path)
    assert report.errors == [
        "line 2: the budget '-1' is not an amount of 万元 from 0 to 10000000, like 120 or 85.5",
        "line 3: the title (项目名称) is missing",
        "line 4: expected 2 columns, found more",
    ]
    assert await projects(world) == []


async def test_bad_files(world: World) -> None:
    tmp = world.tmp_path
    cases = [
        (write(tmp, "name,budget\n甲,1\n", "a.csv"), "line 1: unknown column 'name'"),
        (write(tmp, "description,budget\n甲,1\n", "b.csv"), "line 1: a title (项目名称) column"),
        (write(tmp, "title,项目名称\n甲,乙\n", "c.csv"), "line 1: column '项目名称' repeats"),
        (write(tmp, "", "d.csv"), "line 1: the header must"),
        (write(tmp, b"title\n" + "甲\n".encode("gbk"), "e.csv"), "line 2: not UTF-8"),
        (write(tmp, b"not a workbook", "f.xlsx"), "not an .xlsx workbook"),
        (write(tmp, "title\n甲\n", "g.txt"), "g.txt: give a .csv or an .xlsx file"),
        (tmp / "missing.csv", "cannot read"),
        (tmp / "missing.xlsx", "cannot read"),
        (workbook(tmp, [], "h.xlsx"), "line 1: the sheet is empty"),
    ]
    for path, expected in cases:
        report = await imported(world, path)
        assert report.imported == 0, path
        assert report.errors and expected in report.errors[0], (path, report.errors)
    assert await projects(world) == []


# --- the command line --------------------------------------------------------------------------


def run_import(tmp_path: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(JIAZHAN_DATABASE_PATH=str(db))
    return run_bot(tmp_path, env, "projects", "import", *args)


def stored(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT year, title, budget_wan FROM projects ORDER BY id").fetchall()


def test_the_command_line_import(tmp_path: Path) -> None:
    db = tmp_path / "data" / "cli.sqlite3"
    csv_file = write(tmp_path, "项目名称,预算\n老旧小区加装电梯,1200\n社区食堂,\n")
    done = run_import(tmp_path, db, str(csv_file), "--year", "2025")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "projects: 2 imported for 2025"
    assert "Traceback" not in done.stderr
    assert stored(db) == [(2025, "老旧小区加装电梯", 1200.0), (2025, "社区食堂", None)]

    # Without --year: this year where the bot runs (settings.timezone, Asia/Shanghai).
    xlsx = workbook(tmp_path, [["title"], ["便民菜店"]])
    this_year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    done = run_import(tmp_path, db, str(xlsx))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"projects: 1 imported for {this_year}"

    # Again: every title is taken now; errors on stderr, a non-zero exit, nothing written.
    refused = run_import(tmp_path, db, str(csv_file), "--year", "2025")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "error: line 2: a project titled '老旧小区加装电梯' already exists in 2025" in (
        refused.stderr
    )
    assert "error: line 3:" in refused.stderr
    assert f"nothing imported from {csv_file}" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(stored(db)) == 3

    # A year that is no year is refused by the command line itself.
    wrong = run_import(tmp_path, db, str(csv_file), "--year", "25")
    assert wrong.returncode == 2
    assert "is not a year from 2000 to 2100" in wrong.stderr
    assert len(stored(db)) == 3
