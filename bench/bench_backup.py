"""`python -m bot backup` on a district's database while the bot writes, with checks that can
fail.

The bench writes, through the real schema on a temporary SQLite file (WAL, as the bot runs
it), a district: the sample stations, `--voters` consented voters and `--opinions` opinions
with their first event. Then a writer thread plays the bot: one opinion and its event per
transaction, `--write-rate` a second, on its own connection, and it records when each
commit returned. While it writes, `storage.backup.backup` (what the command and the nightly
job call: the online backup API in steps, then integrity_check and foreign_key_check on the
copy, then the rename) copies the database, `--runs` times.

Checks, against what the bench itself committed (never what the backup reports):
- every opinion whose commit returned before the backup began is in the copy, with its event;
- nothing is in the copy that the writer never committed; no opinion without its event;
- the copy passes integrity_check;
- the writer was not held up: its slowest commit during the backups stays under `--max-stall`.

Baseline from the same run: SQLite's bare `Connection.backup` of the same file in one step,
with no writer and no checks, the least any consistent copy costs. The writer's commits
before the backups are its own baseline.

Run from the project root:  .venv/bin/python -m bench.bench_backup  (--help for options)
Exit status 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.clock import FixedClock
from bot.serve import SAMPLE_STATIONS
from bot.services import build_services
from bot.settings import load_settings
from storage import Database
from storage.backup import backup
from tests.support.world import SHANGHAI, TOKEN

BREAKS = {
    "file-copy": "the copy is a plain copy of the database file alone, as `cp` would make it"
    " (what is committed but still in the -wal is missing)",
    "hold-writers": "the database's write lock is held for the whole copy (as a copy made"
    " inside a write transaction would), so the writer waits for it",
}
CATEGORIES = ("城市管理", "交通出行", "养老服务", "教育", "生态环境", "住房与城市更新")
TEXTS = (
    "小区门口的人行横道没有信号灯，早晚高峰过马路很危险，希望增设红绿灯。",
    "社区老年食堂中午只供应一个小时，腿脚不便的老人常常赶不上。",
    "学院路 20 号院内有三盏路灯坏了，晚上出行不安全，请尽快维修。",
    "地铁站 B 口的共享单车停放很乱，经常堵住盲道，希望加强管理。",
)


@dataclass
class Writer:
    """The bot's writes during the backups: one opinion a transaction; when each returned."""

    database: Path
    rate: float
    first_id: int
    committed: list[tuple[int, float]] = field(default_factory=list)  # (opinion id, time)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds)
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        try:
            with closing(sqlite3.connect(self.database, isolation_level=None)) as conn:
                conn.execute("PRAGMA busy_timeout=30000")
                next_id = self.first_id
                while not self.stop.is_set():
                    began = time.perf_counter()
                    conn.execute("BEGIN IMMEDIATE")
                    insert_opinion(conn, next_id)
                    conn.execute("COMMIT")
                    done = time.perf_counter()
                    self.committed.append((next_id, done))
                    self.latencies.append((began, done - began))
                    next_id += 1
                    time.sleep(max(0.0, 1 / self.rate - (time.perf_counter() - began)))
        except BaseException as exc:  # reported as a failed check
            self.error = exc


def insert_opinion(conn: sqlite3.Connection, opinion_id: int) -> None:
    at = "2026-11-26T02:00:00+00:00"
    conn.execute(
        "INSERT INTO opinions (id, tracking_no, author_id, station_id, category, text,"
        " show_name, status, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, 0,"
        " 'submitted', ?, ?)",
        (
            opinion_id,
            f"HD-2026-{opinion_id:07d}",
            1_000_000 + opinion_id % 20_000,
            CATEGORIES[opinion_id % len(CATEGORIES)],
            TEXTS[opinion_id % len(TEXTS)],
            at,
            at,
        ),
    )
    conn.execute(
        "INSERT INTO opinion_events (opinion_id, at, actor_id, kind) VALUES (?, ?, ?, 'submitted')",
        (opinion_id, at, 1_000_000 + opinion_id % 20_000),
    )


async def build(database: Path, voters: int, opinions: int, seed: int) -> None:
    """The schema by the bot's own migrations and its sample stations, then the district."""
    settings = load_settings(_env_file=None, bot_token=TOKEN, database_path=database)
    db = Database(database)
    await db.connect()
    try:
        services = build_services(
            settings, db, FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
        )
        await services.stations.import_csv(SAMPLE_STATIONS)
    finally:
        await db.close()
    rng = random.Random(seed)
    with closing(sqlite3.connect(database, isolation_level=None)) as conn:
        stations = [r[0] for r in conn.execute("SELECT id FROM stations")]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO users (telegram_id, role, locale, full_name, station_id, consent_at,"
            " consent_version, created_at) VALUES (?, 'voter', 'zh_CN', ?, ?, ?, 2, ?)",
            (
                (1_000_000 + i, f"选民{i}", rng.choice(stations), "2026-01-01", "2026-01-01")
                for i in range(voters)
            ),
        )
        for opinion_id in range(1, opinions + 1):
            insert_opinion(conn, opinion_id)
        conn.execute("COMMIT")


