"""Steps many tests share, done the way a person does them in the chat."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.support.botapi import BOT_USERNAME
from tests.support.people import Person
from tests.support.world import World

ADMIN = 1  # the admin id every World is configured with
INVITE_LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=(inv_[A-Za-z0-9_-]+)")


def say(person: Person, key: str, **params: object) -> str:
    """A catalog message as this person reads it."""
    locale = "zh_CN" if person.language_code.startswith("zh") else "en"
    return person.world.services.i18n.texts(locale)(key, **params)


async def onboard(
    voter: Person, street: str = "学院路街道", station: str = "学院路第一联络站"
) -> None:
    """/start, agree to the privacy notice, pick the street and the station."""
    await voter.send("/start")
    await voter.tap(say(voter, "privacy.agree"))
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
    await deputy.send(f"/start {match.group(1)}")
    await deputy.tap(say(deputy, "privacy.agree"))
    rows = await world.rows("SELECT role FROM users WHERE telegram_id = ?", (user_id,))
    assert rows[0]["role"] == "deputy"
    return deputy
