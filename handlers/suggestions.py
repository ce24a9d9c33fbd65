"""/suggestions: a deputy's suggestions, co-signing invitations and withdrawal; the suggestion
card voters reach from /my."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
