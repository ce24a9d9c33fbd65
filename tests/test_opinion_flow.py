"""/opinion end to end: category → text → photos → location → name → preview → send, editing
each field from the preview, and cancelling at every step, in both languages.

The vocabulary (`T`, `preview`) and the small helpers at the top are shared with the other
opinion test files (test_opinion_bad_input, test_my_opinions, test_restart_and_concurrency)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.runtime.buttons.opinion import OpinionSend
from tests.support.people import Person
from tests.support.world import World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])

# What a voter sees and taps, per Telegram language_code. Error messages are whole texts
# (asserted with ==), prompts are fragments (asserted with `in`).
T: dict[str, dict[str, str]] = {
    "zh-hans": {
        "agree": "✅ 同意并继续",
        "traffic": "交通出行",
        "environment": "生态环境",
        "elderly": "养老服务",
        "other": "其他",
        "skip": "跳过",
        "done": "完成",
        "show_name": "显示我的名字",
        "anonymous": "匿名提交",
        "send": "📨 发送",
        "edit": "✏️ 修改",
        "cancel": "取消",
        "edit_category": "类别",
        "edit_text": "内容",
        "edit_photos": "照片",
        "edit_location": "位置",
        "edit_name": "署名",
        "back_to_preview": "« 返回预览",
        "ask_category": "<b>提交意见建议</b>\n请选择类别：",
        "ask_text": "请用文字描述您的意见建议（10 至 2000 字）：",
        "ask_photos": "可以附上最多 3 张照片：直接发送照片，或点击“跳过”。",
        "photo_received": "已收到 {n} 张照片（最多 3 张）。继续发送，或点击“完成”。",
        "ask_location": "如果问题和某个地点有关，请发送位置（📎 → 位置），或点击“跳过”。",
        "ask_name": "是否向代表显示您的名字？",
        "edit_which": "要修改哪一项？",
        "sent": "✅ 已提交！编号：<b>{no}</b>",
        "cancelled": "已取消，草稿已删除。",
        "nothing_to_cancel": "当前没有进行中的操作。",
        "text_empty": "内容不能为空，请输入文字。",
        "text_too_short": "内容太短（{count} 字），请至少写 10 字。",
        "text_too_long": "内容太长（{count} 字），请不超过 2000 字。",
        "too_many_photos": "最多只能附 3 张照片。请点击“完成”继续。",
        "daily_limit": "每人每天最多提交 {limit} 条意见建议，今天已达上限，请明天再提交。",
        "bad_category": "请点击上方的按钮选择类别。",
        "bad_text": (
            "请用文字描述您的意见建议（10 至 2000 字）。贴纸、语音、视频和文件不能作为内容。"
        ),
        "bad_photo": "请发送照片，或点击“完成”/“跳过”。",
        "bad_location": "请发送位置（📎 → 位置），或点击“跳过”。",
        "bad_name": "请点击上方的按钮，选择是否显示名字。",
        "bad_preview": "请点击“发送”“修改”或“取消”。",
        "bad_edit": "请点击要修改的项目。",
        "in_progress": "您正在填写意见建议。请先完成，或发送 /cancel 退出。",
        "stale": "这个按钮已失效，请重新操作。",
        "already_sent": "这条意见建议已经提交过了，编号：{no}。",
        "not_yours": "找不到这条记录，或它不属于您。",
        "slow_down": "您的操作太频繁了，请稍等片刻再试。",
        "no_station": "请先选择您的联络站。",
    },
    "en": {
        "agree": "✅ I agree",
        "traffic": "Traffic",
        "environment": "Environment",
        "elderly": "Elderly care",
        "other": "Other",
        "skip": "Skip",
        "done": "Done",
        "show_name": "Show my name",
        "anonymous": "Stay anonymous",
        "send": "📨 Send",
        "edit": "✏️ Edit",
        "cancel": "Cancel",
        "edit_category": "Category",
        "edit_text": "Text",
        "edit_photos": "Photos",
        "edit_location": "Location",
        "edit_name": "Name",
        "back_to_preview": "« Back to preview",
        "ask_category": "<b>Send an opinion</b>\nChoose a category:",
        "ask_text": "Describe your opinion in text (10 to 2,000 characters):",
        "ask_photos": "You may add up to 3 photos: send them now, or tap Skip.",
        "photo_received": "{n} photo(s) received (at most 3). Send more, or tap Done.",
        "ask_location": "If this concerns a place, send its location (📎 → Location), or tap Skip.",
        "ask_name": "Show your name to the deputies?",
        "edit_which": "What do you want to change?",
        "sent": "✅ Sent! Tracking number: <b>{no}</b>",
        "cancelled": "Cancelled; the draft is deleted.",
        "nothing_to_cancel": "There is nothing to cancel.",
        "text_empty": "The text is empty. Please write your opinion.",
        "text_too_short": "That is too short ({count} characters); please write at least 10.",
        "text_too_long": "That is too long ({count} characters); please keep it within 2000.",
        "too_many_photos": "At most 3 photos. Tap Done to go on.",
        "daily_limit": (
            "You can send at most {limit} opinions a day and have reached that today."
            " Please send this one tomorrow."
        ),
        "bad_category": "Please tap one of the categories above.",
        "bad_text": (
            "Please send your opinion as text (10 to 2,000 characters). Stickers, voice, video"
            " and files cannot be used as the text."
        ),
        "bad_photo": "Please send a photo, or tap Done / Skip.",
        "bad_location": "Please send a location (📎 → Location), or tap Skip.",
        "bad_name": "Please tap a button above to show your name or stay anonymous.",
        "bad_preview": "Please tap Send, Edit or Cancel.",
        "bad_edit": "Please tap what you want to change.",
        "in_progress": "You are writing an opinion. Finish it first, or send /cancel to leave.",
        "stale": "This button is no longer valid. Please start again.",
        "already_sent": "This opinion was already sent. Its tracking number is {no}.",
        "not_yours": "That record does not exist or is not yours.",
        "slow_down": "You are sending messages too fast. Please wait a moment.",
        "no_station": "Please choose your liaison station first.",
    },
}

TEXT = {
    "zh-hans": "小区门口的红绿灯时间太短，老人过马路来不及。",
    "en": "The traffic light at our gate is too short for older people to cross.",
}


def preview(lang: str, category: str, text: str, photos: int, located: bool, shown: bool) -> str:
    """The whole preview message as the bot must send it (HTML source)."""
    if lang == "en":
        return (
            "<b>Please check your opinion</b>\n"
            f"Category: {category}\n"
            f"Text: {text}\n"
            f"Photos: {photos}\n"
            f"Location: {'given' if located else 'none'}\n"
            f"Name: {'shown to deputies' if shown else 'anonymous'}"
        )
    return (
        "<b>请确认您的意见建议</b>\n"
        f"类别：{category}\n"
        f"内容：{text}\n"
        f"照片：{photos} 张\n"
        f"位置：{'已提供' if located else '未提供'}\n"
        f"署名：{'向代表显示' if shown else '匿名'}"
    )


async def voter_with_station(
    world: World, user_id: int, lang: str = "zh-hans", name: str = "张三"
) -> Person:
    """A voter who has agreed to the privacy notice and chosen 学院路第一联络站."""
    voter = Person(world, user_id, name, lang)
    await voter.send("/start")
    await voter.tap(T[lang]["agree"])
    await voter.tap("学院路街道")
    await voter.tap("学院路第一联络站")
    assert "学院路第一联络站" in voter.last
    return voter


async def to_preview(
    voter: Person,
    text: str | None = None,
    *,
    category: str = "traffic",
    photos: tuple[str, ...] = (),
    location: tuple[float, float] | None = None,
    show_name: bool = False,
) -> None:
    """Go from /opinion to the preview with the given answers."""
    t = T[voter.language_code]
    await voter.send("/opinion")
    await voter.tap(t[category])
    await voter.send(text or TEXT[voter.language_code])
    for file_id in photos:
        await voter.send_photo(file_id)
    await voter.tap(t["done"] if photos else t["skip"])
    if location is None:
        await voter.tap(t["skip"])
    else:
        await voter.send_location(*location)
    await voter.tap(t["show_name"] if show_name else t["anonymous"])


async def send_quick_opinion(voter: Person, text: str | None = None) -> str:
    """One anonymous opinion without photos or location; returns the bot's last answer."""
    await to_preview(voter, text)
    await voter.tap(T[voter.language_code]["send"])
    return voter.last


