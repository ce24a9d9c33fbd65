"""A new opinion reaches its station's deputies at once, in their language, with its number,
category and the start of its text, never the voter's name; quiet hours hold it until the
morning; a deputy who chose /notices digest gets one message a day instead, once. Releasing
an opinion starts its unclaimed clock again: the 3- and 7-day notices count from then."""

from __future__ import annotations

import html
import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiosqlite

from bot.runtime.buttons.inbox import Claim, Release, Side
from bot.services.deputy_notices import QuietHours
from storage.db import migrate, migration_files, stamp
from tests.support.inbox import NO, Mail, chat_of, open_in_inbox, opinion_row, submit
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, onboard, say
from tests.support.world import SHANGHAI, World

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
STATION = "学院路第一联络站"
LAMP = "小区3号楼<东门>的路灯坏了一个多月 & 没人修，晚上很不安全。"
ROAD = "西门的路面坑洼，下雨天积水很深。"
BIKES = "南门的自行车棚顶漏雨，车都淋湿了。"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of November 2026 in Shanghai (the World starts on the 26th at 10:00)."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


def tracking(n: int) -> str:
    return f"HD-2026-{n:06d}"


def new_notice(deputy: Person, n: int, text: str, key: str = "deputy_notices.new") -> str:
    return say(
        deputy,
        key,
        tracking_no=tracking(n),
        station=STATION,
        category=say(deputy, "category.urban"),
        excerpt=html.escape(text),
    )


async def deputies(world: World, person, admin: Person) -> tuple[Person, Person, Person]:
    """张三 (Chinese) and Li (English) of 学院路第一联络站, 赵六 of another station."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    li = await invite_deputy(world, admin, person, 3002, "Li", language_code="en")
    zhao = await invite_deputy(world, admin, person, 3009, "赵六", "海淀街道", "海淀街道联络站")
    return zhang, li, zhao


def last_text(world: World, someone: Person) -> str:
    """The latest message the bot sent to this person's chat."""
    return [o.text for o in world.api.outputs if o.chat_id == someone.id][-1]


async def held(world: World) -> list[tuple[int, str, str]]:
    """Notices still waiting in the outbox: (chat, message id, not before)."""
    rows = await world.rows(
        "SELECT chat_id, message_key, not_before FROM outbox WHERE state = 'queued' ORDER BY id"
    )
    return [(r["chat_id"], r["message_key"], r["not_before"]) for r in rows]


# --- at once ---------------------------------------------------------------------------------


async def test_the_stations_deputies_are_told_at_once_in_their_language(
    world: World, person, admin: Person
) -> None:
    zhang, li, zhao = await deputies(world, person, admin)
    mail = Mail(world)
    await mail.take()
    voter = person(2001, "王芳")
    await submit(voter, LAMP)

    assert await mail.take() == [
        (zhang.id, new_notice(zhang, 1, LAMP)),
        (li.id, new_notice(li, 1, LAMP)),
    ]
    assert last_text(world, li).startswith("🆕 New opinion <b>HD-2026-000001</b> at")
    # the voter's text is escaped, their name and id are nowhere in the deputies' chats
    assert "小区3号楼&lt;东门&gt;的路灯坏了一个多月 &amp; 没人修" in last_text(world, zhang)
    for deputy in (zhang, li):
        assert "王芳" not in chat_of(world, deputy) and str(voter.id) not in chat_of(world, deputy)
    # (menu rows aside: 赵六's own command menu was set when he became a deputy)
    told = await world.rows("SELECT chat_id FROM outbox WHERE sets_menu = 0")
    assert zhao.id not in {r["chat_id"] for r in told}
    # the notice's button opens the card, which can be claimed from there
    await zhang.tap(say(zhang, "inbox.open_button"))
    assert zhang.last.startswith(f"<b>{NO}</b>")
    assert say(zhang, "inbox.anonymous_voter") in zhang.last
    assert say(zhang, "inbox.claim_button") in zhang.buttons()


