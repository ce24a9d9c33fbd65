"""/stats in the chat, in both languages: staff pick a period (a button or a typed range) and
an area (the district, a street or a station through the picker), then get the figures as a
message, the .xlsx and the chart; each figure shown is the seeded district's truth. Voters,
deputies and liaisons are refused; a bad range, a forged or stale button, text where a
button is wanted and a restart in the middle are each answered."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.runtime.buttons import Picker, StationPicked, StreetStations
from bot.runtime.buttons.stats import StatsArea, StatsCancel, StatsPeriod
from bot.services.figures import AreaKind, PeriodChoice
from tests.support.district_seed import District, expected, seed_district
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, agree, consented_admin, say, texts_of
from tests.support.suggestion_seed import seed_department, seed_liaison
from tests.support.world import World

MONTH = (date(2026, 11, 1), date(2026, 11, 30))
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
# (the label's message id, where the figure is in the report's JSON, a rate?)
SHOWN = [
    ("stats.deputy_attendances", ("deputy_work", "deputy_attendances"), False),
    ("stats.voter_contacts", ("deputy_work", "voter_contacts"), False),
    ("stats.things_done", ("deputy_work", "things_done"), False),
    ("stats.opinions_received", ("opinions", "opinions_received"), False),
    ("stats.response_rate", ("opinions", "response_rate"), True),
    ("stats.solved_rate", ("opinions", "solved_rate"), True),
    ("stats.suggestions_submitted", ("suggestions", "suggestions_submitted"), False),
    ("stats.solved_or_progressed_rate", ("suggestions", "solved_or_progressed", "rate"), True),
    ("stats.met_before_answer_rate", ("suggestions", "met_before_answer_rate"), True),
    ("stats.overdue", ("suggestions", "overdue"), False),
]


@pytest.fixture
async def district(world: World) -> District:
    return await seed_district(world)


def figure(truth: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = truth
    for name in path:
        value = value[name]
    return value


def shown(person: Person, value: Any, is_rate: bool) -> str:
    t = texts_of(person)
    if value is None:
        return say(person, "stats.none")
    if is_rate:
        return say(person, "stats.percent", value=t.number(round(value * 100, 1)))
    return t.number(value)


def report_of(world: World, person: Person) -> tuple[str, bytes, int]:
    """The figures message (all its parts), the .xlsx and the count of photos sent to
    `person` since the last /stats."""
    messages = [o for o in world.api.outputs if o.chat_id == person.id]
    start = max(i for i, o in enumerate(messages) if say(person, "stats.head") in o.text)
    text = "\n".join(o.text for o in messages[start:] if o.kind == "message")
    sent = [c for c in world.api.calls_to("sendDocument") if int(c.params["chat_id"]) == person.id]
    photos = [c for c in world.api.calls_to("sendPhoto") if int(c.params["chat_id"]) == person.id]
    data = next(iter(sent[-1].files.values())) if sent else b""
    return text, data, len(photos)


def check_figures(person: Person, text: str, truth: dict[str, Any]) -> None:
    for label, path, is_rate in SHOWN:
        line = say(person, "stats.line", label=say(person, label), value=shown(
            person, figure(truth, path), is_rate))  # fmt: skip
        assert line in text, line


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_this_month_for_the_whole_district(
    world: World, district: District, code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await staff.send("/stats")
    assert staff.last == say(staff, "stats.ask_period")
    await staff.tap(say(staff, "stats.this_month"))
    assert await world.conversation_state("stats", staff.id) == "area"
    await staff.tap(say(staff, "stats.whole_district"))

    truth = expected(district, *MONTH, ("district", None))
    text, data, photos = report_of(world, staff)
    check_figures(staff, text, truth)
    assert say(staff, "stats.head_district") in text.split("\n")
    assert say(staff, "stats.section_consultations") in text
    consultations = truth["consultations"]
    assert say(staff, "stats.line", label=say(staff, "stats.consultations_held"),
               value=texts_of(staff).number(consultations["held"])) in text  # fmt: skip
    assert photos == 1
    book = load_workbook(io.BytesIO(data))
    sheet = book[say(staff, "stats.section_opinions")]
    values = {row[2].value: row[1].value for row in sheet.iter_rows(min_row=2)}
    assert values["opinions_received"] == truth["opinions"]["opinions_received"]
    assert values["response_rate"] == truth["opinions"]["response_rate"]
    assert await world.conversation_state("stats", staff.id) is None
    assert world.api.refusals == []


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_typed_range_and_one_street(
    world: World, district: District, code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await staff.send("/stats")
    typed = {"zh-hans": "2026-01-01 至 2026-12-31", "en": "2026-01-01 to 2026-12-31"}
    await staff.send(typed[code])
    assert "2026" in staff.last and say(staff, "stats.whole_district") in staff.buttons()
    await staff.tap(say(staff, "stats.a_street"))
    assert staff.last.startswith(say(staff, "stats.pick_street"))
    await staff.tap("学院路街道")

    street = district.street("学院路街道")
    truth = expected(district, *YEAR, ("street", street))
    text, _, photos = report_of(world, staff)
    check_figures(staff, text, truth)
    assert "学院路街道" in text and say(staff, "stats.district_only") in text
    assert photos == 1


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_one_station_found_by_its_street_or_by_name(
    world: World, district: District, code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await staff.send("/stats")
    await staff.tap(say(staff, "stats.this_year"))
    await staff.tap(say(staff, "stats.a_station"))
    await staff.send("海淀")  # a name typed searches the stations
    await staff.tap(next(b for b in staff.buttons() if b.startswith("海淀街道联络站")))
    station = district.station("海淀街道联络站")
    text, _, _ = report_of(world, staff)
    check_figures(staff, text, expected(district, *YEAR, ("station", station)))
    assert "海淀街道联络站" in text


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_bad_ranges_are_refused_and_the_step_stays(
    world: World, district: District, code: str, locale: str
) -> None:
    staff = await consented_admin(world, code)
    await staff.send("/stats")
    for typed, key, params in [
        ("上个月", "stats.bad_range", {}),
        ("2026-02-30 至 2026-03-31", "stats.bad_range", {}),
        ("2026-03-31 至 2026-01-01", "stats.range_reversed", {}),
        ("1990-01-01 至 2026-01-01", "stats.years_outside", {"first": 2000, "last": 2100}),
    ]:
        await staff.send(typed)
        assert staff.last == say(staff, key, **params)
        assert await world.conversation_state("stats", staff.id) == "period"
    await staff.send_photo()
    assert staff.last == say(staff, "stats.bad_period_input")
    await staff.tap(say(staff, "stats.last_year"))
    await staff.send("全区")  # text where a button is wanted
    assert staff.last == say(staff, "stats.use_buttons")
    assert await world.conversation_state("stats", staff.id) == "area"
    await staff.send("/opinions")
    assert staff.last == say(staff, "stats.in_progress")
    await staff.tap(say(staff, "stats.cancel_button"))
    assert staff.last == say(staff, "stats.cancelled")
    assert await world.conversation_state("stats", staff.id) is None


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_only_staff_see_the_figures(
    world: World, district: District, person: Any, code: str, locale: str
) -> None:
    voter = person(7001, "选民", code)
    await agree(voter)
    forbidden = say(voter, "error.forbidden")
    await voter.send("/stats")
    assert voter.last == forbidden
    await voter.tap_data(StatsPeriod(choice=PeriodChoice.THIS_YEAR).pack())
    await voter.tap_data(StatsArea(kind=AreaKind.DISTRICT).pack())
    await voter.tap_data(StreetStations(purpose=Picker.STATS, street=1, page=0).pack())
    await voter.tap_data(StationPicked(purpose=Picker.STATS, station=1).pack())
    assert voter.last == say(voter, "error.stale_button")  # no /stats of theirs to tap in
    outputs = [o for o in world.api.outputs if o.chat_id == voter.id]
    assert not any(say(voter, "stats.head") in o.text for o in outputs)
    assert await world.conversation_state("stats", voter.id) is None
    assert world.api.calls_to("sendDocument") == []

    # a deputy is no staff either (the seed's deputies have accounts, in Chinese)
    deputy = Person(world, 201, "代表201", code)
    await deputy.send("/stats")
    assert deputy.last == world.text("zh_CN", "error.forbidden")
    department = await seed_department(world, "区住建委")
    await seed_liaison(world, 8001, department, locale=locale)
    liaison = Person(world, 8001, "联络员", code)
    await liaison.send("/stats")
    assert liaison.last == say(liaison, "error.forbidden")


async def test_forged_and_stale_buttons(world: World, district: District) -> None:
    staff = await consented_admin(world)
    # an area before any period: no conversation, so the button is stale
    await staff.tap_data(StatsArea(kind=AreaKind.DISTRICT).pack())
    assert staff.last == say(staff, "error.stale_button")
    await staff.send("/stats")
    await staff.tap_data("tjp:decade")  # not a period this bot offers
    assert staff.last == say(staff, "error.stale_button")
    await staff.tap_data(StatsArea(kind=AreaKind.DISTRICT).pack())  # a step not reached
    assert staff.last == say(staff, "error.stale_button")
    assert await world.conversation_state("stats", staff.id) == "period"
    await staff.tap(say(staff, "stats.this_month"))
    await staff.tap(say(staff, "stats.a_street"))
    await staff.tap_data(StreetStations(purpose=Picker.STATS, street=999, page=0).pack())
    assert await world.conversation_state("stats", staff.id) == "street"
    await staff.tap_data(StatsPeriod(choice=PeriodChoice.THIS_MONTH).pack())  # left behind
    assert staff.last == say(staff, "error.stale_button")
    await staff.tap_data(StatsCancel().pack())
    assert staff.last == say(staff, "stats.cancelled")
    assert world.api.calls_to("sendDocument") == []


async def test_a_restart_resumes_at_the_area(world: World, district: District) -> None:
    staff = await consented_admin(world)
    await staff.send("/stats")
    await staff.send("2026-11-01 至 2026-11-30")
    await world.crash_and_restart()
    await staff.tap(say(staff, "stats.whole_district"))
    text, _, photos = report_of(world, staff)
    check_figures(staff, text, expected(district, *MONTH, ("district", None)))
    assert photos == 1
