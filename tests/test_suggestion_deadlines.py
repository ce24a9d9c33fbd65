"""The deadline of a suggestion being handled, run by `SuggestionHandling.run_due` at the
injected clock's time: its departments' liaisons are reminded 30 and 7 days before it, and
staff are alerted once it passes unanswered. Each notice goes once (across restarts), only
to those concerned, never for an answered, closed or withdrawn suggestion; a sweep after a
downtime sends what is still due (not a 30-day reminder once the 7-day one is due), and a
new deadline (an extension) is reminded of afresh."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

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


def shown(person: Person, moment: datetime) -> str:
    locale = "zh_CN" if person.language_code.startswith("zh") else "en"
    return person.world.services.i18n.texts(locale).datetime(moment)


async def run(world: World, at: datetime) -> int:
    world.clock.set(at)
    return await world.services.suggestion_handling.run_due()


async def assigned(
    world: World, title: str, lead: int, co: tuple[int, ...] = (), due: datetime = DUE
) -> int:
    suggestion = await seed_suggestion(world, 3001, title=title, at=ASSIGNED)
    await seed_assignment(world, suggestion, lead, co, at=ASSIGNED, due_at=due)
    return suggestion


async def set_state(world: World, suggestion: int, state: str) -> None:
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = ? WHERE id = ?", (state, suggestion))


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


def reminder(person: Person, number: str, title: str, days: int, due: datetime = DUE):
    return notice(
        person,
        "assign.remind_liaison",
        number=number,
        title=title,
        days=days,
        due_at=shown(person, due - SECOND),
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
    assert await mail.take() == [
        reminder(transport, "JY2026-0001", "遮雨棚", 30),
        reminder(city, "JY2026-0001", "遮雨棚", 30),
    ]
    assert say(transport, "assign.open_assignment") in transport.buttons()
    assert await run(world, DUE - 29 * DAY) == 0
    await world.crash_and_restart()
    assert await run(world, DUE - 8 * DAY) == 0

    assert await run(world, DUE - 7 * DAY - SECOND) == 0
    assert await run(world, DUE - 7 * DAY) == 2
    assert await mail.take() == [
        reminder(transport, "JY2026-0001", "遮雨棚", 7),
        reminder(city, "JY2026-0001", "遮雨棚", 7),
    ]
    assert await run(world, DUE - SECOND) == 0

    assert await run(world, DUE) == 1
    assert await mail.take() == [
        notice(
            admin,
            "assign.alert_overdue",
            number="JY2026-0001",
            title="遮雨棚",
            departments="区交通委、区城管委",
            due_at=shown(admin, DUE - SECOND),
        )
    ]
    await world.crash_and_restart()
    assert await run(world, DUE + 30 * DAY) == 0
    assert await mail.take() == []
    # the alert's button opens the staff card below it
    await admin.tap(say(admin, "assign.review_button"))
    assert admin.last.startswith("<b>JY2026-0001</b>")
    assert say(admin, "assign.card_overdue", due=shown(admin, DUE - SECOND)) in admin.last


async def test_a_late_sweep_sends_only_what_is_still_due(
    world: World, people: dict[str, Person]
) -> None:
    transport, city = people["transport"], people["city"]
    await assigned(world, "甲", 1)  # the 30-day day passed, 20 days are left
    await assigned(world, "乙", 2, due=DUE - 15 * DAY)  # only 5 days are left
    mail = Mail(world)
    await mail.take()
    assert await run(world, DUE - 20 * DAY) == 2
    assert await mail.take() == [
        reminder(city, "JY2026-0002", "乙", 5, DUE - 15 * DAY),
        reminder(transport, "JY2026-0001", "甲", 20),
    ]
    # the 30-day reminder of 乙 is never sent now that its 7-day one went
    assert await run(world, DUE - 19 * DAY) == 0
    kinds = await world.rows("SELECT subject_id, kind FROM reminders_sent ORDER BY subject_id")
    assert [(r["subject_id"], r["kind"].split("@")[0]) for r in kinds] == [(1, "d30"), (2, "d7")]


async def test_nothing_for_what_needs_no_answer_or_has_nobody_to_tell(
    world: World, people: dict[str, Person], person
) -> None:
    answered = await assigned(world, "已答复", 1)
    await set_state(world, answered, "answered")
    closed = await assigned(world, "已办结", 1)
    await set_state(world, closed, "closed")
    withdrawn = await seed_suggestion(world, 3001, title="撤回的")
    await set_state(world, withdrawn, "withdrawn")
    lonely = await assigned(world, "无人联络", 3)  # 区民政局 has no liaison
    mail = Mail(world)
    await mail.take()
    assert await run(world, DUE - 30 * DAY) == 0
    assert await mail.take() == []
    # a liaison who joins while the reminder is still due hears it
    await seed_liaison(world, 7003, 3, name="民政联络员")
    assert await run(world, DUE - 29 * DAY) == 1
    assert await mail.take() == [
        reminder(person(7003, "民政联络员"), "JY2026-0004", "无人联络", 29)
    ]
    # overdue: staff hear of the one still being handled, not of the answered or closed
    assert await run(world, DUE) == 1
    assert [text.split("\n")[0] for _, text in await mail.take()] == [
        say(
            people["admin"],
            "assign.alert_overdue",
            number="JY2026-0004",
            title="无人联络",
            departments="区民政局",
            due_at=shown(people["admin"], DUE - SECOND),
        ).split("\n")[0]
    ]
    assert lonely


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
    assert await run(world, DUE - 7 * DAY) == 1
    assert await mail.take() == [reminder(transport, "JY2026-0001", "部分退办", 7)]
    # answered, rated 不满意: re-handling has a deadline of its own, reminded afresh
    rehandle_due = DUE + 60 * DAY
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = 'rehandling', due_at = ? WHERE id = ?",
            (rehandle_due.isoformat(), first),
        )
    assert await run(world, rehandle_due - 7 * DAY) == 1
    assert await mail.take() == [reminder(transport, "JY2026-0001", "部分退办", 7, rehandle_due)]
    assert city


async def test_an_extension_is_a_new_deadline(world: World, people: dict[str, Person]) -> None:
    transport, admin = people["transport"], people["admin"]
    await assigned(world, "延期的建议", 1)
    mail = Mail(world)
    await mail.take()
    assert await run(world, DUE - 7 * DAY) == 1
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
    assert await run(world, DUE) == 0  # the old deadline is no deadline any more
    assert await run(world, extended - 30 * DAY) == 1
    assert await mail.take() == [reminder(transport, "JY2026-0001", "延期的建议", 30, extended)]
    assert await run(world, extended) == 1
