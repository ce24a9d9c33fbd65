"""Webhook mode end to end on the loopback: the real `serve.run` with PTB's webhook server,
the in-process Bot API in place of Telegram, and real HTTP posts of updates carrying (or not)
the secret header. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import serve
from bot.clock import SystemClock
from bot.demo.botapi import FakeBotAPI, Output
from bot.demo.people import Sender
from bot.i18n import I18n, Texts
from bot.runtime.logs import REDACTED
from bot.services.opinions import VOICE_MAX_SECONDS
from bot.settings import Settings, load_settings
from storage.run_lock import is_running
from tests.support.cli import clean_env, run_bot
from tests.support.logs import captured_logs
from tests.support.world import TOKEN

SECRET = "s3cret-Webhook_token-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PUBLIC_URL = "https://bot.example.org/telegram"
WAIT = 15.0  # seconds for the bot to answer a post; far more than it takes


def free_port() -> int:
    """A port nothing listens on now (the system picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_path": tmp_path / "jiazhan.sqlite3",
        "admin_ids": [1],
        "mode": "webhook",
        "webhook_url": PUBLIC_URL,
        "webhook_listen": "127.0.0.1",
        "webhook_port": free_port(),
        "health_port": free_port(),
        "webhook_secret": SECRET,
        **overrides,
    }
    return load_settings(_env_file=None, **values)


async def until(condition: Callable[[], bool], what: str, within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class RunningBot:
    """`python -m bot` in webhook mode, in-process: `serve.run` with the fake Bot API and a
    stop event instead of signals. Start, post updates over HTTP, stop, start again."""

    def __init__(self, settings: Settings, api: FakeBotAPI) -> None:
        self.settings = settings
        self.api = api
        self.clock = SystemClock()
        self._update_ids = itertools.count(1)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[int] | None = None
        self.http = httpx.AsyncClient(trust_env=False, timeout=WAIT)  # no proxy: loopback only

    def next_update_id(self) -> int:
        return next(self._update_ids)

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.settings.webhook_port}/{serve.WEBHOOK_PATH}"

    @property
    def healthz(self) -> str:
        return f"http://127.0.0.1:{self.settings.health_port}{serve.HEALTH_PATH}"

    async def start(self) -> None:
        """Run until stopped; returns once both servers answer."""
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            serve.run(self.settings, request=self.api, stop=self._stop)
        )
        deadline = time.monotonic() + WAIT
        while True:
            if self._task.done():
                raise AssertionError(f"the bot stopped at start with {self._task.result()}")
            try:
                await self.http.get(self.healthz)
                await self.http.get(self.webhook)  # PTB answers 405 to a GET: it listens
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)

    async def stop(self) -> int:
        """Stop as SIGTERM would; the exit status."""
        if self._task is None:
            return 0
        self._stop.set()
        status = await asyncio.wait_for(self._task, WAIT)
        self._task = None
        return status

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        """An update as Telegram posts it (the secret header unless None)."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.http.post(self.webhook, json=update, headers=headers)

    async def close(self) -> None:
        await self.stop()
        await self.http.aclose()


@asynccontextmanager
async def running_bots(tmp_path: Path) -> AsyncIterator[Callable[..., RunningBot]]:
    """Make RunningBots (not started) on the database in `tmp_path`; each is stopped and
    closed at the end."""
    made: list[RunningBot] = []

    def make(api: FakeBotAPI | None = None, **overrides: Any) -> RunningBot:
        bot = RunningBot(webhook_settings(tmp_path, **overrides), api or FakeBotAPI())
        made.append(bot)
        return bot

    try:
        yield make
    finally:
        for bot in made:
            await bot.close()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Callable[..., RunningBot]]:
    async with running_bots(tmp_path) as make:
        yield make


class Chatter(Sender):
    """Someone whose updates reach the bot as Telegram's webhook posts do."""

    def __init__(self, bot: RunningBot, user_id: int, language_code: str = "zh-hans") -> None:
        super().__init__(bot, user_id, "网钩用户", language_code)
        self.bot = bot
        self.texts: Texts = I18n(bot.settings.zone).texts(
            "zh_CN" if language_code.startswith("zh") else "en"
        )

    def outputs(self) -> list[Output]:
        return [o for o in self.bot.api.outputs if o.chat_id == self.id]

    async def _post(self, update: dict[str, Any], expect: Callable[[list[Output]], bool]) -> None:
        before = len(self.outputs())
        answer = await self.bot.post(update)
        assert answer.status_code == 200, answer.text
        await until(lambda: expect(self.outputs()[before:]), f"an answer to {update}")

    async def send(self, text: str, expect: str) -> None:
        """Send `text`; wait until an answer holding `expect` (in its text or a button) comes."""
        await self._post(
            self.text_update(text),
            lambda new: any(expect in o.text or expect in o.buttons() for o in new),
        )

    async def tap(self, label: str) -> None:
        """Tap the newest button labelled `label`; wait until the tap is answered and the bot
        has said something in the chat."""
        message, data = self._button(label)
        update = self.tap_update(data, message)
        query_id = update["callback_query"]["id"]
        await self._post(update, lambda new: bool(new) and query_id in self._answered())

    def _answered(self) -> set[str]:
        calls = self.bot.api.calls_to("answerCallbackQuery")
        return {str(c.params.get("callback_query_id")) for c in calls}

    def _button(self, label: str) -> tuple[dict[str, Any], str]:
        for message in reversed(self.bot.api.chat_messages(self.id)):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return message, str(button["callback_data"])
        raise AssertionError(f"no button {label!r} in chat {self.id}")

    def buttons(self) -> list[str]:
        """The labels under the newest message that has buttons."""
        for message in reversed(self.bot.api.chat_messages(self.id)):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if rows:
                return [b["text"] for row in rows for b in row]
        return []


