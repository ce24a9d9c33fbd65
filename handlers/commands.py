"""Telegram's per-language default command menu (the voter's), registered at start. The
command lists of each role live in bot.runtime.menus, which sets each person's own menu
from them."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, BotCommand
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.i18n import I18n
from bot.runtime.dispatcher import retry_after_seconds
from bot.runtime.menus import MENU_LANGUAGES, bot_commands
from storage.models import Role

log = logging.getLogger(__name__)

MENU_ATTEMPTS = 3  # per default menu; then the bot starts without it (the last one stays)
MAX_MENU_WAIT_SECONDS = 5.0  # a longer "retry after" is not waited for at start
MENU_RETRY_SECONDS = 0.5  # after a network error, times the attempt


async def register_menus(bot: Bot, i18n: I18n) -> None:
    """The voter's menu in each language, and the default locale's as the fallback. Telegram
    being busy or out of reach does not stop the start: each is tried a few times, then
    logged and left as it was (Telegram keeps the menu set by the last start)."""
    for locale, code in MENU_LANGUAGES.items():
        menu = bot_commands(i18n.texts(locale), Role.VOTER)
        await _set_default(bot, menu, code)
        if locale == i18n.default_locale:
            await _set_default(bot, menu, None)


async def _set_default(bot: Bot, menu: list[BotCommand], language_code: str | None) -> None:
    for attempt in range(1, MENU_ATTEMPTS + 1):
        try:
            await bot.set_my_commands(menu, language_code=language_code)
            return
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if attempt == MENU_ATTEMPTS or wait > MAX_MENU_WAIT_SECONDS:
                break
            await asyncio.sleep(wait)
        except BadRequest:  # a list Telegram refuses is a fault of the release: say so
            raise
        except NetworkError as exc:  # timeouts included
            if attempt == MENU_ATTEMPTS:
                break
            log.info("menus: the default menu (%s) failed: %s; again", language_code, exc.message)
            await asyncio.sleep(MENU_RETRY_SECONDS * attempt)
    log.warning(
        "menus: the default menu (%s) was not set at start; the previous one stays",
        language_code or "all languages",
    )
