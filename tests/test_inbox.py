"""/inbox: deputies claim their station's opinions (exactly one wins), ask the voter through
the bot, answer, decline, release; the voter rates the answer in two steps; staff assign and
act for the holder. Every notification is checked, in both languages, and nobody acts on an
opinion that is not theirs, whatever button they forge."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.runtime.buttons.inbox import (
    AssignTo,
    Claim,
    Compose,
    InboxList,
    LookAgain,
    OpinionCard,
    PickDeputy,
    RateSatisfaction,
    RateSolved,
    Release,
    Side,
)
from bot.services.opinions import VOICE_MAX_SECONDS
from tests.support.inbox import (
    NO,
    Cast,
    Mail,
    chat_of,
    events_of,
    notice,
    open_in_inbox,
    opinion_row,
    refused,
    submit,
    zhang_answers,
)
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, onboard, say
from tests.support.world import World

# The outbox's pause between two notices to one chat (a second, in real time) is not what
# these tests prove; without it a test that waits for several notices does not wait seconds.
pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

# --- the whole loop, a step a test, in both languages -------------------------------------
#
# A voter's opinion at 学院路第一联络站 goes round the loop: the deputy 张三 claims it, asks the
# voter, the voter replies, 张三 answers, the voter rates the answer and comments. Each test
# below takes the loop through the steps before its own (`reach`) and checks its own step's
# answers, notices and rows.

TEXT = "小区3号楼前的路灯坏了一个多月，晚上出门很不安全。"
QUESTION = "是哪一栋楼前的路灯？<几号>"
REPLY = "3号楼南门"
ANSWER = "已联系物业，本周内修好。"
COMMENT = "修得很快，就是晚了点 <谢谢>"


@dataclass
class Loop:
    world: World
    mail: Mail
    person: Callable[..., Person]
    admin: Person
    zhang: Person  # a deputy of the opinion's station
    voter: Person  # the anonymous author


@pytest.fixture(params=["zh-hans", "en"], ids=["zh_CN", "en"])
async def loop(
    request: pytest.FixtureRequest, world: World, person: Callable[..., Person], admin: Person
) -> Loop:
    lang = request.param
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=lang)
    voter = person(2001, "王芳", lang)
    await submit(voter, TEXT)
    mail = Mail(world)
    # 张三 was told of the new opinion (tests/test_new_opinion_notices.py)
    assert [chat for chat, _ in await mail.take()] == [zhang.id]
    return Loop(world, mail, person, admin, zhang, voter)


async def claim(loop: Loop) -> None:
    await open_in_inbox(loop.zhang)
    await loop.zhang.tap(say(loop.zhang, "inbox.claim_button"))


async def ask(loop: Loop) -> None:
    await loop.zhang.tap(say(loop.zhang, "inbox.ask_button"))
    await loop.zhang.send(QUESTION)


async def reply(loop: Loop) -> None:
    await loop.voter.tap(say(loop.voter, "inbox.reply_button"))
    await loop.voter.send(REPLY)


async def answer(loop: Loop) -> None:
    """From the relayed reply's Open button, as a deputy does."""
    await loop.zhang.tap(say(loop.zhang, "inbox.open_button"))
    await loop.zhang.tap(say(loop.zhang, "handling.answer"))
    await loop.zhang.send(ANSWER)


async def rate(loop: Loop) -> None:
    await loop.voter.tap(say(loop.voter, "rate.solved_partly"))
    await loop.voter.tap(say(loop.voter, "rate.basically"))


async def comment(loop: Loop) -> None:
    await loop.voter.send(COMMENT)


STEPS: list[Callable[[Loop], Awaitable[None]]] = [claim, ask, reply, answer, rate, comment]


async def reach(loop: Loop, step: Callable[[Loop], Awaitable[None]] | None = None) -> None:
    """Take the loop through every step before `step` (all of them if None), each one's
    notices delivered and taken, so the test sees only the mail of its own step."""
    for done in STEPS:
        if done is step:
            return
        await done(loop)
        await loop.mail.take()


def relayed(loop: Loop) -> str:
    """The voter's reply as the outbox relays it to 张三."""
    zhang = loop.zhang
    author = say(zhang, "inbox.anonymous_voter")
    return say(zhang, "inbox.notify_reply", tracking_no=NO, author=author, reply=REPLY)


