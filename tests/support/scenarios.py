"""Steps many tests share, done the way a person does them in the chat."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time

import pytest

from bot.demo.botapi import BOT_USERNAME, Output
from bot.i18n import Texts
from tests.support.people import Person
from tests.support.world import World

ADMIN = 1  # the admin id every World is configured with
# (Telegram's language_code, the locale the bot answers in), for parametrize("code, locale")
LANGUAGES = [
    pytest.param("zh-hans", "zh_CN", id="zh"),
    pytest.param("en", "en", id="en"),
]
# An invitation link; group 1 is the code, as stored (the link says inv_<code>).
INVITE_LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=inv_([A-Za-z0-9_-]+)")


def texts_of(person: Person) -> Texts:
    """Everything in this person's language: messages, dates, numbers."""
    locale = "zh_CN" if person.language_code.startswith("zh") else "en"
    return person.world.services.i18n.texts(locale)


def shown_day(person: Person, day: date) -> str:
    """A calendar day as this person reads it."""
    texts = texts_of(person)
    return texts.date(datetime.combine(day, time(12), tzinfo=texts.zone))


def say(person: Person, key: str, **params: object) -> str:
    """A catalog message as this person reads it."""
    return texts_of(person)(key, **params)


def only(outputs: list[Output]) -> Output:
    """The one answer to a step, which must have had exactly one."""
    assert len(outputs) == 1, [(o.kind, o.text) for o in outputs]
    return outputs[0]


async def agree(person: Person) -> None:
    """/start and agree to the privacy notice; the consent is stored."""
    await person.send("/start")
    await person.tap(say(person, "privacy.agree"))
    assert (await person.world.user_row(person.id))["consent_at"] is not None


async def consented_admin(world: World, language_code: str = "zh-hans") -> Person:
    """The admin of every World, who has agreed to the privacy notice (now, if not yet)."""
    admin = Person(world, ADMIN, "管理员", language_code)
    consented = await world.rows(
        "SELECT 1 FROM users WHERE telegram_id = ? AND consent_at IS NOT NULL", (ADMIN,)
    )
    if not consented:
        await agree(admin)
    return admin


async def onboard(
    voter: Person, street: str = "学院路街道", station: str = "学院路第一联络站"
) -> None:
    """/start, agree to the privacy notice, pick the street and the station."""
    await agree(voter)
    await voter.tap(street)
    await voter.tap(station)


async def invite_deputy(
    world: World,
    admin: Person,
    person: Callable[..., Person],
    user_id: int,
    name: str,
    street: str = "学院路街道",
    station: str = "学院路第一联络站",
    language_code: str = "zh-hans",
) -> Person:
    """A deputy made the real way: staff /invite → street → station, the deputy opens the
    one-time link and agrees."""
    await admin.send(f"/invite {name}")
    await admin.tap(street)
    await admin.tap(station)
    match = INVITE_LINK.search(admin.last)
    assert match, admin.last
    deputy = person(user_id, name, language_code)
    await deputy.send(f"/start inv_{match.group(1)}")
    await deputy.tap(say(deputy, "privacy.agree"))
    assert (await world.user_row(user_id))["role"] == "deputy"
    return deputy