async def test_a_long_text_is_cut_and_unreachable_deputies_are_skipped(
    world: World, person, admin: Person
) -> None:
    zhang, li, _ = await deputies(world, person, admin)
    async with world.db.transaction() as tx:  # Li blocked the bot
        await tx.execute("UPDATE users SET active = 0 WHERE telegram_id = ?", (li.id,))
    mail = Mail(world)
    await mail.take()
    text = "小区东门外的人行道" * 20
    await submit(person(2001, "王芳"), text, anonymous=False)

    excerpt = text[:99] + "…"
    assert await mail.take() == [(zhang.id, new_notice(zhang, 1, excerpt))]
    assert "王芳" not in chat_of(world, zhang)  # not in the notice, even with the name shown


# --- quiet hours ------------------------------------------------------------------------------


async def test_an_opinion_sent_at_night_reaches_the_deputies_at_seven(
    world: World, person, admin: Person
) -> None:
    zhang, li, _ = await deputies(world, person, admin)
    mail = Mail(world)
    await mail.take()
    world.clock.set(at(26, 23, 29))
    await submit(person(2001, "王芳"), LAMP)
    await world.outbox.drain()

    morning = stamp(at(27, 7))
    assert await held(world) == [
        (zhang.id, "deputy_notices.new", morning),
        (li.id, "deputy_notices.new", morning),
    ]
    world.clock.set(at(27, 7) - SECOND)
    await world.outbox.drain()
    assert len(await held(world)) == 2
    assert new_notice(zhang, 1, LAMP) not in chat_of(world, zhang)

    world.clock.set(at(27, 7))
    assert await mail.take() == [
        (zhang.id, new_notice(zhang, 1, LAMP)),
        (li.id, new_notice(li, 1, LAMP)),
    ]
    assert await held(world) == []


async def test_a_night_notice_is_withdrawn_once_a_deputy_takes_the_opinion(
    world: World, person, admin: Person
) -> None:
    """Claimed at 23:40 by 张三: at 07:00 nobody is told it still waits for a deputy."""
    zhang, li, _ = await deputies(world, person, admin)
    mail = Mail(world)
    await mail.take()
    world.clock.set(at(26, 23, 29))
    await submit(person(2001, "王芳"), LAMP)
    await world.outbox.drain()
    assert len(await held(world)) == 2
    world.clock.set(at(26, 23, 40))
    await open_in_inbox(zhang)
    await zhang.tap(say(zhang, "inbox.claim_button"))
    assert await held(world) == []
    world.clock.set(at(27, 7))
    told = [text for _, text in await mail.take()]
    assert new_notice(zhang, 1, LAMP) not in told
    assert new_notice(li, 1, LAMP) not in told
    withdrawn = await world.rows(
        "SELECT chat_id FROM outbox WHERE message_key = 'deputy_notices.new'"
        " AND state = 'skipped' AND reason = 'withdrawn' ORDER BY chat_id"
    )
    assert [r["chat_id"] for r in withdrawn] == [zhang.id, li.id]


async def test_quiet_hours_over_midnight_within_a_day_and_none() -> None:
    night = QuietHours(time(22), time(7), SHANGHAI)
    assert night.held_until(at(26, 21, 59, 59)) is None
    assert night.held_until(at(26, 22)) == at(27, 7)
    assert night.held_until(at(26, 23, 30)) == at(27, 7)
    assert night.held_until(at(27, 0, 0)) == at(27, 7)
    assert night.held_until(at(27, 6, 59, 59)) == at(27, 7)
    assert night.held_until(at(27, 7)) is None
    # the zone decides, not UTC: 23:30 in Shanghai is 15:30 UTC
    assert night.held_until(at(26, 23, 30).astimezone(UTC)) == at(27, 7)
    assert night.held_until(datetime(2026, 11, 26, 22, 0, tzinfo=UTC)) == at(27, 7)  # 06:00
    assert night.held_until(datetime(2026, 11, 26, 13, 59, tzinfo=UTC)) is None  # 21:59
    early = QuietHours(time(1), time(6), SHANGHAI)
    assert early.held_until(at(26, 0, 59)) is None
    assert early.held_until(at(26, 1)) == at(26, 6)
    assert early.held_until(at(26, 6)) is None
    assert QuietHours(time(7), time(7), SHANGHAI).held_until(at(26, 3)) is None


async def test_quiet_hours_can_be_switched_off(make_world) -> None:
    world = await make_world(quiet_hours_start="00:00", quiet_hours_end="00:00")
    admin = Person(world, 1, "管理员")
    await onboard(admin)

    def person(user_id: int, name: str = "张三", lang: str = "zh-hans") -> Person:
        return Person(world, user_id, name, lang)

    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    mail = Mail(world)
    await mail.take()
    world.clock.set(at(26, 23, 29))
    await submit(person(2001, "王芳"), LAMP)
    assert await mail.take() == [(zhang.id, new_notice(zhang, 1, LAMP))]