def send_data(world: World, voter: Person) -> str:
    """The callback data of the Send button on the voter's latest preview."""
    for message in reversed(world.api.chat_messages(voter.id)):
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for b in row:
                if b["text"] == T[voter.language_code]["send"]:
                    return str(b["callback_data"])
    raise AssertionError("no Send button")


async def draft_of(world: World, user_id: int) -> dict[str, Any] | None:
    rows = await world.rows("SELECT data FROM opinion_drafts WHERE user_id = ?", (user_id,))
    return json.loads(rows[0]["data"]) if rows else None


async def state_of(world: World, user_id: int) -> str | None:
    rows = await world.rows(
        "SELECT state FROM conversation_states WHERE name = 'opinion' AND key = ?",
        (json.dumps([user_id, user_id]),),
    )
    return json.loads(rows[0]["state"]) if rows else None


# --- the full flow -----------------------------------------------------------------------


@LANGS
async def test_full_flow_with_photos_location_and_name(world: World, lang: str) -> None:
    t = T[lang]
    voter = await voter_with_station(world, 2001, lang, "王五")
    station = (await world.rows("SELECT id FROM stations WHERE name = '学院路第一联络站'"))[0]

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
    assert voter.last == t["ask_location"]
    await voter.send_location(39.991, 116.352)
    assert t["ask_name"] in voter.last
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
    assert row["station_id"] == station["id"]
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
    assert draft == {
        "category": None,
        "text": None,
        "photos": [],
        "latitude": None,
        "longitude": None,
        "location_skipped": False,
        "show_name": None,
        "editing": False,
    }
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
    assert t["no_station"] in [o.text for o in voter.seen[-2:]]
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
    assert voter.last == t["ask_location"]
    await voter.send_location(39.98, 116.31)
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
