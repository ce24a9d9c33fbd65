"""A department returns a wrong assignment (退办), loop step 3's return, and asks for more
time. The return is taken within 7 official working days of the assignment, counted on
China's holiday calendar with its 调休 workdays (a window across 国庆 ends later than a naive
count, and a Saturday worked counts); with a reason and, if any, a proposed department. The
lead's return sends the suggestion back to staff (returned, no deadline); a co-handler's
leaves it with the lead. Staff are told with a button to review it, and the deputy is told.
More time is asked once, by the lead department only, with a reason; staff approve it.
Staff may return a department's part on its behalf, with no limit of days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import chinese_calendar

from bot.runtime.buttons.assign import AssignOpen
from bot.runtime.buttons.assigned import ExtensionStart, RequestConfirm, ReturnFor, ReturnStart
from tests.support.answers_scene import (
    DEPUTY,
    LANGS,
    LOCALE,
    STAFF,
    TITLE,
    Scene,
    alerts,
    make_scene,
    outbox_to,
    set_rehandling,
    tap,
    working_days_later,
)
from tests.support.consultation_seed import add_user
from tests.support.people import Person
from tests.support.scenarios import say
from tests.support.suggestion_seed import SEEDED_AT
from tests.support.world import SHANGHAI, World

RECENTLY = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)  # a Tuesday, two days ago
REASON = "公交站台遮雨棚属于市政设施，由城管部门负责建设维护。"
R: dict[str, dict[str, str]] = {
    "zh-hans": {
        "reason_empty": "理由不能为空，请输入文字。",
        "reason_too_long": "理由最多 500 字，您输入了 501 字。请精简后重新输入。",
        "proposed_too_long": "单位名称最多 40 字，您输入了 41 字。",
        "too_late": (
            "退办须在交办后 7 个工作日内提出，最后一天是 {date}，已经过了。"
            "如确有困难，请联系机关工作人员。"
        ),
        "no_request": "这个申请已经提交或已取消。",
        "returned": "↩️ 已退办，已通知机关工作人员重新交办。",
        "asked": "⏳ 延期申请已提交，等待机关工作人员审批。",
        "already_asked": "这条代表建议已于 {date} 申请过延期，每条建议只能申请一次。",
        "already_extended": "这条代表建议已经延期过一次，不能再延期。",
    },
    "en": {
        "reason_empty": "The reason cannot be empty; please type it.",
        "reason_too_long": (
            "The reason may be at most 500 characters; yours has 501. Please shorten it."
        ),
        "proposed_too_long": "A department's name may be at most 40 characters; yours has 41.",
        "too_late": (
            "A return must be asked within 7 working days of the assignment; the last day was"
            " {date}. If there is a real difficulty, please contact the staff."
        ),
        "no_request": "This request has already been sent or was cancelled.",
        "returned": "↩️ Returned; the staff are asked to assign it again.",
        "asked": "⏳ The request for more time is sent; the staff will approve or refuse it.",
        "already_asked": (
            "More time was asked for this suggestion on {date}; it can be asked only once."
        ),
        "already_extended": (
            "This suggestion has been extended once already; it cannot be extended again."
        ),
    },
}


async def staff_member(world: World, person: Callable[..., Person], lang: str) -> Person:
    await add_user(world, STAFF, role="staff", name="机关工作人员", locale=LOCALE[lang])
    return person(STAFF, "机关工作人员", lang)


async def assignments(world: World, s: Scene) -> dict[int, dict[str, object]]:
    rows = await world.rows(
        "SELECT department_id, state, return_reason, proposed_department, returned_at"
        " FROM suggestion_assignments WHERE suggestion_id = ?",
        (s.suggestion,),
    )
    return {int(r.pop("department_id")): r for r in rows}


async def suggestion_row(world: World, s: Scene) -> dict[str, object]:
    return (await world.rows("SELECT * FROM suggestions WHERE id = ?", (s.suggestion,)))[0]


@LANGS
async def test_the_lead_department_returns_it_and_staff_are_asked_to_reassign(
    world: World, person: Callable[..., Person], admin: Person, lang: str
) -> None:
    staff = await staff_member(world, person, lang)
    s = await make_scene(world, person, lang, assigned_at=RECENTLY)
    liaison, t = s.liaison, s.t
    last_day = working_days_later(RECENTLY.date(), 7)
    assert last_day == date(2026, 12, 3)

    await liaison.send("/assigned")
    await liaison.tap("JY2026-0001")
    assert s.day(last_day) in liaison.last
    await liaison.tap(t["return"])
    assert s.day(last_day) in liaison.last
    await liaison.send(REASON)
    await liaison.send("区城管委")
    assert REASON in liaison.last and "区城管委" in liaison.last
    await liaison.tap({"zh-hans": "✅ 确认提交", "en": "✅ Confirm"}[lang])
    assert liaison.last.startswith(R[lang]["returned"])

    rows = await assignments(world, s)
    assert rows[s.lead_dept]["state"] == "returned"
    assert rows[s.lead_dept]["return_reason"] == REASON
    assert rows[s.lead_dept]["proposed_department"] == "区城管委"
    assert rows[s.lead_dept]["returned_at"] is not None
    assert rows[s.co_dept]["state"] == "active"  # the co-handler stays until staff reassign
    row = await suggestion_row(world, s)
    assert (row["state"], row["due_at"]) == ("returned", None)
    events = await world.rows("SELECT kind, actor_id, note FROM suggestion_events")
    assert events == [{"kind": "returned", "actor_id": liaison.id, "note": f"区交通委: {REASON}"}]

    # every staff member, with the button of the staff card; the deputy told
    for chat in (admin.id, STAFF):
        [notice] = await outbox_to(world, chat)
        assert notice["key"] == "answers.notice_returned_staff"
        assert notice["buttons"] == [
            [
                {
                    "label": "answers.review_button",
                    "intent": "review_suggestion",
                    "target": s.suggestion,
                    "choice": "",
                }
            ]
        ]
    assert [n["key"] for n in await outbox_to(world, DEPUTY)] == ["answers.notice_returned_deputy"]
    await world.outbox.drain()
    staff_text = world.api.chat_messages(staff.id)[-1]["text"]
    assert REASON in staff_text and "区城管委" in staff_text
    assert {"zh-hans": "（主办）退办", "en": "(lead)"}[lang] in staff_text
    # no longer on the department's list
    await liaison.send("/assigned")
    assert "JY2026-0001" not in liaison.last


@LANGS
async def test_a_co_handling_department_returns_its_part_only(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    await staff_member(world, person, lang)
    s = await make_scene(world, person, lang, assigned_at=RECENTLY)
    co = s.co_liaison
    due_before = (await suggestion_row(world, s))["due_at"]
    await tap(co, ReturnStart(suggestion=s.suggestion))
    await co.send("不涉及本单位职责。")
    await co.tap(s.t["skip"])
    assert "—" in co.last  # no department proposed
    await co.tap({"zh-hans": "✅ 确认提交", "en": "✅ Confirm"}[lang])

    rows = await assignments(world, s)
    assert rows[s.co_dept]["state"] == "returned"
    assert rows[s.co_dept]["proposed_department"] == ""
    assert rows[s.lead_dept]["state"] == "active"
    row = await suggestion_row(world, s)
    assert (row["state"], row["due_at"]) == ("assigned", due_before)
    [notice] = await outbox_to(world, STAFF)
    assert notice["params"]["role_key"] == "answers.role_co"
    # the lead department still has it to answer
    await s.liaison.send("/assigned")
    assert "JY2026-0001" in s.liaison.last


@LANGS
async def test_the_return_window_counts_official_working_days_across_national_day(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    assigned = datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)  # Monday before 国庆
    # counted here from chinesecalendar: 9-29, 9-30, (国庆 10-1..7), 10-8, 10-9, the 调休
    # Saturday 10-10, 10-12, 10-13
    assert chinese_calendar.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    last_day = working_days_later(assigned.date(), 7)
    assert last_day == date(2026, 10, 13)
    weekdays_only = [assigned.date() + timedelta(days=n) for n in range(1, 20)]
    naive = [d for d in weekdays_only if d.weekday() < 5][6]
    assert naive == date(2026, 10, 7)  # a count blind to the holiday ends a week earlier
    s = await make_scene(world, person, lang, assigned_at=assigned)

    world.clock.set(datetime(2026, 10, 13, 23, 30, tzinfo=SHANGHAI))  # the last day, late
    await tap(s.liaison, ReturnStart(suggestion=s.suggestion))
    assert await world.conversation_state("assignment_request", s.liaison.id) == "return_reason"
    await s.liaison.send("/cancel")

    world.clock.set(datetime(2026, 10, 14, 0, 0, 1, tzinfo=SHANGHAI))
    card = await tap(s.liaison, s.liaison_card())
    assert s.t["return"] not in card[-1].buttons()
    refused = await tap(s.liaison, ReturnStart(suggestion=s.suggestion))
    shown = {"zh-hans": "2026年10月13日", "en": "Oct 13, 2026"}[lang]
    assert alerts(refused) == [R[lang]["too_late"].format(date=shown)]
    assert (await assignments(world, s))[s.lead_dept]["state"] == "active"


@LANGS
async def test_the_reason_is_required_and_the_names_bounded(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang, assigned_at=RECENTLY)
    liaison = s.liaison
    await tap(liaison, ReturnStart(suggestion=s.suggestion))
    await liaison.send("\u200b")
    assert liaison.last == R[lang]["reason_empty"]
    await liaison.send("理" * 501)
    assert liaison.last == R[lang]["reason_too_long"]
    await liaison.send_sticker()
    assert liaison.last == s.t["send_text"]
    await liaison.send(REASON)
    await liaison.send("单" * 41)
    assert liaison.last == R[lang]["proposed_too_long"]
    assert await world.conversation_state("assignment_request", liaison.id) == "return_department"
    await liaison.tap(s.t["cancel"])
    assert liaison.last == s.t["cancelled"]
    assert (await assignments(world, s))[s.lead_dept]["state"] == "active"
    assert await world.rows("SELECT 1 FROM suggestion_events") == []
    assert alerts(await tap(liaison, RequestConfirm())) == [R[lang]["no_request"]]


async def test_a_returned_or_answered_suggestion_cannot_be_returned_again(
    world: World, person: Callable[..., Person]
) -> None:
    s = await make_scene(world, person, assigned_at=RECENTLY)
    await tap(s.liaison, ReturnStart(suggestion=s.suggestion))
    await s.liaison.send(REASON)
    await s.liaison.tap(s.t["skip"])
    await s.liaison.tap("✅ 确认提交")
    again = await tap(s.liaison, RequestConfirm())
    assert alerts(again) == [R["zh-hans"]["no_request"]]
    # the returned assignment is no longer the department's
    assert alerts(await tap(s.liaison, ReturnStart(suggestion=s.suggestion))) == [s.t["not_yours"]]
    assert len(await world.rows("SELECT 1 FROM suggestion_events")) == 1
    # an answered suggestion: the co-handler's return comes too late for it
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = 'answered' WHERE id = ?", (s.suggestion,))
    refused = await tap(s.co_liaison, ReturnStart(suggestion=s.suggestion))
    assert alerts(refused) == ["代表建议 JY2026-0001 当前不能退办。"]


@LANGS
async def test_the_lead_department_asks_for_more_time_once(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    staff = await staff_member(world, person, lang)
    s = await make_scene(world, person, lang)
    liaison = s.liaison
    await liaison.send("/assigned")
    await liaison.tap("JY2026-0001")
    await liaison.tap(s.t["extension"])
    assert s.day(date(2027, 2, 2)) in liaison.last  # the deadline now
    await liaison.send("需协调规划、交通等多个部门，三个月内难以完成论证。")
    await liaison.tap({"zh-hans": "✅ 确认提交", "en": "✅ Confirm"}[lang])
    assert liaison.last.startswith(R[lang]["asked"])

    row = await suggestion_row(world, s)
    assert row["extension_requested_at"] is not None
    assert row["extension_reason"] == "需协调规划、交通等多个部门，三个月内难以完成论证。"
    assert (row["extended"], row["state"]) == (0, "assigned")  # staff decide
    kinds = [e["kind"] for e in await world.rows("SELECT kind FROM suggestion_events")]
    assert kinds == ["extension_requested"]
    [notice] = await outbox_to(world, staff.id)
    assert notice["key"] == "answers.notice_extension_staff"
    assert notice["buttons"][0][0]["intent"] == "review_suggestion"

    card = await tap(liaison, s.liaison_card())
    assert s.t["extension"] not in card[-1].buttons()
    refused = await tap(liaison, ExtensionStart(suggestion=s.suggestion))
    shown = {"zh-hans": "2026年11月26日", "en": "Nov 26, 2026"}[lang]
    assert alerts(refused) == [R[lang]["already_asked"].format(date=shown)]

    # refused by staff (the request cleared, the event kept): still asked once
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET extension_requested_at = NULL WHERE id = ?", (s.suggestion,)
        )
    refused = await tap(liaison, ExtensionStart(suggestion=s.suggestion))
    assert alerts(refused) == [R[lang]["already_asked"].format(date=shown)]

    # once granted, never again; nor during re-handling
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET extended = 1, extension_requested_at = NULL WHERE id = ?",
            (s.suggestion,),
        )
    refused = await tap(liaison, ExtensionStart(suggestion=s.suggestion))
    assert alerts(refused) == [R[lang]["already_extended"]]
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET extended = 0 WHERE id = ?", (s.suggestion,))
    await set_rehandling(world, s.suggestion)
    refused = await tap(liaison, ExtensionStart(suggestion=s.suggestion))
    assert len(alerts(refused)) == 1 and "JY2026-0001" in alerts(refused)[0]


async def test_the_request_is_checked_again_when_confirmed(
    world: World, person: Callable[..., Person]
) -> None:
    s = await make_scene(world, person, assigned_at=SEEDED_AT)
    await tap(s.liaison, ExtensionStart(suggestion=s.suggestion))
    await s.liaison.send("需要更多时间。")
    async with world.db.transaction() as tx:  # staff extended it meanwhile
        await tx.execute("UPDATE suggestions SET extended = 1 WHERE id = ?", (s.suggestion,))
    refused = await s.liaison.tap("✅ 确认提交")
    assert alerts(refused) == [R["zh-hans"]["already_extended"]]
    assert await world.conversation_state("assignment_request", s.liaison.id) is None
    assert (await suggestion_row(world, s))["extension_requested_at"] is None


@LANGS
async def test_staff_return_it_for_a_department_past_its_days(
    world: World, person: Callable[..., Person], admin: Person, lang: str
) -> None:
    """Staff end a department's part on its behalf from their card (a department without
    the bot, or one that asks too late): the same return, without the working-day limit."""
    staff = await staff_member(world, person, lang)
    s = await make_scene(world, person, lang)  # assigned 2026-11-02: the department's days passed
    assert alerts(await tap(s.liaison, ReturnStart(suggestion=s.suggestion)))[0].startswith(
        R[lang]["too_late"].split("{date}")[0]
    )
    await tap(staff, AssignOpen(suggestion=s.suggestion, page=0))
    for department in ("区交通委", "区城管委"):
        assert say(staff, "assign.return_for", department=department) in staff.buttons()
    await staff.tap(say(staff, "assign.return_for", department="区交通委"))
    assert say(staff, "answers.role_lead") in staff.last
    assert await world.conversation_state("assignment_request", staff.id) == "return_reason"
    await staff.send(REASON)
    await staff.send("区城管委")
    assert REASON in staff.last
    await staff.tap(say(staff, "answers.confirm"))
    head = say(
        staff,
        "suggestion.head",
        number="JY2026-0001",
        title=TITLE,
        state=say(staff, "suggestion.state.returned"),
    )
    assert staff.last == say(staff, "answers.returned_for", department="区交通委", head=head)
    rows = await assignments(world, s)
    assert (rows[s.lead_dept]["state"], rows[s.lead_dept]["return_reason"]) == ("returned", REASON)
    assert rows[s.co_dept]["state"] == "active"
    row = await suggestion_row(world, s)
    assert (row["state"], row["due_at"]) == ("returned", None)
    events = await world.rows("SELECT kind, actor_id, note FROM suggestion_events")
    assert events == [{"kind": "returned", "actor_id": STAFF, "note": f"区交通委: {REASON}"}]
    # the other staff, the deputy and the department's liaison are told; not who did it
    assert [n["key"] for n in await outbox_to(world, admin.id)] == ["answers.notice_returned_staff"]
    assert await outbox_to(world, STAFF) == []
    assert [n["key"] for n in await outbox_to(world, DEPUTY)] == ["answers.notice_returned_deputy"]
    [told] = await outbox_to(world, s.liaison.id)
    assert (told["key"], told["params"]["reason"]) == (
        "answers.notice_returned_for_department",
        REASON,
    )
    # back to the card, in the 退办 part now; the lead's part is no longer there to return
    await staff.tap(say(staff, "answers.back_to_card"))
    card = staff.seen[-1].buttons()
    assert say(staff, "assign.reassign") in card
    assert say(staff, "assign.return_for", department="区交通委") not in card
    assert say(staff, "assign.return_for", department="区城管委") in card  # still active
    lead_row = (
        await world.rows(
            "SELECT id FROM suggestion_assignments WHERE department_id = ?", (s.lead_dept,)
        )
    )[0]
    gone = alerts(await tap(staff, ReturnFor(assignment=lead_row["id"])))
    assert gone == [
        say(staff, "answers.return_for_gone", department="区交通委", number="JY2026-0001")
    ]


async def test_only_staff_return_for_a_department(
    world: World, person: Callable[..., Person]
) -> None:
    s = await make_scene(world, person)
    row = (await world.rows("SELECT id FROM suggestion_assignments ORDER BY id LIMIT 1"))[0]
    people = (s.liaison, person(DEPUTY, "王芳"))
    for someone in people:
        await someone.send("/help")
    before = await world.snapshot()
    for someone in people:
        assert alerts(await tap(someone, ReturnFor(assignment=row["id"]))) == [
            say(someone, "error.forbidden")
        ]
    assert await world.snapshot() == before
