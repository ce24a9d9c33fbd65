"""The visit log (履职记录): /visit step by step to a saved row, the "log this visit?" button of a
duty turn (one tap and two numbers), bad input at every step, a restart in the middle, /visits
with paging, and edit and delete by the deputy for 7 days and never by anyone else."""

from __future__ import annotations

import functools
import itertools
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot.demo.botapi import Output
from bot.runtime.buttons import Picker, StationPicked
from bot.runtime.buttons.visits import (
    TextStep,
    VisitDelete,
    VisitDeleteConfirmed,
    VisitEditField,
    VisitEditMenu,
    VisitFromTurn,
    VisitKindChosen,
    VisitListPage,
    VisitOpen,
    VisitSkip,
)
from bot.services.visits import VisitField, VisitKind
from storage.models import TurnKind
from storage.repos.calendar import CalendarRepo
from tests.support.people import Person
from tests.support.scenarios import ADMIN, agree, consented_admin, invite_deputy, say
from tests.support.world import SHANGHAI, World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
LOCALE = {"zh-hans": "zh_CN", "en": "en"}
TODAY = date(2026, 11, 26)  # World's clock: 2026-11-26 10:00 in Shanghai
_turn_uids = itertools.count(1)

# What a deputy taps and reads, written out so a wrong language or a missing catalog fails.
L: dict[str, dict[str, str]] = {
    "zh-hans": {
        "reception": "进站接待",
        "inspection": "视察",
        "research": "调研",
        "training": "培训",
        "today": "今天",
        "yesterday": "昨天",
        "other_date": "其他日期",
        "own": "🏠 学院路第一联络站",
        "no_station": "不在联络站",
        "skip": "跳过",
        "clear": "清空",
        "done": "完成",
        "cancel": "取消",
        "edit": "✏️ 修改",
        "delete": "🗑 删除",
        "delete_yes": "确定删除",
        "field_voters": "见选民人数",
        "field_notes": "备注",
        "field_date": "日期",
        "field_photos": "照片",
        "field_station": "联络站",
        "remove_photos": "删除全部照片",
        "next": "下一页 ›",
        "prev": "‹ 上一页",
        "ask_kind": "<b>记录履职活动</b>\n这是一次什么活动？",
        "ask_voters": "见了多少位选民？请输入数字（0 至 10000）：",
        "ask_opinions": "收到多少条意见建议？请输入数字（0 至 10000）：",
        "negative": "数字不能是负数，请重新输入。",
        "too_large": "数字太大了，最多 10000。请重新输入。",
        "not_number": "请输入一个整数（0 至 10000），例如 12。",
        "future": "2026-11-27 还没有到，不能记录未来的活动。请输入今天或以前的日期。",
        "forbidden": "您没有权限进行此操作。",
        "not_yours": "找不到这条记录，或它不属于您。",
    },
    "en": {
        "reception": "Reception turn",
        "inspection": "Inspection",
        "research": "Research",
        "training": "Training",
        "today": "Today",
        "yesterday": "Yesterday",
        "other_date": "Other date",
        "own": "🏠 学院路第一联络站",
        "no_station": "Not at a station",
        "skip": "Skip",
        "clear": "Clear",
        "done": "Done",
        "cancel": "Cancel",
        "edit": "✏️ Edit",
        "delete": "🗑 Delete",
        "delete_yes": "Yes, delete",
        "field_voters": "Voters met",
        "field_notes": "Notes",
        "field_date": "Date",
        "field_photos": "Photos",
        "field_station": "Station",
        "remove_photos": "Remove all photos",
        "next": "Next ›",
        "prev": "‹ Prev",
        "ask_kind": "<b>Log a visit</b>\nWhat kind of visit was it?",
        "ask_voters": "How many voters did you meet? Type a number (0 to 10000):",
        "ask_opinions": "How many opinions did you receive? Type a number (0 to 10000):",
        "negative": "The number cannot be negative. Please type it again.",
        "too_large": "That number is too large: at most 10000. Please type it again.",
        "not_number": "Please type a whole number from 0 to 10000, for example 12.",
        "future": (
            "2026-11-27 is in the future; only visits that took place can be logged."
            " Please type today's date or an earlier one."
        ),
        "forbidden": "You are not allowed to do that.",
        "not_yours": "That record does not exist or is not yours.",
    },
}


def day(world: World, lang: str, value: date) -> str:
    return world.services.i18n.texts(LOCALE[lang]).date(
        datetime(value.year, value.month, value.day, 12, tzinfo=SHANGHAI)
    )


def alerts(outputs: list[Output]) -> list[str]:
    return [o.text for o in outputs if o.kind == "alert"]


async def visits(world: World) -> list[dict[str, Any]]:
    return await world.rows("SELECT * FROM visits ORDER BY id")


async def draft_of(world: World, user_id: int) -> dict[str, Any] | None:
    rows = await world.rows(
        "SELECT data FROM drafts WHERE user_id = ? AND kind = 'visit'", (user_id,)
    )
    return json.loads(rows[0]["data"]) if rows else None


async def state_of(world: World, user_id: int) -> str | None:
    return await world.conversation_state("visit", user_id)


async def make_deputy(
    world: World,
    user_id: int,
    lang: str = "zh-hans",
    name: str = "张三",
    street: str = "学院路街道",
    station: str = "学院路第一联络站",
) -> Person:
    """A deputy made the real way: the admin's /invite, and the deputy opening the link."""
    admin = await consented_admin(world)
    person = functools.partial(Person, world)
    return await invite_deputy(world, admin, person, user_id, name, street, station, lang)


