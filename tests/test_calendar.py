"""The duty calendar: staff set up rules and turns in chat, deputies and voters see them,
the .ics imports cleanly, and reminders fire at the right time, once, across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.errors import DomainError
from bot.services.calendar import nth_weekday
from bot.services.typed_dates import parse_time_range
from storage.models import TurnKind
from tests.support.people import Person
from tests.support.scenarios import ADMIN, invite_deputy, onboard
from tests.support.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def admin(world: World, person) -> Person:
    staff = person(ADMIN, "管理员")
    await onboard(staff)
    return staff


def test_nth_weekday_and_time_range() -> None:
    assert str(nth_weekday(2026, 12, 2, 5)) == "2026-12-12"  # second Saturday
    assert str(nth_weekday(2026, 12, -1, 0)) == "2026-12-28"  # last Monday
    assert nth_weekday(2026, 2, 5, 0) is None  # no fifth Monday in February 2026
    assert parse_time_range("9:00-11:30") == ("09:00", "11:30")
    for bad in ("11:00-09:00", "25:00-26:00", "9点", ""):
        with pytest.raises(DomainError):
            parse_time_range(bad)


async def test_staff_sets_monthly_rule_in_chat_and_voter_sees_it(
    world: World, person, admin
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张代表")
    await invite_deputy(world, admin, person, 3002, "李代表")
    await admin.send("/duty")
    await admin.tap("每月接待规则")
    await admin.tap("学院路街道")
    await admin.tap("学院路第一联络站")
    await admin.tap("第二个")
    await admin.tap("星期六")
    await admin.send("11点到9点")  # the end before the start
    assert "时间段的格式不对" in admin.last
    await admin.send("09:00-11:00")
    await admin.tap("张代表")
    await admin.tap("✓ 张代表")  # untick
    await admin.tap("完成")
    assert "请至少选择一位代表" in admin.last
    await admin.tap("张代表")
    await admin.tap("李代表")
    await admin.tap("完成")
    assert "每月第二个星期六 09:00–11:00" in admin.last
    await admin.tap("✅ 保存")
    assert "已保存规则 #1" in admin.last
    turns = await world.rows("SELECT starts_at FROM duty_turns ORDER BY starts_at")
    first = datetime.fromisoformat(turns[0]["starts_at"]).astimezone(SHANGHAI)
    assert (first.date().isoformat(), first.hour) == ("2026-12-12", 9)
    assert len(turns) >= 12

    voter = person(3100, "选民")
    await onboard(voter)
    await voter.send("/schedule")
    message = [o for o in voter.seen if o.kind == "message"][-1].text
    assert "学院路第一联络站近期接待日" in message
    assert "2026年12月12日 09:00–11:00" in message and "张代表、李代表" in message
    assert voter.seen[-1].kind == "venue"

    await zhang.send("/schedule")
    assert "进站接待 · 学院路第一联络站" in zhang.last


async def test_rule_change_keeps_the_past_and_end_stops_the_future(
    world: World, person, admin
) -> None:
    deputy = await invite_deputy(world, admin, person, 3003, "王代表")
    rule = await world.services.calendar.add_rule(
        await world.services.users.get(ADMIN),
        station_id=1,
        week_of_month=1,
        weekday=2,
        time_range="14:00-16:00",
        deputy_ids=[deputy.id],
    )
    before = await world.rows("SELECT id, starts_at, uid FROM duty_turns ORDER BY starts_at")
    world.clock.advance(days=40)  # one turn is now in the past
    await admin.send("/duty")
    await admin.tap("现有规则")
    assert f"#{rule.id}" in admin.last
    await admin.tap(f"修改 #{rule.id}")
    await admin.tap("第三个")
    await admin.tap("星期三")
    await admin.send("15:00-17:00")
    await admin.tap("完成")
    await admin.tap("✅ 保存")
    assert "已修改" in admin.last
    after = await world.rows("SELECT starts_at, uid FROM duty_turns ORDER BY starts_at")
    past = [r for r in before if datetime.fromisoformat(r["starts_at"]) < world.clock.now()]
    assert past and all(p["starts_at"] in [a["starts_at"] for a in after] for p in past)
    future = [a for a in after if datetime.fromisoformat(a["starts_at"]) > world.clock.now()]
    assert all(
        datetime.fromisoformat(a["starts_at"]).astimezone(SHANGHAI).hour == 15 for a in future
    )

    await admin.send("/duty")
    await admin.tap("现有规则")
    await admin.tap(f"停止 #{rule.id}")
    await admin.tap("确定停止")
    assert "已停止" in admin.last
    left = await world.rows("SELECT starts_at FROM duty_turns")
    assert all(datetime.fromisoformat(r["starts_at"]) < world.clock.now() for r in left)


async def test_one_off_turn_bad_input_and_access(world: World, person, admin) -> None:
    deputy = await invite_deputy(world, admin, person, 3004, "赵代表")
    await admin.send("/duty")
    await admin.tap("回家听意见（季度）")
    await admin.tap("学院路街道")
    await admin.tap("学院路第一联络站")
    await admin.send("2-30")
    assert "日期的格式不对" in admin.last
    await admin.send("2026-11-01")
    assert "已经过去" in admin.last
    await admin.send_sticker()
    assert "请点击上方的按钮" in admin.last
    await admin.send("12-20")
    await admin.send("09:30-10:30")
    await admin.tap("赵代表")
    await admin.tap("完成")
    await admin.tap("✅ 保存")
    assert "已保存：回家听意见" in admin.last
    rows = await world.rows("SELECT kind, station_id FROM duty_turns")
    assert rows == [{"kind": "home_visit", "station_id": 1}]

    await deputy.send("/duty")
    assert "您没有权限" in deputy.last
    voter = person(3101)
    await onboard(voter)
    await voter.send("/calendar")
    assert "您没有权限" in voter.last


async def test_calendar_ics_parses_with_stable_uids(world: World, person, admin) -> None:
    deputy = await invite_deputy(world, admin, person, 3005, "钱代表")
    staff = await world.services.users.get(ADMIN)
    await world.services.calendar.add_rule(
        staff,
        station_id=1,
        week_of_month=2,
        weekday=5,
        time_range="09:00-11:00",
        deputy_ids=[deputy.id],
    )
    await deputy.send("/calendar")
    calls = world.api.calls_to("sendDocument")
    assert calls, "no .ics was sent"
    assert calls[-1].params["caption"].startswith("您的履职日历")
    cal = icalendar.Calendar.from_ical(next(iter(calls[-1].files.values())))
    events = list(cal.walk("VEVENT"))
    assert len(events) >= 12
    first = min(events, key=lambda e: e.decoded("dtstart"))
    start = first.decoded("dtstart")
    assert start.tzinfo is not None and start.utcoffset() == timedelta(hours=8)
    assert (start.date().isoformat(), start.hour) == ("2026-12-12", 9)
    assert str(first["location"]) == "学院路 1 号"
    uids = [str(e["uid"]) for e in events]
    assert len(set(uids)) == len(uids)
    assert str(first["uid"]) == "turn-r1-2026-12-12@jiazhan"


async def test_reminders_fire_once_at_the_right_time_across_restart(
    world: World, person, admin
) -> None:
    deputy = await invite_deputy(world, admin, person, 3006, "孙代表")
    staff = await world.services.users.get(ADMIN)
    turn = await world.services.calendar.add_turn(
        staff,
        kind=TurnKind.RECEPTION,
        station_id=1,
        day=datetime(2026, 11, 28, tzinfo=SHANGHAI).date(),
        time_range="09:00-11:00",
        deputy_ids=[deputy.id],
    )
    reminders = world.services.reminders

    def sent() -> list[str]:
        return [o.text for o in world.api.outputs if o.chat_id == deputy.id and "⏰" in o.text]

    world.clock.set(datetime(2026, 11, 27, 17, 59, tzinfo=SHANGHAI))
    assert await reminders.run_due() == 0
    upcoming = await reminders.upcoming(world.clock.now() + timedelta(hours=2))
    assert datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI) in upcoming
    world.clock.set(datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI))
    assert await reminders.run_due() == 1
    await world.outbox.drain()
    assert sent() == [
        "⏰ 明天 2026年11月28日 09:00：进站接待\n地点：学院路第一联络站（学院路 1 号）"
    ]

    await world.crash_and_restart()  # the restart re-runs what is due: nothing new
    assert await world.services.reminders.run_due() == 0
    world.clock.set(datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI))
    assert await world.services.reminders.run_due() == 1
    assert await world.services.reminders.run_due() == 0
    await world.outbox.drain()
    assert len(sent()) == 2 and sent()[-1].startswith("⏰ 一小时后")

    world.clock.set(datetime(2026, 11, 28, 11, 0, tzinfo=SHANGHAI))
    assert await world.services.reminders.run_due() == 1
    await world.outbox.drain()
    assert "要记录这次履职吗" in deputy.world.api.outputs[-1].text
    assert deputy.buttons()[0] == "📝 记录这次履职"
    assert turn.id == 1


async def test_missed_reminders_sent_if_turn_not_begun_dropped_if_begun(
    world: World, person, admin
) -> None:
    deputy = await invite_deputy(world, admin, person, 3007, "周代表", language_code="en")
    staff = await world.services.users.get(ADMIN)
    for day in (28, 29):
        await world.services.calendar.add_turn(
            staff,
            kind=TurnKind.RECEPTION,
            station_id=1,
            day=datetime(2026, 11, day, tzinfo=SHANGHAI).date(),
            time_range="09:00-11:00",
            deputy_ids=[deputy.id],
        )
    await world.stop()
    # the bot was down from before the first evening reminder until 08:30 on the 28th
    world.clock.set(datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI))
    await world.start()  # the start sends what is missed
    await world.outbox.drain()
    texts = [o.text for o in world.api.outputs if o.chat_id == deputy.id and "⏰" in o.text]
    assert texts == []  # the turn of the 28th has begun: both reminders dropped
    rows = await world.rows("SELECT kind, outcome FROM reminders_sent ORDER BY kind")
    assert {(r["kind"], r["outcome"]) for r in rows} == {
        ("evening", "dropped"),
        ("hour", "dropped"),
    }

    world.clock.set(datetime(2026, 11, 29, 8, 30, tzinfo=SHANGHAI))
    await world.crash_and_restart()
    await world.outbox.drain()
    texts = [o.text for o in world.api.outputs if o.chat_id == deputy.id and "⏰" in o.text]
    # of the evening and the hour reminder of the 29th only the later one goes
    assert texts == [
        "⏰ In one hour, Nov 29, 2026 09:00: Reception turn\nPlace: 学院路第一联络站 (学院路 1 号)"
    ]


TURNS_CSV = """kind,street,station,date,week_of_month,weekday,time,deputies
rule,学院路街道,学院路第一联络站,,2,6,09:00-11:00,吴代表;郑代表
home_visit,学院路街道,学院路第一联络站,2027-01-15,,,14:00-16:00,吴代表
annual_account,海淀街道,海淀街道联络站,2026-12-20,,,09:00-12:00,郑代表
"""


async def test_turns_import_is_all_or_nothing_and_idempotent(
    world: World, person, admin, tmp_path
) -> None:
    from bot.services.calendar_import import import_turns

    await invite_deputy(world, admin, person, 3008, "吴代表")
    await invite_deputy(
        world, admin, person, 3009, "郑代表", street="海淀街道", station="海淀街道联络站"
    )
    calendar = world.services.calendar
    bad = tmp_path / "bad.csv"
    bad.write_text(
        TURNS_CSV
        + "rule,学院路街道,学院路第一联络站,,6,6,09:00-11:00,吴代表\n"
        + "reception,学院路街道,不存在的站,2026-12-01,,,09:00-11:00,吴代表\n"
        + "reception,学院路街道,学院路第一联络站,2026-12-01,,,11:00-09:00,吴代表\n"
        + "reception,学院路街道,学院路第一联络站,2026-01-01,,,09:00-11:00,吴代表\n"
        + "reception,学院路街道,学院路第一联络站,2026-12-01,,,09:00-11:00,无名氏\n",
        encoding="utf-8",
    )
    report = await import_turns(calendar, bad)
    assert [e.split(":")[0] for e in report.errors] == [
        "line 5",
        "line 6",
        "line 7",
        "line 8",
        "line 9",
    ]
    assert await world.rows("SELECT * FROM duty_turns") == []

    good = tmp_path / "good.csv"
    good.write_text(TURNS_CSV, encoding="utf-8")
    report = await import_turns(calendar, good)
    assert (report.errors, report.created_or_updated, report.unchanged) == ([], 3, 0)
    kinds = await world.rows("SELECT kind, count(*) AS n FROM duty_turns GROUP BY kind")
    counts = {r["kind"]: r["n"] for r in kinds}
    assert counts["home_visit"] == 1 and counts["annual_account"] == 1 and counts["reception"] >= 12
    again = await import_turns(calendar, good)
    assert (again.created_or_updated, again.unchanged) == (0, 3)
    assert await world.rows("SELECT count(*) AS n FROM duty_turns") == [{"n": sum(counts.values())}]
