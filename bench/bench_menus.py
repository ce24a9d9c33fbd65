"""The start-up refresh of people's own command menus on a 20,000-voter district, with checks
that can fail.

The bench writes, through the real schema on a temporary SQLite file, a district of
`--people` consented people (voters, some of whom picked a language, deputies, staff,
liaisons), each with `users.menu` as `bot.runtime.menus.set_menu` would have left it. Then it
makes some of them stale, as a release or a change the bot missed would: `--stale` menus of
an older list (another hash), a few people given a role with no menu set yet, a few whose
consent is older than the privacy notice now (their own menu must go), and a few blocked
chats among the stale (blocked: nothing queued). It knows which, from what it wrote.

Measured: `bot.runtime.menus.queue_stale_menus` (what the bot runs at start: a few set-based
statements, then rows in the outbox), on the district as written, and again once those rows
are there (nothing more may be queued).

Checks, against the people the bench made stale (never what the code reports):
- the chats queued are exactly the stale, reachable ones; nobody up to date is queued;
- the count returned is that number; a second run queues nothing more.

Baseline from the same run: the obvious way, one person at a time (`users.get`, the menu they
should have, compared with the stored one), over the same district, which must find the same
people.

Run from the project root:  .venv/bin/python -m bench.bench_menus  (--help for options)
Exit status 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bot.clock import FixedClock
from bot.runtime.menus import fingerprint, own_menu_role, queue_stale_menus
from bot.services import Services, build_services
from bot.services.privacy import NOTICE_VERSION
from bot.settings import load_settings
from storage import Database
from storage.models import Role
from tests.support.world import SHANGHAI, TOKEN

BREAKS = {
    "ignore-hash": "the stored menu is compared by role and language only, not the list's"
    " hash (a release that changes a list would refresh nobody)",
}
FIRST_ID = 1_000_000
CONSENTED = "2026-11-01T00:00:00+00:00"


def role_of(index: int) -> Role:
    """A district's mix: mostly voters, a few hundred deputies, some staff and liaisons."""
    if index % 50 == 0:
        return Role.DEPUTY
    if index % 400 == 1:
        return Role.STAFF
    if index % 500 == 2:
        return Role.LIAISON
    return Role.VOTER


