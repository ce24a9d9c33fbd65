"""/assign: staff accept and assign (交办) a deputy's suggestion to a lead department (主办) and
any co-handling ones (协办), step by step; the lead deputy and confirmed co-signers, the
voters behind it and the departments' liaisons are told, and staff are reminded to record
the answer of a department without a liaison. After a department returns it (退办), staff
reassign it the same way and its deadline starts again (the loop's step 3). Every refusal
on the way says why: a lead also picked as co-handler, no lead, an inactive or unknown
department, a withdrawn suggestion, a double tap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot.runtime.buttons.assign import (
    AssignCo,
    AssignConfirm,
    AssignLead,
    AssignOpen,
    AssignReview,
    AssignStart,
)
from bot.services.outbox import Intent, NoticeButton
from storage.db import stamp
from tests.support.consultation_seed import add_user
from tests.support.inbox import Mail, notice, submit
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, consented_admin, invite_deputy, only, say
from tests.support.suggestion_seed import (
    seed_assignment,
    seed_department,
    seed_liaison,
    seed_suggestion,
)
from tests.support.world import SHANGHAI, World

pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

NUMBER = "JY2026-0001"
TITLE = "关于增设学院路公交站台遮雨棚的建议"
OPINION = "学院路公交站台没有遮雨棚，下雨天老人孩子候车都淋雨。"


@dataclass
class Loop:
    """Staff, the deputies and the voter of one suggestion, and the departments."""

    world: World
    admin: Person
    zhang: Person  # the lead deputy
    li: Person  # a confirmed co-signer
    wang: Person  # invited, never confirmed
    voter: Person
    transport: int  # 区交通委, liaison 交通联络员
    city: int  # 区城管委, liaison 城管联络员
    civil: int  # 区民政局, no liaison
    transport_liaison: Person
    city_liaison: Person
    suggestion: int
    mail: Mail


async def make_loop(world: World, person: Callable[..., Person], code: str) -> Loop:
    admin = await consented_admin(world, code)
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    await add_user(world, 3002, role="deputy", name="李四")
    await add_user(world, 3003, role="deputy", name="王五")
    voter = person(2001, "刘洋")
    await submit(voter, OPINION)
    transport = await seed_department(world, "区交通委")
    city = await seed_department(world, "区城管委")
    civil = await seed_department(world, "区民政局")
    await seed_liaison(world, 7001, transport, name="交通联络员")
    await seed_liaison(world, 7002, city, name="城管联络员", locale="en")
    suggestion = await seed_suggestion(
        world,
        zhang.id,
        title=TITLE,
        opinion_ids=[1],
        cosigners=[(3002, "confirmed"), (3003, "invited")],
    )
    mail = Mail(world)
    await mail.take()
    return Loop(
        world,
        admin,
        zhang,
        person(3002, "李四"),
        person(3003, "王五"),
        voter,
        transport,
        city,
        civil,
        person(7001, "交通联络员"),
        person(7002, "城管联络员", "en"),
        suggestion,
        mail,
    )


async def suggestion_row(world: World, suggestion_id: int = 1) -> dict[str, Any]:
    return (await world.rows("SELECT * FROM suggestions WHERE id = ?", (suggestion_id,)))[0]


async def assignment_rows(world: World) -> list[tuple[int, int, str]]:
    rows = await world.rows(
        "SELECT department_id, lead, state FROM suggestion_assignments ORDER BY id"
    )
    return [(r["department_id"], r["lead"], r["state"]) for r in rows]


async def events(world: World) -> list[tuple[str, str]]:
    rows = await world.rows("SELECT kind, note FROM suggestion_events ORDER BY id")
    return [(r["kind"], r["note"]) for r in rows]


def day(person: Person, value: date) -> str:
    """A calendar day as this person reads it (a deadline is told as its last day)."""
    locale = "zh_CN" if person.language_code.startswith("zh") else "en"
    return person.world.services.i18n.texts(locale).date(value)


def item(title: str = TITLE, number: str = NUMBER) -> str:
    """The queue's button of a suggestion."""
    return f"{number} {title[:23] + '…' if len(title) > 24 else title}"


