"""Roles: admins come from the settings, admins grant and revoke staff, staff invite deputies
with one-time deep links; and nobody gets anything done with a button the bot never made."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.demo.botapi import BOT_USERNAME, Output
from bot.runtime.buttons import Picker, StationPicked, StreetPage, StreetStations
from storage.models import Role
from tests.support.people import Person
from tests.support.scenarios import (
    ADMIN,
    INVITE_LINK,
    LANGUAGES,
    agree,
    consented_admin,
    onboard,
    only,
)
from tests.support.world import World


async def role_of(world: World, user_id: int) -> str:
    return str((await world.user_row(user_id))["role"])


async def make_staff(world: World, person, staff_id: int, code: str) -> Person:
    admin = await consented_admin(world, code)
    staff: Person = person(staff_id, "工作人员", code)
    await agree(staff)
    await admin.send(f"/staff add {staff_id}")
    assert await role_of(world, staff_id) == "staff"
    return staff


async def invite(
    world: World,
    staff: Person,
    name: str,
    street: str = "学院路街道",
    station: str = "学院路第一联络站",
) -> tuple[str, Output]:
    """Staff's /invite <name> → street → station; returns the code and the final answer."""
    await staff.send(f"/invite {name}")
    await staff.tap(street)
    out = await staff.tap(station)
    match = INVITE_LINK.search(out[-1].text)
    assert match, out[-1].text
    return match.group(1), out[-1]


# --- admins and staff -----------------------------------------------------------------------


async def test_admins_come_from_the_settings(world: World, person) -> None:
    assert world.settings.admin_ids == [ADMIN]
    admin: Person = person(ADMIN, "管理员", "zh-hans")
    other: Person = person(2, "普通人", "zh-hans")
    await agree(admin)
    await agree(other)

    assert (await world.services.users.get(ADMIN)).role == Role.ADMIN  # type: ignore[union-attr]
    assert (await world.services.users.get(2)).role == Role.VOTER  # type: ignore[union-attr]
    assert "/staff" in only(await admin.send("/help")).text
    assert "/staff" not in only(await other.send("/help")).text


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_admin_grants_and_revokes_staff(world: World, person, code: str, locale: str) -> None:
    admin: Person = person(ADMIN, "管理员", code)
    await agree(admin)
    helper: Person = person(2001, "小刘", code)
    await agree(helper)
    assert await role_of(world, 2001) == "voter"

    reply = only(await admin.send("/staff add 2001"))
    assert reply.text == world.text(locale, "staff.granted", telegram_id=2001)
    assert await role_of(world, 2001) == "staff"
    reply = only(await helper.send("/invite 王五"))
    assert reply.text == world.text(locale, "invite.choose_station", name="王五")

    reply = only(await admin.send("/staff remove 2001"))
    assert reply.text == world.text(locale, "staff.revoked", telegram_id=2001)
    assert await role_of(world, 2001) == "voter"
    reply = only(await helper.send("/invite 王五"))
    assert reply.text == world.text(locale, "error.forbidden")


async def test_admin_may_grant_staff_to_someone_who_has_not_written_yet(
    world: World, person
) -> None:
    admin: Person = person(ADMIN, "管理员", "zh-hans")
    await agree(admin)
    await admin.send("/staff add 2002")
    assert await role_of(world, 2002) == "staff"

    newcomer: Person = person(2002, "新同事", "zh-hans")
    await agree(newcomer)
    assert await role_of(world, 2002) == "staff"
    assert "/invite" in only(await newcomer.send("/help")).text


async def test_staff_granted_before_first_contact_still_get_their_telegram_language(
    world: World, person
) -> None:
    admin: Person = person(ADMIN, "管理员", "zh-hans")
    await agree(admin)
    await admin.send("/staff add 2003")

    newcomer: Person = person(2003, "Alex", "en")
    reply = only(await newcomer.send("/start"))
    assert reply.buttons() == [world.text("en", "privacy.agree")]
    # the Telegram language is kept only once they agree (nothing personal before consent)
    assert (await world.user_row(2003))["locale"] == "zh_CN"
    await newcomer.tap(world.text("en", "privacy.agree"))
    assert (await world.user_row(2003))["locale"] == "en"
    assert await role_of(world, 2003) == "staff"


