"""China's official working days (法定工作日), for the statutory deadlines of suggestions: the
State Council's holidays and the weekend days moved to work (调休), from chinesecalendar.

The State Council announces a year's holidays each November or December, and chinesecalendar
follows with a release. For a year it does not know yet, Monday to Friday count, and the log
says so once, so the IT person upgrades the library."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

log = logging.getLogger(__name__)

_warned: set[int] = set()


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """True on a working day: a weekday that is no holiday, or a 调休 weekend workday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning(
                "chinesecalendar has no holidays for %s yet: Monday to Friday count as working"
                " days; upgrade chinesecalendar once the State Council publishes them",
                day.year,
            )
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself never counts): a deadline of
    "within 15 working days" of an answer given on `start` ends on the returned day."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days come after `start` up to and including `end` (0 if end ≤ start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
