"""The Telegram layer: read the update, call a service, render the reply.

Each feature module exposes `handlers()`; `bot.app` wires them in one visible place."""
