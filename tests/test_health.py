"""The health report: GET /healthz of the running bot in webhook mode, and `python -m bot
health` from another process, which reads the database read-only. Healthy means the database
answers, its migrations are current, the outbox is not stuck and the bot's heartbeat is fresh
with the jobs it needs; a recent error is reported but is not by itself unhealthy."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import storage.db
from bot import health_cli
from bot.app import SCHEDULER_KEY
from bot.clock import SystemClock
from bot.serve import HealthServer
from bot.services.health import REQUIRED_JOBS, BotState, HealthReport, report_from_file
from bot.settings import Settings, load_settings
from storage import Database
from storage.db import latest_version, migration_files
from storage.repos.health import BACKLOG_SQL
from storage.run_lock import RunLock, is_running
from tests.support.cli import clean_env, run_bot
from tests.support.people import Person
from tests.support.scenarios import onboard, say
from tests.support.world import TOKEN, MakeWorld, World
from tests.test_webhook import RunningBot, free_port, running_bots

# the migration files themselves, counted: what `latest_version()` must say
MIGRATIONS = Path(storage.db.__file__).parent / "migrations"
NEWEST = len(list(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")))


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Callable[..., RunningBot]]:
    async with running_bots(tmp_path) as make:
        yield make


def health_args(*flags: str) -> argparse.Namespace:
    """The command line `health FLAGS`, parsed as `python -m bot` parses it."""
    parser = argparse.ArgumentParser()
    health_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["health", *flags])


async def health_command(
    settings: Settings, capsys: pytest.CaptureFixture[str], *flags: str
) -> tuple[int, str]:
    """`python -m bot health` in-process (it runs its own event loop, so in a thread)."""
    capsys.readouterr()
    status = await asyncio.to_thread(health_cli.main, settings, health_args(*flags))
    return status, capsys.readouterr().out


async def beat(world: World) -> None:
    """The heartbeat the running bot's scheduler writes every minute, now."""
    scheduler = world.app.bot_data[SCHEDULER_KEY]
    await world.services.health.beat(scheduler.job_names())


# --- the running bot: /healthz and the command beside it --------------------------------------


async def test_healthz_and_the_command_agree_while_the_bot_runs(
    running: Callable[..., RunningBot], capsys: pytest.CaptureFixture[str]
) -> None:
    bot = running()
    await bot.start()
    answer = await bot.http.get(bot.healthz)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    report = answer.json()
    assert report["healthy"] is True and report["problems"] == []
    assert report["database"] == {"ok": True, "error": None}
    assert report["migrations"] == {"ok": True, "applied": NEWEST, "newest": NEWEST}
    assert report["outbox"]["waiting"] == 0
    assert report["last_error_at"] is None
    scheduler = report["scheduler"]
    assert scheduler["bot"] == "running" and scheduler["missing"] == []
    assert {*REQUIRED_JOBS, "heartbeat"} <= set(scheduler["jobs"])

    status, out = await health_command(bot.settings, capsys)
    assert status == 0, out
    lines = out.splitlines()
    assert lines[0] == f"healthy: {bot.settings.database_path}"
    assert "database    reachable" in lines
    assert f"migrations  {NEWEST} of {NEWEST} applied" in lines
    assert "outbox      nothing waiting" in lines
    assert "last error  none" in lines
    assert any(line.startswith("scheduler   running (heartbeat ") for line in lines)
    status, out = await health_command(bot.settings, capsys, "--json")
    assert status == 0
    assert json.loads(out)["scheduler"]["jobs"] == scheduler["jobs"]

    assert await bot.stop() == 0
    # stopped cleanly: not running, which is unhealthy
    status, out = await health_command(bot.settings, capsys)
    assert status == 1
    assert out.splitlines()[:2] == [
        f"unhealthy: {bot.settings.database_path}",
        "  ! the bot is not running",
    ]
    assert "scheduler   not running" in out.splitlines()


async def test_healthz_is_only_in_webhook_mode_and_only_at_its_path(
    running: Callable[..., RunningBot],
) -> None:
    bot = running()
    await bot.start()
    root = bot.healthz.removesuffix("/healthz")
    assert (await bot.http.get(f"{root}/")).status_code == 404
    assert (await bot.http.get(f"{root}/healthz/../telegram")).status_code == 404
    assert (await bot.http.post(bot.healthz, content=b"{}")).status_code == 405


