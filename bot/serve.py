"""Running the bot for real: polling or webhook (with GET /healthz beside it), until a
signal, or in tests the given event, stops it."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import sqlite3
import sys
from http import HTTPStatus
from importlib import resources
from pathlib import Path

import tornado.web
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import BaseRequest, HTTPXRequest
from tornado.httpserver import HTTPServer

from bot.app import SCHEDULER_KEY, bot_api_root, build_application, on_shutdown, on_startup
from bot.clock import SystemClock
from bot.runtime.context import AnyApplication
from bot.runtime.logs import redact, secrets_of
from bot.runtime.scheduler import Scheduler
from bot.services import Services, build_services
from bot.services.health import Health
from bot.settings import ENV_PREFIX, Settings
from storage import Database
from storage.run_lock import AlreadyRunning, RunLock

EXIT_CONFIG = 2
EXIT_UNREACHABLE = 1
log = logging.getLogger("bot")

# shipped as package data of `samples`, so an installed bot has it too
SAMPLE_STATIONS = Path(str(resources.files("samples") / "stations.csv"))
WEBHOOK_PATH = "telegram"
HEALTH_PATH = "/healthz"
# What Telegram accepts as a webhook's secret token is 1-256 of these; fewer than 16 is
# guessable, and short secrets are not searched for by the log's redaction.
SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
MAKE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class CannotListen(Exception):
    """A port the bot is to serve on is taken or not allowed; the message says which."""


def webhook_refusal(settings: Settings) -> str | None:
    """Why webhook mode cannot start with these settings (one line), or None. Without a
    secret anyone who finds the URL could post updates as any user."""
    if settings.mode != "webhook":
        return None
    name = f"{ENV_PREFIX}WEBHOOK_SECRET"
    if not settings.webhook_secret:
        return f"setting {name} is missing (needed in webhook mode); make one with {MAKE_SECRET}"
    if not SECRET_SHAPE.match(settings.webhook_secret):
        return (
            f"setting {name} must be 16 to 256 letters, digits, _ or -; make one with {MAKE_SECRET}"
        )
    return None


async def run(
    settings: Settings, *, request: BaseRequest | None = None, stop: asyncio.Event | None = None
) -> int:
    """Run the bot by polling or webhook until SIGINT or SIGTERM, holding the database's run
    lock the whole time (a second bot, or a restore, is refused meanwhile). `request`
    replaces Telegram's HTTP boundary and `stop` the signals (tests run it in-process)."""
    refusal = webhook_refusal(settings)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_CONFIG
    lock = RunLock(settings.database_path)
    try:
        lock.acquire()
    except AlreadyRunning:
        print(f"error: a bot is already running on {settings.database_path}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return await _run(settings, request, stop if stop is not None else _on_signals())
    finally:
        lock.release()


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> str:
    """One line for a database file SQLite cannot use (not a database, damaged): what to do."""
    return (
        f"error: {path} cannot be opened as the bot's database ({exc}); put a backup in its"
        " place with `python -m bot restore FILE`"
    )


def _on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (systemd's stop, a container's stop, Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _run(settings: Settings, request: BaseRequest | None, stop: asyncio.Event) -> int:
    db = Database(settings.database_path)
    try:
        await db.connect()
    except sqlite3.DatabaseError as exc:
        print(_unusable(settings.database_path, exc), file=sys.stderr)
        return EXIT_CONFIG
    services = build_services(settings, db, SystemClock())
    if not await services.stations.any():
        report = await services.stations.import_csv(SAMPLE_STATIONS)
        log.warning(
            "no stations yet: loaded %s sample stations from %s; import your own with "
            "`python -m bot stations import FILE.csv`",
            report.created_or_updated,
            SAMPLE_STATIONS,
        )
    application = build_application(services, request=request)
    try:
        async with application:
            await on_startup(application)
            await application.start()
            try:
                await _serve(application, services, stop)
            finally:
                await _stop(application)
    except InvalidToken:
        print(redact(await _refused(settings), secrets_of(settings)), file=sys.stderr)
        return EXIT_CONFIG
    except NetworkError as exc:
        where = settings.bot_api_base_url or "api.telegram.org"
        line = f"error: cannot reach the Telegram Bot API at {where}: {exc.message}"
        print(redact(line, secrets_of(settings)), file=sys.stderr)
        return EXIT_UNREACHABLE
    except CannotListen as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await _stopped(services)
        await db.close()
    return 0


async def _serve(application: AnyApplication, services: Services, stop: asyncio.Event) -> None:
    """Take updates (and in webhook mode answer /healthz) until `stop` is set."""
    settings = services.settings
    updater = application.updater
    if updater is None:
        raise RuntimeError("the application was built without an updater")
    # a heartbeat at once: the health report calls the bot running from the start
    scheduler: Scheduler = application.bot_data[SCHEDULER_KEY]
    await services.health.beat(scheduler.job_names())
    health_server: HealthServer | None = None
    if settings.mode == "webhook":
        health_server = HealthServer(services.health)
        health_server.listen(settings.webhook_listen, settings.health_port)
    try:
        if settings.mode == "webhook":
            try:
                await updater.start_webhook(
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    url_path=WEBHOOK_PATH,
                    webhook_url=f"{settings.webhook_url}",
                    secret_token=settings.webhook_secret,
                    allowed_updates=Update.ALL_TYPES,
                )
            except OSError as exc:
                where = f"{settings.webhook_listen}:{settings.webhook_port}"
                raise CannotListen(f"cannot listen for the webhook on {where}: {exc}") from None
        else:
            await updater.start_polling(
                allowed_updates=Update.ALL_TYPES, error_callback=PollingErrors(services.health)
            )
        log.info("bot @%s is running (%s)", application.bot.username, settings.mode)
        await stop.wait()
        log.info("stopping")
    finally:
        if health_server is not None:
            await health_server.stop()


class PollingErrors:
    """Polling's error callback: PTB retries getUpdates itself; each failure is logged and
    its time recorded, so the health report's last error shows Telegram out of reach."""

    def __init__(self, health: Health) -> None:
        self.health = health
        self._pending: set[asyncio.Task[None]] = set()

    def __call__(self, error: TelegramError) -> None:
        log.warning("polling for updates failed: %s", error)
        task = asyncio.get_running_loop().create_task(self._record())
        self._pending.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._pending.discard)

    async def _record(self) -> None:
        try:
            await self.health.record_error()
        except Exception:  # the database may be what failed; the error is logged already
            log.warning("could not record the time of the polling error for the health report")


async def _stop(application: AnyApplication) -> None:
    """Stop taking updates, let the outbox finish its sends in flight, stop the jobs."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    await on_shutdown(application)
    if application.running:
        await application.stop()


async def _stopped(services: Services) -> None:
    """No heartbeat is to be expected any more: the health report says "not running"."""
    try:
        await services.health.stopped()
    except Exception:  # the database may be what failed; the bot stops either way
        log.warning("could not clear the heartbeat: the health report may say not responding")


class HealthzHandler(tornado.web.RequestHandler):
    """GET /healthz: the health report as JSON, 200 when healthy, 503 when not."""

    def initialize(self, health: Health) -> None:
        self.health = health

    async def get(self) -> None:
        report = await self.health.report()
        self.set_status(HTTPStatus.OK if report.healthy else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(report.as_json(), ensure_ascii=False))


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """A probe every few seconds would fill the log with lines saying nothing."""


class HealthServer:
    """A small HTTP server beside the webhook's, on the loop PTB's webhook server uses."""

    def __init__(self, health: Health) -> None:
        app = tornado.web.Application(
            [(HEALTH_PATH, HealthzHandler, {"health": health})], log_function=_no_access_log
        )
        self._server = HTTPServer(app)

    def listen(self, address: str, port: int) -> None:
        try:
            self._server.listen(port, address=address)
        except OSError as exc:
            raise CannotListen(
                f"cannot listen for {HEALTH_PATH} on {address}:{port}: {exc}"
            ) from None

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()


async def _refused(settings: Settings) -> str:
    """Telegram answers 401 for a token it does not know; a self-hosted server at a wrong
    address answers 404 or is not the Bot API at all. PTB reports both as a refused token,
    so a self-hosted address is asked once more, to say which."""
    if not settings.bot_api_base_url:
        return "error: setting JIAZHAN_BOT_TOKEN was refused by Telegram"
    root = bot_api_root(settings.bot_api_base_url)
    request = HTTPXRequest()
    try:
        await request.initialize()
        status, _ = await request.do_request(f"{root}/bot{settings.bot_token}/getMe", "POST")
    except Exception:  # unreachable now: no Bot API to speak of
        status = 0
    finally:
        await request.shutdown()
    if status == HTTPStatus.UNAUTHORIZED:
        return f"error: setting JIAZHAN_BOT_TOKEN was refused by the Bot API server at {root}"
    return (
        f"error: no Bot API answers at {root}; set JIAZHAN_BOT_API_BASE_URL to the server's"
        " root, e.g. http://127.0.0.1:8081 (a trailing /bot is also accepted)"
    )
