"""/duty and /visit keep typed drafts. A draft the previous version stored (a JSON dict with
its keys, at a step) resumes after the upgrade's restart and finishes; a draft that can no
longer be read ends its conversation with a word to the person, nothing crashing; and the
/duty station step finds a station by a typed name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.runtime.buttons import Picker, StationPicked
from bot.runtime.buttons.duty import DutySave, DutyWeek, WeekOfMonth
from bot.runtime.buttons.visits import PhotosAction, VisitPhotos
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, onboard, say
from tests.support.world import World


async def left_by_the_previous_version(
    world: World, person: Person, name: str, step: str, draft: dict[str, Any]
) -> None:
    """The rows an older version wrote mid-conversation, then a restart that reads them."""
    now = world.clock.now().isoformat()
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO drafts (user_id, kind, data, updated_at) VALUES (?, ?, ?, ?)",
            (person.id, name, json.dumps(draft, ensure_ascii=False), now),
        )
        await tx.execute(
            "INSERT INTO conversation_states (name, key, state, updated_at) VALUES (?, ?, ?, ?)",
            (name, json.dumps([person.id, person.id]), json.dumps(step), now),
        )
    await world.crash_and_restart()


async def nothing_left_of(world: World, name: str, person: Person) -> None:
    assert await world.conversation_state(name, person.id) is None
    assert await world.rows("SELECT * FROM drafts WHERE kind = ?", (name,)) == []
    assert world.conversations_in_memory() == 0


# --- /duty -------------------------------------------------------------------------------


async def test_a_duty_draft_of_the_previous_version_resumes_and_saves(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 7001, "张代表")
    station = await world.station_id("学院路第一联络站")
    # a one-off turn, its day typed, waiting for the hours ("mode", "date", "deputies")
    old = {"mode": "home_visit", "station_id": station, "deputies": [], "date": "2026-12-20"}
    await left_by_the_previous_version(world, admin, "duty", "time", old)
    await admin.send("09:30-10:30")
    assert await world.conversation_state("duty", admin.id) == "deputies"
    await admin.tap("张代表")
    await admin.tap("完成")
    assert "2026-12-20" in admin.last and "09:30–10:30" in admin.last
    await admin.tap("✅ 保存")
    assert "已保存：回家听意见" in admin.last
    turns = await world.rows("SELECT kind, station_id FROM duty_turns")
    assert turns == [{"kind": "home_visit", "station_id": station}]
    (row,) = await world.rows("SELECT deputy_id FROM duty_turn_deputies")
    assert row["deputy_id"] == deputy.id
    await nothing_left_of(world, "duty", admin)


async def test_a_duty_rule_of_the_previous_version_at_its_summary_saves(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 7002, "李代表")
    station = await world.station_id("学院路第一联络站")
    # the hours as one "time", the summary shown
    old = {
        "mode": "rule",
        "station_id": station,
        "week": 2,
        "weekday": 5,
        "time": "09:00-11:00",
        "deputies": [deputy.id],
    }
    await left_by_the_previous_version(world, admin, "duty", "confirm", old)
    await admin.tap_data(DutySave().pack())
    assert "已保存规则 #1" in admin.last
    (rule,) = await world.rows("SELECT week_of_month, weekday, starts, ends FROM duty_rules")
    assert rule == {"week_of_month": 2, "weekday": 5, "starts": "09:00", "ends": "11:00"}
    await nothing_left_of(world, "duty", admin)


async def test_an_unreadable_duty_draft_ends_duty_with_a_word(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    await left_by_the_previous_version(
        world, admin, "duty", "week", {"mode": "rule", "station_id": "学院路"}
    )
    out = await admin.tap_data(DutyWeek(week=WeekOfMonth.SECOND).pack())
    unreadable = say(admin, "conversation.draft_unreadable")
    assert [(o.kind, o.text) for o in out] == [("alert", unreadable)]
    await nothing_left_of(world, "duty", admin)
    await admin.send("/duty")  # and it opens again
    assert await world.conversation_state("duty", admin.id) == "menu"


async def test_the_duty_station_step_finds_a_typed_name(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    await invite_deputy(world, admin, person, 7003, "王代表")
    await admin.send("/duty")
    await admin.tap("每月接待规则")
    assert say(admin, "station.hint_type_a_name") in admin.last
    await admin.send("不存在的站")
    assert say(admin, "station.none_found", words="不存在的站") in admin.last
    assert await world.conversation_state("duty", admin.id) == "station"
    await admin.send("第一")
    assert admin.last == say(admin, "station.found", words="第一")
    await admin.tap(
        say(admin, "station.found_item", station="学院路第一联络站", street="学院路街道")
    )
    assert admin.last == say(admin, "duty.pick_week")
    assert await world.conversation_state("duty", admin.id) == "week"
    draft = await world.rows("SELECT data FROM drafts WHERE kind = 'duty'")
    assert json.loads(draft[0]["data"])["station_id"] == await world.station_id("学院路第一联络站")


async def test_the_visit_station_step_finds_a_typed_name(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 7004, "钱代表", language_code="en")
    await deputy.send("/visit")
    await deputy.tap(say(deputy, "visit.kind_inspection"))
    await deputy.tap(say(deputy, "visit.today"))
    assert say(deputy, "station.hint_type_a_name") in deputy.last
    await deputy.send("qinghe%")
    assert say(deputy, "station.none_found", words="qinghe%") in deputy.last
    assert await world.conversation_state("visit", deputy.id) == "station"
    await deputy.send("清河")
    assert deputy.last == say(deputy, "station.found", words="清河")
    await deputy.tap(say(deputy, "station.found_item", station="清河联络站", street="清河街道"))
    assert await world.conversation_state("visit", deputy.id) == "voters"
    draft = await world.rows("SELECT data FROM drafts WHERE kind = 'visit'")
    assert json.loads(draft[0]["data"])["station_id"] == await world.station_id("清河联络站")


# --- /visit ------------------------------------------------------------------------------


async def test_a_visit_draft_of_the_previous_version_resumes_and_saves(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 7101, "赵代表")
    station = await world.station_id("海淀街道联络站")
    old = {
        "kind": "inspection",
        "visit_date": "2026-11-25",
        "station_id": station,
        "turn_id": None,
        "voters_met": 12,
        "opinions_received": 3,
        "done_for_voters": "修好了路灯",
        "notes": None,
        "photos": [],
        "editing": None,
        "field": None,
    }
    await left_by_the_previous_version(world, deputy, "visit", "notes", old)
    await deputy.send("会后回访")
    assert await world.conversation_state("visit", deputy.id) == "photos"
    await deputy.tap_data(VisitPhotos(action=PhotosAction.DONE).pack())
    (visit,) = await world.rows("SELECT * FROM visits")
    assert (visit["kind"], visit["visit_date"], visit["station_id"]) == (
        "inspection",
        "2026-11-25",
        station,
    )
    assert (visit["voters_met"], visit["opinions_received"]) == (12, 3)
    assert (visit["done_for_voters"], visit["notes"]) == ("修好了路灯", "会后回访")
    await nothing_left_of(world, "visit", deputy)


async def test_an_unreadable_visit_draft_ends_visit_with_a_word(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 7102, "钱代表")
    await left_by_the_previous_version(
        world, deputy, "visit", "opinions", {"kind": "inspection", "voters_met": "很多"}
    )
    out = await deputy.send("3")
    assert [o.text for o in out] == [say(deputy, "conversation.draft_unreadable")]
    await nothing_left_of(world, "visit", deputy)
    assert await world.rows("SELECT * FROM visits") == []
    await deputy.send("/visit")  # and it opens again
    assert await world.conversation_state("visit", deputy.id) == "kind"


async def test_an_unreadable_visit_draft_met_by_the_station_picker_ends_visit(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    deputy = await invite_deputy(world, admin, person, 7103, "孙代表")
    await left_by_the_previous_version(
        world, deputy, "visit", "station", {"kind": "party", "visit_date": "2026-11-25"}
    )
    station = await world.station_id("清河联络站")
    out = await deputy.tap_data(StationPicked(purpose=Picker.VISIT, station=station).pack())
    unreadable = say(deputy, "conversation.draft_unreadable")
    assert [(o.kind, o.text) for o in out] == [("alert", unreadable)]
    await nothing_left_of(world, "visit", deputy)


# --- /opinion (its draft has a table of its own) -------------------------------------------


async def test_an_unreadable_opinion_draft_ends_the_opinion_and_says_so(
    world: World, person: Callable[..., Person]
) -> None:
    voter = person(7201, "孙女士")
    await onboard(voter)
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.traffic"))
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE opinion_drafts SET data = '{\"photos\": 5}'")
    out = await voter.send("小区门口的红绿灯时间太短，老人过马路来不及。")
    assert [o.text for o in out] == [say(voter, "conversation.draft_unreadable")]
    assert await world.conversation_state("opinion", voter.id) is None
    assert await world.rows("SELECT * FROM opinion_drafts") == []
    assert world.conversations_in_memory() == 0
    await voter.send("/opinion")  # and it opens again
    assert await world.conversation_state("opinion", voter.id) == "category"
