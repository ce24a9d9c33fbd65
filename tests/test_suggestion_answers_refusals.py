"""Everything the answer refuses, each with its message in both languages, and nothing
written: a co-handling department answering, another department's suggestion (forged
buttons), people who are no liaisons, a suggestion no longer to be answered (a double tap,
withdrawn or reassigned mid-way), a meeting day in the future, before the assignment or
unreadable, an empty or too long summary, a commitment due in the past (also one whose day came
while the answer waited), a ledger class with no commitment, a forged class, the wrong kind of
input at each step."""

from __future__ import annotations

from collections.abc import Callable

from bot.runtime.buttons.assigned import (
    AnswerClass,
    AnswerConfirm,
    AnswerDone,
    AnswerMore,
    AnswerStart,
    AssignedOpen,
    ExtensionStart,
    ReturnStart,
)
from bot.services.suggestion_answers import COMMITMENT_MAX
from tests.support.answers_scene import (
    DEPUTY,
    LANGS,
    LOCALE,
    STAFF,
    VOTERS,
    Scene,
    alerts,
    make_scene,
    tap,
)
from tests.support.consultation_seed import add_user
from tests.support.people import Person
from tests.support.scenarios import say
from tests.support.world import World

SUMMARY = "已列入明年公交设施改造计划。"


async def nothing_answered(world: World, s: Scene) -> bool:
    answers = await world.rows("SELECT 1 FROM suggestion_answers")
    state = (await world.rows("SELECT state FROM suggestions WHERE id = ?", (s.suggestion,)))[0]
    return not answers and state["state"] == "assigned"


async def to_summary(s: Scene, code: str = "B") -> None:
    await tap(s.liaison, AnswerStart(suggestion=s.suggestion))
    await s.liaison.tap(s.t[code])
    await s.liaison.tap(s.t["met_no"])


async def to_preview(s: Scene) -> None:
    await to_summary(s, "A")
    await s.liaison.send(SUMMARY)
    assert s.t["confirm"] in s.liaison.buttons()


