"""The Telegram-facing parts of the application: update processing, persistence, context."""
