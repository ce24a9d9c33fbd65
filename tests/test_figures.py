"""The district's figures against a seeded district with known numbers: every JSON figure,
for the district, one 街镇 and one station, over a month, a year and a range across two
years, compared with what tests/support/district_seed.py counts from its own data; the
edges of a period in Shanghai time; nothing to divide by → null; the periods people ask
for and the ones refused."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot.errors import DomainError
from bot.services.figures import (
    Area,
    AreaKind,
    Period,
    PeriodChoice,
    parse_dates,
    parse_month,
    parse_quarter,
    parse_range,
    parse_year,
    preset,
    rate,
)
from storage.db import stamp
from storage.repos import figures as figures_repo
from tests.support.district_seed import EDGES, District, expected, local, seed_district
from tests.support.world import SHANGHAI, World

MONTH = (date(2026, 11, 1), date(2026, 11, 30))
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
ACROSS = (date(2025, 12, 1), date(2026, 1, 31))  # two years, two sets of outcome classes
PERIODS = pytest.mark.parametrize("days", [MONTH, YEAR, ACROSS], ids=["month", "year", "across"])
AREAS = pytest.mark.parametrize(
    "where",
    [("district", None), ("street", "学院路街道"), ("station", "海淀街道联络站")],
    ids=["district", "street", "station"],
)


@pytest.fixture
async def district(world: World) -> District:
    return await seed_district(world)


def area_of(district: District, where: tuple[str, str | None]) -> tuple[str, int | None]:
    kind, name = where
    if kind == "street":
        return kind, district.street(str(name))
    if kind == "station":
        return kind, district.station(str(name))
    return kind, None


async def figures(world: World, days: tuple[date, date], area: tuple[str, int | None]) -> dict:
    report = await world.services.figures.compute(
        Period.of(*days), Area(AreaKind(area[0]), area[1])
    )
    return report.as_json()


@PERIODS
@AREAS
async def test_every_figure_matches_the_seeded_truth(
    world: World, district: District, days: tuple[date, date], where: tuple[str, str | None]
) -> None:
    area = area_of(district, where)
    got = await figures(world, days, area)
    want = expected(district, *days, area)
    for section in want:
        assert got[section] == want[section], section
    assert got == want
    json.dumps(got, allow_nan=False)  # never NaN: a JSON reader takes it as it is


async def test_the_median_walked_on_the_index_of_times_is_the_same(
    world: World, district: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The district's many answers take the other way to the median (no sorting): the same
    figure, for an odd and an even count."""
    monkeypatch.setattr(figures_repo, "SORT_AT_MOST", 0)
    for days in (MONTH, YEAR, ACROSS):
        got = await figures(world, days, ("district", None))
        want = expected(district, *days, ("district", None))
        assert got["opinions"] == want["opinions"], days
    counts = {(await figures(world, d, ("district", None)))["opinions"]["answered"] % 2
              for d in (MONTH, YEAR, ACROSS)}  # fmt: skip
    assert counts == {0, 1}


async def test_the_seed_covers_what_the_figures_distinguish(district: District) -> None:
    """A test that cannot fail is a defect: the seed holds each case the rules separate."""
    ops = district.opinions
    assert {o.status for o in ops} == {"submitted", "accepted", "declined", "answered", "closed"}
    assert {o.satisfaction for o in ops} >= {None, "satisfied", "basically", "unsatisfied",
                                             "not_rated"}  # fmt: skip
    assert any(o.status == "declined" and o.holder for o in ops)
    assert any(o.project for o in ops)
    states = {s.state for s in district.suggestions}
    assert states == {"submitted", "withdrawn", "declined", "assigned", "returned", "answered",
                      "rehandling", "closed"}  # fmt: skip
    assert {s.outcome_class for s in district.suggestions} >= {"A", "B", "C", "甲", "乙", "丙"}
    assert any(t.absent for t in district.turns)
    assert any(v.deleted for v in district.visits) and any(v.turn for v in district.visits)
    month = expected(district, *MONTH, ("district", None))
    year = expected(district, *YEAR, ("district", None))
    for section in ("deputy_work", "opinions", "suggestions"):
        figures_of = month[section]
        assert isinstance(figures_of, dict)
        assert all(v not in (0, None) for k, v in figures_of.items() if k != "overdue"), section
    assert year["projects"]["projects_rated"] == 5  # type: ignore[index]
    assert set(year["projects"]["verdicts"].values()) != {0}  # type: ignore[index]


async def test_a_period_starts_and_ends_at_midnight_in_shanghai(
    world: World, district: District
) -> None:
    """The edges are instants at 16:00 UTC; a second either side moves a row across."""
    before, first, last, after = EDGES[:4]
    assert first.astimezone(SHANGHAI).isoformat() == "2026-11-01T00:00:00+08:00"
    got = await figures(world, MONTH, ("district", None))
    inside = [o for o in district.opinions if not o.project and first <= o.created_at <= last]
    assert got["opinions"]["opinions_received"] == len(inside)
    # the row a second before the month moves in when the month starts a second earlier
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE opinions SET created_at = ? WHERE created_at = ?",
            (stamp(before + timedelta(seconds=1)), stamp(before)),
        )
        await tx.execute(
            "UPDATE opinions SET created_at = ? WHERE created_at = ?",
            (stamp(after - timedelta(seconds=1)), stamp(after)),
        )
    moved = await figures(world, MONTH, ("district", None))
    edge_rows = [o for o in district.opinions if not o.project and o.created_at in (before, after)]
    assert moved["opinions"]["opinions_received"] == len(inside) + len(edge_rows) > len(inside)


