"""Edge cases found in review: long cards, reused turn ids, a reminder on the turn's own day,
a street audience across a restart, names in alerts and previews."""

from __future__ import annotations

from datetime import datetime

from bot.clock import FixedClock
from bot.runtime.buttons.inbox import Claim
from bot.services.flood import FloodGuard
from storage.models import TurnKind
from tests.support.inbox import submit
from tests.support.scenarios import ADMIN, invite_deputy, onboard, say
from tests.support.world import SHANGHAI, World


async def test_a_card_with_the_longest_opinion_and_answer_still_opens(
    world: World, person, admin
) -> None:
    voter = person(6001, "王芳")
    await submit(voter, "长" * 2000)
    await admin.send("/opinions")
    await admin.tap(next(b for b in admin.buttons() if b.startswith("HD-2026-000001")))
    await admin.tap("答复")
    await admin.send("答" * 2000)
    await voter.send("/my")
    await voter.tap(next(b for b in voter.buttons() if b.startswith("HD-2026-000001")))
    card = voter.last
    assert "HD-2026-000001" in card and len(card) <= 4096
    assert "长" * 1499 + "…" in card and "答" * 199 + "…" in card
    assert not any("出了点问题" in o.text for o in voter.seen)


async def test_a_changed_rule_does_not_lose_the_reminders_of_its_new_turns(
    world: World, person, admin
) -> None:
    deputy = await invite_deputy(world, admin, person, 6002, "张代表")
    staff = await world.services.users.get(ADMIN)
    rule = await world.services.calendar.add_rule(
        staff,
        station_id=1,
        week_of_month=2,
        weekday=5,
        time_range="15:00-17:00",
        deputy_ids=[deputy.id],
    )
    world.clock.set(datetime(2026, 12, 11, 18, 0, tzinfo=SHANGHAI))
    assert await world.services.reminders.run_due() == 1  # the evening before 12 Dec
    # moved to the second Sunday: its first new turn (13 Dec) may get a reused id
    await world.services.calendar.change_rule(
        staff,
        rule.id,
        week_of_month=2,
        weekday=6,
        time_range="15:00-17:00",
        deputy_ids=[deputy.id],
    )
    world.clock.set(datetime(2026, 12, 12, 18, 0, tzinfo=SHANGHAI))
    assert await world.services.reminders.run_due() == 1  # the evening before 13 Dec


async def test_no_evening_reminder_on_the_turns_own_day(world: World, person, admin) -> None:
    deputy = await invite_deputy(world, admin, person, 6003, "李代表")
    staff = await world.services.users.get(ADMIN)
    world.clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI))
    await world.services.calendar.add_turn(
        staff,
        kind=TurnKind.RECEPTION,
        station_id=1,
        day=datetime(2026, 11, 28, tzinfo=SHANGHAI).date(),
        time_range="15:00-17:00",
        deputy_ids=[deputy.id],
    )
    world.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI))
    assert await world.services.reminders.run_due() == 0
    rows = await world.rows("SELECT kind, outcome FROM reminders_sent")
    assert rows == [{"kind": "evening", "outcome": "dropped"}]
    world.clock.set(datetime(2026, 11, 28, 14, 0, tzinfo=SHANGHAI))
    assert await world.services.reminders.run_due() == 1


async def test_a_deputies_street_audience_survives_a_restart(world: World, person, admin) -> None:
    await invite_deputy(world, admin, person, 6004, "赵代表")
    voter = person(6005)
    await onboard(voter)
    await admin.send("/broadcast")
    await admin.send("代表们请注意")
    await admin.tap("某街镇的代表")
    await world.crash_and_restart()
    await admin.tap("学院路街道")
    assert "对象：某街镇的代表: 学院路街道" in admin.last
    assert "收件人数：<b>1</b>" in admin.last


async def test_names_are_plain_in_alerts_and_escaped_in_messages(
    world: World, person, admin
) -> None:
    zhang = await invite_deputy(world, admin, person, 6006, "O'Neil <张>")
    li = await invite_deputy(world, admin, person, 6007, "李四")
    voter = person(6008)
    await submit(voter, "小区路灯坏了一个多月，晚上很不安全。")
    await zhang.tap_data(Claim(opinion=1).pack())
    await li.tap_data(Claim(opinion=1).pack())
    alert = li.seen[-1]
    assert alert.kind == "alert" and "O'Neil <张>" in alert.text
    assert say(li, "inbox.held_by", tracking_no="HD-2026-000001", name="O'Neil <张>") == alert.text


async def test_an_invitation_in_the_making_survives_a_restart(world: World, person, admin) -> None:
    await admin.send("/invite 钱代表")
    await world.crash_and_restart()
    await admin.tap("学院路街道")
    await admin.tap("学院路第一联络站")
    assert "已为代表<b>钱代表</b>（学院路第一联络站）生成邀请" in admin.last
    assert await world.rows("SELECT kind FROM drafts") == []


# --- the flood guard's memory -----------------------------------------------------------------


def test_flood_guard_records_expire_on_time() -> None:
    """A burst of users does not keep its records until later traffic: one check after the
    window has passed drops them all."""
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    guard = FloodGuard(clock, limit=20, window_seconds=10)
    for user_id in range(5_000):
        assert guard.check(user_id) == (True, False)
    assert guard.tracked() == 5_000

    clock.advance(seconds=9.999)
    guard.check(5_000)
    assert guard.tracked() == 5_001  # still inside the window: nothing forgotten early

    clock.advance(seconds=10)
    assert guard.check(6_000) == (True, False)
    assert guard.tracked() == 1


def test_flood_guard_limits_then_forgets_a_flooder() -> None:
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    guard = FloodGuard(clock, limit=3, window_seconds=3)
    assert [guard.check(1) for _ in range(5)] == [(True, False)] * 3 + [
        (False, True),
        (False, False),
    ]
    clock.advance(seconds=2.999999)
    assert guard.check(1) == (False, False)  # exactly to the microsecond
    clock.advance(microseconds=1)
    assert guard.check(1) == (True, False)
    clock.advance(seconds=3)
    guard.forget_idle()
    assert guard.tracked() == 0
    # a clock set back in time does not lock anyone out
    for _ in range(3):
        guard.check(2)
    clock.advance(days=-1)
    assert guard.check(2) == (True, False)
