"""A department answers a deputy's suggestion (办复), loop step 4: its liaison finds it in
/assigned, opens the department's card and records the answer step by step — outcome class,
the meeting with the deputy and its day, the summary, class B's commitments, preview,
confirm. In one transaction the answer, the commitments, the suggestion answered with its
rating deadline (15 official working days), the event, and the notices: the lead deputy asked
to rate it, the confirmed co-signers and the voters told. Also the round-2 answer after
re-handling, staff answering for a department without the bot, and a restart mid-way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from bot.runtime.buttons.assigned import AnswerStart, AssignedOpen
from bot.runtime.buttons.base import NOTICE_ACTIONS
from bot.services.outbox import Intent, NoticeButton
from storage.db import stamp
from tests.support.answers_scene import (
    COSIGNER,
    DEPUTY,
    INVITED,
    LANGS,
    LOCALE,
    STAFF,
    TITLE,
    TODAY,
    VOTERS,
    L,
    Scene,
    make_scene,
    outbox_to,
    set_rehandling,
    tap,
    working_days_later,
)
from tests.support.consultation_seed import add_user
from tests.support.people import Person
from tests.support.scenarios import only, say
from tests.support.suggestion_seed import seed_assignment, seed_suggestion
from tests.support.world import SHANGHAI, World

SUMMARY = "经现场踏勘，学院路南口站台具备增设遮雨棚条件，已列入明年公交设施改造计划。"
PROMISE = "学院路南口站台增设遮雨棚和座椅"


def deadline_instant(last_day: date) -> str:
    """A deadline as stored: the end of its last local day."""
    return stamp(datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=SHANGHAI))


async def answer_in_class_b(s: Scene, liaison: Person) -> None:
    """The whole answer of the lead department's liaison, from the card's button."""
    t = s.t
    await liaison.tap(t["answer"])
    assert t["ask_class_end"] in liaison.last
    await liaison.tap(t["B"])
    assert liaison.last == t["ask_met"]
    await liaison.tap(t["met_yes"])
    await liaison.send("2026-11-20")
    await liaison.send(SUMMARY)
    await liaison.send(PROMISE)
    await liaison.send("2027-06-30")
    assert PROMISE in liaison.last
    await liaison.tap(t["done"])
    assert SUMMARY in liaison.last and PROMISE in liaison.last
    await liaison.tap(t["confirm"])


@LANGS
async def test_the_lead_department_answers_in_class_b_with_a_commitment(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t = s.t
    liaison = s.liaison

    await liaison.send("/assigned")
    listing = liaison.last
    assert "JY2026-0001" in listing and TITLE in listing
    assert t["role_lead"] in listing
    # due 3 months after 2026-11-02: the last day is 2027-02-02, 68 days from 2026-11-26
    left = {"zh-hans": "（还剩 68 天）", "en": " (days left: 68)"}[lang]
    assert f"{s.day(date(2027, 2, 2))}{left}" in listing

    await liaison.tap("JY2026-0001")
    card = liaison.last
    assert "王芳" in card and "李强" in card and "赵敏" not in card  # only confirmed co-signers
    assert "区城管委" in card and t["role_co"] in card
    assert t["answer"] in liaison.buttons()

    await answer_in_class_b(s, liaison)
    assert liaison.last.startswith(t["recorded"])

    rate_by = working_days_later(TODAY, 15)  # chinesecalendar, counted here
    assert rate_by == date(2026, 12, 17)
    row = (await world.rows("SELECT * FROM suggestions WHERE id = ?", (s.suggestion,)))[0]
    assert row["state"] == "answered"
    assert row["outcome_class"] == "B"
    assert row["answered_at"] == stamp(world.clock.now())
    assert row["rating_due_at"] == deadline_instant(rate_by)
    answers = await world.rows("SELECT * FROM suggestion_answers")
    assert len(answers) == 1
    answer = answers[0]
    assert (answer["round"], answer["department_id"], answer["outcome_class"]) == (
        1,
        s.lead_dept,
        "B",
    )
    assert (answer["met_deputy"], answer["met_on"]) == (1, "2026-11-20")
    assert answer["summary"] == SUMMARY
    assert (answer["recorded_by"], answer["on_time"]) == (liaison.id, 1)
    commitments = await world.rows("SELECT * FROM suggestion_commitments")
    assert [(c["text"], c["due_on"], c["answer_id"]) for c in commitments] == [
        (PROMISE, "2027-06-30", answer["id"])
    ]
    events = await world.rows(
        "SELECT kind, actor_id FROM suggestion_events WHERE suggestion_id = ?", (s.suggestion,)
    )
    assert events == [{"kind": "answered", "actor_id": liaison.id}]

    # the lead deputy is asked to rate it, with the rating button
    [deputy_notice] = await outbox_to(world, DEPUTY)
    assert deputy_notice["key"] == "answers.notice_answered"
    assert deputy_notice["buttons"] == [
        [
            {
                "label": "answers.rate_button",
                "intent": "rate_suggestion",
                "target": s.suggestion,
                "choice": "",
            }
        ]
    ]
    assert deputy_notice["params"]["summary"] == SUMMARY
    # the confirmed co-signer is told; the one only invited is not
    assert [n["key"] for n in await outbox_to(world, COSIGNER)] == [
        "answers.notice_answered_cosigner"
    ]
    assert await outbox_to(world, INVITED) == []
    for voter in VOTERS:
        [told] = await outbox_to(world, voter)
        assert told["key"] == "answers.notice_answered_voters"
        assert told["params"]["number"] == "JY2026-0001"

    # what they read, in their language
    await world.outbox.drain()
    deputy_text = world.api.chat_messages(DEPUTY)[-1]["text"]
    expected_rate_by = {"zh-hans": "2026年12月17日", "en": "Dec 17, 2026"}[lang]
    assert SUMMARY in deputy_text and expected_rate_by in deputy_text
    assert ("区交通委" in deputy_text) and ("B 正在解决或列入计划逐步解决" in deputy_text)
    voter_text = world.api.chat_messages(VOTERS[0])[-1]["text"]
    assert {"zh-hans": "已由区交通委答复", "en": "answered by 区交通委"}[lang] in voter_text

    # the card now shows the answer and no answer button
    await liaison.tap(t["back"])
    assert "JY2026-0001" not in liaison.last  # nothing left to answer
    card = only(await tap(liaison, AssignedOpen(suggestion=s.suggestion, page=0)))
    assert card.buttons() == [t["back"]]
    shown = {"zh-hans": "办理结果：B 正在解决", "en": "outcome: B 正在解决"}[lang]
    assert shown in card.text


@LANGS
async def test_a_class_without_the_ledger_needs_no_commitment_nor_a_meeting(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t = s.t
    await tap(s.liaison, AnswerStart(suggestion=s.suggestion))
    await s.liaison.tap(t["A"])
    await s.liaison.tap(t["met_no"])
    await s.liaison.send("站台遮雨棚已于本月建成投用。")
    assert t["confirm"] in s.liaison.buttons()  # straight to the preview
    await s.liaison.tap(t["confirm"])

    answer = (await world.rows("SELECT * FROM suggestion_answers"))[0]
    assert (answer["outcome_class"], answer["met_deputy"], answer["met_on"]) == ("A", 0, None)
    assert await world.rows("SELECT * FROM suggestion_commitments") == []


async def test_several_commitments_are_kept_in_order(
    world: World, person: Callable[..., Person]
) -> None:
    s = await make_scene(world, person)
    t, liaison = s.t, s.liaison
    await tap(liaison, AnswerStart(suggestion=s.suggestion))
    await liaison.tap(t["B"])
    await liaison.tap(t["met_no"])
    await liaison.send(SUMMARY)
    await liaison.send("增设遮雨棚")
    await liaison.send("6月30日")  # no year: the next such day
    await liaison.tap(t["more"])
    await liaison.send("增设座椅")
    await liaison.send("2027年3月1日")
    await liaison.tap(t["done"])
    await liaison.tap(t["confirm"])

    rows = await world.rows("SELECT text, due_on FROM suggestion_commitments ORDER BY id")
    assert rows == [
        {"text": "增设遮雨棚", "due_on": "2027-06-30"},
        {"text": "增设座椅", "due_on": "2027-03-01"},
    ]


@LANGS
async def test_the_answer_after_re_handling_is_round_two(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    await set_rehandling(world, s.suggestion)
    async with world.db.transaction() as tx:  # round 1's ledger, done before the rating
        await tx.execute(
            "UPDATE suggestions SET ledger_done_at = ? WHERE id = ?",
            (stamp(world.clock.now() - timedelta(days=10)), s.suggestion),
        )
    liaison = s.liaison

    await liaison.send("/assigned")
    assert "JY2026-0001" in liaison.last  # re-handling is work to do again
    await liaison.tap("JY2026-0001")
    await answer_in_class_b(s, liaison)

    rounds = await world.rows(
        "SELECT round, outcome_class, on_time FROM suggestion_answers ORDER BY round"
    )
    assert rounds == [
        {"round": 1, "outcome_class": "C", "on_time": 1},
        {"round": 2, "outcome_class": "B", "on_time": 1},
    ]
    row = (await world.rows("SELECT * FROM suggestions"))[0]
    assert (row["state"], row["outcome_class"], row["rehandled"]) == ("answered", "B", 1)
    assert row["ledger_done_at"] is None  # the ledger reopens for round 2's commitment
    [notice] = await outbox_to(world, DEPUTY)
    assert notice["params"]["kind_key"] == "answers.kind_reanswer"
    await world.outbox.drain()
    text = world.api.chat_messages(DEPUTY)[-1]["text"]
    assert {"zh-hans": "重新办理后的答复", "en": "answer after re-handling"}[lang] in text


async def test_a_late_answer_is_recorded_as_not_on_time(
    world: World, person: Callable[..., Person]
) -> None:
    s = await make_scene(world, person)
    world.clock.set(datetime(2027, 2, 3, 9, 0, tzinfo=SHANGHAI))  # the day after the last day
    t, liaison = s.t, s.liaison
    await liaison.send("/assigned")
    assert "已超期 1 天" in liaison.last
    await tap(liaison, AnswerStart(suggestion=s.suggestion))
    await liaison.tap(t["C"])
    await liaison.tap(t["met_no"])
    await liaison.send("受规划条件限制，暂不具备实施条件，留作参考。")
    await liaison.tap(t["confirm"])
    answer = (await world.rows("SELECT on_time FROM suggestion_answers"))[0]
    assert answer["on_time"] == 0


@LANGS
async def test_staff_record_the_answer_for_a_department_without_the_bot(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    await add_user(world, STAFF, role="staff", name="机关工作人员", locale=LOCALE[lang])
    staff = person(STAFF, "机关工作人员", lang)
    t = L[lang]
    # the staff card of /assign carries this button; it is pressed as that card would send it
    await tap(staff, AnswerStart(suggestion=s.suggestion))
    assert "区交通委" in staff.last  # the lead department, whose answer it is
    await staff.tap(t["A"])
    await staff.tap(t["met_yes"])
    await staff.send("11月25日")
    await staff.send("遮雨棚已建成。")
    await staff.tap(t["confirm"])

    answer = (await world.rows("SELECT * FROM suggestion_answers"))[0]
    assert answer["department_id"] == s.lead_dept
    assert answer["recorded_by"] == STAFF
    assert answer["met_on"] == "2026-11-25"
    assert [n["key"] for n in await outbox_to(world, DEPUTY)] == ["answers.notice_answered"]


async def test_a_restart_mid_answer_resumes_at_the_step_reached(
    world: World, person: Callable[..., Person]
) -> None:
    s = await make_scene(world, person)
    t = s.t
    await tap(s.liaison, AnswerStart(suggestion=s.suggestion))
    await s.liaison.tap(t["B"])
    await s.liaison.tap(t["met_no"])
    await s.liaison.send(SUMMARY)
    assert await world.conversation_state("suggestion_answer", s.liaison.id) == "commitment"

    await world.crash_and_restart()

    liaison = person(s.liaison.id, "交通委联络员")
    await liaison.send(PROMISE)
    await liaison.send("2027-06-30")
    await liaison.tap(t["done"])
    await liaison.tap(t["confirm"])
    assert (await world.rows("SELECT summary FROM suggestion_answers"))[0]["summary"] == SUMMARY


async def test_a_new_assignment_notice_opens_the_department_card(
    world: World, person: Callable[..., Person]
) -> None:
    """Intent.OPEN_ASSIGNMENT (the assignment helper's notice to liaisons) opens this card."""
    s = await make_scene(world, person)
    factory = NOTICE_ACTIONS[Intent.OPEN_ASSIGNMENT]
    button = factory(NoticeButton(label="x", intent=Intent.OPEN_ASSIGNMENT, target=s.suggestion))
    assert button == AssignedOpen(suggestion=s.suggestion, page=0)
    await s.co_liaison.send("/start")
    out = only(await tap(s.co_liaison, button))
    assert "JY2026-0001" in out.text and "区城管委" in out.text


@LANGS
async def test_the_list_marks_lead_co_priority_and_overdue_and_pages(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t = s.t
    # the co-handling department's view of the same suggestion
    await s.co_liaison.send("/assigned")
    assert t["role_co"] in s.co_liaison.last
    # six more for the lead department: one overdue, one priority
    for i in range(6):
        sid = await seed_suggestion(world, DEPUTY, title=f"第{i + 2}条建议")
        due = datetime(2026, 11, 20, tzinfo=SHANGHAI) if i == 0 else None
        await seed_assignment(world, sid, s.lead_dept, due_at=due)
        if i == 1:
            async with world.db.transaction() as tx:
                await tx.execute("UPDATE suggestions SET priority = 1 WHERE id = ?", (sid,))
    await s.liaison.send("/assigned")
    first = s.liaison.last
    # the overdue one first (last day 2026-11-19, 7 days ago)
    assert first.index("JY2026-0002") < first.index("JY2026-0001")
    assert {"zh-hans": "已超期 7 天", "en": "days overdue: 7"}[lang] in first
    assert {"zh-hans": "（待答复 7 件）", "en": "(7 to answer)"}[lang] in first
    next_label = {"zh-hans": "下一页 ›", "en": "Next ›"}[lang]
    assert next_label in s.liaison.buttons()
    await s.liaison.tap(next_label)
    both = first + s.liaison.last
    assert "🔴 <b>JY2026-0003</b>" in both
    assert sum(both.count(f"JY2026-000{n}") for n in range(1, 8)) == 7


async def test_an_empty_list_says_so(world: World, person: Callable[..., Person]) -> None:
    s = await make_scene(world, person)
    await s.other_liaison.send("/assigned")
    assert s.other_liaison.last == "区教委目前没有待答复的代表建议。"
    assert say(s.other_liaison, "answers.list_empty", department="区教委") == s.other_liaison.last


@LANGS
async def test_the_card_and_the_preview_fit_one_message_whatever_was_typed(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    """Texts full of characters that grow when escaped ('&' takes five): clipped before
    they are escaped, never cut inside an entity, within one message."""
    s = await make_scene(world, person, lang)
    t, liaison = s.t, s.liaison
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET reason = ?, proposals = ? WHERE id = ?",
            ("&" * 1500, "<>" * 750, s.suggestion),
        )
    card = only(await tap(liaison, s.liaison_card())).text
    assert card.startswith("<b>JY2026-0001</b>") and len(card) <= 4096
    assert "&amp;" in card and "&lt;&gt;" in card
    await liaison.tap(t["answer"])
    await liaison.tap(t["B"])
    await liaison.tap(t["met_no"])
    await liaison.send("&" * 3000)
    for i in range(10):
        if i:
            await liaison.tap(t["more"])
        await liaison.send("&" * 150)
        await liaison.send("2027-06-30")
    await liaison.tap(t["done"])
    preview = liaison.last
    assert t["confirm"] in liaison.buttons() and len(preview) <= 4096
    assert preview.count("&") == preview.count("&amp;")  # every entity whole
    await liaison.tap(t["confirm"])
    assert len(await world.rows("SELECT 1 FROM suggestion_commitments")) == 10
