"""`python -m bot report`: the figures of a period and an area as JSON, .xlsx or .docx."""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import Settings


def add_parser(sub: Any) -> None:
    sub.add_parser("report", help="(being built)")


def main(settings: Settings, args: argparse.Namespace) -> int:
    return 2
