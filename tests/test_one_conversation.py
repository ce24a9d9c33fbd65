"""A person is in one multi-step conversation at a time: opening another is refused with a
clear message until they finish or /cancel, whatever order the handlers are tried in."""

from __future__ import annotations

from tests.support.scenarios import ADMIN, onboard
from tests.support.world import World


async def test_opening_a_second_conversation_is_refused(world: World, person) -> None:
    staff = person(ADMIN, "管理员")
    await onboard(staff)
    await staff.send("/duty")
    assert "值班日历" in staff.last
    await staff.send("/opinion")
    assert "您还有一项操作没有完成" in staff.last
    assert "交通出行" not in staff.buttons()
    await staff.send("/broadcast")
    assert "您还有一项操作没有完成" in staff.last
    states = await world.rows("SELECT name FROM conversation_states")
    assert [s["name"] for s in states] == ["duty"]
    await staff.send("/cancel")
    await staff.send("/opinion")
    assert "请选择类别" in staff.last


async def test_the_same_conversation_keeps_its_own_in_progress_message(
    world: World, person
) -> None:
    voter = person(5101, "Ann", "en")
    await onboard(voter)
    await voter.send("/opinion")
    await voter.send("/opinion")
    assert "You are writing an opinion" in voter.last
    states = await world.rows("SELECT name, state FROM conversation_states")
    assert states == [{"name": "opinion", "state": '"category"'}]
