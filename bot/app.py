"""Assembly: the one visible place where settings, storage, services and every feature's
handlers are wired into a python-telegram-bot Application."""

from __future__ import annotations

import warnings
from typing import Any

from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot.runtime.context import SERVICES_KEY, BotContext
from bot.runtime.conversation import KEEPER_KEY, SELF_MANAGED, ConversationKeeper
from bot.runtime.dispatcher import OutboxDispatcher
from bot.runtime.persistence import SqlitePersistence
from bot.runtime.processor import ChatOrderedUpdateProcessor
from bot.runtime.scheduler import Scheduler
from bot.services import Services
from handlers import (
    broadcast,
    duty,
    errors,
    fallback,
    gate,
    handling,
    help,
    inbox,
    invite,
    language,
    my,
    notices,
    opinion,
    schedule,
    staff,
    start,
    station,
    visits,
)
from handlers.commands import register_menus

# Order matters inside group 0: the conversations first (each owns every update of a person
# in the middle of one), the catch-all fallback last.
FEATURES = (
    opinion,
    broadcast,
    handling,
    inbox,
    visits,
    duty,
    start,
    station,
    my,
    language,
    help,
    notices,
    schedule,
    staff,
    invite,
)

# Conversations here are per chat and user on purpose; and RetryAfter is read either way.
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
warnings.filterwarnings(
    "ignore", message="Deprecated since version v22.2", category=PTBDeprecationWarning
)


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
        .persistence(
            SqlitePersistence(
                services.db, settings.persistence_interval_seconds, SELF_MANAGED, services.clock
            )
        )
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
    application.bot_data[KEEPER_KEY] = ConversationKeeper(application, services)
    return application


DISPATCHER_KEY = "outbox_dispatcher"


async def on_startup(application: Application) -> None:
    """Work done once the bot is known to Telegram: command menus, the outbox dispatcher,
    and the timed jobs rebuilt from the database."""
    services: Services = application.bot_data[SERVICES_KEY]
    await register_menus(application.bot, services.i18n)
    dispatcher = OutboxDispatcher(application.bot, services)
    application.bot_data[DISPATCHER_KEY] = dispatcher
    await dispatcher.start()
    await Scheduler(application, services).start()


async def on_shutdown(application: Application) -> None:
    """Let the outbox finish the sends in flight, so their outcome is recorded."""
    dispatcher: OutboxDispatcher | None = application.bot_data.pop(DISPATCHER_KEY, None)
    if dispatcher is not None:
        await dispatcher.stop()
