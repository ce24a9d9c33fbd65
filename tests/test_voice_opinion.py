"""A voice message as an opinion's body at /opinion's text step: kept in the draft by its
file_id and length (through a restart), shown in the preview as "🎤 语音 0:45", stored with
an empty text (staff's transcript comes later); a typed text replaces it and it replaces a
text. A voice over two minutes, a round video and an audio file are each refused with their
own message, and the step stays."""

from __future__ import annotations

import pytest

from bot.demo.botapi import Output
from handlers import opinion
from tests.support.opinions import TEXT, T, draft_of, state_of, voter_with_station
from tests.support.people import Person
from tests.support.world import World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])

# What the voter reads, written out so a wrong language or a missing catalog fails.
V: dict[str, dict[str, str]] = {
    "zh-hans": {
        "too_long": ("语音最长 2 分钟，这条太长了。请录一条短一些的语音，或者直接输入文字。"),
        "video_note": (
            "圆形视频消息不能作为意见内容。请按住 🎤 录一条语音（最长 2 分钟），或者直接输入文字。"
        ),
        "audio": (
            "音频文件不能作为意见内容。请按住 🎤 直接录一条语音（最长 2 分钟），或者直接输入文字。"
        ),
        "body": "内容：🎤 语音 {length}\n",
        "too_short": ("太短了：语音至少要 2 秒。请按住 🎤 说完您的意见再松开，或者直接输入文字。"),
        "forwarded": (
            "转发来的语音不能作为您的意见：请按住 🎤 用自己的声音录一条，或者直接输入文字。"
        ),
        "bad_text": (
            "请用文字描述您的意见建议（10 至 2000 字），或发一条语音（最长 2 分钟）。"
            "贴纸、视频和文件不能作为内容。"
        ),
    },
    "en": {
        "too_long": (
            "A voice message may be at most 2 minutes long, and this one is longer."
            " Please record a shorter one, or type your opinion."
        ),
        "video_note": (
            "A round video message cannot be used as an opinion. Please hold 🎤 to record a"
            " voice message (up to 2 minutes), or type your opinion."
        ),
        "audio": (
            "An audio file cannot be used as an opinion. Please hold 🎤 to record a voice"
            " message right here (up to 2 minutes), or type your opinion."
        ),
        "body": "Text: 🎤 Voice {length}\n",
        "too_short": (
            "Too short: a voice message needs at least 2 seconds. Please hold 🎤 until you"
            " have finished speaking, or type your opinion."
        ),
        "forwarded": (
            "A forwarded voice message cannot be your opinion: please hold 🎤 to record one in"
            " your own voice, or type your opinion."
        ),
        "bad_text": (
            "Please send your opinion as text (10 to 2,000 characters) or as a voice message"
            " (up to 2 minutes). Stickers, video and files cannot be used."
        ),
    },
}


async def at_text_step(world: World, user_id: int, lang: str) -> Person:
    voter = await voter_with_station(world, user_id, lang)
    await voter.send("/opinion")
    await voter.tap(T[lang]["traffic"])
    assert voter.last == T[lang]["ask_text"]
    return voter


async def to_preview_from_photos(voter: Person) -> None:
    """From the photos step: no photos, no location, anonymous."""
    t = T[voter.language_code]
    await voter.tap(t["skip"])
    await voter.tap(t["skip"])
    await voter.tap(t["anonymous"])


async def speak(voter: Person, seconds: int) -> tuple[str, list[Output]]:
    """The voter records a voice message of `seconds`: its file_id and the bot's answers."""
    before = set(voter.world.api.voices)
    out = await voter.send_voice(seconds)
    (file_id,) = set(voter.world.api.voices) - before
    return file_id, out


