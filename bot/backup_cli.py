"""`python -m bot backup FILE` and `python -m bot restore FILE`. Filled in by issue 11's
backup work."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser("backup", help="copy the database, consistently, while it runs")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser("restore", help="put a backup in place (the bot must be stopped)")
    restore.add_argument("file", type=Path)


def main(settings: Settings, args: argparse.Namespace) -> int:
    raise NotImplementedError
