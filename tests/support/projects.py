"""People and projects the livelihood-project tests share, made the real way where the chat
makes them (deputies by invitation, voters by onboarding) and through the project service
where another feature would (the selection ballot makes a candidate chosen)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from bot.demo.botapi import Output
from bot.services.projects import NewCandidate
from tests.support.people import Person
from tests.support.scenarios import consented_admin, invite_deputy, onboard, say
from tests.support.world import World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
LOCALE = {"zh-hans": "zh_CN", "en": "en"}


def t(person: Person, key: str, **params: object) -> str:
    """A catalog message as this person reads it."""
    return say(person, key, **params)


def alerts(outputs: list[Output]) -> list[str]:
    return [o.text for o in outputs if o.kind == "alert"]


async def staff(world: World, lang: str = "zh-hans") -> Person:
    """The admin, who is staff, having agreed to the privacy notice."""
    return await consented_admin(world, lang)


async def deputy(
    world: World,
    user_id: int,
    lang: str = "zh-hans",
    name: str = "王代表",
    street: str = "学院路街道",
    station: str = "学院路第一联络站",
) -> Person:
    """A deputy made the real way: the admin's /invite, and the deputy opening the link
    (the admin, when new, speaks `lang` too)."""
    admin = await consented_admin(world, lang)
    make = functools.partial(Person, world)
    return await invite_deputy(world, admin, make, user_id, name, street, station, lang)


async def voter(world: World, user_id: int, lang: str = "zh-hans") -> Person:
    person = Person(world, user_id, "选民", lang)
    await onboard(person)
    return person


async def project(
    world: World,
    title: str,
    *,
    state: str = "candidate",
    year: int = 2026,
    department: str = "区城市管理委员会",
    description: str = "",
    budget: float | None = None,
) -> int:
    """A project entered as the import enters it; a state other than candidate set as the
    ballots (bot.services.ballots) set it when a selection closes."""
    errors: list[str] = []
    added = await world.services.projects.add_candidates(
        year, [NewCandidate(2, title, description, department, budget)], errors
    )
    assert added == 1, errors
    rows = await world.rows("SELECT id FROM projects WHERE year = ? AND title = ?", (year, title))
    project_id = int(rows[0]["id"])
    if state != "candidate":
        async with world.db.transaction() as tx:
            await tx.execute("UPDATE projects SET state = ? WHERE id = ?", (state, project_id))
    return project_id


async def project_row(world: World, project_id: int) -> dict[str, Any]:
    rows = await world.rows("SELECT * FROM projects WHERE id = ?", (project_id,))
    assert len(rows) == 1
    return rows[0]