async def add_turn(
    world: World,
    deputy_ids: list[int],
    kind: TurnKind = TurnKind.RECEPTION,
    starts_at: datetime | None = None,
    station: str | None = "学院路第一联络站",
) -> int:
    start = starts_at or datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
    sid = await world.station_id(station) if station else None
    async with world.db.transaction() as tx:
        turn_id = await CalendarRepo(world.db).add_turn(
            tx,
            kind=kind,
            station_id=sid,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            deputy_ids=deputy_ids,
            uid=f"visit-test-{next(_turn_uids)}",
            now=world.clock.now(),
        )
    assert turn_id is not None
    return turn_id


async def log_quick(deputy: Person, typed_date: str, voters: int, kind: str = "research") -> None:
    """/visit with a typed date, the own station, two numbers, and nothing else."""
    lbl = L[deputy.language_code]
    await deputy.send("/visit")
    await deputy.tap(lbl[kind])
    await deputy.tap(lbl["other_date"])
    await deputy.send(typed_date)
    await deputy.tap(lbl["own"])
    await deputy.send(str(voters))
    await deputy.send("0")
    await deputy.tap(lbl["skip"])
    await deputy.tap(lbl["skip"])
    await deputy.tap(lbl["skip"])
    assert deputy.saw(say(deputy, "visit.saved"))


def card(
    world: World,
    lang: str,
    *,
    kind: str,
    visit_date: date,
    station: str,
    voters: int,
    opinions: int,
    done: str = "—",
    notes: str = "—",
    photos: int = 0,
    created: datetime,
) -> str:
    texts = world.services.i18n.texts(LOCALE[lang])
    return world.text(
        LOCALE[lang],
        "visit.card",
        kind=kind,
        date=day(world, lang, visit_date),
        station=station,
        voters=texts.number(voters),
        opinions=texts.number(opinions),
        done=done,
        notes=notes,
        photos=texts.number(photos),
        created=texts.datetime(created),
    )


# --- the full /visit flow --------------------------------------------------------------------


@LANGS
async def test_full_visit_flow_saves_a_row(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3001, lang)
    own = await world.station_id("学院路第一联络站")

    await deputy.send("/visit")
    assert deputy.last == lbl["ask_kind"]
    assert deputy.buttons()[:3] == [
        lbl["reception"],
        world.text(LOCALE[lang], "visit.kind_home_visit"),
        lbl["inspection"],
    ]
    assert len([b for b in deputy.buttons() if b != lbl["cancel"]]) == 8
    await deputy.tap(lbl["inspection"])
    assert deputy.last.startswith(world.text(LOCALE[lang], "visit.ask_date"))
    assert deputy.buttons()[:3] == [lbl["today"], lbl["yesterday"], lbl["other_date"]]
    await deputy.tap(lbl["yesterday"])
    assert deputy.last == (
        world.text(LOCALE[lang], "visit.ask_station")
        + "\n"
        + world.text(LOCALE[lang], "station.hint_type_a_name")
    )
    assert deputy.buttons()[0] == lbl["own"]
    assert "海淀街道" in deputy.buttons() and lbl["no_station"] in deputy.buttons()
    await deputy.tap(lbl["own"])
    assert deputy.last == lbl["ask_voters"]
    await deputy.send("35")
    assert deputy.last == lbl["ask_opinions"]
    await deputy.send("4")
    assert deputy.last == world.text(LOCALE[lang], "visit.ask_done", maximum=1000)
    done = (
        "修好了 3 号楼的<b>路灯</b> & 台阶"
        if lang == "zh-hans"
        else "Fixed the <b>lamp</b> & steps"
    )
    await deputy.send(done)
    assert deputy.last == world.text(LOCALE[lang], "visit.ask_notes", maximum=1000)
    await deputy.tap(lbl["skip"])
    assert deputy.last == world.text(LOCALE[lang], "visit.ask_photos", maximum=5)
    await deputy.send_photo("v-1")
    await deputy.send_photo("v-2")
    assert deputy.last == world.text(LOCALE[lang], "visit.photo_received", count=2, maximum=5)
    out = await deputy.tap(lbl["done"])

    rows = await visits(world)
    assert len(rows) == 1
    row = rows[0]
    assert row["deputy_id"] == 3001
    assert row["kind"] == "inspection"
    assert row["visit_date"] == "2026-11-25"
    assert row["station_id"] == own
    assert row["turn_id"] is None
    assert (row["voters_met"], row["opinions_received"]) == (35, 4)
    assert row["done_for_voters"] == done  # stored as typed, escaped only when shown
    assert row["notes"] == ""
    assert json.loads(row["photos"]) == ["v-1", "v-2"]
    assert row["deleted_at"] is None
    created = datetime.fromisoformat(row["created_at"])
    escaped = done.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert out[-1].text == world.text(LOCALE[lang], "visit.saved") + "\n\n" + card(
        world,
        lang,
        kind=lbl["inspection"],
        visit_date=TODAY - timedelta(days=1),
        station="学院路第一联络站",
        voters=35,
        opinions=4,
        done=escaped,
        photos=2,
        created=created,
    )
    assert "<b>路灯</b>" not in out[-1].text and "<b>lamp</b>" not in out[-1].text
    assert out[-1].buttons()[:2] == [lbl["edit"], lbl["delete"]]
    assert await draft_of(world, 3001) is None
    assert await state_of(world, 3001) is None


