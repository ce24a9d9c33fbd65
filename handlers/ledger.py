"""/ledger: staff see the ledger (台账) and export it; departments post progress updates."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