@LANGS
async def test_a_voice_is_the_body_shown_in_the_preview_and_stored(world: World, lang: str) -> None:
    t, v = T[lang], V[lang]
    voter = await at_text_step(world, 4201, lang)
    file_id, reply = await speak(voter, 45)
    assert [o.text for o in reply] == [t["ask_photos"]]
    draft = await draft_of(world, 4201)
    assert draft is not None
    assert (draft["voice_file_id"], draft["voice_seconds"], draft["text"]) == (file_id, 45, None)
    assert await state_of(world, 4201) == "photos"

    await to_preview_from_photos(voter)
    assert v["body"].format(length="0:45") in voter.last
    await voter.tap(t["send"])
    assert t["sent"].format(no="HD-2026-000001") in voter.last
    (row,) = await world.rows(
        "SELECT text, voice_file_id, voice_seconds, status, author_id FROM opinions"
    )
    assert row == {
        "text": "",
        "voice_file_id": file_id,
        "voice_seconds": 45,
        "status": "submitted",
        "author_id": 4201,
    }
    assert await draft_of(world, 4201) is None


@LANGS
async def test_two_minutes_is_taken_a_second_more_is_refused(world: World, lang: str) -> None:
    v = V[lang]
    voter = await at_text_step(world, 4202, lang)
    before = await draft_of(world, 4202)
    assert [o.text for o in await voter.send_voice(121)] == [v["too_long"]]
    assert await draft_of(world, 4202) == before
    assert await state_of(world, 4202) == "text"
    await voter.send_voice(120)
    await to_preview_from_photos(voter)
    assert v["body"].format(length="2:00") in voter.last
    assert (await draft_of(world, 4202) or {})["voice_seconds"] == 120


@LANGS
async def test_a_voice_under_two_seconds_is_refused_two_is_taken(world: World, lang: str) -> None:
    v = V[lang]
    voter = await at_text_step(world, 4208, lang)
    before = await draft_of(world, 4208)
    for seconds in (0, 1):
        assert [o.text for o in await voter.send_voice(seconds)] == [v["too_short"]], seconds
    assert await draft_of(world, 4208) == before
    assert await state_of(world, 4208) == "text"
    await voter.send_voice(2)
    assert (await draft_of(world, 4208) or {})["voice_seconds"] == 2
    assert await state_of(world, 4208) == "photos"


def forwarded_voice(voter: Person, seconds: int) -> dict[str, object]:
    """A voice message forwarded from someone else's chat, as Telegram marks it."""
    update = voter.voice_update(voter.world.api.add_voice(seconds), seconds)
    update["message"]["forward_origin"] = {
        "type": "user",
        "date": int(voter.world.clock.now().timestamp()) - 3600,
        "sender_user": {"id": 1, "is_bot": False, "first_name": "x"},
    }
    return update


@LANGS
async def test_a_forwarded_voice_is_refused(world: World, lang: str) -> None:
    v = V[lang]
    voter = await at_text_step(world, 4209, lang)
    before = await draft_of(world, 4209)
    out = await voter._feed(forwarded_voice(voter, 30), 1.0)
    assert [o.text for o in out] == [v["forwarded"]]
    assert await draft_of(world, 4209) == before
    assert await state_of(world, 4209) == "text"
    await voter.send_voice(30)  # their own voice goes in
    assert await state_of(world, 4209) == "photos"