async def open_card(admin: Person, title: str = TITLE) -> None:
    await admin.send("/assign")
    await admin.tap(item(title))


def alert(outputs: list[Any]) -> str:
    (reply,) = outputs
    assert reply.kind == "alert", reply
    return str(reply.text)


# --- 交办 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_assign_a_suggestion_and_everyone_concerned_hears(
    world: World, person, code: str, locale: str
) -> None:
    loop = await make_loop(world, person, code)
    admin = loop.admin

    reply = only(await admin.send("/assign"))
    assert say(admin, "assign.queue_title", new=1, returned=0, handling=0, overdue=0) in reply.text
    await admin.tap(item())
    card = admin.last
    assert card.startswith(f"<b>{NUMBER}</b>")
    assert "张三" in card and "李四" in card and "王五" not in card
    assert (
        say(
            admin, "assign.card_reason", text="学院路公交站台没有遮雨棚，雨天候车的老人和学生淋雨。"
        )
        in card
    )

    await admin.tap(say(admin, "assign.assign"))
    assert say(admin, "assign.ask_lead") in admin.last
    assert {"区交通委", "区城管委", "区民政局"} <= set(admin.buttons())
    await admin.tap("区交通委")
    assert say(admin, "assign.ask_co", lead="区交通委", co="—") in admin.last
    assert "区交通委" not in admin.buttons()  # the lead is no co-handler
    await admin.tap("区民政局")
    await admin.tap("区城管委")
    await admin.tap("✅ 区城管委")  # and off again
    assert say(admin, "assign.ask_co", lead="区交通委", co="区民政局") in admin.last
    assert await world.conversation_state("suggestion_assign", admin.id) == "co"
    await admin.tap(say(admin, "assign.review"))
    now = world.clock.now()
    due = datetime(2027, 2, 27, tzinfo=SHANGHAI)  # three months on, the end of that day
    last = date(2027, 2, 26)  # the deadline's last day, as people are told it
    due_day = day(admin, last)
    preview = admin.last
    assert say(admin, "assign.preview", lead="区交通委", co="区民政局", due=due_day) in preview
    assert say(admin, "assign.preview_no_liaison", departments="区民政局") in preview
    assert (
        await suggestion_row(world) | {} and (await suggestion_row(world))["state"] == "submitted"
    )

    await admin.tap(say(admin, "assign.confirm"))
    done = admin.last
    assert done.startswith(
        say(admin, "assign.done", number=NUMBER, lead="区交通委", co="区民政局", due=due_day)
    )
    assert say(admin, "assign.done_no_liaison", departments="区民政局") in done
    assert say(admin, "assign.record_answer") in admin.buttons()
    row = await suggestion_row(world)
    assert row["state"] == "assigned"
    assert datetime.fromisoformat(row["due_at"]) == due
    assert datetime.fromisoformat(row["assigned_at"]) > now - timedelta(seconds=5)
    assert row["first_assigned_at"] == row["assigned_at"]
    assert await assignment_rows(world) == [
        (loop.transport, 1, "active"),
        (loop.civil, 0, "active"),
    ]
    assert await events(world) == [("assigned", "区交通委、区民政局")]
    assert await world.conversation_state("suggestion_assign", admin.id) is None

    about = {"number": NUMBER, "title": TITLE}
    told = await loop.mail.take()
    assert sorted(told) == sorted(
        [
            notice(
                loop.zhang,
                "assign.notice_deputy",
                **about,
                lead="区交通委",
                co="区民政局",
                due_on=day(loop.zhang, last),
            ),
            notice(
                loop.li,
                "assign.notice_deputy",
                **about,
                lead="区交通委",
                co="区民政局",
                due_on=day(loop.li, last),
            ),
            notice(
                loop.voter,
                "assign.notice_voters",
                **about,
                department="区交通委",
                due_on=day(loop.voter, last),
            ),
            notice(
                loop.transport_liaison,
                "assign.notice_liaison",
                **about,
                department="区交通委",
                role=say(loop.transport_liaison, "assign.role_lead"),
                due_on=day(loop.transport_liaison, last),
            ),
        ]
    )
    assert (
        say(loop.transport_liaison, "assign.open_assignment")
        in world.api.chat_messages(loop.transport_liaison.id)[-1]["reply_markup"][
            "inline_keyboard"
        ][0][0]["text"]
    )

    # a double tap of the confirmation (or the old message's button) assigns nothing twice
    before = await world.snapshot()
    refused = alert(await admin.tap_data(AssignConfirm(suggestion=loop.suggestion).pack()))
    assert refused == say(admin, "assign.refused_assigned", number=NUMBER)
    refused = alert(await admin.tap_data(AssignStart(suggestion=loop.suggestion).pack()))
    assert refused == say(admin, "assign.refused_assigned", number=NUMBER)
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_wrong_picks_are_refused_at_their_step(
    world: World, person, code: str, locale: str
) -> None:
    loop = await make_loop(world, person, code)
    admin = loop.admin
    inactive = await seed_department(world, "区已撤销办")
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE departments SET active = 0 WHERE id = ?", (inactive,))
    await open_card(admin)
    await admin.tap(say(admin, "assign.assign"))
    assert "区已撤销办" not in admin.buttons()

    assert alert(await admin.tap_data(AssignReview().pack())) == say(admin, "assign.no_lead")
    assert alert(await admin.tap_data(AssignLead(department=inactive).pack())) == say(
        admin, "department.inactive", name="区已撤销办"
    )
    assert alert(await admin.tap_data(AssignLead(department=999).pack())) == say(
        admin, "department.unknown"
    )
    assert alert(await admin.tap_data("jal:abc")) == say(admin, "error.stale_button")
    assert only(await admin.send("区交通委")).text == say(admin, "assign.use_buttons")
    await admin.tap("区交通委")
    assert alert(await admin.tap_data(AssignCo(department=loop.transport, page=0).pack())) == say(
        admin, "assign.lead_not_co", name="区交通委"
    )
    assert alert(await admin.tap_data(AssignCo(department=inactive, page=0).pack())) == say(
        admin, "department.inactive", name="区已撤销办"
    )
    assert alert(await admin.tap_data(AssignConfirm(suggestion=loop.suggestion).pack())) == say(
        admin, "error.stale_button"
    )
    assert only(await admin.send("/assign")).text == say(admin, "assign.in_progress")
    # a department deactivated while staff confirm: refused, the step stays to pick again
    await admin.tap(say(admin, "assign.review"))
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE departments SET active = 0 WHERE id = ?", (loop.transport,))
    assert alert(await admin.tap(say(admin, "assign.confirm"))) == say(
        admin, "department.inactive", name="区交通委"
    )
    assert await world.conversation_state("suggestion_assign", admin.id) == "confirm"
    # the confirmation of another suggestion's preview: stale, and the step stays
    stale = alert(await admin.tap_data(AssignConfirm(suggestion=99).pack()))
    assert stale == say(admin, "error.stale_button")
    assert await world.conversation_state("suggestion_assign", admin.id) == "confirm"
    assert (await suggestion_row(world))["state"] == "submitted"
    await admin.tap(say(admin, "assign.back_to_co"))
    await admin.tap(say(admin, "assign.change_lead"))
    await admin.tap("区城管委")
    await admin.tap(say(admin, "assign.review"))
    await admin.tap(say(admin, "assign.confirm"))
    assert await assignment_rows(world) == [(loop.city, 1, "active")]


