"""Assembly: the one visible place where settings, storage, services and every feature's
handlers are wired into a python-telegram-bot Application."""

from __future__ import annotations

import warnings
from typing import Any

from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from bot.runtime.context import SERVICES_KEY, BotContext
from bot.runtime.persistence import SqlitePersistence
from bot.runtime.processor import ChatOrderedUpdateProcessor
from bot.services import Services
from handlers import (
    errors,
    fallback,
    gate,
    help,
    invite,
    language,
    my,
    opinion,
    staff,
    start,
    station,
)
from handlers.commands import register_menus

# Order matters inside group 0: the opinion conversation first (it owns every update of a
# voter who is writing one), the catch-all fallback last.
FEATURES = (opinion, start, station, my, language, help, staff, invite)

warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)


def build_application(
    services: Services,
    *,
    request: BaseRequest | None = None,
    processor: Any = None,
) -> Application:
    """The Application with every handler registered. `request` replaces Telegram's HTTP
    boundary (tests, benchmarks); `processor` replaces the per-chat update processor."""
    settings = services.settings
    if not settings.bot_token:
        raise ValueError("a bot token is needed to build the application")
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .context_types(ContextTypes(context=BotContext))
        .persistence(SqlitePersistence(services.db, settings.persistence_interval_seconds))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.zone))
        .concurrent_updates(
            processor or ChatOrderedUpdateProcessor(settings.max_concurrent_updates)
        )
    )
    if settings.bot_api_base_url:
        base = settings.bot_api_base_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services

    application.add_handlers(gate.handlers(), group=-1)
    for feature in FEATURES:
        application.add_handlers(feature.handlers(), group=0)
    application.add_handlers(fallback.handlers(), group=0)
    application.add_error_handler(errors.on_error)  # type: ignore[arg-type]
    return application


async def on_startup(application: Application) -> None:
    """Work done once the bot is known to Telegram: the per-language command menus."""
    services: Services = application.bot_data[SERVICES_KEY]
    await register_menus(application.bot, services.i18n)
