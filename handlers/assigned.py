"""/assigned: a department liaison's suggestions: answer, return (退办), ask for more time."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