def test_python_m_bot_health_when_no_bot_ever_ran(tmp_path: Path) -> None:
    """The real entry point on a fresh folder: the database does not exist; it is reported
    and not created, and the exit status says unhealthy."""
    env = clean_env(JIAZHAN_DATABASE_PATH=str(tmp_path / "data" / "jiazhan.sqlite3"))
    done = run_bot(tmp_path, env, "health", "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["healthy"] is False
    assert report["database"]["ok"] is False
    assert report["problems"][0].startswith("database unreachable: unable to open database file")
    assert not (tmp_path / "data").exists()
    done = run_bot(tmp_path, env, "health")
    assert done.returncode == 1
    assert done.stdout.startswith("unhealthy: ")
    assert "database    unreachable (unable to open database file" in done.stdout


# --- what makes it unhealthy, on a World whose clock the test moves ---------------------------


def report_json(report: HealthReport) -> dict[str, Any]:
    return report.as_json()


async def test_a_fresh_heartbeat_with_the_jobs_is_healthy(world: World) -> None:
    await beat(world)
    report = await world.services.health.report()
    assert report.healthy, report.problems
    assert report.bot == BotState.RUNNING
    world.clock.advance(minutes=3)
    assert (await world.services.health.report()).healthy


async def test_the_heartbeat_keeps_jobs_planned_for_a_moment_by_their_kind(world: World) -> None:
    planned = ["reminders@2026-11-26T11:00:00+08:00", "reminders@2026-11-26T11:30:00+08:00"]
    await world.services.health.beat(["sweep", *planned, "plan", "nightly", "heartbeat"])
    report = await world.services.health.report()
    assert report_json(report)["scheduler"]["jobs"] == [
        "heartbeat",
        "nightly",
        "plan",
        "reminders",
        "sweep",
    ]


async def test_a_heartbeat_older_than_three_minutes_is_unhealthy(world: World) -> None:
    await beat(world)
    world.clock.advance(minutes=3, seconds=1)
    report = await world.services.health.report()
    # nothing holds the database's run lock here (World runs without serve.run)
    assert report.bot == BotState.NOT_RUNNING
    assert report.problems == ("the bot is not running",)
    # a process holding the lock whose heartbeat stopped: stuck, not gone
    with RunLock(world.db_path):
        report = await world.services.health.report()
    assert report.bot == BotState.NOT_RESPONDING
    assert report.problems == ("the bot is not responding: last heartbeat 3 min ago",)
    await beat(world)
    assert (await world.services.health.report()).healthy


@pytest.mark.parametrize("missing", REQUIRED_JOBS)
async def test_a_required_job_missing_is_unhealthy(world: World, missing: str) -> None:
    jobs = [job for job in world.app.bot_data[SCHEDULER_KEY].job_names() if job != missing]
    await world.services.health.beat(jobs)
    report = await world.services.health.report()
    assert report.problems == (f"scheduler jobs missing: {missing}",)
    assert report_json(report)["scheduler"]["missing"] == [missing]


async def test_an_outbox_stuck_past_the_limit_is_unhealthy_and_healthz_says_503(
    make_world: MakeWorld,
) -> None:
    world = await make_world(health_outbox_max_minutes=30)
    await world.outbox.abort()  # the dispatcher died: nothing is sent any more
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, 4001, "error.internal")
        await world.services.outbox.notify(tx, 4002, "error.internal")
    world.clock.advance(minutes=30)
    await beat(world)
    report = await world.services.health.report()
    assert report.healthy, report.problems
    assert report_json(report)["outbox"] == {
        "waiting": 2,
        "oldest_wait_seconds": 30 * 60,
        "max_wait_seconds": 30 * 60,
        "failed_recently": 0,
        "failed_window_seconds": 15 * 60,
    }
    world.clock.advance(minutes=1)
    await beat(world)
    report = await world.services.health.report()
    assert report.problems == (
        "outbox: the oldest of 2 due messages has waited 31 min (more than 30 min)",
    )

    server = HealthServer(world.services.health)
    port = free_port()
    server.listen("127.0.0.1", port)
    try:
        async with httpx.AsyncClient(trust_env=False) as http:
            answer = await http.get(f"http://127.0.0.1:{port}/healthz")
    finally:
        await server.stop()
    assert answer.status_code == 503
    assert answer.json()["healthy"] is False
    assert answer.json()["problems"] == list(report.problems)