def set_webhook_calls(api: FakeBotAPI) -> list[dict[str, Any]]:
    return [call.params for call in api.calls_to("setWebhook")]


# --- the secret --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
async def test_an_update_posted_with_the_secret_is_handled(
    running: Callable[..., RunningBot], lang: str
) -> None:
    bot = running()
    await bot.start()
    voter = Chatter(bot, 5101, lang)
    await voter.send("/start", expect=voter.texts("privacy.agree"))
    assert voter.buttons() == [voter.texts("privacy.agree")]
    calls = set_webhook_calls(bot.api)
    assert [(c["url"], c["secret_token"]) for c in calls] == [(PUBLIC_URL, SECRET)]
    assert await bot.stop() == 0


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("wrong-secret-0123456789", id="wrong"),
        pytest.param(SECRET.upper(), id="other-case"),
        pytest.param(SECRET[:-1], id="one-short"),
        pytest.param(f"{SECRET}0", id="one-more"),
    ],
)
async def test_a_wrong_or_missing_secret_gets_403_and_is_not_handled(
    running: Callable[..., RunningBot], secret: str | None
) -> None:
    bot = running()
    await bot.start()
    intruder = Chatter(bot, 5201)
    answer = await bot.post(intruder.text_update("/start"), secret=secret)
    assert answer.status_code == 403
    # a genuine post after it is answered; by then the forged one would have been too
    voter = Chatter(bot, 5202)
    await voter.send("/start", expect=voter.texts("privacy.agree"))
    assert intruder.outputs() == []
    assert await bot.stop() == 0


async def test_a_post_without_json_is_refused(running: Callable[..., RunningBot]) -> None:
    bot = running()
    await bot.start()
    answer = await bot.http.post(
        bot.webhook, content=b"update_id=1", headers={SECRET_HEADER: SECRET}
    )
    assert answer.status_code == 403
    assert bot.api.outputs == []


# --- a restart ---------------------------------------------------------------------------------


