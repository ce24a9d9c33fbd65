"""`python -m bot health`: the bot's health in a few lines (or `--json`), exit status 0 only
when healthy, so a systemd unit, a container probe or a monitor can use it. It reads the
database read-only: the bot need not be this process, nor run in webhook mode."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import SystemClock
from bot.services.health import FAILED_WINDOW, BotState, HealthReport, report_from_file
from bot.settings import Settings

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    health = sub.add_parser("health", help="report the bot's health; exit status 1 when unhealthy")
    health.add_argument("--json", action="store_true", help="the report as one JSON object")


def main(settings: Settings, args: argparse.Namespace) -> int:
    report = asyncio.run(report_from_file(settings, SystemClock()))
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        print(render(report, settings))
    return EXIT_HEALTHY if report.healthy else EXIT_UNHEALTHY


def render(report: HealthReport, settings: Settings) -> str:
    """The report in a few aligned lines, instants in the settings' time zone."""
    zone = settings.zone
    verdict = "healthy" if report.healthy else "unhealthy"
    lines = [f"{verdict}: {settings.database_path}"]
    lines.extend(f"  ! {problem}" for problem in report.problems)
    rows = [("database", _database(report))]
    if report.database_error is None:
        rows.extend(
            [
                ("migrations", f"{report.applied} of {report.newest} applied"),
                ("outbox", _outbox(report)),
                ("last error", _when(report.last_error_at, report.checked_at, zone)),
                ("scheduler", _scheduler(report, zone)),
            ]
        )
    lines.extend(f"{name:<11} {value}" for name, value in rows)
    return "\n".join(lines)


def _database(report: HealthReport) -> str:
    if report.database_error is not None:
        return f"unreachable ({report.database_error})"
    return "reachable"


def _outbox(report: HealthReport) -> str:
    if report.backlog is None:
        return "unknown"
    wait = report.oldest_wait
    if not report.backlog.waiting or wait is None:
        waiting = "nothing waiting"
    else:
        waiting = f"{report.backlog.waiting} due waiting, the oldest for {_age(wait)}"
    if report.failed_recently:
        window = _age(FAILED_WINDOW)
        return f"{waiting}; {report.failed_recently} failed in the last {window}"
    return waiting


def _scheduler(report: HealthReport, zone: ZoneInfo) -> str:
    beat = report.heartbeat
    if report.bot == BotState.RUNNING and beat is not None:
        jobs = ", ".join(beat.jobs) or "none"
        return f"running (heartbeat {_age(report.checked_at - beat.at)} ago); jobs: {jobs}"
    if beat is None:
        return str(report.bot)
    return f"{report.bot} (last heartbeat {_when(beat.at, report.checked_at, zone)})"


def _when(moment: datetime | None, now: datetime, zone: ZoneInfo) -> str:
    if moment is None:
        return "none"
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M:%S %Z} ({_age(now - moment)} ago)"


def _age(span: timedelta) -> str:
    seconds = max(int(span.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
