"""Each person's own "/" menu: exactly the commands /help lists for their role, in their
language, set for their chat alone (no language code: it shows whatever their app's
language), whenever their role or language changes, and reset (removed: the per-language
voter menus show) when a role is removed. Menus go out through the outbox under its limits;
at start only the stale ones are set again."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.access import FORGET_REFUSALS
from bot.demo.botapi import Call
from bot.runtime.dispatcher import IDLE_POLL_SECONDS
from bot.runtime.menus import fingerprint, queue_stale_menus
from bot.services.privacy import NOTICE_VERSION
from handlers import commands
from storage.models import Role
from storage.repos.outbox import OutboxRepo
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


# Each role's list, written out (not rebuilt from bot.runtime.menus, so a command added to
# or dropped from a role's list shows here). Only a voter may be forgotten: no /forget in
# any role holder's list.
EVERYONE = [
    "opinion",
    "my",
    "schedule",
    "consultations",
    "projects",
    "station",
    "notices",
    "language",
    "privacy",
    "mydata",
]
STAFF_LIST = [
    *EVERYONE,
    "help",
    "cancel",
    "opinions",
    "inbox",
    "duty",
    "broadcast",
    "broadcasts",
    "invite",
    "consult",
    "ballots",
    "assign",
    "departments",
    "ledger",
    "stats",
    "accounts",
    "desk",
]
EXPECTED: dict[Role, list[str]] = {
    Role.VOTER: [*EVERYONE, "forget", "help", "cancel"],
    Role.DEPUTY: [
        *EVERYONE,
        "help",
        "cancel",
        "inbox",
        "visit",
        "visits",
        "calendar",
        "ballot",
        "suggest",
        "suggestions",
        "account",
        "mycode",
    ],
    Role.STAFF: STAFF_LIST,
    Role.ADMIN: [*STAFF_LIST, "staff"],
    Role.LIAISON: [*EVERYONE, "help", "cancel", "assigned"],
}


def listed(world: World, locale: str, role: Role) -> list[tuple[str, str]]:
    """A role's commands with their descriptions in `locale`."""
    texts = world.services.i18n.texts(locale)
    return [(name, texts(f"cmd.{name}")) for name in EXPECTED[role]]


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


async def someone_of(world: World, person: Callable[..., Person], role: Role, code: str) -> Person:
    """A consented person of `role` (the admin is the one of the settings)."""
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
    return someone


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
    someone = await someone_of(world, person, role, code)
    # their own language picked, so even a voter has a menu of their own
    await pick_language(someone, {"zh_CN": "中文", "en": "English"}[locale])
    await world.outbox.drain()

    menu = world.api.menus[("chat", someone.id, 0, "")]
    assert help_entries(someone, only(await someone.send("/help")).text) == menu
    assert [name for name, _ in menu] == EXPECTED[role]
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


# --- every command of a menu answers its role -------------------------------------------------


