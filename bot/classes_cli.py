"""`python -m bot classes YEAR ...`: a year's outcome classes of suggestion answers.

`classes 2026` prints them (the default A/B/C when none are set); `classes 2026 --set
"A=已解决或基本解决" "B=正在解决或列入计划逐步解决:ledger" "C=因条件限制留作参考"
[--progress A,B]` replaces them. `:ledger` marks a class whose commitments keep the
suggestion on the ledger (台账); `--progress` names the classes counted as "solved or
progressed" (default: every class but the last). A code that answers of that year already
use cannot be dropped."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.clock import SystemClock
from bot.errors import DomainError
from bot.i18n import I18n
from bot.services import build_services
from bot.services.suggestion_answers import outcome_classes_of, parse_class_spec
from bot.settings import Settings
from storage import Database
from storage.models import OutcomeClass

CLI_LOCALE = "en"  # the command line's language, as in bot.__main__


def _year(raw: str) -> int:
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a year from 2000 to 2100")
    return int(raw)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "classes",
        help="show or set a year's outcome classes of suggestion answers (A/B/C …)",
        description=(
            "Without --set: print YEAR's outcome classes. With --set: replace them, e.g."
            ' --set "A=已解决或基本解决" "B=正在解决或列入计划逐步解决:ledger"'
            ' "C=因条件限制留作参考" --progress A,B'
        ),
    )
    parser.add_argument("year", type=_year)
    parser.add_argument(
        "--set",
        dest="specs",
        nargs="+",
        metavar="CODE=LABEL[:ledger]",
        help="the classes in order; ':ledger' keeps the class's commitments on the ledger",
    )
    parser.add_argument(
        "--progress",
        help="comma-separated codes counted as solved or progressed (default: all but the last)",
    )


def _line(c: OutcomeClass) -> str:
    marks = [m for m, on in (("progress", c.counts_as_progress), ("ledger", c.ledger)) if on]
    return f"{c.code}\t{c.label}" + (f"\t({', '.join(marks)})" if marks else "")


async def _run(
    settings: Settings, year: int, replacing: list[OutcomeClass] | None
) -> list[OutcomeClass]:
    db = Database(settings.database_path)
    await db.connect()
    try:
        answers = build_services(settings, db, SystemClock()).suggestion_answers
        if replacing is not None:
            await answers.set_year_classes(year, replacing)
            print(f"outcome classes of {year} set:")
            return replacing
        classes, kept = await answers.year_classes(year)
        print(f"outcome classes of {year}" + ("" if kept else " (the default)") + ":")
        return classes
    finally:
        await db.close()


def main(settings: Settings, args: argparse.Namespace) -> int:
    if args.progress is not None and not args.specs:
        print("error: --progress goes with --set", file=sys.stderr)
        return 2
    try:
        replacing = None
        if args.specs:  # checked before the database is opened
            progress = None if args.progress is None else args.progress.split(",")
            specs = [parse_class_spec(s) for s in args.specs]
            replacing = outcome_classes_of(args.year, specs, progress)
        classes = asyncio.run(_run(settings, args.year, replacing))
    except DomainError as exc:
        texts = I18n(settings.zone).texts(CLI_LOCALE)
        print(f"error: {texts(exc.key, **exc.params)}; nothing was changed", file=sys.stderr)
        return 1
    for c in classes:
        print(_line(c))
    return 0
