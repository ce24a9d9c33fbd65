"""`python -m bot classes YEAR [--set CODE=LABEL[:ledger] … --progress CODES]`: a year's
outcome classes of suggestion answers. Printed (the default A/B/C when none are set); set,
then offered as the answer's buttons; every bad input one line on stderr with nothing changed;
a code the year's answers already use cannot be dropped, nor change what it means (on the
ledger, counted as progress); only its label may be reworded."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import classes_cli
from bot.__main__ import _parser
from bot.runtime.buttons.assigned import AnswerStart
from bot.settings import Settings, load_settings
from storage import Database
from tests.support.answers_scene import make_scene, tap
from tests.support.cli import clean_env, run_bot
from tests.support.people import Person
from tests.support.world import World

DISTRICT = [
    "甲=已解决:ledger",
    "乙=正在解决或列入计划逐步解决:ledger",
    "丙=列入计划",
    "丁=留作参考",
]


def settings_at(tmp_path: Path) -> Settings:
    return load_settings(_env_file=None, need_token=False, database_path=tmp_path / "j.sqlite3")


def classes(settings: Settings, *argv: str) -> int:
    args: argparse.Namespace = _parser().parse_args(["classes", *argv])
    return classes_cli.main(settings, args)


def kept_rows(settings: Settings) -> list[tuple[object, ...]]:
    async def read() -> list[tuple[object, ...]]:
        db = Database(settings.database_path)
        await db.connect()
        try:
            rows = await db.fetchall(
                "SELECT year, code, label, position, counts_as_progress, ledger"
                " FROM outcome_classes ORDER BY year, position"
            )
            return [tuple(r) for r in rows]
        finally:
            await db.close()

    return asyncio.run(read())


def test_a_year_without_classes_prints_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_at(tmp_path)
    assert classes(settings, "2026") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "outcome classes of 2026 (the default):",
        "A\t已解决或基本解决\t(progress)",
        "B\t正在解决或列入计划逐步解决\t(progress, ledger)",
        "C\t因条件限制留作参考",
    ]


def test_set_replaces_the_years_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_at(tmp_path)
    assert classes(settings, "2026", "--set", *DISTRICT, "--progress", "甲,乙,丙") == 0
    assert kept_rows(settings) == [
        (2026, "甲", "已解决", 0, 1, 1),
        (2026, "乙", "正在解决或列入计划逐步解决", 1, 1, 1),
        (2026, "丙", "列入计划", 2, 1, 0),
        (2026, "丁", "留作参考", 3, 0, 0),
    ]
    capsys.readouterr()
    assert classes(settings, "2026") == 0
    assert capsys.readouterr().out.splitlines()[0] == "outcome classes of 2026:"
    # without --progress every class but the last counts; another year is untouched
    assert classes(settings, "2027", "--set", "A=解决", "B=未解决") == 0
    assert kept_rows(settings)[4:] == [(2027, "A", "解决", 0, 1, 0), (2027, "B", "未解决", 1, 0, 0)]
    assert len(kept_rows(settings)) == 6


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["A已解决", "B=未解决"], "“A已解决” is not CODE=LABEL"),
        (["ABCDE=已解决", "B=未解决"], "class code “ABCDE”: 1 to 4 characters"),
        (["A B=已解决", "B=未解决"], "class code “A B”: 1 to 4 characters"),
        (["A:1=已解决", "B=未解决"], "class code “A:1”"),
        (["A=", "B=未解决"], "class A has no label"),
        (["A=\u200b", "B=未解决"], "class A has no label"),
        (["A=" + "长" * 31, "B=未解决"], "the label of class A is longer than 30 characters"),
        (["A=已解决"], "give 2 to 8 classes"),
        ([f"{c}=x" for c in "ABCDEFGHI"], "give 2 to 8 classes"),
        (["A=已解决", "a=未解决"], "class code a is given twice"),
        (["A=已解决", "B=未解决", "--progress", "A,Z"], "--progress names Z"),
    ],
)
def test_bad_classes_are_refused_with_nothing_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    settings = settings_at(tmp_path)
    assert classes(settings, "2026", "--set", "A=解决", "B=未解决") == 0
    capsys.readouterr()
    assert classes(settings, "2026", "--set", *argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("error: ") and says in line, line
    assert line.endswith("; nothing was changed")
    assert kept_rows(settings) == [(2026, "A", "解决", 0, 1, 0), (2026, "B", "未解决", 1, 0, 0)]


def test_progress_without_set_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert classes(settings_at(tmp_path), "2026", "--progress", "A") == 2
    assert capsys.readouterr().err == "error: --progress goes with --set\n"


async def test_the_years_classes_are_the_answers_buttons_and_used_codes_stay(
    world: World, person: Callable[..., Person], tmp_path: Path
) -> None:
    """Set from the shell (a real subprocess on the running bot's database), offered in
    chat, then a used code cannot be dropped."""
    env = clean_env(JIAZHAN_DATABASE_PATH=str(world.db_path))
    done = await asyncio.to_thread(run_bot, tmp_path, env, "classes", "2026", "--set", *DISTRICT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "甲\t已解决\t(progress, ledger)"

    s = await make_scene(world, person)
    liaison = s.liaison
    await tap(liaison, AnswerStart(suggestion=s.suggestion))
    labels = liaison.buttons()
    assert labels[:5] == [
        "甲 已解决",
        "乙 正在解决或列入计划逐步解决",
        "丙 列入计划",
        "丁 留作参考",
        "取消",
    ]
    await liaison.tap("丙 列入计划")
    await liaison.tap("否")
    await liaison.send("列入明年计划。")
    await liaison.tap("✅ 确认提交")
    answer = (await world.rows("SELECT outcome_class FROM suggestion_answers"))[0]
    assert answer["outcome_class"] == "丙"

    # in a thread: the running bot's loop goes on meanwhile (its outbox holds the write lock
    # for a moment while it sends the answer's notices)
    dropped = await asyncio.to_thread(
        run_bot, tmp_path, env, "classes", "2026", "--set", "甲=已解决", "乙=未解决"
    )
    assert dropped.returncode == 1
    assert dropped.stderr == (
        "error: answers of 2026 already use class 丙 (1); it cannot be dropped;"
        " nothing was changed\n"
    )
    assert len(await world.rows("SELECT 1 FROM outcome_classes WHERE year = 2026")) == 4
    # nor may a used class change what it means: on the ledger or not, progress or not
    meaning = (
        "error: answers of 2026 already use class 丙 (1); whether it counts as progress or"
        " keeps the ledger cannot change (its label can); nothing was changed\n"
    )
    for argv in (
        ["甲=已解决", "丙=逐步解决:ledger", "丁=留作参考"],  # now on the ledger
        ["甲=已解决", "丙=逐步解决", "丁=留作参考", "--progress", "甲"],  # no longer progress
    ):
        changed = await asyncio.to_thread(run_bot, tmp_path, env, "classes", "2026", "--set", *argv)
        assert (changed.returncode, changed.stderr) == (1, meaning), argv
    assert len(await world.rows("SELECT 1 FROM outcome_classes WHERE year = 2026")) == 4
    # relabelled, the code and its meaning kept: allowed; another year is free
    relabelled = await asyncio.to_thread(
        run_bot,
        tmp_path,
        env,
        "classes",
        "2026",
        "--set",
        "甲=已解决:ledger",
        "丙=逐步解决",
        "丁=留作参考",
    )
    assert relabelled.returncode == 0, relabelled.stderr
    kept = await world.rows(
        "SELECT code, label, counts_as_progress, ledger FROM outcome_classes WHERE year = 2026"
        " ORDER BY position"
    )
    assert kept == [
        {"code": "甲", "label": "已解决", "counts_as_progress": 1, "ledger": 1},
        {"code": "丙", "label": "逐步解决", "counts_as_progress": 1, "ledger": 0},
        {"code": "丁", "label": "留作参考", "counts_as_progress": 0, "ledger": 0},
    ]
    other_year = await asyncio.to_thread(
        run_bot, tmp_path, env, "classes", "2027", "--set", "A=解决", "B=未解决"
    )
    assert other_year.returncode == 0, other_year.stderr
