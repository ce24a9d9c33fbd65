"""Each person's own command menu (the "/" list Telegram shows): exactly the commands their
role may use, in their language, set for their chat alone (BotCommandScopeChat). The outbox
queues the setting (bot.services.outbox.Outbox.refresh_menu) so it goes under the same rate
limits as any message; the dispatcher calls `set_menu` when it is due."""

from __future__ import annotations

from telegram import Bot

from bot.services import Services


async def set_menu(bot: Bot, services: Services, chat_id: int) -> None:
    """Set (or reset) `chat_id`'s own menu to what its person may use now."""
