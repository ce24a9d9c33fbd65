"""`python -m bot classes YEAR ...`: a year's outcome classes of suggestion answers."""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import Settings


def add_parser(sub: Any) -> None:
    sub.add_parser("classes", help="(being built)")


def main(settings: Settings, args: argparse.Namespace) -> int:
    return 2
