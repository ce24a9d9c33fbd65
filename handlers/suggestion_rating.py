"""The lead deputy rates a suggestion's answer, and asks once for re-handling."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
