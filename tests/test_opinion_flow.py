"""/opinion end to end: category → text → photos → location → name → preview → send, editing
each field from the preview, and cancelling at every step, in both languages.

The vocabulary (`T`, `preview`) and the steps are in tests/support/opinions.py, shared with
the other opinion test files."""

from __future__ import annotations

import json
import re

from bot.runtime.buttons.opinion import OpinionSend
from tests.support.opinions import (
    EMPTY_DRAFT,
    LANGS,
    TEXT,
    T,
    draft_of,
    preview,
    send_data,
    send_quick_opinion,
    state_of,
    to_preview,
    voter_with_station,
)
from tests.support.people import Person
from tests.support.world import World

# --- the full flow -----------------------------------------------------------------------


@LANGS
async def test_full_flow_with_photos_location_and_name(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2001, lang, "王五")
    station = await world.station_id("学院路第一联络站")

    await voter.send("/opinion")
    assert voter.last == t["ask_category"]
    assert t["traffic"] in voter.buttons() and t["cancel"] in voter.buttons()
    await voter.tap(t["environment"])
    assert voter.last == t["ask_text"]

    text = {
        "zh-hans": "河边<b>&路灯</b>坏了，晚上太黑，请尽快修理。",
        "en": "Street lamp <b>& broken</b>: the river path is dark at night.",
    }[lang]
    await voter.send(text)
    assert voter.last == t["ask_photos"]
    assert voter.buttons()[0] == t["skip"]
    for n, file_id in enumerate(("river-1", "river-2", "river-3"), start=1):
        await voter.send_photo(file_id)
        assert voter.last == t["photo_received"].format(n=n)
        assert voter.buttons()[0] == t["done"]
    await voter.tap(t["done"])
    assert [o.text for o in voter.seen[-2:]] == [t["ask_location"], t["location_key_hint"]]
    await voter.send_location(39.991, 116.352)
    assert voter.seen[-2].text == t["location_received"] and t["ask_name"] in voter.last
    assert voter.keyboard() == []
    await voter.tap(t["show_name"])

    assert "&lt;b&gt;&amp;" in voter.last
    assert "<b>&" not in voter.last
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert voter.last == preview(lang, t["environment"], escaped, 3, True, True)

    await voter.tap(t["send"])
    assert t["sent"].format(no="HD-2026-000001") in voter.last

    rows = await world.rows("SELECT * FROM opinions")
    assert len(rows) == 1
    row = rows[0]
    assert row["tracking_no"] == "HD-2026-000001"
    assert row["author_id"] == 2001
    assert row["station_id"] == station
    assert row["category"] == "environment"
    assert row["text"] == text  # stored as written, escaped only when shown
    assert json.loads(row["photos"]) == ["river-1", "river-2", "river-3"]
    assert (row["latitude"], row["longitude"]) == (39.991, 116.352)
    assert row["show_name"] == 1
    assert row["status"] == "submitted"
    events = await world.rows("SELECT * FROM opinion_events")
    assert [(e["opinion_id"], e["kind"], e["actor_id"]) for e in events] == [
        (row["id"], "submitted", 2001)
    ]
    assert await world.rows("SELECT * FROM opinion_drafts") == []
    assert await world.rows("SELECT * FROM conversation_states") == []

    # The next opinion gets the next number; this one is anonymous, without photos or place.
    answer = await send_quick_opinion(voter)
    assert t["sent"].format(no="HD-2026-000002") in answer
    second = (await world.rows("SELECT * FROM opinions WHERE id = 2"))[0]
    assert second["tracking_no"] == "HD-2026-000002"
    assert second["category"] == "traffic"
    assert second["text"] == TEXT[lang]
    assert json.loads(second["photos"]) == []
    assert second["latitude"] is None and second["longitude"] is None
    assert second["show_name"] == 0
    assert await world.rows("SELECT * FROM opinion_drafts") == []


