"""The location key (a reply keyboard with a request_location key and a skip key) wherever a
location is asked: /opinion's location step, /station, the first-time prompt after consent
and the "no station yet" prompt of /opinion. It comes on a message of its own that gives the
📎 route for Telegram Desktop, and is gone once the location is shared, skip is pressed (or
typed), a station is picked from the list or by name, or /opinion is cancelled."""

from __future__ import annotations

import pytest

from bot.runtime.buttons.opinion import OpinionSkipLocation
from tests.support.opinions import TEXT, T, draft_of, preview, state_of, voter_with_station
from tests.support.people import Person
from tests.support.scenarios import agree, say
from tests.support.world import World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])

# What the voter reads and presses, written out so a wrong language or a missing catalog fails.
L: dict[str, dict[str, str]] = {
    "zh-hans": {
        "location_key": "📍 发送我的位置",
        "skip_key": "跳过",
        "typed_skip": " 跳过 ",
        "other_skip": "Skip",
        "station_hint": (
            "📍 也可以点下方的“发送我的位置”，查看离您最近的联络站。"
            "电脑版 Telegram 没有这个按钮，请用 📎 → 位置 发送。"
        ),
        "first_time": "请选择您所在的联络站。先选择街镇：",
        "choose_street": "请选择街镇：",
        "received": "📍 已收到您的位置。",
        "nearest": "离您最近的联络站：",
        "nearest_first": "学院路第一联络站 · 0 公里",
        "skipped": "好的。需要时可以随时发送 /station 选择联络站。",
        "chosen_first": "您的联络站已设为：<b>学院路第一联络站</b>（学院路街道）",
        "chosen_haidian": "您的联络站已设为：<b>海淀街道联络站</b>（海淀街道）",
        "found_second": "学院路第二联络站（学院路街道）",
        "chosen_second": "您的联络站已设为：<b>学院路第二联络站</b>（学院路街道）",
        "nothing": "当前没有进行中的操作。",
        "stray": "我没有理解这条消息。发送 /opinion 提交意见建议，或发送 /help 查看所有命令。",
    },
    "en": {
        "location_key": "📍 Send my location",
        "skip_key": "Skip",
        "typed_skip": "skip",
        "other_skip": "跳过",
        "station_hint": (
            "📍 Or tap “Send my location” below to see the stations nearest to you."
            " Telegram Desktop has no such button: use 📎 → Location there."
        ),
        "first_time": "Please choose your liaison station. First pick your sub-district or town:",
        "choose_street": "Pick a sub-district or town:",
        "received": "📍 Location received.",
        "nearest": "The liaison stations nearest to you:",
        "nearest_first": "学院路第一联络站 · 0 km",
        "skipped": "All right. Send /station whenever you want to choose a station.",
        "chosen_first": "Your liaison station is now <b>学院路第一联络站</b> (学院路街道)",
        "chosen_haidian": "Your liaison station is now <b>海淀街道联络站</b> (海淀街道)",
        "found_second": "学院路第二联络站 (学院路街道)",
        "chosen_second": "Your liaison station is now <b>学院路第二联络站</b> (学院路街道)",
        "nothing": "There is nothing to cancel.",
        "stray": (
            "I did not understand that. Send /opinion to send an opinion, or /help for all"
            " commands."
        ),
    },
}


def location_keys(voter: Person) -> list[dict[str, object]]:
    """The keys under the voter's input field, as Telegram holds them."""
    return voter.world.api.reply_keyboard(voter.id)


def assert_location_key(voter: Person) -> None:
    """The location key and the skip key are shown, the first one asking for the location."""
    k = L[voter.language_code]
    assert voter.keyboard() == [k["location_key"], k["skip_key"]]
    first, skip = location_keys(voter)
    assert first.get("request_location") is True
    assert not skip.get("request_location")
    markup = voter.world.api.reply_keyboards[voter.id]
    assert markup.get("one_time_keyboard") and markup.get("resize_keyboard")


async def at_location_step(world: World, user_id: int, lang: str) -> Person:
    """A voter at /opinion's location step (no photos)."""
    t = T[lang]
    voter = await voter_with_station(world, user_id, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    await voter.send(TEXT[lang])
    asked = await voter.tap(t["skip"])  # no photos
    # the question (the photos' message, edited) and, on its own, the location key
    assert [o.kind for o in asked] == ["edit", "message"]
    assert asked[0].text == t["ask_location"]
    assert asked[1].text == t["location_key_hint"] and "📎" in asked[1].text
    assert await state_of(world, user_id) == "location"
    assert_location_key(voter)
    return voter


# --- /opinion's location step ---------------------------------------------------------------


@LANGS
async def test_pressing_the_location_key_shares_the_location_and_the_key_goes(
    world: World, lang: str
) -> None:
    t = T[lang]
    voter = await at_location_step(world, 4101, lang)
    out = await voter.press(L[lang]["location_key"], location=(39.991, 116.352))
    assert out[0].text == t["location_received"]
    assert out[0].markup == {"remove_keyboard": True}
    assert t["ask_name"] in out[1].text and out[1].kind == "message"
    assert voter.keyboard() == []
    draft = await draft_of(world, 4101)
    assert draft is not None
    assert (draft["latitude"], draft["longitude"]) == (39.991, 116.352)
    assert await state_of(world, 4101) == "name"
    await voter.tap(t["anonymous"])
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 0, True, False)


