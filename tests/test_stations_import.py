"""Loading streets and liaison stations from CSV: create, re-import unchanged, update; a file
with any bad row is reported line by line and nothing from it is written."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.services.stations import StationService
from storage import Database
from tests.support.cli import clean_env, run_bot
from tests.support.world import STATIONS_CSV

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "stations.csv"
HEADER = "street,station,address,latitude,longitude\n"


class Stations:
    """The station service on its own database, with the test deployment's four stations."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.services = self  # so tests read like `world.services.stations.import_csv(...)`
        self.stations = StationService(db)

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.db.fetchall(sql, params)]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Stations]:
    db = Database(tmp_path / "stations.sqlite3")
    await db.connect()
    stations = Stations(db)
    seed = tmp_path / "seed.csv"
    seed.write_text(STATIONS_CSV, encoding="utf-8")
    report = await stations.stations.import_csv(seed)
    assert report.errors == [] and report.created_or_updated == 4
    yield stations
    await db.close()


async def places(world: Stations) -> list[dict[str, Any]]:
    return await world.rows(
        "SELECT z.id AS street_id, z.name AS street, s.id, s.name, s.address, s.latitude,"
        " s.longitude FROM streets z LEFT JOIN stations s ON s.street_id = z.id"
        " ORDER BY z.id, s.id"
    )


