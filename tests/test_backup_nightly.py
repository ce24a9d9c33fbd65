"""The nightly backup: a verified copy in `backup_dir` named by the local date and time, the
newest `backup_keep` kept and only files of that naming ever deleted; `backup_keep` 0 makes
none; a failure is one ERROR line without personal data and the bot goes on; a bot never up
at night gets one when the newest is more than a day old."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import SCHEDULER_KEY
from bot.runtime.scheduler import Scheduler
from storage.backup import inspect
from storage.db import latest_version
from tests.support.opinions import send_quick_opinion, voter_with_station
from tests.support.world import SHANGHAI, MakeWorld
from tests.test_backup_cli import unwritable_folder

NIGHT = datetime(2026, 11, 27, 3, 0, tzinfo=SHANGHAI)
TEXT = "幸福小区东门的路灯坏了一个星期，晚上老人出门很不方便。"
# files a person keeps in the same folder: none of them is a backup of ours
FOREIGN = [
    "notes.txt",
    "jiazhan-manual.sqlite3",  # no date in its name
    "other-20261101-030000.sqlite3",  # another database's backup
    "jiazhan-20261101-030000.sqlite3.bak",
    "jiazhan-20261399-030000.sqlite3",  # digits that are no date
]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def opinions_in(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("SELECT text FROM opinions ORDER BY id")]


async def test_each_night_a_verified_copy_and_the_newest_kept(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    folder = tmp_path / "nightly"
    world = await make_world(backup_keep=3, backup_dir=folder)
    voter = await voter_with_station(world, 501)
    await send_quick_opinion(voter, TEXT)

    made = []
    for night in range(5):
        world.clock.set(NIGHT + timedelta(days=night))
        made.append(await world.services.backups.run_nightly())

    # named by the local time (Asia/Shanghai) the night's work began
    assert [p.name if p else None for p in made] == [
        f"jiazhan-202611{day:02d}-030000.sqlite3" for day in (27, 28, 29, 30)
    ] + ["jiazhan-20261201-030000.sqlite3"]
    assert names(folder) == [
        "jiazhan-20261129-030000.sqlite3",
        "jiazhan-20261130-030000.sqlite3",
        "jiazhan-20261201-030000.sqlite3",
    ]
    for path in folder.iterdir():
        assert inspect(path) == latest_version()
        assert opinions_in(path) == [TEXT]


async def test_other_files_in_the_folder_are_left_alone(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    world = await make_world(backup_keep=1, backup_dir=folder)
    for name in FOREIGN:
        (folder / name).write_bytes(b"someone else's")
    (folder / "jiazhan-20261101-030000.sqlite3.d").mkdir()  # a folder, however named
    ours_of_old = folder / "jiazhan-20261101-030000.sqlite3"  # ours by its name
    ours_of_old.write_bytes(b"an old backup")

    for night in range(3):
        world.clock.set(NIGHT + timedelta(days=night))
        assert await world.services.backups.run_nightly() is not None

    assert names(folder) == sorted(
        [*FOREIGN, "jiazhan-20261101-030000.sqlite3.d", "jiazhan-20261129-030000.sqlite3"]
    )
    for name in FOREIGN:
        assert (folder / name).read_bytes() == b"someone else's"


async def test_what_a_cut_short_backup_left_is_cleared(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    world = await make_world(backup_keep=2, backup_dir=folder)
    cut_short = [
        ".jiazhan-20261126-030000.sqlite3.k2j3h4.partial",
        ".jiazhan-20261126-030000.sqlite3.k2j3h4.partial-journal",
    ]
    for name in cut_short:
        (folder / name).write_bytes(b"half a backup")
    (folder / ".hidden-notes.partial").write_bytes(b"not ours")

    world.clock.set(NIGHT)
    await world.services.backups.run_nightly()

    assert names(folder) == [".hidden-notes.partial", "jiazhan-20261127-030000.sqlite3"]


async def test_keep_zero_makes_no_backup_and_deletes_none(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    world = await make_world(backup_keep=0, backup_dir=folder)
    (folder / "jiazhan-20261101-030000.sqlite3").write_bytes(b"kept by hand")
    world.clock.set(NIGHT)

    assert await world.services.backups.run_nightly() is None
    assert await world.services.backups.run_if_overdue() is None

    assert names(folder) == ["jiazhan-20261101-030000.sqlite3"]


async def test_the_scheduler_makes_the_nightly_backup(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    world = await make_world(backup_dir=tmp_path / "data" / "backups")  # made when missing
    world.clock.set(NIGHT)
    scheduler: Scheduler = world.app.bot_data[SCHEDULER_KEY]

    await scheduler.nightly()

    assert names(world.settings.backup_dir) == ["jiazhan-20261127-030000.sqlite3"]


async def test_a_failure_is_logged_without_personal_data_and_the_bot_goes_on(
    make_world: MakeWorld, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "nightly"
    world = await make_world(backup_keep=2, backup_dir=folder)
    voter = await voter_with_station(world, 501, name="王秀英")
    await send_quick_opinion(voter, TEXT)
    world.clock.set(NIGHT)
    yesterday = await world.services.backups.run_nightly()
    assert yesterday is not None
    # tonight's name is taken by a folder: the copy cannot get it
    world.clock.set(NIGHT + timedelta(days=1))
    (folder / "jiazhan-20261128-030000.sqlite3").mkdir()
    caplog.clear()

    with caplog.at_level(logging.INFO):
        assert await world.services.backups.run_nightly() is None

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, caplog.text
    assert errors[0].getMessage().startswith("nightly backup failed: ")
    assert "is a folder" in errors[0].getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for personal in ("王秀英", TEXT, "501", world.settings.bot_token or "-"):
        assert personal not in logged
    # yesterday's backup is not rotated away by a night that made none
    assert names(folder) == ["jiazhan-20261127-030000.sqlite3", "jiazhan-20261128-030000.sqlite3"]
    assert (folder / "jiazhan-20261128-030000.sqlite3").is_dir()
    await send_quick_opinion(voter, "西门的路灯也坏了，请一起修理，谢谢。")
    assert len(await world.rows("SELECT id FROM opinions")) == 2


async def test_a_folder_under_a_file_is_logged_and_nothing_raised(
    make_world: MakeWorld, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a_file = tmp_path / "backups-file"
    a_file.write_text("not a folder", encoding="utf-8")
    world = await make_world(backup_dir=a_file / "nightly")

    assert await world.services.backups.run_nightly() is None

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, caplog.text
    assert "nightly backup failed" in errors[0].getMessage()
    assert a_file.read_text(encoding="utf-8") == "not a folder"


async def test_a_bot_never_up_at_night_gets_a_backup_a_day(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    folder = tmp_path / "nightly"
    world = await make_world(backup_dir=folder)
    backups = world.services.backups
    start = datetime(2026, 11, 27, 9, 30, tzinfo=SHANGHAI)

    world.clock.set(start)
    first = await backups.run_if_overdue()  # none yet: one now
    assert first is not None and first.name == "jiazhan-20261127-093000.sqlite3"
    world.clock.set(start + timedelta(hours=23, minutes=59))
    assert await backups.run_if_overdue() is None  # the newest is less than a day old
    world.clock.set(start + timedelta(days=1, minutes=1))
    later = await backups.run_if_overdue()
    assert later is not None and later.name == "jiazhan-20261128-093100.sqlite3"
    assert names(folder) == [first.name, later.name]


__all__ = ["unwritable_folder"]  # the fixture, shared with the command's tests


async def test_a_folder_the_bot_may_not_write_is_logged_and_the_bot_goes_on(
    make_world: MakeWorld, unwritable_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = names(unwritable_folder)
    world = await make_world(backup_keep=2, backup_dir=unwritable_folder)
    voter = await voter_with_station(world, 501)
    world.clock.set(NIGHT)

    with caplog.at_level(logging.INFO):
        assert await world.services.backups.run_nightly() is None

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, caplog.text
    assert (
        errors[0]
        .getMessage()
        .startswith(f"nightly backup failed: cannot write in {unwritable_folder}")
    )
    assert names(unwritable_folder) == before
    await send_quick_opinion(voter, TEXT)  # the bot goes on
    assert len(await world.rows("SELECT id FROM opinions")) == 1
