"""The one parser for typed dates and times: every accepted form, the year a date without
one falls in (both directions, across a year boundary), and the refusals callers show."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import DomainError
from bot.services.typed_dates import YearDirection, parse_date, parse_time_range

NEXT, RECENT = YearDirection.NEXT, YearDirection.MOST_RECENT
TODAY = date(2026, 11, 26)
YEAR_END = date(2026, 12, 30)
NEW_YEAR = date(2026, 1, 2)
BAD_DATE = "duty.bad_date"
BAD_VISIT_DATE = "visit.date_unparsable"
BAD_RANGE = "duty.bad_time_range"
# The message id each caller refuses a date with: duty (NEXT) and visits (MOST_RECENT).
REFUSALS = {NEXT: BAD_DATE, RECENT: BAD_VISIT_DATE}

# (typed, year direction — None for a time range, the day it is typed, what it reads as or
# the message id it is refused with)
CASES: list[tuple[str | None, YearDirection | None, date, object]] = [
    # dates with a year: the direction does not matter
    ("2026-12-05", NEXT, TODAY, date(2026, 12, 5)),
    ("2026-12-05", RECENT, TODAY, date(2026, 12, 5)),
    ("2026/12/5", NEXT, TODAY, date(2026, 12, 5)),
    ("2026.12.5", NEXT, TODAY, date(2026, 12, 5)),
    ("2026年12月5日", NEXT, TODAY, date(2026, 12, 5)),
    ("２０２６年１２月５日", RECENT, TODAY, date(2026, 12, 5)),
    ("2025-11-30", NEXT, TODAY, date(2025, 11, 30)),
    # dates without one
    ("12-05", NEXT, TODAY, date(2026, 12, 5)),
    ("12/5", NEXT, TODAY, date(2026, 12, 5)),
    ("12.5", NEXT, TODAY, date(2026, 12, 5)),
    ("12月5日", NEXT, TODAY, date(2026, 12, 5)),
    ("12月5号", NEXT, TODAY, date(2026, 12, 5)),
    ("１２－０５", NEXT, TODAY, date(2026, 12, 5)),
    (" 12 - 05\u200b ", NEXT, TODAY, date(2026, 12, 5)),
    ("11-26", NEXT, TODAY, TODAY),  # today is its own next and most recent occurrence
    ("11-26", RECENT, TODAY, TODAY),
    ("11-25", NEXT, TODAY, date(2027, 11, 25)),
    ("11-27", RECENT, TODAY, date(2025, 11, 27)),
    ("１２－０５", RECENT, TODAY, date(2025, 12, 5)),
    # across a year boundary
    ("1-2", NEXT, YEAR_END, date(2027, 1, 2)),
    ("1-2", RECENT, YEAR_END, date(2026, 1, 2)),
    ("12-30", RECENT, NEW_YEAR, date(2025, 12, 30)),
    ("12-30", NEXT, NEW_YEAR, date(2026, 12, 30)),
    # February 29 falls in the nearest leap year
    ("2-29", NEXT, TODAY, date(2028, 2, 29)),
    ("2-29", RECENT, TODAY, date(2024, 2, 29)),
    # days named by a word
    ("今天", NEXT, TODAY, TODAY),
    ("明天", RECENT, TODAY, date(2026, 11, 27)),
    ("昨天", NEXT, TODAY, date(2026, 11, 25)),
    ("today", RECENT, TODAY, TODAY),
    ("Tomorrow", NEXT, YEAR_END, date(2026, 12, 31)),
    ("yesterday", RECENT, NEW_YEAR, date(2026, 1, 1)),
    # what is no date
    ("", NEXT, TODAY, BAD_DATE),
    (None, RECENT, TODAY, BAD_VISIT_DATE),
    ("\u200b ", NEXT, TODAY, BAD_DATE),
    ("13-01", NEXT, TODAY, BAD_DATE),
    ("2-30", NEXT, TODAY, BAD_DATE),
    ("2-30", RECENT, TODAY, BAD_VISIT_DATE),
    ("2026-02-30", RECENT, TODAY, BAD_VISIT_DATE),
    ("0-5", NEXT, TODAY, BAD_DATE),
    ("abc", NEXT, TODAY, BAD_DATE),
    ("2026-11", RECENT, TODAY, BAD_VISIT_DATE),
    ("2026-12/05", NEXT, TODAY, BAD_DATE),
    ("12-05-2026", NEXT, TODAY, BAD_DATE),
    ("后天", NEXT, TODAY, BAD_DATE),
    # time ranges
    ("9:00-11:00", None, TODAY, ("09:00", "11:00")),
    ("9:00–11:00", None, TODAY, ("09:00", "11:00")),
    ("９：００－１１：００", None, TODAY, ("09:00", "11:00")),
    ("14:00~16:00", None, TODAY, ("14:00", "16:00")),
    ("14:00～16:00", None, TODAY, ("14:00", "16:00")),
    ("09:00 至 11:30", None, TODAY, ("09:00", "11:30")),
    ("9点-11点", None, TODAY, ("09:00", "11:00")),
    ("9点到11点", None, TODAY, ("09:00", "11:00")),
    ("9点半-11点", None, TODAY, ("09:30", "11:00")),
    ("9点15分-11点", None, TODAY, ("09:15", "11:00")),
    ("上午9点-11点", None, TODAY, ("09:00", "11:00")),
    ("下午2点-4点", None, TODAY, ("14:00", "16:00")),
    ("上午11点-下午1点", None, TODAY, ("11:00", "13:00")),
    ("下午2:30-17:00", None, TODAY, ("14:30", "17:00")),
    ("2pm-4pm", None, TODAY, ("14:00", "16:00")),
    ("9-11", None, TODAY, ("09:00", "11:00")),
    # what is no time range
    ("", None, TODAY, BAD_RANGE),
    ("9点", None, TODAY, BAD_RANGE),
    ("11:00-09:00", None, TODAY, BAD_RANGE),
    ("9:00-9:00", None, TODAY, BAD_RANGE),
    ("下午2点-1点", None, TODAY, BAD_RANGE),
    ("25:00-26:00", None, TODAY, BAD_RANGE),
    ("22:00-24:00", None, TODAY, BAD_RANGE),
    ("9:60-11:00", None, TODAY, BAD_RANGE),
    ("13pm-14pm", None, TODAY, BAD_RANGE),
    ("9:00-10:00-11:00", None, TODAY, BAD_RANGE),
    ("abc", None, TODAY, BAD_RANGE),
]


@pytest.mark.parametrize(("raw", "direction", "today", "expected"), CASES)
def test_typed_dates_and_time_ranges(
    raw: str | None, direction: YearDirection | None, today: date, expected: object
) -> None:
    def parse() -> object:
        if direction is None:
            return parse_time_range(raw)
        return parse_date(raw, today=today, direction=direction, refusal=REFUSALS[direction])

    if isinstance(expected, str):
        with pytest.raises(DomainError) as refused:
            parse()
        assert refused.value.key == expected
        if direction is not None:  # the visits message shows today as an example
            assert refused.value.params == {"example": today.isoformat()}
    else:
        assert parse() == expected
