"""JIAZHAN_LOG_FORMAT=json: one JSON object a line, made by structlog's formatter behind the
same redacting filter as the text lines: no token, no webhook secret, no personal data."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.logs import REDACTED
from bot.settings import Settings, load_settings
from tests.support.cli import clean_env, run_bot
from tests.support.logs import captured_logs
from tests.support.world import TOKEN, MakeWorld
from tests.test_logging_privacy import PRIVATE, SECRET_PART, walk

SECRET = "webhook-Secret_0123456789abcdef"


def json_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "log_format": "json",
        "log_level": "DEBUG",
        "mode": "webhook",
        "webhook_url": "https://bot.example.org/telegram",
        "webhook_secret": SECRET,
        **overrides,
    }
    return load_settings(_env_file=None, **values)


def records(stream: StringIO) -> list[dict[str, Any]]:
    """Each line of the log as the object it is; fails on a line that is not one."""
    lines = stream.getvalue().splitlines()
    assert lines, "nothing was logged"
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(p, dict) for p in parsed)
    return parsed


def test_each_record_is_one_json_object_with_the_standard_fields() -> None:
    with captured_logs(json_settings()) as stream:
        logging.getLogger("bot.test").info("update %s handled in %s ms", 42, 7)
        logging.getLogger("bot.test").warning("多行\n文字")
    first, second = records(stream)
    assert list(first)[:4] == ["time", "level", "logger", "message"]
    assert first["level"] == "info" and first["logger"] == "bot.test"
    assert first["message"] == "update 42 handled in 7 ms"
    # ISO 8601 with the zone of the settings (Asia/Shanghai: +08:00)
    moment = datetime.fromisoformat(first["time"])
    assert moment.utcoffset() == timedelta(hours=8)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00", first["time"])
    assert second["level"] == "warning" and second["message"] == "多行\n文字"
    assert "exception" not in first and "_record" not in first


def test_an_exception_is_one_field_and_the_token_is_redacted_everywhere() -> None:
    with captured_logs(json_settings()) as stream:
        log = logging.getLogger("bot.test")
        log.info(f"calling https://api.telegram.org/bot{TOKEN}/getMe with {SECRET}")
        try:
            raise RuntimeError(f"request to https://api.telegram.org/bot{TOKEN}/getMe failed")
        except RuntimeError:
            log.exception("update %s failed", 9)
        log.error("with the stack", stack_info=True)
    text = stream.getvalue()
    assert TOKEN not in text and SECRET_PART not in text and SECRET not in text
    message, failure, stacked = records(stream)
    assert (
        message["message"]
        == f"calling https://api.telegram.org/bot{REDACTED}/getMe with {REDACTED}"
    )
    assert failure["message"] == "update 9 failed" and failure["level"] == "error"
    exception = failure["exception"]
    assert exception.startswith("Traceback (most recent call last):")
    assert exception.rstrip().endswith(
        f"RuntimeError: request to https://api.telegram.org/bot{REDACTED}/getMe failed"
    )
    assert "test_an_exception_is_one_field" in exception  # the whole traceback, in one field
    assert "exc_info" not in failure
    assert "Stack (most recent call last)" in stacked["stack"]


def test_extra_fields_are_fields_of_their_own_and_redacted() -> None:
    with captured_logs(json_settings()) as stream:
        logging.getLogger("bot.test").info(
            "sent", extra={"chat_count": 3, "url": f"https://x/bot{TOKEN}/send", "ok": True}
        )
    (record,) = records(stream)
    assert record["chat_count"] == 3 and record["ok"] is True
    assert record["url"] == f"https://x/bot{REDACTED}/send"


def test_the_text_format_is_unchanged() -> None:
    with captured_logs(json_settings(log_format="text")) as stream:
        logging.getLogger("bot.test").info("update %s handled", 42)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO bot\.test: update 42 handled\n",
        stream.getvalue(),
    )


async def test_a_whole_conversation_at_debug_logs_json_without_token_or_personal_data(
    make_world: MakeWorld,
) -> None:
    with captured_logs(json_settings()) as stream:
        world = await make_world(log_level="DEBUG", log_format="json")
        await walk(world)
        await world.outbox.drain()
    lines = records(stream)
    assert any(r["message"].startswith("refused command /inbox in update ") for r in lines)
    text = stream.getvalue()
    assert TOKEN not in text and SECRET_PART not in text
    for private in PRIVATE:
        assert private not in text, private


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_python_m_bot_logs_in_the_format_asked_for(tmp_path: Path, log_format: str) -> None:
    """The real entry point: nothing listens on the discard port, so the start fails and
    says so; the log lines before it are in the format asked for, without the token."""
    env = clean_env(
        JIAZHAN_BOT_TOKEN=TOKEN,
        JIAZHAN_BOT_API_BASE_URL="http://127.0.0.1:9/bot",
        JIAZHAN_DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        JIAZHAN_LOG_FORMAT=log_format,
    )
    done = run_bot(tmp_path, env)
    assert done.returncode == 1, done.stderr
    logged = [line for line in done.stderr.splitlines() if not line.startswith("error: ")]
    assert logged, done.stderr
    if log_format == "json":
        assert all(isinstance(json.loads(line), dict) for line in logged)
    else:
        assert all(not line.startswith("{") for line in logged)
    assert TOKEN not in done.stderr and SECRET_PART not in done.stderr