async def test_each_step_is_written_with_its_state(world: World) -> None:
    lbl = L["zh-hans"]
    deputy = await make_deputy(world, 3002)
    await deputy.send("/visit")
    assert await state_of(world, 3002) == "kind"
    assert (await draft_of(world, 3002))["kind"] is None
    await deputy.tap(lbl["training"])
    assert await state_of(world, 3002) == "date"
    assert (await draft_of(world, 3002))["kind"] == "training"
    await deputy.tap(lbl["today"])
    assert await state_of(world, 3002) == "station"
    assert (await draft_of(world, 3002))["visit_date"] == "2026-11-26"
    await deputy.tap(lbl["no_station"])
    assert await state_of(world, 3002) == "voters"
    await deputy.send("１,２００人")  # full-width digits, a thousands comma and a unit
    assert (await draft_of(world, 3002))["voters_met"] == 1200
    assert await state_of(world, 3002) == "opinions"
    await deputy.send("0")
    assert (await draft_of(world, 3002))["opinions_received"] == 0
    assert await state_of(world, 3002) == "done"
    await deputy.tap(lbl["skip"])
    assert (await draft_of(world, 3002))["done_for_voters"] == ""
    await deputy.send("  会后整理了培训材料。  ")
    assert (await draft_of(world, 3002))["notes"] == "会后整理了培训材料。"
    assert await state_of(world, 3002) == "photos"
    await deputy.tap(lbl["skip"])
    row = (await visits(world))[0]
    assert row["kind"] == "training" and row["visit_date"] == "2026-11-26"
    assert row["station_id"] is None
    assert (row["voters_met"], row["opinions_received"]) == (1200, 0)
    assert row["notes"] == "会后整理了培训材料。" and row["photos"] == "[]"


async def test_a_typed_date_and_a_station_picked_by_street(world: World) -> None:
    lbl = L["zh-hans"]
    deputy = await make_deputy(world, 3003)
    await deputy.send("/visit")
    await deputy.tap(lbl["research"])
    await deputy.tap(lbl["other_date"])
    assert deputy.last == world.text("zh_CN", "visit.ask_date_typed", example="2026-11-26")
    await deputy.send("11-03")
    await deputy.tap("海淀街道")
    assert deputy.last == world.text("zh_CN", "visit.ask_station_of", street="海淀街道")
    await deputy.tap("海淀街道联络站")
    assert deputy.last == lbl["ask_voters"]
    await deputy.send("7")
    await deputy.send("2")
    await deputy.tap(lbl["skip"])
    await deputy.tap(lbl["skip"])
    await deputy.tap(lbl["skip"])
    row = (await visits(world))[0]
    assert row["visit_date"] == "2026-11-03"
    assert row["station_id"] == await world.station_id("海淀街道联络站")

    # A date typed straight at the date step works too, with a full year.
    await deputy.send("/visit")
    await deputy.tap(lbl["research"])
    await deputy.send("2025年12月31日")
    assert deputy.last == (
        world.text("zh_CN", "visit.ask_station")
        + "\n"
        + world.text("zh_CN", "station.hint_type_a_name")
    )
    assert (await draft_of(world, 3003))["visit_date"] == "2025-12-31"


@LANGS
async def test_cancel_leaves_and_keeps_nothing(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3004, lang)
    await deputy.send("/visit")
    await deputy.tap(lbl["inspection"])
    await deputy.tap(lbl["today"])
    await deputy.send("/cancel")
    assert deputy.last == world.text(LOCALE[lang], "visit.cancelled")
    assert await draft_of(world, 3004) is None and await state_of(world, 3004) is None
    await deputy.send("/cancel")
    assert deputy.last == world.text(LOCALE[lang], "cancel.nothing")

    await deputy.send("/visit")
    await deputy.tap(lbl["cancel"])
    assert deputy.last == world.text(LOCALE[lang], "visit.cancelled")
    assert await state_of(world, 3004) is None
    assert await visits(world) == []


@LANGS
async def test_a_command_in_the_middle_is_answered_and_the_step_stays(
    world: World, lang: str
) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3005, lang)
    await deputy.send("/visit")
    await deputy.tap(lbl["inspection"])
    await deputy.tap(lbl["today"])
    await deputy.tap(lbl["own"])
    for command in ("/visits", "/visit", "/help", "/start"):
        await deputy.send(command)
        assert deputy.last == world.text(LOCALE[lang], "visit.in_progress"), command
    assert await state_of(world, 3005) == "voters"
    # A "log this visit?" button tapped now is answered the same way.
    turn = await add_turn(world, [3005])
    out = await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    assert alerts(out) == [world.text(LOCALE[lang], "visit.in_progress")]
    assert (await draft_of(world, 3005))["turn_id"] is None
    await deputy.send("9")
    assert deputy.last == lbl["ask_opinions"]


# --- who may log ---------------------------------------------------------------------------


@LANGS
async def test_voters_and_staff_are_refused(world: World, lang: str) -> None:
    voter = Person(world, 3101, "选民", lang)
    await agree(voter)
    admin = Person(world, ADMIN, "管理员", lang)
    await agree(admin)
    await admin.send("/staff add 3102")
    staff = Person(world, 3102, "工作人员", lang)
    await agree(staff)
    deputy = await make_deputy(world, 3103, lang)
    turn = await add_turn(world, [3103])
    for person in (voter, staff, admin):
        for command in ("/visit", "/visits"):
            out = await person.send(command)
            assert [o.text for o in out] == [L[lang]["forbidden"]], (person.id, command)
        out = await person.tap_data(VisitFromTurn(turn=turn).pack())
        assert alerts(out) == [L[lang]["forbidden"]]
        assert await state_of(world, person.id) is None
    assert await world.rows("SELECT * FROM drafts WHERE kind = 'visit'") == []
    await deputy.send("/visit")
    assert deputy.last == L[lang]["ask_kind"]


async def test_a_deputy_role_without_a_deputy_record_is_told_why(world: World) -> None:
    person = Person(world, 3104, "李四")
    await agree(person)
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE users SET role = 'deputy' WHERE telegram_id = 3104")
    out = await person.send("/visit")
    assert [o.text for o in out] == [world.text("zh_CN", "visit.not_a_deputy")]
    assert await state_of(world, 3104) is None


# --- from the "log this visit?" prompt -------------------------------------------------------


