"""The files in deploy/ name only what exists: every JIAZHAN_ setting they set is a real one with
a valid value, every `python -m bot …` command they run parses, the ports and paths are the
bot's own, and the service runs unprivileged. Cheap static checks: no systemd, Docker or nginx."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from bot import serve
from bot.__main__ import _parser
from bot.i18n import LOCALES_DIR
from bot.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
FILES = sorted(DEPLOY.iterdir())
SETTING = re.compile(rf"\b{ENV_PREFIX}([A-Z0-9_]+)")
COMMAND = re.compile(r"python -m bot\b([^\n;|&]*)")
DEFAULTS = Settings(_env_file=None)  # type: ignore[call-arg]


def text(name: str) -> str:
    return (DEPLOY / name).read_text(encoding="utf-8")


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes="#")
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text("jiazhan.service"))
    return parser


def test_the_three_files_are_there() -> None:
    assert {f.name for f in FILES} == {"jiazhan.service", "Containerfile", "nginx.conf"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_setting_named_is_a_real_one(path: Path) -> None:
    names = set(SETTING.findall(path.read_text(encoding="utf-8")))
    unknown = {n for n in names if n.lower() not in Settings.model_fields}
    assert not unknown, unknown


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_command_named_parses(path: Path) -> None:
    commands = COMMAND.findall(path.read_text(encoding="utf-8"))
    assert commands or path.name == "nginx.conf"  # the unit and the image do run some
    for rest in commands:
        words = shlex.split(rest.split("#")[0])
        args = _parser().parse_args(words)  # an unknown command or flag exits: a failure
        assert args.command in (None, "run", "health", "backup", "restore"), words


def test_the_systemd_unit_runs_the_bot_unprivileged_from_its_folder() -> None:
    service = unit()["Service"]
    home = Path(service["WorkingDirectory"])
    assert service["User"] not in ("root", "0")
    assert service["EnvironmentFile"] == str(home / ".env")
    assert shlex.split(service["ExecStart"]) == [str(home / ".venv/bin/python"), "-m", "bot"]
    assert service["Restart"] == "on-failure"
    # a setting to fix is not retried (the exit status of a refused start)
    assert service["RestartPreventExitStatus"] == str(serve.EXIT_CONFIG)
    assert service["KillSignal"] == "SIGTERM"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["CapabilityBoundingSet"] == ""
    # everything the bot writes by default is within the one writable folder
    writable = home / service["ReadWritePaths"].removeprefix(f"{home}/")
    for written in (DEFAULTS.database_path, DEFAULTS.backup_dir):
        assert (home / written).is_relative_to(writable), written


def test_the_containerfile_runs_the_bot_unprivileged_with_a_health_check() -> None:
    lines = [line.strip() for line in text("Containerfile").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert instructions[-1] == 'CMD ["python", "-m", "bot"]'
    check = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    assert lines[check + 1].startswith("CMD python -m bot health")
    # its settings load, and the database and backups are in the volume
    env = dict(re.findall(rf"({ENV_PREFIX}[A-Z_]+)=(\S+)", text("Containerfile")))
    settings = load_settings(
        _env_file=None,
        need_token=False,
        **{name.removeprefix(ENV_PREFIX).lower(): value for name, value in env.items()},
    )
    volume = Path(re.findall(r'^VOLUME \["([^"]+)"\]', text("Containerfile"), re.M)[0])
    assert settings.database_path.is_relative_to(volume)
    assert settings.backup_dir.is_relative_to(volume)
    assert f"EXPOSE {DEFAULTS.webhook_port} {DEFAULTS.health_port}" in instructions
    # what the code reads beside itself at run time is copied
    copied = {line.split()[1].rstrip("/") for line in instructions if line.startswith("COPY ")}
    needed = {"bot", "handlers", "storage", LOCALES_DIR.name, serve.SAMPLE_STATIONS.parent.name}
    assert needed <= copied


def test_nginx_passes_the_webhook_and_keeps_healthz_to_this_machine() -> None:
    conf = text("nginx.conf")
    blocks = dict(re.findall(r"location = (/\w+) \{(.*?)\n    \}", conf, re.S))
    webhook = blocks[f"/{serve.WEBHOOK_PATH}"]
    assert (
        f"proxy_pass http://{DEFAULTS.webhook_listen}:{DEFAULTS.webhook_port}/{serve.WEBHOOK_PATH};"
        in webhook
    )
    health = blocks[serve.HEALTH_PATH]
    assert (
        f"proxy_pass http://{DEFAULTS.webhook_listen}:{DEFAULTS.health_port}{serve.HEALTH_PATH};"
        in health
    )
    assert health.index("allow 127.0.0.1;") < health.index("deny all;")
    assert "ssl_certificate " in conf and "listen 443 ssl;" in conf
    # the settings its header tells to use are valid, and start in webhook mode
    env = dict(re.findall(rf"#\s+({ENV_PREFIX}[A-Z_]+)=(\S+)", conf))
    env[f"{ENV_PREFIX}WEBHOOK_SECRET"] = "a" * 43  # what token_urlsafe(32) makes: 43 of them
    settings = load_settings(
        _env_file=None,
        need_token=False,
        **{name.removeprefix(ENV_PREFIX).lower(): value for name, value in env.items()},
    )
    assert settings.mode == "webhook"
    assert serve.webhook_refusal(settings) is None
    assert f"{settings.webhook_url}".endswith(f"/{serve.WEBHOOK_PATH}")
