"""Conversations end cleanly: a person who loses the role a conversation needs is told once
and let out; an abandoned conversation expires after the timeout; the nightly sweep
removes abandoned drafts and states (in the database and in memory) and strangers who
never consented."""

from __future__ import annotations

from bot.runtime.conversation import KEEPER_KEY, ConversationKeeper
from storage.models import Role
from storage.repos.users import UserRepo
from tests.support.inbox import open_in_inbox, submit
from tests.support.people import Person
from tests.support.scenarios import ADMIN, invite_deputy, onboard, say
from tests.support.world import World

STAFF = 2001


def keeper(world: World) -> ConversationKeeper:
    return world.app.bot_data[KEEPER_KEY]


async def states(world: World) -> list[str]:
    return [r["name"] for r in await world.rows("SELECT name FROM conversation_states")]


async def make_staff(world: World, person) -> tuple[Person, Person]:
    admin = person(ADMIN, "管理员")
    await onboard(admin)
    staff = person(STAFF, "工作人员")
    await onboard(staff)
    await admin.send(f"/staff add {STAFF}")
    return admin, staff


async def set_role(world: World, user_id: int, role: Role) -> None:
    """A role changed behind the person's back (as /staff remove or a deputy's removal)."""
    async with world.db.transaction() as tx:
        await UserRepo(world.db).set_role(tx, user_id, role)


# --- losing a role mid-conversation --------------------------------------------------------


async def test_staff_removed_during_duty_is_let_out_and_can_go_on(world: World, person) -> None:
    admin, staff = await make_staff(world, person)
    await staff.send("/duty")
    assert await states(world) == ["duty"]
    await admin.send(f"/staff remove {STAFF}")

    replies = await staff.send("/cancel")
    assert [r.text for r in replies] == [say(staff, "conversation.role_lost")]
    assert await states(world) == []
    assert await world.rows("SELECT * FROM drafts WHERE user_id = ?", (STAFF,)) == []
    # not stuck: a new conversation opens, and the role-lost message is not repeated
    await staff.send("/opinion")
    assert say(staff, "opinion.ask_category") in staff.last
    assert sum(o.text == say(staff, "conversation.role_lost") for o in staff.seen) == 1


async def test_staff_removed_during_a_broadcast_is_let_out(world: World, person) -> None:
    admin, staff = await make_staff(world, person)
    await staff.send("/broadcast")
    await staff.send("停水通知：明天上午停水。")
    await admin.send(f"/staff remove {STAFF}")

    await staff.send("还有一句")
    assert staff.last == say(staff, "conversation.role_lost")
    assert await states(world) == []
    assert world.conversations_in_memory() == 0
    assert await world.rows("SELECT * FROM broadcasts") == []


async def test_a_deputy_who_is_no_longer_one_is_let_out_of_a_visit_log(
    world: World, person
) -> None:
    admin = person(ADMIN, "管理员")
    await onboard(admin)
    deputy = await invite_deputy(world, admin, person, 3001, "王代表")
    await deputy.send("/visit")
    assert await states(world) == ["visit"]
    await set_role(world, 3001, Role.VOTER)

    await deputy.send("今天接待了三位选民")
    assert deputy.last == say(deputy, "conversation.role_lost")
    assert await states(world) == []
    assert await world.rows("SELECT * FROM visits") == []


async def test_a_tap_after_losing_the_role_stops_spinning_and_says_why(
    world: World, person
) -> None:
    admin, staff = await make_staff(world, person)
    await staff.send("/duty")
    await admin.send(f"/staff remove {STAFF}")
    replies = await staff.tap(staff.buttons()[0])
    answered = {c.params["callback_query_id"] for c in world.api.calls_to("answerCallbackQuery")}
    assert world.taps[-1] in answered, "the tap was never answered"
    assert replies[-1].text == say(staff, "conversation.role_lost")
    assert await states(world) == []


# --- expiry --------------------------------------------------------------------------------


async def test_an_abandoned_opinion_expires_and_the_voter_is_told_once(
    world: World, person
) -> None:
    voter = person(5001)
    await onboard(voter)
    await voter.send("/opinion")
    await voter.tap("交通出行")
    world.clock.advance(hours=world.settings.conversation_timeout_hours, minutes=1)

    await voter.send("小区门口的红绿灯时间太短，老人过马路来不及。")
    expired = say(voter, "conversation.expired", hours=24)
    assert voter.last == expired
    assert await states(world) == []
    assert await world.rows("SELECT * FROM opinion_drafts") == []
    assert await world.rows("SELECT * FROM opinions") == []
    await voter.send("/opinion")
    assert say(voter, "opinion.ask_category") in voter.last
    assert sum(o.text == expired for o in voter.seen) == 1


async def test_a_conversation_within_the_timeout_goes_on(world: World, person) -> None:
    voter = person(5002)
    await onboard(voter)
    await voter.send("/opinion")
    await voter.tap("交通出行")
    world.clock.advance(hours=world.settings.conversation_timeout_hours - 1)
    await voter.send("小区门口的红绿灯时间太短，老人过马路来不及。")
    assert voter.last != say(voter, "conversation.expired", hours=24)
    assert await states(world) == ["opinion"]


async def test_a_command_after_expiry_is_told_and_still_runs(world: World, person) -> None:
    voter = person(5003)
    await onboard(voter)
    await voter.send("/opinion")
    world.clock.advance(days=2)
    replies = await voter.send("/my")
    assert replies[0].text == say(voter, "conversation.expired", hours=24)
    assert len(replies) == 2  # and /my answered


