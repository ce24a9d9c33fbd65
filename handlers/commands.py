"""The command list of each role, for /help and for Telegram's per-language command menu."""

from __future__ import annotations

from telegram import Bot, BotCommand

from bot.i18n import I18n
from storage.models import Role

VOTER_COMMANDS = (
    "opinion",
    "my",
    "schedule",
    "consultations",
    "projects",
    "station",
    "notices",
    "language",
    "privacy",
    "mydata",
    "forget",
    "help",
    "cancel",
)
DEPUTY_COMMANDS = (
    "inbox",
    "visit",
    "visits",
    "calendar",
    "ballot",
    "suggest",
    "suggestions",
    "account",
    "mycode",
)
STAFF_COMMANDS = (
    "opinions",
    "inbox",
    "duty",
    "broadcast",
    "broadcasts",
    "invite",
    "consult",
    "ballots",
    "assign",
    "departments",
    "ledger",
    "stats",
    "accounts",
    "desk",
)
ADMIN_COMMANDS = ("staff",)
LIAISON_COMMANDS = ("assigned",)

# Telegram names a menu's language by its two-letter code.
MENU_LANGUAGES = {"zh_CN": "zh", "en": "en"}


def commands_for(role: Role) -> tuple[str, ...]:
    commands: tuple[str, ...] = VOTER_COMMANDS
    if role == Role.DEPUTY:
        commands += DEPUTY_COMMANDS
    if role in (Role.STAFF, Role.ADMIN):
        commands += STAFF_COMMANDS
    if role == Role.ADMIN:
        commands += ADMIN_COMMANDS
    if role == Role.LIAISON:
        commands += LIAISON_COMMANDS
    return commands


async def register_menus(bot: Bot, i18n: I18n) -> None:
    """The voter's menu in each language, and the default locale's as the fallback."""
    for locale, code in MENU_LANGUAGES.items():
        texts = i18n.texts(locale)
        menu = [BotCommand(name, texts(f"cmd.{name}")) for name in VOTER_COMMANDS]
        await bot.set_my_commands(menu, language_code=code)
        if locale == i18n.default_locale:
            await bot.set_my_commands(menu)
