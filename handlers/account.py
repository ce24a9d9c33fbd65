"""/account [year]: a deputy's annual account (年述职) as a message and a .docx."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
