"""An opinion taken into a live suggestion (代表建议) is followed there: its inbox card no longer
offers to release, answer or decline it, those buttons forged or typed on are refused, and
no unclaimed-opinion reminder or digest names it; once the suggestion is withdrawn it is the
deputy's to handle again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.runtime.buttons.inbox import Claim, Compose, InboxOpen, Release, Side
from bot.runtime.buttons.suggestions import SuggestionWithdrawConfirmed
from storage.repos.opinions import OpinionRepo
from tests.support.inbox import Mail, events_of, opinion_row
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.suggestion_seed import seed_suggestion
from tests.support.suggestions import NUMBER, draft_suggestion, send_opinion
from tests.support.world import World

LANGS = pytest.mark.parametrize("code", ["zh-hans", "en"])
OPINION = "学院路南口公交站没有遮雨棚，下雨天老人候车很不方便。"
OTHER = "社区菜市场门口乱停车，早高峰经常堵住路口。"


@LANGS
async def test_an_opinion_in_a_live_suggestion_is_not_handled_from_the_inbox(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    voter = person(2001, "王芳")
    tracking_no = await send_opinion(voter, OPINION)
    await draft_suggestion(zhang, opinions=[tracking_no])
    mail = Mail(world)
    await mail.take()

    await zhang.tap_data(InboxOpen(opinion=1).pack())
    offered = zhang.seen[-1].buttons()
    assert say(zhang, "inbox.ask_button") in offered  # asking the voter still makes sense
    for label in ("handling.answer", "handling.decline", "inbox.release_button"):
        assert say(zhang, label) not in offered
    refusal = say(zhang, "inbox.in_suggestion", tracking_no=tracking_no, number=NUMBER)
    for forged in (
        Release(side=Side.INBOX, opinion=1),
        Compose(step="answer", opinion=1),
        Compose(step="decline", opinion=1),
    ):
        out = await zhang.tap_data(forged.pack())
        assert [o.kind for o in out] == ["alert"]
        assert zhang.last == refusal
    assert await world.conversation_state("reply", zhang.id) is None
    row = await opinion_row(world, 1)
    assert (row["status"], row["holder_id"]) == ("accepted", zhang.id)
    assert await mail.take() == []

    # withdrawn, it is the deputy's again: released from the inbox as any other
    await zhang.tap_data(SuggestionWithdrawConfirmed(suggestion=1, page=0).pack())
    await zhang.tap_data(InboxOpen(opinion=1).pack())
    assert say(zhang, "inbox.release_button") in zhang.seen[-1].buttons()
    await zhang.tap(say(zhang, "inbox.release_button"))
    assert (await opinion_row(world, 1))["status"] == "submitted"
    assert (await events_of(world, 1))[-1][0] == "released"


@LANGS
async def test_an_answer_typed_while_it_was_taken_into_a_suggestion_is_refused(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四")
    tracking_no = await send_opinion(person(2001), OPINION)
    await zhang.tap_data(Claim(opinion=1).pack())
    await zhang.tap_data(Compose(step="answer", opinion=1).pack())
    await seed_suggestion(world, li.id, opinion_ids=[1])  # meanwhile, in 李四's suggestion
    await zhang.send("已经联系公交集团，下个月加装遮雨棚。")
    assert zhang.last == say(zhang, "inbox.in_suggestion", tracking_no=tracking_no, number=NUMBER)
    assert (await opinion_row(world, 1))["status"] == "accepted"
    assert await world.conversation_state("reply", zhang.id) is None


async def test_no_unclaimed_reminder_or_digest_names_an_opinion_in_a_live_suggestion(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    followed = await send_opinion(person(2001), OPINION)
    waiting = await send_opinion(person(2002), OTHER)
    await seed_suggestion(world, zhang.id, opinion_ids=[1])  # unclaimed, yet followed there
    mail = Mail(world)
    await mail.take()

    repo = OpinionRepo(world.db)
    deputy = await repo.deputy(zhang.id)
    assert deputy is not None
    now = world.clock.now()
    async with world.db.transaction() as tx:  # a digest's kind nobody was told with yet
        untold = await repo.untold(tx, deputy, now - timedelta(days=1), now, "check@")
    assert [o.id for o, _ in untold] == [2]

    world.clock.advance(days=4)  # past the 3 days an unclaimed opinion may wait
    await world.services.inbox.run_due()
    reminded = await mail.take()
    assert reminded and all(waiting in text and followed not in text for _, text in reminded)
