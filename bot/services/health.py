"""Whether the bot is healthy, for `/healthz` and `python -m bot health`: the database,
its migrations, the outbox's backlog, the last error and the scheduler's jobs. The running
bot leaves a heartbeat in the database, so another process can read it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database
from storage.db import latest_version
from storage.repos.health import (
    Backlog,
    HealthReads,
    Heartbeat,
    ReadOnlyDatabase,
    RuntimeStatusRepo,
    Unreadable,
)
from storage.run_lock import is_running

# The jobs a running bot must have: the due-work sweep, the planning of timed work, and the
# nightly backup and retention erasure.
REQUIRED_JOBS = ("sweep", "plan", "nightly")
# The heartbeat comes every minute: three missed means the bot is stuck or gone.
HEARTBEAT_STALE = timedelta(minutes=3)
# Messages the outbox gave up on lately: one is a person's account gone or a chat that no
# longer exists; FAILED_LIMIT within FAILED_WINDOW means Telegram refuses or cannot be
# reached, and nothing reaches people while the backlog may still look short.
FAILED_WINDOW = timedelta(minutes=15)
FAILED_LIMIT = 3


class BotState(StrEnum):
    RUNNING = "running"
    NOT_RUNNING = "not running"
    NOT_RESPONDING = "not responding"  # it holds the database, but its heartbeat stopped
    UNKNOWN = "unknown"  # the database, or the run lock's file, could not be read


@dataclass(frozen=True)
class HealthReport:
    """One look at the bot's health; healthy when nothing is in `problems`."""

    checked_at: datetime
    database_error: str | None
    applied: int | None
    newest: int
    backlog: Backlog | None
    outbox_max: timedelta
    last_error_at: datetime | None
    bot: BotState
    heartbeat: Heartbeat | None
    failed_recently: int | None = None  # messages given up on within FAILED_WINDOW
    status_error: str | None = None  # the heartbeat, errors or outbox could not be read
    lock_error: str | None = None  # why the run lock could not be probed
    problems: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def oldest_wait(self) -> timedelta | None:
        """How long the oldest due message in the outbox has waited."""
        if self.backlog is None or self.backlog.oldest_due is None:
            return None
        return max(self.checked_at - self.backlog.oldest_due, timedelta(0))

    @property
    def missing_jobs(self) -> list[str]:
        if self.bot != BotState.RUNNING or self.heartbeat is None:
            return []
        return [job for job in REQUIRED_JOBS if job not in self.heartbeat.jobs]

    def as_json(self) -> dict[str, Any]:
        """The report as /healthz and `health --json` give it: instants in ISO 8601 (UTC),
        ages in whole seconds."""
        wait = self.oldest_wait
        beat = self.heartbeat
        return {
            "healthy": self.healthy,
            "checked_at": self.checked_at.isoformat(),
            "problems": list(self.problems),
            "database": {"ok": self.database_error is None, "error": self.database_error},
            "migrations": {
                "ok": self.applied == self.newest,
                "applied": self.applied,
                "newest": self.newest,
            },
            "outbox": {
                "waiting": None if self.backlog is None else self.backlog.waiting,
                "oldest_wait_seconds": None if wait is None else int(wait.total_seconds()),
                "max_wait_seconds": int(self.outbox_max.total_seconds()),
                "failed_recently": self.failed_recently,
                "failed_window_seconds": int(FAILED_WINDOW.total_seconds()),
            },
            "last_error_at": None if self.last_error_at is None else self.last_error_at.isoformat(),
            "scheduler": {
                "bot": str(self.bot),
                "heartbeat_at": None if beat is None else beat.at.isoformat(),
                "jobs": [] if beat is None else list(beat.jobs),
                "missing": self.missing_jobs,
            },
        }


class Health:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.status = RuntimeStatusRepo(db)

    async def beat(self, jobs: list[str]) -> None:
        """The running bot is alive with these scheduler jobs (called every minute). Jobs
        planned for a moment ("reminders@2026-…") are kept by their kind."""
        kinds = {job.partition("@")[0] for job in jobs}
        await self.status.beat(sorted(kinds), self.clock.now())

    async def record_error(self) -> None:
        """An update or a job failed now."""
        await self.status.record_error(self.clock.now())

    async def stopped(self) -> None:
        """The bot stopped cleanly: its absence is reported as not running, not as stuck."""
        await self.status.stopped()

    async def report(self) -> HealthReport:
        """The running bot's own report, read through its own connection (/healthz)."""
        return await examine(HealthReads(self.db), self.clock, self.settings)


