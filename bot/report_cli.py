"""`python -m bot report`: the figures of a period and an area as JSON, .xlsx or .docx.

    python -m bot report --year 2026 --format json                 # JSON on stdout
    python -m bot report --quarter 2026Q3 --street 学院路街道 --format xlsx --output q3.xlsx
    python -m bot report --from 2026-01-01 --to 2026-06-30 --station 清河联络站 \\
        --format docx --output h1.docx

A bad period, an unknown street or station, a missing database or an output that cannot be
written is one line on stderr and exit status 2; the output file appears whole or not at
all (written beside it, then renamed)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.errors import DomainError
from bot.files import write_whole
from bot.i18n import I18n, Texts
from bot.services import build_services, figures_documents
from bot.services.figures import (
    FiguresReport,
    Period,
    parse_dates,
    parse_month,
    parse_quarter,
    parse_year,
)
from bot.settings import SUPPORTED_LOCALES, Settings
from storage import Database

EXIT_BAD = 2
CLI_LOCALE = "en"  # the command line's refusals: its other lines are English too
FORMATS = ("json", "xlsx", "docx")


def add_parser(sub: Any) -> None:
    report = sub.add_parser(
        "report", help="the figures of a period and an area as JSON, .xlsx or .docx"
    )
    period = report.add_mutually_exclusive_group(required=True)
    period.add_argument("--year", help="a year: 2026")
    period.add_argument("--quarter", help="a quarter: 2026Q3")
    period.add_argument("--month", help="a month: 2026-11")
    period.add_argument("--from", dest="first", help="the first day: 2026-01-01 (with --to)")
    report.add_argument("--to", dest="last", help="the last day: 2026-06-30 (with --from)")
    report.add_argument("--street", help="one street (街镇), by name")
    report.add_argument("--station", help="one station, by name (with --street if shared)")
    report.add_argument("--format", choices=FORMATS, default="json")
    report.add_argument("--output", type=Path, help="the file to write (json: stdout if none)")
    report.add_argument(
        "--locale", choices=SUPPORTED_LOCALES, help="the language of .xlsx and .docx labels"
    )


def _period(args: argparse.Namespace) -> Period:
    if args.first is not None or args.last is not None:
        if args.first is None or args.last is None:
            raise DomainError("stats.bad_dates")
        return parse_dates(args.first, args.last)
    if args.year is not None:
        return parse_year(args.year)
    if args.quarter is not None:
        return parse_quarter(args.quarter)
    return parse_month(args.month)


async def _report(settings: Settings, args: argparse.Namespace, period: Period) -> FiguresReport:
    db = Database(settings.database_path)
    await db.connect()
    try:
        figures = build_services(settings, db, SystemClock()).figures
        area = await figures.find_area(args.street, args.station)
        return await figures.compute(period, area)
    finally:
        await db.close()


def _content(report: FiguresReport, args: argparse.Namespace, texts: Texts) -> bytes:
    if args.format == "json":
        text = json.dumps(report.as_json(), ensure_ascii=False, indent=2, allow_nan=False)
        return (text + "\n").encode()
    write: Callable[[FiguresReport, Texts], bytes] = (
        figures_documents.xlsx_bytes if args.format == "xlsx" else figures_documents.docx_bytes
    )
    return write(report, texts)


def _refuse(line: str) -> int:
    print(f"error: {line}", file=sys.stderr)
    return EXIT_BAD


def main(settings: Settings, args: argparse.Namespace) -> int:
    refusals = I18n(settings.zone).texts(CLI_LOCALE)
    if args.last is not None and args.first is None:
        return _refuse("--to needs --from")
    if args.format != "json" and args.output is None:
        return _refuse(f"--format {args.format} needs --output FILE")
    output: Path | None = args.output
    if output is not None and output.is_dir():
        return _refuse(f"cannot write {output}: it is a folder")
    if not Path(settings.database_path).exists():
        return _refuse(f"no database at {settings.database_path}")
    try:
        period = _period(args)
        report = asyncio.run(_report(settings, args, period))
    except DomainError as error:
        return _refuse(refusals(error.key, **error.params))
    texts = I18n(settings.zone).texts(args.locale or settings.default_locale)
    data = _content(report, args, texts)
    if output is None:
        sys.stdout.write(data.decode())
        return 0
    try:
        write_whole(output, data)
    except OSError as error:
        return _refuse(f"cannot write {output}: {error.strerror or error}")
    print(f"report: {args.format} written to {output}")
    return 0