@LANGS
async def test_the_prompt_takes_one_tap_and_two_numbers(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3201, lang)
    turn = await add_turn(world, [3201])

    out = await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    intro = world.text(
        LOCALE[lang],
        "visit.from_turn",
        kind=lbl["reception"],
        date=day(world, lang, date(2026, 11, 25)),
        station="学院路第一联络站",
    )
    assert out[-1].text == intro + "\n" + lbl["ask_voters"]
    assert await state_of(world, 3201) == "voters"
    await deputy.send("18")
    assert deputy.last == lbl["ask_opinions"]
    out = await deputy.send("5")

    rows = await visits(world)
    assert len(rows) == 1
    row = rows[0]
    assert row["kind"] == "reception"
    assert row["visit_date"] == "2026-11-25"
    assert row["station_id"] == await world.station_id("学院路第一联络站")
    assert row["turn_id"] == turn
    assert (row["voters_met"], row["opinions_received"]) == (18, 5)
    assert (row["done_for_voters"], row["notes"], row["photos"]) == ("", "", "[]")
    assert out[-1].text.startswith(world.text(LOCALE[lang], "visit.saved_from_turn") + "\n\n")
    assert await state_of(world, 3201) is None and await draft_of(world, 3201) is None

    # Tapped again: already logged; nothing new is started or written.
    out = await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    assert alerts(out) == [world.text(LOCALE[lang], "visit.turn_already_logged", date="2026-11-25")]
    assert await state_of(world, 3201) is None
    assert len(await visits(world)) == 1


@LANGS
async def test_the_button_of_the_real_log_prompt_starts_the_quick_path(
    world: World, lang: str
) -> None:
    deputy = await make_deputy(world, 3207, lang)
    turn = await add_turn(world, [3207])  # 2026-11-25 09:00-11:00, over by now
    assert await world.services.reminders.run_due() >= 1
    await world.outbox.drain()
    out = await deputy.tap(world.text(LOCALE[lang], "reminder.log_button"))
    assert out[-1].text.endswith(L[lang]["ask_voters"])
    await deputy.send("6")
    await deputy.send("2")
    row = (await visits(world))[0]
    assert (row["turn_id"], row["kind"], row["voters_met"], row["opinions_received"]) == (
        turn,
        "reception",
        6,
        2,
    )


@pytest.mark.parametrize(
    ("kind", "expected", "local_start"),
    [
        (TurnKind.HOME_VISIT, "home_visit", datetime(2026, 11, 20, 14, 0, tzinfo=SHANGHAI)),
        # Late in the evening in Shanghai is still that local day (UTC would say the 19th).
        (TurnKind.ANNUAL_ACCOUNT, "meeting", datetime(2026, 11, 20, 7, 30, tzinfo=SHANGHAI)),
        (TurnKind.RECEPTION, "reception", datetime(2026, 11, 20, 0, 30, tzinfo=SHANGHAI)),
    ],
)
async def test_the_prompt_maps_the_turn_kind_and_its_local_date(
    world: World, kind: TurnKind, expected: str, local_start: datetime
) -> None:
    deputy = await make_deputy(world, 3202)
    turn = await add_turn(world, [3202], kind=kind, starts_at=local_start)
    await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    await deputy.send("3")
    await deputy.send("1")
    row = (await visits(world))[0]
    assert (row["kind"], row["visit_date"], row["turn_id"]) == (expected, "2026-11-20", turn)


async def test_the_prompt_is_refused_to_a_deputy_who_was_not_on_the_turn(world: World) -> None:
    on_duty = await make_deputy(world, 3203, name="张三")
    other = await make_deputy(world, 3204, name="李四")
    turn = await add_turn(world, [on_duty.id])
    out = await other.tap_data(VisitFromTurn(turn=turn).pack())
    assert alerts(out) == [world.text("zh_CN", "visit.not_your_turn")]
    assert await state_of(world, 3204) is None and await draft_of(world, 3204) is None
    out = await other.tap_data(VisitFromTurn(turn=9999).pack())
    assert alerts(out) == [world.text("zh_CN", "visit.turn_unknown")]
    out = await other.tap_data(f"{VisitFromTurn.prefix}:turn:abc")
    assert alerts(out) == [world.text("zh_CN", "error.stale_button")]
    future = await add_turn(
        world, [other.id], starts_at=datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)
    )
    out = await other.tap_data(VisitFromTurn(turn=future).pack())
    assert alerts(out) == [world.text("zh_CN", "visit.turn_not_started")]
    assert await visits(world) == []


async def test_a_deleted_visit_of_a_turn_may_be_logged_again(world: World) -> None:
    deputy = await make_deputy(world, 3205)
    turn = await add_turn(world, [3205])
    await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    await deputy.send("3")
    await deputy.send("1")
    await deputy.tap(L["zh-hans"]["delete"])
    await deputy.tap(L["zh-hans"]["delete_yes"])
    await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    assert await state_of(world, 3205) == "voters"


async def test_the_prompt_is_refused_in_the_middle_of_an_opinion(world: World) -> None:
    deputy = await make_deputy(world, 3206)
    turn = await add_turn(world, [3206])
    await deputy.send("/opinion")
    out = await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    assert alerts(out) == [world.text("zh_CN", "visit.busy_elsewhere")]
    assert await state_of(world, 3206) is None


# --- bad input -------------------------------------------------------------------------------


