"""`python -m bot backup FILE [--force]` and `python -m bot restore FILE`.

A backup may be taken while the bot runs; a restore only while it is stopped (it holds the
database's run lock meanwhile, so none starts). Each prints what it did; a refusal is one
line on stderr with exit status 1, and nothing left behind."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.clock import SystemClock
from bot.settings import Settings
from storage.backup import BackupError, Restored, backup, restore


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    copy = sub.add_parser(
        "backup",
        help="copy the database, consistently, while it runs",
        description=(
            "Copy the database to FILE with SQLite's online backup API (the bot may be"
            " running) and check the copy with PRAGMA integrity_check before it gets its name."
        ),
    )
    copy.add_argument("file", type=Path)
    copy.add_argument("--force", action="store_true", help="replace FILE if it exists")
    back = sub.add_parser(
        "restore",
        help="put a backup in place (the bot must be stopped)",
        description=(
            "Check FILE, move the current database aside as <database>.before-restore-<time>,"
            " put FILE in its place and apply this code's migrations to it."
        ),
    )
    back.add_argument("file", type=Path)


def main(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.command == "backup":
            copy = backup(settings.database_path, args.file, force=args.force)
            print(
                f"backup written: {copy.path} ({copy.size:,} bytes,"
                f" schema version {copy.schema_version})"
            )
            return 0
        moment = SystemClock().now().astimezone(settings.zone)
        restored = asyncio.run(restore(settings.database_path, args.file, moment))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in report(restored):
        print(line)
    return 0


def report(restored: Restored) -> list[str]:
    """What a restore did, a line each."""
    lines = [f"kept aside: {path}" for path in restored.aside]
    if not restored.aside:
        lines.append(f"there was no database at {restored.database}: nothing kept aside")
    lines.append(
        f"restored {restored.source} to {restored.database}"
        f" (schema version {restored.schema_version})"
    )
    if restored.applied:
        lines.append(f"migrations applied: {', '.join(restored.applied)}")
    else:
        lines.append("migrations: already current")
    lines.append(
        f"outbox: {restored.withheld} message(s) still unsent in the backup will not be sent"
        " again (marked skipped, reason restored)"
    )
    return lines
