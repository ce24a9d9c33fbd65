"""Memory held per chat is bounded: abandoned conversations are swept, and the memory they
held is reused rather than leaked.

The real Application runs on a real SQLite file over the fake Bot API. Wave 1: 5,000
voters each start /opinion (category, text) and walk away. The clock passes the
conversation timeout and the nightly sweep runs. Wave 2: 5,000 other voters do the same,
and the sweep runs again. Wave 2 must add under 2 MB of RSS; wave 1's growth, from the same
run, is the baseline. Every count is checked against the truth the bench knows (5,000
started conversations per wave), not against what the bot reports.

Run from the project root:  .venv/bin/python -m bench.bench_memory  (--help for options)
Exit status 1 when wave 2 adds 2 MB or more, 2 when a count is wrong, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import tempfile
import time
from pathlib import Path

from bot.demo.botapi import Output
from bot.runtime.conversation import KEEPER_KEY, ConversationKeeper
from tests.support.people import Person
from tests.support.world import World

FIRST_USER_ID = 300_000_001
OPINION_TEXT = "小区门口的红绿灯时间太短，老人过马路来不及。"
LIMIT_BYTES = 2 * 1024 * 1024
CONCURRENCY = 50


def rss_bytes() -> int:
    """The process's resident set size now (not its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def consent_all(world: World, ids: range) -> None:
    """Voters who agreed and chose a station, set up through the services."""
    station_id = int(await world.db.scalar("SELECT min(id) FROM stations"))
    for user_id in ids:
        await world.services.users.touch(user_id, "zh-hans", "张三", None)
        user = await world.services.users.consent(user_id)
        await world.services.users.choose_station(user, station_id)


async def tap(world: World, voter: Person, shown: list[Output], label: str) -> None:
    """Tap a button of the message just shown (Person.tap searches every chat's messages,
    which is slow at this scale)."""
    for output in reversed(shown):
        for row in (output.markup or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    message = world.api.messages[(voter.id, output.message_id)]
                    await voter.tap_data(button["callback_data"], message, think=0)
                    return
    raise RuntimeError(f"no button {label!r} shown to {voter.id}")


async def start_and_abandon(world: World, ids: range) -> float:
    """Each voter: /opinion, a category, the text; then nothing. Returns seconds taken."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for user_id in ids:
        queue.put_nowait(user_id)

    async def worker() -> None:
        while not queue.empty():
            voter = Person(world, queue.get_nowait())
            shown = await voter.send("/opinion", think=0)
            await tap(world, voter, shown, "交通出行")
            await voter.send(OPINION_TEXT, think=0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


async def held_in_database(world: World) -> tuple[int, int]:
    states = await world.db.scalar("SELECT count(*) FROM conversation_states")
    drafts = await world.db.scalar("SELECT count(*) FROM opinion_drafts")
    return int(states), int(drafts)


def settle(world: World, problems: list[str]) -> int:
    """Check that every tap was answered, drop what the fake Bot API recorded (the test's
    memory, not the bot's), collect garbage, and read RSS."""
    unanswered = world.unanswered_taps()
    if unanswered:
        problems.append(f"{len(unanswered)} taps never answered")
    world.forget_recorded()
    gc.collect()
    return rss_bytes()


async def wave(world: World, keeper: ConversationKeeper, ids: range, label: str) -> list[str]:
    """One wave; returns the counts that disagree with the truth."""
    problems: list[str] = []
    seconds = await start_and_abandon(world, ids)
    states, drafts = await held_in_database(world)
    memory = world.conversations_in_memory()
    expected = len(ids)
    for what, count in (("states", states), ("drafts", drafts), ("in memory", memory)):
        if count != expected:
            problems.append(f"{label}: {count} {what} before the sweep, not {expected}")
    world.clock.advance(hours=world.settings.conversation_timeout_hours + 1)
    ended = await keeper.sweep()
    states, drafts = await held_in_database(world)
    memory = world.conversations_in_memory()
    if ended != expected:
        problems.append(f"{label}: the sweep ended {ended}, not {expected}")
    for what, count in (("states", states), ("drafts", drafts), ("in memory", memory)):
        if count:
            problems.append(f"{label}: {count} conversation {what} left after the sweep")
    # one more update lets the flood guard expire its records on time
    await Person(world, ids[0]).send("/help", think=0)
    tracked = world.services.flood.tracked()
    if tracked > 1:
        problems.append(f"{label}: the flood guard still tracks {tracked} users")
    print(f"  {label}: {expected:,} conversations started and abandoned in {seconds:.1f} s; swept")
    return problems


async def run(voters: int, tmp: Path) -> int:
    logging.basicConfig(level=logging.ERROR)
    world = World(tmp, daily_opinion_limit=1000, flood_max_updates=1000)
    await world.start()
    await world.load_stations()
    keeper: ConversationKeeper = world.app.bot_data[KEEPER_KEY]
    first = range(FIRST_USER_ID, FIRST_USER_ID + voters)
    second = range(first.stop, first.stop + voters)
    try:
        await consent_all(world, first)
        await consent_all(world, second)
        problems: list[str] = []
        before = settle(world, problems)
        problems += await wave(world, keeper, first, "wave 1")
        after_first = settle(world, problems)
        problems += await wave(world, keeper, second, "wave 2")
        after_second = settle(world, problems)
    finally:
        await world.stop()

    baseline = after_first - before
    growth = after_second - after_first
    ratio = growth / baseline if baseline > 0 else float("nan")
    mib = 1024 * 1024
    print()
    print(f"{'':28} {'RSS MiB':>10}")
    print(f"{'before':28} {before / mib:10.2f}")
    print(f"{'after wave 1 + sweep':28} {after_first / mib:10.2f}")
    print(f"{'after wave 2 + sweep':28} {after_second / mib:10.2f}")
    print()
    print(f"wave 1 added (baseline)  {baseline / mib:8.2f} MiB")
    print(f"wave 2 added             {growth / mib:8.2f} MiB   (limit {LIMIT_BYTES / mib:.0f} MiB)")
    print(f"ratio wave 2 / wave 1    {ratio:8.3f}")
    if problems:
        print("\nCOUNTS WRONG:\n  " + "\n  ".join(problems))
        return 2
    if growth >= LIMIT_BYTES:
        print("\nFAILED: wave 2 added 2 MiB or more")
        return 1
    print("\nOK: counts match; wave 2 reused the memory wave 1 left")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=5000, help="voters per wave (5000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        sys.exit(asyncio.run(run(args.voters, Path(tmp))))


if __name__ == "__main__":
    main()