@LANGS
async def test_bad_numbers_keep_the_step_and_what_was_entered(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3301, lang)
    await deputy.send("/visit")
    await deputy.tap(lbl["inspection"])
    await deputy.tap(lbl["yesterday"])
    await deputy.tap(lbl["own"])
    before = await draft_of(world, 3301)
    cases = [
        ("-3", lbl["negative"]),
        ("10001", lbl["too_large"]),
        ("99999999999999999999999", lbl["too_large"]),
        ("abc", lbl["not_number"]),
        ("3.5", lbl["not_number"]),
        ("1,2,3", lbl["not_number"]),
    ]
    for step in ("voters", "opinions"):
        for raw, message in cases:
            out = await deputy.send(raw)
            assert [o.text for o in out] == [message], (step, raw)
            assert await state_of(world, 3301) == step
            assert await draft_of(world, 3301) == before
        out = await deputy.send_sticker()
        assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.bad_count", maximum=10000)]
        await deputy.send("10000" if step == "voters" else "0")
        before = await draft_of(world, 3301)
    assert before["voters_met"] == 10000 and before["opinions_received"] == 0
    assert before["kind"] == "inspection" and before["visit_date"] == "2026-11-25"
    assert await state_of(world, 3301) == "done"


@LANGS
async def test_bad_dates_keep_the_step(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3302, lang)
    await deputy.send("/visit")
    await deputy.tap(lbl["inspection"])
    await deputy.tap(lbl["other_date"])
    before = await draft_of(world, 3302)
    unparsable = world.text(LOCALE[lang], "visit.date_unparsable", example="2026-11-26")
    cases = [
        ("2026-11-27", lbl["future"]),
        ("2027-01-01", world.text(LOCALE[lang], "visit.date_in_future", date="2027-01-01")),
        ("1999-12-31", world.text(LOCALE[lang], "visit.date_too_old", earliest="2000-01-01")),
        ("2026-02-30", unparsable),
        ("13-45", unparsable),
        ("tomorrow", lbl["future"]),
        ("2026-11", unparsable),
    ]
    for raw, message in cases:
        out = await deputy.send(raw)
        assert [o.text for o in out] == [message], raw
        assert await state_of(world, 3302) == "date_typed"
        assert await draft_of(world, 3302) == before
    out = await deputy.send_photo("x")
    assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.bad_date_typed")]
    await deputy.send("2026-11-26")  # today is fine
    assert (await draft_of(world, 3302))["visit_date"] == "2026-11-26"
    assert await state_of(world, 3302) == "station"


async def test_today_follows_the_local_zone_not_utc(world: World) -> None:
    # 2026-11-27 01:00 in Shanghai is still the 26th in UTC: "today" is the 27th.
    world.clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=SHANGHAI))
    deputy = await make_deputy(world, 3303)
    await deputy.send("/visit")
    await deputy.tap(L["zh-hans"]["inspection"])
    await deputy.tap(L["zh-hans"]["today"])
    assert (await draft_of(world, 3303))["visit_date"] == "2026-11-27"
    await deputy.send("/cancel")
    await deputy.send("/visit")
    await deputy.tap(L["zh-hans"]["inspection"])
    await deputy.tap(L["zh-hans"]["other_date"])
    await deputy.send("2026-11-27")
    assert await state_of(world, 3303) == "station"


@LANGS
async def test_bad_text_and_photos_keep_the_step(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3304, lang)
    await deputy.send("/visit")
    out = await deputy.send("视察")
    assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.bad_kind")]
    await deputy.tap(lbl["inspection"])
    out = await deputy.send_sticker()
    assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.bad_date")]
    await deputy.tap(lbl["today"])
    out = await deputy.send_sticker()
    assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.bad_station")]
    assert await state_of(world, 3304) == "station"
    await deputy.tap(lbl["own"])
    await deputy.send("12")
    await deputy.send("3")
    before = await draft_of(world, 3304)
    for step in ("done", "notes"):
        out = await deputy.send("字" * 1001)
        assert [o.text for o in out] == [
            world.text(LOCALE[lang], "visit.text_too_long", count=1001, maximum=1000)
        ]
        out = await deputy.send("   ")
        assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.text_empty")]
        out = await deputy.send_voice()
        assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.bad_text")]
        assert await state_of(world, 3304) == step
        assert await draft_of(world, 3304) == before
        await deputy.send("字" * 1000)
        before = await draft_of(world, 3304)
    assert before["done_for_voters"] == "字" * 1000 and before["notes"] == "字" * 1000
    for n in range(1, 6):
        await deputy.send_photo(f"p{n}")
    out = await deputy.send_photo("p6")
    assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.too_many_photos", maximum=5)]
    out = await deputy.send("还有一张")
    assert [o.text for o in out] == [world.text(LOCALE[lang], "visit.bad_photo")]
    assert (await draft_of(world, 3304))["photos"] == [f"p{n}" for n in range(1, 6)]
    assert await state_of(world, 3304) == "photos"
    await deputy.tap(lbl["done"])
    row = (await visits(world))[0]
    assert json.loads(row["photos"]) == [f"p{n}" for n in range(1, 6)]
    assert row["voters_met"] == 12 and row["notes"] == "字" * 1000


@LANGS
async def test_invisible_text_is_refused_and_stripped_from_real_text(
    world: World, lang: str
) -> None:
    """Zero-width characters pass `.strip()`: what was done and the notes are cleaned first
    (bot.services.text), so text made only of them is empty, and inside real text they go."""
    lbl = L[lang]
    deputy = await make_deputy(world, 3310, lang)
    await deputy.send("/visit")
    await deputy.tap(lbl["inspection"])
    await deputy.tap(lbl["today"])
    await deputy.tap(lbl["own"])
    await deputy.send("12")
    await deputy.send("3")
    before = await draft_of(world, 3310)
    empty = world.text(LOCALE[lang], "visit.text_empty")
    for step in ("done", "notes"):
        for invisible in ("\u200b", "\u200b\u200c\u200d", "\u2060 \ufeff", "\ufeff\n\u200b"):
            out = await deputy.send(invisible)
            assert [o.text for o in out] == [empty], (step, invisible)
            assert await state_of(world, 3310) == step
            assert await draft_of(world, 3310) == before
        await deputy.send("协调\u200b解决了\u2060停车难\u200d" if step == "done" else "\ufeff备注")
        before = await draft_of(world, 3310)
    assert before["done_for_voters"] == "协调解决了停车难"
    assert before["notes"] == "备注"
    await deputy.tap(lbl["skip"])  # no photos
    row = (await visits(world))[0]
    assert (row["done_for_voters"], row["notes"]) == ("协调解决了停车难", "备注")

    # The same when a saved visit's notes are edited: nothing invisible replaces them.
    await deputy.send("/visits")
    await deputy.tap(deputy.buttons()[0])
    await deputy.tap(lbl["edit"])
    await deputy.tap(lbl["field_notes"])
    out = await deputy.send("\u200b\u200b")
    assert [o.text for o in out] == [empty]
    assert (await visits(world))[0]["notes"] == "备注"
    assert await state_of(world, 3310) == "notes"