async def test_nothing_to_divide_by_is_null_never_zero(world: World, district: District) -> None:
    empty = await figures(world, (date(2020, 1, 1), date(2020, 12, 31)), ("district", None))
    opinions, suggestions = empty["opinions"], empty["suggestions"]
    for name in ("response_rate", "solved_rate", "satisfied_rate", "median_days_to_answer"):
        assert opinions[name] is None, name
    assert suggestions["solved_or_progressed"] == {"count": 0, "rate": None}
    assert suggestions["satisfied_rate"] is None and suggestions["met_before_answer_rate"] is None
    assert suggestions["by_class"] == {"A": 0, "B": 0, "C": 0}
    assert opinions["by_category"] == {} and opinions["top_categories_by_street"] == {}
    assert empty["consultations"] == {"held": 0, "comments": 0}
    assert empty["projects"] == {
        "projects_rated": 0,
        "verdicts": {"satisfied": 0, "basic": 0, "unsatisfied": 0},
        "rated": [],
    }
    assert all(s["response_rate"] is None for s in empty["streets"])
    # 清河联络站 has opinions that nobody answered or rated: a rate of 0 where received > 0
    qinghe = district.station("清河联络站")
    station = await figures(world, YEAR, ("station", qinghe))
    assert station["opinions"]["opinions_received"] > 0
    assert station["opinions"]["response_rate"] == 0.0
    assert station["opinions"]["satisfied_rate"] is None
    assert station["deputy_work"]["deputy_attendances"] == 0
    assert station["consultations"] is None and station["projects"] is None
    assert rate(0, 0) is None and rate(1, 3) == 0.3333 and rate(87, 147) == 0.5918


async def test_an_unknown_area_is_refused(world: World) -> None:
    with pytest.raises(DomainError) as refused:
        await world.services.figures.compute(Period.year(2026), Area(AreaKind.STATION, 999))
    assert refused.value.key == "stats.unknown_area"
    with pytest.raises(DomainError):
        await world.services.figures.compute(Period.year(2026), Area(AreaKind.STREET, 999))


async def test_areas_by_name(world: World) -> None:
    figures_service = world.services.figures
    xueyuan = await world.station_id("学院路第一联络站")
    assert await figures_service.find_area(None, None) == Area.district()
    assert (await figures_service.find_area("学院路街道", None)).kind == AreaKind.STREET
    assert await figures_service.find_area(None, "学院路第一联络站") == Area(
        AreaKind.STATION, xueyuan
    )
    assert await figures_service.find_area("学院路街道", "学院路第一联络站") == Area(
        AreaKind.STATION, xueyuan
    )
    for street, station, key in [
        ("不存在街道", None, "stats.unknown_street"),
        (None, "不存在联络站", "stats.unknown_station"),
        ("海淀街道", "学院路第一联络站", "stats.unknown_station"),  # not of that street
    ]:
        with pytest.raises(DomainError) as refused:
            await figures_service.find_area(street, station)
        assert refused.value.key == key


async def test_a_station_name_two_streets_share_needs_its_street(world: World) -> None:
    await world.load_stations(
        "street,station,address,latitude,longitude\n清河街道,中心站,清河 1 号,,\n"
        "海淀街道,中心站,海淀 2 号,,\n"
    )
    with pytest.raises(DomainError) as refused:
        await world.services.figures.find_area(None, "中心站")
    assert refused.value.key == "stats.ambiguous_station"
    found = await world.services.figures.find_area("清河街道", "中心站")
    assert found.kind == AreaKind.STATION