@LANGS
async def test_every_message_names_the_voice_limit_the_code_sets(
    world: World, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question, a sticker's refusal, a round video's and an audio file's all say the
    limit in force (2 minutes now), none a number written into the catalog."""
    v = V[lang]
    voter = await at_text_step(world, 4210, lang)
    assert [o.text for o in await voter.send_sticker()] == [v["bad_text"]]
    # a limit of 3 minutes: every message says 3
    monkeypatch.setattr(opinion, "VOICE_MAX_MINUTES", 3)
    three = {
        k: text.replace("2 分钟", "3 分钟").replace("2 minutes", "3 minutes")
        for k, text in v.items()
    }
    await voter.send("/cancel")
    await voter.send("/opinion")
    await voter.tap(T[lang]["traffic"])
    assert voter.last == T[lang]["ask_text"].replace("2 分钟", "3 分钟").replace(
        "2 minutes", "3 minutes"
    )
    assert voter.last != T[lang]["ask_text"]
    assert [o.text for o in await voter.send_sticker()] == [three["bad_text"]]
    assert [o.text for o in await voter.send_video_note()] == [three["video_note"]]
    assert [o.text for o in await voter.send_audio()] == [three["audio"]]


@LANGS
async def test_a_round_video_and_an_audio_file_are_each_refused(world: World, lang: str) -> None:
    v = V[lang]
    voter = await at_text_step(world, 4203, lang)
    before = await draft_of(world, 4203)
    assert [o.text for o in await voter.send_video_note()] == [v["video_note"]]
    assert [o.text for o in await voter.send_audio()] == [v["audio"]]
    assert await draft_of(world, 4203) == before
    assert await state_of(world, 4203) == "text"
    await voter.send_voice(12)  # and a voice message still goes in
    assert await state_of(world, 4203) == "photos"


@LANGS
async def test_a_typed_text_replaces_the_voice_and_a_voice_replaces_the_text(
    world: World, lang: str
) -> None:
    t, v = T[lang], V[lang]
    voter = await at_text_step(world, 4204, lang)
    await voter.send_voice(30)
    await to_preview_from_photos(voter)

    await voter.tap(t["edit"])
    await voter.tap(t["edit_text"])
    await voter.send(TEXT[lang])
    draft = await draft_of(world, 4204)
    assert draft is not None
    assert (draft["text"], draft["voice_file_id"], draft["voice_seconds"]) == (
        TEXT[lang],
        None,
        None,
    )
    assert "🎤" not in voter.last and TEXT[lang] in voter.last

    await voter.tap(t["edit"])
    await voter.tap(t["edit_text"])
    await voter.send_voice(59)
    draft = await draft_of(world, 4204)
    assert draft is not None
    assert (draft["text"], draft["voice_seconds"]) == (None, 59)
    assert v["body"].format(length="0:59") in voter.last and TEXT[lang] not in voter.last
    await voter.tap(t["send"])
    (row,) = await world.rows("SELECT text, voice_seconds FROM opinions")
    assert row == {"text": "", "voice_seconds": 59}


@LANGS
async def test_a_too_long_voice_while_editing_keeps_the_text(world: World, lang: str) -> None:
    t, v = T[lang], V[lang]
    voter = await at_text_step(world, 4205, lang)
    await voter.send(TEXT[lang])
    await to_preview_from_photos(voter)
    await voter.tap(t["edit"])
    await voter.tap(t["edit_text"])
    assert [o.text for o in await voter.send_voice(300)] == [v["too_long"]]
    assert await state_of(world, 4205) == "text"
    assert (await draft_of(world, 4205) or {})["text"] == TEXT[lang]


@LANGS
async def test_a_restart_between_steps_keeps_the_voice(world: World, lang: str) -> None:
    t, v = T[lang], V[lang]
    voter = await at_text_step(world, 4206, lang)
    file_id, _ = await speak(voter, 45)
    await world.crash_and_restart()
    await voter.send_photo("after-restart")
    await world.crash_and_restart()
    await voter.tap(t["done"])
    await voter.tap(t["skip"])
    await voter.tap(t["show_name"])
    assert v["body"].format(length="0:45") in voter.last
    await voter.tap(t["send"])
    (row,) = await world.rows("SELECT text, voice_file_id, voice_seconds, photos FROM opinions")
    assert row == {
        "text": "",
        "voice_file_id": file_id,
        "voice_seconds": 45,
        "photos": '["after-restart"]',
    }


@pytest.mark.world(daily_opinion_limit=1)
async def test_a_voice_opinion_counts_against_the_daily_limit(world: World) -> None:
    t = T["zh-hans"]
    voter = await at_text_step(world, 4207, "zh-hans")
    await voter.send_voice(20)
    await to_preview_from_photos(voter)
    await voter.tap(t["send"])
    assert t["sent"].format(no="HD-2026-000001") in voter.last
    assert [o.text for o in await voter.send("/opinion")] == [t["daily_limit"].format(limit=1)]