async def test_a_restart_continues_a_conversation_begun_before_it(
    running: Callable[..., RunningBot],
) -> None:
    api = FakeBotAPI()
    bot = running(api)
    await bot.start()
    voter = Chatter(bot, 5301)
    say = voter.texts
    await voter.send("/start", expect=say("privacy.agree"))
    await voter.tap(say("privacy.agree"))
    await voter.tap("学院路街道")
    await voter.tap("学院路街道代表之家")
    await voter.send("/opinion", expect=say("opinion.ask_category").splitlines()[0])
    await voter.tap(voter.buttons()[0])
    assert voter.outputs()[-1].text == say("opinion.ask_text", minutes=VOICE_MAX_SECONDS // 60)
    assert await bot.stop() == 0

    # the same database and port, a new process as far as the bot can tell
    await bot.start()
    await voter.send("路口的红绿灯坏了两个星期，晚上过马路很危险。", expect=say("opinion.skip"))
    assert [(c["url"], c["secret_token"]) for c in set_webhook_calls(api)] == [
        (PUBLIC_URL, SECRET),
        (PUBLIC_URL, SECRET),
    ]
    assert await bot.stop() == 0


async def test_a_second_bot_on_the_same_database_is_refused(
    running: Callable[..., RunningBot], capsys: pytest.CaptureFixture[str]
) -> None:
    first = running()
    await first.start()
    second = RunningBot(first.settings, FakeBotAPI())
    status = await serve.run(second.settings, request=second.api, stop=asyncio.Event())
    assert status == serve.EXIT_CONFIG
    assert "a bot is already running" in capsys.readouterr().err
    assert second.api.calls == []
    await second.http.aclose()
    # the first one still answers
    voter = Chatter(first, 5401)
    await voter.send("/start", expect=voter.texts("privacy.agree"))


# --- refusals at start -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "is missing (needed in webhook mode)"),
        ("short-secret", "must be 16 to 256 letters, digits, _ or -"),
        ("a secret with spaces in it", "must be 16 to 256 letters, digits, _ or -"),
        ("秘密" * 10, "must be 16 to 256 letters, digits, _ or -"),
        ("x" * 257, "must be 16 to 256 letters, digits, _ or -"),
    ],
)
async def test_webhook_mode_without_a_good_secret_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secret: str | None, reason: str
) -> None:
    settings = webhook_settings(tmp_path, webhook_secret=secret)
    api = FakeBotAPI()
    status = await serve.run(settings, request=api, stop=asyncio.Event())
    assert status == serve.EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith(f"error: setting JIAZHAN_WEBHOOK_SECRET {reason}")
    assert err.count("\n") == 1
    assert "secrets.token_urlsafe" in err  # how to make a good one
    assert api.calls == []  # Telegram was never asked
    assert not settings.database_path.exists()  # nothing was created


@pytest.mark.parametrize("which", ["webhook_port", "health_port"])
async def test_a_port_already_taken_stops_the_start_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        settings = webhook_settings(tmp_path, **{which: port})
        status = await serve.run(settings, request=FakeBotAPI(), stop=asyncio.Event())
    assert status == serve.EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot listen for ")
    assert f"127.0.0.1:{port}" in err and "\n" not in err
    # it let go of the database: a bot can start on it now
    assert not is_running(settings.database_path)


# --- the log -----------------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_the_secret_never_reaches_the_log_even_with_wire_logs(
    running: Callable[..., RunningBot], log_format: str
) -> None:
    """PTB logs setWebhook's parameters (the secret among them) at DEBUG with wire logs on."""
    bot = running(log_level="DEBUG", wire_log=True, log_format=log_format)
    with captured_logs(bot.settings) as log:
        await bot.start()
        voter = Chatter(bot, 5501)
        await voter.send("/start", expect=voter.texts("privacy.agree"))
        await bot.post(voter.text_update("/help"), secret="wrong-secret-0123456789")
        assert await bot.stop() == 0
    text = log.getvalue()
    assert "setWebhook" in text  # the wire logs were on
    assert SECRET not in text and TOKEN not in text
    assert REDACTED in text


def test_a_file_that_is_not_a_database_stops_the_start_in_one_line(tmp_path: Path) -> None:
    """It used to hang for ever with the run lock held (the connection's thread kept the
    process alive); now one line names the way back, exit status 2, the lock let go."""
    database = tmp_path / "jiazhan.sqlite3"
    database.write_bytes(b"not a database, but a note someone saved here\n" * 200)
    env = clean_env(
        JIAZHAN_BOT_TOKEN=TOKEN,
        JIAZHAN_BOT_API_BASE_URL="http://127.0.0.1:9/bot",
        JIAZHAN_DATABASE_PATH=str(database),
    )
    done = run_bot(tmp_path, env)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: {database} cannot be opened as the bot's database (file is not a database);"
        " put a backup in its place with `python -m bot restore FILE`"
    ]
    assert not is_running(database)