async def test_an_old_button_of_an_earlier_step_is_stale(world: World) -> None:
    lbl = L["zh-hans"]
    deputy = await make_deputy(world, 3305)
    await deputy.send("/visit")
    await deputy.tap(lbl["inspection"])
    await deputy.tap(lbl["today"])
    await deputy.tap(lbl["own"])
    await deputy.send("1")
    await deputy.send("1")
    await deputy.tap(lbl["skip"])  # done → notes
    out = await deputy.tap_data(
        VisitSkip(step=TextStep.DONE).pack()
    )  # the first Skip, tapped again
    assert alerts(out) == [world.text("zh_CN", "error.stale_button")]
    out = await deputy.tap_data(VisitKindChosen(kind=VisitKind.RESEARCH).pack())
    assert alerts(out) == [world.text("zh_CN", "error.stale_button")]
    assert await state_of(world, 3305) == "notes"
    assert (await draft_of(world, 3305))["kind"] == "inspection"


async def test_a_forged_station_is_refused(world: World) -> None:
    deputy = await make_deputy(world, 3306)
    await deputy.send("/visit")
    await deputy.tap(L["zh-hans"]["inspection"])
    await deputy.tap(L["zh-hans"]["today"])
    out = await deputy.tap_data(StationPicked(purpose=Picker.VISIT, station=9999).pack())
    assert alerts(out) == [world.text("zh_CN", "station.unknown")]
    out = await deputy.tap_data(f"{StationPicked.prefix}:{Picker.VISIT}:x")
    assert alerts(out) == [world.text("zh_CN", "error.stale_button")]
    assert await state_of(world, 3306) == "station"
    assert (await draft_of(world, 3306))["station_id"] is None


# --- restart -------------------------------------------------------------------------------


@LANGS
async def test_a_restart_in_the_middle_loses_nothing(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3401, lang)
    await deputy.send("/visit")
    await deputy.tap(lbl["inspection"])
    await deputy.tap(lbl["yesterday"])
    await deputy.tap(lbl["own"])
    await deputy.send("40")
    await world.crash_and_restart()
    await deputy.send("6")
    assert deputy.last == world.text(LOCALE[lang], "visit.ask_done", maximum=1000)
    await deputy.send("协调解决了停车难")
    await deputy.tap(lbl["skip"])
    await deputy.send_photo("r1")
    await world.crash_and_restart()
    await deputy.send_photo("r2")
    assert deputy.last == world.text(LOCALE[lang], "visit.photo_received", count=2, maximum=5)
    await deputy.tap(lbl["done"])
    row = (await visits(world))[0]
    assert row["kind"] == "inspection" and row["visit_date"] == "2026-11-25"
    assert (row["voters_met"], row["opinions_received"]) == (40, 6)
    assert row["done_for_voters"] == "协调解决了停车难"
    assert json.loads(row["photos"]) == ["r1", "r2"]


async def test_a_restart_in_the_prompt_path_and_in_an_edit(world: World) -> None:
    deputy = await make_deputy(world, 3402)
    turn = await add_turn(world, [3402])
    await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    await world.crash_and_restart()
    await deputy.send("11")
    await world.crash_and_restart()
    await deputy.send("2")
    row = (await visits(world))[0]
    assert (row["turn_id"], row["voters_met"], row["opinions_received"]) == (turn, 11, 2)

    await deputy.tap(L["zh-hans"]["edit"])
    await deputy.tap(L["zh-hans"]["field_notes"])
    await world.crash_and_restart()
    await deputy.send("补记：有三位老人反映电梯问题。")
    assert (await visits(world))[0]["notes"] == "补记：有三位老人反映电梯问题。"
    assert await state_of(world, 3402) is None


# --- /visits ----------------------------------------------------------------------------------


async def test_visits_lists_newest_first_five_a_page(world: World) -> None:
    lbl = L["zh-hans"]
    deputy = await make_deputy(world, 3501, name="张三")
    other = await make_deputy(world, 3502, name="李四")
    await log_quick(other, "11-20", 99)
    dates = ["11-03", "11-21", "10-30", "11-25", "11-01", "11-12", "11-21"]
    for n, typed in enumerate(dates, start=1):
        await log_quick(deputy, typed, n)

    def item(visit_date: date, voters: int) -> str:
        return world.text(
            "zh_CN",
            "visits.item",
            date=day(world, "zh-hans", visit_date),
            kind=lbl["research"],
            voters=voters,
        )

    out = await deputy.send("/visits")
    assert out[-1].text == world.text("zh_CN", "visits.title")
    # Newest date first; of the same date, the one logged last first.
    assert out[-1].buttons() == [
        item(date(2026, 11, 25), 4),
        item(date(2026, 11, 21), 7),
        item(date(2026, 11, 21), 2),
        item(date(2026, 11, 12), 6),
        item(date(2026, 11, 3), 1),
        "1/2",
        lbl["next"],
    ]
    out = await deputy.tap(lbl["next"])
    assert out[-1].kind == "edit"
    assert out[-1].buttons() == [
        item(date(2026, 11, 1), 5),
        item(date(2026, 10, 30), 3),
        lbl["prev"],
        "2/2",
    ]
    assert item(date(2026, 11, 20), 99) not in deputy.buttons()
    out = await deputy.tap(lbl["prev"])
    assert out[-1].buttons()[0] == item(date(2026, 11, 25), 4)
    out = await deputy.tap_data(VisitListPage(page=99).pack())  # past the end: the last page
    assert out[-1].buttons()[0] == item(date(2026, 11, 1), 5)

    out = await other.send("/visits")
    assert out[-1].buttons() == [item(date(2026, 11, 20), 99)]


