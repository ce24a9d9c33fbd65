"""Fixtures: running deployments (`world`, `make_world`), people to talk to them, the admin,
and the cast of the inbox tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.inbox import Cast, make_cast
from tests.support.people import Person
from tests.support.scenarios import ADMIN, onboard
from tests.support.world import MakeWorld, World


@pytest.fixture
async def make_world(tmp_path: Path) -> AsyncIterator[MakeWorld]:
    """Start Worlds with custom settings, the stations of STATIONS_CSV loaded unless
    `stations=False`; every one is stopped at teardown. The first lives in tmp_path, any
    further one in a folder of its own, so each has its own database."""
    made: list[World] = []
    async with contextlib.AsyncExitStack() as stopping:

        async def make(*, stations: bool = True, **settings: Any) -> World:
            folder = tmp_path if not made else tmp_path / f"world-{len(made) + 1}"
            folder.mkdir(exist_ok=True)
            w = World(folder, **settings)
            await w.start()
            stopping.push_async_callback(w.stop)
            made.append(w)
            if stations:
                await w.load_stations()
            return w

        yield make


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "world(**settings): settings of the `world` fixture's World for these tests"
    )


@pytest.fixture
async def world(make_world: MakeWorld, request: pytest.FixtureRequest) -> World:
    """The deployment most tests talk to: the stations loaded, default settings but those of
    the closest `pytest.mark.world(**settings)`."""
    marker = request.node.get_closest_marker("world")
    return await make_world(**(marker.kwargs if marker else {}))


@pytest.fixture
def person(world: World) -> Callable[..., Person]:
    def make(user_id: int, first_name: str = "张三", language_code: str = "zh-hans") -> Person:
        return Person(world, user_id, first_name, language_code)

    return make


@pytest.fixture
async def admin(world: World, person: Callable[..., Person]) -> Person:
    """The admin of `world`, onboarded at 学院路第一联络站."""
    staff = person(ADMIN, "管理员")
    await onboard(staff)
    return staff


@pytest.fixture
async def cast(world: World, person: Callable[..., Person], admin: Person) -> Cast:
    """Two deputies of 学院路第一联络站 and an anonymous opinion there (see `make_cast`)."""
    return await make_cast(world, person, admin)
