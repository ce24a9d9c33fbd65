"""Commenting on a draft law: on an article, on the whole draft, or answering a key question
(multiple choice by buttons, one answer a person and changeable; free text like a comment);
10–2,000 characters through the one text cleaner, photos and stickers refused; a voter
chooses to be named, a deputy always is; one's own comments edited and withdrawn; nothing
taken after the deadline or once closed, whenever the attempt began; forged buttons; a restart
in the middle of a comment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.i18n import I18n
from bot.runtime.buttons.consultations import (
    CommentArticle,
    CommentCancel,
    CommentEdit,
    CommentNamed,
    CommentWhole,
    CommentWithdraw,
    CommentWithdrawConfirmed,
    MyComments,
    QuestionAnswer,
    QuestionChoose,
    ReadArticle,
    ReadQuestions,
)
from tests.support.people import Person
from tests.support.scenarios import consented_admin, invite_deputy
from tests.support.world import SHANGHAI, World
from tests.test_consultation_reading import (
    CIVIL_CODE,
    Draft,
    add_comment,
    add_consultation,
    alerts,
    texts,
    voter,
)

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])

# What a commenter taps and reads, written out so a wrong language or a missing catalog fails.
L: dict[str, dict[str, str]] = {
    "zh-hans": {
        "comment_article": "💬 对本条提意见",
        "comment_whole": "📝 对草案整体提意见",
        "named": "显示我的名字",
        "anonymous": "匿名",
        "cancel": "取消",
        "mine": "🗂 我的意见",
        "questions": "❓ 重点问题（2）",
        "q1": "问题1",
        "q2": "问题2",
        "answer": "✍️ 文字回答",
        "back_questions": "« 重点问题",
        "edit1": "✏️ 修改 1",
        "withdraw1": "🗑 撤回 1",
        "withdraw2": "🗑 撤回 2",
        "withdraw_yes": "确定撤回",
        "article2": "第二条",
        "whole": "总体",
        "ask_name": "是否在意见中显示您的名字？选择匿名时，意见只带您所在的联络站。",
        "not_text": "请用文字发送意见（不能是图片、贴纸或语音）。不写了请发送 /cancel。",
        "forbidden": "您没有权限进行此操作。",
        "not_yours": "找不到这条记录，或它不属于您。",
        "stale": "这个按钮已失效，请重新操作。",
        "no_such_article": "草案中没有这一条。",
        "busy": "您还有其他操作没有完成，请先完成它或发送 /cancel。",
    },
    "en": {
        "comment_article": "💬 Comment on this article",
        "comment_whole": "📝 Comment on the whole draft",
        "named": "Show my name",
        "anonymous": "Anonymous",
        "cancel": "Cancel",
        "mine": "🗂 My comments",
        "questions": "❓ Key questions (2)",
        "q1": "Question 1",
        "q2": "Question 2",
        "answer": "✍️ Answer in words",
        "back_questions": "« Key questions",
        "edit1": "✏️ Edit 1",
        "withdraw1": "🗑 Withdraw 1",
        "withdraw2": "🗑 Withdraw 2",
        "withdraw_yes": "Yes, withdraw",
        "article2": "Article 2",
        "whole": "the whole draft",
        "ask_name": (
            "Show your name with this comment? An anonymous comment carries only your station."
        ),
        "not_text": (
            "Please send your comment as text, not a photo, sticker or voice message."
            " Send /cancel to stop."
        ),
        "forbidden": "You are not allowed to do that.",
        "not_yours": "That record does not exist or is not yours.",
        "stale": "This button is no longer valid. Please start again.",
        "no_such_article": "The draft has no such article.",
        "busy": "You are in the middle of something else: finish it or send /cancel first.",
    },
}
QUESTIONS = [
    ("是否赞成设立三十日的离婚冷静期？", ["赞成", "反对", "不确定"]),
    ("您对婚姻家庭编还有哪些意见和建议？", []),
]
COMMENT = "建议明确调解的期限，避免久调不决，影响当事人的合法权益。"
NEW_TEXT = "建议将分居满二年的期限缩短为一年，并明确分居的认定标准。"


async def comments(world: World) -> list[dict[str, Any]]:
    return await world.rows("SELECT * FROM consultation_comments ORDER BY id")


async def state_of(world: World, user_id: int) -> str | None:
    return await world.conversation_state("consultation_comment", user_id)


async def civil_code(world: World, **more: Any) -> int:
    return await add_consultation(world, Draft(CIVIL_CODE, questions=QUESTIONS, **more))


async def read(person: Person, consultation: int, position: int = 1) -> None:
    await person.tap_data(ReadArticle(consultation=consultation, position=position, part=0).pack())


async def comment_on_article(
    person: Person, consultation: int, text: str, *, named: bool | None = True, position: int = 1
) -> None:
    """Read the article, comment on it, and (a voter) choose whether to be named."""
    lbl = L[person.language_code]
    await read(person, consultation, position)
    await person.tap(lbl["comment_article"])
    await person.send(text)
    if named is not None:
        await person.tap(lbl["named"] if named else lbl["anonymous"])


# --- commenting -------------------------------------------------------------------------------


@LANGS
async def test_consultation_comment_on_an_article_with_the_voters_name_choice(
    world: World, lang: str
) -> None:
    reader = await voter(world, 6001, lang)
    consultation = await civil_code(world)
    lbl, t = L[lang], texts(reader)
    await read(reader, consultation)
    await reader.tap(lbl["comment_article"])
    assert reader.last == t(
        "consultations.ask_text", target=lbl["article2"], minimum=10, maximum=2000
    )
    assert reader.seen[-1].kind == "message"  # the page stays where it was
    assert await state_of(world, reader.id) == "text"
    await reader.send(COMMENT)
    assert reader.last == lbl["ask_name"]
    assert await state_of(world, reader.id) == "name"
    assert not await comments(world)
    await reader.tap(lbl["named"])
    assert reader.last == t("consultations.saved", target=lbl["article2"])
    assert await state_of(world, reader.id) is None
    await comment_on_article(reader, consultation, NEW_TEXT, named=False)

    station = await world.station_id("学院路第一联络站")
    rows = await comments(world)
    assert [
        (r["article_position"], r["question_id"], r["text"], r["author_kind"], r["station_id"])
        for r in rows
    ] == [(1, None, COMMENT, "voter", station), (1, None, NEW_TEXT, "voter", station)]
    assert [r["show_name"] for r in rows] == [1, 0]
    await read(reader, consultation)
    assert reader.last.endswith(t("consultations.page_comments", count=2))


@LANGS
async def test_deputies_and_staff_are_named_without_being_asked(world: World, lang: str) -> None:
    admin = await consented_admin(world, lang)
    deputy = await invite_deputy(
        world, admin, lambda *a: Person(world, *a), 6011, "张三", "海淀街道", "海淀街道联络站", lang
    )
    consultation = await civil_code(world, audience="deputies")
    lbl, t = L[lang], texts(deputy)
    await read(deputy, consultation, 0)
    await deputy.tap(lbl["comment_whole"])
    assert deputy.last == t("consultations.ask_text", target=lbl["whole"], minimum=10, maximum=2000)
    await deputy.send(COMMENT)
    assert deputy.last == t("consultations.saved", target=lbl["whole"])
    await comment_on_article(admin, consultation, NEW_TEXT, named=None)
    assert admin.last == t("consultations.saved", target=lbl["article2"])
    rows = await comments(world)
    deputy_station = await world.station_id("海淀街道联络站")
    assert [(r["author_id"], r["author_kind"], r["station_id"], r["show_name"]) for r in rows] == [
        (deputy.id, "deputy", deputy_station, 1),
        (admin.id, "staff", None, 1),
    ]
    assert [r["article_position"] for r in rows] == [None, 1]


@LANGS
async def test_too_short_too_long_and_not_text_are_refused(world: World, lang: str) -> None:
    reader = await voter(world, 6021, lang)
    consultation = await civil_code(world)
    lbl, t = L[lang], texts(reader)
    await read(reader, consultation)
    await reader.tap(lbl["comment_article"])
    await reader.send("\u200b\u2060\u200b")  # only invisible characters
    assert reader.last == t("consultations.text_empty")
    await reader.send("太短了\u200b，就九个字。")  # nine readable once the zero-width is gone
    assert reader.last == t("consultations.text_too_short", count=9, minimum=10)
    await reader.send("长" * 2001)
    assert reader.last == t("consultations.text_too_long", count=2001, maximum=2000)
    await reader.send_photo()
    assert reader.last == lbl["not_text"]
    await reader.send_sticker()
    assert reader.last == lbl["not_text"]
    await reader.send_voice()
    assert reader.last == lbl["not_text"]
    await reader.send("/consultations")
    assert reader.last == t("consultations.in_progress")
    assert await state_of(world, reader.id) == "text" and not await comments(world)
    await reader.send("正好十个字的意见啊。")
    await reader.tap(lbl["anonymous"])
    await comment_on_article(reader, consultation, "长" * 2000, named=True)
    assert [len(r["text"]) for r in await comments(world)] == [10, 2000]


@LANGS
async def test_cancel_and_beginning_another_comment_instead(world: World, lang: str) -> None:
    reader = await voter(world, 6031, lang)
    consultation = await civil_code(world)
    lbl, t = L[lang], texts(reader)
    await read(reader, consultation)
    await reader.tap(lbl["comment_article"])
    await reader.tap(lbl["comment_whole"])  # the page's other button: that comment instead
    assert reader.last == t("consultations.ask_text", target=lbl["whole"], minimum=10, maximum=2000)
    await reader.send(COMMENT)
    await reader.tap(lbl["cancel"])
    assert reader.last == t("consultations.cancelled")
    assert await state_of(world, reader.id) is None
    await reader.tap(lbl["comment_article"])
    await reader.send("/cancel")
    assert reader.last == t("consultations.cancelled")
    await reader.send(COMMENT)  # no longer a comment
    assert not await comments(world)


@LANGS
async def test_a_comment_waits_for_another_conversation(world: World, lang: str) -> None:
    reader = await voter(world, 6041, lang)
    consultation = await civil_code(world)
    await reader.send("/opinion")
    opinion_state = await world.conversation_state("opinion", reader.id)
    assert opinion_state is not None
    await read(reader, consultation)  # reading goes on meanwhile
    outputs = await reader.tap(L[lang]["comment_article"])
    assert alerts(outputs) == [L[lang]["busy"]]
    assert await state_of(world, reader.id) is None
    assert await world.conversation_state("opinion", reader.id) == opinion_state


@LANGS
async def test_a_restart_in_the_middle_of_a_comment(world: World, lang: str) -> None:
    reader = await voter(world, 6051, lang)
    consultation = await civil_code(world)
    lbl = L[lang]
    await read(reader, consultation)
    await reader.tap(lbl["comment_article"])
    await world.crash_and_restart()
    await reader.send(COMMENT)
    assert reader.last == lbl["ask_name"]
    await world.crash_and_restart()
    await reader.tap(lbl["anonymous"])
    rows = await comments(world)
    assert [(r["article_position"], r["text"], r["show_name"]) for r in rows] == [(1, COMMENT, 0)]
    assert await state_of(world, reader.id) is None


# --- key questions ----------------------------------------------------------------------------


@LANGS
async def test_key_questions_by_choice_changeable_and_in_words(world: World, lang: str) -> None:
    reader = await voter(world, 6061, lang)
    consultation = await civil_code(world)
    lbl, t = L[lang], texts(reader)
    await read(reader, consultation)
    await reader.tap(lbl["questions"])
    assert QUESTIONS[0][0] in reader.last and t("consultations.not_answered") in reader.last
    await reader.tap(lbl["q1"])
    assert reader.buttons()[:4] == ["赞成", "反对", "不确定", lbl["back_questions"]]
    outputs = await reader.tap("赞成")
    assert alerts(outputs) == [t("consultations.choice_saved")]
    assert t("consultations.your_choice", choice="赞成") in reader.last
    assert reader.buttons()[:2] == [t("consultations.chosen_mark", option="赞成"), "反对"]
    await reader.tap("反对")
    rows = await comments(world)
    question_ids = [
        r["id"] for r in await world.rows("SELECT id FROM consultation_questions ORDER BY position")
    ]
    assert [(r["question_id"], r["choice"], r["text"], r["withdrawn_at"]) for r in rows] == [
        (question_ids[0], "反对", "", None)
    ]  # one answer a person, changed in place
    await reader.tap(lbl["back_questions"])
    assert t("consultations.your_choice", choice="反对") in reader.last
    await reader.tap(lbl["q2"])
    await reader.tap(lbl["answer"])
    assert QUESTIONS[1][0] in reader.last
    assert reader.last == t(
        "consultations.ask_answer", number=2, question=QUESTIONS[1][0], minimum=10, maximum=2000
    )
    await reader.send(COMMENT)
    await reader.tap(lbl["anonymous"])
    assert reader.last == t("consultations.saved", target=t("consultations.question_n", number=2))
    rows = await comments(world)
    assert [(r["question_id"], r["choice"], r["text"]) for r in rows][1:] == [
        (question_ids[1], None, COMMENT)
    ]
    await reader.send("/consultations")
    assert {
        "zh-hans": "已提 2 条意见：问题1、问题2",
        "en": "Your comments so far: 2 (question 1, question 2)",
    }[lang] in reader.last

    # forged: an option that is not there, words for a multiple-choice question
    forged = QuestionChoose(question=question_ids[0], option=3, at=0).pack()
    assert alerts(await reader.tap_data(forged)) == [lbl["stale"]]
    forged = QuestionAnswer(question=question_ids[0], at=0).pack()
    assert alerts(await reader.tap_data(forged)) == [lbl["stale"]]
    forged = QuestionChoose(question=999, option=0, at=0).pack()
    assert alerts(await reader.tap_data(forged)) == [lbl["stale"]]
    assert len(await comments(world)) == 2


# --- one's own comments -----------------------------------------------------------------------


@LANGS
async def test_own_comments_are_edited_and_withdrawn(world: World, lang: str) -> None:
    reader = await voter(world, 6071, lang)
    consultation = await civil_code(world)
    lbl, t = L[lang], texts(reader)
    await comment_on_article(reader, consultation, COMMENT, named=False)
    await read(reader, consultation, 0)
    await reader.tap(lbl["comment_whole"])
    await reader.send(NEW_TEXT)
    await reader.tap(lbl["named"])
    await reader.tap(lbl["mine"])
    assert reader.last.startswith(
        t("consultations.mine_title", title="《北京市乡村振兴促进条例（草案）》", count=2)
    )
    assert COMMENT in reader.last and NEW_TEXT in reader.last
    assert t("consultations.anonymous_mark") in reader.last  # the first was anonymous
    assert reader.buttons()[:4] == [
        lbl["edit1"],
        lbl["withdraw1"],
        t("consultations.edit_button", n=2),
        lbl["withdraw2"],
    ]

    world.clock.advance(hours=1)
    await reader.tap(lbl["edit1"])
    assert reader.last == t("consultations.ask_edit", current=COMMENT, minimum=10, maximum=2000)
    await reader.send("太短")
    assert reader.last == t("consultations.text_too_short", count=2, minimum=10)
    edited = "建议明确调解的期限为三十日，避免久调不决。"
    await reader.send(edited)
    assert reader.last == t("consultations.edited", target=lbl["article2"])  # no name asked
    first = (await comments(world))[0]
    assert (first["text"], first["show_name"], first["withdrawn_at"]) == (edited, 0, None)
    assert first["updated_at"] > first["created_at"]

    await reader.tap(lbl["mine"])
    await reader.tap(lbl["withdraw2"])
    assert reader.last == t("consultations.confirm_withdraw", target=lbl["whole"], text=NEW_TEXT)
    await reader.tap(lbl["withdraw_yes"])
    assert reader.last.startswith(t("consultations.withdrawn"))
    assert NEW_TEXT not in reader.last and edited in reader.last
    rows = await comments(world)
    assert rows[1]["withdrawn_at"] is not None and rows[0]["withdrawn_at"] is None
    replay = CommentWithdrawConfirmed(comment=rows[1]["id"], at=0, page=0).pack()
    assert alerts(await reader.tap_data(replay)) == [t("consultations.comment_withdrawn")]
    await reader.send("/consultations")
    assert {"zh-hans": "已提 1 条意见：第二条", "en": "Your comments so far: 1 (Article 2)"}[
        lang
    ] in reader.last


# --- after the deadline -----------------------------------------------------------------------


def closed_text(person: Person, closed_at: Any) -> str:
    t = texts(person)
    return t("consultations.closed", closed_at=t.datetime(closed_at))


def test_the_closed_message_reads_as_written() -> None:
    """The date in "closed on …" is the locale's own (the tests below build it the same way)."""
    i18n = I18n(SHANGHAI)
    moment = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
    zh, en = i18n.texts("zh_CN"), i18n.texts("en")
    assert zh("consultations.closed", closed_at=zh.datetime(moment)) == (
        "意见征集已于2026年11月28日 10:00截止，不再接受意见。"
    )
    assert en("consultations.closed", closed_at=en.datetime(moment)) == (
        "This consultation closed on Nov 28, 2026 10:00; comments are no longer taken."
    )


