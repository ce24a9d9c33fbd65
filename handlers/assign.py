"""/assign: staff accept and assign (交办) suggestions, decline, reassign, flag and extend."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
