"""Each person's own command menu (the "/" list Telegram shows): exactly the commands their
role may use, the list /help shows, in their language, set for their chat alone
(BotCommandScopeChat). The outbox queues the setting (bot.services.outbox.Outbox.refresh_menu)
so it goes under the same rate limits as any message; the dispatcher calls `set_menu` when it
is due. At start `queue_stale_menus` queues a row for each menu an older release or a missed
change left out of date."""

from __future__ import annotations

import hashlib

from telegram import Bot, BotCommand, BotCommandScopeChat

from bot.i18n import Texts
from bot.services import Services
from bot.services.privacy import NOTICE_VERSION
from storage.models import Role
from storage.repos.menus import ExpectedMenu, MenuRepo

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
# Only a voter may be erased (bot.access.ensure_may_be_forgotten): a role holder gives up
# the role first, so their lists leave these out.
VOTER_ONLY_COMMANDS = ("forget",)
LIAISON_COMMANDS = ("assigned",)

# Telegram names a menu's language by its two-letter code.
MENU_LANGUAGES = {"zh_CN": "zh", "en": "en"}

FINGERPRINT_DIGITS = 12  # of the hash of a menu's lines: enough to tell two releases apart


def commands_for(role: Role) -> tuple[str, ...]:
    """The commands a person of `role` may use: what /help and their menu list."""
    commands: tuple[str, ...] = VOTER_COMMANDS
    if role != Role.VOTER:
        commands = tuple(name for name in commands if name not in VOTER_ONLY_COMMANDS)
    if role == Role.DEPUTY:
        commands += DEPUTY_COMMANDS
    if role in (Role.STAFF, Role.ADMIN):
        commands += STAFF_COMMANDS
    if role == Role.ADMIN:
        commands += ADMIN_COMMANDS
    if role == Role.LIAISON:
        commands += LIAISON_COMMANDS
    return commands


def menu_lines(texts: Texts, role: Role) -> list[tuple[str, str]]:
    """The role's commands with their descriptions in `texts`' language, as (name, line)."""
    return [(name, texts(f"cmd.{name}")) for name in commands_for(role)]


def bot_commands(texts: Texts, role: Role) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in menu_lines(texts, role)]


def own_menu_role(role: Role, locale_chosen: bool) -> Role | None:
    """Whose list a consented person's own menu shows: their role's, unless they are a voter
    who never picked a language (the per-language default menus already show them the
    voter list in their app's language); None: no own menu."""
    if role == Role.VOTER and not locale_chosen:
        return None
    return role


def fingerprint(texts: Texts, role: Role) -> str:
    """What a menu was set to, as stored in `users.menu`: its role and language, and a short
    hash of its lines, so a release that changes a list or a description makes it stale."""
    lines = "\n".join(f"{name} {description}" for name, description in menu_lines(texts, role))
    digest = hashlib.sha256(lines.encode()).hexdigest()[:FINGERPRINT_DIGITS]
    return f"{role.value}/{texts.locale}/{digest}"


async def set_menu(bot: Bot, services: Services, chat_id: int) -> None:
    """Set (or reset) `chat_id`'s own menu to what its person may use now. No call at all
    when the menu stored as last set is that already. Telegram's errors propagate to the
    dispatcher, which handles them as for a message."""
    user = await services.users.get(chat_id)
    if user is None:  # never consented and swept since: they never had a menu
        return
    # the role as UserService gives it: admins come from settings, both ways
    shown = own_menu_role(user.role, user.locale_chosen) if user.consented else None
    texts = services.i18n.texts(user.locale)
    wanted = None if shown is None else fingerprint(texts, shown)
    if user.menu == wanted:
        return
    scope = BotCommandScopeChat(chat_id)
    if shown is None:  # a voter's again: the per-language defaults show
        await bot.delete_my_commands(scope=scope)
    else:
        await bot.set_my_commands(bot_commands(texts, shown), scope=scope)
    await MenuRepo(services.db).record(chat_id, wanted)


async def queue_stale_menus(services: Services) -> int:
    """Queue a menu row for everyone whose stored menu differs from what it should be, by
    kind of person (role, locale, language chosen), never one query per person; up-to-date
    people get no row and no call. Returns how many were queued."""
    expected = []
    for locale in services.i18n.locales:
        texts = services.i18n.texts(locale)
        for role in Role:
            for chosen in (False, True):
                shown = own_menu_role(role, chosen)
                menu = None if shown is None else fingerprint(texts, shown)
                expected.append(ExpectedMenu(role, locale, chosen, menu))
    queued = await MenuRepo(services.db).queue_stale(
        expected, services.settings.admin_ids, NOTICE_VERSION, services.clock.now()
    )
    if queued:
        services.outbox.wake()
    return queued
