"""The one station picker (handlers.station_picker): streets and their stations page by page,
a search by name (`/station 名称`, or a name typed at a conversation's picker step) that
takes what is typed literally, and forged or stale picker taps answered, never crashed on."""

from __future__ import annotations

import base64

import pytest

from bot.demo.botapi import Output
from bot.runtime.buttons.pickers import Picker, StationSearch
from tests.support.people import Person
from tests.support.scenarios import ADMIN, onboard, say
from tests.support.world import World

LANGS = [
    pytest.param("zh-hans", id="zh"),
    pytest.param("en", id="en"),
]

# 30 stations in one street: four pages of 8.
LONG_STREET = "street,station,address,latitude,longitude\n" + "".join(
    f"长街街道,长街站{i:02d},长街 {i} 号,,\n" for i in range(1, 31)
)
# names with LIKE's wildcards, letters in both cases, and a name longer than a search
# button carries (15 characters, 45 bytes)
ODD_NAMES = (
    "street,station,address,latitude,longitude\n"
    "符号街道,百分%站,,,\n"
    "符号街道,下划_线站,,,\n"
    "符号街道,反斜\\杠站,,,\n"
    "符号街道,ABC联络站,,,\n"
    + "".join(f"长名街道,一二三四五六七八九十甲乙丙丁戊站{i:02d},,,\n" for i in range(1, 11))
)


def only(outputs: list[Output]) -> Output:
    """The one answer to a step."""
    assert len(outputs) == 1, [(o.kind, o.text) for o in outputs]
    return outputs[0]


def found_label(who: Person, station: str, street: str) -> str:
    return say(who, "station.found_item", station=station, street=street)


async def voter(world: World, person, code: str, user_id: int = 5001) -> Person:
    someone: Person = person(user_id, "选民", code)
    await onboard(someone)
    return someone


async def station_id(world: World, name: str) -> int:
    rows = await world.rows("SELECT id FROM stations WHERE name = ?", (name,))
    assert len(rows) == 1, rows
    return int(rows[0]["id"])


async def station_of(world: World, user_id: int) -> int | None:
    return (await world.user_row(user_id))["station_id"]


# --- /station 名称 ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", LANGS)
async def test_station_prompt_offers_the_search(world: World, person, code: str) -> None:
    someone = await voter(world, person, code)
    reply, key = await someone.send("/station")
    assert reply.text.startswith(say(someone, "station.choose_street"))
    assert reply.text.endswith(say(someone, "station.hint_station_command"))
    assert key.text == say(someone, "station.location_key_hint")


@pytest.mark.parametrize("code", LANGS)
async def test_station_with_a_name_finds_the_stations_holding_it(
    world: World, person, code: str
) -> None:
    someone = await voter(world, person, code)
    reply = only(await someone.send("/station 学院"))
    assert reply.text == say(someone, "station.found", words="学院")
    first = found_label(someone, "学院路第一联络站", "学院路街道")
    second = found_label(someone, "学院路第二联络站", "学院路街道")
    assert someone.buttons()[:3] == [first, second, say(someone, "nav.back")]
    await someone.tap(second)
    assert someone.last == say(
        someone,
        "station.chosen",
        station="学院路第二联络站",
        street="学院路街道",
        address="学院路 20 号",
    )
    assert await station_of(world, someone.id) == await station_id(world, "学院路第二联络站")


@pytest.mark.parametrize("code", LANGS)
async def test_a_street_name_finds_its_stations_and_back_shows_the_streets(
    world: World, person, code: str
) -> None:
    someone = await voter(world, person, code)
    await someone.send("/station   清河街道 ")
    assert someone.buttons()[:2] == [
        found_label(someone, "清河联络站", "清河街道"),
        say(someone, "nav.back"),
    ]
    await someone.tap(say(someone, "nav.back"))
    assert someone.last == say(someone, "station.choose_street")
    assert someone.buttons()[:3] == ["学院路街道", "海淀街道", "清河街道"]


@pytest.mark.parametrize("code", LANGS)
async def test_nothing_found_says_so_and_shows_the_streets(world: World, person, code: str) -> None:
    someone = await voter(world, person, code)
    reply = only(await someone.send("/station 不存在<b>"))
    none = say(someone, "station.none_found", words="不存在&lt;b&gt;")  # escaped: it was typed
    assert reply.text == none + "\n" + say(someone, "station.choose_street")
    assert someone.buttons()[:3] == ["学院路街道", "海淀街道", "清河街道"]
    await someone.tap("海淀街道")
    await someone.tap("海淀街道联络站")
    assert await station_of(world, someone.id) == await station_id(world, "海淀街道联络站")


