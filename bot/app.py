"""Assembly: the one visible place where settings, storage, services and every feature's
handlers are wired into a python-telegram-bot Application."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any, Protocol

from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    BaseHandler,
    ContextTypes,
    ConversationHandler,
    Defaults,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot.runtime.context import SERVICES_KEY, AnyApplication, BotContext
from bot.runtime.conversation import KEEPER_KEY, ConversationKeeper
from bot.runtime.dispatcher import OutboxDispatcher
from bot.runtime.menus import queue_stale_menus
from bot.runtime.persistence import SqlitePersistence
from bot.runtime.processor import ChatOrderedUpdateProcessor
from bot.runtime.scheduler import Scheduler
from bot.services import Services
from handlers import (
    account,
    account_rating,
    assign,
    assigned,
    ballots,
    broadcast,
    consult,
    consultation_report,
    consultations,
    departments,
    desk,
    duty,
    errors,
    fallback,
    gate,
    handling,
    help,
    inbox,
    invite,
    language,
    ledger,
    my,
    mycode,
    notices,
    opinion,
    opinion_card,
    privacy,
    projects,
    schedule,
    staff,
    start,
    station,
    stats,
    suggest,
    suggestion_rating,
    suggestions,
    visits,
    voice,
)
from handlers.commands import register_menus


class Feature(Protocol):
    """A feature module: it declares the handlers it registers."""

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]: ...


# Every feature module; each declares its own handlers (`handlers()`), in any order.
FEATURES: tuple[Feature, ...] = (
    opinion,
    broadcast,
    handling,
    inbox,
    opinion_card,
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
    consult,
    consultations,
    consultation_report,
    projects,
    ballots,
    suggest,
    suggestions,
    departments,
    assign,
    assigned,
    suggestion_rating,
    ledger,
    stats,
    account,
    account_rating,
    privacy,
    desk,
    mycode,
    voice,
)


def in_order(features: Iterable[Feature]) -> list[BaseHandler[Any, Any, Any]]:
    """The one place where the order of handlers matters, and why. Within a group PTB gives
    an update to the first handler that accepts it, so: every conversation first (a person
    in the middle of one owns every update they send, whatever other feature would take it;
    the gate keeps them to one at a time, so the conversations' own order does not
    matter); then every other handler (their buttons and commands do not overlap: the
    button registry gives each kind its own prefix); the catch-all fallback last."""
    declared = [handler for feature in features for handler in feature.handlers()]
    conversations = [h for h in declared if isinstance(h, ConversationHandler)]
    others = [h for h in declared if not isinstance(h, ConversationHandler)]
    return [*conversations, *others, *fallback.handlers()]


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
    features: Iterable[Feature] = FEATURES,
) -> AnyApplication:
    """The Application with every handler registered. `request` replaces Telegram's HTTP
    boundary (tests, benchmarks); `processor` replaces the per-chat update processor;
    `features` adds to or replaces the feature modules (a test's own conversation)."""
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
        root = bot_api_root(settings.bot_api_base_url)
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services

    application.add_handlers(gate.handlers(), group=-1)
    application.add_handlers(in_order(features), group=0)
    application.add_error_handler(errors.on_error)
    application.bot_data[KEEPER_KEY] = ConversationKeeper(application, services)
    return application


def bot_api_root(url: str) -> str:
    """A self-hosted Bot API server's root, given either as the root (http://host:8081) or
    in PTB's base_url form (http://host:8081/bot); PTB's form is what the builder gets."""
    root = url.strip().rstrip("/")
    return root.removesuffix("/bot")


DISPATCHER_KEY = "outbox_dispatcher"
SCHEDULER_KEY = "scheduler"


async def on_startup(application: AnyApplication) -> None:
    """Work done once the bot is known to Telegram: command menus, the outbox dispatcher,
    and the timed jobs rebuilt from the database."""
    services: Services = application.bot_data[SERVICES_KEY]
    await register_menus(application.bot, services.i18n)
    dispatcher = OutboxDispatcher(application.bot, services)
    application.bot_data[DISPATCHER_KEY] = dispatcher
    await dispatcher.start()
    # after the start, which puts rows a crash left sending back in the queue: a person's
    # own menu that is out of date (an older release, a change missed) is set again
    await queue_stale_menus(services)
    scheduler = Scheduler(application, services)
    application.bot_data[SCHEDULER_KEY] = scheduler
    await scheduler.start()


async def on_shutdown(application: AnyApplication) -> None:
    """Let the outbox finish the sends in flight, so their outcome is recorded."""
    dispatcher: OutboxDispatcher | None = application.bot_data.pop(DISPATCHER_KEY, None)
    if dispatcher is not None:
        await dispatcher.stop()