@LANGS
async def test_a_comment_finished_after_the_deadline_is_refused(world: World, lang: str) -> None:
    reader = await voter(world, 6081, lang)
    deadline = world.clock.now() + timedelta(hours=2)
    consultation = await civil_code(world, deadline=deadline)
    lbl = L[lang]
    await read(reader, consultation)
    await reader.tap(lbl["comment_article"])
    world.clock.set(deadline)  # begun before, sent at the deadline
    await reader.send(COMMENT)
    assert reader.last == closed_text(reader, deadline)
    assert await state_of(world, reader.id) is None and not await comments(world)
    await reader.send(COMMENT)  # the conversation is over: a stray message now
    assert not await comments(world)

    # a voter choosing their name when the deadline passes
    world.clock.set(deadline - timedelta(hours=1))
    await read(reader, consultation)
    await reader.tap(lbl["comment_article"])
    await reader.send(COMMENT)
    world.clock.advance(hours=2)
    outputs = await reader.tap(lbl["named"])
    assert alerts(outputs) == [closed_text(reader, deadline)]
    assert await state_of(world, reader.id) is None and not await comments(world)


@LANGS
async def test_nothing_is_taken_after_the_deadline(world: World, lang: str) -> None:
    reader = await voter(world, 6091, lang)
    deadline = world.clock.now() + timedelta(days=2)
    consultation = await civil_code(world, deadline=deadline)
    lbl, t = L[lang], texts(reader)
    await comment_on_article(reader, consultation, COMMENT)
    question = (await world.rows("SELECT id FROM consultation_questions ORDER BY position"))[0][
        "id"
    ]
    comment = (await comments(world))[0]["id"]
    world.clock.set(deadline + timedelta(minutes=1))
    closed = closed_text(reader, deadline)
    stale_buttons = [
        CommentArticle(consultation=consultation, position=1),
        CommentWhole(consultation=consultation, at=0),
        QuestionAnswer(question=question + 1, at=0),
        QuestionChoose(question=question, option=0, at=0),
        CommentEdit(comment=comment, at=1),
        CommentWithdraw(comment=comment, at=1, page=0),
        CommentWithdrawConfirmed(comment=comment, at=1, page=0),
    ]
    before = await comments(world)
    for data in stale_buttons:
        assert alerts(await reader.tap_data(data.pack())) == [closed], data
    assert await comments(world) == before
    # still readable; one's own comments shown without edit or withdraw
    await reader.tap_data(MyComments(consultation=consultation, at=1, page=0).pack())
    assert COMMENT in reader.last and reader.last.endswith(
        t("consultations.closed_notice", closed_at=t.datetime(deadline))
    )
    assert lbl["edit1"] not in reader.buttons() and lbl["withdraw1"] not in reader.buttons()
    await reader.tap_data(ReadQuestions(consultation=consultation, at=1).pack())
    await reader.tap(lbl["q1"])
    assert "赞成" not in reader.buttons()


