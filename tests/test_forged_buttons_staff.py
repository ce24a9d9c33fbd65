"""Forged taps on the buttons of staff and deputies (/duty, /visit, /visits, the "log this
visit?" prompt, /broadcast, /broadcasts, a broadcast's progress): an id that is zero,
negative, past SQLite's 64-bit integers or not a number, a page out of range, a value no
button has: each gets the stale-button alert, never the apology, and changes nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.runtime.buttons import CallbackData, Picker, StationPicked, StreetPage, StreetStations
from bot.runtime.buttons.base import SQLITE_MAX_INT
from bot.runtime.buttons.broadcast import (
    BroadcastAudience,
    BroadcastControl,
    BroadcastListControl,
    BroadcastListPage,
    Control,
)
from bot.runtime.buttons.duty import (
    DutyDeputy,
    DutyMenu,
    DutyRuleControl,
    DutyWeek,
    DutyWeekday,
    RuleAction,
)
from bot.runtime.buttons.visits import (
    VisitDate,
    VisitDelete,
    VisitDeleteConfirmed,
    VisitEditField,
    VisitEditMenu,
    VisitFromTurn,
    VisitKindChosen,
    VisitListPage,
    VisitOpen,
    VisitStation,
)
from bot.services.visits import VisitField
from storage.models import TurnKind
from tests.support.people import Person
from tests.support.scenarios import ADMIN, invite_deputy, onboard, say
from tests.support.world import SHANGHAI, World

# What a forger puts where an id belongs, and where a page number does.
BAD_NUMBERS = ("0", "-1", str(SQLITE_MAX_INT + 1), "9" * 40, "abc", "1.5", " 1", "１", "")
BAD_PAGES = ("-1", "100000", "9" * 40, "abc", "1.5", " 1", "１", "")


def forged(valid: CallbackData, field: str) -> list[str]:
    """The data of `valid` with `field` replaced by each of BAD_NUMBERS (an id) or, for a
    field where 0 is valid (a page, a weekday), BAD_PAGES."""
    parts = valid.pack().split(":")
    index = list(type(valid).model_fields).index(field) + 1
    bad_values = BAD_PAGES if field in ("page", "weekday") else BAD_NUMBERS
    return [":".join([*parts[:index], bad, *parts[index + 1 :]]) for bad in bad_values]


async def refused(
    world: World, someone: Person, datas: list[str], key: str = "error.stale_button"
) -> None:
    """Each tap gets exactly the alert `key`, no apology and no message, and nothing in the
    database changes."""
    before = await world.snapshot()
    apology = say(someone, "error.internal")
    for data in datas:
        out = await someone.tap_data(data)
        assert [(o.kind, o.text) for o in out] == [("alert", say(someone, key))], data
        assert not any(apology in o.text for o in out), data
    assert await world.snapshot() == before


@pytest.fixture
async def admin(world: World, person) -> Person:
    staff = person(ADMIN, "管理员")
    await onboard(staff)
    return staff


# --- /duty ---------------------------------------------------------------------------------


async def test_forged_duty_buttons(world: World, person, admin) -> None:
    deputy = await invite_deputy(world, admin, person, 4001, "张代表")
    staff = await world.services.users.get(ADMIN)
    assert staff is not None
    rule = await world.services.calendar.add_rule(
        staff,
        station_id=1,
        week_of_month=1,
        weekday=2,
        time_range="14:00-16:00",
        deputy_ids=[deputy.id],
    )

    # the rule list is open: its buttons with forged rule ids
    await admin.send("/duty")
    await admin.tap("现有规则")
    rule_taps = [
        data
        for action in RuleAction
        for data in forged(DutyRuleControl(action=action, rule=rule.id), "rule")
    ]
    await refused(world, admin, rule_taps)
    # an id in range that no rule has is a rule that is not open, not a crash
    unknown = DutyRuleControl(action=RuleAction.END_CONFIRMED, rule=SQLITE_MAX_INT).pack()
    await refused(world, admin, [unknown], "duty.rule_not_open")
    await admin.send("/cancel")

    # setting up a rule: the menu, the station picker, the week, the weekday, the deputies
    await admin.send("/duty")
    menu = DutyMenu.prefix
    await refused(world, admin, [f"{menu}:bogus", f"{menu}:", f"{menu}:rule:1", menu])
    await admin.tap("每月接待规则")
    picks = [
        *forged(StreetPage(purpose=Picker.DUTY, page=0), "page"),
        *forged(StreetStations(purpose=Picker.DUTY, street=1, page=0), "street"),
        *forged(StationPicked(purpose=Picker.DUTY, station=1), "station"),
        f"{StationPicked.prefix}:xx:1",
    ]
    await refused(world, admin, picks)
    await admin.tap("学院路街道")
    await admin.tap("学院路第一联络站")
    weeks = ("0", "5", "-1", "LAST", "1:1")
    await refused(world, admin, [f"{DutyWeek.prefix}:{week}" for week in weeks])
    await admin.tap("第二个")
    await refused(
        world, admin, [f"{DutyWeekday.prefix}:7", *forged(DutyWeekday(weekday=1), "weekday")]
    )
    await admin.tap("星期六")
    await admin.send("09:00-11:00")
    await refused(world, admin, forged(DutyDeputy(deputy=deputy.id), "deputy"))
    await refused(world, admin, [DutyDeputy(deputy=SQLITE_MAX_INT).pack()], "duty.unknown_deputy")
    # the real buttons still work
    await admin.tap("张代表")
    await admin.tap("完成")
    await admin.tap("✅ 保存")
    assert "已保存规则" in admin.last


# --- /visit, /visits and the log prompt ------------------------------------------------------


async def test_forged_visit_buttons(world: World, person, admin) -> None:
    deputy = await invite_deputy(world, admin, person, 4101, "李代表")
    staff = await world.services.users.get(ADMIN)
    assert staff is not None
    turn = await world.services.calendar.add_turn(
        staff,
        kind=TurnKind.RECEPTION,
        station_id=1,
        day=datetime(2026, 11, 27, tzinfo=SHANGHAI).date(),
        time_range="09:00-11:00",
        deputy_ids=[deputy.id],
    )
    world.clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI))  # the turn is over
    await deputy.tap_data(VisitFromTurn(turn=turn.id).pack())
    await deputy.send("8")
    await deputy.send("2")
    (visit,) = await world.rows("SELECT id FROM visits")
    vid = visit["id"]

    # the log prompt and the log's own buttons, outside any conversation
    taps = [
        *forged(VisitFromTurn(turn=turn.id), "turn"),
        f"{VisitFromTurn.prefix}:turn",
        f"{VisitFromTurn.prefix}:visit:1",
        *forged(VisitOpen(visit=vid, page=0), "visit"),
        *forged(VisitEditMenu(visit=vid, page=0), "visit"),
        *forged(VisitEditField(visit=vid, field=VisitField.NOTES), "visit"),
        f"{VisitEditField.prefix}:{vid}:deputy_id",
        *forged(VisitDelete(visit=vid, page=0), "visit"),
        *forged(VisitDeleteConfirmed(visit=vid, page=0), "visit"),
        *forged(VisitListPage(page=0), "page"),
        f"{VisitListPage.prefix}:100000",
        *forged(VisitOpen(visit=vid, page=0), "page"),
    ]
    await refused(world, deputy, taps)
    # ids in range that nothing has are refused by their rule, not by a crash
    await refused(world, deputy, [VisitFromTurn(turn=SQLITE_MAX_INT).pack()], "visit.turn_unknown")
    await refused(
        world,
        deputy,
        [
            VisitOpen(visit=SQLITE_MAX_INT, page=0).pack(),
            VisitDeleteConfirmed(visit=SQLITE_MAX_INT, page=0).pack(),
        ],
        "error.not_your_record",
    )

    # in the middle of /visit, at the station step
    await deputy.send("/visit")
    await deputy.tap("视察")
    await deputy.tap("今天")
    picks = [
        *forged(StationPicked(purpose=Picker.VISIT, station=1), "station"),
        *forged(StreetStations(purpose=Picker.VISIT, street=1, page=0), "street"),
        f"{VisitKindChosen.prefix}:party",
        f"{VisitDate.prefix}:tomorrow",
        f"{VisitStation.prefix}:other",
    ]
    await refused(world, deputy, picks)
    await deputy.tap("不在联络站")
    rows = await world.rows(
        "SELECT state FROM conversation_states WHERE name = 'visit' AND key = ?",
        (f"[{deputy.id}, {deputy.id}]",),
    )
    assert rows == [{"state": '"voters"'}]


# --- /broadcast, /broadcasts and the progress message ----------------------------------------


async def test_forged_broadcast_buttons(world: World, person, admin) -> None:
    voter = person(4201, "选民")
    await onboard(voter)
    await world.outbox.abort()  # keep the broadcast running while it is tapped at
    await admin.send("/broadcast")
    await admin.send("通知")
    await admin.tap("全体选民")
    await admin.tap("✅ 确认发送")
    (broadcast,) = await world.rows("SELECT id FROM broadcasts")
    bid = broadcast["id"]

    taps = [
        data
        for action in Control
        for data in forged(BroadcastControl(action=action, broadcast=bid), "broadcast")
    ]
    taps += forged(BroadcastListControl(action=Control.CANCEL, broadcast=bid, page=0), "broadcast")
    taps += forged(BroadcastListControl(action=Control.PAUSE, broadcast=bid, page=0), "page")
    taps += forged(BroadcastListPage(page=0), "page")
    control, pages = BroadcastControl.prefix, BroadcastListPage.prefix
    taps += [f"{control}:stop:{bid}", f"{control}:pause:{bid}:1", f"{control}:pause"]
    taps += [f"{pages}:100000"]
    await refused(world, admin, taps)
    unknown = BroadcastControl(action=Control.CANCEL, broadcast=SQLITE_MAX_INT).pack()
    await refused(world, admin, [unknown], "error.not_your_record")

    # composing the next one, at the audience step
    await admin.send("/broadcast")
    await admin.send("第二条")
    picks = [
        f"{BroadcastAudience.prefix}:everyone",
        f"{BroadcastAudience.prefix}:",
        *forged(StreetPage(purpose=Picker.BROADCAST_STATION, page=0), "page"),
        *forged(StreetStations(purpose=Picker.VOTERS_STREET, street=1, page=0), "street"),
        *forged(StationPicked(purpose=Picker.BROADCAST_STATION, station=1), "station"),
    ]
    await refused(world, admin, picks)
    await admin.tap("全体选民")
    assert "收件人数：<b>1</b>" in admin.last
    assert (await world.rows("SELECT state FROM broadcasts"))[0]["state"] == "running"