# --- the daily digest -------------------------------------------------------------------------


async def test_a_digest_deputy_gets_one_message_a_day_listing_each_opinion_once(
    world: World, person, admin: Person
) -> None:
    zhang, li, _ = await deputies(world, person, admin)
    digest = world.services.deputy_notices
    await zhang.send("/notices digest")
    eight = world.services.i18n.texts("zh_CN").time(at(27, 8))
    assert zhang.last == say(zhang, "notices.now_digest", time=eight)
    mail = Mail(world)
    await mail.take()

    await submit(person(2001, "王芳"), LAMP)
    world.clock.set(at(26, 15))
    await submit(person(2002, "刘洋"), ROAD)
    world.clock.set(at(26, 16))
    await submit(person(2003, "陈晨"), BIKES)
    # Li's notices go first (one a second to a chat: a claim before the last went would
    # withdraw it, however fast the machine)
    await world.outbox.drain()
    await li.tap_data(Claim(opinion=3).pack())  # claimed before the digest: not listed
    # Li takes each one at once; 张三 gets nothing yet
    assert [chat for chat, _ in await mail.take()] == [li.id, li.id, li.id, 2003]
    assert await digest.run_due() == 0  # today's 08:00 had passed when 张三 chose the digest

    world.clock.set(at(27, 8) - SECOND)
    assert await digest.run_due() == 0
    world.clock.set(at(27, 8))
    assert await digest.run_due() == 1
    items = f"{tracking(1)} · {LAMP}\n{tracking(2)} · {ROAD}"
    assert await mail.take() == [
        (
            zhang.id,
            say(zhang, "deputy_notices.digest", station=STATION, count=2, items=html.escape(items)),
        )
    ]
    # once a day, across restarts
    world.clock.set(at(27, 8, 0, 1))
    assert await digest.run_due() == 0
    await world.crash_and_restart()
    world.clock.set(at(27, 12))
    assert await world.services.deputy_notices.run_due() == 0
    assert await mail.take() == []

    # the next day lists only what is new since, never the same opinion again
    world.clock.set(at(27, 9))
    await submit(person(2004, "赵敏"), BIKES + "还有东门。")
    await mail.take()
    world.clock.set(at(28, 8))
    assert await world.services.deputy_notices.run_due() == 1
    assert await mail.take() == [
        (
            zhang.id,
            say(
                zhang,
                "deputy_notices.digest",
                station=STATION,
                count=1,
                items=f"{tracking(4)} · {BIKES}还有东门。",
            ),
        )
    ]
    # a day without new opinions sends nothing
    world.clock.set(at(29, 8))
    assert await world.services.deputy_notices.run_due() == 0
    assert await mail.take() == []
    kinds = await world.rows(
        "SELECT kind, outcome FROM reminders_sent WHERE subject = 'digest' ORDER BY kind"
    )
    assert [(k["kind"], k["outcome"]) for k in kinds] == [
        ("digest@2026-11-26", "dropped"),
        ("digest@2026-11-27", "sent"),
        ("digest@2026-11-28", "sent"),
        ("digest@2026-11-29", "dropped"),
    ]


async def test_a_digest_missed_while_the_bot_was_down_goes_once_after_the_restart(
    world: World, person, admin: Person
) -> None:
    zhang, _, _ = await deputies(world, person, admin)
    await zhang.send("/notices digest")
    await submit(person(2001, "王芳"), LAMP)
    mail = Mail(world)
    await mail.take()
    await world.crash_and_restart()
    world.clock.set(at(27, 11))  # down over 08:00
    assert await world.services.deputy_notices.run_due() == 1
    assert await world.services.deputy_notices.run_due() == 0
    assert await mail.take() == [
        (
            zhang.id,
            say(
                zhang,
                "deputy_notices.digest",
                station=STATION,
                count=1,
                items=f"{tracking(1)} · {html.escape(LAMP)}",
            ),
        )
    ]


# --- /notices -----------------------------------------------------------------------------------