async def test_wildcards_typed_are_taken_literally(world: World, person) -> None:
    await world.load_stations(ODD_NAMES)
    someone = await voter(world, person, "zh-hans")
    await someone.send("/station %")
    assert someone.buttons()[:2] == [found_label(someone, "百分%站", "符号街道"), "« 返回"]
    await someone.send("/station _")
    assert someone.buttons()[:2] == [found_label(someone, "下划_线站", "符号街道"), "« 返回"]
    await someone.send("/station \\")
    assert someone.buttons()[:2] == [found_label(someone, "反斜\\杠站", "符号街道"), "« 返回"]
    # '_' stands for itself, not for any one character: 学_ finds nothing
    reply = only(await someone.send("/station 学_"))
    assert reply.text.startswith(say(someone, "station.none_found", words="学_"))
    reply = only(await someone.send("/station 学%站"))
    assert reply.text.startswith(say(someone, "station.none_found", words="学%站"))


async def test_letters_match_in_either_case_and_full_width(world: World, person) -> None:
    await world.load_stations(ODD_NAMES)
    someone = await voter(world, person, "en")
    abc = found_label(someone, "ABC联络站", "符号街道")
    for typed in ("abc", "AbC", "ＡＢＣ", "ａｂｃ"):
        await someone.send(f"/station {typed}")
        assert someone.buttons()[0] == abc, typed


# --- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", LANGS)
async def test_thirty_stations_of_one_street_page_by_eight(world: World, person, code: str) -> None:
    await world.load_stations(LONG_STREET)
    someone = await voter(world, person, code)
    nxt, prev = say(someone, "nav.next"), say(someone, "nav.prev")
    await someone.send("/station")
    await someone.tap("长街街道")
    assert someone.last == say(someone, "station.choose_station", street="长街街道")
    assert someone.buttons()[:8] == [f"长街站{i:02d}" for i in range(1, 9)]
    assert say(someone, "nav.page", page=1, pages=4) in someone.buttons()
    for _ in range(3):
        await someone.tap(nxt)
    assert someone.buttons()[:6] == [f"长街站{i}" for i in range(25, 31)]
    assert nxt not in someone.buttons()  # the last page
    assert say(someone, "nav.page", page=4, pages=4) in someone.buttons()
    await someone.tap(prev)
    await someone.tap("长街站24")
    assert await station_of(world, someone.id) == await station_id(world, "长街站24")


@pytest.mark.parametrize("code", LANGS)
async def test_what_a_search_finds_pages_too(world: World, person, code: str) -> None:
    await world.load_stations(LONG_STREET)
    someone = await voter(world, person, code)
    nxt = say(someone, "nav.next")
    await someone.send("/station 长街站")
    labels = [found_label(someone, f"长街站{i:02d}", "长街街道") for i in range(1, 31)]
    assert someone.buttons()[:8] == labels[:8]
    await someone.tap(nxt)
    assert someone.last == say(someone, "station.found", words="长街站")
    assert someone.buttons()[:8] == labels[8:16]
    await someone.tap(nxt)
    await someone.tap(nxt)
    assert someone.buttons()[:6] == labels[24:]
    await someone.tap(labels[29])
    assert await station_of(world, someone.id) == await station_id(world, "长街站30")


async def test_a_long_search_pages_through_the_same_words(world: World, person) -> None:
    await world.load_stations(ODD_NAMES)
    someone = await voter(world, person, "zh-hans")
    reply = only(await someone.send("/station 一二三四五六七八九十甲乙丙丁戊"))
    carried = "一二三四五六七八九十甲乙丙"  # the 13 characters a search button holds
    assert reply.text == say(someone, "station.found", words=carried)
    await someone.tap(say(someone, "nav.next"))
    assert someone.buttons()[:2] == [
        found_label(someone, f"一二三四五六七八九十甲乙丙丁戊站{i:02d}", "长名街道")
        for i in (9, 10)
    ]


# --- forged and stale taps -------------------------------------------------------------------


def search_data(purpose: Picker, page: int, packed: str) -> str:
    return f"{StationSearch.prefix}:{purpose}:{page}:{packed}"


async def test_forged_search_pages_are_refused_with_an_alert(world: World, person) -> None:
    someone = await voter(world, person, "zh-hans")
    await someone.send("/station 学院")
    before = await world.snapshot()
    not_utf8 = base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=")
    forged = [
        search_data(Picker.STATION, 0, "!!"),
        search_data(Picker.STATION, 0, ""),
        search_data(Picker.STATION, 0, not_utf8),
        search_data(Picker.STATION, 0, "a"),  # no base64 at all
        search_data(Picker.STATION, -1, "5a2m"),
        search_data(Picker.STATION, 100000, "5a2m"),
        f"{StationSearch.prefix}:zz:0:5a2m",
        f"{StationSearch.prefix}:st:0",
    ]
    for data in forged:
        out = await someone.tap_data(data)
        assert [(o.kind, o.text) for o in out] == [("alert", say(someone, "error.stale_button"))], (
            data
        )
    # a well-made search page of staff's picker: refused for the role
    staffs = StationSearch.of_words(Picker.INVITE, 0, "学院").pack()
    out = await someone.tap_data(staffs)
    assert [(o.kind, o.text) for o in out] == [("alert", say(someone, "error.forbidden"))]
    assert await world.snapshot() == before