async def test_messages_not_yet_due_are_not_a_backlog(world: World) -> None:
    await world.outbox.abort()
    later = world.clock.now() + timedelta(hours=2)
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, 4003, "error.internal", not_before=later)
    world.clock.advance(minutes=90)
    await beat(world)
    report = await world.services.health.report()
    assert report.healthy
    assert report_json(report)["outbox"]["waiting"] == 0


async def test_a_failing_update_is_reported_but_not_unhealthy(
    world: World, person: Callable[..., Person]
) -> None:
    voter = person(4101)
    await onboard(voter)
    await voter.send("/opinion")
    world.api.fail_replies(voter.id, "500:Internal Server Error", method="editMessageText")
    replies = await voter.tap("交通出行")  # the handler answers the tap, then its edit fails
    assert replies[-1].text == say(voter, "error.internal")
    await beat(world)
    report = await world.services.health.report()
    assert report.last_error_at == world.clock.now()
    assert report.healthy, report.problems
    assert report_json(report)["last_error_at"] == world.clock.now().isoformat()


async def test_a_failing_job_is_reported(world: World) -> None:
    async def failing(context: Any) -> None:
        raise RuntimeError("a job that fails")

    assert world.app.job_queue is not None
    world.app.job_queue.run_once(failing, when=0, name="failing")
    for _ in range(200):
        if (await world.services.health.report()).last_error_at is not None:
            break
        await asyncio.sleep(0.02)
    report = await world.services.health.report()
    assert report.last_error_at == world.clock.now()


# --- the database itself, read by the command ---------------------------------------------------


def file_settings(path: Path) -> Settings:
    return load_settings(_env_file=None, bot_token=TOKEN, database_path=path)


async def test_migrations_not_current_are_unhealthy_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    older = tmp_path / "older"
    older.mkdir()
    for _number, name, sql in migration_files()[:5]:
        (older / name).write_text(sql, encoding="utf-8")
    path = tmp_path / "jiazhan.sqlite3"
    db = Database(path, migrations=older)
    await db.connect()
    await db.close()
    status, out = await health_command(file_settings(path), capsys)
    assert status == 1
    assert f"  ! migrations not current: 5 of {NEWEST} applied (the bot applies them when" in out
    assert f"migrations  5 of {NEWEST} applied" in out.splitlines()
    # it only looked: the database is as it was
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 5


