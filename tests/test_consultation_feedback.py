"""Feedback on a closed consultation (意见采纳情况反馈), in both languages: staff mark comments
adopted with a ✓ toggle on a paged list per article, write a feedback note (10–2,000
characters, through the text cleaner), preview it and publish it; every person who commented
is told exactly once, whether any of their own comments was adopted; nobody else is. And
every refusal: not staff, an open consultation, forged ids, publishing twice, a note too
short, too long or empty, something not text, another conversation under way; a restart in
the middle resumes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from bot.runtime.buttons.consultation_report import (
    AdoptComments,
    AdoptToggle,
    FeedbackPublish,
    FeedbackWrite,
    ReportOpen,
    TargetKind,
)
from storage.db import stamp
from tests.support.consultation_seed import Draft, add_comment, add_user, seed_consultation
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, consented_admin, onboard, say, texts_of
from tests.support.world import SHANGHAI, World

NOTE = "经研究，第二条采纳了增加农村养老服务内容的意见，总体意见中关于法律责任的建议也已采纳。"


async def scene(world: World) -> Draft:
    """Five people with comments that count (301 and 202 will have one adopted), one whose
    only comment was withdrawn (305), one invited who never commented (304)."""
    await add_user(world, 201, role="deputy", name="王五", deputy_name="王代表")
    await add_user(world, 202, role="deputy", name="李四", deputy_name="李代表", locale="en")
    for user_id, locale in ((301, "zh_CN"), (302, "en"), (303, "zh_CN"), (304, "zh_CN")):
        await add_user(world, user_id, name=f"选民{user_id}", locale=locale)
    await add_user(world, 305, name="吴十")
    invitees = {201: "deputy", 202: "deputy", 301: "voter", 302: "voter", 303: "voter"}
    draft = await seed_consultation(
        world, questions=[("您是否赞成？", ["赞成", "反对"])], invitees={**invitees, 304: "voter"}
    )
    cid = draft.id
    await add_comment(world, cid, 301, article=1, text="建议第二条增加农村养老服务的内容。")
    await add_comment(world, cid, 302, article=1, text="第二条的表述不够清楚。")
    await add_comment(world, cid, 201, "deputy", article=1, text="建议细化第二条的规定。")
    await add_comment(world, cid, 305, article=2, text="撤回的意见不算。", withdrawn=True)
    await add_comment(world, cid, 202, "deputy", text="建议增加法律责任一章。")
    await add_comment(world, cid, 303, question=draft.questions[0], choice="赞成")
    await add_comment(world, cid, 301, text="总体赞成。")
    return draft


async def report(staff: Person, consultation: int) -> None:
    await staff.tap_data(ReportOpen(consultation=consultation).pack())


async def adopted(world: World) -> list[int]:
    rows = await world.rows("SELECT id FROM consultation_comments WHERE adopted = 1 ORDER BY id")
    return [r["id"] for r in rows]


def notices(world: World, chat_id: int) -> list[str]:
    return [o.text for o in world.api.outputs if o.chat_id == chat_id]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_staff_mark_comments_adopted_page_by_page(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    for user_id in range(501, 508):
        await add_user(world, user_id, name=f"选民{user_id}")
    draft = await seed_consultation(world, invitees={u: "voter" for u in range(501, 508)})
    ids = [
        await add_comment(world, draft.id, user_id, article=1, text=f"第二条的第{n}条意见。")
        for n, user_id in enumerate(range(501, 508), 1)
    ]
    await add_comment(world, draft.id, 501, text="总体赞成。")
    staff = await consented_admin(world, code)
    await report(staff, draft.id)
    article = say(staff, "draft.article", number="二" if code == "zh-hans" else "2")

    await staff.tap(say(staff, "report.button_adopt"))
    assert staff.last == say(
        staff, "report.adopt_targets", title="《北京市乡村振兴促进条例（草案）》"
    )
    whole = say(staff, "report.adopt_target", target=say(staff, "report.whole"), count=1, adopted=0)
    second = say(staff, "report.adopt_target", target=article, count=7, adopted=0)
    assert staff.seen[-1].buttons() == [second, whole]  # reading order

    await staff.tap(second)
    page = staff.seen[-1]
    assert page.kind == "edit"
    assert page.text.startswith(say(staff, "report.adopt_head", target=article, count=7, adopted=0))
    assert "第二条的第5条意见" in page.text and "第二条的第6条意见" not in page.text
    toggles = [say(staff, "report.toggle_off", number=n) for n in range(1, 6)]
    assert page.buttons()[:5] == toggles

    await staff.tap(say(staff, "report.toggle_off", number=3))
    assert await adopted(world) == [ids[2]]
    assert say(staff, "report.toggle_on", number=3) in staff.seen[-1].buttons()
    assert say(staff, "report.adopt_head", target=article, count=7, adopted=1) in staff.last
    await staff.tap(say(staff, "report.toggle_on", number=3))  # and back
    assert await adopted(world) == []

    await staff.tap(say(staff, "nav.next"))
    assert "第二条的第7条意见" in staff.last
    await staff.tap(say(staff, "report.toggle_off", number=7))
    assert await adopted(world) == [ids[6]]
    assert staff.seen[-1].buttons()[:2] == [
        say(staff, "report.toggle_off", number=6),
        say(staff, "report.toggle_on", number=7),
    ]  # still on the second page
    await staff.tap(say(staff, "nav.back"))
    assert say(staff, "report.adopt_target", target=article, count=7, adopted=1) in (
        staff.seen[-1].buttons()
    )


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_publishing_tells_every_commenter_once_whether_theirs_was_adopted(
    world: World, code: str, locale: str
) -> None:
    draft = await scene(world)
    staff = await consented_admin(world, code)
    await report(staff, draft.id)
    await staff.tap(say(staff, "report.button_adopt"))
    await staff.tap(
        say(
            staff,
            "report.adopt_target",
            target=say(staff, "draft.article", number="二" if code == "zh-hans" else "2"),
            count=3,
            adopted=0,
        )
    )
    await staff.tap(say(staff, "report.toggle_off", number=1))  # 301's
    await staff.tap(say(staff, "nav.back"))
    await staff.tap(
        say(staff, "report.adopt_target", target=say(staff, "report.whole"), count=2, adopted=0)
    )
    await staff.tap(say(staff, "report.toggle_off", number=1))  # 202's

    await staff.tap(say(staff, "report.button_feedback"))
    assert staff.last == say(staff, "report.feedback_ask")
    assert await world.conversation_state("consultation_feedback", staff.id) == "write"
    await staff.send(NOTE)
    preview = staff.last
    assert preview == say(
        staff,
        "report.feedback_preview",
        title="《北京市乡村振兴促进条例（草案）》",
        feedback=NOTE,
        count=5,
        adopted=2,
    )
    await staff.tap(say(staff, "report.feedback_publish"))
    assert staff.last == say(staff, "report.feedback_published", count=5)
    assert await world.conversation_state("consultation_feedback", staff.id) is None

    rows = await world.rows("SELECT feedback, feedback_at FROM consultations")
    assert rows[0]["feedback"] == NOTE and rows[0]["feedback_at"] is not None
    queued = await world.rows(
        "SELECT chat_id, COUNT(*) AS n FROM outbox WHERE message_key = 'report.feedback_notice'"
        " GROUP BY chat_id ORDER BY chat_id"
    )
    assert [(r["chat_id"], r["n"]) for r in queued] == [(c, 1) for c in (201, 202, 301, 302, 303)]
    await world.outbox.drain()
    texts = world.services.i18n.texts
    for chat_id, language, was_adopted in (
        (201, "zh_CN", False),
        (202, "en", True),
        (301, "zh_CN", True),
        (302, "en", False),
        (303, "zh_CN", False),
    ):
        t = texts(language)
        outcome = t("report.feedback_adopted" if was_adopted else "report.feedback_not_adopted")
        expected = t(
            "report.feedback_notice",
            title="《北京市乡村振兴促进条例（草案）》",
            feedback=NOTE,
            adopted=outcome,
        )
        assert notices(world, chat_id) == [expected], chat_id
    assert notices(world, 304) == [] and notices(world, 305) == []  # no comment that counts


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_publishing_twice_is_refused_and_the_marks_stay(
    world: World, code: str, locale: str
) -> None:
    draft = await scene(world)
    staff = await consented_admin(world, code)
    await report(staff, draft.id)
    await staff.tap(say(staff, "report.button_feedback"))
    await staff.send(NOTE)
    await staff.tap(say(staff, "report.feedback_publish"))
    published = (await world.rows("SELECT feedback_at FROM consultations"))[0]["feedback_at"]
    on = texts_of(staff).datetime(datetime.fromisoformat(published))  # in the staff's locale
    already = say(staff, "report.feedback_already", on=on)

    await staff.tap_data(FeedbackPublish(consultation=draft.id).pack())  # replayed
    assert staff.seen[-1].text == already
    assert staff.seen[-1].show_alert
    await staff.tap_data(FeedbackWrite(consultation=draft.id).pack())
    assert staff.seen[-1].text == already
    comment = (await world.rows("SELECT id FROM consultation_comments LIMIT 1"))[0]["id"]
    await staff.tap_data(AdoptToggle(comment=comment, page=0).pack())
    assert staff.seen[-1].text == already
    assert await adopted(world) == []
    rows = await world.rows("SELECT feedback, feedback_at FROM consultations")
    assert rows == [{"feedback": NOTE, "feedback_at": published}]
    queued = await world.rows("SELECT COUNT(*) AS n FROM outbox WHERE message_key LIKE 'report.%'")
    assert queued[0]["n"] == 5

    await report(staff, draft.id)  # the report says so, and offers no second note
    summary = [o for o in staff.seen if o.kind == "message"][-1]
    when = world.services.i18n.texts(locale).datetime(datetime.fromisoformat(published))
    assert say(staff, "report.summary_feedback", on=when) in summary.text
    assert say(staff, "report.button_feedback") not in summary.buttons()


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_note_is_checked_before_its_preview(world: World, code: str, locale: str) -> None:
    draft = await scene(world)
    staff = await consented_admin(world, code)
    await report(staff, draft.id)
    await staff.tap(say(staff, "report.button_feedback"))

    await staff.send("谢谢参与")
    assert staff.last == say(staff, "report.feedback_too_short", count=4, minimum=10)
    await staff.send("\u200b\u200b \u2060")  # nothing readable once cleaned
    assert staff.last == say(staff, "report.feedback_empty")
    await staff.send("很" * 2001)
    assert staff.last == say(staff, "report.feedback_too_long", count=2001, maximum=2000)
    await staff.send_sticker()
    assert staff.last == say(staff, "report.feedback_text_only")
    await staff.send("/help")
    assert staff.last == say(staff, "report.feedback_in_progress")
    assert await world.conversation_state("consultation_feedback", staff.id) == "write"

    await staff.send("采纳情况：" + "\u200b" + "详见附件说明。")  # cleaned before it is kept
    assert "采纳情况：详见附件说明。" in staff.last
    await staff.send(NOTE)  # a new text at the preview replaces it
    assert NOTE in staff.last
    await staff.send_sticker()
    assert staff.last == say(staff, "report.feedback_use_buttons")
    await staff.tap(say(staff, "report.feedback_publish"))
    rows = await world.rows("SELECT feedback FROM consultations")
    assert rows == [{"feedback": NOTE}]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_cancel_publishes_nothing_and_a_restart_resumes_the_preview(
    world: World, code: str, locale: str
) -> None:
    draft = await scene(world)
    staff = await consented_admin(world, code)
    await report(staff, draft.id)
    await staff.tap(say(staff, "report.button_feedback"))
    await staff.send(NOTE)
    await staff.tap(say(staff, "report.feedback_cancel"))
    assert staff.last == say(staff, "report.feedback_cancelled")
    assert (await world.rows("SELECT feedback FROM consultations")) == [{"feedback": None}]
    assert await world.conversation_state("consultation_feedback", staff.id) is None

    await staff.tap(say(staff, "report.button_feedback"))
    await staff.send(NOTE)
    await world.crash_and_restart()
    await staff.tap(say(staff, "report.feedback_publish"))
    assert staff.last == say(staff, "report.feedback_published", count=5)
    assert (await world.rows("SELECT feedback FROM consultations")) == [{"feedback": NOTE}]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_only_staff_and_only_closed_consultations_take_feedback(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    draft = await scene(world)
    still_open = await seed_consultation(world, title="《开放中的草案》", closed=False)
    await add_comment(world, still_open.id, 301, article=0, text="开放中的意见，不能标记。")
    voter = person(401, "郑一", code)
    await onboard(voter)
    comment = (await world.rows("SELECT id FROM consultation_comments LIMIT 1"))[0]["id"]
    forbidden = say(voter, "error.forbidden")
    for data in (
        FeedbackWrite(consultation=draft.id),
        AdoptToggle(comment=comment, page=0),
        AdoptComments(consultation=draft.id, kind=TargetKind.WHOLE, ref=0, page=0),
        FeedbackPublish(consultation=draft.id),
    ):
        await voter.tap_data(data.pack())
        assert voter.seen[-1].text == forbidden, data

    staff = await consented_admin(world, code)
    deadline = texts_of(staff).datetime(datetime(2026, 12, 3, 18, 0, tzinfo=SHANGHAI))
    not_closed = say(staff, "report.not_closed", deadline=deadline)
    await staff.tap_data(FeedbackWrite(consultation=still_open.id).pack())
    assert staff.seen[-1].text == not_closed
    await staff.tap_data(
        AdoptComments(consultation=still_open.id, kind=TargetKind.WHOLE, ref=0, page=0).pack()
    )
    assert staff.seen[-1].text == not_closed
    open_comment = (
        await world.rows(
            "SELECT id FROM consultation_comments WHERE consultation_id = ?", (still_open.id,)
        )
    )[0]["id"]
    await staff.tap_data(AdoptToggle(comment=open_comment, page=0).pack())
    assert staff.seen[-1].text == say(staff, "report.comment_unknown")

    # forged ids: no such comment, article, question or consultation
    withdrawn = (
        await world.rows("SELECT id FROM consultation_comments WHERE withdrawn_at IS NOT NULL")
    )[0]["id"]
    for data, key in (
        (AdoptToggle(comment=999_999, page=0), "report.comment_unknown"),
        (AdoptToggle(comment=withdrawn, page=0), "report.comment_unknown"),
        (
            AdoptComments(consultation=draft.id, kind=TargetKind.ARTICLE, ref=99, page=0),
            "report.unknown",
        ),
        (
            AdoptComments(consultation=draft.id, kind=TargetKind.QUESTION, ref=999, page=0),
            "report.unknown",
        ),
        (FeedbackWrite(consultation=999_999), "report.unknown"),
        (FeedbackPublish(consultation=draft.id), "report.feedback_no_draft"),
    ):
        await staff.tap_data(data.pack())
        assert staff.seen[-1].text == say(staff, key), data
    await staff.tap_data("kqt:1:abc")
    assert staff.seen[-1].text == say(staff, "error.stale_button")
    assert await adopted(world) == []
    assert (await world.rows("SELECT COUNT(*) AS n FROM outbox WHERE sets_menu = 0"))[0]["n"] == 0


async def test_feedback_waits_while_another_conversation_is_under_way(
    world: World, person: Any
) -> None:
    draft = await scene(world)
    staff = await consented_admin(world)
    await report(staff, draft.id)
    await staff.send("/broadcast")

    await staff.tap(say(staff, "report.button_feedback"))

    assert staff.seen[-1].text == say(staff, "conversation.busy")
    assert await world.conversation_state("consultation_feedback", staff.id) is None
    await staff.send("/cancel")
    await staff.tap(say(staff, "report.button_feedback"))
    assert staff.last == say(staff, "report.feedback_ask")
    await staff.tap_data(FeedbackWrite(consultation=draft.id).pack())  # again, while in it
    assert staff.seen[-1].text == say(staff, "report.feedback_in_progress")


async def test_feedback_published_at_night_waits_for_the_morning(world: World) -> None:
    """Thousands of notices at once: behind personal notices, and never within the quiet
    hours (22:00-07:00 by default)."""
    draft = await scene(world)
    staff = await consented_admin(world)
    world.clock.set(datetime(2026, 11, 26, 23, 30, tzinfo=SHANGHAI))
    await report(staff, draft.id)
    await staff.tap(say(staff, "report.button_feedback"))
    await staff.send(NOTE)
    await staff.tap(say(staff, "report.feedback_publish"))
    rows = await world.rows(
        "SELECT priority, not_before FROM outbox WHERE message_key = 'report.feedback_notice'"
    )
    morning = datetime(2026, 11, 27, 7, 0, tzinfo=SHANGHAI)
    assert len(rows) == 5
    assert {(r["priority"], r["not_before"]) for r in rows} == {(1, stamp(morning))}
    await world.outbox.drain()
    assert notices(world, 201) == []  # not yet: the night is not over


async def test_an_old_publish_button_of_another_consultation_keeps_the_note_being_written(
    world: World,
) -> None:
    first = await scene(world)
    second = await seed_consultation(world, title="《北京市物业管理条例（草案）》")
    await add_comment(world, second.id, 301, article=0, text="建议明确物业服务标准。")
    staff = await consented_admin(world)
    await report(staff, first.id)
    await staff.tap(say(staff, "report.button_feedback"))
    await staff.send(NOTE)
    await staff.tap(say(staff, "report.feedback_publish"))  # the first one's note is out
    await report(staff, second.id)
    await staff.tap(say(staff, "report.button_feedback"))
    await staff.send("关于物业条例的意见，已经转交市人大常委会法制办研究采纳。")
    await staff.tap_data(FeedbackPublish(consultation=first.id).pack())  # an old button
    assert staff.seen[-1].show_alert  # "already published" for the first
    draft = await world.rows(
        "SELECT data FROM drafts WHERE user_id = ? AND kind LIKE '%feedback%'", (staff.id,)
    )
    assert len(draft) == 1 and "物业条例" in draft[0]["data"]  # the second's note is kept
    assert await world.conversation_state("consultation_feedback", staff.id) == "preview"
