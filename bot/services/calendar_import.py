"""`python -m bot turns import FILE.csv`: reception rules and dated turns in bulk, with the
stations import's rules: every bad line reported by number, and then nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.errors import DomainError, present
from bot.services.calendar import WEEKS_OF_MONTH, CalendarService
from bot.services.csvfile import check_width, read_table
from bot.services.stations import ImportReport
from bot.services.typed_dates import YearDirection, parse_date, parse_time_range
from storage.models import TurnKind

CSV_COLUMNS = ("kind", "street", "station", "date", "week_of_month", "weekday", "time", "deputies")
KINDS = ("rule", "reception", "home_visit", "annual_account")


@dataclass(frozen=True)
class TurnRow:
    line: int
    kind: str
    station_id: int
    day: date | None
    week_of_month: int | None
    weekday: int | None
    starts: str
    ends: str
    deputy_ids: tuple[int, ...]


async def _parse_row(calendar: CalendarService, line: int, cells: list[str]) -> TurnRow:
    check_width(line, cells, CSV_COLUMNS)
    kind, street, station_name, raw_date, raw_week, raw_weekday, raw_time, raw_deputies = (
        c.strip() for c in cells
    )
    if kind not in KINDS:
        raise ValueError(f"line {line}: kind must be one of {', '.join(KINDS)}")
    station = await calendar.stations.by_names(street, station_name)
    if station is None:
        raise ValueError(f"line {line}: no station {station_name!r} in {street!r}")
    try:
        starts, ends = parse_time_range(raw_time)
    except DomainError:
        raise ValueError(f"line {line}: time {raw_time!r} is not like 09:00-11:00") from None
    day = None
    if raw_date:
        try:
            day = parse_date(
                raw_date,
                today=calendar.today(),
                direction=YearDirection.NEXT,
                refusal="duty.bad_date",
            )
        except DomainError:
            raise ValueError(f"line {line}: date {raw_date!r} is not like 2026-12-05") from None
    week = weekday = None
    if kind == "rule":
        week = -1 if raw_week.lower() == "last" else _int(raw_week, line, "week_of_month")
        weekday = _int(raw_weekday, line, "weekday") - 1
        if week not in WEEKS_OF_MONTH or not 0 <= weekday <= 6:
            raise ValueError(f"line {line}: week_of_month is 1-4 or last, weekday 1 (Mon)-7 (Sun)")
    else:
        if day is None:
            raise ValueError(f"line {line}: a {kind} needs a date")
        if day < calendar.today():
            raise ValueError(f"line {line}: {day} is in the past")
    names = [n.strip() for n in raw_deputies.split(";") if n.strip()]
    if not names:
        raise ValueError(f"line {line}: name at least one deputy")
    deputy_ids = []
    for name in names:
        found = await calendar.deputies.by_name(name)
        if len(found) > 1:
            found = [d for d in found if d.station_id == station.id]
        if len(found) != 1:
            raise ValueError(f"line {line}: deputy {name!r} is unknown or not unique")
        deputy_ids.append(found[0].user_id)
    return TurnRow(line, kind, station.id, day, week, weekday, starts, ends, tuple(deputy_ids))


def _int(raw: str, line: int, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"line {line}: {name} {raw!r} is not a number") from None


async def import_turns(calendar: CalendarService, path: Path) -> ImportReport:
    """Check every row first; write all of them in one transaction, or none."""
    lines, errors = read_table(path, CSV_COLUMNS)
    report = ImportReport(errors=errors)
    rows: list[TurnRow] = []
    for line, cells in lines:
        try:
            rows.append(await _parse_row(calendar, line, cells))
        except ValueError as exc:
            report.errors.append(str(exc))
    if report.errors:
        return report
    now = calendar.clock.now()
    async with calendar.db.transaction() as tx:
        for row in rows:
            if row.kind == "rule":
                week = present(row.week_of_month, "a checked rule's week of month")
                weekday = present(row.weekday, "a checked rule's weekday")
                if await calendar.repo.same_open_rule(
                    tx, row.station_id, week, weekday, row.starts, row.ends
                ):
                    report.unchanged += 1
                    continue
                rule_id = await calendar.repo.add_rule(
                    tx,
                    station_id=row.station_id,
                    week_of_month=week,
                    weekday=weekday,
                    starts=row.starts,
                    ends=row.ends,
                    valid_from=row.day or calendar.today(),
                    deputy_ids=row.deputy_ids,
                    created_by=None,
                    now=now,
                )
                rule = await calendar.repo.get_rule(rule_id, tx)
                rule = present(rule, "rule")
                await calendar.produce(tx, rule, now)
            else:
                day = present(row.day, "a checked turn's day")
                kind = TurnKind(row.kind)
                starts_at = calendar.at(day, row.starts)
                if await calendar.repo.same_turn(tx, kind, row.station_id, starts_at):
                    report.unchanged += 1
                    continue
                await calendar.repo.add_turn(
                    tx,
                    kind=kind,
                    station_id=row.station_id,
                    starts_at=starts_at,
                    ends_at=calendar.at(day, row.ends),
                    deputy_ids=row.deputy_ids,
                    uid=calendar.new_uid(),
                    now=now,
                )
            report.created_or_updated += 1
    return report