async def test_a_suggestion_withdrawn_meanwhile_cannot_be_assigned(world: World, person) -> None:
    loop = await make_loop(world, person, "zh-hans")
    admin = loop.admin
    await open_card(admin)
    await admin.tap(say(admin, "assign.assign"))
    await admin.tap("区交通委")
    await admin.tap(say(admin, "assign.review"))
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = 'withdrawn' WHERE id = 1")
    before = await world.snapshot()
    refused = alert(await admin.tap(say(admin, "assign.confirm")))
    assert refused == say(admin, "assign.refused_withdrawn", number=NUMBER)
    # the conversation is over: its state and draft went, nothing else changed
    assert await world.conversation_state("suggestion_assign", admin.id) is None
    after = await world.snapshot()
    assert {k: v for k, v in after.items() if k not in ("drafts", "conversation_states")} == {
        k: v for k, v in before.items() if k not in ("drafts", "conversation_states")
    }
    assert alert(await admin.tap_data(AssignStart(suggestion=1).pack())) == say(
        admin, "assign.refused_withdrawn", number=NUMBER
    )
    assert await loop.mail.take() == []


async def test_cancel_and_a_restart_in_the_middle(world: World, person) -> None:
    loop = await make_loop(world, person, "en")
    admin = loop.admin
    await open_card(admin)
    await admin.tap(say(admin, "assign.assign"))
    await admin.tap("区交通委")
    await admin.tap("区民政局")
    await world.crash_and_restart()
    await admin.tap(say(admin, "assign.review"))
    assert "区民政局" in admin.last
    await admin.tap(say(admin, "assign.cancel"))
    assert admin.last == say(admin, "assign.cancelled")
    assert await world.conversation_state("suggestion_assign", admin.id) is None
    assert (await suggestion_row(world))["state"] == "submitted"
    assert await assignment_rows(world) == []