async def test_the_inbox_lists_the_opinion_to_its_stations_deputies_without_the_author(
    loop: Loop,
) -> None:
    world, zhang = loop.world, loop.zhang
    other = await invite_deputy(
        world,
        loop.admin,
        loop.person,
        3009,
        "赵六",
        "海淀街道",
        "海淀街道联络站",
        language_code=zhang.language_code,
    )
    assert await loop.mail.take() == []
    await zhang.send("/inbox")
    assert zhang.last.startswith(say(zhang, "inbox.title", view=say(zhang, "inbox.view_all")))
    item = say(
        zhang,
        "inbox.item",
        tracking_no=NO,
        status=say(zhang, "status.submitted"),
        summary=TEXT[:20] + "…",
    )
    assert item in zhang.buttons()
    await zhang.tap(item)
    card = zhang.last
    assert say(zhang, "inbox.anonymous_voter") in card and TEXT in card
    assert say(zhang, "inbox.unclaimed") in card
    # a deputy of another station sees none of it
    await other.send("/inbox")
    assert say(other, "inbox.empty") in other.last and not any(
        b.startswith(NO) for b in other.buttons()
    )
    assert await loop.mail.take() == []


async def test_a_claim_tells_the_voter_who_took_it_on(loop: Loop) -> None:
    zhang, voter = loop.zhang, loop.voter
    await claim(loop)
    assert say(zhang, "inbox.claimed", tracking_no=NO) in [o.text for o in zhang.seen[-3:]]
    assert "张三" in zhang.last and say(zhang, "status.accepted") in zhang.last
    assert await loop.mail.take() == [
        notice(voter, "inbox.notify_claimed", tracking_no=NO, deputy="张三")
    ]
    row = await opinion_row(loop.world)
    assert (row["status"], row["holder_id"]) == ("accepted", zhang.id)


async def test_the_deputys_question_reaches_the_voter_with_a_reply_button_escaped(
    loop: Loop,
) -> None:
    zhang, voter = loop.zhang, loop.voter
    await reach(loop, ask)
    await zhang.tap(say(zhang, "inbox.ask_button"))
    assert zhang.last == say(zhang, "inbox.ask_question")
    await zhang.send(QUESTION)
    assert zhang.last == say(zhang, "inbox.done_ask", tracking_no=NO)
    assert await loop.mail.take() == [
        notice(
            voter,
            "inbox.notify_question",
            tracking_no=NO,
            asker="张三",
            question="是哪一栋楼前的路灯？&lt;几号&gt;",
        )
    ]
    assert say(voter, "inbox.reply_button") in voter.buttons()


async def test_the_voters_reply_reaches_the_deputy_without_the_voters_name(
    loop: Loop,
) -> None:
    voter = loop.voter
    await reach(loop, reply)
    await voter.tap(say(voter, "inbox.reply_button"))
    assert voter.last == say(voter, "inbox.ask_reply", tracking_no=NO)
    await voter.send(REPLY)
    assert voter.last == say(voter, "inbox.done_reply", tracking_no=NO)
    assert await loop.mail.take() == [(loop.zhang.id, relayed(loop))]
    assert "王芳" not in chat_of(loop.world, loop.zhang)


async def test_the_answer_reaches_the_voter_with_the_first_rating_question(loop: Loop) -> None:
    """Opening the card from the relayed reply leaves the reply in the chat."""
    world, zhang, voter = loop.world, loop.zhang, loop.voter
    await reach(loop, answer)
    await zhang.tap(say(zhang, "inbox.open_button"))
    assert zhang.last.startswith(f"<b>{NO}</b>")
    assert relayed(loop) in [m.get("text") for m in world.api.chat_messages(zhang.id)]
    await zhang.tap(say(zhang, "handling.answer"))
    assert zhang.last == say(zhang, "handling.ask_answer")
    await zhang.send(ANSWER)
    assert zhang.last == say(zhang, "handling.done_answer", tracking_no=NO)
    assert await loop.mail.take() == [
        notice(voter, "inbox.notify_answered", tracking_no=NO, note=ANSWER)
    ]
    assert voter.buttons()[:3] == [
        say(voter, "rate.solved_yes"),
        say(voter, "rate.solved_partly"),
        say(voter, "rate.solved_no"),
    ]


