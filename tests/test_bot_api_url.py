"""A self-hosted Bot API server's address is accepted as its root or in PTB's base_url form
(…/bot), and a wrong address is named as such instead of blaming the token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol

import pytest

from bot.app import build_application
from bot.clock import FixedClock
from bot.services import build_services
from bot.settings import load_settings
from storage import Database
from tests.support.cli import clean_env, run_bot
from tests.support.world import TOKEN


@pytest.mark.parametrize(
    "given",
    [
        "http://127.0.0.1:8081",
        "http://127.0.0.1:8081/",
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/bot/",
        " http://127.0.0.1:8081/bot ",
    ],
)
async def test_either_form_reaches_the_same_bot_api_urls(tmp_path: Path, given: str) -> None:
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        database_path=tmp_path / "db.sqlite3",
        bot_api_base_url=given,
    )
    db = Database(settings.database_path)
    await db.connect()
    try:
        services = build_services(settings, db, FixedClock(datetime(2026, 11, 30, tzinfo=UTC)))
        bot = build_application(services).bot
        assert bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
        assert bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    finally:
        await db.close()


class StartServer(Protocol):
    def __call__(self, status: int, description: str) -> str: ...


def _server(status: int, description: str) -> ThreadingHTTPServer:
    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # PTB posts every method
            body = json.dumps(
                {"ok": False, "error_code": status, "description": description}
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            """Quiet."""

    return ThreadingHTTPServer(("127.0.0.1", 0), Answer)


@pytest.fixture
def bot_api() -> Iterator[StartServer]:
    servers: list[ThreadingHTTPServer] = []

    def start(status: int, description: str) -> str:
        server = _server(status, description)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_wrong_self_hosted_address_is_named_not_the_token(
    tmp_path: Path, bot_api: StartServer
) -> None:
    root = bot_api(404, "Not Found")
    env = clean_env(
        JIAZHAN_BOT_TOKEN=TOKEN,
        JIAZHAN_BOT_API_BASE_URL=f"{root}/bot/bot",  # PTB's form given twice over
        JIAZHAN_DATABASE_PATH=str(tmp_path / "db.sqlite3"),
    )
    done = run_bot(tmp_path, env)
    assert done.returncode == 2, done.stderr
    assert f"error: no Bot API answers at {root}/bot" in done.stderr
    assert "JIAZHAN_BOT_API_BASE_URL" in done.stderr
    assert "refused" not in done.stderr
    assert TOKEN not in done.stderr


def test_a_token_the_self_hosted_server_refuses_is_named(
    tmp_path: Path, bot_api: StartServer
) -> None:
    root = bot_api(401, "Unauthorized")
    env = clean_env(
        JIAZHAN_BOT_TOKEN=TOKEN,
        JIAZHAN_BOT_API_BASE_URL=f"{root}/bot",
        JIAZHAN_DATABASE_PATH=str(tmp_path / "db.sqlite3"),
    )
    done = run_bot(tmp_path, env)
    assert done.returncode == 2, done.stderr
    assert f"JIAZHAN_BOT_TOKEN was refused by the Bot API server at {root}" in done.stderr
    assert TOKEN not in done.stderr
