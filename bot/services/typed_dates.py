"""The one parser for dates and times people type: `12-05`, `12月5日`, `2026年12月5日`, `明天`,
`９：００－１１：００`, `下午2点-4点` … Typed text goes through the one cleaner
(bot.services.text) and then NFKC, so full-width digits and punctuation read as ASCII.

Months come before days, as Chinese writes them: `12/5` and `12.5` are the 5th of December,
never the 12th of May. A date typed without a year falls in the year its caller names."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from enum import Enum

from bot.errors import DomainError
from bot.services.text import clean


class YearDirection(Enum):
    """Where a date typed without a year falls, counted from today (today itself included)."""

    NEXT = "next"  # the first such day from today on: a turn being planned
    MOST_RECENT = "most_recent"  # the last such day up to today: a visit that took place


RELATIVE_DAYS = {
    "今天": 0,
    "今日": 0,
    "today": 0,
    "明天": 1,
    "明日": 1,
    "tomorrow": 1,
    "昨天": -1,
    "昨日": -1,
    "yesterday": -1,
}
# Year, month and day with one separator throughout, or with 年 月 (日|号).
FULL_DATES = (
    re.compile(r"(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})"),
    re.compile(r"(\d{4})\s*(年)\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"),
)
SHORT_DATES = (
    re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})"),
    re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"),
)
# A leap year lets every day that exists in some year through, and refuses 2-30 or 4-31.
LEAP_YEAR = 2000
# February 29 comes back at most 8 years later (1896 → 1904), so 9 years always find it.
YEARS_TO_TRY = 9

RANGE_SEPARATOR = re.compile(r"\s*(?:[-–—−~〜]|至|到)\s*")
TIME = re.compile(
    r"(?P<word>上午|早上|早晨|凌晨|中午|下午|傍晚|晚上)?\s*"
    r"(?P<hour>\d{1,2})"
    r"(?::(?P<minute>\d{2})|点(?:(?P<half>半)|(?P<minutes>\d{1,2})分?)?|时)?"
    r"\s*(?P<suffix>[ap]\.?m\.?)?"
)
# The hours below which a word of the time of day adds 12: 下午2点 is 14:00, 中午1点 13:00.
PM_BELOW = {
    "上午": 0,
    "早上": 0,
    "早晨": 0,
    "凌晨": 0,
    "中午": 6,
    "下午": 12,
    "傍晚": 12,
    "晚上": 12,
}


def _typed(raw: str | None) -> str:
    """What was typed, cleaned, NFKC-normalised and in lower case."""
    return unicodedata.normalize("NFKC", clean(raw)).lower()


def _in_year(month: int, day: int, today: date, direction: YearDirection) -> date | None:
    """The day `month`-`day` nearest to today in `direction`; None if no year has it."""
    try:
        date(LEAP_YEAR, month, day)
    except ValueError:
        return None
    step = 1 if direction is YearDirection.NEXT else -1
    for offset in range(YEARS_TO_TRY):
        try:
            candidate = date(today.year + step * offset, month, day)
        except ValueError:  # February 29 outside a leap year, or past year 9999
            continue
        if (candidate >= today) if direction is YearDirection.NEXT else (candidate <= today):
            return candidate
    return None


def _relative(text: str, today: date) -> date | None:
    """Today, tomorrow or yesterday; None past the calendar's last day."""
    try:
        return today + timedelta(days=RELATIVE_DAYS[text])
    except OverflowError:
        return None


def _written(text: str, today: date, direction: YearDirection) -> date | None:
    """A date written with digits, with or without its year; None when it is none."""
    for pattern in FULL_DATES:
        if match := pattern.fullmatch(text):
            year, _, month, day = match.groups()
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                return None
    for pattern in SHORT_DATES:
        if match := pattern.fullmatch(text):
            month, day = match.groups()
            return _in_year(int(month), int(day), today, direction)
    return None


def parse_date(raw: str | None, *, today: date, direction: YearDirection, refusal: str) -> date:
    """A typed date: `2026-12-05` (or with / or .), `2026年12月5日`, `12-05`, `12/5`, `12.5`,
    `12月5日`/`12月5号`, `今天`/`明天`/`昨天` (today, tomorrow, yesterday). A date without a
    year falls in the year `direction` says. What is no date, or a day no calendar has (2-30),
    raises DomainError(`refusal`, example=today in ISO form)."""
    text = _typed(raw)
    value = _relative(text, today) if text in RELATIVE_DAYS else _written(text, today, direction)
    if value is None:
        raise DomainError(refusal, example=today.isoformat())
    return value


def _time(match: re.Match[str], word: str | None, suffix: str | None) -> tuple[int, int] | None:
    """(hour, minute) of one end of a range; None when no clock shows it."""
    hour = int(match["hour"])
    if match["minute"] is not None:
        minute = int(match["minute"])
    elif match["minutes"] is not None:
        minute = int(match["minutes"])
    else:
        minute = 30 if match["half"] else 0
    if suffix is not None:  # 12am is midnight, 12pm noon
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix.startswith("p") else 0)
    elif word is not None and hour < PM_BELOW[word]:
        hour += 12
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return hour, minute


def parse_time_range(raw: str | None) -> tuple[str, str]:
    """A typed range of time on one day → ('09:00', '11:00'): `9:00-11:00` (or –, ~, 至, 到),
    `９：００－１１：００`, `9点-11点`, `9点半-11点`, `上午9点-11点`, `下午2点-4点` (14:00-16:00;
    the start's time of day carries to the end), `2pm-4pm`, `9-11`. The end must follow the
    start; anything else raises DomainError("duty.bad_time_range")."""
    parts = RANGE_SEPARATOR.split(_typed(raw))
    matches = [TIME.fullmatch(part) for part in parts]
    if len(parts) != 2 or matches[0] is None or matches[1] is None:
        raise DomainError("duty.bad_time_range")
    first, second = matches[0], matches[1]
    start = _time(first, first["word"], first["suffix"])
    if second["word"] is None and second["suffix"] is None:
        end = _time(second, first["word"], first["suffix"])
    else:
        end = _time(second, second["word"], second["suffix"])
    if start is None or end is None or end <= start:
        raise DomainError("duty.bad_time_range")
    return f"{start[0]:02d}:{start[1]:02d}", f"{end[0]:02d}:{end[1]:02d}"
