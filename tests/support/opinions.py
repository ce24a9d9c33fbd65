"""/opinion as a voter sees it: what the bot says and what the voter taps (`T`, written out so
a wrong language or a missing catalog fails), the preview, and the steps the opinion test
files share."""

from __future__ import annotations

import json
from typing import Any

import pytest

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
        "ask_text": (
            "请用文字描述您的意见建议（10 至 2000 字），也可以直接发一条语音"
            "（按住 🎤 说话，最长 2 分钟）："
        ),
        "ask_photos": "可以附上最多 3 张照片：直接发送照片，或点击“跳过”。",
        "photo_received": "已收到 {n} 张照片（最多 3 张）。继续发送，或点击“完成”。",
        "ask_location": "如果问题和某个地点有关，请发送位置，或点击“跳过”。",
        "location_key": "📍 发送我的位置",
        "location_key_hint": (
            "📍 点下方的“发送我的位置”即可。电脑版 Telegram 没有这个按钮，请用 📎 → 位置 发送。"
        ),
        "location_received": "📍 已收到位置。",
        "location_skipped": "好的，不附位置。",
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
            "请用文字描述您的意见建议（10 至 2000 字），或发一条语音（最长 2 分钟）。"
            "贴纸、视频和文件不能作为内容。"
        ),
        "bad_photo": "请发送照片，或点击“完成”/“跳过”。",
        "bad_location": "请发送位置（点下方的“📍 发送我的位置”，或 📎 → 位置），或点击“跳过”。",
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
        "ask_text": (
            "Describe your opinion in text (10 to 2,000 characters), or just send a voice"
            " message (hold 🎤 and speak, up to 2 minutes):"
        ),
        "ask_photos": "You may add up to 3 photos: send them now, or tap Skip.",
        "photo_received": "{n} photo(s) received (at most 3). Send more, or tap Done.",
        "ask_location": "If this concerns a place, send its location, or tap Skip.",
        "location_key": "📍 Send my location",
        "location_key_hint": (
            "📍 Tap “Send my location” below. Telegram Desktop has no such button:"
            " use 📎 → Location there."
        ),
        "location_received": "📍 Location received.",
        "location_skipped": "All right, no location.",
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
            "Please send your opinion as text (10 to 2,000 characters) or as a voice message"
            " (up to 2 minutes). Stickers, video and files cannot be used."
        ),
        "bad_photo": "Please send a photo, or tap Done / Skip.",
        "bad_location": (
            "Please send a location (the “📍 Send my location” key below, or 📎 → Location),"
            " or tap Skip."
        ),
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

# The draft /opinion starts with (its token aside).
EMPTY_DRAFT: dict[str, Any] = {
    "category": None,
    "text": None,
    "photos": [],
    "latitude": None,
    "longitude": None,
    "location_skipped": False,
    "show_name": None,
    "editing": False,
    "voice_file_id": None,
    "voice_seconds": None,
    "addressed_to": None,
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
    """The voter's opinion draft as stored, or None."""
    rows = await world.rows("SELECT data FROM opinion_drafts WHERE user_id = ?", (user_id,))
    return json.loads(rows[0]["data"]) if rows else None


async def state_of(world: World, user_id: int) -> str | None:
    """The step of /opinion the voter is at, as stored, or None."""
    return await world.conversation_state("opinion", user_id)
