"""A voter's forged taps on /my and on the station picker (issue 7, failure 1): numbers too big
for SQLite, negative, zero or not numbers, and data over Telegram's 64 bytes, in the shapes
of this version and of the last one. Each gets the stale-button alert, which also stops the
spinner; never the apology of a crashed handler; and nothing in the database changes."""

from __future__ import annotations

import pytest

from bot.demo.botapi import Output
from bot.runtime.buttons import Picker, StationPicked, StreetPage, StreetStations
from bot.runtime.buttons.base import SQLITE_MAX_INT
from bot.runtime.buttons.opinion import MyOpinion, MyPage
from tests.support.opinions import LANGS, send_quick_opinion, voter_with_station
from tests.support.people import Person
from tests.support.scenarios import say
from tests.support.world import World

HUGE = "999999999999999999999999999999"  # 30 digits
JUST_TOO_BIG = str(SQLITE_MAX_INT + 1)  # 2^63: the first id SQLite cannot bind
OVERLONG_ID = "1" * 70  # alone makes the data longer than 64 bytes

MY_FORGED = (
    # the shapes the tester sent to the last version
    f"my:o:{HUGE}:0",
    "my:o:-1:0",
    f"my:p:{HUGE}",
    # this version's buttons with fields no button carries
    f"myo:{HUGE}:0",
    f"myo:{JUST_TOO_BIG}:0",
    "myo:-1:0",
    "myo:0:0",
    "myo:abc:0",
    "myo:1e3:0",
    f"myo:1:{HUGE}",
    "myo:1:-1",
    f"myp:{HUGE}",
    "myp:-1",
    "myp:x",
    # over 64 bytes
    f"myo:{OVERLONG_ID}:0",
    MyOpinion(opinion=1, page=0).pack() + ":" + "0" * 64,
)

STATION_FORGED = (
    # the shapes the tester sent to the last version
    f"st:p:{HUGE}",
    f"st:s:{HUGE}:0",
    f"st:z:{HUGE}",
    # this version's picker with fields no button carries
    f"pp:st:{HUGE}",
    f"pp:st:{JUST_TOO_BIG}",
    "pp:st:-1",
    "pp:st:0",
    "pp:st:abc",
    "pp:xx:1",
    f"ps:st:{HUGE}:0",
    f"ps:st:1:{HUGE}",
    "ps:st:-5:0",
    f"pz:st:{HUGE}",
    "pz:st:-1",
    # over 64 bytes
    f"pp:st:{OVERLONG_ID}",
    StreetPage(purpose=Picker.STATION, page=0).pack() + "0" * 64,
)


def assert_alert(voter: Person, new: list[Output], key: str, data: str) -> None:
    """Exactly one answer: the alert `key`, nothing else (no apology message)."""
    expected = say(voter, key)
    assert [(o.kind, o.text, o.show_alert) for o in new] == [("alert", expected, True)], data


def assert_no_apology(world: World, voter: Person) -> None:
    apology = say(voter, "error.internal")
    assert not [o for o in world.api.outputs if o.chat_id == voter.id and o.text == apology]


@LANGS
async def test_forged_my_buttons_get_the_stale_alert(world: World, lang: str) -> None:
    voter = await voter_with_station(world, 7001, lang)
    await send_quick_opinion(voter)
    await voter.send("/my")
    before = await world.snapshot()
    for data in MY_FORGED:
        assert_alert(voter, await voter.tap_data(data), "error.stale_button", data)
    assert_no_apology(world, voter)
    assert await world.snapshot() == before


@LANGS
async def test_the_largest_ids_a_button_may_carry_reach_the_database_safely(
    world: World, lang: str
) -> None:
    voter = await voter_with_station(world, 7002, lang)
    await send_quick_opinion(voter)
    await voter.send("/my")
    before = await world.snapshot()
    largest = MyOpinion(opinion=SQLITE_MAX_INT, page=0).pack()
    assert_alert(voter, await voter.tap_data(largest), "error.not_your_record", largest)
    for button in (
        StationPicked(purpose=Picker.STATION, station=SQLITE_MAX_INT),
        StreetStations(purpose=Picker.STATION, street=SQLITE_MAX_INT, page=0),
    ):
        data = button.pack()
        assert_alert(voter, await voter.tap_data(data), "station.unknown", data)
    # the largest page is a page past the end: the list stays on its last page, no alert
    new = await voter.tap_data(MyPage(page=99_999).pack())
    assert [o for o in new if o.kind == "alert"] == []
    assert world.api.chat_messages(7002)[-1]["text"] == say(voter, "my.title")
    assert_no_apology(world, voter)
    assert await world.snapshot() == before


@LANGS
async def test_forged_station_picks_get_the_stale_alert(world: World, lang: str) -> None:
    voter = await voter_with_station(world, 7003, lang)
    await voter.send("/station")
    before = await world.snapshot()
    for data in STATION_FORGED:
        assert_alert(voter, await voter.tap_data(data), "error.stale_button", data)
    assert_no_apology(world, voter)
    assert await world.snapshot() == before
    # the picker itself still works, and changes the station
    await voter.tap("海淀街道")
    await voter.tap("海淀街道联络站")
    rows = await world.rows(
        "SELECT s.name FROM users u JOIN stations s ON s.id = u.station_id WHERE u.telegram_id = ?",
        (7003,),
    )
    assert rows == [{"name": "海淀街道联络站"}]


@pytest.mark.parametrize("data", [f"my:o:{HUGE}:0", f"st:p:{HUGE}"])
async def test_the_taps_the_tester_sent_are_answered(world: World, data: str) -> None:
    """The spinner stops: every forged tap gets exactly one answerCallbackQuery."""
    voter = await voter_with_station(world, 7004)
    await send_quick_opinion(voter)
    answered = len(world.api.calls_to("answerCallbackQuery"))
    await voter.tap_data(data)
    assert len(world.api.calls_to("answerCallbackQuery")) == answered + 1
    assert_no_apology(world, voter)
