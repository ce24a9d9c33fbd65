"""A restart in the middle of an opinion loses nothing, and many voters at once each get their
own answers: every voter their own tracking number, every chat its replies in order."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.runtime.buttons.opinion import OpinionCategory
from tests.support.opinions import (
    EMPTY_DRAFT,
    LANGS,
    TEXT,
    T,
    draft_of,
    preview,
    state_of,
    voter_with_station,
)
from tests.support.people import Person
from tests.support.world import MakeWorld, World

NEW_TEXT = {
    "zh-hans": "改一下：是北门的红绿灯，不是东门。",
    "en": "Correction: it is the light at the north gate.",
}


# --- restart -----------------------------------------------------------------------------

Act = Callable[[Person, dict[str, str]], Awaitable[Any]]


def answer(key: str, **params: object) -> Callable[[str], str]:
    return lambda lang: T[lang][key].format(**params)


def preview_of(text: dict[str, str]) -> Callable[[str], str]:
    return lambda lang: preview(lang, T[lang]["traffic"], text[lang], 2, True, True)


# (name, what the voter does, the state after it, what the draft gains, the bot's answer)
STEPS: list[tuple[str, Act, str, dict[str, Any], Callable[[str], str]]] = [
    ("opinion", lambda v, t: v.send("/opinion"), "category", {}, answer("ask_category")),
    (
        "category",
        lambda v, t: v.tap(t["traffic"]),
        "text",
        {"category": "traffic"},
        answer("ask_text"),
    ),
    (
        "text",
        lambda v, t: v.send(TEXT[v.language_code]),
        "photos",
        {"text": TEXT},
        answer("ask_photos"),
    ),
    (
        "photo-1",
        lambda v, t: v.send_photo("r1"),
        "photos",
        {"photos": ["r1"]},
        answer("photo_received", n=1),
    ),
    (
        "photo-2",
        lambda v, t: v.send_photo("r2"),
        "photos",
        {"photos": ["r1", "r2"]},
        answer("photo_received", n=2),
    ),
    (
        "photos-done",
        lambda v, t: v.tap(t["done"]),
        "location",
        {},
        answer("location_key_hint"),  # below the question, with the location key
    ),
    (
        "location",
        lambda v, t: v.send_location(39.99, 116.35),
        "name",
        {"latitude": 39.99, "longitude": 116.35},
        answer("ask_name"),
    ),
    ("name", lambda v, t: v.tap(t["show_name"]), "preview", {"show_name": True}, preview_of(TEXT)),
    ("edit", lambda v, t: v.tap(t["edit"]), "edit", {}, answer("edit_which")),
    (
        "edit-text",
        lambda v, t: v.tap(t["edit_text"]),
        "text",
        {"editing": True},
        answer("ask_text"),
    ),
    (
        "new-text",
        lambda v, t: v.send(NEW_TEXT[v.language_code]),
        "preview",
        {"text": NEW_TEXT, "editing": False},
        preview_of(NEW_TEXT),
    ),
]


async def run_steps(
    world: World, voter: Person, restart_after: set[str], graceful: bool = False
) -> None:
    """Every step, checking the database right after it, restarting after the named ones."""
    lang = voter.language_code
    t = T[lang]
    draft = dict(EMPTY_DRAFT)
    token = None  # the draft's name, kept across every restart
    for name, act, state, gains, reply in STEPS:
        await act(voter, t)
        assert reply(lang) in voter.last, f"after {name}"
        # A text gained is given per language.
        draft.update({k: v[lang] if k == "text" else v for k, v in gains.items()})
        # Written through at once: the persistence interval is an hour.
        stored = await draft_of(world, voter.id)
        assert stored is not None, f"after {name}"
        token = token or stored["token"]
        assert stored.pop("token") == token, f"after {name}"
        assert stored == draft, f"after {name}"
        assert await state_of(world, voter.id) == state, f"after {name}"
        if name in restart_after:
            if graceful:
                await world.stop()
                await world.start()
            else:
                await world.crash_and_restart()
    await voter.tap(t["send"])
    assert t["sent"].format(no="HD-2026-000001") in voter.last
    rows = await world.rows(
        "SELECT category, text, photos, latitude, longitude, show_name, draft_token FROM opinions"
    )
    assert rows == [
        {
            "category": "traffic",
            "text": NEW_TEXT[lang],
            "photos": '["r1", "r2"]',
            "latitude": 39.99,
            "longitude": 116.35,
            "show_name": 1,
            "draft_token": token,
        }
    ]
    assert await world.rows("SELECT * FROM opinion_drafts") == []
    assert await world.rows("SELECT * FROM conversation_states") == []


@pytest.mark.parametrize(
    ("step", "lang"),
    [(name, ("zh-hans", "en")[n % 2]) for n, (name, *_) in enumerate(STEPS)],
)
async def test_crash_after_a_step_and_continue(make_world: MakeWorld, step: str, lang: str) -> None:
    world = await make_world(persistence_interval_seconds=60)
    voter = await voter_with_station(world, 5001, lang)
    await run_steps(world, voter, {step})


@LANGS
async def test_crash_after_every_step(make_world: MakeWorld, lang: str) -> None:
    world = await make_world(persistence_interval_seconds=60)
    voter = await voter_with_station(world, 5002, lang)
    await run_steps(world, voter, {s[0] for s in STEPS})


@LANGS
async def test_graceful_restart_in_the_middle(make_world: MakeWorld, lang: str) -> None:
    world = await make_world(persistence_interval_seconds=60)
    voter = await voter_with_station(world, 5003, lang)
    await run_steps(world, voter, {"photo-1", "name", "edit-text"}, graceful=True)


@LANGS
async def test_after_a_crash_the_step_still_refuses_what_it_refused(
    make_world: MakeWorld, lang: str
) -> None:
    t = T[lang]
    world = await make_world(persistence_interval_seconds=60)
    voter = await voter_with_station(world, 5004, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    await world.crash_and_restart()
    new = await voter.send("/opinion")
    assert [o.text for o in new] == [t["in_progress"]]
    new = await voter.send_sticker()
    assert [o.text for o in new] == [t["bad_text"]]
    new = await voter.tap_data(OpinionCategory(code="other").pack())
    assert [(o.kind, o.text) for o in new] == [("alert", t["stale"])]
    assert (await draft_of(world, 5004))["category"] == "traffic"
    await world.crash_and_restart()
    await voter.send("/cancel")
    assert voter.last == t["cancelled"]
    await world.crash_and_restart()
    assert await draft_of(world, 5004) is None
    new = await voter.send(TEXT[lang])  # no conversation any more: not taken as a text
    assert await draft_of(world, 5004) is None
    assert all(t["ask_photos"] not in o.text for o in new)


# --- many voters at once -----------------------------------------------------------------


def marker(i: int) -> str:
    return f"#{i:02d}#"


async def whole_journey(world: World, i: int) -> Person:
    lang = "zh-hans" if i % 2 else "en"
    t = T[lang]
    voter = await voter_with_station(world, 6000 + i, lang, f"选民{i}")
    text = f"{marker(i)} " + TEXT[lang]
    await voter.send("/opinion")
    await voter.tap(t["environment"])
    await voter.send(text)
    await voter.send_photo(f"photo-of-{i}")
    await voter.tap(t["done"])
    await voter.send_location(39.9 + i / 1000, 116.3)
    await voter.tap(t["show_name"] if i % 3 else t["anonymous"])
    assert voter.last == preview(lang, t["environment"], text, 1, True, bool(i % 3))
    await voter.tap(t["send"])
    return voter


async def test_twenty_voters_at_once(world: World) -> None:
    world.api.latency = 0.001  # every Bot API call yields, so the voters interleave
    results = await asyncio.gather(
        *(whole_journey(world, i) for i in range(1, 21)), return_exceptions=True
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, failed
    voters = [r for r in results if isinstance(r, Person)]

    shown: dict[int, str] = {}
    for voter in voters:
        numbers = re.findall(r"HD-2026-\d{6}", voter.last)
        assert len(numbers) == 1, voter.last
        assert T[voter.language_code]["sent"].format(no=numbers[0]) in voter.last
        shown[voter.id] = numbers[0]
    assert sorted(shown.values()) == [f"HD-2026-{n:06d}" for n in range(1, 21)]

    rows = await world.rows("SELECT * FROM opinions ORDER BY id")
    assert len(rows) == 20
    for row in rows:
        i = row["author_id"] - 6000
        assert row["tracking_no"] == shown[row["author_id"]]
        assert row["text"].startswith(marker(i))
        assert json.loads(row["photos"]) == [f"photo-of-{i}"]
        assert row["latitude"] == pytest.approx(39.9 + i / 1000)
        assert row["show_name"] == int(bool(i % 3))
    events = await world.rows("SELECT opinion_id, actor_id FROM opinion_events")
    assert sorted((e["opinion_id"], e["actor_id"]) for e in events) == sorted(
        (r["id"], r["author_id"]) for r in rows
    )
    assert await world.rows("SELECT * FROM opinion_drafts") == []
    assert await world.rows("SELECT * FROM conversation_states") == []

    # No reply went to the wrong chat.
    for output in world.api.outputs:
        i = output.chat_id - 6000
        for j in range(1, 21):
            if marker(j) in output.text:
                assert j == i, f"voter {j}'s text went to chat {output.chat_id}"
        for number in re.findall(r"HD-2026-\d{6}", output.text):
            assert shown[output.chat_id] == number
    # Every chat got the same number of answers, the last one its tracking number.
    per_chat = Counter(o.chat_id for o in world.api.outputs)
    assert set(per_chat) == {v.id for v in voters}
    assert len(set(per_chat.values())) == 1, per_chat
    for voter in voters:
        last = [o for o in world.api.outputs if o.chat_id == voter.id][-1]
        assert shown[voter.id] in last.text


@LANGS
async def test_one_chats_updates_are_handled_in_order(world: World, lang: str) -> None:
    world.api.latency = 0.002  # each answer takes a while: later updates would overtake
    t = T[lang]
    voter = await voter_with_station(world, 7001, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    burst = [
        voter.text_update("/my"),
        voter.text_update(TEXT[lang]),
        voter.text_update("hello"),
        *(voter.photo_update(f"p{n}") for n in range(1, 5)),
        voter.text_update("/cancel"),
        voter.text_update("/cancel"),
    ]
    before = len(world.api.outputs)
    await asyncio.gather(*(world.feed(u) for u in burst))

    replies = [o.text for o in world.api.outputs[before:] if o.chat_id == voter.id]
    assert replies == [
        t["in_progress"],
        t["ask_photos"],
        t["bad_photo"],
        t["photo_received"].format(n=1),
        t["photo_received"].format(n=2),
        t["photo_received"].format(n=3),
        t["too_many_photos"],
        t["cancelled"],
        t["nothing_to_cancel"],
    ]
    assert await draft_of(world, voter.id) is None
    assert await state_of(world, voter.id) is None


@LANGS
async def test_photos_sent_together_are_all_kept_in_order(world: World, lang: str) -> None:
    world.api.latency = 0.002
    t = T[lang]
    voter = await voter_with_station(world, 7002, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    await voter.send(TEXT[lang])
    album = [voter.photo_update(f"album-{n}") for n in range(1, 4)]
    await asyncio.gather(*(world.feed(u) for u in album))
    assert (await draft_of(world, voter.id))["photos"] == ["album-1", "album-2", "album-3"]
    await voter.tap(t["done"])
    await voter.tap(t["skip"])
    await voter.tap(t["anonymous"])
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 3, False, False)
