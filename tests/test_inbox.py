"""/inbox: deputies claim their station's opinions (exactly one wins), ask the voter through
the bot, answer, decline, release; the voter rates the answer in two steps; staff assign and
act for the holder. Every notification is checked, in both languages, and nobody acts on an
opinion that is not theirs, whatever button they forge."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

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
from bot.runtime.dispatcher import render_params
from tests.support.people import Person
from tests.support.scenarios import ADMIN, invite_deputy, onboard, say
from tests.support.world import World

NO = "HD-2026-000001"
LANGS = {"zh_CN": "zh-hans", "en": "en"}


def t(world: World, locale: str, key: str, **params: object) -> str:
    return world.services.i18n.texts(locale)(key, **params)


def locale_of(person: Person) -> str:
    return "zh_CN" if person.language_code.startswith("zh") else "en"


async def submit(voter: Person, text: str, *, anonymous: bool = True) -> None:
    await onboard(voter)
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    await voter.send(text)
    await voter.tap(say(voter, "opinion.skip"))
    await voter.tap(say(voter, "opinion.skip"))
    await voter.tap(say(voter, "opinion.anonymous" if anonymous else "opinion.show_name"))
    await voter.tap(say(voter, "opinion.send"))
    assert "HD-2026-" in voter.last


class Mail:
    """Every notice the outbox sent since the last look, as (chat, text) in queue order;
    each one is also checked to be in the recipient's chat exactly as rendered."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.last_id = 0

    async def take(self) -> list[tuple[int, str]]:
        world = self.world
        await world.outbox.drain()
        rows = await world.rows(
            "SELECT o.id, o.chat_id, o.message_key, o.params, o.state, o.reason, u.locale"
            " FROM outbox o LEFT JOIN users u ON u.telegram_id = o.chat_id"
            " WHERE o.id > ? AND o.broadcast_id IS NULL ORDER BY o.id",
            (self.last_id,),
        )
        if rows:
            self.last_id = rows[-1]["id"]
        found = []
        for row in rows:
            if (row["state"], row["reason"]) == ("skipped", "withdrawn"):
                continue  # a receipt held back in case the direct reply failed; it did not
            assert row["state"] == "sent", row
            texts = world.services.i18n.texts(row["locale"])
            text = texts(row["message_key"], **render_params(texts, json.loads(row["params"])))
            chat = [o.text for o in world.api.outputs if o.chat_id == row["chat_id"]]
            assert text in chat, (text, chat[-3:])
            found.append((row["chat_id"], text))
        return found


def chat_of(world: World, someone: Person) -> str:
    """Everything this person was ever shown, as one string."""
    return "\n".join(
        [o.text for o in world.api.outputs if o.chat_id == someone.id]
        + [json.dumps(m, ensure_ascii=False) for m in world.api.chat_messages(someone.id)]
    )


async def opinion_row(world: World, opinion_id: int = 1) -> dict[str, Any]:
    return (await world.rows("SELECT * FROM opinions WHERE id = ?", (opinion_id,)))[0]


async def events_of(world: World, opinion_id: int = 1) -> list[tuple[str, str]]:
    rows = await world.rows(
        "SELECT kind, note FROM opinion_events WHERE opinion_id = ? ORDER BY id", (opinion_id,)
    )
    return [(r["kind"], r["note"]) for r in rows]


async def open_in_inbox(deputy: Person, tracking_no: str = NO) -> None:
    await deputy.send("/inbox")
    await deputy.tap(next(b for b in deputy.buttons() if b.startswith(tracking_no)))


def refused(person: Person, key: str, **params: object) -> bool:
    """The person's last answer was this refusal (as an alert or a message)."""
    return person.last == say(person, key, **params)


@pytest.fixture
async def admin(world: World, person) -> Person:
    staff = person(ADMIN, "管理员")
    await onboard(staff)
    return staff


@dataclass
class Cast:
    world: World
    admin: Person
    voter: Person
    zhang: Person
    li: Person
    mail: Mail


