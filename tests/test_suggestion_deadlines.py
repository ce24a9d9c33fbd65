"""The deadline of a suggestion being handled, run by `SuggestionHandling.run_due` at the
injected clock's time: its departments' liaisons are reminded 30 and 7 days before it (staff
instead for a department without a liaison), and staff are alerted once it passes
unanswered. Each notice goes once (across restarts), only to those concerned, never for an
answered, closed or withdrawn suggestion, nor for one whose deadline moved after the sweep
listed it; a sweep after a downtime sends what is still due (not a 30-day reminder once the
7-day one is due), and a new deadline (an extension) is reminded of afresh. Deadlines end at
local midnight, so a sweep then holds its notices until the quiet hours end (07:00)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from storage.db import stamp
from tests.support.consultation_seed import add_user
from tests.support.inbox import Mail, notice
from tests.support.people import Person
from tests.support.scenarios import consented_admin, say
from tests.support.suggestion_seed import (
    seed_assignment,
    seed_department,
    seed_liaison,
    seed_suggestion,
)
from tests.support.world import SHANGHAI, World

pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
ASSIGNED = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)  # the World's first moment
DUE = datetime(2027, 2, 27, tzinfo=SHANGHAI)  # three months on: the end of 2027-02-26
LAST_DAY = date(2027, 2, 26)  # the deadline as people are told it
MORNING = timedelta(hours=10)  # a sweep in the day: nothing is held for the night


def day(person: Person, value: date) -> str:
    locale = "zh_CN" if person.language_code.startswith("zh") else "en"
    return person.world.services.i18n.texts(locale).date(value)


async def run(world: World, at: datetime) -> int:
    world.clock.set(at)
    return await world.services.suggestion_handling.run_due()


async def after_the_night(world: World, mail: Mail) -> list[tuple[int, str]]:
    """What went out once the quiet hours of the clock's day ended (07:00)."""
    today = world.clock.now().astimezone(SHANGHAI).date()
    world.clock.set(datetime.combine(today, time(7), tzinfo=SHANGHAI))
    return await mail.take()


async def assigned(
    world: World, title: str, lead: int, co: tuple[int, ...] = (), due: datetime = DUE
) -> int:
    suggestion = await seed_suggestion(world, 3001, title=title, at=ASSIGNED)
    await seed_assignment(world, suggestion, lead, co, at=ASSIGNED, due_at=due)
    return suggestion


async def set_state(world: World, suggestion: int, state: str) -> None:
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = ? WHERE id = ?", (state, suggestion))


async def told(world: World) -> list[tuple[int, int, str]]:
    """reminders_sent of the deadlines: (suggestion, recipient, kind without its deadline)."""
    rows = await world.rows(
        "SELECT subject_id, recipient_id, kind FROM reminders_sent WHERE subject = 'suggestion'"
        " ORDER BY subject_id, recipient_id, kind"
    )
    return [(r["subject_id"], r["recipient_id"], r["kind"].split("@")[0]) for r in rows]


@pytest.fixture
async def people(world: World, person) -> dict[str, Person]:
    admin = await consented_admin(world)
    await add_user(world, 3001, role="deputy", name="张三")
    transport = await seed_department(world, "区交通委")
    city = await seed_department(world, "区城管委")
    await seed_department(world, "区民政局")  # no liaison
    await seed_liaison(world, 7001, transport, name="交通联络员")
    await seed_liaison(world, 7002, city, name="City liaison", locale="en")
    return {
        "admin": admin,
        "transport": person(7001, "交通联络员"),
        "city": person(7002, "City liaison", "en"),
    }


def reminder(person: Person, number: str, title: str, days: int, last: date = LAST_DAY):
    return notice(
        person,
        "assign.remind_liaison",
        number=number,
        title=title,
        days=days,
        due_on=day(person, last),
    )