BAD_STAFF_USAGE = (
    "/staff",
    "/staff add",
    "/staff remove",
    "/staff add abc",
    "/staff remove 12x",
    "/staff add 0",
    "/staff add -5",
    "/staff add 99999999999999999999",
    "/staff promote 2003",
    "/staff add 2003 2004",
)


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_command_with_bad_usage_explains_itself(
    world: World, person, code: str, locale: str
) -> None:
    admin: Person = person(ADMIN, "管理员", code)
    await agree(admin)
    before = await world.snapshot()
    for command in BAD_STAFF_USAGE:
        reply = only(await admin.send(command))
        assert reply.text == world.text(locale, "staff.usage"), command
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_rules_for_admins_deputies_and_non_staff(
    world: World, person, code: str, locale: str
) -> None:
    admin: Person = person(ADMIN, "管理员", code)
    await agree(admin)
    staff = await make_staff(world, person, 2010, code)
    invite_code, _ = await invite(world, staff, "王五")
    deputy: Person = person(2011, "王五", code)
    await agree(deputy)
    await deputy.send(f"/start inv_{invite_code}")
    voter: Person = person(2012, "选民", code)
    await agree(voter)
    before = await world.snapshot()

    assert only(await admin.send(f"/staff add {ADMIN}")).text == world.text(
        locale, "staff.target_is_admin"
    )
    assert only(await admin.send(f"/staff remove {ADMIN}")).text == world.text(
        locale, "staff.target_is_admin"
    )
    assert only(await admin.send("/staff add 2011")).text == world.text(
        locale, "staff.target_is_deputy"
    )
    assert only(await admin.send("/staff remove 2012")).text == world.text(
        locale, "staff.target_not_staff"
    )
    assert only(await admin.send("/staff remove 2011")).text == world.text(
        locale, "staff.target_not_staff"
    )
    assert await world.snapshot() == before
    assert await role_of(world, 2011) == "deputy"


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_non_admins_cannot_manage_staff(world: World, person, code: str, locale: str) -> None:
    staff = await make_staff(world, person, 2020, code)
    voter: Person = person(2021, "选民", code)
    await agree(voter)
    before = await world.snapshot()

    forbidden = world.text(locale, "error.forbidden")
    assert only(await voter.send("/staff add 2021")).text == forbidden
    assert only(await voter.send("/staff remove 2020")).text == forbidden
    assert only(await staff.send("/staff add 2021")).text == forbidden
    assert only(await staff.send("/staff remove 2020")).text == forbidden
    assert only(await voter.send("/staff")).text == forbidden
    assert await world.snapshot() == before


