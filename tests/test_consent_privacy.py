"""Nothing personal before consent (PIPL): a stranger leaves their Telegram id, a default
locale, when they first wrote and when the privacy notice was shown, and nothing else. Their
name, username and language are stored with the consent itself; strangers who never
consent are forgotten after a while."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

import bot.services.users as users_service
from bot.services.privacy import NOTICE_VERSION
from storage.db import stamp
from tests.support.people import Person
from tests.support.world import World

FIRST, LAST, USERNAME = "Zhuangzhouxyz", "Butterflyqk", "dreaming_butterfly_42"


class Stranger(Person):
    """A person whose Telegram profile has a last name and a username too."""

    def __init__(
        self,
        world: World,
        user_id: int,
        language_code: str = "en",
        last_name: str = LAST,
        username: str | None = USERNAME,
    ) -> None:
        super().__init__(world, user_id, FIRST, language_code)
        self.last_name = last_name
        self.username = username

    def _from(self) -> dict[str, Any]:
        sender = super()._from()
        sender["last_name"] = self.last_name
        if self.username is not None:
            sender["username"] = self.username
        return sender


async def user_ids(world: World) -> set[int]:
    return {r["telegram_id"] for r in await world.rows("SELECT telegram_id FROM users")}


def database_bytes(world: World) -> bytes:
    """The database file and its write-ahead log: whatever was ever written is in there."""
    files = [world.db_path, world.db_path.with_name(world.db_path.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


# --- before consent -------------------------------------------------------------------------


async def test_a_stranger_leaves_only_their_id_and_the_notice_time(world: World) -> None:
    stranger = Stranger(world, 7001, language_code="en")
    first_contact = world.clock.now() + timedelta(seconds=1)  # a person "thinks" one second

    reply = await stranger.send("hello")
    assert reply[0].text.startswith(world.text("en", "privacy.required"))
    assert world.text("en", "privacy.notice") in reply[0].text
    await stranger.send("/start")
    await stranger.send("/opinion")
    alert = await stranger.tap_data("st:z:0")
    assert (alert[0].kind, alert[0].text) == ("alert", world.text("en", "privacy.required"))

    row = await world.user_row(7001)
    assert row == {
        "telegram_id": 7001,
        "role": "voter",
        "locale": world.settings.default_locale,  # not the Telegram language ("en")
        "full_name": "",
        "username": None,
        "station_id": None,
        "consent_at": None,
        "active": 1,
        "notices": 1,
        "created_at": stamp(first_contact),
        "notice_shown_at": stamp(first_contact),  # the first showing, kept as it was
        "locale_chosen": 0,
        "consent_version": None,
        "forget_token": None,
        "met_deputy_id": None,  # no deputy's code opened
        "menu": None,  # no command menu of its own set
    }
    stored = database_bytes(world)
    for personal in (FIRST, LAST, USERNAME):
        assert personal.encode() not in stored, personal


async def test_the_notice_time_is_recorded_when_start_shows_it(world: World) -> None:
    stranger = Stranger(world, 7002, language_code="zh-hans")
    await stranger.send("/start")
    shown = world.clock.now()
    assert world.text("zh_CN", "privacy.notice") in stranger.last
    assert (await world.user_row(7002))["notice_shown_at"] == stamp(shown)

    # a button before consent answers with an alert only: that is not the notice
    world.clock.advance(minutes=1)
    quiet = Stranger(world, 7003, language_code="zh-hans")
    await quiet.tap_data("my:p:0", message={"message_id": 1, "date": 0, "chat": quiet._chat()})
    assert (await world.user_row(7003))["notice_shown_at"] is None


async def test_a_stranger_who_changes_telegram_language_gets_replies_in_it(
    world: World,
) -> None:
    stranger = Stranger(world, 7004, language_code="zh-hans")
    reply = await stranger.send("/start")
    assert reply[0].text.startswith(world.text("zh_CN", "start.greeting"))

    stranger.language_code = "en"
    reply = await stranger.send("hello")
    assert reply[0].text.startswith(world.text("en", "privacy.required"))
    assert reply[0].buttons() == [world.text("en", "privacy.agree")]
    reply = await stranger.send("/start")
    assert reply[0].text.startswith(world.text("en", "start.greeting"))
    assert (await world.user_row(7004))["locale"] == world.settings.default_locale

    await stranger.tap(world.text("en", "privacy.agree"))
    assert stranger.saw(world.text("en", "privacy.thanks"))
    assert (await world.user_row(7004))["locale"] == "en"


# --- at and after consent -------------------------------------------------------------------


async def test_agreeing_stores_name_username_and_language_with_the_consent(
    world: World,
) -> None:
    stranger = Stranger(world, 7005, language_code="en")
    await stranger.send("/start")
    await stranger.tap(world.text("en", "privacy.agree"))

    row = await world.user_row(7005)
    assert row["consent_at"] == stamp(world.clock.now())
    assert row["consent_version"] == NOTICE_VERSION  # the notice's version, stored with the consent
    assert (row["full_name"], row["username"], row["locale"]) == (
        f"{FIRST} {LAST}",
        USERNAME,
        "en",
    )

    # after consent the name follows the Telegram profile
    stranger.last_name, stranger.username = "Renamed", None
    reply = await stranger.send("/help")
    assert reply[0].text.startswith(world.text("en", "help.title"))
    row = await world.user_row(7005)
    assert (row["full_name"], row["username"]) == (f"{FIRST} Renamed", None)


async def test_a_stranger_forgotten_by_the_sweep_can_still_agree(world: World) -> None:
    stranger = Stranger(world, 7006, language_code="zh-hans")
    await stranger.send("/start")
    world.clock.advance(days=31)
    assert await world.services.users.forget_unconsented(30) == 1
    assert 7006 not in await user_ids(world)

    await stranger.tap(world.text("zh_CN", "privacy.agree"))
    row = await world.user_row(7006)
    assert row["consent_at"] == stamp(world.clock.now())
    assert (row["full_name"], row["username"], row["locale"]) == (
        f"{FIRST} {LAST}",
        USERNAME,
        "zh_CN",
    )


# --- forgetting strangers -------------------------------------------------------------------


async def test_forget_unconsented_removes_old_strangers_only(world: World, person) -> None:
    admin = person(1, "管理员")
    voter = person(7010, "选民")
    for who in (admin, voter):
        await who.send("/start")
        await who.tap(world.text("zh_CN", "privacy.agree"))
    old = Stranger(world, 7011)
    await old.send("hello")
    referenced = Stranger(world, 7012)
    await referenced.send("hello")
    async with world.db.transaction() as tx:  # a row that points at the stranger
        await tx.execute(
            "INSERT INTO opinion_drafts (user_id, data, updated_at) VALUES (?, '{}', ?)",
            (7012, stamp(world.clock.now())),
        )
    await admin.send("/staff add 7013")  # staff who never wrote: a role, kept

    world.clock.advance(days=2)
    young = Stranger(world, 7014)
    await young.send("hello")
    world.clock.advance(days=29)  # old strangers are 31 days old, the young one 29

    assert await world.services.users.forget_unconsented(30) == 1
    assert await user_ids(world) == {1, 7010, 7012, 7013, 7014}
    assert await world.services.users.forget_unconsented(30) == 0

    world.clock.advance(days=2)
    assert await world.services.users.forget_unconsented(30) == 1  # now the young one
    assert await user_ids(world) == {1, 7010, 7012, 7013}


async def test_forget_unconsented_works_in_batches(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users_service, "FORGET_BATCH", 2)
    start: datetime = world.clock.now()
    for n in range(5):
        await world.services.users.touch(7100 + n, "en", f"{FIRST} {n}", USERNAME)
    rows = await world.rows("SELECT full_name, username FROM users WHERE telegram_id >= 7100")
    assert rows == [{"full_name": "", "username": None}] * 5
    world.clock.set(start + timedelta(days=30, seconds=1))
    assert await world.services.users.forget_unconsented(30) == 5
    assert await world.rows("SELECT * FROM users WHERE telegram_id >= 7100") == []