async def test_notices_digest_and_each_for_deputies_on_and_off_for_everyone(
    world: World, person, admin: Person
) -> None:
    zhang, li, _ = await deputies(world, person, admin)
    eight = {
        locale: world.services.i18n.texts(locale).time(at(27, 8)) for locale in ("zh_CN", "en")
    }

    async def mode_of(deputy: Person) -> str:
        rows = await world.rows("SELECT notice_mode FROM deputies WHERE user_id = ?", (deputy.id,))
        return str(rows[0]["notice_mode"])

    # the usage shows a deputy both choices and where they stand
    usage = say(
        li,
        "notices.usage_deputy",
        state=say(li, "notices.on"),
        mode=say(li, "notices.mode_each"),
        time=eight["en"],
    )
    for asked in ("/notices", "/notices weekly", "/notices digest now", "/notices 每天"):
        await li.send(asked)
        assert li.last == usage
    assert await mode_of(li) == "each"

    await li.send("/notices DIGEST")
    assert li.last == say(li, "notices.now_digest", time=eight["en"])
    assert await mode_of(li) == "digest"
    await li.send("/notices")
    assert say(li, "notices.mode_digest") in li.last
    await li.send("/notices each")
    assert li.last == say(li, "notices.now_each", time=eight["en"])
    assert await mode_of(li) == "each"

    # on / off still switch notices from staff, for deputies and voters alike
    await zhang.send("/notices off")
    assert zhang.last == say(zhang, "notices.now_off")
    assert (await world.user_row(zhang.id))["notices"] == 0
    await zhang.send("/notices")
    assert zhang.last == say(
        zhang,
        "notices.usage_deputy",
        state=say(zhang, "notices.off"),
        mode=say(zhang, "notices.mode_each"),
        time=eight["zh_CN"],
    )

    # a voter has no digest: the words are not theirs, and the usage does not offer them
    voter = person(2001, "王芳")
    await onboard(voter)
    await voter.send("/notices digest")
    assert voter.last == say(voter, "notices.usage", state=say(voter, "notices.on"))
    await voter.send("/notices off")
    assert voter.last == say(voter, "notices.now_off")
    assert await world.rows("SELECT * FROM deputies WHERE notice_mode = 'digest'") == []


# --- release restarts the unclaimed clock ------------------------------------------------------


async def test_releasing_an_old_opinion_restarts_its_3_and_7_day_notices(
    world: World, person, admin: Person
) -> None:
    zhang, li, _ = await deputies(world, person, admin)
    inbox = world.services.inbox
    mail = Mail(world)
    await mail.take()
    await submit(person(2001, "王芳"), LAMP)
    await mail.take()
    t0 = datetime.fromisoformat((await opinion_row(world))["created_at"])

    # the first unclaimed period: reminded at 3 days, then claimed
    world.clock.set(t0 + 3 * DAY)
    assert await inbox.run_due() == 2
    await mail.take()
    world.clock.set(t0 + 4 * DAY)
    await zhang.tap_data(Claim(opinion=1).pack())
    await mail.take()

    # released on day 8: the others hear of it as of a new opinion, nothing fires at once
    world.clock.set(t0 + 8 * DAY)
    await zhang.tap_data(Release(side=Side.INBOX, opinion=1).pack())
    released = t0 + 8 * DAY + SECOND
    assert (await opinion_row(world))["unclaimed_since"] == stamp(released)
    assert await inbox.run_due() == 0
    assert await mail.take() == [
        (2001, say(zhang, "inbox.notify_released", tracking_no=NO)),
        (li.id, new_notice(li, 1, LAMP, "deputy_notices.released")),
    ]

    # then 3 days from the release, and 7 for staff, once each
    world.clock.set(released + 3 * DAY - SECOND)
    assert await inbox.run_due() == 0
    world.clock.set(released + 3 * DAY)
    assert await inbox.run_due() == 2
    assert sorted(await mail.take()) == sorted(
        (d.id, say(d, "inbox.remind_unclaimed", tracking_no=NO, days=3, station=STATION))
        for d in (zhang, li)
    )
    await world.crash_and_restart()
    world.clock.set(released + 7 * DAY - SECOND)
    assert await world.services.inbox.run_due() == 0
    world.clock.set(released + 7 * DAY)
    assert await world.services.inbox.run_due() == 1
    assert await mail.take() == [
        (admin.id, say(admin, "inbox.alert_unclaimed", tracking_no=NO, days=7, station=STATION))
    ]
    assert await world.services.inbox.run_due() == 0


