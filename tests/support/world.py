"""The real application, in-process, on a real SQLite file, over the fake Bot API (started as
the demo starts it: `bot.demo.deployment`)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackQueryHandler, ConversationHandler

from bot.app import FEATURES
from bot.clock import FixedClock
from bot.demo.deployment import Deployment, feed, stop
from bot.runtime.dispatcher import OutboxDispatcher
from bot.services import Services
from bot.settings import load_settings
from storage import Database
from tests.support.faults import FaultyBotAPI

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STATIONS_CSV = """street,station,address,latitude,longitude
学院路街道,学院路第一联络站,学院路 1 号,39.99,116.35
学院路街道,学院路第二联络站,学院路 20 号,39.995,116.355
海淀街道,海淀街道联络站,海淀大街 8 号,39.98,116.31
清河街道,清河联络站,清河中街 5 号,,
"""


class MakeWorld(Protocol):
    """Starts a World with these settings (the `make_world` fixture of tests/conftest.py)."""

    def __call__(self, *, stations: bool = True, **settings: Any) -> Awaitable[World]: ...


class World:
    """One deployment of the bot: database file, clock, fake Telegram and the Application."""

    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.tmp_path = tmp_path
        self.db_path = tmp_path / "jiazhan.sqlite3"
        self.clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
        self.api = FaultyBotAPI()
        self.features = settings.pop("features", FEATURES)  # a test may add its own
        settings.setdefault("backup_dir", tmp_path / "backups")  # a nightly job stays in tmp
        # a second message to one chat would wait a real second: tests of that pacing set it
        settings.setdefault("outbox_per_chat_interval_seconds", 0)
        self.settings = load_settings(
            _env_file=None,
            bot_token=TOKEN,
            database_path=self.db_path,
            admin_ids=settings.pop("admin_ids", [1]),
            **settings,
        )
        self._update_ids = itertools.count(1)
        self._retired: list[Deployment] = []
        self.taps: list[str] = []  # every callback query fed, by id
        self.deployment: Deployment
        self.app: Application
        self.services: Services
        self.db: Database

    async def start(self) -> None:
        self.deployment = await Deployment.start(self.settings, self.clock, self.api, self.features)
        self.db, self.services, self.app = (
            self.deployment.db,
            self.deployment.services,
            self.deployment.app,
        )

    @property
    def outbox(self) -> OutboxDispatcher:
        return self.deployment.outbox

    async def stop(self) -> None:
        """Shut every Application down and close every database, whatever fails on the way;
        then check that no tap was left spinning."""
        self.api.release()  # a call left hanging would hold the dispatcher's stop
        running = [*self._retired, self.deployment]
        self._retired.clear()
        await stop(running)
        unanswered = self.unanswered_taps()
        if unanswered:
            raise AssertionError(
                f"{len(unanswered)} taps never answered (their buttons keep spinning),"
                f" e.g. {unanswered[:5]}"
            )

    def unanswered_taps(self) -> list[str]:
        """The taps fed whose callback query the bot never tried to answer."""
        tried = {
            str(c.params.get("callback_query_id"))
            for c in self.api.calls
            if c.method == "answerCallbackQuery"
        }
        return [t for t in self.taps if t not in tried]

    def forget_recorded(self) -> None:
        """Drop what the fake Bot API and the taps list recorded (the test's memory, not
        the bot's), as a benchmark of memory must."""
        self.api.calls.clear()
        self.api.outputs.clear()
        self.api.messages.clear()
        self.api.callback_queries.clear()
        self.taps.clear()

    async def crash_and_restart(self) -> None:
        """Start a new Application on the same file without stopping the old one gracefully:
        nothing the old one held in memory is flushed; it is shut down only at teardown."""
        await self.outbox.abort()
        self._retired.append(self.deployment)
        await self.start()

    async def load_stations(self, text: str = STATIONS_CSV) -> None:
        path = self.tmp_path / "stations.csv"
        path.write_text(text, encoding="utf-8")
        report = await self.services.stations.import_csv(path)
        assert not report.errors, report.errors

    def next_update_id(self) -> int:
        return next(self._update_ids)

    async def feed(self, data: dict[str, Any]) -> None:
        """Process one update through the real update processor, as polling would."""
        if "callback_query" in data:
            self.taps.append(str(data["callback_query"]["id"]))
        await feed(self.app, data)

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.db.fetchall(sql, params)]

    async def snapshot(self) -> dict[str, list[str]]:
        """Every row of every table, to show that nothing at all was written. What the outbox
        had to send goes out first (a notice or a menu queued by an earlier step), so only
        what happens between two snapshots tells them apart."""
        if self.outbox.running:
            await self.outbox.drain()
        tables = await self.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        snapshot = {}
        for table in tables:
            rows = await self.rows(f'SELECT * FROM "{table["name"]}"')
            snapshot[table["name"]] = sorted(repr(sorted(r.items())) for r in rows)
        return snapshot

    def conversations_in_memory(self) -> int:
        """Conversation states PTB holds in memory, counted in its handlers themselves."""
        return sum(
            len(handler._conversations)
            for group in self.app.handlers.values()
            for handler in group
            if isinstance(handler, ConversationHandler)
        )

    def button_patterns(self) -> list[object]:
        """The pattern of every CallbackQueryHandler registered, those inside
        conversations included (None for a catch-all)."""
        return _patterns([h for group in self.app.handlers.values() for h in group])

    def text(self, locale: str, key: str, **params: object) -> str:
        """A catalog message in `locale`."""
        return self.services.i18n.texts(locale)(key, **params)

    async def user_row(self, user_id: int) -> dict[str, Any]:
        """The one users row of `user_id`."""
        rows = await self.rows("SELECT * FROM users WHERE telegram_id = ?", (user_id,))
        assert len(rows) == 1, rows
        return rows[0]

    async def station_id(self, name: str) -> int:
        """The id of the one station called `name`."""
        rows = await self.rows("SELECT id FROM stations WHERE name = ?", (name,))
        assert len(rows) == 1, rows
        return int(rows[0]["id"])

    async def conversation_state(self, name: str, user_id: int) -> str | None:
        """The stored state of conversation `name` in `user_id`'s private chat, if any."""
        rows = await self.rows(
            "SELECT state FROM conversation_states WHERE name = ? AND key = ?",
            (name, json.dumps([user_id, user_id])),
        )
        return json.loads(rows[0]["state"]) if rows else None


def _patterns(handlers: list[Any]) -> list[object]:
    found: list[object] = []
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            inner = [*handler.entry_points, *handler.fallbacks]
            for state in handler.states.values():
                inner.extend(state)
            found.extend(_patterns(inner))
        elif isinstance(handler, CallbackQueryHandler):
            found.append(handler.pattern)
    return found