@LANGS
async def test_the_skip_key_skips_and_the_key_goes(world: World, lang: str) -> None:
    t = T[lang]
    voter = await at_location_step(world, 4102, lang)
    out = await voter.press(L[lang]["skip_key"])
    assert [o.text for o in out[:1]] == [t["location_skipped"]]
    assert t["ask_name"] in voter.last
    assert voter.keyboard() == []
    draft = await draft_of(world, 4102)
    assert draft is not None
    assert draft["location_skipped"] is True and draft["latitude"] is None
    assert await state_of(world, 4102) == "name"


@LANGS
async def test_skip_typed_in_the_voters_language_skips_too(world: World, lang: str) -> None:
    """Typed rather than pressed, spaces and case aside; the other language's word is not a
    location and the step stays, with its key."""
    t = T[lang]
    voter = await at_location_step(world, 4103, lang)
    reply = await voter.send(L[lang]["other_skip"])
    assert [o.text for o in reply] == [t["bad_location"]]
    assert await state_of(world, 4103) == "location"
    assert_location_key(voter)
    await voter.send(L[lang]["typed_skip"])
    assert t["ask_name"] in voter.last
    assert voter.keyboard() == []
    assert await state_of(world, 4103) == "name"


@LANGS
async def test_the_inline_skip_takes_the_key_away_too(world: World, lang: str) -> None:
    """The question's own Skip button works as before; its message keeps its text and loses
    its buttons, and the answers come below the key's message."""
    t = T[lang]
    voter = await at_location_step(world, 4104, lang)
    question = voter.seen[-2]
    out = await voter.tap(t["skip"])
    assert [o.kind for o in out] == ["edit", "message", "message"]
    assert out[0].message_id == question.message_id and not out[0].buttons()
    assert out[1].text == t["location_skipped"]
    assert t["ask_name"] in out[2].text
    assert voter.keyboard() == []
    assert (await draft_of(world, 4104) or {})["location_skipped"] is True


@LANGS
async def test_editing_the_location_from_the_preview_shows_the_key_again(
    world: World, lang: str
) -> None:
    t = T[lang]
    voter = await at_location_step(world, 4105, lang)
    await voter.press(L[lang]["skip_key"])
    await voter.tap(t["anonymous"])
    await voter.tap(t["edit"])
    await voter.tap(t["edit_location"])
    assert_location_key(voter)
    out = await voter.press(L[lang]["location_key"], location=(39.98, 116.31))
    assert out[0].text == t["location_received"]
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 0, True, False)
    assert voter.keyboard() == []
    assert await state_of(world, 4105) == "preview"


@LANGS
async def test_cancel_at_the_location_step_takes_the_key_away(world: World, lang: str) -> None:
    t = T[lang]
    voter = await at_location_step(world, 4106, lang)
    assert [o.text for o in await voter.send("/cancel")] == [t["cancelled"]]
    assert voter.keyboard() == []
    assert await draft_of(world, 4106) is None and await state_of(world, 4106) is None

    voter = await at_location_step(world, 4107, lang)
    out = await voter.tap(t["cancel"])
    assert out[-1].text == t["cancelled"] and out[-1].kind == "message"
    assert voter.keyboard() == []
    assert await state_of(world, 4107) is None


@LANGS
async def test_cancel_at_any_step_takes_a_leftover_key_away(world: World, lang: str) -> None:
    """A key /station left is still shown when /opinion starts; /cancel, or the Cancel
    button, at a step that asks no location takes it away too."""
    t = T[lang]
    voter = await voter_with_station(world, 4117, lang)
    await voter.send("/station")
    await voter.send("/opinion")
    assert_location_key(voter)
    out = await voter.send("/cancel")  # at the category step
    assert [(o.text, o.markup) for o in out] == [(t["cancelled"], {"remove_keyboard": True})]
    assert voter.keyboard() == []
    assert await state_of(world, 4117) is None

    await voter.send("/station")
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    assert_location_key(voter)
    settled, cancelled = await voter.tap(t["cancel"])  # at the text step
    assert settled.kind == "edit" and settled.buttons() == []
    assert (cancelled.kind, cancelled.text) == ("message", t["cancelled"])
    assert voter.keyboard() == []
    assert await draft_of(world, 4117) is None and await state_of(world, 4117) is None


@LANGS
async def test_the_expiry_notice_takes_the_key_away(world: World, lang: str) -> None:
    """/opinion left at the location step for longer than its timeout: the notice the voter
    gets on their next message takes the key away with the draft."""
    voter = await at_location_step(world, 4118, lang)
    world.clock.advance(hours=25)
    out = await voter.send("hello")
    assert [o.text for o in out] == [say(voter, "conversation.expired", hours=24)]
    assert out[0].markup == {"remove_keyboard": True}
    assert voter.keyboard() == []
    assert await draft_of(world, 4118) is None and await state_of(world, 4118) is None


