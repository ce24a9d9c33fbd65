"""telegram.ext persistence on the bot's own SQLite database (no pickle files).

Only conversation states are read here, to resume conversations after a restart;
everything else the bot remembers lives in its own tables. Every conversation is declared
(bot.services.conversations) and writes its step itself, in the same transaction as its
draft; PTB's interval flush writes nothing, because a flush reads states when it starts and
could write an older one back after the handler saved a newer one."""

from __future__ import annotations

from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage import Database
from storage.repos.drafts import ConversationRepo

# PTB's own aliases live in a private module (telegram.ext._utils.types); these are their
# public shapes, as BasePersistence documents them.
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]


class SqlitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(
        self,
        db: Database,
        update_interval: float = 1.0,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.conversations = ConversationRepo(db)

    async def get_conversations(self, name: str) -> ConversationDict:
        return dict(await self.conversations.all(name))

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Not stored here: the conversation stored it with its draft (see the module)."""

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Not stored: user data lives in the users table."""

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Not stored."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not stored."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Not stored: callback data is plain strings."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Nothing to drop."""

    async def drop_user_data(self, user_id: int) -> None:
        """Nothing to drop."""

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Nothing to refresh."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Nothing to refresh."""

    async def flush(self) -> None:
        """Every write above is committed as it happens."""