async def test_a_database_newer_than_the_code_is_unhealthy(tmp_path: Path) -> None:
    newer = tmp_path / "newer"
    shutil.copytree(Path(storage.db.__file__).parent / "migrations", newer)
    (newer / f"{NEWEST + 1:04d}_later.sql").write_text("SELECT 1;", encoding="utf-8")
    path = tmp_path / "jiazhan.sqlite3"
    db = Database(path, migrations=newer)
    await db.connect()
    await db.close()
    report = await report_from_file(file_settings(path), SystemClock())
    assert report.problems[0] == (
        f"the database is newer than this code: migration {NEWEST + 1} applied,"
        f" {NEWEST} the newest known"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not a database at all, just some text" * 100, "file is not a database"),
        (None, "unable to open database file"),
    ],
)
async def test_an_unreadable_database_is_unhealthy(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "jiazhan.sqlite3"
    if content is not None:
        path.write_bytes(content)
    report = await report_from_file(file_settings(path), SystemClock())
    assert not report.healthy
    assert report.bot == BotState.UNKNOWN
    assert report.problems[0].startswith(f"database unreachable: {reason}")
    assert path.exists() == (content is not None)  # a missing one is not created
    assert report_json(report)["database"]["ok"] is False


async def test_a_database_no_bot_has_run_on_says_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "jiazhan.sqlite3"
    db = Database(path)
    await db.connect()
    await db.close()
    status, out = await health_command(file_settings(path), capsys, "--json")
    assert status == 1
    report = json.loads(out)
    assert report["problems"] == ["the bot is not running"]
    assert report["scheduler"] == {
        "bot": "not running",
        "heartbeat_at": None,
        "jobs": [],
        "missing": [],
    }
    assert report["migrations"]["ok"] is True


async def test_the_backlog_read_uses_the_index_of_waiting_messages(world: World) -> None:
    plan = await world.rows(f"EXPLAIN QUERY PLAN {BACKLOG_SQL}", ("2026-01-01",))
    details = " ".join(row["detail"] for row in plan)
    assert (
        "USING INDEX outbox_waiting" in details or "USING COVERING INDEX outbox_waiting" in details
    )


# --- nothing reaching Telegram ----------------------------------------------------------------


def test_the_schema_version_is_the_newest_migration_file() -> None:
    assert NEWEST >= 16
    assert latest_version() == NEWEST


async def test_a_message_retried_for_long_is_as_old_as_its_first_due_time(
    make_world: MakeWorld,
) -> None:
    """Each network fault pushes the message's next attempt on; its age still counts from
    when it first became due, between attempts too."""
    world = await make_world(health_outbox_max_minutes=30, outbox_max_attempts=50)
    world.api.fail(4201, *["network"] * 20)
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, 4201, "error.internal")
    await world.outbox.drain()
    for _ in range(7):
        world.clock.advance(minutes=5)
        await world.outbox.drain()
    (row,) = await world.rows("SELECT state, attempts FROM outbox WHERE chat_id = 4201")
    assert row == {"state": "queued", "attempts": 8}  # still retrying, never sent
    await beat(world)
    report = await world.services.health.report()
    assert report_json(report)["outbox"]["oldest_wait_seconds"] == 35 * 60
    assert report.problems == (
        "outbox: the oldest of 1 due messages has waited 35 min (more than 30 min)",
    )


async def test_messages_failing_to_reach_telegram_make_it_unhealthy(
    make_world: MakeWorld,
) -> None:
    """Given up on after their attempts: each failure is the last error, and FAILED_LIMIT of
    them within the window is a problem, gone once the window has passed."""
    world = await make_world(outbox_max_attempts=1)
    for chat in (4301, 4302, 4303):
        world.api.fail(chat, *["network"] * 20)
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, 4301, "error.internal")
    await world.outbox.drain()
    await beat(world)
    report = await world.services.health.report()
    assert report.last_error_at == world.clock.now()
    assert report.healthy, report.problems  # one failure: a chat gone, perhaps
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, 4302, "error.internal")
        await world.services.outbox.notify(tx, 4303, "error.internal")
    await world.outbox.drain()
    report = await world.services.health.report()
    assert report.problems == (
        "outbox: 3 messages failed in the last 15 min (Telegram refuses them or cannot be reached)",
    )
    assert report_json(report)["outbox"]["failed_recently"] == 3
    world.clock.advance(minutes=16)
    await beat(world)
    assert (await world.services.health.report()).healthy


async def test_an_unreadable_run_lock_leaves_the_bot_state_unknown(world: World) -> None:
    await beat(world)
    world.clock.advance(minutes=4)
    lock = world.db_path.with_name(world.db_path.name + ".lock")
    lock.mkdir()  # a lock "file" nobody can open for writing, even root
    try:
        report = await world.services.health.report()
    finally:
        lock.rmdir()
    assert report.bot == BotState.UNKNOWN
    assert len(report.problems) == 1
    assert report.problems[0].startswith(
        "no fresh heartbeat, and whether a bot runs is unknown: cannot open the run lock: "
    )


async def test_a_bot_starting_while_the_lock_is_probed_waits_for_the_probe(
    tmp_path: Path,
) -> None:
    """The health check's probe holds the lock for a moment; a starting bot retries for
    about a second instead of stopping with "already running"."""
    database = tmp_path / "jiazhan.sqlite3"
    probe = RunLock(database, wait=0)
    probe.acquire()
    releasing = asyncio.get_running_loop().call_later(0.3, probe.release)
    try:
        bot = RunLock(database)
        await asyncio.to_thread(bot.acquire)
        assert bot.held
        assert is_running(database) is True  # another process's view, without waiting
        bot.release()
    finally:
        releasing.cancel()
        probe.release()
    assert is_running(database) is False