# --- periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, start, end",
    [
        ("2026-01-01 至 2026-03-31", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026年1月1日到2026年3月31日", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026/1/1 ~ 2026/3/31", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-01-01 to 2026-03-31", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-01-01 TO 2026-01-31", date(2026, 1, 1), date(2026, 1, 31)),
        ("２０２６－０１－０１～２０２６－０３－３１", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-01-01 2026-01-01", date(2026, 1, 1), date(2026, 1, 1)),
        ("10月1日 - 10月31日", date(2026, 10, 1), date(2026, 10, 31)),
        ("12月1日至昨天", date(2025, 12, 1), date(2026, 11, 25)),  # the latest December 1
    ],
)
def test_a_typed_range(typed: str, start: date, end: date) -> None:
    period = parse_range(typed, date(2026, 11, 26))
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    "typed, key",
    [
        ("", "stats.bad_range"),
        ("2026-01-01", "stats.bad_range"),
        ("上个月", "stats.bad_range"),
        ("2026-02-30 至 2026-03-01", "stats.bad_range"),
        ("2026-01-01 至 2026-02-01 至 2026-03-01", "stats.bad_range"),
        ("2026-03-31 至 2026-01-01", "stats.range_reversed"),
        ("1999-01-01 至 2026-01-01", "stats.years_outside"),
        ("2026-01-01 至 9999-12-31", "stats.years_outside"),
    ],
)
def test_a_bad_range_is_refused(typed: str, key: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_range(typed, date(2026, 11, 26))
    assert refused.value.key == key


def test_the_periods_of_the_command_line() -> None:
    assert parse_year("2026") == Period.of(date(2026, 1, 1), date(2026, 12, 31))
    assert parse_quarter("2026Q3") == Period.of(date(2026, 7, 1), date(2026, 9, 30))
    assert parse_quarter("2024q1") == Period.of(date(2024, 1, 1), date(2024, 3, 31))
    assert parse_month("2026-11") == Period.of(date(2026, 11, 1), date(2026, 11, 30))
    assert parse_month("2024-2") == Period.of(date(2024, 2, 1), date(2024, 2, 29))
    assert parse_dates("2026-01-01", "2026-01-31") == Period.of(date(2026, 1, 1), date(2026, 1, 31))
    for call, raw, key in [
        (parse_year, "26", "stats.bad_year"),
        (parse_year, "1999", "stats.years_outside"),
        (parse_quarter, "2026Q5", "stats.bad_quarter"),
        (parse_quarter, "2026-3", "stats.bad_quarter"),
        (parse_month, "2026-13", "stats.bad_month"),
        (parse_month, "11/2026", "stats.bad_month"),
    ]:
        with pytest.raises(DomainError) as refused:
            call(raw)
        assert refused.value.key == key, raw
    with pytest.raises(DomainError):
        parse_dates("1-1", "2026-01-31")  # no year: refused, not guessed


@pytest.mark.parametrize(
    "choice, start, end",
    [
        (PeriodChoice.THIS_MONTH, date(2026, 11, 1), date(2026, 11, 30)),
        (PeriodChoice.THIS_QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
        (PeriodChoice.THIS_YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        (PeriodChoice.LAST_YEAR, date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_the_periods_offered_as_buttons(choice: PeriodChoice, start: date, end: date) -> None:
    assert preset(choice, date(2026, 11, 26)) == Period.of(start, end)


async def test_the_clock_decides_what_is_overdue_and_past(world: World, district: District) -> None:
    """Moving the clock: the turn under way at 10:00 counts once it has ended (its two
    deputies logged visits for it: those count as the turn then, not besides it), and a
    suggestion due later becomes overdue once its date passes."""
    before = await figures(world, YEAR, ("district", None))
    under_way = next(t for t in district.turns if t.starts_at == local(2026, 11, 26, 9, 30))
    logged = {v.deputy for v in district.visits if v.turn == under_way.id}
    assert set(under_way.deputies) <= logged
    world.clock.set(local(2026, 11, 26, 12))
    later = await figures(world, YEAR, ("district", None))
    assert later == expected(district, *YEAR, ("district", None), now=local(2026, 11, 26, 12))
    work, earlier = later["deputy_work"], before["deputy_work"]
    # the annual account under way till 12:00 with two deputies and no visit logged for it
    assert work["deputy_attendances"] == earlier["deputy_attendances"] + 2
    assert work["annual_accounts_given"] == earlier["annual_accounts_given"] + 2
    world.clock.set(datetime(2027, 3, 1, tzinfo=SHANGHAI))
    far = await figures(world, YEAR, ("district", None))
    assert far["suggestions"]["overdue"] > before["suggestions"]["overdue"]


async def test_the_opinion_queries_read_the_figures_indexes(
    world: World, district: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With migration 0012 the opinions are counted from its indexes, never from the table
    (bench/bench_report.py times that at scale): the query plans name them."""
    names = {r["name"] for r in await world.rows("SELECT name FROM sqlite_master")}
    if "opinions_figures" not in names:
        pytest.skip("migration 0012 (the figures' indexes) is not in this tree yet")
    asked: list[tuple[str, Any]] = []
    read = world.db.fetchall

    async def spy(sql: str, params: Any = ()) -> Any:
        if "FROM opinions" in sql:
            asked.append((sql, params))
        return await read(sql, params)

    monkeypatch.setattr(world.db, "fetchall", spy)
    for walk in (0, 10**9):  # the district's median walked to, then sorted
        monkeypatch.setattr(figures_repo, "SORT_AT_MOST", walk)
        await figures(world, YEAR, ("district", None))
    await figures(world, YEAR, ("street", district.street("学院路街道")))
    plans = [
        " | ".join(str(r[3]) for r in await read(f"EXPLAIN QUERY PLAN {sql}", params))
        for sql, params in asked
    ]
    assert len(plans) == 6
    for plan in plans:
        assert "opinions_figures" in plan or "opinions_answer" in plan, plan
    assert any("SCAN opinions USING INDEX opinions_answer_order" in p for p in plans)