def refusals(someone: Person) -> set[str]:
    """What a person is told when their role may not do something."""
    return {say(someone, "error.forbidden"), *(say(someone, k) for k in FORGET_REFUSALS.values())}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_every_command_of_a_menu_answers_its_role_without_a_refusal(
    world: World,
    person: Callable[..., Person],
    caplog: pytest.LogCaptureFixture,
    role: Role,
    code: str,
    locale: str,
) -> None:
    someone = await someone_of(world, person, role, code)
    await world.outbox.drain()
    assert [name for name, _ in menu_of(someone)] == EXPECTED[role]
    with caplog.at_level(logging.WARNING, logger="handlers.common"):
        for name in EXPECTED[role]:
            answer = [o.text for o in await someone.send(f"/{name}")]
            assert answer, name
            assert not refusals(someone) & set(answer), (name, answer)
            await someone.send("/cancel")
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] == []


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_deputy_is_offered_no_staff_command_nor_forget_and_is_refused_them(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    deputy = await someone_of(world, person, Role.DEPUTY, code)
    await world.outbox.drain()
    offered = {name for name, _ in menu_of(deputy)}
    helped = {name for name, _ in help_entries(deputy, only(await deputy.send("/help")).text)}
    for name in ("opinions", "broadcast", "invite", "staff", "forget"):
        assert name not in offered and name not in helped
        answer = [o.text for o in await deputy.send(f"/{name}")]
        assert refusals(deputy) & set(answer), (name, answer)


# --- one menu row per chat, in flight or waiting ------------------------------------------------


Reaction = Callable[[str], Awaitable["tuple[int, bytes] | None"]]


def on_menu_call(world: World, chat_id: int | None, react: Reaction) -> None:
    """`react(method)` runs when a menu call for `chat_id` (None: a default menu) reaches
    Telegram; it may answer it instead (a fault), or return None to let it through."""
    original = world.api._answer

    async def answer(method: str, params: dict[str, Any], uploads: Any) -> tuple[int, bytes]:
        if method in MENU_CALLS and scope_chat(params) == chat_id:
            reply = await react(method)
            if reply is not None:
                return reply
        return await original(method, params, uploads)

    world.api._answer = answer  # type: ignore[method-assign]


async def menu_rows(world: World, chat_id: int) -> list[dict[str, Any]]:
    return await world.rows(
        "SELECT state, reason FROM outbox WHERE chat_id = ? AND sets_menu = 1 ORDER BY id",
        (chat_id,),
    )


@pytest.mark.parametrize("fault", ["429:1", "network"])
async def test_a_menu_call_that_fails_while_a_newer_change_waits_gives_way_to_it(
    world: World, person: Callable[..., Person], admin: Person, fault: str
) -> None:
    staff = person(1030, "工作人员")
    await agree(staff)
    failed: list[str] = []

    async def change_meanwhile(method: str) -> tuple[int, bytes] | None:
        if failed:
            return None
        failed.append(method)
        # the language changes while the call is on its way, which then fails
        await world.services.users.set_locale(staff.id, "en")
        return answer_fault(fault)

    on_menu_call(world, staff.id, change_meanwhile)
    await admin.send(f"/staff add {staff.id}")
    await world.outbox.drain()
    assert failed == ["setMyCommands"]
    assert await menu_rows(world, staff.id) == [
        {"state": "skipped", "reason": "superseded"},
        {"state": "sent", "reason": None},
    ]
    assert menu_of(staff) == listed(world, "en", Role.STAFF)


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_who_blocked_the_bot_and_lost_the_role_lose_the_menu_on_their_return(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    staff = person(1030, "工作人员", code)
    await make_staff(admin, staff)
    await world.outbox.drain()
    world.api.blocked.add(staff.id)  # the bot learns it from a notice Telegram refuses
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, staff.id, "help.title")
    await world.outbox.drain()
    assert (await world.user_row(staff.id))["active"] == 0

    await admin.send(f"/staff remove {staff.id}")
    await world.outbox.drain()
    assert (await menu_rows(world, staff.id))[-1] == {"state": "skipped", "reason": "blocked"}
    assert menu_of(staff) == listed(world, locale, Role.STAFF)  # out of reach meanwhile

    world.api.blocked.discard(staff.id)
    help_text = only(await staff.send("/help")).text
    await world.outbox.drain()
    assert menu_of(staff) == listed(world, locale, Role.VOTER)
    assert ("chat", staff.id, 0, "") not in world.api.menus
    assert help_entries(staff, help_text) == menu_of(staff)


async def test_a_change_moves_a_waiting_start_up_menu_row_up_to_a_personal_one(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    await world.outbox.drain()
    await world.outbox.stop()  # nothing goes out meanwhile
    async with world.db.transaction() as tx:  # as an older release would have left it
        tx.defer("UPDATE users SET menu = 'deputy/zh_CN/0' WHERE telegram_id = ?", (deputy.id,))
    assert await queue_stale_menus(world.services) == 1
    waiting = "SELECT priority FROM outbox WHERE sets_menu = 1 AND state = 'queued'"
    assert await world.rows(waiting) == [{"priority": 1}]

    await pick_language(deputy, "English")
    assert await world.rows(waiting) == [{"priority": 0}]
    await world.crash_and_restart()
    await world.outbox.drain()
    assert menu_of(deputy) == listed(world, "en", Role.DEPUTY)


async def test_a_chat_has_one_menu_call_in_flight_at_a_time(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    staff = person(1030, "工作人员")
    await agree(staff)
    held: list[str] = []
    reached, release = asyncio.Event(), asyncio.Event()

    async def hold_the_first(method: str) -> None:
        if not held:
            held.append(method)
            reached.set()
            await release.wait()

    on_menu_call(world, staff.id, hold_the_first)
    try:
        await admin.send(f"/staff add {staff.id}")
        await asyncio.wait_for(reached.wait(), 5)
        await admin.send(f"/staff remove {staff.id}")
        await asyncio.sleep(IDLE_POLL_SECONDS + 0.2)  # the dispatcher looked at the queue again
        assert [r["state"] for r in await menu_rows(world, staff.id)] == ["sending", "queued"]
    finally:
        release.set()
    await world.outbox.drain()
    # the older call landed first, so the newer one removes what it set
    assert [c.method for c in own_menu_calls(world, staff.id)] == [
        "setMyCommands",
        "deleteMyCommands",
    ]
    assert menu_of(staff) == listed(world, "zh_CN", Role.VOTER)
    assert ("chat", staff.id, 0, "") not in world.api.menus


PACE = 0.4  # seconds between two outbox calls to one chat


@pytest.mark.world(outbox_per_chat_interval_seconds=PACE)
async def test_menu_calls_are_spaced_with_the_notices_of_their_chat(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    staff = person(1030, "工作人员")
    await agree(staff)
    await world.outbox.drain()
    reached: list[tuple[float, str]] = []
    original = world.api._answer

    async def timed(method: str, params: dict[str, Any], uploads: Any) -> tuple[int, bytes]:
        chat = scope_chat(params) if method in MENU_CALLS else params.get("chat_id")
        if chat is not None and int(chat) == staff.id:
            reached.append((time.monotonic(), method))
        return await original(method, params, uploads)

    world.api._answer = timed  # type: ignore[method-assign]
    await admin.send(f"/staff add {staff.id}")
    await world.outbox.drain()
    await admin.send(f"/staff remove {staff.id}")
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, staff.id, "help.title")
    await world.outbox.drain()

    assert reached[0][1] == "setMyCommands"
    assert sorted(method for _, method in reached[1:]) == ["deleteMyCommands", "sendMessage"]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(reached)]
    assert all(gap >= PACE * 0.9 for gap in gaps), gaps


async def test_a_menu_row_in_flight_at_a_crash_gives_way_to_the_one_queued_since(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    await world.outbox.drain()
    await world.outbox.stop()
    await pick_language(deputy, "English")
    claimed = await OutboxRepo(world.db).claim_due(world.clock.now(), 10)
    assert (deputy.id, True) in [(c.chat_id, c.sets_menu) for c in claimed]
    await pick_language(deputy, "中文")

    await world.crash_and_restart()
    await world.outbox.drain()
    assert (await menu_rows(world, deputy.id))[-2:] == [
        {"state": "skipped", "reason": "superseded"},
        {"state": "sent", "reason": None},
    ]
    assert menu_of(deputy) == listed(world, "zh_CN", Role.DEPUTY)


# --- the default menus at start ----------------------------------------------------------------


async def test_telegram_asking_to_wait_at_start_delays_a_default_menu_but_sets_it(
    world: World, person: Callable[..., Person]
) -> None:
    limited: list[str] = []

    async def too_many_once(method: str) -> tuple[int, bytes] | None:
        if limited:
            return None
        limited.append(method)
        return answer_fault("429:1")

    on_menu_call(world, None, too_many_once)
    world.api.menus.clear()
    await world.crash_and_restart()
    assert limited == ["setMyCommands"]
    for code, locale in (("zh-hans", "zh_CN"), ("en", "en"), ("fr", "zh_CN")):
        voter = person(2001, "王芳", code)
        assert menu_of(voter) == listed(world, locale, Role.VOTER)


async def test_telegram_out_of_reach_at_start_does_not_stop_the_start(
    world: World,
    person: Callable[..., Person],
    admin: Person,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(commands, "MENU_RETRY_SECONDS", 0.01)
    refused: list[str] = []

    async def unreachable(method: str) -> tuple[int, bytes] | None:
        refused.append(method)
        return answer_fault("network")

    on_menu_call(world, None, unreachable)
    with caplog.at_level(logging.WARNING, logger="handlers.commands"):
        await world.crash_and_restart()
    assert len(refused) == 3 * commands.MENU_ATTEMPTS  # zh, en and the fallback
    assert len([r for r in caplog.records if "not set at start" in r.getMessage()]) == 3
    # the bot runs: it answers, and its outbox sets a new staff member's menu
    staff = person(1030, "工作人员")
    await agree(staff)
    await admin.send(f"/staff add {staff.id}")
    await world.outbox.drain()
    assert menu_of(staff) == listed(world, "zh_CN", Role.STAFF)
