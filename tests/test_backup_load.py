"""A backup under a write load (issue 11: "100 voters submitting while a backup runs, then a
restore. Every opinion acknowledged before the backup started is there"), and the stepped
copy that writers keep restarting, which must still finish with a consistent snapshot."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from bot import backup_cli
from bot.__main__ import _parser
from bot.settings import Settings, load_settings
from storage.backup import MAX_RESTARTS, RestartGuard, Restarting, backup, inspect
from tests.support.opinions import T, send_quick_opinion, voter_with_station
from tests.support.people import Person
from tests.support.world import MakeWorld, World

VOTERS = 100
BACKUP_AFTER = 30  # opinions acknowledged (at least) before the backup starts
FIRST_ID = 10_000
TRACKING_NO = re.compile(r"HD-2026-\d{6}")
TEXTS = {
    "zh-hans": "第{i}号选民：小区门口的红绿灯时间太短，老人过马路来不及。",
    "en": "Voter {i}: the traffic light at our gate is too short for older people.",
}


def cli(settings: Settings, *argv: str) -> int:
    return backup_cli.main(settings, _parser().parse_args(list(argv)))


def lang_of(i: int) -> str:
    return "zh-hans" if i % 2 else "en"


def text_of(i: int) -> str:
    return TEXTS[lang_of(i)].format(i=i)


def acknowledged(world: World) -> dict[str, int]:
    """Tracking number → voter, of every opinion the bot has confirmed so far."""
    found = {}
    for output in world.api.outputs:
        lang = lang_of(output.chat_id - FIRST_ID)
        confirmation = T[lang]["sent"].split("{no}")[0]
        if output.text.startswith(confirmation):
            (number,) = TRACKING_NO.findall(output.text)
            found[number] = output.chat_id
    return found


async def test_every_opinion_acknowledged_before_a_backup_is_in_its_restore(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    world = await make_world()
    world.api.latency = 0.001  # every Bot API call yields: the voters interleave
    voters: list[Person] = list(
        await asyncio.gather(
            *(
                voter_with_station(world, FIRST_ID + i, lang_of(i), f"选民{i}")
                for i in range(VOTERS)
            )
        )
    )
    copy = tmp_path / "under-load.sqlite3"

    answered: list[int] = []
    enough = asyncio.Event()
    backup_started = asyncio.Event()

    async def submit(voter: Person) -> None:
        i = voter.id - FIRST_ID
        if i >= VOTERS // 2:  # the second half sets off as the backup starts
            await backup_started.wait()
        await send_quick_opinion(voter, text_of(i))
        answered.append(voter.id)
        if len(answered) >= BACKUP_AFTER:
            enough.set()

    async def backup_midway() -> dict[str, int]:
        await enough.wait()
        before = acknowledged(world)
        backup_started.set()
        # the thread starts before this coroutine yields: nothing is confirmed in between
        assert await asyncio.to_thread(cli, world.settings, "backup", str(copy)) == 0
        return before

    before, *_ = await asyncio.gather(backup_midway(), *(submit(voter) for voter in voters))
    everything = acknowledged(world)
    assert len(everything) == VOTERS
    assert BACKUP_AFTER <= len(before) <= VOTERS // 2  # the voters went on meanwhile

    restored_db = tmp_path / "restored" / "jiazhan.sqlite3"
    restored_settings = load_settings(_env_file=None, need_token=False, database_path=restored_db)
    assert await asyncio.to_thread(cli, restored_settings, "restore", str(copy)) == 0
    restored = World(restored_db.parent)
    await restored.start()
    try:
        assert await restored.rows("PRAGMA integrity_check") == [{"integrity_check": "ok"}]
        assert await restored.rows("PRAGMA foreign_key_check") == []
        rows = {
            r["tracking_no"]: r
            for r in await restored.rows("SELECT id, tracking_no, author_id, text FROM opinions")
        }
        for number, voter_id in before.items():
            assert number in rows, f"{number}, acknowledged before the backup, is missing"
            assert rows[number]["author_id"] == voter_id
            assert rows[number]["text"] == text_of(voter_id - FIRST_ID)
        assert set(rows) <= set(everything)
        await assert_whole(restored, list(rows.values()))

        # the bot goes on from the restored data: the next number is a new one
        voter_id = next(iter(before.values()))
        again = Person(restored, voter_id, "选民", lang_of(voter_id - FIRST_ID))
        await send_quick_opinion(again, text_of(voter_id - FIRST_ID) + "（恢复以后）")
        (new_number,) = TRACKING_NO.findall(again.last)
        assert new_number not in rows
    finally:
        await restored.stop()


async def assert_whole(world: World, opinions: list[dict[str, object]]) -> None:
    """Each opinion came with all its transaction wrote: its one 'submitted' event, the
    end of its author's draft and conversation, the receipt queued to its author."""
    for row in opinions:
        events = await world.rows(
            "SELECT kind, actor_id FROM opinion_events WHERE opinion_id = ?", (row["id"],)
        )
        assert events == [{"kind": "submitted", "actor_id": row["author_id"]}], row
        author = row["author_id"]
        assert not await world.rows("SELECT 1 FROM opinion_drafts WHERE user_id = ?", (author,))
        assert not await world.rows(
            "SELECT 1 FROM conversation_states WHERE name = 'opinion' AND key = ?",
            (json.dumps([author, author]),),
        )
        receipts = await world.rows(
            "SELECT params FROM outbox WHERE chat_id = ? AND message_key = 'opinion.sent'",
            (author,),
        )
        assert [json.loads(r["params"])["tracking_no"] for r in receipts] == [row["tracking_no"]]


