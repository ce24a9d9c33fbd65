"""Logs never hold the bot token, at any level, and never personal data unless wire logs are
asked for: the real application at DEBUG, captured through the handler the app installs."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.runtime.logs import (
    REDACTED,
    WIRE_LOGGERS,
    RedactingFilter,
    redact,
)
from bot.settings import Settings, load_settings
from handlers.common import describe
from tests.support.cli import clean_env, run_bot
from tests.support.logs import captured_logs
from tests.support.people import Person
from tests.support.world import TOKEN, World

SECRET_PART = TOKEN.split(":", 1)[1]
FIRST_NAME = "蔡某某"
LAST_NAME = "隐私姓"
USERNAME = "secret_user"
OPINION = "我家楼下那盏路灯坏了三个月，蔡某某在此特别说明这是一段私密文字。"
LATITUDE, LONGITUDE = 39.987654, 116.345678
PRIVATE = (FIRST_NAME, LAST_NAME, USERNAME, OPINION, OPINION[:20], str(LATITUDE), str(LONGITUDE))


class NamedVoter(Person):
    """A voter whose Telegram profile carries a full name and a username."""

    def _from(self) -> dict[str, Any]:
        return {**super()._from(), "last_name": LAST_NAME, "username": USERNAME}

    def _chat(self) -> dict[str, Any]:
        return {**super()._chat(), "last_name": LAST_NAME, "username": USERNAME}


@pytest.fixture
def capture() -> Iterator[Callable[[Settings], StringIO]]:
    """Configure logging as the app does, into a StringIO; put everything back afterwards."""
    with ExitStack() as stack:
        yield lambda settings: stack.enter_context(captured_logs(settings))


def debug_settings(wire_log: bool = False) -> Settings:
    return load_settings(_env_file=None, bot_token=TOKEN, log_level="DEBUG", wire_log=wire_log)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[World]]]:
    """Start a World with the given settings (after logging is configured); stop it at the end."""
    worlds: list[World] = []

    async def start(**settings: Any) -> World:
        world = World(tmp_path, **settings)
        await world.start()
        await world.load_stations()
        worlds.append(world)
        return world

    yield start
    for world in worlds:
        await world.stop()


async def walk(world: World) -> NamedVoter:
    """/start, consent, a station, an opinion with a location and the name shown, /my, and a
    command the voter may not use."""
    voter = NamedVoter(world, 4242, FIRST_NAME, "zh-hans")
    await voter.send("/start")
    await voter.tap("✅ 同意并继续")
    await voter.tap("学院路街道")
    await voter.tap("学院路第一联络站")
    await voter.send("/opinion")
    await voter.tap("交通出行")
    await voter.send(OPINION)
    await voter.tap("跳过")
    await voter.send_location(LATITUDE, LONGITUDE)
    await voter.tap("显示我的名字")
    await voter.tap("📨 发送")
    assert "HD-2026-000001" in voter.last
    await voter.send("/my")
    await voter.send("/inbox")  # deputies only: refused, and the refusal is logged
    await voter.send(OPINION)  # stray free text outside any conversation
    return voter


# --- the real application at DEBUG ------------------------------------------------------------


async def test_a_whole_conversation_at_debug_logs_no_token_and_no_personal_data(
    capture: Callable[[Settings], StringIO], running: Callable[..., Awaitable[World]]
) -> None:
    log = capture(debug_settings())
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    world = await running(log_level="DEBUG")
    await walk(world)
    await world.outbox.drain()
    text = log.getvalue()
    assert "refused command /inbox in update " in text  # our own lines are there
    assert TOKEN not in text and SECRET_PART not in text
    for private in PRIVATE:
        assert private not in text, private


async def test_wire_logs_follow_debug_but_still_hide_the_token(
    capture: Callable[[Settings], StringIO], running: Callable[..., Awaitable[World]]
) -> None:
    log = capture(debug_settings(wire_log=True))
    world = await running(log_level="DEBUG", wire_log=True)
    await walk(world)
    await world.outbox.drain()
    text = log.getvalue()
    assert "DEBUG telegram" in text  # the library's wire logs are on,
    assert FIRST_NAME in text and OPINION in text  # and they do hold personal data (documented)
    assert f"bot{REDACTED}" in text  # PTB logged its API URL, and the token was replaced
    assert TOKEN not in text and SECRET_PART not in text


def test_without_wire_logs_the_libraries_stay_at_info_when_the_level_is_debug(
    capture: Callable[[Settings], StringIO],
) -> None:
    capture(debug_settings())
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)
    for name in (*WIRE_LOGGERS, "telegram.ext.Application", "telegram.Bot", "httpx._client"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.DEBUG), name
        assert logger.getEffectiveLevel() >= logging.INFO, name
    assert logging.getLogger("telegram").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("telegram.ext").getEffectiveLevel() == logging.INFO


def test_with_wire_logs_the_libraries_follow_the_level(
    capture: Callable[[Settings], StringIO],
) -> None:
    log = capture(debug_settings(wire_log=True))
    for name in (*WIRE_LOGGERS, "telegram.ext.Application", "httpx._client"):
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG), name
    logging.getLogger("telegram.Bot").debug("Set Bot API URL: https://x/bot%s", TOKEN)
    logging.getLogger("httpx").debug("GET https://x/bot%s/getMe", TOKEN.replace(":", "%3A"))
    text = log.getvalue()
    assert TOKEN not in text and SECRET_PART not in text
    assert text.count(f"bot{REDACTED}") == 2


def test_a_quieter_level_is_not_undercut_by_the_library_floor(
    capture: Callable[[Settings], StringIO],
) -> None:
    """At WARNING, PTB's INFO lines stay out: its floor never lowers the level."""
    log = capture(load_settings(_env_file=None, need_token=False, log_level="WARNING"))
    logging.getLogger("telegram.ext.Application").info("Application started")
    assert log.getvalue() == ""


