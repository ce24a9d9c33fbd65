"""`python -m bot demo`: its command-line arguments and entry. Filled in by issue 11's demo
work."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("demo", help="try the bot in this terminal: no token, no network")


def main(args: argparse.Namespace) -> int:
    raise NotImplementedError
