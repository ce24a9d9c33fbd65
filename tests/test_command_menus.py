"""Each person's own "/" menu: exactly the commands /help lists for their role, in their
language, set for their chat alone (no language code: it shows whatever their app's
language), whenever their role or language changes, and reset (removed: the per-language
voter menus show) when a role is removed. Menus go out through the outbox under its limits;
at start only the stale ones are set again."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.demo.botapi import Call
from bot.runtime.menus import commands_for, fingerprint, queue_stale_menus
from bot.services.privacy import NOTICE_VERSION
from storage.models import Role
from tests.support.faults import answer_fault
from tests.support.people import Person
from tests.support.scenarios import (
    ADMIN,
    LANGUAGES,
    agree,
    consented_admin,
    invite_deputy,
    onboard,
    only,
    say,
)
from tests.support.suggestion_seed import seed_department
from tests.support.world import World

MENU_CALLS = ("setMyCommands", "deleteMyCommands")
OTHER = {"zh_CN": ("en", "English"), "en": ("zh_CN", "中文")}  # the other language, its name


def app_language(person: Person) -> str:
    """The two-letter code Telegram looks a menu up by for this person's app."""
    return person.language_code[:2]


def listed(world: World, locale: str, role: Role) -> list[tuple[str, str]]:
    """A role's commands with their descriptions in `locale`."""
    texts = world.services.i18n.texts(locale)
    return [(name, texts(f"cmd.{name}")) for name in commands_for(role)]


def menu_of(person: Person, language: str | None = None) -> list[tuple[str, str]]:
    """The "/" menu this person sees (in their app's language unless said otherwise)."""
    return person.world.api.menu_for(person.id, language or app_language(person))


def scope_chat(params: dict[str, Any]) -> int | None:
    scope: Any = params.get("scope") or {}
    if isinstance(scope, str):
        scope = json.loads(scope)
    return scope.get("chat_id") if scope.get("type") == "chat" else None


def own_menu_calls(world: World, chat_id: int) -> list[Call]:
    """Every call that set or removed this chat's own menu."""
    return [
        c for c in world.api.calls if c.method in MENU_CALLS and scope_chat(c.params) == chat_id
    ]


def chat_menu_calls(world: World) -> list[Call]:
    return [c for c in world.api.calls if c.method in MENU_CALLS and scope_chat(c.params)]


def help_entries(person: Person, text: str) -> list[tuple[str, str]]:
    """/help's lines after its title, as (command, description)."""
    lines = text.split("\n")
    assert lines[0] == say(person, "help.title")
    entries = []
    for line in lines[1:]:
        command, _, description = line.partition(" — ")
        entries.append((command.removeprefix("/"), description))
    return entries


async def stored_menu(world: World, person: Person) -> str | None:
    menu: str | None = (await world.user_row(person.id))["menu"]
    return menu


async def pick_language(person: Person, name: str) -> None:
    await person.send("/language")
    await person.tap(name)


async def make_staff(admin: Person, someone: Person) -> None:
    await agree(someone)
    await admin.send(f"/staff add {someone.id}")
    assert (await someone.world.user_row(someone.id))["role"] == "staff"


async def make_liaison(world: World, admin: Person, liaison: Person) -> None:
    """Staff invite a liaison of 区交通委, who opens the link having agreed."""
    await seed_department(world, "区交通委")
    await admin.send(f"/invite liaison {liaison.first_name}")
    await admin.tap("区交通委")
    link = next(word for word in admin.last.split() if "start=lia_" in word)
    await agree(liaison)
    await liaison.send(f"/start {link.split('start=')[1]}")
    assert (await world.user_row(liaison.id))["role"] == "liaison"