@LANGS
async def test_each_step_is_written_to_the_draft(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2002, lang)
    await voter.send("/opinion")
    draft = await draft_of(world, 2002)
    token = draft.pop("token")  # names this draft; the Send button carries it
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", token)
    assert draft == EMPTY_DRAFT
    assert await state_of(world, 2002) == "category"
    await voter.tap(t["elderly"])
    assert (await draft_of(world, 2002))["category"] == "elderly"
    assert await state_of(world, 2002) == "text"
    await voter.send("  " + TEXT[lang] + "  \n")
    assert (await draft_of(world, 2002))["text"] == TEXT[lang]  # stripped
    assert await state_of(world, 2002) == "photos"
    await voter.send_photo("p")
    assert (await draft_of(world, 2002))["photos"] == ["p"]
    await voter.tap(t["done"])
    assert await state_of(world, 2002) == "location"
    await voter.tap(t["skip"])
    draft = await draft_of(world, 2002)
    assert draft["location_skipped"] is True and draft["latitude"] is None
    assert await state_of(world, 2002) == "name"
    await voter.tap(t["anonymous"])
    assert (await draft_of(world, 2002))["show_name"] is False
    assert await state_of(world, 2002) == "preview"
    assert voter.last == preview(lang, t["elderly"], TEXT[lang], 1, False, False)
    assert (await draft_of(world, 2002))["token"] == token  # the same draft all along
    assert send_data(world, voter) == OpinionSend(draft=token).pack()


@LANGS
async def test_voter_without_station_is_asked_to_choose_one(world: World, lang: str) -> None:
    t = T[lang]
    voter = Person(world, 2003, "赵六", lang)
    await voter.send("/start")
    await voter.tap(t["agree"])
    await voter.send("/opinion")
    assert t["no_station"] in [o.text for o in voter.seen[-3:]]
    assert "学院路街道" in voter.buttons()
    assert await draft_of(world, 2003) is None
    assert await state_of(world, 2003) is None


# --- editing from the preview -----------------------------------------------------------


@LANGS
async def test_edit_text_returns_to_preview(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2011, lang)
    await to_preview(voter, photos=("a",), location=(39.9, 116.3), show_name=True)
    await voter.tap(t["edit"])
    assert voter.last == t["edit_which"]
    assert await state_of(world, 2011) == "edit"
    await voter.tap(t["edit_text"])
    assert voter.last == t["ask_text"]
    new_text = (
        "新的内容：人行道上的井盖松动了。"
        if lang == "zh-hans"
        else "New text: a loose manhole cover."
    )
    await voter.send(new_text)
    assert voter.last == preview(lang, t["traffic"], new_text, 1, True, True)
    draft = await draft_of(world, 2011)
    assert draft["text"] == new_text and draft["editing"] is False
    assert draft["photos"] == ["a"] and draft["latitude"] == 39.9
    await voter.tap(t["send"])
    row = (await world.rows("SELECT text, photos, show_name FROM opinions"))[0]
    assert row == {"text": new_text, "photos": '["a"]', "show_name": 1}


@LANGS
async def test_edit_category_returns_to_preview(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2012, lang)
    await to_preview(voter)
    await voter.tap(t["edit"])
    await voter.tap(t["edit_category"])
    assert voter.last == t["ask_category"]
    await voter.tap(t["other"])
    assert voter.last == preview(lang, t["other"], TEXT[lang], 0, False, False)
    assert await state_of(world, 2012) == "preview"
    await voter.tap(t["send"])
    assert (await world.rows("SELECT category FROM opinions"))[0]["category"] == "other"


@LANGS
async def test_edit_photos_replaces_them(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2013, lang)
    await to_preview(voter, photos=("old-1", "old-2"))
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 2, False, False)
    await voter.tap(t["edit"])
    await voter.tap(t["edit_photos"])
    assert voter.last == t["ask_photos"]
    await voter.send_photo("new-1")
    assert voter.last == t["photo_received"].format(n=1)
    await voter.tap(t["done"])
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 1, False, False)
    assert (await draft_of(world, 2013))["photos"] == ["new-1"]
    await voter.tap(t["send"])
    assert (await world.rows("SELECT photos FROM opinions"))[0]["photos"] == '["new-1"]'


@LANGS
async def test_edit_location_both_ways(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2014, lang)
    await to_preview(voter)
    await voter.tap(t["edit"])
    await voter.tap(t["edit_location"])
    assert voter.seen[-2].text == t["ask_location"]
    assert voter.keyboard() == [t["location_key"], t["skip"]]
    await voter.send_location(39.98, 116.31)
    assert voter.keyboard() == []
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 0, True, False)
    draft = await draft_of(world, 2014)
    assert (draft["latitude"], draft["longitude"]) == (39.98, 116.31)

    await voter.tap(t["edit"])
    await voter.tap(t["edit_location"])
    await voter.tap(t["skip"])
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 0, False, False)
    draft = await draft_of(world, 2014)
    assert draft["latitude"] is None and draft["longitude"] is None
    await voter.tap(t["send"])
    row = (await world.rows("SELECT latitude, longitude FROM opinions"))[0]
    assert row == {"latitude": None, "longitude": None}


