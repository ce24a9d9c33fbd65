"""/stats: the figures for a period and an area, as a message, an .xlsx and a chart."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