@LANGS
async def test_a_consultation_closed_early_gives_its_closing_date(world: World, lang: str) -> None:
    reader = await voter(world, 6101, lang)
    closed_at = world.clock.now() - timedelta(hours=3)
    consultation = await civil_code(world, state="closed", closed_at=closed_at)
    await read(reader, consultation)
    assert L[lang]["comment_article"] not in reader.buttons()
    forged = CommentArticle(consultation=consultation, position=1).pack()
    assert alerts(await reader.tap_data(forged)) == [closed_text(reader, closed_at)]
    assert not await comments(world)


# --- forged buttons ---------------------------------------------------------------------------


@LANGS
async def test_forged_comment_buttons_change_nothing(world: World, lang: str) -> None:
    reader = await voter(world, 6111, lang)
    consultation = await civil_code(world)
    deputies_only = await civil_code(world, audience="deputies")
    await add_comment(world, consultation, 9001, 1)  # someone else's
    others = (await comments(world))[0]["id"]
    lbl = L[lang]
    before = await world.snapshot()
    refusals = [
        (CommentEdit(comment=others, at=0), lbl["not_yours"]),
        (CommentWithdraw(comment=others, at=0, page=0), lbl["not_yours"]),
        (CommentWithdrawConfirmed(comment=others, at=0, page=0), lbl["not_yours"]),
        (CommentEdit(comment=4242, at=0), lbl["not_yours"]),
        (CommentArticle(consultation=consultation, position=8), lbl["no_such_article"]),
        (CommentArticle(consultation=deputies_only, position=1), lbl["forbidden"]),
        (CommentWhole(consultation=deputies_only, at=0), lbl["forbidden"]),
        (MyComments(consultation=deputies_only, at=0, page=0), lbl["forbidden"]),
        (CommentNamed(named=True), lbl["stale"]),
        (CommentCancel(), lbl["stale"]),
    ]
    for data, refusal in refusals:
        assert alerts(await reader.tap_data(data.pack())) == [refusal], data
    for raw in (f"krn:{consultation}:abc", "krw:1", "kre:0:0", "krs:2", "krxy:1:1"):
        assert alerts(await reader.tap_data(raw)) == [lbl["stale"]], raw
    assert await world.snapshot() == before
    await reader.send("/consultations")  # the reader goes on as before
    assert "《北京市乡村振兴促进条例（草案）》" in reader.last
