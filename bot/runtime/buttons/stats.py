"""Buttons of /stats: the period, the kind of area, and leaving. The street or station itself
is picked with the shared picker (purpose Picker.STATS)."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData
from bot.services.figures import AreaKind, PeriodChoice


class StatsPeriod(CallbackData, prefix="tjp"):
    """This month, this quarter, this year or last year."""

    choice: PeriodChoice


class StatsArea(CallbackData, prefix="tja"):
    """The whole district, or a street or station to be picked."""

    kind: AreaKind


class StatsCancel(CallbackData, prefix="tjx"):
    """Leave /stats."""