# --- 退办 and reassignment: the loop's step 3 --------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_returned_suggestion_is_reassigned_and_its_deadline_starts_again(
    world: World, person, code: str, locale: str
) -> None:
    loop = await make_loop(world, person, code)
    admin = loop.admin
    await open_card(admin)
    await admin.tap(say(admin, "assign.assign"))
    await admin.tap("区交通委")
    await admin.tap("区城管委")
    await admin.tap(say(admin, "assign.review"))
    await admin.tap(say(admin, "assign.confirm"))
    first = await suggestion_row(world)
    await loop.mail.take()

    # 区交通委 returns it within its days, proposing 区民政局 (as the answers' step leaves it)
    world.clock.advance(days=3)
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestion_assignments SET state = 'returned', return_reason = ?,"
            " proposed_department = ?, returned_at = ? WHERE department_id = ?",
            (
                "站台属民政局养老驿站改造范围",
                "区民政局",
                world.clock.now().isoformat(),
                loop.transport,
            ),
        )
        await tx.execute("UPDATE suggestions SET state = 'returned' WHERE id = 1")
        await world.services.outbox.notify(
            tx,
            admin.id,
            "assign.alert_overdue",  # any staff alert: its button is what is tested here
            buttons=[
                [
                    NoticeButton(
                        label="assign.review_button", intent=Intent.REVIEW_SUGGESTION, target=1
                    )
                ]
            ],
            number=NUMBER,
            title=TITLE,
            departments="区交通委",
            due_on="2027-02-26",
        )
    await loop.mail.take()

    # the staff alert's button opens the card below it, in the 退办 part
    await admin.tap(say(admin, "assign.review_button"))
    card = admin.last
    assert (
        say(
            admin,
            "assign.card_returned",
            reason="站台属民政局养老驿站改造范围",
            proposed="区民政局",
        )
        in card
    )
    assert say(admin, "assign.reassign") in admin.seen[-1].buttons()
    assert say(admin, "assign.decline") not in admin.seen[-1].buttons()
    reply = only(await admin.send("/assign"))
    assert say(admin, "assign.queue_title", new=0, returned=1, handling=0, overdue=0) in reply.text

    world.clock.advance(days=2)
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_returned"), count=1, mark="")
    )
    await admin.tap(item())
    await admin.tap(say(admin, "assign.reassign"))
    await admin.tap("区民政局")
    await admin.tap(say(admin, "assign.review"))
    assert say(admin, "assign.preview_reassign") in admin.last
    await admin.tap(say(admin, "assign.confirm"))

    row = await suggestion_row(world)
    assert row["state"] == "assigned"
    assert row["first_assigned_at"] == first["assigned_at"]
    assert row["assigned_at"] > first["assigned_at"]
    # due three months from the reassignment (2026-12-01), not from the first 交办
    assert datetime.fromisoformat(row["due_at"]) == datetime(2027, 3, 2, tzinfo=SHANGHAI)
    assert await assignment_rows(world) == [
        (loop.transport, 1, "returned"),
        (loop.city, 0, "ended"),
        (loop.civil, 1, "active"),
    ]
    assert [kind for kind, _ in await events(world)] == ["assigned", "reassigned"]
    told = dict(await loop.mail.take())
    assert told[loop.city_liaison.id] == say(
        loop.city_liaison, "assign.notice_ended", number=NUMBER, title=TITLE
    )
    assert loop.transport_liaison.id not in told  # its return ended its part already
    assert loop.zhang.id in told and loop.voter.id in told