# --- the filter on its own --------------------------------------------------------------------


@pytest.fixture
def filtered() -> Iterator[tuple[logging.Logger, StringIO]]:
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([TOKEN]))
    logger = logging.getLogger("tests.logging_privacy")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_the_token_is_redacted_from_message_args_exception_and_stack(
    filtered: tuple[logging.Logger, StringIO],
) -> None:
    logger, stream = filtered
    logger.debug(f"in the message {TOKEN}")
    logger.info("in args %s and %r", TOKEN, {"url": f"https://api/bot{TOKEN}/getMe"})
    logger.warning("url-encoded %s", TOKEN.replace(":", "%3A"))
    logger.warning("the secret part alone %s", SECRET_PART)
    try:
        raise RuntimeError(f"request to https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        logger.exception("with a traceback")
    logger.error("with the stack", stack_info=True, extra={"unused": TOKEN})
    text = stream.getvalue()
    assert TOKEN not in text and SECRET_PART not in text
    assert text.count(REDACTED) >= 6
    assert "RuntimeError: request to https://api.telegram.org/bot<redacted>/getMe" in text


def test_args_that_do_not_fit_are_dropped_not_printed(
    filtered: tuple[logging.Logger, StringIO], capsys: pytest.CaptureFixture[str]
) -> None:
    logger, stream = filtered
    logger.info("one placeholder %s %s", TOKEN)
    text = stream.getvalue() + capsys.readouterr().err
    assert TOKEN not in text and SECRET_PART not in text
    assert "one placeholder" in text


def test_an_unknown_token_is_redacted_by_its_shape() -> None:
    other = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
    assert redact(f"url /bot{other}/sendMessage") == f"url /bot{REDACTED}/sendMessage"
    assert (
        redact("2026-11-26 10:00:00 ok, order 12345:67") == "2026-11-26 10:00:00 ok, order 12345:67"
    )


def test_a_formatted_traceback_is_redacted_too() -> None:
    try:
        raise ValueError(TOKEN)
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    RedactingFilter([TOKEN]).filter(record)
    assert record.exc_text is not None and TOKEN not in record.exc_text
    # the raw exception is gone, so a formatter rendering it itself (JSON, error trackers)
    # has nothing to print; the standard one prints the redacted text
    assert record.exc_info is None
    formatted = logging.Formatter().format(record)
    assert "ValueError" in formatted and TOKEN not in formatted


def test_fields_given_with_extra_are_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call", (), None)
    record.url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    RedactingFilter([TOKEN]).filter(record)
    assert TOKEN not in logging.Formatter("%(message)s %(url)s").format(record)


# --- describe(): the kind of update, never what a person wrote --------------------------------


def update_of(data: dict[str, Any]) -> Update:
    return Update.de_json(data, None)  # type: ignore[arg-type]


def message_update(**content: Any) -> Update:
    person = {"id": 7, "is_bot": False, "first_name": FIRST_NAME, "username": USERNAME}
    chat = {"id": 7, "type": "private", "first_name": FIRST_NAME}
    message = {"message_id": 1, "date": 0, "chat": chat, "from": person, **content}
    return update_of({"update_id": 1, "message": message})


def button_update(data: str) -> Update:
    person = {"id": 7, "is_bot": False, "first_name": FIRST_NAME, "username": USERNAME}
    query = {"id": "q", "from": person, "chat_instance": "ci", "data": data}
    return update_of({"update_id": 2, "callback_query": query})


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        (lambda: message_update(text="/opinion"), "command /opinion"),
        (lambda: message_update(text="/start@jiazhan_bot st_12"), "command /start"),
        (lambda: message_update(text=OPINION), "text"),
        (lambda: message_update(text=f"/{FIRST_NAME} {OPINION}"), "text"),
        (lambda: message_update(text="/" + "x" * 200), "text"),
        (
            lambda: message_update(location={"latitude": LATITUDE, "longitude": LONGITUDE}),
            "location",
        ),
        (
            lambda: message_update(
                contact={"phone_number": "+8613800138000", "first_name": FIRST_NAME}
            ),
            "contact",
        ),
        (lambda: button_update("consent:st_3"), "button consent"),
        (lambda: button_update("op"), "button op"),
        (lambda: button_update(f"{FIRST_NAME}:{OPINION}"), "button with unrecognised data"),
        (lambda: button_update("a b c"), "button with unrecognised data"),
        (lambda: update_of({"update_id": 9}), "update 9"),
    ],
)
def test_describe_names_the_kind_never_free_text(
    update: Callable[[], Update], expected: str
) -> None:
    described = describe(update())
    assert described == expected
    for private in (FIRST_NAME, OPINION, "+8613800138000", str(LATITUDE)):
        assert private not in described