async def test_a_search_page_past_the_end_shows_the_last_and_a_stale_one_the_streets(
    world: World, person
) -> None:
    someone = await voter(world, person, "zh-hans")
    out = await someone.tap_data(StationSearch.of_words(Picker.STATION, 99, "学院").pack())
    assert [o.text for o in out] == [say(someone, "station.found", words="学院")]
    # the words of an older search that now finds nothing: the streets, not a crash
    out = await someone.tap_data(StationSearch.of_words(Picker.STATION, 0, "旧名字").pack())
    assert out[-1].text.startswith(say(someone, "station.choose_street"))
    assert world.unanswered_taps() == []


# --- inside /broadcast ------------------------------------------------------------------------


@pytest.fixture
async def admin(world: World, person) -> Person:
    staff = person(ADMIN, "管理员")
    await onboard(staff)
    return staff


async def compose(staff: Person, audience: str) -> None:
    await staff.send("/broadcast")
    await staff.send("周六议事会")
    await staff.tap(audience)


@pytest.mark.parametrize("code", LANGS)
async def test_broadcast_station_found_by_typing_its_name(world: World, person, code: str) -> None:
    staff = person(ADMIN, "管理员", code)
    await onboard(staff)
    haidian = person(6001)
    await onboard(haidian, street="海淀街道", station="海淀街道联络站")
    await compose(staff, say(staff, "audience.voters_station"))
    assert staff.last == (
        say(staff, "broadcast.pick_station") + "\n" + say(staff, "station.hint_type_a_name")
    )
    await staff.send("海淀")
    assert staff.last == say(staff, "station.found", words="海淀")
    await staff.tap(found_label(staff, "海淀街道联络站", "海淀街道"))
    assert "<b>1</b>" in staff.last
    await staff.tap(say(staff, "broadcast.confirm"))
    await world.outbox.drain()
    assert [o.text for o in world.api.outputs if o.chat_id == haidian.id][-1] == "周六议事会"


@pytest.mark.parametrize("code", LANGS)
async def test_broadcast_street_found_by_typing_and_nothing_found(
    world: World, person, code: str
) -> None:
    staff = person(ADMIN, "管理员", code)
    await onboard(staff)
    await onboard(person(6002), station="学院路第二联络站")
    await compose(staff, say(staff, "audience.voters_street"))
    reply = only(await staff.send("不存在"))
    assert reply.text == (
        say(staff, "station.none_found_streets", words="不存在")
        + "\n"
        + say(staff, "broadcast.pick_street")
    )
    assert staff.buttons()[:3] == ["学院路街道", "海淀街道", "清河街道"]
    states = await world.rows("SELECT name, state FROM conversation_states")
    assert states == [{"name": "broadcast", "state": '"audience"'}]  # the step stays
    await staff.send("学院")
    assert staff.last == say(staff, "station.found_streets", words="学院")
    assert staff.buttons()[:2] == ["学院路街道", say(staff, "nav.back")]
    await staff.tap("学院路街道")
    assert "<b>1</b>" in staff.last  # the voter of 学院路 (staff are no voters)


async def test_broadcast_search_resumes_after_a_restart(world: World, person, admin) -> None:
    await compose(admin, "某街镇的代表")
    await world.crash_and_restart()
    await admin.send("海淀")
    assert admin.last == say(admin, "station.found_streets", words="海淀")
    await admin.tap("海淀街道")
    assert admin.saw(say(admin, "broadcast.no_recipients")) or "<b>0</b>" in admin.last


async def test_broadcast_text_typed_without_a_picker_open_asks_for_the_buttons(
    world: World, person, admin
) -> None:
    await admin.send("/broadcast")
    await admin.send("周六议事会")
    reply = only(await admin.send("海淀"))
    assert reply.text == say(admin, "broadcast.bad_button")
    # and after changing from a picker to an audience without one, again
    await admin.tap("某联络站的选民")
    await admin.send("学院")
    await admin.tap(found_label(admin, "学院路第一联络站", "学院路街道"))
    await admin.tap("更换对象")
    reply = only(await admin.send("海淀"))
    assert reply.text == say(admin, "broadcast.bad_button")


async def test_a_picker_tap_of_another_broadcast_audience_is_answered(
    world: World, person, admin
) -> None:
    await compose(admin, "某街镇的选民")
    await admin.send("学院")
    search_page = StationSearch.of_words(Picker.BROADCAST_STATION, 0, "海淀").pack()
    out = await admin.tap_data(search_page)  # a page of the station picker: still this step
    assert out[-1].text == say(admin, "station.found", words="海淀")
    await admin.send("/cancel")
    out = await admin.tap_data(search_page)  # the conversation is over: stale
    assert [(o.kind, o.text) for o in out] == [("alert", say(admin, "error.stale_button"))]
    assert world.unanswered_taps() == []
