"""Addressing a deputy by name: a voter who opened a deputy's code (代表码) is asked, after the
name step, whether the opinion goes to that deputy or to the whole station; the preview says
to whom, the Edit menu offers to change it, and the opinion keeps `addressed_to` only while
that deputy still serves the voter's station. Anonymity is the name step's alone. Without a
deputy to address nothing changes: no step, no line in the preview."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime.buttons.opinion import OpinionAddress
from tests.support.opinions import TEXT, T, draft_of, preview, state_of, voter_with_station
from tests.support.people import Person
from tests.support.scenarios import INVITE_LINK, invite_deputy
from tests.support.world import World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
DEPUTY = 4301  # 王芳, a deputy of 学院路第一联络站

# What the voter reads and taps, written out so a wrong language or a missing catalog fails.
A: dict[str, dict[str, str]] = {
    "zh-hans": {
        "ask": "这条意见写给王芳代表，还是本站全体代表？\n是否显示您的名字，仍按上一步的选择。",
        "to_deputy": "写给王芳代表",
        "to_station": "写给本站全体代表",
        "line_deputy": "\n写给：王芳代表",
        "line_station": "\n写给：本站全体代表",
        "edit_address": "写给谁",
        "bad": "请点击上方的按钮，选择写给谁。",
    },
    "en": {
        "ask": (
            "Write this to deputy 王芳, or to all the deputies of your station?\n"
            "Your name is shown or hidden as you chose in the previous step."
        ),
        "to_deputy": "To deputy 王芳",
        "to_station": "To all the station's deputies",
        "line_deputy": "\nTo: Deputy 王芳",
        "line_station": "\nTo: All the station's deputies",
        "edit_address": "Addressee",
        "bad": "Please tap a button above to choose whom to write to.",
    },
}


async def opens_code(world: World, voter: Person, deputy: Person) -> None:
    """The voter opens the deputy's code (代表码), which the deputy got with /mycode."""
    await deputy.send("/mycode")
    [row] = await world.rows("SELECT code FROM deputies WHERE user_id = ?", (deputy.id,))
    await voter.send(f"/start dep_{row['code']}")


async def met(world: World, voter: Person, deputy_id: int) -> None:
    """The voter met a deputy who has since moved to another station: a state the flow
    reaches only through time (a deputy invited again elsewhere), seeded here."""
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE users SET met_deputy_id = ? WHERE telegram_id = ?", (deputy_id, voter.id)
        )


async def voter_who_met_the_deputy(
    world: World, admin: Person, person: Callable[..., Person], user_id: int, lang: str
) -> Person:
    """王芳 is a deputy of 学院路第一联络站; a voter there opened her code."""
    deputy = await invite_deputy(world, admin, person, DEPUTY, "王芳")
    voter = await voter_with_station(world, user_id, lang)
    await opens_code(world, voter, deputy)
    return voter


async def to_name_step(voter: Person) -> None:
    """/opinion up to the name step: traffic, the usual text, no photos, no location."""
    t = T[voter.language_code]
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    await voter.send(TEXT[voter.language_code])
    await voter.tap(t["skip"])
    await voter.tap(t["skip"])


def base_preview(lang: str) -> str:
    return preview(lang, T[lang]["traffic"], TEXT[lang], 0, False, False)


@LANGS
async def test_the_deputy_met_is_offered_chosen_shown_and_kept(
    world: World, admin: Person, person: Callable[..., Person], lang: str
) -> None:
    t, a = T[lang], A[lang]
    voter = await voter_who_met_the_deputy(world, admin, person, 4311, lang)
    await to_name_step(voter)
    await voter.tap(t["anonymous"])
    assert voter.last == a["ask"]
    assert voter.buttons()[:3] == [a["to_deputy"], a["to_station"], t["cancel"]]
    assert await state_of(world, 4311) == "address"
    await voter.tap(a["to_deputy"])
    assert voter.last == base_preview(lang) + a["line_deputy"]
    assert (await draft_of(world, 4311) or {})["addressed_to"] == DEPUTY
    await voter.tap(t["send"])
    (row,) = await world.rows("SELECT addressed_to, show_name, author_id FROM opinions")
    # addressed by name, and still anonymous: the name step alone decides that
    assert row == {"addressed_to": DEPUTY, "show_name": 0, "author_id": 4311}


@LANGS
async def test_the_whole_station_may_be_chosen_instead(
    world: World, admin: Person, person: Callable[..., Person], lang: str
) -> None:
    t, a = T[lang], A[lang]
    voter = await voter_who_met_the_deputy(world, admin, person, 4312, lang)
    await to_name_step(voter)
    await voter.tap(t["show_name"])
    await voter.tap(a["to_station"])
    assert (
        voter.last == preview(lang, t["traffic"], TEXT[lang], 0, False, True) + (a["line_station"])
    )
    await voter.tap(t["send"])
    (row,) = await world.rows("SELECT addressed_to, show_name FROM opinions")
    assert row == {"addressed_to": None, "show_name": 1}


