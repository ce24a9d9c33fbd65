"""Buttons of /duty: the menu, the week and weekday of a monthly rule, the deputies of a
turn, saving, and changing or ending a rule. The station comes from the shared picker."""

from __future__ import annotations

from enum import StrEnum

from bot.runtime.buttons.base import CallbackData, Id
from bot.services.calendar import Weekday


class DutyMode(StrEnum):
    """What the staff member sets up (or, RULES, lists)."""

    RULE = "rule"
    RECEPTION = "reception"
    HOME_VISIT = "home_visit"
    ANNUAL_ACCOUNT = "annual_account"
    RULES = "rules"


class WeekOfMonth(StrEnum):
    """The week of the month of a rule; LAST is stored as -1."""

    FIRST = "1"
    SECOND = "2"
    THIRD = "3"
    FOURTH = "4"
    LAST = "last"

    @property
    def number(self) -> int:
        return -1 if self is WeekOfMonth.LAST else int(self.value)

    @classmethod
    def of(cls, number: int) -> WeekOfMonth:
        return cls.LAST if number == -1 else cls(str(number))


class RuleAction(StrEnum):
    CHANGE = "change"
    END = "end"  # ask first
    END_CONFIRMED = "end_ok"


class DutyMenu(CallbackData, prefix="dum"):
    mode: DutyMode


class DutyWeek(CallbackData, prefix="duw"):
    week: WeekOfMonth


class DutyWeekday(CallbackData, prefix="dud"):
    weekday: Weekday


class DutyDeputy(CallbackData, prefix="dup"):
    """Tick or untick one deputy of the station."""

    deputy: Id


class DutyDeputiesDone(CallbackData, prefix="dupd"):
    """The deputies are chosen: show the summary."""


class DutySave(CallbackData, prefix="dus"):
    """Save the summarised rule or turn."""


class DutyDiscard(CallbackData, prefix="dux"):
    """Leave /duty without saving."""


class DutyRuleControl(CallbackData, prefix="dur"):
    """Change or end an existing rule."""

    action: RuleAction
    rule: Id
