"""`python -m bot departments import FILE.csv`: the handling departments (承办单位)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import Settings


def add_parser(sub: Any) -> None:
    sub.add_parser("departments", help="(being built)")


def main(settings: Settings, args: argparse.Namespace) -> int:
    return 2
