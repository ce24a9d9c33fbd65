"""Running the bot for real: polling or webhook, until a signal stops it."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from http import HTTPStatus
from pathlib import Path

from telegram import Update
from telegram.error import InvalidToken, NetworkError
from telegram.request import HTTPXRequest

from bot.app import bot_api_root, build_application, on_shutdown, on_startup
from bot.clock import SystemClock
from bot.runtime.logs import redact, secrets_of
from bot.services import build_services
from bot.settings import Settings
from storage import Database
from storage.run_lock import AlreadyRunning, RunLock

EXIT_CONFIG = 2
EXIT_UNREACHABLE = 1
log = logging.getLogger("bot")


SAMPLE_STATIONS = Path(__file__).resolve().parent.parent / "samples" / "stations.csv"


async def run(settings: Settings) -> int:
    """Run the bot by polling or webhook until SIGINT or SIGTERM, holding the database's run
    lock the whole time (a second bot, or a restore, is refused meanwhile)."""
    lock = RunLock(settings.database_path)
    try:
        lock.acquire()
    except AlreadyRunning:
        print(f"error: a bot is already running on {settings.database_path}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return await _run(settings)
    finally:
        lock.release()


async def _run(settings: Settings) -> int:
    db = Database(settings.database_path)
    await db.connect()
    services = build_services(settings, db, SystemClock())
    if not await services.stations.any() and SAMPLE_STATIONS.exists():
        report = await services.stations.import_csv(SAMPLE_STATIONS)
        log.warning(
            "no stations yet: loaded %s sample stations from %s; import your own with "
            "`python -m bot stations import FILE.csv`",
            report.created_or_updated,
            SAMPLE_STATIONS,
        )
    application = build_application(services)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with application:
            await on_startup(application)
            await application.start()
            if application.updater is None:
                raise RuntimeError("the application was built without an updater")
            if settings.mode == "webhook":
                await application.updater.start_webhook(
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    url_path="telegram",
                    webhook_url=f"{settings.webhook_url}",
                    secret_token=settings.webhook_secret,
                    allowed_updates=Update.ALL_TYPES,
                )
            else:
                await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("bot @%s is running (%s)", application.bot.username, settings.mode)
            await stop.wait()
            log.info("stopping")
            await application.updater.stop()
            await on_shutdown(application)
            await application.stop()
    except InvalidToken:
        print(redact(await _refused(settings), secrets_of(settings)), file=sys.stderr)
        return EXIT_CONFIG
    except NetworkError as exc:
        where = settings.bot_api_base_url or "api.telegram.org"
        line = f"error: cannot reach the Telegram Bot API at {where}: {exc.message}"
        print(redact(line, secrets_of(settings)), file=sys.stderr)
        return EXIT_UNREACHABLE
    finally:
        await db.close()
    return 0


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