# --- the real entry point ---------------------------------------------------------------------


def test_python_m_bot_at_debug_with_wire_logs_never_prints_the_token(tmp_path: Path) -> None:
    """Nothing listens on the discard port: PTB logs its URL and fails; stderr has no token."""
    env = clean_env(
        JIAZHAN_BOT_TOKEN=TOKEN,
        JIAZHAN_BOT_API_BASE_URL="http://127.0.0.1:9/bot",
        JIAZHAN_DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        JIAZHAN_LOG_LEVEL="DEBUG",
        JIAZHAN_WIRE_LOG="true",
    )
    done = run_bot(tmp_path, env)
    assert done.returncode == 1, done.stderr
    assert "DEBUG telegram" in done.stderr
    assert REDACTED in done.stderr
    assert TOKEN not in done.stderr + done.stdout
    assert SECRET_PART not in done.stderr + done.stdout


# --- no Telegram ids ------------------------------------------------------------------------


async def test_a_conversation_and_a_blocked_chat_log_no_telegram_id(
    capture: Callable[[Settings], StringIO], running: Callable[..., Awaitable[World]]
) -> None:
    log = capture(debug_settings())
    world = await running(log_level="DEBUG")
    voter = await walk(world)
    world.api.blocked.add(voter.id)
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, voter.id, "error.internal")
    await world.outbox.drain()
    lines = log.getvalue().splitlines()
    assert any("not sent: the chat blocked the bot" in line for line in lines)
    for line in lines:
        assert str(voter.id) not in line, line
