"""Updates of one chat run in order, one at a time; different chats run concurrently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


def chat_key(update: object) -> int | None:
    """The chat an update belongs to (the user for updates without a chat)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """A lock per chat keeps a chat's updates in arrival order (asyncio locks are FIFO).

    A chat with more than `max_backlog` updates waiting has the excess dropped, so one
    flooding chat cannot hold every concurrency slot while the rest of the city waits.
    """

    def __init__(self, max_concurrent_updates: int, max_backlog: int = 10) -> None:
        super().__init__(max_concurrent_updates)
        self.max_backlog = max_backlog
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self.dropped = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        waiting = self._waiting.get(key, 0)
        if waiting >= self.max_backlog:
            self.dropped += 1
            update_id = update.update_id if isinstance(update, Update) else None
            log.warning("a chat has %s updates waiting; dropping update %s", waiting, update_id)
            if asyncio.iscoroutine(coroutine):
                coroutine.close()
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[key] = waiting + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to allocate: locks are made per chat on demand."""

    async def shutdown(self) -> None:
        """Nothing to free."""