async def test_the_voter_rates_in_two_questions_then_may_comment(loop: Loop) -> None:
    world, zhang, voter, mail = loop.world, loop.zhang, loop.voter, loop.mail
    await reach(loop, rate)
    await voter.tap(say(voter, "rate.solved_partly"))
    assert voter.last == say(
        voter, "rate.ask_satisfaction", tracking_no=NO, solved=say(voter, "rate.solved_partly")
    )
    assert await mail.take() == []
    await voter.tap(say(voter, "rate.basically"))
    assert voter.last == say(
        voter,
        "rate.thanks",
        tracking_no=NO,
        solved=say(voter, "rate.solved_partly"),
        satisfaction=say(voter, "rate.basically"),
    )
    assert voter.buttons()[0] == say(voter, "rate.skip_button")
    assert await mail.take() == [
        notice(
            zhang,
            "inbox.notify_rated",
            tracking_no=NO,
            solved=say(zhang, "rate.solved_partly"),
            satisfaction=say(zhang, "rate.basically"),
        )
    ]
    await voter.send(COMMENT)
    assert voter.last == say(voter, "rate.done_comment", tracking_no=NO)
    assert await mail.take() == [
        notice(
            zhang,
            "inbox.notify_comment",
            tracking_no=NO,
            comment="修得很快，就是晚了点 &lt;谢谢&gt;",
        )
    ]

    row = await opinion_row(world)
    assert (row["status"], row["holder_id"], row["solved"], row["satisfaction"]) == (
        "closed",
        zhang.id,
        "partly",
        "basically",
    )
    assert row["rating_comment"] == COMMENT
    assert [kind for kind, _ in await events_of(world)] == [
        "submitted",
        "accepted",
        "asked",
        "replied",
        "answered",
        "solved_partly",
        "rated_basically",
        "commented",
    ]


async def test_every_step_is_in_the_voters_history_in_the_voters_language(loop: Loop) -> None:
    voter = loop.voter
    await reach(loop)
    await voter.send("/my")
    await voter.tap(next(b for b in voter.buttons() if b.startswith(NO)))
    detail = voter.last
    for label in (
        "event.accepted",
        "event.asked",
        "event.replied",
        "event.answered",
        "event.solved_partly",
        "event.rated_basically",
        "event.commented",
    ):
        assert say(voter, label) in detail, label
    assert REPLY in detail and "&lt;几号&gt;" in detail
    assert say(voter, "inbox.holder_line", holder="张三") in detail


async def test_a_rated_answer_cannot_be_rated_again_even_by_a_replayed_button(
    loop: Loop,
) -> None:
    world, voter = loop.world, loop.voter
    await reach(loop)
    await voter.tap_data(RateSatisfaction(opinion=1, satisfaction="satisfied").pack())
    assert refused(voter, "rate.already_rated", tracking_no=NO)
    await voter.tap_data(RateSolved(opinion=1, solved="no").pack())
    assert refused(voter, "rate.already_rated", tracking_no=NO)
    row = await opinion_row(world)
    assert (row["solved"], row["satisfaction"]) == ("partly", "basically")
    assert await loop.mail.take() == []


# --- claiming ---------------------------------------------------------------------------


async def test_two_deputies_claim_at_once_and_exactly_one_wins(cast: Cast) -> None:
    world, zhang, li = cast.world, cast.zhang, cast.li
    await open_in_inbox(zhang)
    await open_in_inbox(li)
    claim = say(zhang, "inbox.claim_button")
    await asyncio.gather(zhang.tap(claim), li.tap(claim))

    row = await opinion_row(world)
    assert row["status"] == "accepted" and row["holder_id"] in (zhang.id, li.id)
    winner, loser = (zhang, li) if row["holder_id"] == zhang.id else (li, zhang)
    assert [k for k, _ in await events_of(world)] == ["submitted", "accepted"]
    assert say(winner, "inbox.claimed", tracking_no=NO) in [o.text for o in winner.seen]
    assert any(
        o.kind == "alert"
        and o.text == say(loser, "inbox.held_by", tracking_no=NO, name=winner.first_name)
        for o in loser.seen
    )
    assert await cast.mail.take() == [
        notice(cast.voter, "inbox.notify_claimed", tracking_no=NO, deputy=winner.first_name)
    ]
    # and a late claim is told the same
    await loser.tap_data(Claim(opinion=1).pack())
    assert refused(loser, "inbox.held_by", tracking_no=NO, name=winner.first_name)
    await winner.tap_data(Claim(opinion=1).pack())
    assert refused(winner, "inbox.already_yours", tracking_no=NO)


