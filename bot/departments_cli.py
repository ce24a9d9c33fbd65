"""`python -m bot departments import FILE.csv`: the handling departments (承办单位), one name
a line under the header 名称 (or name). Every bad line is reported by number and then
nothing is written; names already in the table are left as they are."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.services import build_services
from bot.services.departments import DepartmentImport
from bot.settings import Settings
from storage import Database


def add_parser(sub: Any) -> None:
    departments = sub.add_parser("departments", help="handling departments (承办单位)")
    actions = departments.add_subparsers(dest="action", required=True)
    imp = actions.add_parser(
        "import", help="add departments from a CSV of one column, 名称 (or name)"
    )
    imp.add_argument("file", type=Path)


async def _import(settings: Settings, path: Path) -> DepartmentImport:
    db = Database(settings.database_path)
    await db.connect()
    try:
        services = build_services(settings, db, SystemClock())
        return await services.departments.import_csv(path)
    finally:
        await db.close()


def main(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    report = asyncio.run(_import(settings, path))
    if report.errors:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"nothing imported from {path}", file=sys.stderr)
        return 1
    print(f"departments: {report.created} created, {report.unchanged} already there")
    return 0