# --- the queue -------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_the_queue_lists_each_part_overdue_first_and_priority_marked(
    world: World, person, code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    await add_user(world, 3001, role="deputy", name="张三")
    department = await seed_department(world, "区交通委")
    late = await seed_suggestion(world, 3001, title="迟到的建议")
    soon = await seed_suggestion(world, 3001, title="快到期的建议")
    await seed_suggestion(world, 3001, title="新来的建议")
    await seed_assignment(world, late, department, due_at=datetime(2026, 11, 20, tzinfo=SHANGHAI))
    await seed_assignment(world, soon, department, due_at=datetime(2026, 12, 20, tzinfo=SHANGHAI))
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET priority = 1 WHERE id = ?", (soon,))

    reply = only(await admin.send("/assign"))
    assert say(admin, "assign.queue_title", new=1, returned=0, handling=2, overdue=1) in reply.text
    assert "新来的建议" in reply.text and "迟到的建议" not in reply.text
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_handling"), count=2, mark="")
    )
    listing = admin.last
    assert listing.index("迟到的建议") < listing.index("快到期的建议")
    assert say(admin, "assign.priority_mark") + "<b>JY2026-0002</b>" in listing
    texts = world.services.i18n.texts(locale)
    overdue_day = texts.date(date(2026, 11, 19))  # the last day of a deadline at 11-20 00:00
    assert say(admin, "assign.queue_overdue", due=overdue_day) in listing
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_returned"), count=0, mark="")
    )
    assert say(admin, "assign.queue_empty") in admin.last


# --- who may, and forged buttons -------------------------------------------------------------


