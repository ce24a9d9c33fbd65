"""A new person's first minutes: greeting, privacy consent, choosing a station (by street,
by location, by a station's QR deep link), language, /help, the command menus, and what
happens when someone blocks the bot or types a command that does not exist."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import I18n
from bot.runtime.menus import MENU_LANGUAGES, VOTER_COMMANDS, commands_for
from storage.models import Role
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, agree, only
from tests.support.world import MakeWorld, World

# 13 streets in all with the fixture's three: two pages of 8. 街道01 gets 11 stations.
MANY_STATIONS = (
    "street,station,address,latitude,longitude\n"
    + "".join(f"街道{i:02d},街道{i:02d}联络站,地址 {i} 号,,\n" for i in range(1, 11))
    + "".join(f"街道01,站点{j:02d},站点地址 {j} 号,,\n" for j in range(1, 11))
)


# --- greeting and consent -------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_start_greets_and_shows_the_privacy_notice(
    world: World, person, code: str, locale: str
) -> None:
    newcomer: Person = person(1001, "李四", code)
    reply = only(await newcomer.send("/start"))

    assert reply.kind == "message"
    assert world.text(locale, "start.greeting") in reply.text
    assert world.text(locale, "privacy.notice") in reply.text
    assert reply.buttons() == [world.text(locale, "privacy.agree")]
    row = await world.user_row(1001)
    assert row["consent_at"] is None
    # before consent the Telegram language is used, not stored: the row has the default
    assert row["locale"] == world.settings.default_locale
    assert (row["full_name"], row["username"]) == ("", None)
    assert row["station_id"] is None


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_nothing_but_consent_works_before_agreeing(
    world: World, person, code: str, locale: str
) -> None:
    newcomer: Person = person(1002, "王芳", code)
    await newcomer.send("/start")
    before = await world.snapshot()
    required = world.text(locale, "privacy.required")
    notice = world.text(locale, "privacy.notice")

    for text in ("/opinion", "/my", "/station", "/help", "/invite 王五", "你好，我想反映问题"):
        reply = only(await newcomer.send(text))
        assert reply.kind == "message", text
        assert reply.text.startswith(required), (text, reply.text)
        assert notice in reply.text, text
        assert reply.buttons() == [world.text(locale, "privacy.agree")], text

    reply = only(await newcomer.send_location(39.99, 116.35))
    assert reply.text.startswith(required)

    for data in ("st:z:0", "st:p:1", "op:cat:traffic", "my:p:0", "whatever"):
        reply = only(await newcomer.tap_data(data))
        assert (reply.kind, reply.text, reply.show_alert) == ("alert", required, True), data

    assert await world.snapshot() == before
    assert (await world.user_row(1002))["consent_at"] is None


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_agreeing_stores_the_consent_time_and_asks_for_a_station(
    world: World, person, code: str, locale: str
) -> None:
    newcomer: Person = person(1003, "赵六", code)
    await newcomer.send("/start")
    world.clock.advance(minutes=5)
    out = await newcomer.tap(world.text(locale, "privacy.agree"))

    agreed_at = world.clock.now()
    row = await world.user_row(1003)
    assert datetime.fromisoformat(row["consent_at"]) == agreed_at
    assert out[0].text == world.text(locale, "privacy.thanks")
    assert out[-2].text.startswith(world.text(locale, "station.first_time"))
    assert "学院路街道" in out[-2].buttons()
    assert out[-1].text == world.text(locale, "station.location_key_hint")

    # Tapping the old agree button again later does not move the recorded time.
    world.clock.advance(days=2)
    await newcomer.tap_data("consent:")
    row = await world.user_row(1003)
    assert datetime.fromisoformat(row["consent_at"]) == agreed_at

    # And now the commands answer for real.
    reply = only(await newcomer.send("/help"))
    assert reply.text.startswith(world.text(locale, "help.title"))


# --- choosing a station ---------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_station_by_street_then_station_with_paging(
    world: World, person, code: str, locale: str
) -> None:
    await world.load_stations(MANY_STATIONS)
    voter: Person = person(1004, "钱七", code)
    await agree(voter)
    prev, nxt = world.text(locale, "nav.prev"), world.text(locale, "nav.next")

    first = voter.buttons()
    assert first[:8] == ["学院路街道", "海淀街道", "清河街道"] + [
        f"街道{i:02d}" for i in range(1, 6)
    ]
    assert first[8:] == [world.text(locale, "nav.page", page=1, pages=2), nxt]

    await voter.tap(nxt)
    assert voter.last == world.text(locale, "station.choose_street")
    assert voter.buttons() == [f"街道{i:02d}" for i in range(6, 11)] + [
        prev,
        world.text(locale, "nav.page", page=2, pages=2),
    ]
    # Tapping the page indicator of the page shown changes nothing and breaks nothing.
    await voter.tap(world.text(locale, "nav.page", page=2, pages=2))
    assert voter.buttons()[0] == "街道06"

    await voter.tap(prev)
    await voter.tap("街道01")
    assert voter.last == world.text(locale, "station.choose_station", street="街道01")
    stations = voter.buttons()
    assert stations[:8] == ["街道01联络站"] + [f"站点{j:02d}" for j in range(1, 8)]
    assert nxt in stations and world.text(locale, "nav.back") in stations

    await voter.tap(nxt)
    assert voter.buttons()[:3] == ["站点08", "站点09", "站点10"]
    await voter.tap("站点10")

    assert voter.last == world.text(
        locale, "station.chosen", station="站点10", street="街道01", address="站点地址 10 号"
    )
    assert (await world.user_row(1004))["station_id"] == await world.station_id("站点10")


@pytest.mark.parametrize(
    ("code", "locale", "labels"),
    [
        pytest.param(
            "zh-hans",
            "zh_CN",
            [
                "学院路第一联络站 · 0 公里",
                "学院路第二联络站 · 0.7 公里",
                "海淀街道联络站 · 3.6 公里",
            ],
            id="zh",
        ),
        pytest.param(
            "en",
            "en",
            ["学院路第一联络站 · 0 km", "学院路第二联络站 · 0.7 km", "海淀街道联络站 · 3.6 km"],
            id="en",
        ),
    ],
)
async def test_station_by_shared_location_lists_the_nearest_with_distance(
    world: World, person, code: str, locale: str, labels: list[str]
) -> None:
    voter: Person = person(1005, "孙八", code)
    await agree(voter)

    received, reply = await voter.send_location(39.99, 116.35)
    assert received.text == world.text(locale, "station.location_received")
    assert reply.text == world.text(locale, "station.nearest")
    # nearest first; 清河联络站 has no coordinates and cannot be ranked
    assert reply.buttons() == labels

    await voter.tap(labels[1])
    assert "学院路第二联络站" in voter.last
    assert (await world.user_row(1005))["station_id"] == await world.station_id("学院路第二联络站")


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_station_deep_link_before_consent_binds_after_agreeing(
    world: World, person, code: str, locale: str
) -> None:
    target = await world.station_id("海淀街道联络站")
    voter: Person = person(1006, "周九", code)

    reply = only(await voter.send(f"/start st_{target}"))
    assert world.text(locale, "privacy.notice") in reply.text
    assert (await world.user_row(1006))["station_id"] is None

    out = await voter.tap(world.text(locale, "privacy.agree"))
    assert out[-1].text == world.text(
        locale,
        "station.chosen",
        station="海淀街道联络站",
        street="海淀街道",
        address="海淀大街 8 号",
    )
    row = await world.user_row(1006)
    assert row["station_id"] == target
    assert row["consent_at"] is not None


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_station_deep_link_after_consent_binds_directly(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(1007, "吴十", code)
    await agree(voter)
    target = await world.station_id("清河联络站")

    reply = only(await voter.send(f"/start st_{target}"))
    assert reply.text == world.text(
        locale,
        "station.chosen",
        station="清河联络站",
        street="清河街道",
        address="清河中街 5 号",
    )
    assert (await world.user_row(1007))["station_id"] == target

    # Opening /start again without a link just welcomes the voter back.
    reply = only(await voter.send("/start"))
    assert reply.text == world.text(locale, "start.welcome_back")


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_deep_link_to_a_station_that_does_not_exist(
    world: World, person, code: str, locale: str
) -> None:
    unknown = world.text(locale, "station.unknown")

    consented: Person = person(1008, "郑一", code)
    await agree(consented)
    reply = only(await consented.send("/start st_999999"))
    assert reply.text == unknown
    assert (await world.user_row(1008))["station_id"] is None

    newcomer: Person = person(1009, "冯二", code)
    await newcomer.send("/start st_424242")
    out = await newcomer.tap(world.text(locale, "privacy.agree"))
    assert unknown in [o.text for o in out]
    row = await world.user_row(1009)
    assert row["consent_at"] is not None
    assert row["station_id"] is None


async def test_a_malformed_deep_link_is_ignored(world: World, person) -> None:
    voter: Person = person(1010, "陈三", "zh-hans")
    await agree(voter)
    reply, _key = await voter.send("/start st_abc")
    assert reply.text.startswith(world.text("zh_CN", "station.first_time"))
    assert (await world.user_row(1010))["station_id"] is None


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_station_command_changes_the_station_later(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(1011, "褚四", code)
    await agree(voter)
    await voter.tap("学院路街道")
    await voter.tap("学院路第一联络站")
    assert (await world.user_row(1011))["station_id"] == await world.station_id("学院路第一联络站")

    reply, key = await voter.send("/station")
    assert reply.text.startswith(world.text(locale, "station.choose_street"))
    assert key.text == world.text(locale, "station.location_key_hint")
    await voter.tap("海淀街道")
    await voter.tap(world.text(locale, "nav.back"))
    assert voter.buttons()[0] == "学院路街道"
    await voter.tap("海淀街道")
    await voter.tap("海淀街道联络站")
    assert "海淀街道联络站" in voter.last
    assert (await world.user_row(1011))["station_id"] == await world.station_id("海淀街道联络站")


# --- language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "locale"),
    [
        ("zh-hans", "zh_CN"),
        ("zh-TW", "zh_CN"),
        ("zh", "zh_CN"),
        ("ZH-HANT", "zh_CN"),
        ("en", "en"),
        ("en-GB", "en"),
        ("fr", "en"),
        ("ru", "en"),
    ],
)
async def test_language_comes_from_telegrams_language_code(
    world: World, person, code: str, locale: str
) -> None:
    newcomer: Person = person(1020, "Lee", code)
    reply = only(await newcomer.send("/start"))
    assert reply.text.startswith(world.text(locale, "start.greeting"))
    # the language is stored with the consent, not before
    assert (await world.user_row(1020))["locale"] == world.settings.default_locale
    await newcomer.tap(world.text(locale, "privacy.agree"))
    assert (await world.user_row(1020))["locale"] == locale


@pytest.fixture
async def english_default_world(make_world: MakeWorld) -> World:
    """Another deployment, English by default, without stations."""
    return await make_world(stations=False, default_locale="en")


async def test_unknown_telegram_language_gets_the_configured_default(
    world: World, english_default_world: World
) -> None:
    """Telegram sends no language_code for some clients; JIAZHAN_DEFAULT_LOCALE decides."""
    for w, expected in ((world, "zh_CN"), (english_default_world, "en")):
        newcomer = Person(w, 1021, "Anon", None)  # type: ignore[arg-type]
        reply = only(await newcomer.send("/start"))
        assert (await w.user_row(1021))["locale"] == expected
        assert reply.text.startswith(w.text(expected, "start.greeting"))


@pytest.mark.parametrize(
    ("code", "locale", "other", "label"),
    [
        pytest.param("zh-hans", "zh_CN", "en", "English", id="zh-to-en"),
        pytest.param("en", "en", "zh_CN", "中文", id="en-to-zh"),
    ],
)
async def test_language_command_switches_and_later_messages_follow(
    world: World, person, code: str, locale: str, other: str, label: str
) -> None:
    voter: Person = person(1022, "林五", code)
    await agree(voter)

    reply = only(await voter.send("/language"))
    assert reply.text == world.text(locale, "language.choose")
    assert reply.buttons() == ["中文", "English"]
    await voter.tap(label)
    assert voter.last == world.text(other, "language.set")
    assert (await world.user_row(1022))["locale"] == other

    # Telegram keeps sending the old language_code; the choice sticks anyway.
    assert only(await voter.send("/help")).text.startswith(world.text(other, "help.title"))
    assert only(await voter.send("/nonsense")).text == world.text(other, "error.unknown_command")
    picker, key = await voter.send("/station")
    assert picker.text.startswith(world.text(other, "station.choose_street"))
    assert key.text == world.text(other, "station.location_key_hint")
    assert voter.keyboard() == [
        world.text(other, "station.location_key"),
        world.text(other, "station.skip_key"),
    ]


async def test_language_can_be_chosen_before_consent(world: World, person) -> None:
    newcomer: Person = person(1023, "Ana", "zh-hans")
    await newcomer.send("/start")

    await newcomer.send("/language")
    await newcomer.tap("English")
    assert newcomer.last == world.text("en", "language.set")
    assert (await world.user_row(1023))["locale"] == "en"
    assert (await world.user_row(1023))["consent_at"] is None

    reply = only(await newcomer.send("/start"))
    assert world.text("en", "privacy.notice") in reply.text
    assert reply.buttons() == [world.text("en", "privacy.agree")]

    # the choice outlives consent, though Telegram still says zh-hans
    await newcomer.tap(world.text("en", "privacy.agree"))
    assert (await world.user_row(1023))["locale"] == "en"
    assert only(await newcomer.send("/help")).text.startswith(world.text("en", "help.title"))


# --- /help and the command menus --------------------------------------------------------------


def help_lines(world: World, locale: str, role: Role) -> list[str]:
    texts = world.services.i18n.texts(locale)
    return [texts("help.title")] + [
        f"/{name} — {texts(f'cmd.{name}')}" for name in commands_for(role)
    ]


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_help_lists_the_commands_of_the_users_role(
    world: World, person, code: str, locale: str
) -> None:
    admin: Person = person(1, "管理员", code)
    staff: Person = person(1030, "工作人员", code)
    voter: Person = person(1031, "选民", code)
    for who in (admin, staff, voter):
        await agree(who)
    await admin.send("/staff add 1030")
    assert (await world.user_row(1030))["role"] == "staff"

    for who, role in ((voter, Role.VOTER), (staff, Role.STAFF), (admin, Role.ADMIN)):
        reply = only(await who.send("/help"))
        assert reply.text.split("\n") == help_lines(world, locale, role), role

        for line in reply.text.split("\n")[1:]:
            assert " — " in line, line

    voter_help = voter.last
    staff_help = staff.last
    admin_help = admin.last
    assert "/invite" not in voter_help and "/staff" not in voter_help
    assert "/invite" in staff_help and "/staff" not in staff_help
    assert "/invite" in admin_help and "/staff" in admin_help
    assert "/opinion" in voter_help and "/help" in voter_help


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_help_describes_every_command_of_every_role(i18n: I18n, role: Role, locale: str) -> None:
    texts = i18n.texts(locale)
    untranslated = [name for name in commands_for(role) if texts(f"cmd.{name}") == f"cmd.{name}"]
    assert untranslated == []


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(ZoneInfo("Asia/Shanghai"))


async def test_command_menus_are_registered_per_language(world: World) -> None:
    menus: dict[str | None, list[tuple[str, str]]] = {}
    for call in world.api.calls_to("setMyCommands"):
        assert "scope" not in call.params or call.params["scope"] in (None, {"type": "default"})
        menus[call.params.get("language_code")] = [
            (c["command"], c["description"]) for c in call.params["commands"]
        ]

    assert set(MENU_LANGUAGES.values()) == {"zh", "en"}
    assert {"zh", "en"} <= set(menus)
    for locale, code in MENU_LANGUAGES.items():
        texts = world.services.i18n.texts(locale)
        assert menus[code] == [(name, texts(f"cmd.{name}")) for name in VOTER_COMMANDS]
        assert all(description.strip() for _, description in menus[code])
    assert dict(menus["zh"])["opinion"] == "提交意见建议"
    assert dict(menus["en"])["opinion"] == "Send an opinion or suggestion"
    # staff and admin commands are not offered to every voter
    assert not {"invite", "staff"} & {name for name, _ in menus["zh"] + menus["en"]}
    # the menu for every other language is the default locale's
    assert menus[None] == menus[MENU_LANGUAGES[world.settings.default_locale]]


# --- errors ---------------------------------------------------------------------------------


async def test_a_user_who_blocked_the_bot_is_marked_inactive_then_reactivated(
    world: World, person
) -> None:
    voter: Person = person(1040, "蒋六", "zh-hans")
    await agree(voter)
    assert (await world.user_row(1040))["active"] == 1

    world.api.blocked.add(1040)
    assert await voter.send("/help") == []
    assert (await world.user_row(1040))["active"] == 0
    # no apology was attempted to the blocked chat after the Forbidden
    assert world.api.calls_to("sendMessage")[-1].params["chat_id"] == 1040

    world.api.blocked.discard(1040)
    reply = only(await voter.send("/help"))
    assert reply.text.startswith(world.text("zh_CN", "help.title"))
    assert (await world.user_row(1040))["active"] == 1


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_an_unknown_command_gets_a_clear_message(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(1041, "沈七", code)
    await agree(voter)
    before = await world.snapshot()

    reply = only(await voter.send("/frobnicate"))
    assert reply.text == world.text(locale, "error.unknown_command")
    assert "/help" in reply.text
    reply = only(await voter.send("/cancel"))
    assert reply.text == world.text(locale, "cancel.nothing")
    reply = only(await voter.send("随便说一句"))
    assert reply.text == world.text(locale, "error.stray_message")
    assert await world.snapshot() == before