@LANGS
async def test_a_co_handling_department_cannot_answer(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    co = s.co_liaison
    card = await tap(co, AssignedOpen(suggestion=s.suggestion, page=0))
    assert s.t["answer"] not in card[-1].buttons()
    assert {"zh-hans": "本单位为协办单位", "en": "Your department assists"}[lang] in card[-1].text

    refused = await tap(co, AnswerStart(suggestion=s.suggestion))
    assert alerts(refused) == [s.t["co_cannot_answer"]]
    assert await world.conversation_state("suggestion_answer", co.id) is None
    # nor may it ask for more time: that is the lead's
    refused = await tap(co, ExtensionStart(suggestion=s.suggestion))
    assert alerts(refused) == [
        {
            "zh-hans": "延期由主办单位申请，协办单位不能申请。",
            "en": "Only the lead department may ask for more time.",
        }[lang]
    ]
    assert await nothing_answered(world, s)


@LANGS
async def test_another_departments_suggestion_is_refused_whatever_the_button(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    other = s.other_liaison
    for forged in (
        AssignedOpen(suggestion=s.suggestion, page=0),
        AnswerStart(suggestion=s.suggestion),
        ReturnStart(suggestion=s.suggestion),
        ExtensionStart(suggestion=s.suggestion),
    ):
        assert alerts(await tap(other, forged)) == [s.t["not_yours"]], forged
    unknown = await tap(other, AssignedOpen(suggestion=999, page=0))
    assert alerts(unknown) == [say(other, "suggestion.unknown")]  # the drafting's wording
    assert await nothing_answered(world, s)
    assert await world.rows("SELECT 1 FROM suggestion_events") == []


@LANGS
async def test_people_who_are_no_liaisons_are_refused(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t = s.t
    for someone in (person(VOTERS[0], "选民", lang), person(DEPUTY, "王芳", lang)):
        await someone.send("/assigned")
        assert someone.last == t["forbidden"]
        assert alerts(await tap(someone, AnswerStart(suggestion=s.suggestion))) == [t["forbidden"]]
        assert alerts(await tap(someone, ReturnStart(suggestion=s.suggestion))) == [t["forbidden"]]
        assert alerts(await tap(someone, AnswerConfirm())) == [t["forbidden"]]
    # staff answer from their own card; /assigned and a department's return are not theirs
    await add_user(world, STAFF, role="staff", name="机关工作人员", locale=LOCALE[lang])
    staff = person(STAFF, "机关工作人员", lang)
    await staff.send("/assigned")
    assert staff.last == t["liaisons_only"]
    assert alerts(await tap(staff, ReturnStart(suggestion=s.suggestion))) == [t["liaisons_only"]]
    assert await nothing_answered(world, s)


@LANGS
async def test_a_double_tap_on_confirm_answers_once(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    await to_preview(s)
    await s.liaison.tap(s.t["confirm"])
    again = await tap(s.liaison, AnswerConfirm())  # the same button, a second time
    assert alerts(again) == [s.t["no_draft"]]
    assert len(await world.rows("SELECT 1 FROM suggestion_answers")) == 1
    assert len(await world.rows("SELECT 1 FROM outbox WHERE chat_id = ?", (DEPUTY,))) == 1
    # and the answer button of the card, tapped again, says it is answered
    refused = await tap(s.liaison, AnswerStart(suggestion=s.suggestion))
    assert alerts(refused) == [
        {
            "zh-hans": "代表建议 JY2026-0001 已经答复过了，不能再次答复。",
            "en": "Suggestion JY2026-0001 has already been answered; it cannot be answered again.",
        }[lang]
    ]


@LANGS
async def test_a_suggestion_withdrawn_or_reassigned_mid_way_ends_the_answer(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    await to_preview(s)
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = 'returned' WHERE id = ?", (s.suggestion,))
    refused = await s.liaison.tap(s.t["confirm"])
    assert alerts(refused) == [
        {
            "zh-hans": "代表建议 JY2026-0001 当前不在办理中，不能答复。",
            "en": "Suggestion JY2026-0001 is not being handled now, so it cannot be answered.",
        }[lang]
    ]
    assert await world.conversation_state("suggestion_answer", s.liaison.id) is None
    assert await world.rows("SELECT 1 FROM suggestion_answers") == []

    # back in the lead department's hands, then given to another lead while it is typed
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = 'assigned' WHERE id = ?", (s.suggestion,))
    await to_preview(s)
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestion_assignments SET state = 'ended' WHERE suggestion_id = ?",
            (s.suggestion,),
        )
        await tx.execute(
            "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead, assigned_at)"
            " VALUES (?, ?, 1, '2026-11-26T01:00:00+00:00')",
            (s.suggestion, s.other_dept),
        )
    refused = await s.liaison.tap(s.t["confirm"])
    assert alerts(refused) == [s.t["not_yours"]]
    assert await world.rows("SELECT 1 FROM suggestion_answers") == []


async def test_a_withdrawn_suggestion_cannot_be_answered(
    world: World, person: Callable[..., Person]
) -> None:
    s = await make_scene(world, person)
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = 'withdrawn' WHERE id = ?", (s.suggestion,))
    refused = await tap(s.liaison, AnswerStart(suggestion=s.suggestion))
    assert alerts(refused) == ["代表建议 JY2026-0001 当前不在办理中，不能答复。"]


@LANGS
async def test_the_meeting_day_must_be_readable_past_and_after_the_assignment(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t, liaison = s.t, s.liaison
    await tap(liaison, AnswerStart(suggestion=s.suggestion))
    await liaison.tap(t["A"])
    await liaison.tap(t["met_yes"])

    await liaison.send("2026-11-27")
    assert liaison.last == t["met_future"].format(
        date={"zh-hans": "2026年11月27日", "en": "Nov 27, 2026"}[lang]
    )
    await liaison.send("2026-10-30")
    assert liaison.last == t["met_before"].format(
        date={"zh-hans": "2026年11月2日", "en": "Nov 2, 2026"}[lang]
    )
    await liaison.send("上个礼拜")
    assert liaison.last == t["unparsable"]
    await liaison.send_sticker()
    assert liaison.last == t["send_text"]
    assert await world.conversation_state("suggestion_answer", liaison.id) == "met_date"

    await liaison.send("11月2日")  # the assignment day itself will do
    assert await world.conversation_state("suggestion_answer", liaison.id) == "summary"


@LANGS
async def test_the_summary_must_be_there_and_not_too_long(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t, liaison = s.t, s.liaison
    await to_summary(s, "A")

    await liaison.send("\u200b \u200b")  # invisible: nothing readable
    assert liaison.last == t["summary_empty"]
    await liaison.send("长" * 3001)
    too_long = {
        "zh-hans": (
            "答复摘要最多 3000 字，您输入了 3001 字。请精简后重新输入，完整答复以纸质公文为准。"
        ),
        "en": (
            "The summary may be at most 3000 characters; yours has 3001. Please shorten it:"
            " the full official reply stays on paper."
        ),
    }
    assert liaison.last == too_long[lang]
    await liaison.send_photo()
    assert liaison.last == t["send_text"]
    assert await world.conversation_state("suggestion_answer", liaison.id) == "summary"
    await liaison.send("长" * 3000)
    assert await world.conversation_state("suggestion_answer", liaison.id) == "preview"
    # the preview fits one message whatever the summary's length
    assert len(liaison.last) < 4096


@LANGS
async def test_a_commitment_is_due_after_today(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t, liaison = s.t, s.liaison
    await to_summary(s, "B")
    await liaison.send(SUMMARY)
    await liaison.send("增设遮雨棚")

    await liaison.send("2026-11-20")
    assert liaison.last == t["commitment_past"].format(
        date={"zh-hans": "2026年11月20日", "en": "Nov 20, 2026"}[lang]
    )
    await liaison.send("今天")
    assert liaison.last == t["commitment_past"].format(
        date={"zh-hans": "2026年11月26日", "en": "Nov 26, 2026"}[lang]
    )
    await liaison.send("明年某天")
    assert liaison.last == t["unparsable"]
    assert await world.conversation_state("suggestion_answer", liaison.id) == "commitment_date"
    await liaison.send("明天")
    assert await world.conversation_state("suggestion_answer", liaison.id) == "commitments"


@LANGS
async def test_a_ledger_class_cannot_go_without_a_commitment(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t, liaison = s.t, s.liaison
    await to_summary(s, "B")
    await liaison.send(SUMMARY)
    assert await world.conversation_state("suggestion_answer", liaison.id) == "commitment"
    # no "done" nor "confirm" is offered before a commitment; forged, they are refused
    for forged in (AnswerDone(), AnswerConfirm()):
        assert alerts(await tap(liaison, forged)) == [t["stale"]]
    assert await world.conversation_state("suggestion_answer", liaison.id) == "commitment"
    assert await nothing_answered(world, s)


@LANGS
async def test_buttons_only_steps_refuse_text_and_forged_classes(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t, liaison = s.t, s.liaison
    await tap(liaison, AnswerStart(suggestion=s.suggestion))
    await liaison.send("B")
    assert liaison.last == t["use_buttons"]
    refused = await tap(liaison, AnswerClass(code="Z"))
    assert alerts(refused) == [
        {
            "zh-hans": "没有这个办理结果分类，请点按钮选择。",
            "en": "There is no such outcome class; please choose one with the buttons.",
        }[lang]
    ]
    # the answer's own opening button again: already under way
    busy = await tap(liaison, AnswerStart(suggestion=s.suggestion))
    assert alerts(busy) == [
        {
            "zh-hans": "正在录入中。请继续，或发送 /cancel 退出。",
            "en": "You are in the middle of this. Go on, or send /cancel to leave it.",
        }[lang]
    ]
    # a return is another conversation: one at a time
    assert alerts(await tap(liaison, ExtensionStart(suggestion=s.suggestion))) == [t["busy"]]
    await liaison.send("/assigned")
    assert liaison.last.startswith({"zh-hans": "正在录入中", "en": "You are in the middle"}[lang])
    assert await world.conversation_state("suggestion_answer", liaison.id) == "class"

    await liaison.send("/cancel")
    assert liaison.last == t["cancelled"]
    assert await world.conversation_state("suggestion_answer", liaison.id) is None
    assert alerts(await tap(liaison, AnswerClass(code="B"))) == [t["no_draft"]]
    assert await nothing_answered(world, s)


async def test_at_most_ten_commitments(world: World, person: Callable[..., Person]) -> None:
    s = await make_scene(world, person)
    t, liaison = s.t, s.liaison
    await to_summary(s, "B")
    await liaison.send(SUMMARY)
    for i in range(10):
        if i:
            await liaison.tap(t["more"])
        await liaison.send(f"第{i + 1}项承诺")
        await liaison.send("2027-06-30")
    assert t["more"] not in liaison.buttons()[:2]  # no more offered
    assert alerts(await tap(liaison, AnswerMore())) == ["最多列 10 项承诺。"]
    await liaison.tap(t["done"])
    await liaison.tap(t["confirm"])
    assert len(await world.rows("SELECT 1 FROM suggestion_commitments")) == 10


@LANGS
async def test_a_commitment_whose_day_came_while_the_answer_waited_is_dated_again(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t, liaison = s.t, s.liaison
    await to_summary(s, "B")
    await liaison.send(SUMMARY)
    await liaison.send("增设遮雨棚")
    await liaison.send("明天")  # 2026-11-27
    await liaison.tap(t["done"])
    assert t["confirm"] in liaison.buttons()
    world.clock.advance(days=2)  # the preview waited; the commitment's day has come

    refused = await liaison.tap(t["confirm"])
    assert alerts(refused) == [say(liaison, "answers.commitments_passed", count=1)]
    assert await nothing_answered(world, s)
    assert await world.conversation_state("suggestion_answer", liaison.id) == "commitment"
    assert liaison.last == say(liaison, "answers.ask_commitment", index=1, maximum=COMMITMENT_MAX)
    await liaison.send("增设遮雨棚")
    await liaison.send("2027-06-30")
    await liaison.tap(t["done"])
    await liaison.tap(t["confirm"])
    rows = await world.rows("SELECT text, due_on FROM suggestion_commitments")
    assert rows == [{"text": "增设遮雨棚", "due_on": "2027-06-30"}]


@LANGS
async def test_a_meeting_without_its_day_is_asked_for_it_at_confirm(
    world: World, person: Callable[..., Person], lang: str
) -> None:
    s = await make_scene(world, person, lang)
    t, liaison = s.t, s.liaison
    await tap(liaison, AnswerStart(suggestion=s.suggestion))
    await liaison.tap(t["A"])
    await liaison.tap(t["met_yes"])
    await liaison.send("2026-11-20")
    await liaison.send(SUMMARY)
    # a draft kept by an older version of the bot: "met" without the day
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE drafts SET data = json_set(data, '$.met_on', NULL)"
            " WHERE user_id = ? AND kind = 'suggestion_answer'",
            (liaison.id,),
        )
    refused = await liaison.tap(t["confirm"])
    assert alerts(refused) == [say(liaison, "answers.met_date_missing")]
    assert await nothing_answered(world, s)
    assert await world.conversation_state("suggestion_answer", liaison.id) == "met_date"
    await liaison.send("2026-11-20")
    await liaison.tap(t["confirm"])
    answer = (await world.rows("SELECT met_deputy, met_on FROM suggestion_answers"))[0]
    assert answer == {"met_deputy": 1, "met_on": "2026-11-20"}