# --- deputy invitations ---------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_invite_a_deputy_who_opens_the_link_once(
    world: World, person, code: str, locale: str
) -> None:
    staff = await make_staff(world, person, 3001, code)

    reply = only(await staff.send("/invite 王五"))
    assert reply.text == world.text(locale, "invite.choose_station", name="王五")
    assert "学院路街道" in reply.buttons()
    await staff.tap("学院路街道")
    assert "学院路第二联络站" in staff.buttons()
    created_at = world.clock.now() + timedelta(seconds=1)  # tap() thinks for a second
    out = await staff.tap("学院路第二联络站")
    answer = out[-1].text
    match = INVITE_LINK.search(answer)
    assert match, answer
    invite_code = match.group(1)
    texts = world.services.i18n.texts(locale)
    assert answer == world.text(
        locale,
        "invite.created",
        name="王五",
        station="学院路第二联络站",
        link=f"https://t.me/{BOT_USERNAME}?start=inv_{invite_code}",
        expires=texts.datetime(created_at + timedelta(days=7)),
    )
    target = await world.station_id("学院路第二联络站")
    (row,) = await world.rows("SELECT * FROM invitations")
    assert row["code"] == invite_code
    assert (row["deputy_name"], row["station_id"], row["created_by"]) == ("王五", target, 3001)
    assert datetime.fromisoformat(row["expires_at"]) == created_at + timedelta(days=7)
    assert row["used_by"] is None

    deputy: Person = person(3002, "王五", code)
    await agree(deputy)
    reply = only(await deputy.send(f"/start inv_{invite_code}"))
    assert reply.text == world.text(
        locale, "invite.accepted", name="王五", station="学院路第二联络站"
    )
    user = await world.user_row(3002)
    assert (user["role"], user["station_id"]) == ("deputy", target)
    (deputy_row,) = await world.rows("SELECT * FROM deputies")
    assert (deputy_row["user_id"], deputy_row["name"], deputy_row["station_id"]) == (
        3002,
        "王五",
        target,
    )
    (row,) = await world.rows("SELECT * FROM invitations")
    assert row["used_by"] == 3002
    assert datetime.fromisoformat(row["used_at"]) == world.clock.now()


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_an_invitation_opened_before_consent_works_after_agreeing(
    world: World, person, code: str, locale: str
) -> None:
    staff = await make_staff(world, person, 3011, code)
    invite_code, _ = await invite(world, staff, "李雷", "海淀街道", "海淀街道联络站")

    deputy: Person = person(3012, "李雷", code)
    reply = only(await deputy.send(f"/start inv_{invite_code}"))
    assert world.text(locale, "privacy.notice") in reply.text
    assert await role_of(world, 3012) == "voter"
    assert await world.rows("SELECT * FROM deputies") == []

    out = await deputy.tap(world.text(locale, "privacy.agree"))
    assert out[-1].text == world.text(
        locale, "invite.accepted", name="李雷", station="海淀街道联络站"
    )
    assert await role_of(world, 3012) == "deputy"
    assert len(await world.rows("SELECT * FROM deputies WHERE user_id = 3012")) == 1


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_used_link_is_refused_for_everyone_and_changes_nothing(
    world: World, person, code: str, locale: str
) -> None:
    staff = await make_staff(world, person, 3021, code)
    invite_code, _ = await invite(world, staff, "韩梅梅")
    deputy: Person = person(3022, "韩梅梅", code)
    await agree(deputy)
    await deputy.send(f"/start inv_{invite_code}")
    assert await role_of(world, 3022) == "deputy"

    someone_else: Person = person(3023, "路人", code)
    await agree(someone_else)
    before = await world.snapshot()

    used = world.text(locale, "invite.used")
    assert only(await someone_else.send(f"/start inv_{invite_code}")).text == used
    assert only(await deputy.send(f"/start inv_{invite_code}")).text == used
    assert await world.snapshot() == before
    assert await role_of(world, 3023) == "voter"


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_an_expired_link_is_refused(world: World, person, code: str, locale: str) -> None:
    staff = await make_staff(world, person, 3031, code)
    invite_code, _ = await invite(world, staff, "张伟")
    late: Person = person(3032, "张伟", code)
    await agree(late)
    world.clock.advance(days=8)
    before = await world.snapshot()

    reply = only(await late.send(f"/start inv_{invite_code}"))
    assert reply.text == world.text(locale, "invite.expired")
    assert await world.snapshot() == before
    assert await role_of(world, 3032) == "voter"