async def write_district(
    services: Services, people: int, stale: int, rng: random.Random
) -> tuple[set[int], int]:
    """Everyone with the menu they should have, then some made stale; returns the stale,
    reachable chats (what must be queued) and how many blocked chats were made stale."""
    texts = {locale: services.i18n.texts(locale) for locale in services.i18n.locales}
    rows = []
    for i in range(people):
        telegram_id = FIRST_ID + i
        role = role_of(i)
        locale = "en" if i % 3 == 0 else "zh_CN"
        chosen = role == Role.VOTER and i % 7 == 0
        shown = own_menu_role(role, chosen)
        menu = None if shown is None else fingerprint(texts[locale], shown)
        rows.append((telegram_id, role.value, locale, int(chosen), NOTICE_VERSION, menu))
    ids = [r[0] for r in rows]
    chosen_stale = rng.sample(ids, stale)
    given_role = rng.sample(sorted(set(ids) - set(chosen_stale)), stale // 10)
    old_consent = rng.sample(sorted(set(ids) - set(chosen_stale) - set(given_role)), stale // 10)
    blocked = set(rng.sample(chosen_stale, stale // 20))
    by_id = {r[0]: list(r) for r in rows}
    for telegram_id in chosen_stale:  # a menu an older release set: another hash
        row = by_id[telegram_id]
        role = Role(row[1])
        row[5] = f"{role.value}/{row[2]}/0123456789ab"
    for telegram_id in given_role:  # made a deputy while the bot was down: no menu yet
        by_id[telegram_id][1] = Role.DEPUTY.value
        by_id[telegram_id][5] = None
    for telegram_id in old_consent:  # agreed to an older notice: asked again, no own menu
        by_id[telegram_id][4] = NOTICE_VERSION - 1
        if by_id[telegram_id][5] is None:  # nothing to take away: give them one to lose
            by_id[telegram_id][5] = "voter/zh_CN/0123456789ab"
    async with services.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (telegram_id, role, locale, locale_chosen, consent_version,"
            " menu, consent_at, created_at, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*r, CONSENTED, CONSENTED, int(r[0] not in blocked)) for r in by_id.values()],
        )
    must = (set(chosen_stale) | set(given_role) | set(old_consent)) - blocked
    return must, len(blocked)


async def one_by_one(services: Services, people: int) -> set[int]:
    """The baseline: each person read and compared on their own."""
    texts = {locale: services.i18n.texts(locale) for locale in services.i18n.locales}
    found = set()
    for i in range(people):
        user = await services.users.get(FIRST_ID + i)
        if user is None or not user.active:
            continue
        # users.get gives the effective role (admins from settings, both ways)
        shown = own_menu_role(user.role, user.locale_chosen) if user.consented else None
        wanted = None if shown is None else fingerprint(texts[user.locale], shown)
        if user.menu != wanted:
            found.add(user.telegram_id)
    return found


async def queued_chats(services: Services) -> list[int]:
    rows = await services.db.fetchall(
        "SELECT chat_id FROM outbox WHERE sets_menu = 1 AND state = 'queued' ORDER BY chat_id"
    )
    return [r[0] for r in rows]


def broken(name: str | None) -> None:
    """Inject a fault the checks must catch."""
    if name == "ignore-hash":
        import bot.runtime.menus as menus

        real = menus.fingerprint
        menus.fingerprint = lambda texts, role: real(texts, role).rsplit("/", 1)[0] + "/"  # type: ignore[assignment]

        from storage.repos import menus as repo

        original = repo.MenuRepo.queue_stale

        async def by_role_and_language(self, expected, admin_ids, version, now):  # type: ignore[no-untyped-def]
            async with self.db.transaction() as tx:
                tx.defer(
                    "UPDATE users SET menu = substr(menu, 1, length(menu) - 12)"
                    " WHERE menu IS NOT NULL"
                )
            return await original(self, expected, admin_ids, version, now)

        repo.MenuRepo.queue_stale = by_role_and_language  # type: ignore[method-assign]


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "district.db"
        settings = load_settings(_env_file=None, bot_token=TOKEN, database_path=database)
        db = Database(database)
        await db.connect()
        try:
            services = build_services(
                settings, db, FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI))
            )
            must, blocked = await write_district(services, args.people, args.stale, rng)
            broken(args.break_)

            started = time.perf_counter()
            found_slowly = await one_by_one(services, args.people)
            baseline = time.perf_counter() - started

            started = time.perf_counter()
            queued = await queue_stale_menus(services)
            refresh = time.perf_counter() - started
            chats = await queued_chats(services)

            started = time.perf_counter()
            again = await queue_stale_menus(services)
            second = time.perf_counter() - started
        finally:
            await db.close()

    print(
        f"district: {args.people:,} people; made stale: {len(must) + blocked:,}"
        f" ({blocked} of them blocked chats)"
    )
    print(f"{'':28}{'seconds':>10}")
    print(f"{'one at a time (baseline)':28}{baseline:>10.3f}")
    print(f"{'queue_stale_menus':28}{refresh:>10.3f}   {baseline / refresh:.1f}x faster")
    print(f"{'again, rows already queued':28}{second:>10.3f}")
    checks = [
        ("exactly the stale, reachable chats are queued", set(chats) == must),
        ("each at most once", len(chats) == len(set(chats))),
        ("the count returned is what was queued", queued == len(must)),
        ("a second run queues nothing more", again == 0),
        ("the one-at-a-time baseline finds the same people", found_slowly == must),
    ]
    failed = 0
    for name, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
        failed += not ok
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--stale", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--break", dest="break_", choices=sorted(BREAKS), help=str(BREAKS))
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
