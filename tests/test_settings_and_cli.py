"""Settings: a missing or malformed setting stops `python -m bot` with exit status 2 and one
line on stderr that names it, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import ENV_PREFIX, Settings, SettingsError, load_settings
from tests.support.cli import clean_env, run_bot

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
EXIT_CONFIG = 2


@dataclass(frozen=True)
class Case:
    env: dict[str, str]
    names: str  # the setting the one line must name
    args: tuple[str, ...] = ()
    dotenv: bytes | None = None  # a .env file in the working directory
    secret: str | None = None  # a value that must not be echoed


CASES: dict[str, Case] = {
    "no-token": Case({}, "JIAZHAN_BOT_TOKEN"),
    "malformed-token": Case(
        {"JIAZHAN_BOT_TOKEN": "123456:tooShortSecret"},
        "JIAZHAN_BOT_TOKEN",
        secret="tooShortSecret",
    ),
    "bad-timezone": Case({"JIAZHAN_TIMEZONE": "Mars/Olympus_Mons"}, "JIAZHAN_TIMEZONE"),
    "limit-not-a-number": Case(
        {"JIAZHAN_DAILY_OPINION_LIMIT": "abc"}, "JIAZHAN_DAILY_OPINION_LIMIT"
    ),
    "admin-ids": Case({"JIAZHAN_ADMIN_IDS": "1,x"}, "JIAZHAN_ADMIN_IDS"),
    "dotenv-in-cwd": Case({}, "JIAZHAN_TIMEZONE", dotenv=b"JIAZHAN_TIMEZONE=Nowhere/Town\n"),
    "stations-import-checks-settings-too": Case(
        {"JIAZHAN_TIMEZONE": "Nowhere/Town"},
        "JIAZHAN_TIMEZONE",
        args=("stations", "import", "stations.csv"),
    ),
    "dotenv-not-utf8": Case(
        {},
        ".env",
        dotenv="# 家站 配置\nJIAZHAN_LOG_LEVEL=INFO\n".encode("gbk"),
    ),
}
# every case but the token ones has a valid token, so the named setting is the only fault
NEEDS_TOKEN = {
    name
    for name, case in CASES.items()
    if "JIAZHAN_BOT_TOKEN" not in case.env and case.names != "JIAZHAN_BOT_TOKEN"
}


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Run every case at once (each is a fresh interpreter), then let the tests look."""
    running = {}
    for name, case in CASES.items():
        cwd = tmp_path_factory.mktemp(name)
        if case.dotenv is not None:
            (cwd / ".env").write_bytes(case.dotenv)
        env = clean_env(
            # should a case pass validation, fail fast instead of calling Telegram
            JIAZHAN_BOT_API_BASE_URL="http://127.0.0.1:9",
            JIAZHAN_DATABASE_PATH=str(cwd / "db.sqlite3"),
        )
        if name in NEEDS_TOKEN:
            env["JIAZHAN_BOT_TOKEN"] = TOKEN
        env.update(case.env)
        running[name] = subprocess.Popen(
            [sys.executable, "-m", "bot", *case.args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finished = {}
    for name, process in running.items():
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        finished[name] = Result(process.returncode, stdout, stderr)
    return finished


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_setting_stops_the_bot_with_one_line_naming_it(
    results: dict[str, Result], name: str
) -> None:
    case, result = CASES[name], results[name]
    lines = result.stderr.strip().splitlines()
    assert result.returncode == EXIT_CONFIG, result.stderr
    assert len(lines) == 1, result.stderr
    assert case.names in lines[0], lines
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    if case.secret:
        assert case.secret not in result.stderr


def test_no_token_names_the_missing_setting_exactly_and_the_demo(
    results: dict[str, Result],
) -> None:
    assert results["no-token"].stderr == (
        "error: setting JIAZHAN_BOT_TOKEN is missing; to try the bot without one,"
        " run `python -m bot demo`\n"
    )


# --- the same rules in-process ----------------------------------------------------------------


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no .env here
    return monkeypatch


def test_defaults_with_just_a_token(no_env: pytest.MonkeyPatch) -> None:
    no_env.setenv("JIAZHAN_BOT_TOKEN", f"  {TOKEN}  ")
    settings = load_settings()
    assert settings.bot_token == TOKEN  # surrounding spaces from a copy-paste are dropped
    assert settings.admin_ids == []
    assert settings.default_locale == "zh_CN"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.daily_opinion_limit == 5
    assert settings.invitation_ttl_days == 7
    assert settings.mode == "polling"


def test_wire_log_timeout_and_unconsented_days_defaults_and_values(
    no_env: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(need_token=False)
    assert settings.wire_log is False
    assert settings.conversation_timeout_hours == 24
    assert settings.unconsented_days == 30
    no_env.setenv("JIAZHAN_WIRE_LOG", "true")
    no_env.setenv("JIAZHAN_CONVERSATION_TIMEOUT_HOURS", "0.5")
    no_env.setenv("JIAZHAN_UNCONSENTED_DAYS", "1")
    settings = load_settings(need_token=False)
    assert settings.wire_log is True
    assert settings.conversation_timeout_hours == 0.5
    assert settings.unconsented_days == 1
    no_env.setenv("JIAZHAN_WIRE_LOG", "false")
    assert load_settings(need_token=False).wire_log is False


def test_admin_ids_are_read_from_a_comma_separated_list(no_env: pytest.MonkeyPatch) -> None:
    no_env.setenv("JIAZHAN_ADMIN_IDS", " 1, 22 ,333,")
    assert load_settings(need_token=False).admin_ids == [1, 22, 333]
    no_env.setenv("JIAZHAN_ADMIN_IDS", "")
    assert load_settings(need_token=False).admin_ids == []


def test_the_token_is_only_required_to_run(no_env: pytest.MonkeyPatch) -> None:
    assert load_settings(need_token=False).bot_token is None
    with pytest.raises(
        SettingsError, match=r"^setting JIAZHAN_BOT_TOKEN is missing; .*python -m bot demo`$"
    ):
        load_settings()


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"JIAZHAN_TIMEZONE": "Asia/Beijing"}, "JIAZHAN_TIMEZONE"),
        ({"JIAZHAN_TIMEZONE": "../../etc/passwd"}, "JIAZHAN_TIMEZONE"),
        ({"JIAZHAN_DAILY_OPINION_LIMIT": "0"}, "JIAZHAN_DAILY_OPINION_LIMIT"),
        ({"JIAZHAN_DEFAULT_LOCALE": "fr"}, "JIAZHAN_DEFAULT_LOCALE"),
        ({"JIAZHAN_MODE": "webhook"}, "JIAZHAN_WEBHOOK_URL"),
        (
            {"JIAZHAN_MODE": "webhook", "JIAZHAN_WEBHOOK_URL": "http://example.org/hook"},
            "JIAZHAN_WEBHOOK_URL",
        ),
        ({"JIAZHAN_TRACKING_PREFIX": "hd-"}, "JIAZHAN_TRACKING_PREFIX"),
        ({"JIAZHAN_BOT_TOKEN": "hello world"}, "JIAZHAN_BOT_TOKEN"),
        ({"JIAZHAN_DAILY_OPINION_LIMIT": "abc"}, "JIAZHAN_DAILY_OPINION_LIMIT"),
        ({"JIAZHAN_ADMIN_IDS": "1,x"}, "JIAZHAN_ADMIN_IDS"),
        ({"JIAZHAN_INVITATION_TTL_DAYS": "0"}, "JIAZHAN_INVITATION_TTL_DAYS"),
        ({"JIAZHAN_WEBHOOK_PORT": "99999"}, "JIAZHAN_WEBHOOK_PORT"),
        ({"JIAZHAN_LOG_LEVEL": "LOUD"}, "JIAZHAN_LOG_LEVEL"),
        ({"JIAZHAN_BOT_TOKEN": "123:abc"}, "JIAZHAN_BOT_TOKEN"),
        ({"JIAZHAN_WIRE_LOG": "maybe"}, "JIAZHAN_WIRE_LOG"),
        ({"JIAZHAN_CONVERSATION_TIMEOUT_HOURS": "0"}, "JIAZHAN_CONVERSATION_TIMEOUT_HOURS"),
        ({"JIAZHAN_CONVERSATION_TIMEOUT_HOURS": "-1"}, "JIAZHAN_CONVERSATION_TIMEOUT_HOURS"),
        ({"JIAZHAN_CONVERSATION_TIMEOUT_HOURS": "a day"}, "JIAZHAN_CONVERSATION_TIMEOUT_HOURS"),
        ({"JIAZHAN_CONVERSATION_TIMEOUT_HOURS": "inf"}, "JIAZHAN_CONVERSATION_TIMEOUT_HOURS"),
        ({"JIAZHAN_CONVERSATION_TIMEOUT_HOURS": "nan"}, "JIAZHAN_CONVERSATION_TIMEOUT_HOURS"),
        ({"JIAZHAN_UNCONSENTED_DAYS": "0"}, "JIAZHAN_UNCONSENTED_DAYS"),
        ({"JIAZHAN_UNCONSENTED_DAYS": "1.5"}, "JIAZHAN_UNCONSENTED_DAYS"),
        ({"JIAZHAN_UNCONSENTED_DAYS": "a month"}, "JIAZHAN_UNCONSENTED_DAYS"),
    ],
)
def test_settings_error_is_one_line_naming_the_setting(
    no_env: pytest.MonkeyPatch, env: dict[str, str], name: str
) -> None:
    for key, value in env.items():
        no_env.setenv(key, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(need_token=False)
    message = str(caught.value)
    assert message.startswith(f"setting {name} ")
    assert "\n" not in message
    assert "Value error" not in message and "pydantic" not in message


def test_every_setting_is_documented_in_env_example() -> None:
    documented = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"{ENV_PREFIX}{name.upper()}=" in documented, name


def test_an_unreachable_bot_api_stops_with_one_clear_line(tmp_path: Path) -> None:
    """Nothing listens on the discard port of the loopback: the start says so, no traceback."""
    env = clean_env(
        JIAZHAN_BOT_TOKEN="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
        JIAZHAN_BOT_API_BASE_URL="http://127.0.0.1:9",
        JIAZHAN_DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        JIAZHAN_LOG_LEVEL="ERROR",
    )
    done = run_bot(tmp_path, env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: cannot reach the Telegram Bot API at http://127.0.0.1:9: "
        "httpx.ConnectError: All connection attempts failed"
    ]
