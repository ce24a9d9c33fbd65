"""`python -m bot` runs the bot; `python -m bot stations import FILE.csv` loads stations."""

from __future__ import annotations

import argparse
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
from bot.runtime.logs import configure_logging, redact, secrets_of
from bot.services import build_services
from bot.services.calendar_import import import_turns
from bot.settings import Settings, SettingsError, load_settings
from storage import Database

EXIT_CONFIG = 2
EXIT_UNREACHABLE = 1
log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="jiazhan (家站) bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    stations = sub.add_parser("stations", help="manage liaison stations")
    stations_sub = stations.add_subparsers(dest="action", required=True)
    imp = stations_sub.add_parser("import", help="create or update stations from a CSV file")
    imp.add_argument("file", type=Path)
    turns = sub.add_parser("turns", help="manage the duty calendar")
    turns_sub = turns.add_subparsers(dest="action", required=True)
    timp = turns_sub.add_parser("import", help="add reception rules and dated turns from a CSV")
    timp.add_argument("file", type=Path)
    return parser


async def import_file(settings: Settings, what: str, path: Path) -> int:
    """Stations or turns from a CSV: every bad line reported, then nothing written."""
    db = Database(settings.database_path)
    await db.connect()
    try:
        services = build_services(settings, db, SystemClock())
        if what == "stations":
            report = await services.stations.import_csv(path)
        else:
            report = await import_turns(services.calendar, path)
    finally:
        await db.close()
    if report.errors:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"nothing imported from {path}", file=sys.stderr)
        return 1
    print(f"{what}: {report.created_or_updated} created or updated, {report.unchanged} unchanged")
    return 0


SAMPLE_STATIONS = Path(__file__).resolve().parent.parent / "samples" / "stations.csv"


async def run(settings: Settings) -> int:
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(need_token=args.command in (None, "run"))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings)
    if args.command in ("stations", "turns"):
        return asyncio.run(import_file(settings, args.command, args.file))
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