# --- the nightly sweep ---------------------------------------------------------------------


async def test_the_sweep_removes_abandoned_drafts_everywhere(world: World, person) -> None:
    voters = [person(6000 + i) for i in range(30)]
    for voter in voters:
        await onboard(voter)
        await voter.send("/opinion")
        await voter.tap("交通出行")
        await voter.send("小区门口的红绿灯时间太短，老人过马路来不及。")
    assert len(await states(world)) == 30
    assert world.conversations_in_memory() == 30

    world.clock.advance(days=400)
    assert await keeper(world).sweep() == 30
    assert await states(world) == []
    assert await world.rows("SELECT * FROM opinion_drafts") == []
    assert await world.rows("SELECT * FROM drafts") == []
    assert world.conversations_in_memory() == 0

    # each is told once, on their next message
    first = voters[0]
    await first.send("你好")
    assert first.last == say(first, "conversation.expired", hours=24)
    await first.send("你好")
    assert first.last != say(first, "conversation.expired", hours=24)


async def test_the_sweep_keeps_a_conversation_that_is_moving(world: World, person) -> None:
    voter = person(6100)
    await onboard(voter)
    await voter.send("/opinion")
    world.clock.advance(hours=1)
    assert await keeper(world).sweep() == 0
    assert await states(world) == ["opinion"]


async def test_the_sweep_forgets_strangers_who_never_consented(world: World, person) -> None:
    stranger = person(7001, "路人")
    await stranger.send("/start")
    voter = person(7002)
    await onboard(voter)
    world.clock.advance(days=world.settings.unconsented_days + 1)
    await keeper(world).sweep()
    ids = [r["telegram_id"] for r in await world.rows("SELECT telegram_id FROM users")]
    assert 7001 not in ids
    assert 7002 in ids


async def answered_opinion(world: World, person) -> tuple[Person, Person]:
    """A voter's opinion, claimed by a deputy of the station, who starts typing the answer."""
    admin = person(ADMIN, "管理员")
    await onboard(admin)
    deputy = await invite_deputy(world, admin, person, 3101, "张代表")
    voter = person(2101, "王芳")
    await submit(voter, "小区路灯坏了一个多月，晚上很不安全。")
    await open_in_inbox(deputy)
    await deputy.tap(say(deputy, "inbox.claim_button"))
    await deputy.tap(say(deputy, "handling.answer"))
    return voter, deputy


async def test_a_deputy_who_loses_the_role_while_typing_an_answer_is_let_out(
    world: World, person
) -> None:
    _, deputy = await answered_opinion(world, person)
    assert await states(world) == ["reply"]
    await set_role(world, 3101, Role.VOTER)

    await deputy.send("已联系物业，本周内修好。")
    assert deputy.last == say(deputy, "conversation.role_lost")
    assert await states(world) == []
    answered = await world.rows("SELECT status FROM opinions")
    assert answered == [{"status": "accepted"}]


async def rated_with_a_comment_pending(world: World, person) -> Person:
    voter, deputy = await answered_opinion(world, person)
    await deputy.send("已联系物业，本周内修好。")
    await world.outbox.drain()
    await voter.tap(say(voter, "rate.solved_partly"))
    await voter.tap(say(voter, "rate.basically"))
    assert await states(world) == ["reply"]  # the comment may follow
    return voter


async def test_the_optional_comment_does_not_make_a_voter_busy(world: World, person) -> None:
    voter = await rated_with_a_comment_pending(world, person)
    await voter.send("/opinion")
    assert say(voter, "opinion.ask_category") in voter.last
    assert await states(world) == ["opinion"]
    rating = await world.rows("SELECT satisfaction, rating_comment FROM opinions")
    assert rating == [{"satisfaction": "basically", "rating_comment": ""}]


async def test_walking_away_from_the_optional_comment_is_never_called_expired(
    world: World, person
) -> None:
    voter = await rated_with_a_comment_pending(world, person)
    world.clock.advance(days=3)
    await voter.send("/my")
    assert all(o.text != say(voter, "conversation.expired", hours=24) for o in voter.seen)
    assert await states(world) == []


async def test_the_sweep_ends_the_optional_comment_without_a_notice(world: World, person) -> None:
    voter = await rated_with_a_comment_pending(world, person)
    world.clock.advance(days=3)
    assert await keeper(world).sweep() == 1
    assert await world.rows("SELECT * FROM conversation_expiries") == []
    await voter.send("/my")
    assert all(o.text != say(voter, "conversation.expired", hours=24) for o in voter.seen)


async def test_the_sweep_is_a_daily_job_of_the_scheduler(world: World, person) -> None:
    (job,) = world.app.job_queue.get_jobs_by_name("expiry")
    assert job.job.trigger.interval.total_seconds() == 24 * 3600
    voter = person(6200)
    await onboard(voter)
    await voter.send("/opinion")
    world.clock.advance(days=2)
    await job.run(world.app)  # what the JobQueue does at the job's time
    assert await states(world) == []
    assert world.conversations_in_memory() == 0


async def test_a_conversation_an_older_version_left_behind_ends_quietly(
    world: World, person
) -> None:
    voter = person(6300)
    await onboard(voter)
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO conversation_states (name, key, state, updated_at)"
            " VALUES ('survey', ?, '\"q1\"', ?)",
            (f"[{voter.id}, {voter.id}]", world.clock.now().isoformat()),
        )
    replies = await voter.send("/my")
    assert len(replies) == 1 and replies[0].text != say(voter, "conversation.role_lost")
    assert await states(world) == []
