"""The real bot with a deliberately broken outbox dispatcher, for bench_broadcast's --break
runs: each kind breaks one promise, so that the check guarding it is seen to fail.

  python -m bench._broadcast_bot KIND    (the environment as for `python -m bot`)

The breakage lives here only: a subclass of the real OutboxDispatcher, put in place of the
class `bot.app` builds at start-up; everything else is `python -m bot` unchanged. Only
broadcast messages are broken: those to one recipient in EVERY, chosen by chat id (ending in
99), so that the same recipients are broken after a restart and none of them is a chat the
fake refuses (ids divisible by 20).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

EVERY = 100  # one recipient in EVERY: chat_id % EVERY == EVERY - 1
STRAY_OFFSET = 1_000_000_000  # a stray message goes to this far from its recipient
STALL_SECONDS = 0.5
RETRIES_AFTER_403 = 3

# kind -> what the broken dispatcher does (bench_broadcast --help prints these)
KINDS = {
    "drop": f"1 broadcast message in {EVERY} is not sent but recorded 'sent'",
    "dup": f"1 broadcast message in {EVERY} is sent twice",
    "fail": f"1 broadcast message in {EVERY} is not sent and recorded 'failed'",
    "block": f"1 recipient in {EVERY} is recorded blocked without asking Telegram",
    "stray": f"1 broadcast message in {EVERY} goes to a chat outside the audience",
    "retry403": f"a 403 is retried {RETRIES_AFTER_403} more times, each taking a slot of the cap",
    "stall": f"1 broadcast send in {EVERY} first holds the database's write lock "
    f"{STALL_SECONDS:g} s",
}


def broken_dispatcher(kind: str) -> type[Any]:
    """The real OutboxDispatcher, except for what `kind` breaks (imported late, so that the
    bench can list the kinds without loading the bot)."""
    from telegram.error import BadRequest, Forbidden

    from bot.runtime.dispatcher import OutboxDispatcher
    from storage.models import OutboxItem

    class BrokenDispatcher(OutboxDispatcher):
        """The real dispatcher, except for what `kind` breaks."""

        kind = ""

        async def _send(self, item: OutboxItem) -> None:
            if item.broadcast_id is None:
                await super()._send(item)
                return
            chosen = item.chat_id % EVERY == EVERY - 1
            kind = self.kind
            if chosen and kind == "drop":
                return
            if chosen and kind == "fail":
                raise BadRequest("bench break: refused by the dispatcher itself")
            if chosen and kind == "block":
                raise Forbidden("bench break: recorded blocked without a 403")
            if chosen and kind == "stray":
                await self.bot.send_message(item.chat_id + STRAY_OFFSET, item.text or "")
                return
            if chosen and kind == "stall":
                async with self.services.db.transaction():
                    await asyncio.sleep(STALL_SECONDS)
            if kind == "retry403":
                await self._retrying_403(item)
                return
            await super()._send(item)
            if chosen and kind == "dup":
                await super()._send(item)

        async def _retrying_403(self, item: OutboxItem) -> None:
            """A blocked chat is tried again, each attempt taking a slot of the rate."""
            for _ in range(RETRIES_AFTER_403):
                try:
                    await super()._send(item)
                    return
                except Forbidden:
                    await self.rate.overall()
            await super()._send(item)

    BrokenDispatcher.kind = kind
    return BrokenDispatcher


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in KINDS:
        print(f"usage: python -m bench._broadcast_bot {{{','.join(KINDS)}}}", file=sys.stderr)
        return 2
    import bot.app
    from bot.__main__ import main as bot_main

    bot.app.OutboxDispatcher = broken_dispatcher(args[0])  # type: ignore[attr-defined]
    return bot_main(["run"])


if __name__ == "__main__":
    sys.exit(main())