async def test_a_link_still_works_just_before_it_expires(world: World, person) -> None:
    staff = await make_staff(world, person, 3033, "zh-hans")
    invite_code, _ = await invite(world, staff, "张伟")
    deputy: Person = person(3034, "张伟", "zh-hans")
    await agree(deputy)
    world.clock.advance(days=7, minutes=-5)
    await deputy.send(f"/start inv_{invite_code}")
    assert await role_of(world, 3034) == "deputy"


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_wrong_code_is_refused(world: World, person, code: str, locale: str) -> None:
    visitor: Person = person(3041, "访客", code)
    await agree(visitor)
    before = await world.snapshot()
    for payload in ("inv_NoSuchCode123456", "inv_x"):
        reply = only(await visitor.send(f"/start {payload}"))
        assert reply.text == world.text(locale, "invite.unknown"), payload
    assert await world.snapshot() == before


async def test_staff_cannot_become_a_deputy_through_a_link(world: World, person) -> None:
    staff = await make_staff(world, person, 3051, "zh-hans")
    invite_code, _ = await invite(world, staff, "王五")
    before = await world.snapshot()
    reply = only(await staff.send(f"/start inv_{invite_code}"))
    assert reply.text == world.text("zh_CN", "invite.staff_cannot_accept")
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_voter_cannot_invite(world: World, person, code: str, locale: str) -> None:
    voter: Person = person(3061, "选民", code)
    await agree(voter)
    before = await world.snapshot()
    reply = only(await voter.send("/invite 王五"))
    assert reply.text == world.text(locale, "error.forbidden")
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_invite_without_a_name_explains_usage(
    world: World, person, code: str, locale: str
) -> None:
    staff = await make_staff(world, person, 3071, code)
    reply = only(await staff.send("/invite"))
    assert reply.text == world.text(locale, "invite.usage")
    assert await world.rows("SELECT * FROM invitations") == []


INVISIBLE_NAMES = (
    "\u200b",
    "\u200c\u200d",
    "\u2060\u2060",
    "\ufeff",
    "\u200b\u200c\u200d\u2060\ufeff",
)


def code_points(text: str) -> str:
    return "+".join(f"U{ord(c):04X}" for c in text)


@pytest.mark.parametrize("name", INVISIBLE_NAMES, ids=code_points)
async def test_an_invisible_name_is_refused(world: World, person, name: str) -> None:
    staff = await make_staff(world, person, 3075, "en")
    before = await world.snapshot()
    reply = only(await staff.send(f"/invite {name}"))
    assert reply.text == world.text("en", "invite.name_empty")
    assert await world.snapshot() == before  # no pending name, no invitation


async def test_invisible_characters_inside_a_name_are_dropped(world: World, person) -> None:
    staff = await make_staff(world, person, 3076, "zh-hans")
    reply = only(await staff.send("/invite \ufeff王\u200b五\u2060"))
    assert reply.text == world.text("zh_CN", "invite.choose_station", name="王五")
    await staff.tap("学院路街道")
    await staff.tap("学院路第一联络站")
    rows = await world.rows("SELECT deputy_name FROM invitations")
    assert rows == [{"deputy_name": "王五"}]


async def test_the_welcome_of_an_invited_deputy_escapes_the_name(world: World, person) -> None:
    staff = await make_staff(world, person, 3081, "zh-hans")
    invite_code, created = await invite(world, staff, "王五 <市代表>")
    assert "王五 &lt;市代表&gt;" in created.text  # the staff's confirmation is escaped

    deputy: Person = person(3082, "王五", "zh-hans")
    await agree(deputy)
    reply = only(await deputy.send(f"/start inv_{invite_code}"))
    # Sent with parse_mode HTML: a raw "<市代表>" makes Telegram refuse the whole message.
    assert "王五 &lt;市代表&gt;" in reply.text


# --- buttons the bot never made -------------------------------------------------------------