async def report_from_file(settings: Settings, clock: Clock) -> HealthReport:
    """The report of whatever bot runs on the settings' database, from another process: the
    file is opened read-only, so a missing one is reported, never created or migrated."""
    source = ReadOnlyDatabase(settings.database_path)
    try:
        await source.connect()
    except Unreadable as exc:
        return _unreachable(str(exc), clock, settings)
    try:
        return await examine(HealthReads(source), clock, settings)
    finally:
        await source.close()


def _unreachable(error: str, clock: Clock, settings: Settings) -> HealthReport:
    return HealthReport(
        checked_at=clock.now(),
        database_error=error,
        applied=None,
        newest=latest_version(),
        backlog=None,
        outbox_max=timedelta(minutes=settings.health_outbox_max_minutes),
        last_error_at=None,
        bot=BotState.UNKNOWN,
        heartbeat=None,
        problems=(f"database unreachable: {error}",),
    )


async def examine(reads: HealthReads, clock: Clock, settings: Settings) -> HealthReport:
    """Every check in turn; a database that cannot be read is the one problem reported, since
    nothing else can be known then."""
    now = clock.now()
    try:
        await reads.check_database()
        applied = await reads.schema_version()
    except Unreadable as exc:
        return _unreachable(str(exc), clock, settings)
    backlog = heartbeat = last_error = failed = None
    status_error = None
    try:
        backlog = await reads.backlog(now)
        failed = await reads.failed_since(now - FAILED_WINDOW)
        heartbeat = await reads.heartbeat()
        last_error = await reads.last_error()
    except Unreadable as exc:  # an older schema without these tables: reported as such
        status_error = str(exc)
    bot, lock_error = _bot_state(heartbeat, now, settings)
    report = HealthReport(
        checked_at=now,
        database_error=None,
        applied=applied,
        newest=latest_version(),
        backlog=backlog,
        outbox_max=timedelta(minutes=settings.health_outbox_max_minutes),
        last_error_at=last_error,
        bot=bot,
        heartbeat=heartbeat,
        failed_recently=failed,
        status_error=status_error,
        lock_error=lock_error,
    )
    return replace(report, problems=tuple(_problems(report)))


def _problems(report: HealthReport) -> list[str]:
    """What makes the report unhealthy, each in a line an operator can act on. A recent
    error is not one of them: it is reported, and the failing update was answered."""
    problems = []
    applied, newest = report.applied or 0, report.newest
    if applied < newest:
        problems.append(
            f"migrations not current: {applied} of {newest} applied"
            " (the bot applies them when it starts)"
        )
    elif applied > newest:
        problems.append(
            f"the database is newer than this code: migration {applied} applied,"
            f" {newest} the newest known"
        )
    if report.status_error is not None and applied >= newest:  # else: the migrations say why
        problems.append(f"status unreadable: {report.status_error}")
    wait = report.oldest_wait
    if report.backlog is not None and wait is not None and wait > report.outbox_max:
        problems.append(
            f"outbox: the oldest of {report.backlog.waiting} due messages has waited"
            f" {_minutes(wait)} (more than {_minutes(report.outbox_max)})"
        )
    if report.failed_recently is not None and report.failed_recently >= FAILED_LIMIT:
        problems.append(
            f"outbox: {report.failed_recently} messages failed in the last"
            f" {_minutes(FAILED_WINDOW)} (Telegram refuses them or cannot be reached)"
        )
    beat = report.heartbeat
    if report.bot == BotState.NOT_RUNNING:
        problems.append("the bot is not running")
    elif report.bot == BotState.NOT_RESPONDING:
        since = (
            "no heartbeat yet"
            if beat is None
            else (f"last heartbeat {_minutes(report.checked_at - beat.at)} ago")
        )
        problems.append(f"the bot is not responding: {since}")
    elif report.bot == BotState.UNKNOWN:
        problems.append(
            f"no fresh heartbeat, and whether a bot runs is unknown: {report.lock_error}"
        )
    if report.missing_jobs:
        problems.append(f"scheduler jobs missing: {', '.join(report.missing_jobs)}")
    return problems


def _bot_state(
    heartbeat: Heartbeat | None, now: datetime, settings: Settings
) -> tuple[BotState, str | None]:
    """Running when the heartbeat is fresh; otherwise whether a process still holds the
    database's run lock tells a stuck bot from none at all (only then is the lock probed).
    A lock file this user cannot open leaves it unknown (with why), never a crash."""
    if heartbeat is not None and now - heartbeat.at <= HEARTBEAT_STALE:
        return BotState.RUNNING, None
    try:
        running = is_running(settings.database_path)
    except OSError as exc:
        return BotState.UNKNOWN, f"cannot open the run lock: {exc.strerror or exc}"
    return (BotState.NOT_RESPONDING if running else BotState.NOT_RUNNING), None


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} min"