async def test_many_simultaneous_claims_through_the_service_each_have_one_winner(
    cast: Cast, person
) -> None:
    world = cast.world
    for i in range(2, 9):
        await submit(person(2100 + i, "选民"), f"第{i}条：小区门口的路灯坏了很久了。")
    zhang = await world.services.users.get(cast.zhang.id)
    li = await world.services.users.get(cast.li.id)
    assert zhang and li
    results = await asyncio.gather(
        *(
            world.services.inbox.claim(deputy, opinion_id)
            for opinion_id in range(1, 9)
            for deputy in (zhang, li)
        ),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 8 and len(losses) == 8
    assert {getattr(e, "key", None) for e in losses} == {"inbox.held_by"}
    counts = await world.rows(
        "SELECT opinion_id, count(*) AS n FROM opinion_events WHERE kind = 'accepted'"
        " GROUP BY opinion_id"
    )
    assert [r["n"] for r in counts] == [1] * 8
    notices = await world.rows(
        "SELECT count(*) AS n FROM outbox WHERE message_key = ?", ("inbox.notify_claimed",)
    )
    assert notices[0]["n"] == 8


# --- who may do what --------------------------------------------------------------------


async def test_a_voter_cannot_open_the_inbox_or_use_its_buttons(cast: Cast, person) -> None:
    voter = cast.voter
    await voter.send("/inbox")
    assert refused(voter, "error.forbidden")
    for data in (
        InboxList(view="all", page=0).pack(),
        OpinionCard(side=Side.INBOX, opinion=1).pack(),
        Claim(opinion=1).pack(),
        Compose(step="ask", opinion=1).pack(),
        Compose(step="answer", opinion=1).pack(),
        Release(side=Side.INBOX, opinion=1).pack(),
        PickDeputy(side=Side.INBOX, opinion=1).pack(),
        AssignTo(side=Side.INBOX, opinion=1, deputy=3001).pack(),
    ):
        await voter.tap_data(data)
        assert refused(voter, "error.forbidden"), data
    row = await opinion_row(cast.world)
    assert (row["status"], row["holder_id"]) == ("submitted", None)
    assert await events_of(cast.world) == [("submitted", "")]


async def test_a_deputy_of_another_station_can_neither_see_nor_act(cast: Cast, person) -> None:
    world = cast.world
    zhao = await invite_deputy(
        world, cast.admin, person, 3009, "赵六", "海淀街道", "海淀街道联络站"
    )
    await zhao.send("/inbox")
    assert not any(b.startswith(NO) for b in zhao.buttons())
    await zhao.tap_data(OpinionCard(side=Side.INBOX, opinion=1).pack())
    assert refused(zhao, "error.not_your_record")
    await zhao.tap_data(Claim(opinion=1).pack())
    assert refused(zhao, "inbox.not_your_station")
    # choosing the other station as a voter does not make it theirs
    await zhao.send("/station")
    await zhao.tap("学院路街道")
    await zhao.tap("学院路第一联络站")
    await zhao.tap_data(Claim(opinion=1).pack())
    assert refused(zhao, "inbox.not_your_station")
    await cast.zhang.tap_data(Claim(opinion=1).pack())
    for data in (
        Compose(step="answer", opinion=1).pack(),
        Compose(step="decline", opinion=1).pack(),
        Compose(step="ask", opinion=1).pack(),
        Compose(step="answer", opinion=1).pack(),
    ):
        await zhao.tap_data(data)
        assert refused(zhao, "inbox.not_holder"), data
    await zhao.tap_data(Release(side=Side.INBOX, opinion=1).pack())
    assert refused(zhao, "inbox.not_holder")
    for data in (
        PickDeputy(side=Side.INBOX, opinion=1).pack(),
        PickDeputy(side=Side.STAFF, opinion=1).pack(),
        AssignTo(side=Side.STAFF, opinion=1, deputy=3009).pack(),
        OpinionCard(side=Side.STAFF, opinion=1).pack(),
    ):
        await zhao.tap_data(data)
        assert refused(zhao, "error.forbidden"), data
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"]) == ("accepted", cast.zhang.id)
    assert [k for k, _ in await events_of(world)] == ["submitted", "accepted"]


async def test_a_second_deputy_cannot_act_on_an_opinion_the_first_holds(cast: Cast) -> None:
    world, zhang, li = cast.world, cast.zhang, cast.li
    await open_in_inbox(zhang)
    await zhang.tap(say(zhang, "inbox.claim_button"))
    await cast.mail.take()
    await open_in_inbox(li)
    card = li.last
    assert "张三" in card
    # no action buttons for someone else's opinion
    assert li.seen[-1].buttons() == [say(li, "nav.back")]
    for data in (
        Compose(step="answer", opinion=1).pack(),
        Compose(step="decline", opinion=1).pack(),
        Compose(step="ask", opinion=1).pack(),
        Compose(step="decline", opinion=1).pack(),
    ):
        await li.tap_data(data)
        assert refused(li, "inbox.not_holder"), data
        await li.send("我来答复：已经修好了。")
        assert li.last == say(li, "error.stray_message")
    await li.tap_data(Release(side=Side.INBOX, opinion=1).pack())
    assert refused(li, "inbox.not_holder")
    await li.tap_data(Claim(opinion=1).pack())
    assert refused(li, "inbox.held_by", tracking_no=NO, name="张三")
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"]) == ("accepted", zhang.id)
    assert [k for k, _ in await events_of(world)] == ["submitted", "accepted"]
    assert await cast.mail.take() == []
    # and when the holder lets go, the other deputy may claim it
    await open_in_inbox(zhang)
    await zhang.tap(say(zhang, "inbox.release_button"))
    assert say(zhang, "inbox.released", tracking_no=NO) in [o.text for o in zhang.seen[-3:]]
    assert await cast.mail.take() == [
        notice(cast.voter, "inbox.notify_released", tracking_no=NO),
        notice(
            li,
            "deputy_notices.released",
            tracking_no=NO,
            station="学院路第一联络站",
            category=say(li, "category.urban"),
            excerpt="小区路灯坏了一个多月，晚上很不安全。",
        ),
    ]
    await zhang.tap_data(Compose(step="answer", opinion=1).pack())
    assert refused(zhang, "inbox.not_holder")
    await li.tap_data(Claim(opinion=1).pack())
    assert (await opinion_row(world))["holder_id"] == li.id
    assert [k for k, _ in await events_of(world)] == [
        "submitted",
        "accepted",
        "released",
        "accepted",
    ]


async def test_names_reach_deputies_only_when_the_author_shows_them(
    world: World, person, admin
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    shown, hidden = person(2001, "王芳"), person(2002, "刘洋")
    await submit(shown, "东门的垃圾桶每天都满了，没人清理。", anonymous=False)
    await submit(hidden, "西门的路面坑洼，下雨天积水很深。")
    await zhang.send("/inbox")
    labels = [b for b in zhang.buttons() if b.startswith("HD-")]
    assert [b[:14] for b in labels] == ["HD-2026-000002", "HD-2026-000001"]  # newest first
    await zhang.tap(labels[1])
    assert "王芳" in zhang.last
    await zhang.tap(say(zhang, "nav.back"))
    await zhang.tap(labels[0])
    assert "刘洋" not in zhang.last and say(zhang, "inbox.anonymous_voter") in zhang.last
    # staff see the name, marked as hidden from deputies
    await admin.send("/inbox")
    await admin.tap(next(b for b in admin.buttons() if b.startswith("HD-2026-000002")))
    assert "刘洋" + say(admin, "handling.anonymous_mark") in admin.last
    assert "刘洋" not in chat_of(world, zhang)


async def test_forged_and_stale_rating_buttons_are_refused(cast: Cast, person) -> None:
    world, voter, zhang = cast.world, cast.voter, cast.zhang
    stranger = person(2050, "路人")
    await onboard(stranger)
    await voter.tap_data(RateSolved(opinion=1, solved="yes").pack())
    assert refused(voter, "rate.not_answered", tracking_no=NO)
    await zhang_answers(cast, "已经修好了，请查看。")
    await stranger.tap_data(RateSolved(opinion=1, solved="yes").pack())
    assert refused(stranger, "error.not_your_record")
    await stranger.tap_data(RateSatisfaction(opinion=1, satisfaction="satisfied").pack())
    assert refused(stranger, "error.not_your_record")
    await zhang.tap_data(RateSolved(opinion=1, solved="yes").pack())
    assert refused(zhang, "error.not_your_record")
    await voter.tap_data(RateSatisfaction(opinion=1, satisfaction="satisfied").pack())
    assert refused(voter, "rate.solved_first", tracking_no=NO)
    for data in ("rts:1:maybe", "rtf:1:great", "rts:x:yes", "rts:1"):
        await voter.tap_data(data)
        assert refused(voter, "error.stale_button"), data
    await voter.tap_data(LookAgain(opinion=1).pack())
    assert refused(voter, "rate.look_again_refused")
    row = await opinion_row(world)
    assert (row["status"], row["solved"], row["satisfaction"]) == ("answered", None, None)
    # the real buttons still work
    await voter.tap(say(voter, "rate.solved_yes"))
    await voter.tap(say(voter, "rate.satisfied"))
    await voter.tap(say(voter, "rate.skip_button"))
    assert voter.last == say(voter, "rate.skipped", tracking_no=NO)
    row = await opinion_row(world)
    assert (row["status"], row["solved"], row["satisfaction"]) == ("closed", "yes", "satisfied")
    await stranger.tap_data(LookAgain(opinion=1).pack())
    assert refused(stranger, "error.not_your_record")
    await voter.tap_data(LookAgain(opinion=1).pack())
    assert refused(voter, "rate.look_again_refused")


# --- declining, looking again, staff --------------------------------------------------------


async def test_the_holder_declines_with_a_reason(cast: Cast) -> None:
    zhang, voter = cast.zhang, cast.voter
    await open_in_inbox(zhang)
    await zhang.tap(say(zhang, "inbox.claim_button"))
    await cast.mail.take()
    await zhang.tap(say(zhang, "handling.decline"))
    assert zhang.last == say(zhang, "handling.ask_reason")
    await zhang.send("x")
    assert zhang.last == say(zhang, "handling.reply_too_short", minimum=2)
    await zhang.send("属于市级事权，已转市交通委。")
    assert zhang.last == say(zhang, "handling.done_decline", tracking_no=NO)
    assert await cast.mail.take() == [
        notice(
            voter, "notify.opinion_declined", tracking_no=NO, note="属于市级事权，已转市交通委。"
        )
    ]
    assert (await opinion_row(cast.world))["status"] == "declined"
    await voter.send("/my")
    await voter.tap(next(b for b in voter.buttons() if b.startswith(NO)))
    assert say(voter, "event.declined") + ": 属于市级事权" in voter.last


async def test_not_solved_lets_the_voter_ask_to_look_again_once(cast: Cast) -> None:
    world, zhang, voter = cast.world, cast.zhang, cast.voter
    await zhang_answers(cast, "已报修。")
    await voter.tap(say(voter, "rate.solved_no"))
    await voter.tap(say(voter, "rate.unsatisfied"))
    assert say(voter, "rate.look_again_button") in voter.buttons()[:2]
    await cast.mail.take()
    await voter.tap(say(voter, "rate.look_again_button"))
    assert voter.last == say(voter, "rate.look_again_sent", tracking_no=NO)
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"], row["looked_again"]) == ("accepted", zhang.id, 1)
    assert (row["solved"], row["satisfaction"]) == (None, None)
    assert await cast.mail.take() == [notice(zhang, "inbox.notify_look_again", tracking_no=NO)]
    # the look-again tap ended the comment step: a plain message is no comment
    await voter.send("还是不亮")
    assert voter.last == say(voter, "error.stray_message")
    # a second answer, rated 'not solved' again: no second look
    await zhang.tap(say(zhang, "inbox.open_button"))
    await zhang.tap(say(zhang, "handling.answer"))
    await zhang.send("已更换灯泡。")
    await cast.mail.take()
    await voter.tap(say(voter, "rate.solved_no"))
    await voter.tap(say(voter, "rate.unsatisfied"))
    assert say(voter, "rate.look_again_button") not in voter.buttons()[:2]
    await voter.tap(say(voter, "rate.skip_button"))
    await voter.tap_data(LookAgain(opinion=1).pack())
    assert refused(voter, "rate.looked_again_once", tracking_no=NO)
    kinds = [k for k, _ in await events_of(world)]
    assert kinds == [
        "submitted",
        "accepted",
        "answered",
        "solved_no",
        "rated_unsatisfied",
        "reopened",
        "answered",
        "solved_no",
        "rated_unsatisfied",
    ]
    assert (await opinion_row(world))["status"] == "closed"


# staff give the opinion to 李四, then to 张三, ask the voter, and answer for the holder


@pytest.fixture
async def zhao(cast: Cast, person: Callable[..., Person]) -> Person:
    """A deputy of 海淀街道联络站, another station than the opinion's."""
    zhao = await invite_deputy(
        cast.world, cast.admin, person, 3009, "赵六", "海淀街道", "海淀街道联络站"
    )
    await cast.mail.take()
    return zhao


async def open_in_opinions(admin: Person) -> None:
    await admin.send("/opinions")
    await admin.tap(next(b for b in admin.buttons() if b.startswith(NO)))


async def assigned_to_li(cast: Cast) -> None:
    await open_in_opinions(cast.admin)
    await cast.admin.tap(say(cast.admin, "inbox.assign_button"))
    await cast.admin.tap("李四")
    await cast.mail.take()


async def reassigned_to_zhang(cast: Cast) -> None:
    await assigned_to_li(cast)
    await cast.admin.tap(say(cast.admin, "inbox.reassign_button"))
    await cast.admin.tap("张三")
    await cast.mail.take()


async def test_staff_assign_only_to_a_deputy_of_the_opinions_station(
    cast: Cast, zhao: Person
) -> None:
    admin, li, voter = cast.admin, cast.li, cast.voter
    await open_in_opinions(admin)
    await admin.tap(say(admin, "inbox.assign_button"))
    # only the deputies of the opinion's station are offered
    assert admin.buttons() == ["张三", "李四", say(admin, "nav.back")]
    await admin.tap("李四")
    assert say(admin, "inbox.assigned", tracking_no=NO, name="李四") in [
        o.text for o in admin.seen[-3:]
    ]
    assert say(admin, "inbox.holder_line", holder="李四") in admin.last
    assert await cast.mail.take() == [
        notice(li, "inbox.notify_assigned", tracking_no=NO),
        notice(voter, "inbox.notify_claimed", tracking_no=NO, deputy="李四"),
    ]
    # a deputy of another station cannot be given it, even by a forged button
    await admin.tap_data(AssignTo(side=Side.STAFF, opinion=1, deputy=zhao.id).pack())
    assert refused(admin, "inbox.not_station_deputy")
    assert (await opinion_row(cast.world))["holder_id"] == li.id
    assert await cast.mail.take() == []


async def test_staff_reassign_and_the_first_holder_is_told_and_let_go(cast: Cast) -> None:
    admin, zhang, li = cast.admin, cast.zhang, cast.li
    await assigned_to_li(cast)
    await admin.tap(say(admin, "inbox.reassign_button"))
    await admin.tap("张三")
    assert await cast.mail.take() == [
        notice(zhang, "inbox.notify_assigned", tracking_no=NO),
        notice(li, "inbox.notify_done_for_you", tracking_no=NO, event=say(li, "event.assigned")),
    ]
    await li.tap_data(Compose(step="answer", opinion=1).pack())
    assert refused(li, "inbox.not_holder")
    assert (await opinion_row(cast.world))["holder_id"] == zhang.id
    assert [k for k, _ in await events_of(cast.world)] == ["submitted", "assigned", "assigned"]


async def test_staff_ask_the_voter_and_the_reply_is_named_to_staff_only(cast: Cast) -> None:
    """Asked from the /opinions card, the reply goes to staff and to the holder."""
    admin, zhang, voter = cast.admin, cast.zhang, cast.voter
    await reassigned_to_zhang(cast)
    await admin.tap(say(admin, "inbox.ask_button"))
    await admin.send("请问具体位置？")
    assert await cast.mail.take() == [
        notice(
            voter,
            "inbox.notify_question",
            tracking_no=NO,
            asker=say(voter, "inbox.staff_asker"),
            question="请问具体位置？",
        )
    ]
    await voter.tap(say(voter, "inbox.reply_button"))
    await voter.send("5号楼北侧")
    assert await cast.mail.take() == [
        notice(admin, "inbox.notify_reply", tracking_no=NO, author="王芳", reply="5号楼北侧"),
        notice(
            zhang,
            "inbox.notify_reply",
            tracking_no=NO,
            author=say(zhang, "inbox.anonymous_voter"),
            reply="5号楼北侧",
        ),
    ]
    assert "王芳" not in chat_of(cast.world, zhang)


async def test_staff_answer_for_the_holder_who_hears_of_it(cast: Cast, zhao: Person) -> None:
    world, admin, zhang, voter = cast.world, cast.admin, cast.zhang, cast.voter
    await reassigned_to_zhang(cast)
    await admin.tap(say(admin, "inbox.ask_button"))
    await admin.send("请问具体位置？")
    await cast.mail.take()
    await voter.tap(say(voter, "inbox.reply_button"))
    await voter.send("5号楼北侧")
    await cast.mail.take()
    await open_in_opinions(admin)
    await admin.tap(say(admin, "handling.answer"))
    await admin.send("已安排维修。")
    assert await cast.mail.take() == [
        notice(voter, "inbox.notify_answered", tracking_no=NO, note="已安排维修。"),
        notice(
            zhang, "inbox.notify_done_for_you", tracking_no=NO, event=say(zhang, "event.answered")
        ),
    ]
    kinds = [k for k, _ in await events_of(world)]
    assert kinds == ["submitted", "assigned", "assigned", "asked", "replied", "answered"]
    assert "王芳" not in chat_of(world, zhang) and "王芳" not in chat_of(world, zhao)


async def test_typing_survives_a_restart_on_both_sides(cast: Cast) -> None:
    world, zhang, voter = cast.world, cast.zhang, cast.voter
    await zhang.tap_data(Claim(opinion=1).pack())
    await cast.mail.take()
    await zhang.tap_data(Compose(step="ask", opinion=1).pack())
    await world.crash_and_restart()
    await zhang.send("/inbox")
    assert zhang.last == say(zhang, "inbox.in_progress_ask")
    await zhang.send("路灯在哪个位置？")
    assert zhang.last == say(zhang, "inbox.done_ask", tracking_no=NO)
    await cast.mail.take()
    await voter.tap(say(voter, "inbox.reply_button"))
    await world.crash_and_restart()
    await voter.send("就在小区东门。")
    assert voter.last == say(voter, "inbox.done_reply", tracking_no=NO)
    assert await cast.mail.take() == [
        notice(
            zhang,
            "inbox.notify_reply",
            tracking_no=NO,
            author=say(zhang, "inbox.anonymous_voter"),
            reply="就在小区东门。",
        )
    ]
    # /cancel leaves a started answer without a trace
    await zhang.tap_data(Compose(step="answer", opinion=1).pack())
    await world.crash_and_restart()
    await zhang.send("/cancel")
    assert zhang.last == say(zhang, "handling.cancelled")
    assert (await opinion_row(world))["status"] == "accepted"
    assert await world.rows("SELECT * FROM drafts") == []
    assert await world.rows("SELECT * FROM conversation_states WHERE name = 'reply'") == []


async def test_ask_again_under_a_relayed_reply_starts_another_question(cast: Cast) -> None:
    """The typed actions under a relayed reply, through the outbox: open and ask again."""
    world, zhang, voter = cast.world, cast.zhang, cast.voter
    await zhang.tap_data(Claim(opinion=1).pack())
    await zhang.tap_data(Compose(step="ask", opinion=1).pack())
    await zhang.send("路灯在哪个位置？")
    await cast.mail.take()
    await voter.tap(say(voter, "inbox.reply_button"))
    await voter.send("就在小区东门。")
    await cast.mail.take()
    assert zhang.buttons()[:2] == [
        say(zhang, "inbox.open_button"),
        say(zhang, "inbox.ask_again_button"),
    ]
    await zhang.tap(say(zhang, "inbox.ask_again_button"))
    assert zhang.last == say(zhang, "inbox.ask_question")
    await zhang.send("东门哪一侧？")
    assert zhang.last == say(zhang, "inbox.done_ask", tracking_no=NO)
    assert [k for k, _ in await events_of(world)] == [
        "submitted",
        "accepted",
        "asked",
        "replied",
        "asked",
    ]
    assert (await cast.mail.take())[0][0] == voter.id


async def test_help_lists_the_inbox_for_deputies(cast: Cast) -> None:
    await cast.zhang.send("/help")
    assert "/inbox — " + say(cast.zhang, "cmd.inbox") in cast.zhang.last
    await cast.voter.send("/help")
    assert "/inbox" not in cast.voter.last


async def test_one_conversation_at_a_time_with_the_inbox(cast: Cast) -> None:
    world, zhang, voter = cast.world, cast.zhang, cast.voter
    await zhang.tap_data(Claim(opinion=1).pack())
    await zhang.tap_data(Compose(step="ask", opinion=1).pack())
    await zhang.send("具体在哪里？")
    await cast.mail.take()
    # writing a new opinion, the voter cannot start a reply on top of it
    await voter.send("/opinion")
    await voter.tap(say(voter, "inbox.reply_button"))
    assert refused(voter, "conversation.busy")
    await voter.send("/cancel")
    # typing a reply, the voter cannot open /opinion on top of it
    await voter.tap(say(voter, "inbox.reply_button"))
    await voter.send("/opinion")
    assert voter.last == say(voter, "conversation.busy")
    await voter.send("东门")
    assert voter.last == say(voter, "inbox.done_reply", tracking_no=NO)
    # a rating given in the middle of /opinion is kept, without asking for a comment
    await zhang.tap_data(Compose(step="answer", opinion=1).pack())
    await zhang.send("已修好。")
    await cast.mail.take()
    await voter.tap(say(voter, "rate.solved_yes"))
    await voter.send("/opinion")
    await voter.tap(say(voter, "rate.satisfied"))
    assert voter.last == say(
        voter,
        "rate.thanks_no_comment",
        tracking_no=NO,
        solved=say(voter, "rate.solved_yes"),
        satisfaction=say(voter, "rate.satisfied"),
    )
    assert (await opinion_row(world))["satisfaction"] == "satisfied"
    states = await world.rows("SELECT name FROM conversation_states")
    assert [s["name"] for s in states] == ["opinion"]
    await voter.tap(say(voter, "category.urban"))
    assert voter.last == say(voter, "opinion.ask_text", minutes=VOICE_MAX_SECONDS // 60)