async def make_cast(world: World, person, admin: Person) -> Cast:
    """Two deputies of 学院路第一联络站 and an anonymous opinion there (all in Chinese)."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    li = await invite_deputy(world, admin, person, 3002, "李四")
    voter = person(2001, "王芳")
    await submit(voter, "小区路灯坏了一个多月，晚上很不安全。")
    mail = Mail(world)
    assert await mail.take() == []
    return Cast(world, admin, voter, zhang, li, mail)


@pytest.fixture
async def cast(world: World, person, admin) -> Cast:
    return await make_cast(world, person, admin)


# --- the whole loop, in both languages -----------------------------------------------------


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_claim_ask_reply_answer_rate_with_every_notice(
    world: World, person, admin, locale: str
) -> None:
    lang = LANGS[locale]
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=lang)
    other = await invite_deputy(
        world, admin, person, 3009, "赵六", "海淀街道", "海淀街道联络站", language_code=lang
    )
    voter = person(2001, "王芳", lang)
    text = "小区3号楼前的路灯坏了一个多月，晚上出门很不安全。"
    await submit(voter, text)
    mail = Mail(world)
    assert await mail.take() == []

    # the inbox lists the station's opinion, the author stays anonymous to the deputy
    await zhang.send("/inbox")
    assert zhang.last.startswith(say(zhang, "inbox.title", view=say(zhang, "inbox.view_all")))
    item = say(
        zhang,
        "inbox.item",
        tracking_no=NO,
        status=say(zhang, "status.submitted"),
        summary=text[:20] + "…",
    )
    assert item in zhang.buttons()
    await zhang.tap(item)
    card = zhang.last
    assert say(zhang, "inbox.anonymous_voter") in card and text in card
    assert say(zhang, "inbox.unclaimed") in card
    # a deputy of another station sees none of it
    await other.send("/inbox")
    assert say(other, "inbox.empty") in other.last and not any(
        b.startswith(NO) for b in other.buttons()
    )

    # claim: the voter hears who took it on
    await zhang.tap(say(zhang, "inbox.claim_button"))
    assert say(zhang, "inbox.claimed", tracking_no=NO) in [o.text for o in zhang.seen[-3:]]
    assert "张三" in zhang.last and say(zhang, "status.accepted") in zhang.last
    assert await mail.take() == [
        (voter.id, say(voter, "inbox.notify_claimed", tracking_no=NO, deputy="张三"))
    ]

    # the deputy asks; the question reaches the voter with a Reply button, escaped
    await zhang.tap(say(zhang, "inbox.ask_button"))
    assert zhang.last == say(zhang, "inbox.ask_question")
    await zhang.send("是哪一栋楼前的路灯？<几号>")
    assert zhang.last == say(zhang, "inbox.done_ask", tracking_no=NO)
    assert await mail.take() == [
        (
            voter.id,
            say(
                voter,
                "inbox.notify_question",
                tracking_no=NO,
                asker="张三",
                question="是哪一栋楼前的路灯？&lt;几号&gt;",
            ),
        )
    ]

    # the voter replies through the bot; the deputy gets it without the voter's name
    await voter.tap(say(voter, "inbox.reply_button"))
    assert voter.last == say(voter, "inbox.ask_reply", tracking_no=NO)
    await voter.send("3号楼南门")
    assert voter.last == say(voter, "inbox.done_reply", tracking_no=NO)
    relayed = say(
        zhang,
        "inbox.notify_reply",
        tracking_no=NO,
        author=say(zhang, "inbox.anonymous_voter"),
        reply="3号楼南门",
    )
    assert await mail.take() == [(zhang.id, relayed)]
    assert "王芳" not in chat_of(world, zhang)

    # the answer goes to the voter with the first rating question; opening the card from
    # the relayed reply leaves the reply in the chat
    await zhang.tap(say(zhang, "inbox.open_button"))
    assert zhang.last.startswith(f"<b>{NO}</b>")
    assert relayed in [m.get("text") for m in world.api.chat_messages(zhang.id)]
    await zhang.tap(say(zhang, "handling.answer"))
    assert zhang.last == say(zhang, "handling.ask_answer")
    await zhang.send("已联系物业，本周内修好。")
    assert zhang.last == say(zhang, "handling.done_answer", tracking_no=NO)
    assert await mail.take() == [
        (
            voter.id,
            say(voter, "inbox.notify_answered", tracking_no=NO, note="已联系物业，本周内修好。"),
        )
    ]
    assert voter.buttons()[:3] == [
        say(voter, "rate.solved_yes"),
        say(voter, "rate.solved_partly"),
        say(voter, "rate.solved_no"),
    ]

    # two separate questions, then an optional comment
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
        (
            zhang.id,
            say(
                zhang,
                "inbox.notify_rated",
                tracking_no=NO,
                solved=say(zhang, "rate.solved_partly"),
                satisfaction=say(zhang, "rate.basically"),
            ),
        )
    ]
    await voter.send("修得很快，就是晚了点 <谢谢>")
    assert voter.last == say(voter, "rate.done_comment", tracking_no=NO)
    assert await mail.take() == [
        (
            zhang.id,
            say(
                zhang,
                "inbox.notify_comment",
                tracking_no=NO,
                comment="修得很快，就是晚了点 &lt;谢谢&gt;",
            ),
        )
    ]

    row = await opinion_row(world)
    assert (row["status"], row["holder_id"], row["solved"], row["satisfaction"]) == (
        "closed",
        zhang.id,
        "partly",
        "basically",
    )
    assert row["rating_comment"] == "修得很快，就是晚了点 <谢谢>"
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

    # every step is in the voter's /my history, in the voter's language
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
    assert "3号楼南门" in detail and "&lt;几号&gt;" in detail
    assert say(voter, "inbox.holder_line", holder="张三") in detail
    # a rated answer cannot be rated again, even by a replayed button
    await voter.tap_data(RateSatisfaction(opinion=1, satisfaction="satisfied").pack())
    assert refused(voter, "rate.already_rated", tracking_no=NO)
    await voter.tap_data(RateSolved(opinion=1, solved="no").pack())
    assert refused(voter, "rate.already_rated", tracking_no=NO)
    assert (await opinion_row(world))["satisfaction"] == "basically"
    assert await mail.take() == []


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
        (
            cast.voter.id,
            say(cast.voter, "inbox.notify_claimed", tracking_no=NO, deputy=winner.first_name),
        )
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
    assert li.buttons() == [say(li, "nav.back")]
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
        (cast.voter.id, say(cast.voter, "inbox.notify_released", tracking_no=NO))
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
    await zhang.tap_data(Claim(opinion=1).pack())
    await zhang.tap_data(Compose(step="answer", opinion=1).pack())
    await zhang.send("已经修好了，请查看。")
    await cast.mail.take()
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
        (
            voter.id,
            say(
                voter,
                "notify.opinion_declined",
                tracking_no=NO,
                note="属于市级事权，已转市交通委。",
            ),
        )
    ]
    assert (await opinion_row(cast.world))["status"] == "declined"
    await voter.send("/my")
    await voter.tap(next(b for b in voter.buttons() if b.startswith(NO)))
    assert say(voter, "event.declined") + ": 属于市级事权" in voter.last


async def test_not_solved_lets_the_voter_ask_to_look_again_once(cast: Cast) -> None:
    world, zhang, voter = cast.world, cast.zhang, cast.voter
    await zhang.tap_data(Claim(opinion=1).pack())
    await zhang.tap_data(Compose(step="answer", opinion=1).pack())
    await zhang.send("已报修。")
    await cast.mail.take()
    await voter.tap(say(voter, "rate.solved_no"))
    await voter.tap(say(voter, "rate.unsatisfied"))
    assert say(voter, "rate.look_again_button") in voter.buttons()[:2]
    await cast.mail.take()
    await voter.tap(say(voter, "rate.look_again_button"))
    assert voter.last == say(voter, "rate.look_again_sent", tracking_no=NO)
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"], row["looked_again"]) == ("accepted", zhang.id, 1)
    assert (row["solved"], row["satisfaction"]) == (None, None)
    assert await cast.mail.take() == [
        (zhang.id, say(zhang, "inbox.notify_look_again", tracking_no=NO))
    ]
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


async def test_staff_assign_reassign_and_act_for_the_holder(cast: Cast, person) -> None:
    world, admin, zhang, li, voter = cast.world, cast.admin, cast.zhang, cast.li, cast.voter
    zhao = await invite_deputy(world, admin, person, 3009, "赵六", "海淀街道", "海淀街道联络站")
    await cast.mail.take()
    await admin.send("/opinions")
    await admin.tap(next(b for b in admin.buttons() if b.startswith(NO)))
    await admin.tap(say(admin, "inbox.assign_button"))
    # only the deputies of the opinion's station are offered
    assert admin.buttons() == ["张三", "李四", say(admin, "nav.back")]
    await admin.tap("李四")
    assert say(admin, "inbox.assigned", tracking_no=NO, name="李四") in [
        o.text for o in admin.seen[-3:]
    ]
    assert say(admin, "inbox.holder_line", holder="李四") in admin.last
    assert await cast.mail.take() == [
        (li.id, say(li, "inbox.notify_assigned", tracking_no=NO)),
        (voter.id, say(voter, "inbox.notify_claimed", tracking_no=NO, deputy="李四")),
    ]
    # a deputy of another station cannot be given it, even by a forged button
    await admin.tap_data(AssignTo(side=Side.STAFF, opinion=1, deputy=3009).pack())
    assert refused(admin, "inbox.not_station_deputy")
    await admin.tap(say(admin, "inbox.reassign_button"))
    await admin.tap("张三")
    assert await cast.mail.take() == [
        (zhang.id, say(zhang, "inbox.notify_assigned", tracking_no=NO)),
        (
            li.id,
            say(li, "inbox.notify_done_for_you", tracking_no=NO, event=say(li, "event.assigned")),
        ),
    ]
    await li.tap_data(Compose(step="answer", opinion=1).pack())
    assert refused(li, "inbox.not_holder")

    # staff ask the voter from the /opinions card; the reply goes to them and to the holder,
    # named to staff only
    await admin.tap(say(admin, "inbox.ask_button"))
    await admin.send("请问具体位置？")
    assert await cast.mail.take() == [
        (
            voter.id,
            say(
                voter,
                "inbox.notify_question",
                tracking_no=NO,
                asker=say(voter, "inbox.staff_asker"),
                question="请问具体位置？",
            ),
        )
    ]
    await voter.tap(say(voter, "inbox.reply_button"))
    await voter.send("5号楼北侧")
    assert await cast.mail.take() == [
        (
            admin.id,
            say(admin, "inbox.notify_reply", tracking_no=NO, author="王芳", reply="5号楼北侧"),
        ),
        (
            zhang.id,
            say(
                zhang,
                "inbox.notify_reply",
                tracking_no=NO,
                author=say(zhang, "inbox.anonymous_voter"),
                reply="5号楼北侧",
            ),
        ),
    ]
    # staff answer for the holder, who hears of it
    await admin.send("/opinions")
    await admin.tap(next(b for b in admin.buttons() if b.startswith(NO)))
    await admin.tap(say(admin, "handling.answer"))
    await admin.send("已安排维修。")
    assert await cast.mail.take() == [
        (voter.id, say(voter, "inbox.notify_answered", tracking_no=NO, note="已安排维修。")),
        (
            zhang.id,
            say(
                zhang,
                "inbox.notify_done_for_you",
                tracking_no=NO,
                event=say(zhang, "event.answered"),
            ),
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
        (
            zhang.id,
            say(
                zhang,
                "inbox.notify_reply",
                tracking_no=NO,
                author=say(zhang, "inbox.anonymous_voter"),
                reply="就在小区东门。",
            ),
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
    assert voter.last == say(voter, "opinion.ask_text")