async def test_liaisons_hear_30_and_7_days_before_and_staff_once_it_is_overdue(
    world: World, people: dict[str, Person]
) -> None:
    transport, city, admin = people["transport"], people["city"], people["admin"]
    await assigned(world, "遮雨棚", 1, (2,))
    mail = Mail(world)
    await mail.take()

    assert await run(world, DUE - 30 * DAY - SECOND) == 0
    assert await run(world, DUE - 30 * DAY) == 2
    assert await after_the_night(world, mail) == [
        reminder(transport, "JY2026-0001", "遮雨棚", 30),
        reminder(city, "JY2026-0001", "遮雨棚", 30),
    ]
    assert say(transport, "assign.open_assignment") in transport.buttons()
    assert await run(world, DUE - 29 * DAY) == 0
    await world.crash_and_restart()
    assert await run(world, DUE - 8 * DAY) == 0

    assert await run(world, DUE - 7 * DAY - SECOND) == 0
    assert await run(world, DUE - 7 * DAY) == 2
    assert await after_the_night(world, mail) == [
        reminder(transport, "JY2026-0001", "遮雨棚", 7),
        reminder(city, "JY2026-0001", "遮雨棚", 7),
    ]
    assert await run(world, DUE - SECOND) == 0

    assert await run(world, DUE) == 1
    assert await after_the_night(world, mail) == [
        notice(
            admin,
            "assign.alert_overdue",
            number="JY2026-0001",
            title="遮雨棚",
            departments="区交通委、区城管委",
            due_on=day(admin, LAST_DAY),
        )
    ]
    await world.crash_and_restart()
    assert await run(world, DUE + 30 * DAY) == 0
    assert await mail.take() == []
    # the alert's button opens the staff card below it
    await admin.tap(say(admin, "assign.review_button"))
    assert admin.last.startswith("<b>JY2026-0001</b>")
    assert say(admin, "assign.card_overdue", due=day(admin, LAST_DAY)) in admin.last


async def test_a_sweep_just_after_midnight_is_held_until_the_morning(
    world: World, people: dict[str, Person]
) -> None:
    transport, admin = people["transport"], people["admin"]
    await assigned(world, "夜里到期", 1)
    await assigned(world, "夜里提醒", 1, due=DUE + 7 * DAY)
    mail = Mail(world)
    await mail.take()
    at = DUE + 2 * 60 * SECOND  # 00:02, the sweep after the deadline ended at midnight
    assert await run(world, at) == 2  # the overdue alert and the other one's 7-day reminder
    morning = datetime(2027, 2, 27, 7, 0, tzinfo=SHANGHAI)
    rows = await world.rows(
        "SELECT chat_id, message_key, not_before, state FROM outbox"
        " WHERE message_key LIKE 'assign.%' ORDER BY id"
    )
    assert [(r["chat_id"], r["message_key"], r["state"]) for r in rows] == [
        (transport.id, "assign.remind_liaison", "queued"),
        (admin.id, "assign.alert_overdue", "queued"),
    ]
    assert {datetime.fromisoformat(r["not_before"]) for r in rows} == {morning}
    sent = len(world.api.outputs)
    world.clock.set(morning - SECOND)
    await world.outbox.drain()
    assert len(world.api.outputs) == sent  # nothing before 07:00
    world.clock.set(morning)
    assert [chat for chat, _ in await mail.take()] == [transport.id, admin.id]


async def test_a_late_sweep_sends_only_what_is_still_due(
    world: World, people: dict[str, Person]
) -> None:
    transport, city = people["transport"], people["city"]
    await assigned(world, "甲", 1)  # the 30-day day passed, 20 days are left
    await assigned(world, "乙", 2, due=DUE - 15 * DAY)  # only 5 days are left
    mail = Mail(world)
    await mail.take()
    assert await run(world, DUE - 21 * DAY + MORNING) == 2
    assert await mail.take() == [
        reminder(city, "JY2026-0002", "乙", 6, LAST_DAY - timedelta(days=15)),
        reminder(transport, "JY2026-0001", "甲", 21),
    ]
    # the 30-day reminder of 乙 is never sent now that its 7-day one went
    assert await run(world, DUE - 20 * DAY + MORNING) == 0
    assert await told(world) == [(1, transport.id, "d30"), (2, city.id, "d7")]


async def test_staff_are_reminded_for_a_department_without_a_liaison(
    world: World, people: dict[str, Person], person
) -> None:
    admin, transport = people["admin"], people["transport"]
    await assigned(world, "无人联络", 3, (1,))  # 区民政局 leads, without a liaison
    mail = Mail(world)
    await mail.take()
    assert await run(world, DUE - 30 * DAY + MORNING) == 2
    assert await mail.take() == [
        reminder(transport, "JY2026-0001", "无人联络", 30),
        notice(
            admin,
            "assign.remind_staff",
            number="JY2026-0001",
            title="无人联络",
            days=30,
            due_on=day(admin, LAST_DAY),
            departments="区民政局",
        ),
    ]
    await admin.tap(say(admin, "assign.review_button"))
    assert admin.last.startswith("<b>JY2026-0001</b>")
    # a liaison who joins later hears the next reminder; staff no longer do
    await seed_liaison(world, 7003, 3, name="民政联络员")
    assert await run(world, DUE - 7 * DAY + MORNING) == 2
    assert await mail.take() == [
        reminder(person(7003, "民政联络员"), "JY2026-0001", "无人联络", 7),
        reminder(transport, "JY2026-0001", "无人联络", 7),
    ]