@pytest.mark.parametrize("role", ["voter", "deputy", "liaison"])
async def test_only_staff_assign(world: World, person, role: str) -> None:
    loop = await make_loop(world, person, "en")
    someone = {"voter": loop.voter, "deputy": loop.zhang, "liaison": loop.transport_liaison}[role]
    forbidden = say(someone, "error.forbidden")
    assert only(await someone.send("/assign")).text == forbidden
    before = await world.snapshot()
    for data in [
        "jaq:new:0",
        "jao:1:0:0",
        "jas:1",
        "jad:1",
        "jap:1:1",
        "jae:1",
        "jaeg:1",
        "jaer:1",
        "jay:1",
        "jady:1",
    ]:
        assert alert(await someone.tap_data(data)) == forbidden, data
    assert await world.snapshot() == before


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ("jao:99:0:0", "suggestion.unknown"),
        ("jas:99", "suggestion.unknown"),
        ("jad:99", "suggestion.unknown"),
        ("jap:99:1", "suggestion.unknown"),
        ("jae:99", "suggestion.unknown"),
        ("jay:99", "suggestion.unknown"),
        ("jao:0:0:0", "error.stale_button"),
        ("jaq:old:0", "error.stale_button"),
        ("jap:1:2", "error.stale_button"),
        ("jac:1:0", "error.stale_button"),
    ],
)
async def test_forged_buttons_change_nothing(world: World, person, data: str, key: str) -> None:
    loop = await make_loop(world, person, "en")
    await loop.admin.send("/assign")
    before = await world.snapshot()
    assert alert(await loop.admin.tap_data(data)) == say(loop.admin, key)
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_card_full_of_markup_characters_stays_one_message(
    world: World, person, code: str, locale: str
) -> None:
    """Twelve rounds returned with reasons full of '&' (five characters once escaped), the
    longest texts a deputy may type, a long trail: the card is clipped before it is escaped,
    never cut inside an entity, keeps the newest rows and fits one message."""
    admin = await consented_admin(world, code)
    await add_user(world, 3001, role="deputy", name="&" * 30)
    suggestion = await seed_suggestion(
        world, 3001, title="&" * 60, reason="&" * 1500, proposals="<>" * 750
    )
    departments = [await seed_department(world, f"部门{n:02d}&") for n in range(1, 13)]
    async with world.db.transaction() as tx:
        for n, department in enumerate(departments):
            at = world.clock.now() - timedelta(days=40 - n)
            await tx.execute(
                "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead, state,"
                " assigned_at, return_reason, proposed_department, returned_at)"
                " VALUES (?, ?, 1, 'returned', ?, ?, ?, ?)",
                (suggestion, department, stamp(at), "&" * 500, "&" * 40, stamp(at)),
            )
            await tx.execute(
                "INSERT INTO suggestion_events (suggestion_id, at, kind, note)"
                " VALUES (?, ?, 'returned', ?)",
                (suggestion, stamp(at), "&" * 500),
            )
        await tx.execute("UPDATE suggestions SET state = 'returned' WHERE id = ?", (suggestion,))

    await admin.tap_data(AssignOpen(suggestion=suggestion, page=0).pack())
    card = admin.last  # the fake Telegram parsed it: no entity cut in two
    assert card.startswith(f"<b>{NUMBER}</b>")
    assert len(card) <= 4096
    assert "部门12&amp;" in card  # the newest round is kept
    assert "部门01&amp;" not in card  # the oldest gave way
    assert say(admin, "assign.reassign") in admin.buttons()
    # every escaped text ends whole: an '&' is always the start of '&amp;'
    assert card.count("&") == card.count("&amp;") + card.count("&lt;") + card.count("&gt;")


async def test_returned_suggestions_wait_in_the_order_they_were_returned(
    world: World, person
) -> None:
    admin = await consented_admin(world, "en")
    await add_user(world, 3001, role="deputy", name="张三")
    department = await seed_department(world, "区交通委")
    first = await seed_suggestion(world, 3001, title="先退办的建议")
    later = await seed_suggestion(world, 3001, title="后退办的建议")
    now = world.clock.now()
    for suggestion in (first, later):
        await seed_assignment(world, suggestion, department, at=now - timedelta(days=10))
    async with world.db.transaction() as tx:
        for suggestion, returned, touched in ((first, 3, 0), (later, 1, 2)):
            await tx.execute(
                "UPDATE suggestion_assignments SET state = 'returned', returned_at = ?"
                " WHERE suggestion_id = ?",
                (stamp(now - timedelta(days=returned)), suggestion),
            )
            # the one returned first was touched last (an edit of its flags, say)
            await tx.execute(
                "UPDATE suggestions SET state = 'returned', updated_at = ? WHERE id = ?",
                (stamp(now - timedelta(hours=touched)), suggestion),
            )
    await admin.send("/assign")
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_returned"), count=2, mark="")
    )
    listing = admin.last
    assert listing.index("先退办的建议") < listing.index("后退办的建议")
