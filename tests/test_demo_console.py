"""The demo console in this process: the seeded demo, lines typed at it as a pipe would give
them, and the transcript it prints. Bad console input gets one clear line in the console's
language and the demo goes on; the clock moves and what falls due is shown to its chat;
photos, locations and files reach the bot; documents the bot sends are saved."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.clock import FixedClock
from bot.demo.botapi import MAX_DOWNLOAD
from bot.demo.cast import CAST, Role
from bot.demo.console import Terminal
from bot.demo.session import START_AT, Demo, demo_settings

LANGS = pytest.mark.parametrize("locale", ["zh_CN", "en"])

# What the console says, written out, so a wrong language or a missing catalog fails.
SAYS = {
    "zh_CN": {
        "unknown_role": (
            "没有“nobody”这个身份。可以是 voter、deputy、staff 或 admin，例如 :as deputy"
        ),
        "no_button": "这里没有第 9 个按钮。要把数字本身发给机器人，请输入 :say 9",
        "clock_usage": "请这样写：:clock +1d（也可以 +30m、+3h、+2w，一次最多一年）",
        "no_file": "找不到文件“/no/such”。",
        "file_usage": "请在 :file 后面写文件路径，例如 :file 草案.txt",
        "not_a_file": "“{path}”不是普通文件（例如是文件夹或设备），:file 只能发送普通文件。",
        "file_too_big": "文件“{path}”超过 20 MB，机器人无法下载这么大的文件。",
        "unknown_command": "没有 :soon 这个命令。输入 :help 查看控制台命令。",
        "location_usage": "请这样写：:location 纬度 经度，例如 :location 39.99 116.35",
        "say_usage": "请在 :say 后面写要发送的文字，例如 :say 12",
        "now_deputy": "你现在是代表张伟。",
        "prompt": "选民刘洋 › ",
        "remind": "⏰ 学院路街道代表之家的意见建议 {no} 已提交 3 天，还没有代表认领。",
        "moved": "⏱ 时间前进到",
    },
    "en": {
        "unknown_role": (
            "There is nobody called “nobody” here: use voter, deputy, staff or admin,"
            " e.g. :as deputy"
        ),
        "no_button": "There is no button 9 here. To send the number itself, type :say 9",
        "clock_usage": (
            "Write it like this: :clock +1d (or +30m, +3h, +2w; at most a year at a time)"
        ),
        "no_file": "There is no file “/no/such”.",
        "file_usage": "Write the file's path after :file, e.g. :file draft.txt",
        "not_a_file": (
            "“{path}” is not a regular file (a folder or a device, say): :file sends only"
            " regular files."
        ),
        "file_too_big": "The file “{path}” is over 20 MB: a bot cannot download a file that big.",
        "unknown_command": "There is no command :soon. Type :help for the console's commands.",
        "location_usage": "Write it like this: :location LAT LON, e.g. :location 39.99 116.35",
        "say_usage": "Write the text to send after :say, e.g. :say 12",
        "now_deputy": "You are now Deputy 张伟.",
        "prompt": "Voter 刘洋 › ",
        "remind": (
            "⏰ Opinion {no} at 学院路街道代表之家 has waited 3 days and no deputy has claimed it."
        ),
        "moved": "⏱ The time is now ",
    },
}


class Typist:
    """Lines typed at the demo console, and what it printed since the last look."""

    def __init__(self, demo: Demo, locale: str, files: Path) -> None:
        self.demo = demo
        self.out = io.StringIO()
        console = Console(file=self.out, width=120, highlight=False, color_system=None)
        texts = demo.deployment.services.i18n.texts(locale)
        self.terminal = Terminal(demo, texts, console, False, files)
        self._seen = 0

    async def type(self, *lines: str) -> str:
        """Type the lines; everything printed meanwhile (the lines echoed included)."""
        for line in lines:
            assert await self.terminal.handle(line)
        return self.printed()

    def shown(self) -> str:
        """Show what the bot sent outside any line (a test's own send); what was printed."""
        self.terminal.flush()
        return self.printed()

    def printed(self) -> str:
        printed = self.out.getvalue()[self._seen :]
        self._seen += len(printed)
        return printed


@pytest.fixture
async def demo(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Demo]:
    locale = getattr(request, "param", "zh_CN")
    opened, seeded = await Demo.open(demo_settings(tmp_path / "demo.sqlite3", locale))
    assert seeded
    yield opened
    await opened.close()


def typist(demo: Demo, tmp_path: Path) -> Typist:
    return Typist(demo, demo.settings.default_locale, tmp_path / "demo-files")


async def rows(demo: Demo, sql: str) -> list[dict[str, object]]:
    return [dict(row) for row in await demo.deployment.db.fetchall(sql, ())]


OPEN = "SELECT name FROM conversation_states WHERE key LIKE '[{voter},%'"


def calls(demo: Demo) -> int:
    """How many requests the bot has made of the Bot API."""
    return len(demo.api.calls)


# --- bad console input ------------------------------------------------------------------------


@pytest.mark.parametrize("demo", ["zh_CN", "en"], indirect=True)
async def test_bad_console_input_gets_one_clear_line_and_the_demo_goes_on(
    demo: Demo, tmp_path: Path
) -> None:
    says = SAYS[demo.settings.default_locale]
    console = typist(demo, tmp_path)
    before = calls(demo)
    lines = {
        ":as nobody": says["unknown_role"],
        "9": says["no_button"],
        ":clock soon": says["clock_usage"],
        ":clock +0d": says["clock_usage"],
        ":clock +400d": says["clock_usage"],
        ":clock -1d": says["clock_usage"],
        ":soon": says["unknown_command"],
        ":location 91 116": says["location_usage"],
        ":location here": says["location_usage"],
        ":say": says["say_usage"],
        ":file /no/such": says["no_file"],
        ":file": says["file_usage"],
    }
    for line, answer in lines.items():
        printed = await console.type(line)
        assert printed == f"{says['prompt']}{line}\n{answer}\n", line
    assert calls(demo) == before  # nothing reached the bot
    assert console.terminal.role is Role.VOTER
    # and the demo goes on: the voter is answered
    assert "[1] " in await console.type("/start")
    assert calls(demo) > before


async def test_a_number_taps_only_the_buttons_shown_last_in_this_chat(
    demo: Demo, tmp_path: Path
) -> None:
    console = typist(demo, tmp_path)
    consent = await console.type("/start")
    assert "[1] ✅ 同意并继续" in consent
    assert SAYS["zh_CN"]["no_button"].replace("9", "2") in await console.type("2")
    assert "[1] 学院路街道" in await console.type("1")
    # the deputy's chat has shown no buttons in this run (the seed's notices are not shown,
    # their buttons not tapped): a number taps nothing there
    await console.type(":as deputy")
    assert SAYS["zh_CN"]["no_button"].replace("9", "1") in await console.type("1")
    # back in the voter's chat, the location key is still the last shown: the demo phone's
    # location, then the nearest station
    await console.type(":as voter", "1", "1")
    user = await rows(
        demo, f"SELECT station_id FROM users WHERE telegram_id = {CAST[Role.VOTER].user_id}"
    )
    assert user[0]["station_id"] is not None
    # a number as a message, not a tap: :say
    taps = len(demo.api.calls_to("answerCallbackQuery"))
    assert "🤖 " in await console.type(":say 1")
    assert len(demo.api.calls_to("answerCallbackQuery")) == taps
    assert demo.api.calls_to("sendMessage")[-1].params["chat_id"] == CAST[Role.VOTER].user_id


# --- time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("demo", ["zh_CN", "en"], indirect=True)
async def test_moving_the_clock_shows_the_deputy_the_unclaimed_reminders(
    demo: Demo, tmp_path: Path
) -> None:
    """The seed's two newest opinions were submitted yesterday and nobody claimed them: with
    the default JIAZHAN_UNCLAIMED_REMIND_DAYS (3), four days on the deputy is reminded of
    each, once."""
    says = SAYS[demo.settings.default_locale]
    assert demo.settings.unclaimed_remind_days == 3
    console = typist(demo, tmp_path)
    unclaimed = await rows(
        demo, "SELECT tracking_no FROM opinions WHERE status = 'submitted' ORDER BY id"
    )
    numbers = [str(r["tracking_no"]) for r in unclaimed]
    assert len(numbers) == 2
    assert await console.type(":as deputy") == f"{says['prompt']}:as deputy\n{says['now_deputy']}\n"
    reminders = [says["remind"].format(no=number) for number in numbers]
    start = demo.clock.now()
    printed = await console.type(":clock +1d")
    assert says["moved"] in printed
    assert not any(reminder in printed for reminder in reminders)  # not due yet
    printed = await console.type(":clock +3d")
    for reminder in reminders:
        assert f"🤖 {reminder}" in printed  # in the deputy's own chat: no "→" mark
        assert printed.count(reminder) == 1
    assert (demo.clock.now() - start).days == 4
    printed = await console.type(":clock +1h")
    assert not any(reminder in printed for reminder in reminders)  # each once


async def test_moving_the_clock_plays_the_turn_reminders_at_their_times(
    demo: Demo, tmp_path: Path
) -> None:
    """Eight days on, the deputy's first reception turn (a Saturday morning within the
    week) has come and gone: the evening before, an hour before and the prompt to log the
    visit each came at its own time, as the job queue would have sent them, though the clock
    jumped eight days at once."""
    console = typist(demo, tmp_path)
    printed = await console.type(":clock +8d")
    deputy = "[→ 代表张伟]"
    assert f"{deputy} ⏰ 明天" in printed
    assert f"{deputy} ⏰ 一小时后" in printed
    assert "要记录这次履职吗？" in printed
    sent = await rows(demo, "SELECT kind FROM reminders_sent WHERE kind IN ('evening', 'hour')")
    assert {r["kind"] for r in sent} == {"evening", "hour"}


# --- photos, locations, files -----------------------------------------------------------------


async def test_photo_location_and_file_reach_the_bot(demo: Demo, tmp_path: Path) -> None:
    """A voter writing an opinion attaches a generated photo and a location; staff send a
    draft law as a file, which the bot fetches with getFile."""
    console = typist(demo, tmp_path)
    await console.type("/start", "1", "1", "1", "/opinion", "2")
    await console.type("学院路口的人行横道没有信号灯，早晚高峰过马路很危险。")
    assert "已收到 1 张照片" in await console.type(":photo")
    await console.type("1")  # done with photos
    assert "是否向代表显示您的名字" in await console.type(":location 39.99 116.35")
    await console.type("2", "1")  # anonymous, send
    opinion = (await rows(demo, "SELECT photos, latitude, longitude FROM opinions ORDER BY id"))[-1]
    (photo,) = json.loads(str(opinion["photos"]))
    assert demo.api.files[photo].startswith(b"\x89PNG")
    assert (opinion["latitude"], opinion["longitude"]) == (39.99, 116.35)

    draft = tmp_path / "草案.txt"
    draft.write_text(
        "条例（草案）\n\n第一条　为了测试，制定本条例。\n\n第二条　本条例自公布之日起施行。\n"
    )
    await console.type(":as staff", "/consult", "2")  # a new consultation
    printed = await console.type(f":file {draft}")
    assert "共 2 条，第一条 … 第二条" in printed
    assert [c.method for c in demo.api.calls if c.method in ("getFile", "download")] == [
        "getFile",
        "download",
    ]


async def test_documents_the_bot_sends_are_saved_beside_the_database(
    demo: Demo, tmp_path: Path
) -> None:
    """The deputy's calendar (.ics) is shown by its name and saved where the line says."""
    console = typist(demo, tmp_path)
    await console.type(":as deputy")
    printed = await console.type("/calendar")
    assert "📄 jiazhan-duty.ics — " in printed
    saved = re.search(r"↳ 已保存到 (\S+)", printed)
    assert saved, printed
    path = Path(saved.group(1))
    assert path.parent == tmp_path / "demo-files"
    calendar = await asyncio.to_thread(path.read_bytes)
    assert calendar.startswith(b"BEGIN:VCALENDAR")
    assert calendar.count(b"BEGIN:VEVENT") == 4  # the seed's month of turns


async def test_quit_ends_the_console(demo: Demo, tmp_path: Path) -> None:
    console = typist(demo, tmp_path)
    assert not await console.terminal.handle(":quit")


async def test_a_reply_keyboard_is_numbered_too(demo: Demo, tmp_path: Path) -> None:
    """Issue 12's request-location keyboard is a reply keyboard: the console numbers its
    buttons, and a number sends the button's text as a message, not a tap."""
    console = typist(demo, tmp_path)
    voter = CAST[Role.VOTER].user_id
    bot = demo.deployment.app.bot
    await console.type("/start", "1")  # agreed
    await bot.send_message(voter, "要继续吗？", reply_markup=ReplyKeyboardMarkup([["是", "否"]]))
    assert console.shown() == "🤖 要继续吗？\n   [1] 是  [2] 否\n"
    taps = len(demo.api.calls_to("answerCallbackQuery"))
    printed = await console.type("2")
    assert printed.startswith("选民刘洋 › 2\n🤖 ")
    assert "我没有理解这条消息" in printed  # "否" reached the bot as a message
    assert len(demo.api.calls_to("answerCallbackQuery")) == taps
    assert demo.api.calls_to("sendMessage")[-1].params["chat_id"] == voter


@pytest.mark.parametrize("demo", ["zh_CN", "en"], indirect=True)
async def test_the_location_key_shares_the_demo_phones_location(demo: Demo, tmp_path: Path) -> None:
    """The location key asked for with a station: its number, or its label typed, shares where
    the demo's phone is (the cast's home station) as the phone would; nothing is sent as
    text, and the key is gone afterwards."""
    console = typist(demo, tmp_path)
    texts = demo.deployment.services.i18n.texts(demo.settings.default_locale)
    voter = CAST[Role.VOTER].user_id
    key = texts("station.location_key")
    assert f"[1] {key}\n" in await console.type("/start", "1")
    printed = await console.type("1")
    assert texts("station.nearest") in printed
    nearest = texts("station.nearest_item", station="学院路街道代表之家", km=0)
    assert f"[1] {nearest}" in printed
    assert demo.api.reply_keyboard(voter) == []
    assert demo.api.calls_to("sendMessage")[-1].params["text"] == texts("station.nearest")

    await console.type("/station")
    assert demo.api.reply_keyboard(voter)[0]["text"] == key
    printed = await console.type(key)
    assert texts("station.nearest") in printed
    assert demo.api.reply_keyboard(voter) == []


async def test_an_alert_is_shown_as_a_line_of_plain_text(demo: Demo, tmp_path: Path) -> None:
    """A tap the bot answers with an alert (here a button of a kind it no longer knows):
    the alert's text is a line of its own, never read as HTML."""
    console = typist(demo, tmp_path)
    await console.type("/start", "1")
    stale = InlineKeyboardMarkup([[InlineKeyboardButton("旧按钮", callback_data="gone:1")]])
    await demo.deployment.app.bot.send_message(
        CAST[Role.VOTER].user_id, "旧消息", reply_markup=stale
    )
    assert console.shown() == "🤖 旧消息\n   [1] 旧按钮\n"
    printed = await console.type("1")
    (alert,) = [o for o in demo.api.outputs if o.kind == "alert"]
    assert printed == f"{SAYS['zh_CN']['prompt']}1\n💬 {alert.text}\n"
    assert alert.text == "这个按钮已失效，请重新操作。"


# --- files that cannot be sent ----------------------------------------------------------------


@pytest.mark.parametrize("demo", ["zh_CN", "en"], indirect=True)
async def test_file_refuses_what_is_not_a_regular_file_or_is_too_big(
    demo: Demo, tmp_path: Path
) -> None:
    """A FIFO (whose open would wait for a writer for ever), a device that never ends, a
    folder, and a file over what a bot may download: one line each, nothing read, nothing
    sent; the demo goes on."""
    says = SAYS[demo.settings.default_locale]
    console = typist(demo, tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    big = tmp_path / "big.bin"
    with big.open("wb") as file:
        file.truncate(MAX_DOWNLOAD + 1)  # sparse: nothing written
    before = calls(demo)
    for path in (fifo, Path("/dev/zero"), tmp_path):
        printed = await asyncio.wait_for(console.type(f":file {path}"), timeout=10)
        answer = says["not_a_file"].format(path=path)
        assert printed == f"{says['prompt']}:file {path}\n{answer}\n"
    printed = await console.type(f":file {big}")
    answer = says["file_too_big"].format(path=big)
    assert printed == f"{says['prompt']}:file {big}\n{answer}\n"
    assert calls(demo) == before
    assert not demo.api.files  # nothing was taken in


# --- the demo's own clock ----------------------------------------------------------------------


async def test_a_resumed_demo_goes_on_from_its_own_clock(tmp_path: Path) -> None:
    """Three days on and the console closed: the next run starts where the clock was, not
    back at 10:00 today; a saved clock already behind today's 10:00 gives way to it."""
    settings = demo_settings(tmp_path / "demo.sqlite3", "zh_CN")
    first, seeded = await Demo.open(settings)
    try:
        assert seeded
        await typist(first, tmp_path).type(":clock +3d")
        moved = first.clock.now()
    finally:
        await first.close()
    again, seeded = await Demo.open(settings)
    try:
        assert not seeded
        assert again.clock.now() == moved
    finally:
        await again.close()
    zone = settings.zone
    later = datetime.combine(moved.astimezone(zone).date() + timedelta(days=30), START_AT, zone)
    month_on, _ = await Demo.open(settings, today=FixedClock(later))
    try:
        assert month_on.clock.now() == later
    finally:
        await month_on.close()


async def test_moving_the_clock_plays_the_nightly_and_daily_jobs(
    demo: Demo, tmp_path: Path
) -> None:
    """Each night a backup is written beside the demo's database (its own backup folder),
    and an /opinion conversation left for more than a day expires at the next daily sweep,
    as the running bot's nightly and expiry jobs would have done."""
    console = typist(demo, tmp_path)
    voter = CAST[Role.VOTER].user_id
    await console.type("/start", "1", "1", "1", "/opinion")
    open_now = await rows(demo, OPEN.format(voter=voter))
    assert open_now
    backups = tmp_path / "demo-backups"
    assert not backups.exists() or not any(backups.iterdir())
    await console.type(":clock +1d")
    (backup,) = backups.iterdir()
    assert backup.name.startswith("demo-")
    assert await rows(demo, OPEN.format(voter=voter)) == open_now  # idle less than a day
    await console.type(":clock +1d")
    assert len(list(backups.iterdir())) == 2  # a backup a night
    assert await rows(demo, OPEN.format(voter=voter)) == []
