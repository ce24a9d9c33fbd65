"""Closing a consultation: by itself at its deadline (the scheduler's job at that instant,
rebuilt at start, or its sweep), its creator told with the report a tap away; early from
/consult after a confirm; its prompts and reminders still queued withdrawn either way; and
/consult's list of open and closed ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from bot.runtime.buttons.consult import ConsultClose, ConsultCloseConfirmed
from bot.runtime.buttons.consultation_report import ReportOpen
from tests.support.people import Person
from tests.support.scenarios import ADMIN, LANGUAGES, invite_deputy, onboard, say
from tests.support.world import SHANGHAI, World
from tests.test_consult_open import TITLE, open_consultation, staff_member

DEADLINE = datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)


async def state(world: World, consultation_id: int = 1) -> tuple[str, str | None]:
    (row,) = await world.rows(
        "SELECT state, closed_at FROM consultations WHERE id = ?", (consultation_id,)
    )
    return row["state"], row["closed_at"]


async def closed_notices(world: World) -> list[dict[str, object]]:
    return await world.rows(
        "SELECT chat_id, params, buttons FROM outbox WHERE message_key = 'consult.closed_notice'"
        " ORDER BY chat_id"
    )


async def comment(world: World, author_id: int, *, withdrawn: bool) -> None:
    """A comment on the whole draft of consultation 1, as the commenting side stores one."""
    now = world.clock.now().isoformat()
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO consultation_comments (consultation_id, author_id, text, author_kind,"
            " created_at, updated_at, withdrawn_at) VALUES (1, ?, ?, 'deputy', ?, ?, ?)",
            (author_id, "建议增加议题公示的期限。", now, now, now if withdrawn else None),
        )


async def add_staff(world: World, admin: Person, person: Callable[..., Person], uid: int) -> Person:
    """Another staff member, granted by the admin with /staff."""
    member = person(uid, "工作人员")
    await onboard(member)
    await admin.send(f"/staff add {uid}")
    assert (await world.user_row(uid))["role"] == "staff", admin.last
    return member


# --- at the deadline -------------------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_it_closes_at_its_deadline_and_its_creator_is_told(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await invite_deputy(world, staff, person, 901, "王代表")
    await open_consultation(staff)
    consultations = world.services.consultations
    world.clock.set(DEADLINE - timedelta(seconds=1))
    await consultations.run_due()
    assert await state(world) == ("open", None)
    world.clock.set(DEADLINE + timedelta(minutes=4))  # the sweep came a little later
    assert await consultations.run_due() == 1
    assert await state(world) == ("closed", "2026-12-31T15:59:59+00:00")  # at the deadline
    assert await consultations.run_due() == 0  # told once
    (notice,) = await closed_notices(world)
    assert notice["chat_id"] == ADMIN
    assert json.loads(str(notice["params"])) == {"title": TITLE, "invited": 1, "comments": 0}
    await world.outbox.drain()
    told = [o for o in world.api.outputs if o.chat_id == ADMIN and o.markup][-1]
    assert told.text == say(staff, "consult.closed_notice", title=TITLE, invited=1, comments=0)
    (report,) = told.markup["inline_keyboard"][0] if told.markup else [None]
    assert report["text"] == say(staff, "consult.report")
    assert report["callback_data"] == ReportOpen(consultation=1).pack()
    assert not [o for o in world.api.outputs if o.chat_id == 901 and "结束" in o.text]


async def test_the_job_at_the_deadline_is_planned_at_start_and_closes_it(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await open_consultation(staff)
    world.clock.set(DEADLINE - timedelta(hours=1))
    await world.crash_and_restart()  # jobs are rebuilt from the database
    name = f"consultations@{DEADLINE.astimezone(SHANGHAI).isoformat()}"
    jobs = [j for j in world.app.job_queue.jobs() if j.name and j.name.startswith("consultations@")]
    assert len(jobs) == 1, [j.name for j in jobs]
    (job,) = jobs
    assert datetime.fromisoformat(job.name.split("@", 1)[1]) == DEADLINE, name
    world.clock.set(DEADLINE)
    await job.run(world.app)  # what the JobQueue does at the job's time
    assert await state(world) == ("closed", "2026-12-31T15:59:59+00:00")


async def test_reminder_times_get_their_job_too(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await open_consultation(staff)
    three_days = datetime(2026, 12, 28, 9, 0, tzinfo=SHANGHAI)  # 09:00, 3 days before
    world.clock.set(three_days - timedelta(minutes=30))
    await world.crash_and_restart()
    (job,) = [
        j for j in world.app.job_queue.jobs() if j.name and j.name.startswith("consultations@")
    ]
    assert datetime.fromisoformat(job.name.split("@", 1)[1]) == three_days


async def test_opened_on_the_command_line_every_staff_member_is_told(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await add_staff(world, staff, person, 951)
    plan_text = "第一条　为了规范社区议事协商，制定本规定。\n第二条　本规定自公布之日起施行。"
    await world.services.consultations.open_from_file(
        plan_text.encode(), "规定.txt", title="社区议事协商规定（草案）", deadline="2026-12-31"
    )
    world.clock.set(DEADLINE)
    await world.services.consultations.run_due()
    assert [n["chat_id"] for n in await closed_notices(world)] == [ADMIN, 951]


# --- early, from /consult ----------------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_staff_close_one_early_after_a_confirm(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    creator = await staff_member(person, code)
    other = await add_staff(world, creator, person, 952)
    await invite_deputy(world, creator, person, 953, "王代表")
    await open_consultation(creator)
    await comment(world, 953, withdrawn=False)
    await comment(world, 953, withdrawn=True)  # withdrawn: not counted
    texts = world.services.i18n.texts("zh_CN")
    await other.send("/consult")
    line = texts(
        "consult.line_open",
        number=1,
        title=TITLE,
        deadline=texts.datetime(DEADLINE),
        comments="1",
    )
    assert line in other.last
    world.clock.advance(days=3)
    await other.tap(texts("consult.close_button", number=1))
    assert other.last == texts(
        "consult.close_confirm", title=TITLE, deadline=texts.datetime(DEADLINE), comments="1"
    )
    assert await state(world) == ("open", None)
    await other.tap(texts("nav.back"))  # changed their mind
    assert line in other.last and await state(world) == ("open", None)
    await other.tap(texts("consult.close_button", number=1))
    await other.tap(texts("consult.close_yes"))
    closed_at = world.clock.now()
    assert await state(world) == ("closed", closed_at.isoformat())
    assert texts("consult.closed_now", title=TITLE) in other.last
    assert (
        texts(
            "consult.line_closed",
            number=1,
            title=TITLE,
            closed=texts.datetime(closed_at),
            comments="1",
        )
        in other.last
    )
    assert texts("consult.report_of", number=1) in other.buttons()
    # the creator is told through the outbox; the one who closed it saw it already
    (notice,) = await closed_notices(world)
    assert notice["chat_id"] == ADMIN
    assert json.loads(str(notice["params"])) == {"title": TITLE, "invited": 1, "comments": 1}
    world.clock.set(DEADLINE)
    assert await world.services.consultations.run_due() == 0  # nothing left to close


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_closing_twice_or_an_unknown_one_is_refused(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await open_consultation(staff)
    await staff.tap_data(ConsultCloseConfirmed(consultation=1, page=0).pack())
    assert await state(world) != ("open", None)
    await staff.tap_data(ConsultCloseConfirmed(consultation=1, page=0).pack())
    assert staff.last == say(staff, "consult.already_closed")
    await staff.tap_data(ConsultClose(consultation=1, page=0).pack())
    assert staff.last == say(staff, "consult.already_closed")
    await staff.tap_data(ConsultClose(consultation=99, page=0).pack())
    assert staff.last == say(staff, "consult.unknown")


async def queued(world: World) -> list[tuple[int, str, int, str, str | None]]:
    """(chat, message, consultation, state, reason) of every consultation notice queued."""
    rows = await world.rows(
        "SELECT chat_id, message_key, params, state, reason FROM outbox"
        " WHERE message_key LIKE 'consult.%' AND message_key != 'consult.closed_notice'"
        " ORDER BY id"
    )
    return [
        (
            r["chat_id"],
            r["message_key"],
            json.loads(r["params"])["consultation"],
            r["state"],
            r["reason"],
        )
        for r in rows
    ]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_closing_early_withdraws_its_queued_reminders_and_prompts(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    deputy = await invite_deputy(world, staff, person, 961, "王代表", language_code=code)
    await open_consultation(staff)
    await open_consultation(staff)
    await world.outbox.drain()
    # down over the 3-day point: both reminders go late, at night, held until 07:00
    world.clock.set(datetime(2026, 12, 28, 23, 0, tzinfo=SHANGHAI))
    await world.crash_and_restart()
    assert await world.services.consultations.run_due() == 2
    # a third, opened in the quiet hours: its prompt is held too
    await open_consultation(staff)
    reminder = "consult.reminder_many"
    assert (await queued(world))[-3:] == [
        (961, reminder, 1, "queued", None),
        (961, reminder, 2, "queued", None),
        (961, "consult.prompt", 3, "queued", None),
    ]
    for number in (1, 3):
        await staff.send("/consult")
        await staff.tap(say(staff, "consult.close_button", number=number))
        await staff.tap(say(staff, "consult.close_yes"))
        assert say(staff, "consult.closed_now", title=TITLE) in staff.last
    assert (await queued(world))[-3:] == [
        (961, reminder, 1, "skipped", "withdrawn"),
        (961, reminder, 2, "queued", None),  # another consultation's: it still goes
        (961, "consult.prompt", 3, "skipped", "withdrawn"),
    ]
    world.clock.set(datetime(2026, 12, 29, 7, 0, tzinfo=SHANGHAI))
    await world.outbox.drain()
    reminded = [o.text for o in world.api.outputs if o.chat_id == deputy.id and "⏰" in o.text]
    assert len(reminded) == 1


async def test_at_its_deadline_its_prompts_still_queued_are_withdrawn(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await invite_deputy(world, staff, person, 971, "王代表")
    await onboard(person(972))
    await world.outbox.abort()  # a queue so long the prompts are still in it at the deadline
    await open_consultation(staff)
    world.clock.set(DEADLINE)
    assert await world.services.consultations.run_due() == 1
    assert [(c, state, reason) for c, _, _, state, reason in await queued(world)] == [
        (971, "skipped", "withdrawn"),
        (972, "skipped", "withdrawn"),
    ]


async def test_the_list_pages_open_ones_first(world: World, person: Callable[..., Person]) -> None:
    staff = await staff_member(person)
    for n, deadline in enumerate(["2027-03-31", "2027-01-31", "2027-02-28"] * 2):
        await open_consultation(staff, deadline=deadline)
        assert n + 1 == len(await world.rows("SELECT id FROM consultations"))
    await staff.tap_data(ConsultCloseConfirmed(consultation=6, page=0).pack())
    await staff.send("/consult")
    first_page = staff.last
    order = [first_page.index(f"#{n} ") for n in (2, 5, 3, 1, 4)]
    assert order == sorted(order)  # open ones, soonest deadline first
    assert "#6 " not in first_page
    await staff.tap(say(staff, "nav.next"))
    assert "#6 " in staff.last and say(staff, "consult.report_of", number=6) in staff.buttons()
