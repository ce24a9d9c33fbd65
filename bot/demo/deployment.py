"""One deployment of the bot in this process: its database, services and the real Application,
talking to an in-process Bot API instead of Telegram. The demo runs one; the tests' World
starts them the same way."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.request import BaseRequest

from bot.app import (
    DISPATCHER_KEY,
    FEATURES,
    SCHEDULER_KEY,
    Feature,
    build_application,
    on_shutdown,
    on_startup,
)
from bot.clock import Clock
from bot.runtime.context import AnyApplication
from bot.runtime.dispatcher import OutboxDispatcher
from bot.runtime.scheduler import Scheduler
from bot.services import Services, build_services
from bot.settings import Settings
from storage import Database


@dataclass
class Deployment:
    """A started Application with the database and services it runs on."""

    db: Database
    services: Services
    app: AnyApplication

    @classmethod
    async def start(
        cls,
        settings: Settings,
        clock: Clock,
        api: BaseRequest,
        features: Iterable[Feature] = FEATURES,
    ) -> Deployment:
        """Open the database (migrating it), build the services and the Application, and
        start it as `python -m bot` would, without polling: updates come through `feed`."""
        db = Database(settings.database_path)
        await db.connect()
        try:
            services = build_services(settings, db, clock)
            app = build_application(services, request=api, features=features)
            await app.initialize()
            await on_startup(app)
            await app.start()
        except BaseException:
            await db.close()  # an open connection's thread would keep the process alive
            raise
        return cls(db, services, app)

    @property
    def outbox(self) -> OutboxDispatcher:
        dispatcher: OutboxDispatcher = self.app.bot_data[DISPATCHER_KEY]
        return dispatcher

    @property
    def scheduler(self) -> Scheduler:
        scheduler: Scheduler = self.app.bot_data[SCHEDULER_KEY]
        return scheduler

    async def feed(self, data: dict[str, Any]) -> None:
        await feed(self.app, data)


async def feed(app: AnyApplication, data: dict[str, Any]) -> None:
    """Process one update (a Bot API update as JSON) through the real update processor, as
    polling would."""
    update = Update.de_json(data, app.bot)
    await app.update_processor.process_update(update, app.process_update(update))


async def stop(deployments: Sequence[Deployment]) -> None:
    """Shut every Application down and close every database, whatever fails on the way: the
    outbox finishes its sends in flight first."""
    async with contextlib.AsyncExitStack() as stack:
        for deployment in deployments:
            stack.push_async_callback(deployment.db.close)
            stack.push_async_callback(deployment.app.shutdown)
            stack.push_async_callback(deployment.app.stop)
            stack.push_async_callback(on_shutdown, deployment.app)