@LANGS
async def test_a_forged_skip_at_another_step_is_stale_and_shows_no_key(
    world: World, lang: str
) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 4108, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    out = await voter.tap_data(OpinionSkipLocation().pack())
    assert [(o.kind, o.text) for o in out] == [("alert", t["stale"])]
    assert await state_of(world, 4108) == "text"
    assert voter.keyboard() == []


# --- choosing a station ---------------------------------------------------------------------


@LANGS
async def test_first_time_prompt_offers_the_key_and_the_nearest_station_is_picked(
    world: World, person, lang: str
) -> None:
    k = L[lang]
    voter: Person = person(4111, "钱七", lang)
    await agree(voter)
    picker, key = voter.seen[-2:]
    assert picker.text.startswith(k["first_time"]) and "学院路街道" in picker.buttons()
    assert key.text == k["station_hint"] and "📎" in key.text
    assert_location_key(voter)

    received, nearest = await voter.press(k["location_key"], location=(39.99, 116.35))
    assert (received.text, received.markup) == (k["received"], {"remove_keyboard": True})
    assert nearest.text == k["nearest"] and nearest.buttons()[0] == k["nearest_first"]
    assert voter.keyboard() == []
    await voter.tap(k["nearest_first"])
    assert voter.last.startswith(k["chosen_first"])
    assert (await world.user_row(4111))["station_id"] == await world.station_id("学院路第一联络站")


@LANGS
async def test_a_station_picked_from_the_list_takes_the_key_away(
    world: World, person, lang: str
) -> None:
    k = L[lang]
    voter: Person = person(4112, "孙八", lang)
    await agree(voter)
    assert_location_key(voter)
    await voter.tap("海淀街道")
    out = await voter.tap("海淀街道联络站")
    # the picker keeps its text and loses its buttons; the choice is a new message
    assert [o.kind for o in out] == ["edit", "message"]
    assert not out[0].buttons()
    assert out[1].text.startswith(k["chosen_haidian"])
    assert out[1].markup == {"remove_keyboard": True}
    assert voter.keyboard() == []
    assert (await world.user_row(4112))["station_id"] == await world.station_id("海淀街道联络站")


@LANGS
async def test_station_command_offers_the_key_and_a_name_search_takes_it_away(
    world: World, lang: str
) -> None:
    k = L[lang]
    voter = await voter_with_station(world, 4113, lang)
    assert voter.keyboard() == []  # gone with the first choice
    picker, key = await voter.send("/station")
    assert picker.text.startswith(k["choose_street"])
    assert key.text == k["station_hint"]
    assert_location_key(voter)
    await voter.send("/station 学院")
    assert_location_key(voter)  # a search is no answer yet
    await voter.tap(k["found_second"])
    assert voter.last.startswith(k["chosen_second"])
    assert voter.keyboard() == []


@LANGS
async def test_the_skip_key_leaves_the_station_as_it_was(world: World, lang: str) -> None:
    k = L[lang]
    voter = await voter_with_station(world, 4114, lang)
    before = (await world.user_row(4114))["station_id"]
    await voter.send("/station")
    out = await voter.press(k["skip_key"])
    assert [(o.text, o.markup) for o in out] == [(k["skipped"], {"remove_keyboard": True})]
    assert voter.keyboard() == []
    assert (await world.user_row(4114))["station_id"] == before

    # typed, in the voter's language: the same; the other language's word is a stray message
    await voter.send("/station")
    assert [o.text for o in await voter.send(k["other_skip"])] == [k["stray"]]
    assert_location_key(voter)
    assert [o.text for o in await voter.send(k["typed_skip"])] == [k["skipped"]]
    assert voter.keyboard() == []


@LANGS
async def test_cancel_after_station_takes_the_key_away(world: World, lang: str) -> None:
    k = L[lang]
    voter = await voter_with_station(world, 4116, lang)
    await voter.send("/station")
    assert_location_key(voter)
    out = await voter.send("/cancel")  # nothing under way: said so, and the key goes
    assert [(o.text, o.markup) for o in out] == [(k["nothing"], {"remove_keyboard": True})]
    assert voter.keyboard() == []


@LANGS
async def test_opinion_without_a_station_offers_the_key(world: World, person, lang: str) -> None:
    t, k = T[lang], L[lang]
    voter: Person = person(4115, "赵六", lang)
    await agree(voter)
    await voter.press(k["skip_key"])
    assert voter.keyboard() == []
    out = await voter.send("/opinion")
    assert out[0].text == t["no_station"]
    assert out[-1].text == k["station_hint"]
    assert_location_key(voter)
    await voter.press(k["location_key"], location=(39.99, 116.35))
    await voter.tap(k["nearest_first"])
    assert voter.keyboard() == []
    assert t["ask_category"] == (await voter.send("/opinion"))[-1].text