# --- the copy itself, under a writer that never pauses ----------------------------------


def test_a_copy_restarted_by_writers_still_finishes_consistent(tmp_path: Path) -> None:
    """One page a step: every commit in between starts the copy over. It must still end,
    with every row committed before it began and whole rows only."""
    database = tmp_path / "busy.sqlite3"
    with closing(sqlite3.connect(database, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE schema_migrations"
            " (number INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
        )
        conn.execute("INSERT INTO schema_migrations VALUES (1, '0001_initial.sql', 'then')")
        conn.execute("PRAGMA user_version = 1")
        conn.execute("CREATE TABLE pairs (n INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE TABLE halves (n INTEGER PRIMARY KEY REFERENCES pairs(n))")
        for n in range(300):
            conn.execute("BEGIN")
            conn.execute("INSERT INTO pairs VALUES (?, randomblob(400))", (n,))
            conn.execute("INSERT INTO halves VALUES (?)", (n,))
            conn.execute("COMMIT")
    stop = threading.Event()

    def write() -> None:
        with closing(sqlite3.connect(database, isolation_level=None)) as writer:
            n = 300
            while not stop.is_set():
                writer.execute("BEGIN IMMEDIATE")
                writer.execute("INSERT INTO pairs VALUES (?, randomblob(400))", (n,))
                writer.execute("INSERT INTO halves VALUES (?)", (n,))
                writer.execute("COMMIT")
                n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        made = backup(database, tmp_path / "copy.sqlite3", step_pages=1)
    finally:
        stop.set()
        writer.join()

    assert inspect(made.path) == 1
    with closing(sqlite3.connect(made.path)) as copy:
        pairs = copy.execute("SELECT COUNT(*), MAX(n) FROM pairs").fetchone()
        halves = copy.execute("SELECT COUNT(*), MAX(n) FROM halves").fetchone()
    assert pairs == halves
    assert pairs[0] >= 300 and pairs[0] == pairs[1] + 1


def test_a_copy_restarted_again_and_again_gives_up_its_steps() -> None:
    """The stepped copy's progress: fewer pages left each step goes on; more left than
    before is a restart, and the one after MAX_RESTARTS ends the steps (the copy is then
    made in one step)."""
    guard = RestartGuard()
    for left in range(40, 0, -8):
        guard(0, left, 40)
    for restart in range(MAX_RESTARTS):
        guard(0, 45 + restart, 46 + restart)  # started over, with a page more
        guard(0, 30, 46 + restart)
    with pytest.raises(Restarting):
        guard(0, 50, 50)