@LANGS
async def test_without_a_deputy_met_there_is_no_such_step(
    world: World, admin: Person, person: Callable[..., Person], lang: str
) -> None:
    t = T[lang]
    await invite_deputy(world, admin, person, DEPUTY, "王芳")
    voter = await voter_with_station(world, 4313, lang)
    await to_name_step(voter)
    await voter.tap(t["anonymous"])
    assert voter.last == base_preview(lang)  # no "to whom" line
    assert await state_of(world, 4313) == "preview"
    await voter.tap(t["edit"])
    assert A[lang]["edit_address"] not in voter.buttons()
    await voter.tap(t["back_to_preview"])
    await voter.tap(t["send"])
    (row,) = await world.rows("SELECT addressed_to FROM opinions")
    assert row == {"addressed_to": None}


@LANGS
async def test_a_deputy_of_another_station_is_not_offered(
    world: World, admin: Person, person: Callable[..., Person], lang: str
) -> None:
    t = T[lang]
    await invite_deputy(world, admin, person, DEPUTY, "王芳", "海淀街道", "海淀街道联络站")
    voter = await voter_with_station(world, 4314, lang)  # at 学院路第一联络站
    await met(world, voter, DEPUTY)
    await to_name_step(voter)
    await voter.tap(t["anonymous"])
    assert voter.last == base_preview(lang)
    assert await state_of(world, 4314) == "preview"


@LANGS
async def test_a_deputy_who_moved_before_sending_leaves_it_to_the_station(
    world: World, admin: Person, person: Callable[..., Person], lang: str
) -> None:
    t, a = T[lang], A[lang]
    voter = await voter_who_met_the_deputy(world, admin, person, 4315, lang)
    await to_name_step(voter)
    await voter.tap(t["anonymous"])
    await voter.tap(a["to_deputy"])
    assert voter.last.endswith(a["line_deputy"])

    # 王芳 accepts an invitation to 海淀街道联络站: she serves there now
    await admin.send("/invite 王芳")
    await admin.tap("海淀街道")
    await admin.tap("海淀街道联络站")
    link = INVITE_LINK.search(admin.last)
    assert link, admin.last
    deputy = person(DEPUTY, "王芳")
    await deputy.send(f"/start inv_{link.group(1)}")
    haidian = await world.station_id("海淀街道联络站")
    assert (await world.rows("SELECT station_id FROM deputies WHERE user_id = ?", (DEPUTY,)))[0][
        "station_id"
    ] == haidian

    out = await voter.tap(t["send"])  # no error: the opinion goes to the station
    assert t["sent"].format(no="HD-2026-000001") in out[-1].text
    (row,) = await world.rows("SELECT addressed_to, station_id FROM opinions")
    assert row == {"addressed_to": None, "station_id": await world.station_id("学院路第一联络站")}


@LANGS
async def test_whom_to_address_is_changed_from_the_edit_menu(
    world: World, admin: Person, person: Callable[..., Person], lang: str
) -> None:
    t, a = T[lang], A[lang]
    voter = await voter_who_met_the_deputy(world, admin, person, 4316, lang)
    await to_name_step(voter)
    await voter.tap(t["anonymous"])
    await voter.tap(a["to_station"])
    await voter.tap(t["edit"])
    assert a["edit_address"] in voter.buttons()
    await voter.tap(a["edit_address"])
    assert voter.last == a["ask"]
    await voter.tap(a["to_deputy"])
    assert voter.last == base_preview(lang) + a["line_deputy"]
    assert await state_of(world, 4316) == "preview"

    # editing the name goes straight back to the preview, the addressee kept
    await voter.tap(t["edit"])
    await voter.tap(t["edit_name"])
    await voter.tap(t["show_name"])
    assert (
        voter.last == preview(lang, t["traffic"], TEXT[lang], 0, False, True) + (a["line_deputy"])
    )
    await voter.tap(t["send"])
    (row,) = await world.rows("SELECT addressed_to, show_name FROM opinions")
    assert row == {"addressed_to": DEPUTY, "show_name": 1}


@LANGS
async def test_bad_input_stale_taps_and_a_restart_at_the_address_step(
    world: World, admin: Person, person: Callable[..., Person], lang: str
) -> None:
    t, a = T[lang], A[lang]
    voter = await voter_who_met_the_deputy(world, admin, person, 4317, lang)
    await to_name_step(voter)
    # the address button before its step is stale; nothing changes
    out = await voter.tap_data(OpinionAddress(deputy=True).pack())
    assert [(o.kind, o.text) for o in out] == [("alert", t["stale"])]
    assert await state_of(world, 4317) == "name"
    await voter.tap(t["anonymous"])

    assert [o.text for o in await voter.send("王芳")] == [a["bad"]]
    assert await state_of(world, 4317) == "address"
    await world.crash_and_restart()
    await voter.tap(a["to_deputy"])
    assert voter.last == base_preview(lang) + a["line_deputy"]
    out = await voter.tap_data(OpinionAddress(deputy=False).pack())
    assert [(o.kind, o.text) for o in out] == [("alert", t["stale"])]
    assert (await draft_of(world, 4317) or {})["addressed_to"] == DEPUTY