def bare_backup(database: Path, target: Path) -> float:
    """The baseline: SQLite's backup API in one step, nothing checked."""
    began = time.perf_counter()
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return time.perf_counter() - began


def broken_backup(kind: str, database: Path, target: Path) -> None:
    if kind == "file-copy":
        shutil.copyfile(database, target)
        return
    with closing(sqlite3.connect(database, isolation_level=None)) as holder:
        holder.execute("PRAGMA busy_timeout=30000")
        holder.execute("BEGIN IMMEDIATE")  # the database's write lock, for the whole copy
        bare_backup(database, target)
        time.sleep(1.5)  # as a slower disk would keep it
        holder.execute("COMMIT")


@dataclass
class Run:
    seconds: float
    began: float
    ended: float
    path: Path


def check_copy(run: Run, writer: Writer, base: int) -> list[str]:
    """What the copy must hold, by what the writer and the build committed."""
    before = {i for i, at in writer.committed if at < run.began} | set(range(1, base + 1))
    ever = {i for i, _ in writer.committed} | set(range(1, base + 1))
    with closing(sqlite3.connect(run.path)) as copy:
        ok = copy.execute("PRAGMA integrity_check").fetchone()[0]
        ids = {r[0] for r in copy.execute("SELECT id FROM opinions")}
        events = {r[0] for r in copy.execute("SELECT opinion_id FROM opinion_events")}
    problems = []
    if ok != "ok":
        problems.append(f"integrity_check says {ok!r}")
    missing = before - ids
    if missing:
        problems.append(f"{len(missing)} opinions committed before the backup are missing")
    if ids - ever:
        problems.append(f"{len(ids - ever)} opinions in the copy were never committed")
    if ids != events:
        problems.append(f"{len(ids ^ events)} opinions without their event, or the reverse")
    return problems


def row(name: str, values: list[float], baseline: float | None = None) -> str:
    line = (
        f"{name:<48}{len(values):>5}{statistics.median(values):>10.3f}"
        f"{min(values):>10.3f}{max(values):>10.3f}"
    )
    if baseline:
        line += f"{statistics.median(values) / baseline:>8.1f}×"
    return line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_backup",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<14} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--voters", type=int, default=20_000)
    parser.add_argument("--opinions", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write-rate", type=float, default=50.0, help="commits a second")
    parser.add_argument("--max-stall", type=float, default=1.0, help="seconds, one commit")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.breaking:
        print(f"BREAK {args.breaking}: {BREAKS[args.breaking]}")
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as folder:
        return run(Path(folder), args)


def run(folder: Path, args: argparse.Namespace) -> int:
    database = folder / "jiazhan.sqlite3"
    began = time.perf_counter()
    asyncio.run(build(database, args.voters, args.opinions, args.seed))
    size = database.stat().st_size
    print(
        f"district: {args.voters:,} voters, {args.opinions:,} opinions with their events;"
        f" {size / 2**20:.1f} MB (built in {time.perf_counter() - began:.1f} s;"
        f" load {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)"
    )
    baseline = [bare_backup(database, folder / f"bare-{i}.sqlite3") for i in range(args.runs)]

    writer = Writer(database, args.write_rate, first_id=args.opinions + 1)
    thread = threading.Thread(target=writer.run, name="writer")
    thread.start()
    time.sleep(1.0)  # the writer's own baseline, before any backup
    runs: list[Run] = []
    for i in range(args.runs):
        target = folder / f"backup-{i}.sqlite3"
        start = time.perf_counter()
        if args.breaking:
            broken_backup(args.breaking, database, target)
        else:
            backup(database, target)
        end = time.perf_counter()
        runs.append(Run(end - start, start, end, target))
        time.sleep(0.5)
    writer.stop.set()
    thread.join()

    during = [s for at, s in writer.latencies if any(r.began <= at <= r.ended for r in runs)]
    alone = [s for at, s in writer.latencies if at < runs[0].began]
    print(f"{'':<48}{'runs':>5}{'median':>10}{'min':>10}{'max':>10}{'ratio':>9}")
    print(row("backup while writing (s)", [r.seconds for r in runs], statistics.median(baseline)))
    print(row("baseline: bare one-step backup, no writer (s)", baseline))
    if during:
        print(row("writer's commits during the backups (s)", during))
    if alone:
        print(row("writer's commits before them (s)", alone))
    print(f"the writer committed {len(writer.committed):,} opinions during the run")

    problems: list[str] = []
    if writer.error is not None:
        problems.append(f"the writer failed: {writer.error!r}")
    for i, each in enumerate(runs, 1):
        problems += [f"backup {i}: {p}" for p in check_copy(each, writer, args.opinions)]
    if not during:
        problems.append("no commit of the writer fell within a backup: nothing was measured")
    elif max(during) > args.max_stall:
        problems.append(
            f"the writer waited {max(during):.2f} s for one commit during a backup"
            f" (limit {args.max_stall} s)"
        )
    for problem in problems:
        print(f"FAIL {problem}")
    if not problems:
        print(f"PASS {len(runs)} backups hold every opinion committed before them and no other;")
        print(f"     the writer's slowest commit during them: {max(during):.3f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
