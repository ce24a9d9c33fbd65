"""A department's liaison (承办单位联络员) is invited like a deputy: staff send
`/invite liaison NAME` (or `/invite 联络员 NAME`), pick the department from the active ones,
and get a one-time link `?start=lia_<code>`; opening it makes the account a liaison of that
department. `/invite NAME` still invites a deputy. A used, expired or unknown link, an
inactive department, and staff, admin or deputy accounts are refused, each saying why. Staff
remove a liaison from the department's card: the account is a voter's again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.demo.botapi import BOT_USERNAME
from bot.runtime.buttons.assigned import AnswerStart
from bot.runtime.buttons.departments import (
    LiaisonDepartment,
    LiaisonDepartments,
    LiaisonRemoveConfirm,
)
from bot.services.invitations import MAX_NAME
from tests.support.consultation_seed import add_user
from tests.support.inbox import Mail, notice
from tests.support.people import Person
from tests.support.scenarios import (
    INVITE_LINK,
    LANGUAGES,
    agree,
    consented_admin,
    invite_deputy,
    onboard,
    only,
    say,
)
from tests.support.suggestion_seed import seed_assignment, seed_department, seed_suggestion
from tests.support.world import World

LIAISON_LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=lia_([A-Za-z0-9_-]+)")


async def invite_liaison(
    admin: Person, name: str, department: str, role_word: str = "liaison"
) -> str:
    """Staff's /invite liaison NAME → the department; returns the link's code."""
    await admin.send(f"/invite {role_word} {name}")
    await admin.tap(department)
    match = LIAISON_LINK.search(admin.last)
    assert match, admin.last
    return match.group(1)


async def role_of(world: World, user_id: int) -> str:
    return str((await world.user_row(user_id))["role"])


async def liaisons(world: World) -> list[tuple[int, int, str]]:
    rows = await world.rows("SELECT user_id, department_id, name FROM department_liaisons")
    return [(r["user_id"], r["department_id"], r["name"]) for r in rows]


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_invite_a_liaison_who_opens_the_link_once(
    world: World, person, code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    transport = await seed_department(world, "区交通委")
    await seed_department(world, "区民政局")

    reply = only(await admin.send("/invite liaison 王五"))
    assert reply.text == say(admin, "liaison.choose_department", name="王五")
    assert reply.buttons() == ["区交通委", "区民政局"]
    created_at = world.clock.now() + timedelta(seconds=1)
    await admin.tap("区交通委")
    match = LIAISON_LINK.search(admin.last)
    assert match, admin.last
    link_code = match.group(1)
    texts = world.services.i18n.texts(locale)
    assert admin.last == say(
        admin,
        "liaison.created",
        name="王五",
        department="区交通委",
        link=f"https://t.me/{BOT_USERNAME}?start=lia_{link_code}",
        expires=texts.datetime(created_at + timedelta(days=7)),
    )
    (row,) = await world.rows("SELECT * FROM liaison_invitations")
    assert (row["code"], row["name"], row["department_id"], row["used_by"]) == (
        link_code,
        "王五",
        transport,
        None,
    )

    # opened before consent: it works once the privacy notice is agreed to
    liaison: Person = person(6001, "Wang Wu", code)
    reply = only(await liaison.send(f"/start lia_{link_code}"))
    assert say(liaison, "privacy.notice") in reply.text
    assert await role_of(world, 6001) == "voter"
    out = await liaison.tap(say(liaison, "privacy.agree"))
    assert out[-1].text == say(liaison, "liaison.accepted", name="王五", department="区交通委")
    assert await role_of(world, 6001) == "liaison"
    assert await liaisons(world) == [(6001, transport, "王五")]
    (row,) = await world.rows("SELECT * FROM liaison_invitations")
    assert row["used_by"] == 6001
    assert "/assigned" in only(await liaison.send("/help")).text

    # used: refused to everyone, nothing changes
    other: Person = person(6002, "路人", code)
    await agree(other)
    before = await world.snapshot()
    used = say(other, "invite.used")
    assert only(await other.send(f"/start lia_{link_code}")).text == used
    assert only(await liaison.send(f"/start lia_{link_code}")).text == used
    assert await world.snapshot() == before


async def test_the_chinese_role_word_and_the_deputy_invitation_still_work(
    world: World, person
) -> None:
    admin = await consented_admin(world)
    department = await seed_department(world, "区民政局")
    code = await invite_liaison(admin, "赵六", "区民政局", role_word="联络员")
    liaison: Person = person(6011, "赵六")
    await agree(liaison)
    await liaison.send(f"/start lia_{code}")
    assert await liaisons(world) == [(6011, department, "赵六")]
    # /invite NAME, and /invite 代表 NAME, invite deputies as before
    await invite_deputy(world, admin, person, 3001, "张三")
    await admin.send("/invite 代表 李四")
    await admin.tap("学院路街道")
    await admin.tap("学院路第一联络站")
    assert INVITE_LINK.search(admin.last)


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_late_or_wrong_link_is_refused(
    world: World, person, code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    await seed_department(world, "区交通委")
    link_code = await invite_liaison(admin, "王五", "区交通委")
    late: Person = person(6021, "王五", code)
    await agree(late)
    world.clock.advance(days=8)
    before = await world.snapshot()
    assert only(await late.send(f"/start lia_{link_code}")).text == say(late, "invite.expired")
    for payload in ("lia_NoSuchCode123456", "lia_x"):
        assert only(await late.send(f"/start {payload}")).text == say(late, "invite.unknown")
    assert await world.snapshot() == before
    assert await role_of(world, 6021) == "voter"


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_deputies_and_staff_cannot_become_liaisons(
    world: World, person, code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    await seed_department(world, "区交通委")
    deputy = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    link_code = await invite_liaison(admin, "王五", "区交通委")
    before = await world.snapshot()
    reply = only(await deputy.send(f"/start lia_{link_code}"))
    assert reply.text == say(deputy, "liaison.deputy_cannot_accept")
    reply = only(await admin.send(f"/start lia_{link_code}"))
    assert reply.text == say(admin, "liaison.staff_cannot_accept")
    assert await world.snapshot() == before
    # and a liaison cannot take a deputy's invitation
    liaison: Person = person(6031, "王五", code)
    await agree(liaison)
    await liaison.send(f"/start lia_{link_code}")
    assert await role_of(world, 6031) == "liaison"
    await admin.send("/invite 李四")
    await admin.tap("学院路街道")
    await admin.tap("学院路第一联络站")
    match = INVITE_LINK.search(admin.last)
    assert match
    reply = only(await liaison.send(f"/start inv_{match.group(1)}"))
    assert reply.text == say(liaison, "invite.liaison_cannot_accept")
    assert await role_of(world, 6031) == "liaison"


async def test_a_link_to_a_department_deactivated_since_is_refused(world: World, person) -> None:
    admin = await consented_admin(world, "en")
    department = await seed_department(world, "区交通委")
    link_code = await invite_liaison(admin, "王五", "区交通委")
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE departments SET active = 0 WHERE id = ?", (department,))
    liaison: Person = person(6041, "王五", "en")
    await agree(liaison)
    before = await world.snapshot()
    reply = only(await liaison.send(f"/start lia_{link_code}"))
    assert reply.text == say(liaison, "liaison.department_inactive", name="区交通委")
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_bad_invitations_of_a_liaison_are_refused(
    world: World, person, code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    assert only(await admin.send("/invite liaison 王五")).text == say(
        admin, "liaison.no_departments"
    )
    active = await seed_department(world, "区交通委")
    inactive = await seed_department(world, "区民政局")
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE departments SET active = 0 WHERE id = ?", (inactive,))
    assert only(await admin.send("/invite liaison")).text == say(admin, "liaison.usage")
    assert only(await admin.send("/invite 联络员 \u200b")).text == say(admin, "liaison.name_empty")
    too_long = only(await admin.send(f"/invite liaison {'王' * (MAX_NAME + 1)}")).text
    assert too_long == say(admin, "liaison.name_too_long", maximum=MAX_NAME, count=MAX_NAME + 1)
    reply = only(await admin.send("/invite liaison 王五"))
    assert reply.buttons() == ["区交通委"]  # the inactive one is not offered
    before = await world.snapshot()
    for data, key, params in (
        (
            LiaisonDepartment(department=inactive).pack(),
            "department.inactive",
            {"name": "区民政局"},
        ),
        (LiaisonDepartment(department=999).pack(), "department.unknown", {}),
        ("dpi:0", "error.stale_button", {}),
        ("dpip:x", "error.stale_button", {}),
    ):
        reply = only(await admin.tap_data(data))
        assert (reply.kind, reply.text) == ("alert", say(admin, key, **params)), data
    assert await world.snapshot() == before
    # the name is kept until a department is picked
    assert LIAISON_LINK.search(only(await admin.tap("区交通委")).text)
    made = await world.rows("SELECT name, department_id FROM liaison_invitations")
    assert made == [{"name": "王五", "department_id": active}]


async def test_a_department_button_without_a_pending_name_explains_usage(world: World) -> None:
    admin = await consented_admin(world)
    department = await seed_department(world, "区交通委")
    for data in (LiaisonDepartment(department=department), LiaisonDepartments(page=0)):
        reply = only(await admin.tap_data(data.pack()))
        assert (reply.kind, reply.text) == ("alert", say(admin, "liaison.usage"))


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_voters_and_liaisons_cannot_invite(
    world: World, person, code: str, locale: str
) -> None:
    department = await seed_department(world, "区交通委")
    voter: Person = person(5001, "选民", code)
    await onboard(voter)
    before = await world.snapshot()
    assert only(await voter.send("/invite liaison 王五")).text == say(voter, "error.forbidden")
    reply = only(await voter.tap_data(LiaisonDepartment(department=department).pack()))
    assert (reply.kind, reply.text) == ("alert", say(voter, "error.forbidden"))
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_remove_a_liaison_whose_answer_in_progress_ends(
    world: World, person, code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    transport = await seed_department(world, "区交通委")
    link_code = await invite_liaison(admin, "王五", "区交通委")
    liaison: Person = person(6051, "Wang Wu", code)
    await agree(liaison)
    await liaison.send(f"/start lia_{link_code}")
    await add_user(world, 3001, role="deputy", name="张三")
    suggestion = await seed_suggestion(world, 3001)
    await seed_assignment(world, suggestion, transport)
    await liaison.tap_data(AnswerStart(suggestion=suggestion).pack())
    assert await world.conversation_state("suggestion_answer", liaison.id) == "class"
    mail = Mail(world)
    await mail.take()

    await admin.send("/departments")
    await admin.tap(say(admin, "department.item_button", number=1, name="区交通委"))
    await admin.tap(say(admin, "department.remove_liaison", name="王五"))
    assert admin.last == say(
        admin, "department.confirm_remove_liaison", name="王五", department="区交通委"
    )
    assert await role_of(world, liaison.id) == "liaison"  # nothing yet: it asks first
    await admin.tap(say(admin, "department.remove_liaison_yes"))
    assert admin.last.startswith(say(admin, "department.liaison_removed", name="王五"))
    assert say(admin, "department.no_liaisons") in admin.last
    assert await role_of(world, liaison.id) == "voter"
    assert await liaisons(world) == []
    assert await mail.take() == [
        notice(liaison, "department.notice_liaison_removed", department="区交通委")
    ]
    # the answer they had begun ends at their next step, as for any role lost
    await liaison.tap(say(liaison, "answers.cancel"))
    assert liaison.last == say(liaison, "conversation.role_lost")
    assert await world.conversation_state("suggestion_answer", liaison.id) is None
    assert only(await liaison.send("/assigned")).text == say(liaison, "error.forbidden")
    # the old confirmation tapped again: they are no liaison of it any more
    again = only(
        await admin.tap_data(
            LiaisonRemoveConfirm(department=transport, liaison=liaison.id, page=0).pack()
        )
    )
    assert (again.kind, again.text) == (
        "alert",
        say(admin, "department.no_such_liaison", name="区交通委"),
    )
