"""`python -m bot poster STATION`: a printable poster (PNG and PDF) with the station's QR
code. Filled in by issue 11's desk work."""

from __future__ import annotations

import argparse

from bot.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    poster = sub.add_parser("poster", help="write a station's QR-code poster as PNG and PDF")
    poster.add_argument("station", help="the station's id or exact name")


def main(settings: Settings, args: argparse.Namespace) -> int:
    raise NotImplementedError
