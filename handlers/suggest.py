"""/suggest: a deputy drafts a suggestion, from scratch or from inbox opinions."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
