"""`python -m bot health`: the bot's health in a few lines, exit status 0 only when healthy.
Filled in by issue 11's operations work."""

from __future__ import annotations

import argparse

from bot.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("health", help="report the bot's health; exit status 1 when unhealthy")


def main(settings: Settings, args: argparse.Namespace) -> int:
    raise NotImplementedError
