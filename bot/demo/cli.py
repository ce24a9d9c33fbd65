"""`python -m bot demo`: the real bot in this terminal, on a demo database of its own, with no
token and no network. Lines come from the keyboard or from a pipe; the end of input ends it."""

from __future__ import annotations

import argparse
import asyncio
import io
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from bot.demo.console import Terminal
from bot.demo.session import Demo, demo_settings
from bot.runtime.logs import configure_logging
from bot.settings import SUPPORTED_LOCALES, Settings, SettingsError
from storage.repos.demo import Owner, owner_of
from storage.run_lock import AlreadyRunning, RunLock

DEFAULT_DATABASE = Path("data/demo.sqlite3")
EXIT_CONFIG = 2
# SQLite's own files beside a database, removed with it by --fresh
COMPANIONS = ("", "-wal", "-shm", "-journal")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="try the bot in this terminal: no token, no network")
    demo.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DATABASE,
        help=f"the demo's own database, seeded when new (default: {DEFAULT_DATABASE})",
    )
    demo.add_argument(
        "--fresh",
        action="store_true",
        help="start over: delete the demo database (only a demo's), seed again",
    )
    demo.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        default="zh_CN",
        help="the console's language and that of the simulated people (default: zh_CN)",
    )


class NotTheDemos(Exception):
    """A database that is not the demo's: the demo neither opens nor deletes it."""


def main(args: argparse.Namespace) -> int:
    database: Path = args.db
    try:
        settings = demo_settings(database, args.lang)
        with RunLock(database):
            owner = owner_of(database)
            if owner is Owner.OTHER:
                raise NotTheDemos
            if args.fresh and owner is Owner.DEMO:
                for suffix in COMPANIONS:
                    database.with_name(database.name + suffix).unlink(missing_ok=True)
            configure_logging(settings)
            run(settings)
    except SettingsError as exc:
        return refuse(f"error: {exc}")
    except AlreadyRunning:
        return refuse(f"error: a bot or demo is already running on {database}")
    except NotTheDemos:
        return refuse(
            f"error: {database} is not a demo database (it has no demo mark), so the demo"
            " neither opens nor deletes it; name another file with --db"
        )
    except sqlite3.Error as exc:
        return refuse(f"error: {database} cannot be the demo's database: {exc}")
    except OSError as exc:
        return refuse(f"error: {database} cannot be the demo's database: {exc.strerror or exc}")
    return 0


def refuse(line: str) -> int:
    print(line, file=sys.stderr)
    return EXIT_CONFIG


def tolerant_streams() -> None:
    """Bytes that are not the encoding's (a script saved in GBK, a stray byte) become U+FFFD
    instead of ending the demo with UnicodeDecodeError; so on the way out."""
    for stream in (sys.stdin, sys.stdout):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


def run(settings: Settings) -> None:
    """The demo from its start to the end of input (or :quit, or Ctrl+C), then shut down."""
    database, locale = settings.database_path, settings.default_locale
    tolerant_streams()
    interactive = sys.stdin.isatty()
    with asyncio.Runner() as runner:
        demo, seeded = runner.run(Demo.open(settings))
        try:
            texts = demo.deployment.services.i18n.texts(locale)
            files = database.with_name(f"{database.stem}-files")
            terminal = Terminal(demo, texts, Console(highlight=False), interactive, files)
            terminal.welcome(seeded, database)
            for line in lines(terminal, interactive):
                if not runner.run(terminal.handle(line)):
                    break
        except KeyboardInterrupt:
            print()
        finally:
            runner.run(demo.close())


def lines(terminal: Terminal, interactive: bool) -> Iterator[str]:
    """What is typed, a line at a time, until the end of input (Ctrl+D at a terminal); at a
    terminal after a prompt naming who is speaking, from a pipe silently."""
    if not interactive:
        yield from sys.stdin
        return
    while True:
        try:
            yield input(terminal.prompt())
        except EOFError:
            print()
            return
