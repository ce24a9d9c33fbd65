"""`python -m bot poster STATION`: a station's poster to print and put on the wall, as
`<station>-poster.png` and `<station>-poster.pdf` (A4, bot.services.posters), with the QR
code of the station's link.

    python -m bot poster 学院路第一联络站 --bot jiazhan_haidian_bot --out posters/
    python -m bot poster 12

STATION is the station's id or its exact name. The link needs the bot's @username: `--bot`,
or else the one the running bot last made a /desk claim link with (kept in the database), so
no token and no call to Telegram are needed. An unknown station, a name several stations
share, an unknown username or a folder that cannot be written is one line on stderr (the
shared name: a line per station) and exit status 1; each file appears whole or not at all."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.clock import SystemClock
from bot.errors import DomainError
from bot.files import write_whole
from bot.i18n import I18n
from bot.runtime.buttons.start import bot_username, station_link
from bot.services import build_services
from bot.services.posters import poster_pdf, poster_png
from bot.settings import SUPPORTED_LOCALES, Settings
from storage import Database
from storage.models import Station

EXIT_FAILED = 1
CLI_LOCALE = "en"  # the command line's refusals: its other lines are English too
# What a file name may not hold on common systems (and no control characters).
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    poster = sub.add_parser("poster", help="write a station's QR-code poster as PNG and PDF")
    poster.add_argument("station", help="the station's id or exact name")
    poster.add_argument(
        "--out", type=Path, default=Path("."), help="the folder to write to (default: here)"
    )
    poster.add_argument(
        "--bot",
        help="the bot's @username (default: the one /desk last made a claim link with)",
    )
    poster.add_argument(
        "--locale",
        choices=SUPPORTED_LOCALES,
        help="the poster's language (default: JIAZHAN_DEFAULT_LOCALE)",
    )


@dataclass(frozen=True)
class Found:
    stations: list[Station]
    remembered: str | None  # the @username /desk last used


async def _find(settings: Settings, reference: str) -> Found:
    db = Database(settings.database_path)
    await db.connect()
    try:
        desk = build_services(settings, db, SystemClock()).desk
        return Found(await desk.poster_stations(reference), await desk.bot_username())
    finally:
        await db.close()


def file_stem(station: Station) -> str:
    """The station's name as the start of a file name (nothing a file system refuses)."""
    stem = UNSAFE.sub("_", station.name).strip().lstrip(".")
    return stem or f"station-{station.id}"


def _refuse(*lines: str) -> int:
    print(f"error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(line, file=sys.stderr)
    return EXIT_FAILED


def main(settings: Settings, args: argparse.Namespace) -> int:
    refusals = I18n(settings.zone).texts(CLI_LOCALE)
    folder: Path = args.out
    if not folder.is_dir():
        return _refuse(f"cannot write to {folder}: no such folder")
    if not Path(settings.database_path).exists():
        return _refuse(f"no database at {settings.database_path}")
    found = asyncio.run(_find(settings, args.station))
    if not found.stations:
        return _refuse(f"no station has the id or the name {args.station!r}")
    if len(found.stations) > 1:
        return _refuse(
            f"{len(found.stations)} stations are named {args.station!r}; give one's id:",
            *(f"  {s.id}  {s.street_name} · {s.name}" for s in found.stations),
        )
    station = found.stations[0]
    given = args.bot or found.remembered
    if given is None:
        return _refuse(
            "the bot's username is not known here yet: give --bot USERNAME"
            " (the bot remembers it once /desk has been used)"
        )
    try:
        username = bot_username(given)
    except DomainError as error:
        return _refuse(refusals(error.key, **error.params))
    texts = I18n(settings.zone).texts(args.locale or settings.default_locale)
    stem = file_stem(station)
    png, pdf = folder / f"{stem}-poster.png", folder / f"{stem}-poster.pdf"
    link = station_link(username, station.id)
    try:
        write_whole(png, poster_png(station, link, texts))
        write_whole(pdf, poster_pdf(station, link, texts))
    except OSError as error:
        return _refuse(f"cannot write to {folder}: {error.strerror or error}")
    print(f"poster of {station.name} (#{station.id}): {png} and {pdf}")
    print(f"its QR code opens {link}")
    return 0