@LANGS
async def test_visits_empty_and_the_detail_card(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3503, lang)
    out = await deputy.send("/visits")
    assert [o.text for o in out] == [world.text(LOCALE[lang], "visits.empty")]
    turn = await add_turn(world, [3503])
    await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    await deputy.send("8")
    await deputy.send("1")
    row = (await visits(world))[0]
    await deputy.send("/visits")
    out = await deputy.tap(deputy.buttons()[0])
    assert out[-1].text == card(
        world,
        lang,
        kind=lbl["reception"],
        visit_date=date(2026, 11, 25),
        station="学院路第一联络站",
        voters=8,
        opinions=1,
        created=datetime.fromisoformat(row["created_at"]),
    )
    assert out[-1].buttons() == [
        lbl["edit"],
        lbl["delete"],
        world.text(LOCALE[lang], "visits.back_to_list"),
    ]


# --- edit and delete ----------------------------------------------------------------------------


async def make_visit(world: World, deputy: Person) -> dict[str, Any]:
    turn = await add_turn(world, [deputy.id])
    await deputy.tap_data(VisitFromTurn(turn=turn).pack())
    await deputy.send("20")
    await deputy.send("3")
    return (await visits(world))[-1]


@LANGS
async def test_edit_a_number_within_seven_days(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3601, lang)
    row = await make_visit(world, deputy)
    world.clock.advance(days=6, hours=23)
    await deputy.send("/visits")
    await deputy.tap(deputy.buttons()[0])
    await deputy.tap(lbl["edit"])
    assert deputy.last == world.text(LOCALE[lang], "visit.edit_which", days=7)
    await deputy.tap(lbl["field_voters"])
    assert deputy.last == lbl["ask_voters"] + "\n" + world.text(
        LOCALE[lang], "visit.current_value", value="20"
    )
    assert await state_of(world, 3601) == "voters"
    out = await deputy.send("-1")
    assert [o.text for o in out] == [lbl["negative"]]
    out = await deputy.send("20000")
    assert [o.text for o in out] == [lbl["too_large"]]
    assert await state_of(world, 3601) == "voters"
    out = await deputy.send("25")
    assert out[-1].text.startswith(world.text(LOCALE[lang], "visit.updated") + "\n\n")
    after = (await visits(world))[0]
    assert after["voters_met"] == 25
    changed = {k for k in row if row[k] != after[k]}
    assert changed == {"voters_met", "updated_at"}
    assert await state_of(world, 3601) is None and await draft_of(world, 3601) is None


@LANGS
async def test_edit_texts_date_station_and_photos(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3602, lang)
    await make_visit(world, deputy)

    async def edit(field: str) -> None:
        await deputy.send("/visits")
        await deputy.tap(deputy.buttons()[0])
        await deputy.tap(lbl["edit"])
        await deputy.tap(lbl[field])

    await edit("field_notes")
    assert deputy.buttons()[:2] == [lbl["clear"], lbl["cancel"]]
    await deputy.send("<i>补充</i>")
    assert (await visits(world))[0]["notes"] == "<i>补充</i>"
    assert "&lt;i&gt;补充&lt;/i&gt;" in deputy.last
    await edit("field_notes")
    assert (
        world.text(LOCALE[lang], "visit.current_value", value="&lt;i&gt;补充&lt;/i&gt;")
        in deputy.last
    )
    await deputy.tap(lbl["clear"])
    assert (await visits(world))[0]["notes"] == ""

    await edit("field_date")
    await deputy.tap(lbl["other_date"])
    out = await deputy.send("2026-12-01")
    assert [o.text for o in out] == [
        world.text(LOCALE[lang], "visit.date_in_future", date="2026-12-01")
    ]
    await deputy.send("2026-11-20")
    assert (await visits(world))[0]["visit_date"] == "2026-11-20"

    await edit("field_station")
    await deputy.tap(lbl["no_station"])
    assert (await visits(world))[0]["station_id"] is None

    await edit("field_photos")
    assert deputy.last == world.text(LOCALE[lang], "visit.edit_photos", count=0, maximum=5)
    await deputy.send_photo("e1")
    await deputy.send_photo("e2")
    await deputy.tap(lbl["done"])
    assert json.loads((await visits(world))[0]["photos"]) == ["e1", "e2"]
    await edit("field_photos")
    await deputy.send_photo("e3")
    await deputy.tap(lbl["done"])
    assert json.loads((await visits(world))[0]["photos"]) == ["e1", "e2", "e3"]
    await edit("field_photos")
    await deputy.tap(lbl["remove_photos"])
    await deputy.tap(lbl["done"])
    assert json.loads((await visits(world))[0]["photos"]) == []

    # Cancelling an edit changes nothing.
    before = (await visits(world))[0]
    await edit("field_voters")
    await deputy.send("/cancel")
    assert deputy.last == world.text(LOCALE[lang], "visit.edit_cancelled")
    assert (await visits(world))[0] == before


