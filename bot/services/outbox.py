"""The outbox: the one way to send anything that is not a direct reply. Callers add a
message inside the same transaction as the change that causes it; the dispatcher
(bot.runtime.dispatcher) sends it later, in the recipient's language."""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import Clock
from storage import Database, Tx
from storage.repos.outbox import OutboxRepo


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.repo = OutboxRepo(db)
        self._listeners: list[Callable[[], None]] = []

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        """Called after something is queued; the dispatcher wakes up on it."""
        self._listeners.append(listener)

    def wake(self) -> None:
        for listener in self._listeners:
            listener()

    async def notify(
        self,
        tx: Tx,
        chat_id: int,
        key: str,
        *,
        respects_opt_out: bool = False,
        buttons: list[list[tuple[str, str]]] | None = None,
        **params: object,
    ) -> None:
        """Queue a catalog message `key` for `chat_id`, inside the caller's transaction.
        At render time string parameters are HTML-escaped, `*_at` ISO instants are
        formatted and `*_key` message ids translated for the recipient; `buttons` are rows
        of (label message id, callback data), labelled in the recipient's language."""
        await self.repo.enqueue_notice(
            tx,
            chat_id,
            key,
            params,
            self.clock.now(),
            respects_opt_out=respects_opt_out,
            buttons=buttons,
        )
        self.wake()
