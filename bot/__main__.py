"""`python -m bot` runs the bot; `python -m bot stations import FILE.csv` loads stations."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot import (
    backup_cli,
    classes_cli,
    departments_cli,
    health_cli,
    poster_cli,
    report_cli,
    serve,
)
from bot.clock import SystemClock
from bot.demo import cli as demo_cli
from bot.errors import DomainError
from bot.i18n import I18n, Texts
from bot.runtime.logs import configure_logging
from bot.services import build_services, project_import
from bot.services.calendar_import import import_turns
from bot.services.consultations import NATIONAL_MIN_DAYS, Opened
from bot.services.draft_files import check_size, draft_text
from bot.services.draft_split import split_draft
from bot.settings import Settings, SettingsError, load_settings
from storage import Database

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="jiazhan (家站) bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    stations = sub.add_parser("stations", help="manage liaison stations")
    stations_sub = stations.add_subparsers(dest="action", required=True)
    imp = stations_sub.add_parser("import", help="create or update stations from a CSV file")
    imp.add_argument("file", type=Path)
    turns = sub.add_parser("turns", help="manage the duty calendar")
    turns_sub = turns.add_subparsers(dest="action", required=True)
    timp = turns_sub.add_parser("import", help="add reception rules and dated turns from a CSV")
    timp.add_argument("file", type=Path)
    projects = sub.add_parser("projects", help="livelihood projects (民生实事)")
    projects_sub = projects.add_subparsers(dest="action", required=True)
    pimp = projects_sub.add_parser("import", help="add a year's candidates from a CSV or .xlsx")
    pimp.add_argument("file", type=Path)
    pimp.add_argument("--year", type=_year, help="the projects' year (default: this year)")
    consultations = sub.add_parser("consultations", help="draft-law consultations (征求意见)")
    consultations_sub = consultations.add_subparsers(dest="action", required=True)
    split = consultations_sub.add_parser(
        "split", help="print a draft's structure (.docx or .txt) as JSON; nothing is saved"
    )
    split.add_argument("file", type=Path)
    create = consultations_sub.add_parser(
        "create",
        help="open a consultation on a draft (.docx or .txt); the running bot sends the prompts",
    )
    create.add_argument("file", type=Path)
    create.add_argument("--title", default="")
    create.add_argument(
        "--deadline",
        default="",
        help="the last day for comments, typed as in chat: 2026-12-31, 12-31, 12月31日 …",
    )
    create.add_argument("--summary", default="")
    create.add_argument("--source", default="", help="e.g. 市人大常委会法制办")
    create.add_argument(
        "--audience",
        default="everyone",
        help="deputies, deputies_street, voters_station, voters_street or everyone"
        " (every deputy is prompted too, except with deputies_street: that street's)",
    )
    create.add_argument("--audience-ref", type=int, help="the street's or station's id")
    create.add_argument(
        "--question", action="append", default=[], help="a key question: TEXT or TEXT|opt1|opt2…"
    )
    report_cli.add_parser(sub)
    departments_cli.add_parser(sub)
    classes_cli.add_parser(sub)
    demo_cli.add_parser(sub)
    backup_cli.add_parser(sub)
    health_cli.add_parser(sub)
    poster_cli.add_parser(sub)
    return parser


def _year(raw: str) -> int:
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a year from 2000 to 2100")
    return int(raw)


async def import_file(settings: Settings, what: str, path: Path) -> int:
    """Stations or turns from a CSV: every bad line reported, then nothing written."""
    db = Database(settings.database_path)
    await db.connect()
    try:
        services = build_services(settings, db, SystemClock())
        if what == "stations":
            report = await services.stations.import_csv(path)
        else:
            report = await import_turns(services.calendar, path)
    finally:
        await db.close()
    if report.errors:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"nothing imported from {path}", file=sys.stderr)
        return 1
    print(f"{what}: {report.created_or_updated} created or updated, {report.unchanged} unchanged")
    return 0


async def import_projects(settings: Settings, path: Path, year: int | None) -> int:
    """A year's candidate projects from a CSV or .xlsx: every bad line reported, then
    nothing written."""
    db = Database(settings.database_path)
    await db.connect()
    try:
        services = build_services(settings, db, SystemClock())
        report = await project_import.import_projects(services.projects, path, year)
    finally:
        await db.close()
    if report.errors:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"nothing imported from {path}", file=sys.stderr)
        return 1
    print(f"projects: {report.imported} imported for {report.year}")
    return 0


CLI_LOCALE = "en"  # the command line's language: its other lines are English too


def cli_texts(settings: Settings) -> Texts:
    """The catalogs' words for a refusal the command line prints (a literal locale in a
    texts(...) call would read as a message id to the catalog check)."""
    return I18n(settings.zone).texts(CLI_LOCALE)


def split_file(settings: Settings, path: Path) -> int:
    """`consultations split FILE`: the draft's structure as JSON on stdout, as /consult would
    split it; no database is opened. A file that cannot be read is one line on stderr."""
    try:
        check_size(path.stat().st_size, settings.draft_max_bytes)
        structure = split_draft(draft_text(path.read_bytes(), path.name, settings.draft_max_bytes))
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        reason = cli_texts(settings)(exc.key, **exc.params)
        print(f"error: {path}: {reason}", file=sys.stderr)
        return 1
    print(json.dumps(structure.as_json(), ensure_ascii=False, indent=2))
    return 0


def create_consultation(settings: Settings, args: argparse.Namespace) -> int:
    """`consultations create FILE …`: open it (its prompts queue in the outbox, which the
    running bot sends) and say so in one line; a bad input is one line on stderr."""
    path: Path = args.file
    try:
        check_size(path.stat().st_size, settings.draft_max_bytes)
        data = path.read_bytes()
        opened = asyncio.run(_open_consultation(settings, data, args))
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: {cli_texts(settings)(exc.key, **exc.params)}", file=sys.stderr)
        return 1
    consultation = opened.consultation
    if opened.short_deadline:
        print(
            f"warning: open for less than {NATIONAL_MIN_DAYS} days"
            f" (national drafts: at least {NATIONAL_MIN_DAYS})",
            file=sys.stderr,
        )
    print(
        f"consultation #{consultation.id} opened: {opened.articles} articles,"
        f" {consultation.invited} people invited, comments until"
        f" {consultation.deadline.astimezone(settings.zone):%Y-%m-%d %H:%M}"
    )
    return 0


async def _open_consultation(settings: Settings, data: bytes, args: argparse.Namespace) -> Opened:
    db = Database(settings.database_path)
    await db.connect()
    try:
        services = build_services(settings, db, SystemClock())
        return await services.consultations.open_from_file(
            data,
            args.file.name,
            title=args.title,
            deadline=args.deadline,
            summary=args.summary,
            source=args.source,
            audience=args.audience,
            audience_ref=args.audience_ref,
            questions=args.question,
        )
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":  # no token and no settings file needed: it makes its own
        return demo_cli.main(args)
    try:
        settings = load_settings(need_token=args.command in (None, "run"))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings)
    if args.command in ("stations", "turns"):
        return asyncio.run(import_file(settings, args.command, args.file))
    if args.command == "consultations" and args.action == "split":
        return split_file(settings, args.file)
    if args.command == "consultations" and args.action == "create":
        return create_consultation(settings, args)
    if args.command == "projects":
        return asyncio.run(import_projects(settings, args.file, args.year))
    if args.command == "report":
        return report_cli.main(settings, args)
    if args.command == "departments":
        return departments_cli.main(settings, args)
    if args.command == "classes":
        return classes_cli.main(settings, args)
    if args.command in ("backup", "restore"):
        return backup_cli.main(settings, args)
    if args.command == "health":
        return health_cli.main(settings, args)
    if args.command == "poster":
        return poster_cli.main(settings, args)
    return asyncio.run(serve.run(settings))


if __name__ == "__main__":
    sys.exit(main())