async def test_a_digest_deputy_finds_a_released_opinion_in_the_next_digest(
    world: World, person, admin: Person
) -> None:
    zhang, li, _ = await deputies(world, person, admin)
    await zhang.send("/notices digest")
    await submit(person(2001, "王芳"), LAMP)
    await li.tap_data(Claim(opinion=1).pack())
    world.clock.set(at(26, 18))
    await li.tap_data(Release(side=Side.INBOX, opinion=1).pack())
    mail = Mail(world)
    await mail.take()
    world.clock.set(at(27, 8))
    assert await world.services.deputy_notices.run_due() == 1
    assert await mail.take() == [
        (
            zhang.id,
            say(
                zhang,
                "deputy_notices.digest",
                station=STATION,
                count=1,
                items=f"{tracking(1)} · {html.escape(LAMP)}",
            ),
        )
    ]
    # Li released it and is not told of it, nor is it left for a digest of theirs
    assert not any(
        r["message_key"] == "deputy_notices.released"
        for r in await world.rows("SELECT message_key FROM outbox WHERE chat_id = ?", (li.id,))
    )


# --- the migration -----------------------------------------------------------------------------


async def test_the_migration_backfills_the_clock_and_keys_old_reminders_by_period(
    tmp_path: Path,
) -> None:
    shipped = migration_files()
    before = tmp_path / "before"
    before.mkdir()
    for number, name, sql in shipped:
        if number < 5:
            (before / name).write_text(sql, encoding="utf-8")
    path = tmp_path / "old.sqlite3"
    created, released = "2026-11-01T02:00:00+00:00", "2026-11-09T02:00:00+00:00"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await migrate(conn, before)
        await conn.executescript(
            f"""
            INSERT INTO streets (id, name) VALUES (1, '学院路街道');
            INSERT INTO stations (id, street_id, name) VALUES (1, 1, '{STATION}');
            INSERT INTO users (telegram_id, role, locale, created_at)
                VALUES (2001, 'voter', 'zh_CN', '{created}');
            INSERT INTO opinions (id, tracking_no, author_id, station_id, category, text,
                show_name, status, created_at, updated_at)
                VALUES (1, 'HD-2026-000001', 2001, 1, 'urban', '{LAMP}', 0, 'submitted',
                        '{created}', '{created}'),
                       (2, 'HD-2026-000002', 2001, 1, 'urban', '{ROAD}', 0, 'submitted',
                        '{created}', '{created}');
            INSERT INTO opinion_events (opinion_id, at, actor_id, kind)
                VALUES (1, '{created}', 2001, 'submitted'), (1, '{released}', 3001, 'released');
            INSERT INTO reminders_sent (subject, subject_id, recipient_id, kind, outcome, at)
                VALUES ('opinion', 1, 3001, 'unclaimed', 'sent', '2026-11-04T02:00:00+00:00'),
                       ('opinion', 1, 1, 'unclaimed_alert', 'sent', '2026-11-09T03:00:00+00:00'),
                       ('opinion', 2, 3001, 'unclaimed', 'sent', '2026-11-04T02:00:00+00:00');
            """
        )
        await migrate(conn)
        rows = await (await conn.execute("SELECT id, unclaimed_since FROM opinions")).fetchall()
        assert sorted(rows) == [(1, released), (2, created)]
        kinds = await (
            await conn.execute("SELECT subject_id, kind FROM reminders_sent ORDER BY rowid")
        ).fetchall()
        assert list(kinds) == [
            (1, f"unclaimed@{created}"),  # the first period: does not block the current one
            (1, f"unclaimed_alert@{released}"),  # sent after the release: this period's
            (2, f"unclaimed@{created}"),
        ]
        # a writer that does not name the column still starts the clock at the submission
        await conn.execute(
            "INSERT INTO opinions (id, tracking_no, author_id, station_id, category, text,"
            " show_name, status, created_at, updated_at) VALUES (3, 'HD-2026-000003', 2001, 1,"
            f" 'urban', 'x', 0, 'submitted', '{created}', '{created}')"
        )
        row = await (
            await conn.execute("SELECT unclaimed_since FROM opinions WHERE id = 3")
        ).fetchone()
        assert row == (created,)
    shutil.rmtree(before)
