"""Deadlines of the inbox, run by `InboxService.run_due` at the injected clock's time:
3 days unclaimed → the station's deputies, 7 days → staff; 15 days held without an answer →
the holder and staff; 7 days without a rating → one reminder, 14 days → closed as not rated.
Each fires at its moment, not a second before, and once, across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.runtime.buttons.inbox import Claim, Compose
from tests.support.inbox import NO, Cast, notice, opinion_row, refused, submit, zhang_answers
from tests.support.scenarios import invite_deputy, say

# The outbox's pause between two notices to one chat (a second, in real time) is not what
# these tests prove; without it a test that waits for several notices does not wait seconds.
pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


async def created_at(cast: Cast, opinion_id: int = 1) -> datetime:
    return datetime.fromisoformat((await opinion_row(cast.world, opinion_id))["created_at"])


async def run(cast: Cast, at: datetime) -> int:
    cast.world.clock.set(at)
    return await cast.world.services.inbox.run_due()


async def test_unclaimed_opinion_reminds_its_deputies_at_3_days_and_staff_at_7_once(
    cast: Cast, person
) -> None:
    world, admin_, zhang, li = cast.world, cast.admin, cast.zhang, cast.li
    zhao = await invite_deputy(world, admin_, person, 3009, "赵六", "海淀街道", "海淀街道联络站")
    # a second opinion that is claimed at once is never reminded about
    await submit(person(2002, "刘洋"), "西门的路面坑洼，下雨天积水很深。")
    await li.tap_data(Claim(opinion=2).pack())
    await cast.mail.take()
    t0 = await created_at(cast)

    assert await run(cast, t0 + 3 * DAY - SECOND) == 0
    assert await cast.mail.take() == []
    assert await run(cast, t0 + 3 * DAY) == 2
    expected = sorted(
        notice(d, "inbox.remind_unclaimed", tracking_no=NO, days=3, station="学院路第一联络站")
        for d in (zhang, li)
    )
    assert sorted(await cast.mail.take()) == expected
    assert say(zhang, "inbox.claim_button") in zhang.buttons()
    assert await run(cast, t0 + 3 * DAY + SECOND) == 0
    await world.crash_and_restart()
    assert await run(cast, t0 + 5 * DAY) == 0
    assert await cast.mail.take() == []

    assert await run(cast, t0 + 7 * DAY - SECOND) == 0
    assert await run(cast, t0 + 7 * DAY) == 1
    assert await cast.mail.take() == [
        notice(admin_, "inbox.alert_unclaimed", tracking_no=NO, days=7, station="学院路第一联络站")
    ]
    await world.crash_and_restart()
    assert await run(cast, t0 + 14 * DAY) == 0
    assert await cast.mail.take() == []
    # (menu rows aside: 赵六's own command menu was set when he became a deputy)
    told = await world.rows("SELECT chat_id FROM outbox WHERE sets_menu = 0")
    assert zhao.id not in {r["chat_id"] for r in told}
    # the reminder's own button claims it
    await zhang.tap(say(zhang, "inbox.claim_button"))
    assert (await opinion_row(world))["holder_id"] == zhang.id


async def test_a_late_sweep_sends_both_unclaimed_notices_and_a_claim_stops_them(
    cast: Cast, person
) -> None:
    await submit(person(2002, "刘洋"), "西门的路面坑洼，下雨天积水很深。")
    # the deputies told of opinion 2 at once (tests/test_new_opinion_notices.py)
    assert [chat for chat, _ in await cast.mail.take()] == [cast.zhang.id, cast.li.id]
    t0 = await created_at(cast)
    # the bot was down for ten days: both notices of opinion 1 and 2 go, once
    assert await run(cast, t0 + 10 * DAY) == 2 * 2 + 2
    assert len(await cast.mail.take()) == 6
    assert await run(cast, t0 + 10 * DAY + SECOND) == 0
    # an opinion claimed before its deadline is never reminded about
    await cast.zhang.tap_data(Claim(opinion=1).pack())
    await submit(person(2003, "陈晨"), "南门的自行车棚顶漏雨，车都淋湿了。")
    await cast.li.tap_data(Claim(opinion=3).pack())
    await cast.mail.take()
    t3 = await created_at(cast, 3)
    assert await run(cast, t3 + 8 * DAY) == 0
    assert await cast.mail.take() == []


async def test_held_without_answer_for_15_days_reminds_holder_and_alerts_staff_once(
    cast: Cast,
) -> None:
    world, admin_, zhang, li = cast.world, cast.admin, cast.zhang, cast.li
    await zhang.tap_data(Claim(opinion=1).pack())
    await cast.mail.take()
    held = datetime.fromisoformat((await opinion_row(world))["claimed_at"])

    assert await run(cast, held + 15 * DAY - SECOND) == 0
    assert await run(cast, held + 15 * DAY) == 2
    assert await cast.mail.take() == [
        notice(zhang, "inbox.remind_unanswered", tracking_no=NO, days=15),
        notice(admin_, "inbox.alert_unanswered", tracking_no=NO, days=15, holder="张三"),
    ]
    assert await run(cast, held + 15 * DAY + SECOND) == 0
    await world.crash_and_restart()
    assert await run(cast, held + 20 * DAY) == 0
    assert await cast.mail.take() == []

    # a new holder has 15 days of their own, and is reminded once too
    await admin_.send("/opinions")
    await admin_.tap(next(b for b in admin_.buttons() if b.startswith(NO)))
    await admin_.tap(say(admin_, "inbox.reassign_button"))
    await admin_.tap("李四")
    await cast.mail.take()
    held = datetime.fromisoformat((await opinion_row(world))["claimed_at"])
    assert await run(cast, held + 15 * DAY - SECOND) == 0
    assert await run(cast, held + 15 * DAY) == 2
    assert await cast.mail.take() == [
        notice(li, "inbox.remind_unanswered", tracking_no=NO, days=15),
        notice(admin_, "inbox.alert_unanswered", tracking_no=NO, days=15, holder="李四"),
    ]
    # once answered, nothing more is due about it
    await li.tap_data(Compose(step="answer", opinion=1).pack())
    await li.send("已修好。")
    await cast.mail.take()
    assert await run(cast, held + 16 * DAY) == 0


async def test_no_rating_reminds_at_7_days_and_closes_as_not_rated_at_14(cast: Cast) -> None:
    world, voter = cast.world, cast.voter
    await zhang_answers(cast, "已联系物业修好。")
    answered = datetime.fromisoformat((await opinion_row(world))["answered_at"])

    assert await run(cast, answered + 7 * DAY - SECOND) == 0
    assert await run(cast, answered + 7 * DAY) == 1
    assert await cast.mail.take() == [
        notice(voter, "rate.remind", tracking_no=NO, waited=7, days=7)
    ]
    assert voter.buttons()[:3] == [
        say(voter, "rate.solved_yes"),
        say(voter, "rate.solved_partly"),
        say(voter, "rate.solved_no"),
    ]
    assert await run(cast, answered + 7 * DAY + SECOND) == 0
    await world.crash_and_restart()
    assert await run(cast, answered + 14 * DAY - SECOND) == 0
    assert await cast.mail.take() == []

    assert await run(cast, answered + 14 * DAY) == 1
    assert await cast.mail.take() == [notice(voter, "rate.notify_not_rated", tracking_no=NO)]
    row = await opinion_row(world)
    assert (row["status"], row["satisfaction"], row["rated_at"]) == ("closed", "not_rated", None)
    kinds = await world.rows("SELECT kind FROM opinion_events WHERE opinion_id = 1 ORDER BY id")
    assert kinds[-1]["kind"] == "not_rated"
    await world.crash_and_restart()
    assert await run(cast, answered + 30 * DAY) == 0
    # the old buttons are refused now: 'not rated' is final and never counts as satisfied
    await voter.tap(say(voter, "rate.solved_yes"))
    assert refused(voter, "rate.already_rated", tracking_no=NO)
    satisfied = await world.rows(
        "SELECT count(*) AS n FROM opinions WHERE satisfaction IN ('satisfied', 'basically')"
    )
    assert satisfied[0]["n"] == 0


async def test_a_rating_given_from_the_reminder_stops_the_closure(cast: Cast) -> None:
    world, voter = cast.world, cast.voter
    await zhang_answers(cast, "已联系物业修好。")
    await voter.tap(say(voter, "rate.solved_yes"))  # the first question only
    await cast.mail.take()
    answered = datetime.fromisoformat((await opinion_row(world))["answered_at"])
    assert await run(cast, answered + 7 * DAY) == 1
    await cast.mail.take()
    # the reminder asks what is still missing: the satisfaction
    assert voter.buttons()[:3] == [
        say(voter, "rate.satisfied"),
        say(voter, "rate.basically"),
        say(voter, "rate.unsatisfied"),
    ]
    await voter.tap(say(voter, "rate.satisfied"))
    await voter.tap(say(voter, "rate.skip_button"))
    await cast.mail.take()
    assert await run(cast, answered + 14 * DAY) == 0
    row = await opinion_row(world)
    assert (row["status"], row["solved"], row["satisfaction"]) == ("closed", "yes", "satisfied")


async def test_the_deadline_queries_read_an_index(cast: Cast) -> None:
    """run_due runs every few minutes: its queries must not scan the opinions table."""
    repo = cast.world.services.inbox.repo
    db = cast.world.db
    now = cast.world.clock.now()
    queries = [
        (repo.due_unclaimed, (now, "unclaimed")),
        (repo.due_unanswered, (now, "unanswered@")),
        (repo.due_rating_reminders, (now, "rating@")),
        (repo.due_closures, (now,)),
    ]
    captured: list[tuple[str, tuple]] = []
    original = db.fetchall

    async def spy(sql, params=()):
        captured.append((sql, tuple(params)))
        return await original(sql, params)

    db.fetchall = spy  # type: ignore[method-assign]
    try:
        for query, args in queries:
            await query(*args)
    finally:
        db.fetchall = original  # type: ignore[method-assign]
    assert len(captured) == 4
    for sql, params in captured:
        plan = [str(r[3]) for r in await original("EXPLAIN QUERY PLAN " + sql, params)]
        assert any("USING" in p and "INDEX opinions_status_created" in p for p in plan), plan
        assert not [p for p in plan if p.startswith("SCAN")], plan


async def test_a_rating_reminder_after_the_first_question_asks_the_second(cast: Cast) -> None:
    """The reminder carries the question still open; its typed buttons rate through the
    outbox like the answer's own."""
    world, voter = cast.world, cast.voter
    await zhang_answers(cast, "已联系物业修好。")
    await voter.tap(say(voter, "rate.solved_partly"))
    answered = datetime.fromisoformat((await opinion_row(world))["answered_at"])
    assert await run(cast, answered + 7 * DAY) == 1
    assert await cast.mail.take() == [
        notice(voter, "rate.remind", tracking_no=NO, waited=7, days=7)
    ]
    reminder = world.api.chat_messages(voter.id)[-1]
    labels = [b["text"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [
        say(voter, "rate.satisfied"),
        say(voter, "rate.basically"),
        say(voter, "rate.unsatisfied"),
    ]
    await voter.tap(say(voter, "rate.basically"))
    row = await opinion_row(world)
    assert (row["status"], row["solved"], row["satisfaction"]) == ("closed", "partly", "basically")