@LANGS
async def test_edit_name_choice(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2015, lang)
    await to_preview(voter, show_name=False)
    await voter.tap(t["edit"])
    await voter.tap(t["edit_name"])
    assert t["ask_name"] in voter.last
    await voter.tap(t["show_name"])
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 0, False, True)
    await voter.tap(t["edit"])
    await voter.tap(t["edit_name"])
    await voter.tap(t["anonymous"])
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 0, False, False)
    await voter.tap(t["edit"])
    await voter.tap(t["edit_name"])
    await voter.tap(t["show_name"])
    await voter.tap(t["send"])
    assert (await world.rows("SELECT show_name FROM opinions"))[0]["show_name"] == 1


@LANGS
async def test_back_to_preview_changes_nothing(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2016, lang)
    await to_preview(voter, photos=("x",))
    before = await draft_of(world, 2016)
    await voter.tap(t["edit"])
    await voter.tap(t["back_to_preview"])
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 1, False, False)
    assert await draft_of(world, 2016) == before
    assert await state_of(world, 2016) == "preview"


# --- cancelling ------------------------------------------------------------------------


@LANGS
async def test_cancel_button_on_preview(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2021, lang)
    await to_preview(voter, photos=("a",))
    await voter.tap(t["cancel"])
    assert voter.last == t["cancelled"]
    assert await draft_of(world, 2021) is None
    assert await state_of(world, 2021) is None
    assert await world.rows("SELECT * FROM opinions") == []
    await voter.send("/cancel")
    assert voter.last == t["nothing_to_cancel"]


async def _at_category(voter: Person) -> None:
    await voter.send("/opinion")


async def _at_text(voter: Person) -> None:
    await _at_category(voter)
    await voter.tap(T[voter.language_code]["traffic"])


async def _at_photos(voter: Person) -> None:
    await _at_text(voter)
    await voter.send(TEXT[voter.language_code])
    await voter.send_photo("kept?")


async def _at_location(voter: Person) -> None:
    await _at_photos(voter)
    await voter.tap(T[voter.language_code]["done"])


async def _at_name(voter: Person) -> None:
    await _at_location(voter)
    await voter.send_location(39.9, 116.3)


async def _at_preview(voter: Person) -> None:
    await _at_name(voter)
    await voter.tap(T[voter.language_code]["show_name"])


async def _at_edit(voter: Person) -> None:
    await _at_preview(voter)
    await voter.tap(T[voter.language_code]["edit"])


async def _at_edit_text(voter: Person) -> None:
    await _at_edit(voter)
    await voter.tap(T[voter.language_code]["edit_text"])


STEPS = {
    "category": _at_category,
    "text": _at_text,
    "photos": _at_photos,
    "location": _at_location,
    "name": _at_name,
    "preview": _at_preview,
    "edit": _at_edit,
    "edit-text": _at_edit_text,
}


@LANGS
async def test_slash_cancel_at_each_step(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2022, lang)
    for step, go in STEPS.items():
        await go(voter)
        assert await draft_of(world, 2022) is not None, step
        await voter.send("/cancel")
        assert voter.last == t["cancelled"], step
        assert await draft_of(world, 2022) is None, step
        assert await state_of(world, 2022) is None, step
        assert await world.rows("SELECT * FROM opinions") == [], step
        assert await world.rows("SELECT * FROM tracking_sequences") == [], step
        await voter.send("/cancel")
        assert voter.last == t["nothing_to_cancel"], step
    # A new /opinion starts from an empty draft and still gets the first number.
    await voter.send("/opinion")
    assert voter.last == t["ask_category"]
    assert (await draft_of(world, 2022))["photos"] == []
    assert (await draft_of(world, 2022))["text"] is None
    await voter.send("/cancel")
    assert t["sent"].format(no="HD-2026-000001") in await send_quick_opinion(voter)