INVITE, STATION = Picker.INVITE, Picker.STATION
FORGED_BY_A_VOTER = (
    # staff's buttons, well made: refused for the role
    (StationPicked(purpose=INVITE, station=1).pack(), ("error.forbidden",)),
    (StreetPage(purpose=INVITE, page=0).pack(), ("error.forbidden",)),
    (StreetStations(purpose=INVITE, street=1, page=0).pack(), ("error.forbidden",)),
    # malformed, or the shapes of an older version
    ("lang:xx", ("error.stale_button",)),
    ("lang:", ("error.stale_button",)),
    ("garbage", ("error.stale_button",)),
    ("myo:abc:0", ("error.stale_button",)),
    ("myo:1", ("error.stale_button",)),
    ("my:o:1:0", ("error.stale_button",)),
    ("consent:st_1:extra", ("error.stale_button",)),
    (StreetStations(purpose=STATION, street=999999, page=0).pack(), ("station.unknown",)),
    ("ps:st:x:0", ("error.stale_button",)),
    ("pp:st:abc", ("error.stale_button",)),
    ("pz:st:abc", ("error.stale_button",)),
    ("st:p:1", ("error.stale_button",)),
)


async def voter_with_station(world: World, person, code: str) -> Person:
    voter: Person = person(4001, "选民", code)
    await onboard(voter)
    return voter


def assert_refused(world: World, locale: str, reply: Output, keys: tuple[str, ...]) -> None:
    assert reply.kind == "alert" and reply.show_alert, (reply.kind, reply.text)
    assert reply.text in [world.text(locale, key) for key in keys], reply.text


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_voter_with_a_forged_button_is_refused_with_an_alert(
    world: World, person, code: str, locale: str
) -> None:
    voter = await voter_with_station(world, person, code)
    before = await world.snapshot()
    for data, keys in FORGED_BY_A_VOTER:
        assert_refused(world, locale, only(await voter.tap_data(data)), keys)
    assert await world.snapshot() == before


async def test_a_forged_button_for_a_missing_station_is_refused_clearly(
    world: World, person
) -> None:
    voter = await voter_with_station(world, person, "zh-hans")
    before = await world.snapshot()
    reply = only(await voter.tap_data(StationPicked(purpose=STATION, station=999999).pack()))
    assert reply.text == world.text("zh_CN", "station.unknown")  # not error.internal
    assert await world.snapshot() == before


async def test_a_forged_button_for_a_missing_station_is_refused_with_an_alert(
    world: World, person
) -> None:
    voter = await voter_with_station(world, person, "zh-hans")
    data = StationPicked(purpose=STATION, station=999999).pack()
    assert_refused(world, "zh_CN", only(await voter.tap_data(data)), ("station.unknown",))


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (StationPicked(purpose=INVITE, station=999999).pack(), "station.unknown"),
        ("pp:iv:abc", "error.stale_button"),
        (StreetStations(purpose=INVITE, street=999999, page=0).pack(), "station.unknown"),
        ("ps:iv:1:x", "error.stale_button"),
        ("pz:iv:abc", "error.stale_button"),
        ("pp:iv:99999999999999999999", "error.stale_button"),
        ("iv:p:1", "error.stale_button"),
    ],
)
async def test_staff_with_a_forged_invitation_button_is_refused(
    world: World, person, data: str, key: str
) -> None:
    staff = await make_staff(world, person, 4011, "en")
    await staff.send("/invite 王五")
    before = await world.snapshot()
    reply = only(await staff.tap_data(data))
    assert reply.text == world.text("en", key)
    assert (reply.kind, reply.show_alert) == ("alert", True)
    assert await world.snapshot() == before


async def test_an_invitation_button_without_a_pending_name_explains_usage(
    world: World, person
) -> None:
    staff = await make_staff(world, person, 4021, "zh-hans")
    before = await world.snapshot()
    reply = only(await staff.tap_data(StationPicked(purpose=INVITE, station=1).pack()))
    assert (reply.kind, reply.text) == ("alert", world.text("zh_CN", "invite.usage"))
    assert await world.snapshot() == before


async def test_a_forged_invitation_page_button_is_refused_with_an_alert(
    world: World, person
) -> None:
    staff = await make_staff(world, person, 4031, "en")
    await staff.send("/invite 王五")
    assert_refused(world, "en", only(await staff.tap_data("pz:iv:abc")), ("error.stale_button",))