# --- who has which menu ------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_voter_sees_the_voter_list_and_has_no_menu_of_their_own(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    voter = person(2001, "王芳", code)
    await onboard(voter)
    await world.outbox.drain()
    assert menu_of(voter) == listed(world, locale, Role.VOTER)
    assert help_entries(voter, only(await voter.send("/help")).text) == menu_of(voter)
    assert own_menu_calls(world, voter.id) == []
    assert await stored_menu(world, voter) is None


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_deputy_who_accepts_gets_the_deputy_list_of_help(
    world: World, person: Callable[..., Person], admin: Person, code: str, locale: str
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    await world.outbox.drain()
    assert menu_of(deputy) == listed(world, locale, Role.DEPUTY)
    assert ("mycode", say(deputy, "cmd.mycode")) in menu_of(deputy)
    assert help_entries(deputy, only(await deputy.send("/help")).text) == menu_of(deputy)
    # set for their chat alone, in their stored language whatever the app's language
    other = "en" if app_language(deputy) == "zh" else "zh"
    assert menu_of(deputy, other) == menu_of(deputy)
    assert [c.method for c in own_menu_calls(world, deputy.id)] == ["setMyCommands"]
    assert "language_code" not in own_menu_calls(world, deputy.id)[0].params
    # nobody else's menu changed: another voter still sees the voter list
    voter = person(2001, "王芳", code)
    assert menu_of(voter) == listed(world, locale, Role.VOTER)


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_granted_get_the_staff_list_and_lose_it_when_revoked(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    staff = person(1030, "工作人员", code)
    await make_staff(admin, staff)
    await world.outbox.drain()
    assert menu_of(staff) == listed(world, locale, Role.STAFF)
    assert help_entries(staff, only(await staff.send("/help")).text) == menu_of(staff)

    await admin.send(f"/staff remove {staff.id}")
    await world.outbox.drain()
    # a voter's again: no menu of their own, the voter list of their app's language
    assert menu_of(staff) == listed(world, locale, Role.VOTER)
    assert ("chat", staff.id, 0, "") not in world.api.menus
    assert own_menu_calls(world, staff.id)[-1].method == "deleteMyCommands"
    assert await stored_menu(world, staff) is None
    assert help_entries(staff, only(await staff.send("/help")).text) == menu_of(staff)


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_liaison_gets_the_liaison_list_then_loses_it_when_removed(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    liaison = person(6051, "王五", code)
    await make_liaison(world, admin, liaison)
    await world.outbox.drain()
    assert menu_of(liaison) == listed(world, locale, Role.LIAISON)
    assert ("assigned", say(liaison, "cmd.assigned")) in menu_of(liaison)

    await admin.send("/departments")
    await admin.tap(say(admin, "department.item_button", number=1, name="区交通委"))
    await admin.tap(say(admin, "department.remove_liaison", name="王五"))
    await admin.tap(say(admin, "department.remove_liaison_yes"))
    assert (await world.user_row(liaison.id))["role"] == "voter"
    await world.outbox.drain()
    assert menu_of(liaison) == listed(world, locale, Role.VOTER)
    assert ("chat", liaison.id, 0, "") not in world.api.menus
    assert await stored_menu(world, liaison) is None


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_deputy_who_switches_language_gets_the_menu_in_it(
    world: World, person: Callable[..., Person], admin: Person, code: str, locale: str
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    await world.outbox.drain()
    other, name = OTHER[locale]
    await pick_language(deputy, name)
    await world.outbox.drain()
    # whatever their app's language says
    assert menu_of(deputy) == listed(world, other, Role.DEPUTY)
    assert [c.method for c in own_menu_calls(world, deputy.id)] == ["setMyCommands"] * 2
    assert (await stored_menu(world, deputy) or "").startswith(f"deputy/{other}/")
    # the same language again: the row goes out, but the menu is as it should be: no call
    await pick_language(deputy, name)
    await world.outbox.drain()
    assert len(own_menu_calls(world, deputy.id)) == 2


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_voter_who_picked_a_language_has_it_until_they_are_forgotten(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    voter = person(2001, "王芳", code)
    await onboard(voter)
    other, name = OTHER[locale]
    await pick_language(voter, name)
    await world.outbox.drain()
    assert menu_of(voter) == listed(world, other, Role.VOTER)

    await voter.send("/forget")
    await voter.tap(world.text(other, "privacy.erase_button"))
    await world.outbox.drain()
    # the language is forgotten too: their app's language decides again
    assert menu_of(voter) == listed(world, locale, Role.VOTER)
    assert ("chat", voter.id, 0, "") not in world.api.menus
    assert own_menu_calls(world, voter.id)[-1].method == "deleteMyCommands"
    assert await stored_menu(world, voter) is None


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_no_menu_of_their_own_before_consent(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    newcomer = person(2002, "新人", code)
    _, name = OTHER[locale]
    await pick_language(newcomer, name)
    assert (await world.user_row(newcomer.id))["locale_chosen"] == 1
    await world.outbox.drain()
    assert own_menu_calls(world, newcomer.id) == []
    assert menu_of(newcomer) == listed(world, locale, Role.VOTER)
    # the admin too, before agreeing
    admin = Person(world, ADMIN, "管理员", code)
    await admin.send("/start")
    await world.outbox.drain()
    assert own_menu_calls(world, ADMIN) == []


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_agreeing_sets_the_menu_of_an_admin_and_of_a_language_picked_before(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    newcomer = person(2002, "新人", code)
    other, name = OTHER[locale]
    await pick_language(newcomer, name)
    await newcomer.send("/start")
    await newcomer.tap(world.text(other, "privacy.agree"))
    await world.outbox.drain()
    assert menu_of(admin) == listed(world, locale, Role.ADMIN)
    assert menu_of(newcomer) == listed(world, other, Role.VOTER)


# --- /help and the menu are one list ----------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_help_and_the_menu_list_the_same_commands_for_every_role(
    world: World, person: Callable[..., Person], role: Role, code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    someone = {
        Role.ADMIN: admin,
        Role.VOTER: person(2001, "王芳", code),
        Role.DEPUTY: person(3001, "张三", code),
        Role.STAFF: person(1030, "工作人员", code),
        Role.LIAISON: person(6051, "王五", code),
    }[role]
    if role == Role.VOTER:
        await onboard(someone)
    elif role == Role.DEPUTY:
        await invite_deputy(world, admin, person, someone.id, "张三", language_code=code)
    elif role == Role.STAFF:
        await make_staff(admin, someone)
    elif role == Role.LIAISON:
        await make_liaison(world, admin, someone)
    # their own language picked, so even a voter has a menu of their own
    await pick_language(someone, {"zh_CN": "中文", "en": "English"}[locale])
    await world.outbox.drain()

    menu = world.api.menus[("chat", someone.id, 0, "")]
    assert help_entries(someone, only(await someone.send("/help")).text) == menu
    assert [name for name, _ in menu] == list(commands_for(role))
    assert menu == listed(world, locale, role)
    assert menu_of(someone) == menu


# --- through the outbox, under its limits ------------------------------------------------------


async def test_a_menu_telegram_limits_waits_and_still_lands(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    staff = person(1030, "工作人员")
    await agree(staff)
    original = world.api._setMyCommands
    limited: list[dict[str, Any]] = []

    def too_many_once(params: dict[str, Any]) -> tuple[int, bytes]:
        if scope_chat(params) == staff.id and not limited:
            limited.append(params)
            return answer_fault("429:1")
        return original(params)

    world.api._setMyCommands = too_many_once  # type: ignore[method-assign]
    await admin.send(f"/staff add {staff.id}")
    await world.outbox.drain()
    assert limited and world.outbox.retry_afters == 1
    assert menu_of(staff) == listed(world, "zh_CN", Role.STAFF)
    rows = await world.rows(
        "SELECT state FROM outbox WHERE chat_id = ? AND sets_menu = 1", (staff.id,)
    )
    assert rows and {r["state"] for r in rows} == {"sent"}
    assert len(own_menu_calls(world, staff.id)) == 2  # the limited one and the one that landed


async def test_changes_in_a_row_queue_one_menu_per_chat(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    await world.outbox.drain()
    await world.outbox.stop()  # nothing goes out meanwhile
    for name in ("English", "中文", "English"):
        await pick_language(deputy, name)
    queued = await world.rows("SELECT chat_id FROM outbox WHERE sets_menu = 1 AND state = 'queued'")
    assert queued == [{"chat_id": deputy.id}]

    await world.crash_and_restart()
    await world.outbox.drain()
    calls = own_menu_calls(world, deputy.id)
    assert len(calls) == 2  # when they accepted, and once for the three switches
    assert menu_of(deputy) == listed(world, "en", Role.DEPUTY)


# --- at start --------------------------------------------------------------------------------


async def test_at_start_only_stale_menus_are_set_again(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    staff = person(1030, "工作人员", "en")
    await make_staff(admin, staff)
    chooser = person(2001, "王芳")
    await onboard(chooser)
    await pick_language(chooser, "English")
    plain = person(2002, "李雷", "en")
    await onboard(plain)
    await world.outbox.drain()
    people = (deputy.id, staff.id, chooser.id, plain.id)
    menu_rows = "SELECT id FROM outbox WHERE sets_menu = 1 AND chat_id IN (?, ?, ?, ?)"
    rows_before = await world.rows(menu_rows, people)
    calls_before = len(chat_menu_calls(world))

    await world.crash_and_restart()  # everyone up to date: no row, no call
    await world.outbox.drain()
    assert await world.rows(menu_rows, people) == rows_before
    assert [
        c for c in chat_menu_calls(world)[calls_before:] if scope_chat(c.params) in people
    ] == []

    # as an older release would have left it: the deputy list has changed since
    old = "deputy/zh_CN/000000000000"
    async with world.db.transaction() as tx:
        tx.defer("UPDATE users SET menu = ? WHERE telegram_id = ?", (old, deputy.id))
    before = len(world.api.calls)
    await world.crash_and_restart()
    await world.outbox.drain()
    again = [c for c in world.api.calls[before:] if c.method in MENU_CALLS and scope_chat(c.params)]
    assert [(c.method, scope_chat(c.params)) for c in again] == [("setMyCommands", deputy.id)]
    assert await stored_menu(world, deputy) == fingerprint(
        world.services.i18n.texts("zh_CN"), Role.DEPUTY
    )
    assert menu_of(deputy) == listed(world, "zh_CN", Role.DEPUTY)


async def test_at_start_thousands_of_plain_voters_cost_nothing(
    world: World, person: Callable[..., Person]
) -> None:
    async with world.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (telegram_id, role, locale, locale_chosen, consent_at,"
            " consent_version, created_at) VALUES (?, 'voter', ?, ?,"
            " '2026-11-01T00:00:00+00:00', ?, '2026-11-01T00:00:00+00:00')",
            [
                (100_000 + i, "en" if i % 2 else "zh_CN", int(i < 3), NOTICE_VERSION)
                for i in range(5000)
            ],
        )
    # the three who picked a language have no menu yet: theirs alone are queued
    assert await queue_stale_menus(world.services) == 3
    await world.outbox.drain()
    assert sorted(scope_chat(c.params) for c in chat_menu_calls(world)) == [
        100_000,
        100_001,
        100_002,
    ]

    before = len(world.api.calls)
    menu_rows = await world.rows("SELECT id FROM outbox WHERE sets_menu = 1")
    await world.crash_and_restart()
    await world.outbox.drain()
    assert await world.rows("SELECT id FROM outbox WHERE sets_menu = 1") == menu_rows
    assert [c for c in world.api.calls[before:] if scope_chat(c.params)] == []
    assert await queue_stale_menus(world.services) == 0


async def test_an_admin_taken_off_the_list_has_the_admin_menu_removed_at_start(
    world: World, person: Callable[..., Person]
) -> None:
    admin = await consented_admin(world)
    await world.crash_and_restart()  # an admin's menu missing is stale too
    await world.outbox.drain()
    assert menu_of(admin) == listed(world, "zh_CN", Role.ADMIN)

    world.settings = world.settings.model_copy(update={"admin_ids": [2]})
    await world.crash_and_restart()
    await world.outbox.drain()
    assert menu_of(admin) == listed(world, "zh_CN", Role.VOTER)
    assert ("chat", ADMIN, 0, "") not in world.api.menus
    assert await stored_menu(world, admin) is None