async def test_nothing_for_what_needs_no_answer(world: World, people: dict[str, Person]) -> None:
    answered = await assigned(world, "已答复", 1)
    await set_state(world, answered, "answered")
    closed = await assigned(world, "已办结", 1)
    await set_state(world, closed, "closed")
    withdrawn = await seed_suggestion(world, 3001, title="撤回的")
    await set_state(world, withdrawn, "withdrawn")
    mail = Mail(world)
    await mail.take()
    for moment in (DUE - 30 * DAY, DUE - 7 * DAY, DUE, DUE + 10 * DAY):
        assert await run(world, moment + MORNING) == 0
    assert await mail.take() == []
    assert await told(world) == []


async def test_what_changed_after_the_sweep_listed_it_is_not_told(
    world: World, people: dict[str, Person]
) -> None:
    """The sweep lists what is due, then takes each in a transaction of its own: a
    suggestion answered, or given a new deadline, in between is left alone there."""
    handling = world.services.suggestion_handling
    answered = await assigned(world, "刚答复", 1)
    extended = await assigned(world, "刚延期", 1)
    now = DUE - 7 * DAY + MORNING
    world.clock.set(now)
    listed = await handling.assignments.due_within(now, now + 7 * DAY, "d7")
    assert [s.id for s, _ in listed] == [answered, extended]
    await set_state(world, answered, "answered")
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET extended = 1, due_at = ? WHERE id = ?",
            (stamp(DUE + 90 * DAY), extended),
        )
    for suggestion, kind in listed:
        assert await handling._remind(suggestion, kind, now) == 0
    world.clock.set(DUE + MORNING)
    overdue = await handling.assignments.due_within(None, DUE + MORNING, "overdue")
    assert [s.id for s, _ in overdue] == []  # neither is overdue now
    late = await assigned(world, "刚退办", 1, due=DUE)
    [(listed_late, kind)] = await handling.assignments.due_within(None, DUE + MORNING, "overdue")
    assert listed_late.id == late
    await set_state(world, late, "returned")
    assert await handling._alert_overdue(listed_late, kind, DUE + MORNING) == 0
    assert await told(world) == []
    assert await world.rows("SELECT 1 FROM outbox WHERE message_key LIKE 'assign.%'") == []


async def test_a_returned_department_is_not_reminded_and_re_handling_is(
    world: World, people: dict[str, Person]
) -> None:
    transport, city = people["transport"], people["city"]
    first = await assigned(world, "部分退办", 1, (2,))
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestion_assignments SET state = 'returned' WHERE suggestion_id = ?"
            " AND department_id = 2",
            (first,),
        )
    mail = Mail(world)
    await mail.take()
    assert await run(world, DUE - 7 * DAY + MORNING) == 1
    assert await mail.take() == [reminder(transport, "JY2026-0001", "部分退办", 7)]
    # answered, rated 不满意: re-handling has a deadline of its own, reminded afresh
    rehandle_due = DUE + 60 * DAY
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = 'rehandling', due_at = ? WHERE id = ?",
            (stamp(rehandle_due), first),
        )
    assert await run(world, rehandle_due - 7 * DAY + MORNING) == 1
    last = LAST_DAY + timedelta(days=60)
    assert await mail.take() == [reminder(transport, "JY2026-0001", "部分退办", 7, last)]
    assert city.id not in [recipient for _, recipient, _ in await told(world)]


async def test_an_extension_is_a_new_deadline(world: World, people: dict[str, Person]) -> None:
    transport, admin = people["transport"], people["admin"]
    await assigned(world, "延期的建议", 1)
    mail = Mail(world)
    await mail.take()
    assert await run(world, DUE - 7 * DAY + MORNING) == 1
    await mail.take()
    await admin.send("/assign")
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_handling"), count=1, mark="")
    )
    await admin.tap("JY2026-0001 延期的建议")
    await admin.tap(say(admin, "assign.extend"))
    await admin.tap(say(admin, "assign.extension_yes"))
    extended = datetime(2027, 5, 27, tzinfo=SHANGHAI)  # six months from 交办
    (row,) = await world.rows("SELECT due_at, extended FROM suggestions")
    assert (datetime.fromisoformat(row["due_at"]), row["extended"]) == (extended, 1)
    await mail.take()
    assert await run(world, DUE + MORNING) == 0  # the old deadline is no deadline any more
    assert await run(world, extended - 30 * DAY + MORNING) == 1
    assert await mail.take() == [
        reminder(transport, "JY2026-0001", "延期的建议", 30, date(2027, 5, 26))
    ]
    assert await run(world, extended + MORNING) == 1