@LANGS
async def test_delete_within_seven_days(world: World, lang: str) -> None:
    lbl = L[lang]
    deputy = await make_deputy(world, 3603, lang)
    await make_visit(world, deputy)
    await make_visit(world, deputy)
    world.clock.advance(days=6)
    await deputy.send("/visits")
    assert len(deputy.buttons()) >= 2
    await deputy.tap(deputy.buttons()[0])  # the second visit: same date, logged last
    await deputy.tap(lbl["delete"])
    assert deputy.last.startswith(world.text(LOCALE[lang], "visit.confirm_delete"))
    out = await deputy.tap(lbl["delete_yes"])
    assert out[-1].text == world.text(LOCALE[lang], "visit.deleted") + "\n\n" + world.text(
        LOCALE[lang], "visits.title"
    )
    rows = await visits(world)
    assert rows[0]["deleted_at"] is None
    assert rows[1]["deleted_at"] == world.clock.now().isoformat()
    assert len(out[-1].buttons()) == 1  # only the first visit is listed
    out = await deputy.tap_data(VisitOpen(visit=rows[1]["id"], page=0).pack())
    assert alerts(out) == [L[lang]["not_yours"]]
    out = await deputy.tap_data(VisitDeleteConfirmed(visit=rows[1]["id"], page=0).pack())
    assert alerts(out) == [L[lang]["not_yours"]]


@LANGS
async def test_edit_and_delete_are_refused_after_seven_days(world: World, lang: str) -> None:
    deputy = await make_deputy(world, 3604, lang)
    row = await make_visit(world, deputy)
    world.clock.advance(days=7)
    await deputy.send("/visits")
    out = await deputy.tap(deputy.buttons()[0])
    assert out[-1].buttons() == [world.text(LOCALE[lang], "visits.back_to_list")]
    too_late = world.text(LOCALE[lang], "visit.too_late", days=7)
    vid = row["id"]
    for data in (
        VisitEditMenu(visit=vid, page=0).pack(),
        VisitEditField(visit=vid, field=VisitField.VOTERS).pack(),
        VisitDelete(visit=vid, page=0).pack(),
        VisitDeleteConfirmed(visit=vid, page=0).pack(),
    ):
        out = await deputy.tap_data(data)
        assert alerts(out) == [too_late], data
    assert await visits(world) == [row]
    assert await state_of(world, 3604) is None


async def test_an_edit_begun_in_time_but_finished_too_late_is_refused(world: World) -> None:
    deputy = await make_deputy(world, 3605)
    row = await make_visit(world, deputy)
    world.clock.advance(days=6, hours=23, minutes=59)
    await deputy.send("/visits")
    await deputy.tap(deputy.buttons()[0])
    await deputy.tap(L["zh-hans"]["edit"])
    await deputy.tap(L["zh-hans"]["field_voters"])
    world.clock.advance(minutes=5)
    out = await deputy.send("30")
    assert [o.text for o in out] == [world.text("zh_CN", "visit.too_late", days=7)]
    assert await visits(world) == [row]
    assert await state_of(world, 3605) is None and await draft_of(world, 3605) is None


@LANGS
async def test_another_deputy_cannot_see_edit_or_delete_with_forged_buttons(
    world: World, lang: str
) -> None:
    owner = await make_deputy(world, 3606, lang, name="张三")
    intruder = await make_deputy(world, 3607, lang, name="李四")
    row = await make_visit(world, owner)
    vid = row["id"]
    for data in (
        VisitOpen(visit=vid, page=0).pack(),
        VisitEditMenu(visit=vid, page=0).pack(),
        VisitEditField(visit=vid, field=VisitField.VOTERS).pack(),
        VisitEditField(visit=vid, field=VisitField.NOTES).pack(),
        VisitDelete(visit=vid, page=0).pack(),
        VisitDeleteConfirmed(visit=vid, page=0).pack(),
    ):
        out = await intruder.tap_data(data)
        assert alerts(out) == [L[lang]["not_yours"]], data
        assert [o for o in out if o.kind != "alert"] == [], data
    assert await visits(world) == [row]
    assert await state_of(world, 3607) is None and await draft_of(world, 3607) is None
    # The owner still can.
    out = await owner.tap_data(VisitOpen(visit=vid, page=0).pack())
    assert L[lang]["edit"] in out[-1].buttons()


async def test_forged_shapes_of_list_buttons_are_refused(world: World) -> None:
    deputy = await make_deputy(world, 3608)
    row = await make_visit(world, deputy)
    stale = world.text("zh_CN", "error.stale_button")
    for data in (
        f"{VisitOpen.prefix}:x:0",
        f"{VisitOpen.prefix}:{row['id']}",
        f"{VisitEditField.prefix}:{row['id']}:deputy_id",
        f"{VisitListPage.prefix}:x",
        VisitDeleteConfirmed(visit=row["id"], page=0).pack() + ":1",
    ):
        out = await deputy.tap_data(data)
        assert alerts(out) == [stale], data
    assert await visits(world) == [row]
    assert await state_of(world, 3608) is None


async def test_a_visit_deleted_during_its_edit_is_not_changed(world: World) -> None:
    deputy = await make_deputy(world, 3609)
    row = await make_visit(world, deputy)
    await deputy.send("/visits")
    await deputy.tap(deputy.buttons()[0])
    await deputy.tap(L["zh-hans"]["edit"])
    await deputy.tap(L["zh-hans"]["field_voters"])
    assert await state_of(world, 3609) == "voters"
    await deputy.tap_data(
        VisitDeleteConfirmed(visit=row["id"], page=0).pack()
    )  # from an older message, mid-edit
    deleted = (await visits(world))[0]
    assert deleted["deleted_at"] is not None
    out = await deputy.send("30")
    assert [o.text for o in out] == [L["zh-hans"]["not_yours"]]
    assert await visits(world) == [deleted]
    assert await state_of(world, 3609) is None and await draft_of(world, 3609) is None
