"""Fixtures: a running deployment (`world`) and people to talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.support.people import Person
from tests.support.world import World


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path)
    await w.start()
    await w.load_stations()
    yield w
    await w.stop()


@pytest.fixture
def person(world: World) -> Callable[..., Person]:
    def make(user_id: int, first_name: str = "张三", language_code: str = "zh-hans") -> Person:
        return Person(world, user_id, first_name, language_code)

    return make
