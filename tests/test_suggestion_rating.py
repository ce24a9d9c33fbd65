"""The lead deputy rates a suggestion's answer (loop steps 5 and 6): 不满意 asks once for
re-handling (重新办理) and the departments, staff, co-signers and voters are told; the
re-handled answer rated 满意 closes it; every bad input and forged button refused."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta

import chinese_calendar
import pytest

from bot.runtime.buttons.suggestion_rating import RateChoose, RateConfirm, RateOpen
from storage.models import SuggestionRating
from tests.support.ledger_seed import (
    ANSWERED_AT,
    SUMMARY,
    add_answer,
    departments,
    events,
    lead_deputy,
    queued,
    seed_answered,
    suggestion_row,
)
from tests.support.opinions import send_quick_opinion, voter_with_station
from tests.support.people import Person
from tests.support.projects import LANGS, alerts, deputy, staff, t
from tests.support.scenarios import shown_day, texts_of
from tests.support.suggestion_seed import seed_assignment, seed_suggestion
from tests.support.world import SHANGHAI, World

TITLE = "关于增设学院路公交站台遮雨棚的建议"
COMMENT = "答复没有说明<遮雨棚>何时开工 & 由谁负责。"


def head(person: Person, number: str, state: str) -> str:
    return t(
        person,
        "suggestion.head",
        number=number,
        title=TITLE,
        state=t(person, f"suggestion.state.{state}"),
    )


def rating_label(person: Person, rating: str) -> str:
    return t(person, f"suggestion.rating.{rating}")


async def open_rating(person: Person, suggestion_id: int) -> None:
    """The button under the "answered" notice (Intent.RATE_SUGGESTION)."""
    await person.tap_data(RateOpen(suggestion=suggestion_id, fresh=True).pack())


@LANGS
async def test_rated_unsatisfied_it_is_handled_again_and_everyone_hears(
    world: World, lang: str
) -> None:
    """Loop step 5: the answer shown, 不满意 with a comment, re-handling asked."""
    admin = await staff(world, lang)
    lead = await lead_deputy(world, lang)
    cosigner = await deputy(world, 6002, "zh-hans", "李代表")
    voter = await voter_with_station(world, 2001, lang)
    await send_quick_opinion(voter)
    d = await departments(world, lang)
    seeded = await seed_answered(
        world,
        lead.id,
        d.lead,
        [d.co],
        opinion_ids=[1],
        cosigners=[(cosigner.id, "confirmed")],
    )
    number = (await suggestion_row(world, seeded.id))["number"]
    await world.outbox.drain()

    await open_rating(lead, seeded.id)
    texts = texts_of(lead)
    last_day = date(2026, 12, 16)  # 15 working days after 11-25 (no holiday between)
    expected_view = (
        "\n".join(
            [
                head(lead, number, "answered"),
                t(
                    lead,
                    "rating.answer",
                    department="区交通委员会",
                    outcome="B 正在解决或列入计划逐步解决",
                    answered=texts.date(ANSWERED_AT),
                    met=t(lead, "rating.met_on", day=shown_day(lead, date(2026, 11, 20))),
                    summary=SUMMARY,
                ),
                t(lead, "rating.commitments"),
                t(
                    lead,
                    "rating.commitment",
                    text="在学院路南口站台增设遮雨棚",
                    day=shown_day(lead, date(2026, 12, 10)),
                ),
                t(
                    lead,
                    "rating.commitment",
                    text="增设候车座椅",
                    day=shown_day(lead, date(2026, 12, 20)),
                ),
            ]
        )
        + "\n\n"
        + t(lead, "rating.ask", day=shown_day(lead, last_day))
    )
    assert lead.last == expected_view
    assert lead.buttons()[:3] == [
        rating_label(lead, r) for r in ("satisfied", "basically", "unsatisfied")
    ]

    await lead.tap(rating_label(lead, "unsatisfied"))
    assert await world.conversation_state("suggestion_rating", lead.id) == "confirm"
    assert t(lead, "rating.rehandle_explained") in lead.last
    await lead.send(COMMENT)
    escaped = COMMENT.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert t(lead, "rating.comment_shown", comment=escaped) in lead.last
    assert not await queued(world, "rating.notice_rehandle_department")  # nothing before confirm

    world.clock.advance(hours=1)
    await lead.tap(t(lead, "rating.confirm_rehandle"))
    now = world.clock.now()
    due = datetime(2027, 1, 27, 0, 0, tzinfo=SHANGHAI)  # the end of 2027-01-26: two months on
    due_on = date(2027, 1, 26)  # what everyone is told: the last day, never "00:00 of the 27th"
    assert lead.last == head(lead, number, "rehandling") + "\n\n" + t(
        lead, "rating.rehandling_asked", due=shown_day(lead, due_on)
    )
    row = await suggestion_row(world, seeded.id)
    assert (row["state"], row["rating"], row["rehandled"]) == ("rehandling", "unsatisfied", 1)
    assert row["rating_comment"] == COMMENT
    assert datetime.fromisoformat(row["rated_at"]) == now
    assert datetime.fromisoformat(row["due_at"]) == due
    assert row["rating_due_at"] is None and row["closed_at"] is None
    assert (await events(world, seeded.id))[-1] == ("rehandling", COMMENT)
    # the same departments keep it
    assignments = await world.rows(
        "SELECT department_id, lead, state FROM suggestion_assignments WHERE suggestion_id = ?"
        " ORDER BY lead DESC",
        (seeded.id,),
    )
    assert assignments == [
        {"department_id": d.lead, "lead": 1, "state": "active"},
        {"department_id": d.co, "lead": 0, "state": "active"},
    ]
    assert await world.conversation_state("suggestion_rating", lead.id) is None

    await world.outbox.drain()
    for liaison in (d.lead_liaison, d.co_liaison):
        notice = t(
            liaison,
            "rating.notice_rehandle_department",
            number=number,
            title=TITLE,
            comment=escaped,
            due_on=shown_day(liaison, due_on),
        )
        got = [o for o in world.api.outputs if o.chat_id == liaison.id]
        assert [o.text for o in got] == [notice]
        assert got[0].buttons() == [t(liaison, "rating.open_assignment_button")]
    rows = await queued(world, "rating.notice_rehandle_department")
    assert {json.loads(r["buttons"])[0][0]["intent"] for r in rows} == {"open_assignment"}
    staff_notice = [o for o in world.api.outputs if o.chat_id == admin.id][-1]
    assert staff_notice.text == t(
        admin,
        "rating.notice_rehandle_staff",
        number=number,
        title=TITLE,
        comment=escaped,
        due_on=shown_day(admin, due_on),
    )
    voter_notice = [o for o in world.api.outputs if o.chat_id == voter.id][-1]
    assert voter_notice.text == t(
        voter,
        "rating.notice_voters_rehandling",
        number=number,
        title=TITLE,
        due_on=shown_day(voter, due_on),
    )
    assert "遮雨棚>何时" not in voter_notice.text  # never the deputy's comment
    cosigner_notice = [o for o in world.api.outputs if o.chat_id == cosigner.id][-1]
    assert cosigner_notice.text == t(
        cosigner, "rating.notice_cosigner_rehandling", number=number, title=TITLE
    )


@LANGS
async def test_the_answer_after_rehandling_rated_satisfied_closes_it(
    world: World, lang: str
) -> None:
    """Loop step 6: re-handled (round 2 answered), then rated 满意."""
    await staff(world, lang)
    lead = await lead_deputy(world, lang)
    cosigner = await deputy(world, 6002, lang, "李代表")
    voter = await voter_with_station(world, 2001, lang)
    await send_quick_opinion(voter)
    d = await departments(world, lang)
    seeded = await seed_answered(
        world,
        lead.id,
        d.lead,
        opinion_ids=[1],
        cosigners=[(cosigner.id, "confirmed")],
        outcome="C",
        promises=(),
        answered_at=datetime(2026, 10, 9, 10, 0, tzinfo=SHANGHAI),
    )
    async with world.db.transaction() as tx:  # 不满意 and re-handling, as step 5 leaves it
        await tx.execute(
            "UPDATE suggestions SET state = 'rehandling', rehandled = 1, rating = 'unsatisfied'"
            " WHERE id = ?",
            (seeded.id,),
        )
    second = await add_answer(world, seeded.id, d.lead, round_no=2, summary="已开工建设。")
    number = (await suggestion_row(world, seeded.id))["number"]
    await world.outbox.drain()

    await open_rating(lead, seeded.id)
    assert "B 正在解决或列入计划逐步解决" in lead.last and "已开工建设。" in lead.last
    assert lead.last.endswith(t(lead, "rating.ask_again", day=shown_day(lead, date(2026, 12, 16))))
    # 不满意 offers no re-handling now, only closing
    await lead.tap(rating_label(lead, "unsatisfied"))
    assert t(lead, "rating.no_more_rehandling") in lead.last
    assert t(lead, "rating.confirm_rehandle") not in lead.buttons()
    forged = await lead.tap_data(RateConfirm(suggestion=seeded.id, rehandle=True).pack())
    assert alerts(forged) == [t(lead, "rating.no_third_round")]
    # the conversation ended with that refusal: choose again, 满意 this time
    await lead.tap(rating_label(lead, "satisfied"))
    assert t(lead, "rating.confirm_rehandle") not in lead.buttons()[:2]
    await lead.tap(t(lead, "rating.confirm"))
    assert lead.last == head(lead, number, "closed") + "\n\n" + t(
        lead, "rating.given", rating=rating_label(lead, "satisfied")
    )
    row = await suggestion_row(world, seeded.id)
    assert (row["state"], row["rating"], row["rehandled"]) == ("closed", "satisfied", 1)
    assert row["closed_at"] == row["rated_at"] == row["updated_at"]
    assert row["rating_comment"] == ""
    assert (await events(world, seeded.id))[-1] == ("rated", "")  # the label says "rated"
    states = await world.rows(
        "SELECT state FROM suggestion_assignments WHERE suggestion_id = ?", (seeded.id,)
    )
    assert states == [{"state": "active"}]  # closed: the department that handled it stays
    assert second.answer_id != seeded.answer_id

    await world.outbox.drain()
    cosigner_notice = [o for o in world.api.outputs if o.chat_id == cosigner.id][-1]
    assert cosigner_notice.text == t(
        cosigner,
        "rating.notice_cosigner",
        number=number,
        title=TITLE,
        rating=rating_label(cosigner, "satisfied"),
    )
    voter_notice = [o for o in world.api.outputs if o.chat_id == voter.id][-1]
    assert voter_notice.text == t(
        voter,
        "rating.notice_voters_rated",
        number=number,
        title=TITLE,
        rating=rating_label(voter, "satisfied"),
    )
    # tapped again: rated already
    again = await lead.tap_data(RateConfirm(suggestion=seeded.id, rehandle=False).pack())
    assert alerts(again) == [
        t(lead, "rating.already_rated", on=texts_of(lead).datetime(world.clock.now()))
    ]


@pytest.mark.parametrize("rating", ["satisfied", "basically", "unsatisfied"])
async def test_each_rating_without_rehandling_closes_with_it(world: World, rating: str) -> None:
    lead = await lead_deputy(world)
    d = await departments(world)
    seeded = await seed_answered(world, lead.id, d.lead)
    await open_rating(lead, seeded.id)
    await lead.tap(rating_label(lead, rating))
    await lead.tap(t(lead, "rating.confirm_close" if rating == "unsatisfied" else "rating.confirm"))
    row = await suggestion_row(world, seeded.id)
    assert (row["state"], row["rating"], row["rehandled"]) == ("closed", rating, 0)
    assert (await events(world, seeded.id))[-1] == ("rated", "")


@LANGS
async def test_who_may_rate_and_what_is_refused(world: World, lang: str) -> None:
    admin = await staff(world, lang)
    lead = await lead_deputy(world, lang)
    cosigner = await deputy(world, 6002, lang, "李代表")
    other = await deputy(world, 6003, lang, "赵代表")
    voter = await voter_with_station(world, 2001, lang)
    d = await departments(world, lang)
    seeded = await seed_answered(world, lead.id, d.lead, cosigners=[(cosigner.id, "confirmed")])
    unanswered = await seed_suggestion(world, lead.id)
    await seed_assignment(world, unanswered, d.lead)
    unanswered_number = (await suggestion_row(world, unanswered))["number"]
    before = await suggestion_row(world, seeded.id)

    # a co-signer, another deputy (forged buttons), staff and a voter may not rate it
    assert alerts(await cosigner.tap_data(RateOpen(suggestion=seeded.id).pack())) == [
        t(cosigner, "rating.not_lead")
    ]
    forged = RateChoose(suggestion=seeded.id, rating=SuggestionRating.SATISFIED).pack()
    assert alerts(await other.tap_data(forged)) == [t(other, "rating.not_lead")]
    assert await world.conversation_state("suggestion_rating", other.id) is None
    for person in (admin, voter):
        assert alerts(await person.tap_data(forged)) == [t(person, "error.forbidden")]
    assert alerts(await lead.tap_data("pjc:1:great")) == [t(lead, "error.stale_button")]
    assert alerts(await lead.tap_data(RateOpen(suggestion=999).pack())) == [
        t(lead, "suggestion.unknown")
    ]
    # not answered yet
    assert alerts(await lead.tap_data(RateOpen(suggestion=unanswered).pack())) == [
        t(lead, "rating.not_awaiting", number=unanswered_number)
    ]

    await open_rating(lead, seeded.id)
    await lead.tap(rating_label(lead, "satisfied"))
    # re-handling is no choice of 满意: a forged confirmation is refused, the rating goes on
    stale = await lead.tap_data(RateConfirm(suggestion=seeded.id, rehandle=True).pack())
    assert alerts(stale) == [t(lead, "error.stale_button")]
    assert await world.conversation_state("suggestion_rating", lead.id) == "confirm"
    await lead.send("长" * 501)
    assert lead.last == t(lead, "rating.comment_too_long", maximum=500, count=501)
    await lead.send("\u200b\u200b")
    assert lead.last == t(lead, "rating.comment_empty")
    await lead.send_photo()
    assert lead.last == t(lead, "rating.text_only")
    await lead.send("/ledger")
    assert lead.last == t(lead, "rating.in_progress")
    assert await suggestion_row(world, seeded.id) == before  # nothing written yet
    await lead.send("/cancel")
    assert lead.last == t(lead, "rating.cancelled")
    assert await world.conversation_state("suggestion_rating", lead.id) is None
    assert await suggestion_row(world, seeded.id) == before
    # a confirm button left from the cancelled rating
    leftover = await lead.tap_data(RateConfirm(suggestion=seeded.id, rehandle=False).pack())
    assert alerts(leftover) == [t(lead, "rating.no_draft")]
    assert await suggestion_row(world, seeded.id) == before


def official_last_day(answered: date, days: int) -> date:
    """The `days`-th official working day after `answered`, counted here with
    chinese_calendar itself (holidays and the 调休 weekend workdays)."""
    day, left = answered, days
    while left:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            left -= 1
    return day


@LANGS
async def test_the_rating_deadline_counts_official_working_days_across_national_day(
    world: World, lang: str
) -> None:
    """Answered on 2026-09-24: 中秋 (25-27), 国庆 (10-01..07) and the 调休 Saturday 10-10
    make the 15th working day 2026-10-22, not the naive 10-15. The reminder goes when three
    working days are left, once; at the deadline the rating is refused and the sweep closes
    the suggestion unrated."""
    last = official_last_day(date(2026, 9, 24), 15)
    assert last == date(2026, 10, 22)
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # a Saturday worked (调休)
    voter = await voter_with_station(world, 2001, lang)
    await send_quick_opinion(voter)
    lead = await lead_deputy(world, lang)
    d = await departments(world, lang)
    answered = datetime(2026, 9, 24, 16, 0, tzinfo=SHANGHAI)
    seeded = await seed_answered(
        world,
        lead.id,
        d.lead,
        opinion_ids=[1],
        assigned_at=datetime(2026, 7, 1, 9, 0, tzinfo=SHANGHAI),
        answered_at=answered,
    )
    deadline = datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    row = await suggestion_row(world, seeded.id)
    assert datetime.fromisoformat(row["rating_due_at"]) == deadline
    number = row["number"]
    feedback = world.services.suggestion_feedback

    world.clock.set(datetime(2026, 10, 16, 10, 0, tzinfo=SHANGHAI))  # Friday: 4 left
    assert await feedback.run_due() == 0
    world.clock.set(datetime(2026, 10, 18, 10, 0, tzinfo=SHANGHAI))  # Sunday: still 4
    assert await feedback.run_due() == 0
    world.clock.set(datetime(2026, 10, 19, 0, 5, tzinfo=SHANGHAI))  # Monday: 3 left
    assert await feedback.run_due() == 1
    assert await feedback.run_due() == 0  # once
    # nothing more is due: the sweep only reads (it finishes while another writer holds the
    # database, which a write transaction would wait for)
    async with world.db.transaction():
        assert await asyncio.wait_for(feedback.run_due(), 2) == 0
    reminders = await queued(world, "rating.reminder")
    assert len(reminders) == 1 and reminders[0]["chat_id"] == lead.id
    # held through the quiet hours
    assert datetime.fromisoformat(reminders[0]["not_before"]) == datetime(
        2026, 10, 19, 7, 0, tzinfo=SHANGHAI
    )
    world.clock.set(datetime(2026, 10, 19, 7, 0, tzinfo=SHANGHAI))
    await world.outbox.drain()
    notice = [o for o in world.api.outputs if o.chat_id == lead.id][-1]
    assert notice.text == t(
        lead,
        "rating.reminder",
        number=number,
        title=TITLE,
        last_at=texts_of(lead).datetime(deadline - timedelta(minutes=1)),
    )
    assert notice.buttons() == [t(lead, "rating.rate_button")]

    # the last minute of the last day: still open
    world.clock.set(deadline - timedelta(minutes=2))
    await lead.tap(t(lead, "rating.rate_button"))
    await lead.tap(rating_label(lead, "basically"))
    assert await world.conversation_state("suggestion_rating", lead.id) == "confirm"
    # the deadline passed before the confirmation
    world.clock.set(deadline)
    late = await lead.tap(t(lead, "rating.confirm"))
    assert alerts(late) == [t(lead, "rating.too_late", day=shown_day(lead, last))]
    assert await world.conversation_state("suggestion_rating", lead.id) is None
    assert alerts(await lead.tap_data(RateOpen(suggestion=seeded.id).pack())) == [
        t(lead, "rating.too_late", day=shown_day(lead, last))
    ]

    world.clock.set(deadline + timedelta(minutes=5))  # the sweep at 00:05
    assert await feedback.run_due() == 2  # the deputy and the one voter
    assert await feedback.run_due() == 0
    # told when the quiet hours end, not at midnight
    morning = datetime.combine(last + timedelta(days=1), time(7), tzinfo=SHANGHAI)
    for key in ("rating.notice_closed_unrated", "rating.notice_voters_closed"):
        held = await queued(world, key)
        assert [datetime.fromisoformat(r["not_before"]) for r in held] == [morning], key
    row = await suggestion_row(world, seeded.id)
    assert (row["state"], row["rating"], row["rated_at"]) == ("closed", None, None)
    assert datetime.fromisoformat(row["closed_at"]) == world.clock.now()
    assert (await events(world, seeded.id))[-1] == ("closed", "")
    world.clock.set(deadline + timedelta(hours=8))
    await world.outbox.drain()
    assert [o.text for o in world.api.outputs if o.chat_id == lead.id][-1] == t(
        lead, "rating.notice_closed_unrated", number=number, title=TITLE
    )
    assert [o.text for o in world.api.outputs if o.chat_id == voter.id][-1] == t(
        voter, "rating.notice_voters_closed", number=number, title=TITLE
    )


async def test_a_restart_keeps_the_chosen_rating(world: World) -> None:
    lead = await lead_deputy(world)
    d = await departments(world)
    seeded = await seed_answered(world, lead.id, d.lead)
    await open_rating(lead, seeded.id)
    await lead.tap(rating_label(lead, "unsatisfied"))
    await world.crash_and_restart()
    await lead.send("答复太笼统。")
    assert t(lead, "rating.comment_shown", comment="答复太笼统。") in lead.last
    await lead.tap(t(lead, "rating.confirm_close"))
    row = await suggestion_row(world, seeded.id)
    assert (row["state"], row["rating"], row["rating_comment"]) == (
        "closed",
        "unsatisfied",
        "答复太笼统。",
    )
