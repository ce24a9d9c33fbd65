"""/accounts: staff open voters' rating of a deputy's annual account; voters rate it."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
