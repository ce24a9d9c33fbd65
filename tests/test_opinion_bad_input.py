"""Everything a voter can get wrong while writing an opinion: each gets a clear message in the
voter's language, the step stays and nothing already entered is lost. Also the daily limit
and the flood guard."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from bot.demo.botapi import Output
from bot.runtime.buttons import CallbackData
from bot.runtime.buttons.opinion import (
    OpinionBackToPreview,
    OpinionCategory,
    OpinionEditField,
    OpinionName,
    OpinionPhotosDone,
    OpinionSend,
    OpinionSkipLocation,
)
from tests.support.opinions import (
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
from tests.support.world import SHANGHAI, MakeWorld, World


async def assert_unchanged(world: World, user_id: int, draft: dict, state: str) -> None:
    assert await draft_of(world, user_id) == draft
    assert await state_of(world, user_id) == state


# --- a walk through every step ---------------------------------------------------------

Check = Callable[[str], Awaitable[None]]
STATE = {"edit-text": "text"}


async def walk(world: World, voter: Person, check: Check) -> None:
    """Go through every step of /opinion (editing the text from the preview on the way),
    calling `check(step)` at each, and end with a tracking number and every answer kept."""
    t = T[voter.language_code]
    text = TEXT[voter.language_code]
    await voter.send("/opinion")
    await check("category")
    await voter.tap(t["traffic"])
    await check("text")
    await voter.send(text)
    await voter.send_photo("kept")
    await check("photos")
    await voter.tap(t["done"])
    await check("location")
    await voter.send_location(39.9, 116.3)
    await check("name")
    await voter.tap(t["show_name"])
    await check("preview")
    await voter.tap(t["edit"])
    await check("edit")
    await voter.tap(t["edit_text"])
    await check("edit-text")
    await voter.send(text)
    assert voter.last == preview(voter.language_code, t["traffic"], text, 1, True, True)
    await voter.tap(t["send"])
    assert t["sent"].format(no="HD-2026-000001") in voter.last
    rows = await world.rows("SELECT category, text, photos, latitude, show_name FROM opinions")
    assert rows == [
        {
            "category": "traffic",
            "text": text,
            "photos": '["kept"]',
            "latitude": 39.9,
            "show_name": 1,
        }
    ]


async def refused(
    world: World,
    voter: Person,
    step: str,
    act: Callable[[], Awaitable[list[Output]]],
    expected: tuple[str, str],
) -> None:
    """`act` gets exactly one answer, `expected` = (kind, text); draft and step unchanged."""
    draft = await draft_of(world, voter.id)
    state = await state_of(world, voter.id)
    assert state == STATE.get(step, step)
    new = await act()
    assert [(o.kind, o.text) for o in new] == [expected], f"at {step}"
    if expected[0] == "alert":
        assert new[0].show_alert, f"at {step}"
    assert await draft_of(world, voter.id) == draft, f"draft changed at {step}"
    assert await state_of(world, voter.id) == state, f"state changed at {step}"


# What a voter may send instead of what a step expects, and the answer for each step.
WRONG_INPUT: dict[str, list[Callable[[Person], Awaitable[list[Output]]]]] = {
    "category": [lambda v: v.send("交通"), lambda v: v.send_sticker()],
    "text": [  # a voice message is an opinion's body (tests/test_voice_opinion.py)
        lambda v: v.send_sticker(),
        lambda v: v.send_video(),
        lambda v: v.send_document(),
        lambda v: v.send_photo("instead-of-text"),
        lambda v: v.send_location(1.0, 2.0),
        lambda v: v.send(""),
    ],
    "photos": [
        lambda v: v.send("这是照片的说明文字"),
        lambda v: v.send_document(),
        lambda v: v.send_voice(),
        lambda v: v.send_location(1.0, 2.0),
    ],
    "location": [lambda v: v.send("学院路 1 号门口"), lambda v: v.send_photo("late")],
    "name": [lambda v: v.send("张三"), lambda v: v.send_location(1.0, 2.0)],
    "preview": [lambda v: v.send("发送"), lambda v: v.send_video()],
    "edit": [lambda v: v.send("内容"), lambda v: v.send_sticker()],
    "edit-text": [lambda v: v.send_sticker(), lambda v: v.send_photo("x")],
}
BAD_REPLY = {
    "category": "bad_category",
    "text": "bad_text",
    "photos": "bad_photo",
    "location": "bad_location",
    "name": "bad_name",
    "preview": "bad_preview",
    "edit": "bad_edit",
    "edit-text": "bad_text",
}


@LANGS
async def test_wrong_kind_of_input_at_every_step(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3001, lang)

    async def check(step: str) -> None:
        for act in WRONG_INPUT[step]:
            await refused(
                world, voter, step, lambda act=act: act(voter), ("message", t[BAD_REPLY[step]])
            )

    await walk(world, voter, check)


# Buttons of another step (still on screen, or replayed), refused with an alert. SEND is the
# Send button of the draft being written, which only the preview takes.
SEND = "send"
STALE: dict[str, list[CallbackData | str]] = {
    "category": [OpinionPhotosDone(), SEND, OpinionName(show=True)],
    "text": [OpinionName(show=True), SEND, OpinionCategory(code="traffic")],
    "photos": [OpinionCategory(code="traffic"), OpinionSkipLocation(), SEND],
    "location": [OpinionPhotosDone(), OpinionName(show=False)],
    "name": [OpinionSkipLocation(), SEND, OpinionEditField(field="text")],
    "preview": [
        OpinionPhotosDone(),
        OpinionEditField(field="text"),
        OpinionName(show=False),
        OpinionBackToPreview(),
    ],
    "edit": [SEND, OpinionCategory(code="other")],
    "edit-text": [SEND, OpinionEditField(field="category"), OpinionBackToPreview()],
}


async def stale_data(world: World, voter: Person, button: CallbackData | str) -> str:
    if isinstance(button, CallbackData):
        return button.pack()
    draft = await draft_of(world, voter.id)
    assert draft is not None
    return OpinionSend(draft=draft["token"]).pack()


@LANGS
async def test_stale_button_of_another_step_at_every_step(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3002, lang)

    async def check(step: str) -> None:
        for button in STALE[step]:
            data = await stale_data(world, voter, button)
            await refused(
                world, voter, step, lambda d=data: voter.tap_data(d), ("alert", t["stale"])
            )
        assert await world.rows("SELECT * FROM opinions") == []

    await walk(world, voter, check)


# Data no button of this bot carries (or an older version's, still on screen after an update).
FORGED = {
    "category": ["opc:nonsense", "opc:traffic:extra", "opc:", "op:cat:traffic", "opc"],
    "text": ["op:", "nonsense", "opp:1"],
    "photos": ["opp:1", "opp:done", "op:photos_done"],
    "location": ["opl:1", "op:loc_skip"],
    "name": ["opn:2", "opn:", "opn:1:1", "opn:true", "op:name:1"],
    "preview": ["os:", "os:now:later", "os:" + "a" * 25, "os:a b", "op:send", "ope:1", "nonsense"],
    "edit": ["opef:station", "opef:text:1", "opef:", "op:edit:text"],
    "edit-text": ["opef:nonsense", "opv:1"],
}


@LANGS
async def test_forged_button_data_at_every_step(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3003, lang)

    async def check(step: str) -> None:
        for data in FORGED[step]:
            await refused(
                world, voter, step, lambda d=data: voter.tap_data(d), ("alert", t["stale"])
            )

    await walk(world, voter, check)


COMMANDS = {
    "category": ["/my", "/opinion"],
    "text": ["/start", "/station"],
    "photos": ["/opinion", "/help"],
    "location": ["/station", "/my"],
    "name": ["/help", "/start"],
    "preview": ["/my", "/opinion"],
    "edit": ["/language", "/start"],
    "edit-text": ["/start", "/my"],
}


@LANGS
async def test_command_in_the_middle_at_every_step(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3004, lang)

    async def check(step: str) -> None:
        for command in COMMANDS[step]:
            await refused(
                world,
                voter,
                step,
                lambda c=command: voter.send(c),
                ("message", t["in_progress"]),
            )

    await walk(world, voter, check)
    # Once the opinion is sent, the commands work again.
    await voter.send("/my")
    assert "HD-2026-000001" in voter.buttons()[0]


# --- the text ----------------------------------------------------------------------------


@LANGS
async def test_bad_text_is_refused_and_step_stays(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3005, lang)
    await voter.send("/opinion")
    await voter.tap(t["elderly"])
    cases = [
        ("   \n\t ", t["text_empty"]),
        ("一二三四五六七八九", t["text_too_short"].format(count=9)),
        ("  abcdefghi  \n", t["text_too_short"].format(count=9)),
        ("长" * 2001, t["text_too_long"].format(count=2001)),
        ("a" * 2001, t["text_too_long"].format(count=2001)),
    ]
    for text, answer in cases:
        await refused(world, voter, "text", lambda x=text: voter.send(x), ("message", answer))
    assert (await draft_of(world, 3005))["category"] == "elderly"
    # Still the text step: a good text goes on to the photos, the category kept.
    await voter.send(TEXT[lang])
    assert voter.last == t["ask_photos"]
    assert (await draft_of(world, 3005))["category"] == "elderly"


# Characters that take no room on screen; `.strip()` keeps every one of them.
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")


@LANGS
@pytest.mark.parametrize(
    "text",
    [
        *(char * n for char in INVISIBLE for n in (1, 12)),
        " \u200b \u200c\u200d\t\u2060 \ufeff\u3000\u200b\u200b\u200b\u200b\u200b \n",
    ],
    ids=lambda text: "+".join(sorted({f"U{ord(c):04X}" for c in text})) + f"x{len(text)}",
)
async def test_invisible_text_is_refused_as_empty(world: World, lang: str, text: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3019, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    await refused(world, voter, "text", lambda: voter.send(text), ("message", t["text_empty"]))
    assert await world.rows("SELECT * FROM opinions") == []


@LANGS
async def test_invisible_characters_do_not_count_towards_the_length(
    world: World, lang: str
) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3020, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    padded = "好好好好好" + "".join(INVISIBLE) * 2
    await refused(
        world,
        voter,
        "text",
        lambda: voter.send(padded),
        ("message", t["text_too_short"].format(count=5)),
    )


@LANGS
async def test_zero_width_characters_inside_words_are_not_stored(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3021, lang)
    text = TEXT[lang]
    hidden = "\ufeff" + text[:4] + "\u200b" + text[4:9] + "\u2060\u200b" + text[9:] + "\u200b"
    await to_preview(voter, hidden)
    assert (await draft_of(world, 3021))["text"] == text
    assert voter.last == preview(lang, t["traffic"], text, 0, False, False)
    await voter.tap(t["send"])
    assert (await world.rows("SELECT text FROM opinions"))[0]["text"] == text


@LANGS
async def test_text_of_exactly_10_and_2000_characters_is_accepted(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3006, lang)
    ten, long = "好" * 10, "长" * 1999 + "。"
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    await voter.send(ten)
    assert voter.last == t["ask_photos"]
    assert (await draft_of(world, 3006))["text"] == ten
    await voter.tap(t["skip"])
    await voter.tap(t["skip"])
    await voter.tap(t["anonymous"])
    assert voter.last == preview(lang, t["traffic"], ten, 0, False, False)
    await voter.tap(t["edit"])
    await voter.tap(t["edit_text"])
    await voter.send(long)
    assert voter.last == preview(lang, t["traffic"], long, 0, False, False)
    await voter.tap(t["send"])
    assert (await world.rows("SELECT text FROM opinions"))[0]["text"] == long


@LANGS
async def test_fourth_photo_is_refused(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3007, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    await voter.send(TEXT[lang])
    for file_id in ("p1", "p2", "p3"):
        await voter.send_photo(file_id)
    for file_id in ("p4", "p5"):
        await refused(
            world,
            voter,
            "photos",
            lambda f=file_id: voter.send_photo(f),
            ("message", t["too_many_photos"]),
        )
    assert (await draft_of(world, 3007))["photos"] == ["p1", "p2", "p3"]
    await voter.tap(t["done"])
    assert voter.seen[-2].text == t["ask_location"]
    await voter.tap(t["skip"])
    await voter.tap(t["anonymous"])
    assert voter.last == preview(lang, t["traffic"], TEXT[lang], 3, False, False)
    await voter.tap(t["send"])
    assert (await world.rows("SELECT photos FROM opinions"))[0]["photos"] == '["p1", "p2", "p3"]'


# --- buttons after the end -------------------------------------------------------------


@LANGS
async def test_send_tapped_again_after_sending_gives_the_same_number(
    world: World, lang: str
) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3009, lang)
    await to_preview(voter)
    data = send_data(world, voter)
    await voter.tap(t["send"])
    assert t["sent"].format(no="HD-2026-000001") in voter.last
    new = await voter.tap_data(data)
    assert [(o.kind, o.text) for o in new] == [
        ("alert", t["already_sent"].format(no="HD-2026-000001"))
    ]
    assert len(await world.rows("SELECT id FROM opinions")) == 1
    assert (await world.rows("SELECT last FROM tracking_sequences"))[0]["last"] == 1


@LANGS
async def test_double_tap_on_send_makes_one_opinion(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3010, lang)
    await to_preview(voter)
    before = len(world.api.outputs)
    await asyncio.gather(voter.tap(t["send"], think=0), voter.tap(t["send"], think=0))
    assert len(await world.rows("SELECT id FROM opinions")) == 1
    answers = [(o.kind, o.text) for o in world.api.outputs[before:]]
    assert len(answers) == 2
    assert answers[0][0] == "edit"
    assert t["sent"].format(no="HD-2026-000001") in answers[0][1]
    assert answers[1] == ("alert", t["already_sent"].format(no="HD-2026-000001"))


# --- the daily limit -------------------------------------------------------------------


@LANGS
async def test_sixth_opinion_of_the_day_is_refused(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 3011, lang)
    for n in range(1, 6):
        answer = await send_quick_opinion(voter)
        assert t["sent"].format(no=f"HD-2026-{n:06d}") in answer
    new = await voter.send("/opinion")
    assert [o.text for o in new] == [t["daily_limit"].format(limit=5)]
    assert await draft_of(world, 3011) is None
    assert await state_of(world, 3011) is None
    # Not inside a conversation now: a text is a stray message, not an opinion.
    await voter.send(TEXT[lang])
    assert await draft_of(world, 3011) is None

    # Past local midnight (Asia/Shanghai), the voter may send again.
    world.clock.set(datetime(2026, 11, 27, 0, 1, tzinfo=SHANGHAI))
    answer = await send_quick_opinion(voter)
    assert t["sent"].format(no="HD-2026-000006") in answer
    assert len(await world.rows("SELECT id FROM opinions")) == 6


@LANGS
async def test_limit_counts_each_voter_separately(world: World, lang: str) -> None:
    t = T[lang]
    first = await voter_with_station(world, 3012, lang)
    other = await voter_with_station(world, 3013, lang)
    for _ in range(5):
        await send_quick_opinion(first)
    answer = await send_quick_opinion(other)
    assert t["sent"].format(no="HD-2026-000006") in answer


@LANGS
async def test_limit_reached_between_start_and_send_keeps_the_draft(
    make_world: MakeWorld, lang: str
) -> None:
    """The operator lowers the limit to 2 and restarts while a voter who sent 2 today is
    writing a third: Send is refused, the draft stays, and the next day Send works."""
    t = T[lang]
    world = await make_world()
    voter = await voter_with_station(world, 3014, lang)
    await send_quick_opinion(voter)
    await send_quick_opinion(voter)
    await to_preview(voter, photos=("kept",), location=(39.9, 116.3), show_name=True)
    before = await draft_of(world, 3014)

    await world.stop()
    world.settings = world.settings.model_copy(update={"daily_opinion_limit": 2})
    await world.start()

    new = await voter.tap(t["send"])
    assert [(o.kind, o.text, o.show_alert) for o in new] == [
        ("alert", t["daily_limit"].format(limit=2), True)
    ]
    await assert_unchanged(world, 3014, before, "preview")
    assert len(await world.rows("SELECT id FROM opinions")) == 2
    assert (await world.rows("SELECT last FROM tracking_sequences"))[0]["last"] == 2

    world.clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI))
    await voter.tap(t["send"])
    assert t["sent"].format(no="HD-2026-000003") in voter.last
    row = (await world.rows("SELECT photos, latitude, show_name FROM opinions WHERE id = 3"))[0]
    assert row == {"photos": '["kept"]', "latitude": 39.9, "show_name": 1}
    assert await draft_of(world, 3014) is None


@LANGS
async def test_daily_limit_holds_in_the_early_morning(world: World, lang: str) -> None:
    t = T[lang]
    world.clock.set(datetime(2026, 11, 27, 6, 0, tzinfo=SHANGHAI))
    voter = await voter_with_station(world, 3015, lang)
    for _ in range(5):
        await send_quick_opinion(voter)
    new = await voter.send("/opinion")
    assert [o.text for o in new] == [t["daily_limit"].format(limit=5)]


@LANGS
async def test_early_morning_opinions_count_later_that_day(world: World, lang: str) -> None:
    t = T[lang]
    world.clock.set(datetime(2026, 11, 27, 7, 0, tzinfo=SHANGHAI))
    voter = await voter_with_station(world, 3016, lang)
    for _ in range(5):
        await send_quick_opinion(voter)
    world.clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI))
    new = await voter.send("/opinion")
    assert [o.text for o in new] == [t["daily_limit"].format(limit=5)]


# --- the flood guard -------------------------------------------------------------------


@LANGS
async def test_flood_guard_warns_once_keeps_the_draft_and_recovers(
    make_world: MakeWorld, lang: str
) -> None:
    t = T[lang]
    world = await make_world(flood_max_updates=5, flood_window_seconds=3)
    voter = await voter_with_station(world, 3017, lang)
    await voter.send("/opinion")
    await voter.tap(t["traffic"])
    await voter.send(TEXT[lang])
    await voter.send_photo("flood-photo")
    await voter.tap(t["done"])
    assert voter.seen[-2].text == t["ask_location"]
    before = await draft_of(world, 3017)

    world.clock.advance(seconds=10)  # an empty window before the burst
    replies = []
    for n in range(9):
        replies.append([o.text for o in await voter.send(f"第{n}条", think=0)])
    assert replies[:5] == [[t["bad_location"]]] * 5
    assert replies[5] == [t["slow_down"]]
    assert replies[6:] == [[], [], []]
    await assert_unchanged(world, 3017, before, "location")
    # Even /cancel is dropped during the burst: the draft is not touched.
    await voter.send("/cancel", think=0)
    await assert_unchanged(world, 3017, before, "location")

    world.clock.advance(seconds=3)
    await voter.send_location(39.95, 116.33)
    assert t["ask_name"] in voter.last
    await voter.tap(t["show_name"])
    await voter.tap(t["send"])
    assert t["sent"].format(no="HD-2026-000001") in voter.last
    row = (await world.rows("SELECT text, photos, latitude FROM opinions"))[0]
    assert row == {"text": TEXT[lang], "photos": '["flood-photo"]', "latitude": 39.95}
    assert sum(o.text == t["slow_down"] for o in voter.seen) == 1


@LANGS
async def test_flood_guard_on_buttons(make_world: MakeWorld, lang: str) -> None:
    t = T[lang]
    world = await make_world(flood_max_updates=5, flood_window_seconds=3)
    voter = await voter_with_station(world, 3018, lang)
    await voter.send("/opinion")
    world.clock.advance(seconds=10)
    for _ in range(5):
        await voter.tap_data("opc:nonsense", think=0)
    new = await voter.tap(t["traffic"], think=0)
    assert [(o.kind, o.text, o.show_alert) for o in new] == [("alert", t["slow_down"], False)]
    assert await state_of(world, 3018) == "category"
    assert (await draft_of(world, 3018))["category"] is None
    world.clock.advance(seconds=3)
    await voter.tap(t["traffic"])
    assert voter.last == t["ask_text"]
    assert (await draft_of(world, 3018))["category"] == "traffic"
