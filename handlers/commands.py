"""Telegram's per-language default command menu (the voter's), registered at start. The
command lists of each role live in bot.runtime.menus, which sets each person's own menu
from them; they are named here too, where /help and the catalog test read them."""

from __future__ import annotations

from telegram import Bot

from bot.i18n import I18n
from bot.runtime.menus import (
    ADMIN_COMMANDS,
    DEPUTY_COMMANDS,
    LIAISON_COMMANDS,
    MENU_LANGUAGES,
    STAFF_COMMANDS,
    VOTER_COMMANDS,
    bot_commands,
    commands_for,
)
from storage.models import Role

__all__ = [
    "ADMIN_COMMANDS",
    "DEPUTY_COMMANDS",
    "LIAISON_COMMANDS",
    "MENU_LANGUAGES",
    "STAFF_COMMANDS",
    "VOTER_COMMANDS",
    "commands_for",
    "register_menus",
]


async def register_menus(bot: Bot, i18n: I18n) -> None:
    """The voter's menu in each language, and the default locale's as the fallback."""
    for locale, code in MENU_LANGUAGES.items():
        menu = bot_commands(i18n.texts(locale), Role.VOTER)
        await bot.set_my_commands(menu, language_code=code)
        if locale == i18n.default_locale:
            await bot.set_my_commands(menu)
