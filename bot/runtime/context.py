"""The callback context handlers receive: the services, the current account, its texts."""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Texts
from bot.services import Services
from storage.models import User

SERVICES_KEY = "services"
# The Application as this bot builds it; PTB's generics say nothing more useful here.
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Filled by the gate handler before any feature handler runs (see handlers.gate)."""

    account: User | None

    def __init__(
        self,
        application: AnyApplication,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.account = None

    @property
    def services(self) -> Services:
        return cast(Services, self.application.bot_data[SERVICES_KEY])

    @property
    def user(self) -> User:
        """The account behind this update; the gate guarantees it for feature handlers."""
        if self.account is None:
            raise RuntimeError("no account loaded for this update")
        return self.account

    @property
    def texts(self) -> Texts:
        """Messages in the account's locale: for someone who has not consented, the language
        of this update's Telegram client, never stored (see UserService.touch)."""
        locale = self.account.locale if self.account else None
        return self.services.i18n.texts(locale)
