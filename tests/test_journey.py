"""A new voter goes from /start to a tracking number, in both languages."""

from __future__ import annotations

from tests.support.people import Person
from tests.support.world import World


async def test_new_voter_reaches_tracking_number_in_chinese(world: World, person) -> None:
    voter: Person = person(1001, "李四", "zh-hans")
    await voter.send("/start")
    assert "隐私说明" in voter.last
    await voter.tap("✅ 同意并继续")
    assert "请选择您所在的联络站" in voter.seen[-2].text
    assert voter.keyboard() == ["📍 发送我的位置", "跳过"]  # the location key, below it
    await voter.tap("学院路街道")
    await voter.tap("学院路第一联络站")
    assert "学院路第一联络站" in voter.last
    assert voter.keyboard() == []

    await voter.send("/opinion")
    await voter.tap("交通出行")
    await voter.send("小区门口的红绿灯时间太短，老人过马路来不及。")
    await voter.tap("跳过")
    await voter.tap("跳过")
    await voter.tap("匿名提交")
    assert "请确认" in voter.last
    await voter.tap("📨 发送")
    assert "HD-2026-000001" in voter.last

    rows = await world.rows("SELECT * FROM opinions")
    assert len(rows) == 1
    assert rows[0]["category"] == "traffic"
    assert rows[0]["show_name"] == 0
    events = await world.rows("SELECT kind FROM opinion_events")
    assert [e["kind"] for e in events] == ["submitted"]