def write(tmp_path: Path, text: str | bytes, name: str = "import.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# --- the service ----------------------------------------------------------------------------


async def test_the_sample_file_imports_cleanly_then_again_unchanged(world: Stations) -> None:
    before = await places(world)
    expected = sample_rows()
    assert len(expected) == 8

    report = await world.services.stations.import_csv(SAMPLE)
    assert report.errors == []
    assert (report.created_or_updated, report.unchanged) == (8, 0)

    after = await places(world)
    assert [r for r in before if r not in after] == []  # what was there is untouched
    stored = {(r["street"], r["name"]): r for r in after}
    for row in expected:
        station = stored[(row["street"], row["station"])]
        assert station["address"] == row["address"]
        assert station["latitude"] == pytest.approx(float(row["latitude"]))
        assert station["longitude"] == pytest.approx(float(row["longitude"]))
    streets = await world.rows("SELECT name FROM streets")
    assert len(streets) == len({r["name"] for r in streets})  # no street twice
    assert {r["street"] for r in expected} <= {r["name"] for r in streets}

    report = await world.services.stations.import_csv(SAMPLE)
    assert report.errors == []
    assert (report.created_or_updated, report.unchanged) == (0, 8)
    assert await places(world) == after


async def test_a_changed_address_updates_the_station_in_place(
    world: Stations, tmp_path: Path
) -> None:
    await world.services.stations.import_csv(SAMPLE)
    before = {r["name"]: r for r in await places(world)}
    text = SAMPLE.read_text(encoding="utf-8").replace(
        "北京市海淀区学院路 20 号", "北京市海淀区学院路 29 号院"
    )
    assert text != SAMPLE.read_text(encoding="utf-8")

    report = await world.services.stations.import_csv(write(tmp_path, text))
    assert report.errors == []
    assert (report.created_or_updated, report.unchanged) == (1, 7)
    after = {r["name"]: r for r in await places(world)}
    assert after["石油大院联络站"]["address"] == "北京市海淀区学院路 29 号院"
    assert after["石油大院联络站"]["id"] == before["石油大院联络站"]["id"]
    assert {k: v for k, v in after.items() if k != "石油大院联络站"} == {
        k: v for k, v in before.items() if k != "石油大院联络站"
    }


async def test_coordinates_can_be_added_and_removed(world: Stations, tmp_path: Path) -> None:
    await world.services.stations.import_csv(
        write(tmp_path, HEADER + "清河街道,清河联络站,清河中街 5 号,40.03,116.33\n")
    )
    (row,) = [r for r in await places(world) if r["name"] == "清河联络站"]
    assert (row["latitude"], row["longitude"]) == (40.03, 116.33)
    report = await world.services.stations.import_csv(
        write(tmp_path, HEADER + "清河街道,清河联络站,清河中街 5 号,,\n")
    )
    assert (report.created_or_updated, report.unchanged) == (1, 0)
    (row,) = [r for r in await places(world) if r["name"] == "清河联络站"]
    assert (row["latitude"], row["longitude"]) == (None, None)


async def test_excel_style_files_are_read(world: Stations, tmp_path: Path) -> None:
    """A UTF-8 BOM, CRLF line ends, quoted commas, blank lines and padded cells."""
    text = (
        "\ufeffStreet, Station ,address,latitude,longitude\r\n"
        '新街道 , 新联络站 ,"北京市海淀区某路 1 号, 2 层",39.9, 116.3\r\n'
        "\r\n"
        "新街道,第二联络站,,,\r\n"
    )
    report = await world.services.stations.import_csv(write(tmp_path, text.encode("utf-8")))
    assert report.errors == []
    assert report.created_or_updated == 2
    rows = {r["name"]: r for r in await places(world) if r["street"] == "新街道"}
    assert set(rows) == {"新联络站", "第二联络站"}
    assert rows["新联络站"]["address"] == "北京市海淀区某路 1 号, 2 层"
    assert rows["第二联络站"]["latitude"] is None


GOOD_NEW = "新街道,新联络站,新地址 1 号,39.9,116.3\n"
GOOD_UPDATE = "学院路街道,学院路第一联络站,学院路 1 号（已搬迁）,39.99,116.35\n"

BAD_FILES = [
    pytest.param(
        HEADER + GOOD_NEW + "学院路街道,坏联络站,地址,39.9\n" + GOOD_UPDATE,
        ["line 3", "columns"],
        id="wrong-column-count",
    ),
    pytest.param(
        HEADER + GOOD_UPDATE + "学院路街道,坏联络站,地址,39.9,116.3,extra\n",
        ["line 3", "columns"],
        id="too-many-columns",
    ),
    pytest.param(
        HEADER + GOOD_NEW + GOOD_UPDATE + "学院路街道,坏联络站,地址,北纬39度,116.3\n",
        ["line 4", "latitude"],
        id="bad-latitude",
    ),
    pytest.param(
        HEADER + GOOD_NEW + "学院路街道,坏联络站,地址,95,116.3\n" + GOOD_UPDATE,
        ["line 3", "latitude"],
        id="latitude-out-of-range",
    ),
    pytest.param(
        HEADER + GOOD_NEW + "学院路街道,坏联络站,地址,nan,116.3\n" + GOOD_UPDATE,
        ["line 3", "latitude"],
        id="latitude-nan",
    ),
    pytest.param(
        HEADER + GOOD_NEW + GOOD_UPDATE + "学院路街道,坏联络站,地址,39.9,\n",
        ["line 4", "longitude"],
        id="latitude-without-longitude",
    ),
    pytest.param(
        HEADER + GOOD_NEW + ",无街道联络站,地址,,\n" + GOOD_UPDATE,
        ["line 3", "empty"],
        id="empty-street",
    ),
    pytest.param(
        HEADER + GOOD_NEW + GOOD_UPDATE + "学院路街道,  ,地址,,\n",
        ["line 4", "empty"],
        id="empty-station-name",
    ),
    pytest.param(
        HEADER + GOOD_NEW + GOOD_UPDATE + "新街道,新联络站,另一个地址,,\n",
        ["line 4", "line 2"],
        id="duplicate-station",
    ),
    pytest.param(
        "街镇,联络站,地址,纬度,经度\n" + GOOD_NEW + GOOD_UPDATE,
        ["line 1", "street,station,address,latitude,longitude"],
        id="wrong-header",
    ),
    pytest.param(
        "street,station,address\n" + GOOD_NEW,
        ["line 1"],
        id="header-missing-columns",
    ),
    pytest.param("", ["line 1"], id="empty-file"),
    pytest.param(
        (HEADER + GOOD_NEW + GOOD_UPDATE).encode("gbk"),
        ["utf-8"],
        id="not-utf8",
    ),
]


@pytest.mark.parametrize(("content", "fragments"), BAD_FILES)
async def test_a_file_with_a_bad_row_is_reported_and_nothing_is_written(
    world: Stations, tmp_path: Path, content: str | bytes, fragments: list[str]
) -> None:
    before = await places(world)
    report = await world.services.stations.import_csv(write(tmp_path, content))

    assert report.errors, "the bad file was accepted"
    joined = "\n".join(report.errors).lower()
    for fragment in fragments:
        assert fragment.lower() in joined, report.errors
    assert (report.created_or_updated, report.unchanged) == (0, 0)
    assert await places(world) == before  # not even the good rows


async def test_every_bad_line_is_reported_not_just_the_first(
    world: Stations, tmp_path: Path
) -> None:
    text = (
        HEADER
        + GOOD_NEW
        + "a,b,c\n"
        + GOOD_UPDATE
        + "学院路街道,坏联络站,地址,abc,116.3\n"
        + "学院路街道,另一个,地址,39.9,\n"
    )
    before = await places(world)
    report = await world.services.stations.import_csv(write(tmp_path, text))
    assert len(report.errors) == 3
    assert [e.split(":")[0] for e in report.errors] == ["line 3", "line 5", "line 6"]
    assert await places(world) == before


async def test_a_file_that_is_not_utf8_names_the_line(world: Stations, tmp_path: Path) -> None:
    content = (HEADER + GOOD_UPDATE).encode("utf-8") + "新街道,新联络站,地址,,\n".encode("gbk")
    report = await world.services.stations.import_csv(write(tmp_path, content))
    assert report.errors and "line 3" in report.errors[0]


async def test_a_missing_file_is_reported(world: Stations, tmp_path: Path) -> None:
    report = await world.services.stations.import_csv(tmp_path / "nope.csv")
    assert len(report.errors) == 1 and "nope.csv" in report.errors[0]


# --- the command line -----------------------------------------------------------------------


def run_import(tmp_path: Path, db: Path, csv_file: Path) -> subprocess.CompletedProcess[str]:
    env = clean_env(JIAZHAN_DATABASE_PATH=str(db))
    return run_bot(tmp_path, env, "stations", "import", str(csv_file))


def count_stations(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT z.name, s.name, s.address FROM stations s JOIN streets z"
            " ON z.id = s.street_id ORDER BY s.id"
        ).fetchall()


def test_the_command_line_import(tmp_path: Path) -> None:
    db = tmp_path / "data" / "cli.sqlite3"

    first = run_import(tmp_path, db, SAMPLE)
    assert first.returncode == 0, first.stderr
    assert "8 created or updated, 0 unchanged" in first.stdout
    assert "error" not in first.stderr.lower() and "Traceback" not in first.stderr
    stored = count_stations(db)
    assert len(stored) == 8

    again = run_import(tmp_path, db, SAMPLE)
    assert again.returncode == 0, again.stderr
    assert "0 created or updated, 8 unchanged" in again.stdout
    assert count_stations(db) == stored

    bad = write(
        tmp_path,
        HEADER + "新街道,新联络站,地址,,\n学院路街道,坏联络站,地址,abc,116\n",
        "bad.csv",
    )
    refused = run_import(tmp_path, db, bad)
    assert refused.returncode == 1
    assert "line 3" in refused.stderr and "latitude" in refused.stderr
    assert "nothing imported" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert count_stations(db) == stored


def test_sample_has_the_documented_shape() -> None:
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    assert rows[0] == ["street", "station", "address", "latitude", "longitude"]
    assert all(len(r) == 5 for r in rows)
