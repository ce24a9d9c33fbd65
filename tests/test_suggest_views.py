"""What people see of a suggestion: the deputy's /suggestions (paged, as lead or co-signer)
and card; the voter's /my, where an opinion taken into a suggestion says so and opens the
voter's view of it, followed to its answer; a notice's "open"; strangers refused; and an
opinion in a live suggestion no longer nagging its holder for an answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.runtime.buttons.opinion import MyOpinion
from bot.runtime.buttons.suggestions import (
    MySuggestion,
    SuggestionList,
    SuggestionOpen,
    SuggestionText,
    SuggestionWithdrawConfirmed,
)
from storage.db import stamp
from tests.support.inbox import Mail, events_of
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.suggestion_seed import (
    SEEDED_AT,
    seed_assignment,
    seed_department,
    seed_suggestion,
)
from tests.support.suggestions import (
    NUMBER,
    PROPOSALS,
    REASON,
    TITLE,
    draft_suggestion,
    send_opinion,
)
from tests.support.world import World

LANGS = pytest.mark.parametrize("code", ["zh-hans", "en"])
OPINION = "学院路南口公交站没有遮雨棚，下雨天老人候车很不方便。"
SUMMARY = "已于十二月在学院路南口站台增设遮雨棚和座椅，明年春季完善照明。"


async def answer(world: World, suggestion_id: int, department_id: int) -> None:
    """办复 as the answering step leaves it: class A, met the deputy, the summary."""
    at = SEEDED_AT + timedelta(days=20)
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO suggestion_answers (suggestion_id, round, department_id,"
            " outcome_class, met_deputy, met_on, summary, recorded_by, answered_at, on_time)"
            " VALUES (?, 1, ?, 'A', 1, '2026-11-20', ?, 1, ?, 1)",
            (suggestion_id, department_id, SUMMARY, stamp(at)),
        )
        await tx.execute(
            "UPDATE suggestions SET state = 'answered', answered_at = ?, outcome_class = 'A'"
            " WHERE id = ?",
            (stamp(at), suggestion_id),
        )
        await tx.execute(
            "INSERT INTO suggestion_events (suggestion_id, at, actor_id, kind, note)"
            " VALUES (?, ?, 1, 'answered', '')",
            (suggestion_id, stamp(at)),
        )


@LANGS
async def test_a_voter_follows_the_suggestion_from_my_to_its_answer(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    li = await invite_deputy(world, admin, person, 3002, "李四")
    voter = person(2001, "王芳", code)
    tracking_no = await send_opinion(voter, OPINION)
    await draft_suggestion(zhang, opinions=[tracking_no])
    await seed_suggestion(world, li.id, cosigners=[(zhang.id, "invited")])  # no voter's

    await voter.send("/my")
    state = say(voter, "suggestion.state.submitted")
    label = say(voter, "suggestion.my_item", tracking_no=tracking_no, number=NUMBER, state=state)
    assert label in voter.buttons()
    await voter.tap(label)
    assert say(voter, "suggestion.my_line", number=NUMBER, state=state) in voter.last
    await voter.tap(say(voter, "suggestion.my_follow_button"))
    view = voter.last
    assert view.startswith(f"<b>{NUMBER}</b>")
    assert say(voter, "suggestion.card_lead", name="张三") in view
    assert PROPOSALS in view
    # no internal details: not the reason, the source, the publication consent, notes
    for hidden in (REASON, say(voter, "suggestion.card_from_opinions", count=1), "王芳"):
        assert hidden not in view
    assert voter.seen[-1].buttons() == [say(voter, "nav.back")]  # no full text for a voter

    department = await seed_department(world, "区交通委")
    await seed_assignment(world, 1, department)
    await voter.tap(say(voter, "nav.back"))
    await voter.tap(say(voter, "suggestion.my_follow_button"))
    lead = say(voter, "suggestion.department_lead", name="区交通委")
    assert say(voter, "suggestion.card_departments", names=lead) in voter.last
    assert say(voter, "suggestion.state.assigned") in voter.last

    await answer(world, 1, department)
    await voter.tap(say(voter, "nav.back"))
    await voter.tap(say(voter, "suggestion.my_follow_button"))
    assert SUMMARY in voter.last
    assert "已解决或基本解决" in voter.last  # the year's class A label
    assert say(voter, "suggestion.event_answered") in voter.last
    assert say(voter, "suggestion.state.answered") in voter.last

    # another voter's forged taps see nothing of it
    stranger = person(2002, "路人", code)
    await send_opinion(stranger, "社区菜市场门口乱停车，早高峰经常堵住路口。")
    await stranger.tap_data(MySuggestion(opinion=1, page=0).pack())
    assert stranger.last == say(stranger, "error.not_your_record")
    await stranger.tap_data(SuggestionOpen(suggestion=1, page=0, fresh=True).pack())
    assert stranger.last == say(stranger, "error.not_your_record")
    await stranger.tap_data(MySuggestion(opinion=2, page=0).pack())  # theirs, in none
    assert stranger.last == say(stranger, "error.not_your_record")
    await voter.tap_data(SuggestionText(suggestion=1).pack())  # the voter's view instead
    assert voter.last.startswith(f"<b>{NUMBER}</b>") and REASON not in voter.last


@LANGS
async def test_the_deputys_list_and_card(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四")
    zhao = await invite_deputy(world, admin, person, 3003, "赵六")
    await zhang.send("/suggestions")
    assert zhang.last == say(zhang, "suggestion.list_empty")
    for i in range(5):
        await seed_suggestion(world, zhang.id, title=f"关于第{i + 1}件事的建议")
    await seed_suggestion(world, li.id, title="李四领衔的建议", cosigners=[(zhang.id, "confirmed")])
    await seed_suggestion(world, li.id, title="谢绝的建议", cosigners=[(zhang.id, "declined")])
    await zhang.send("/suggestions")
    assert zhang.last == say(zhang, "suggestion.list_title")
    first = [b for b in zhang.buttons() if b.startswith("JY")]
    assert len(first) == 5 and first[0].startswith("JY2026-0006")  # newest first
    assert say(zhang, "suggestion.item_cosigned") in first[0]
    await zhang.tap(say(zhang, "nav.next"))
    second = [b for b in zhang.buttons() if b.startswith("JY")]
    assert [b[:11] for b in second] == ["JY2026-0001"]
    await zhang.tap_data(SuggestionList(page=99).pack())  # past the end: the last page
    assert next(b[:11] for b in zhang.buttons() if b.startswith("JY")) == "JY2026-0001"

    await zhang.tap(second[0])
    card = zhang.last
    assert card.startswith("<b>JY2026-0001</b>")
    assert say(zhang, "suggestion.card_lead", name="张三") in card
    assert say(zhang, "suggestion.card_from_scratch") in card
    assert say(zhang, "suggestion.card_trail", trail="").strip() not in card  # seeded: none
    await zhang.tap(say(zhang, "suggestion.full_text_button"))
    assert "学院路公交站台没有遮雨棚" in zhang.last
    await zhang.tap(say(zhang, "nav.back"))
    assert zhang.last == say(zhang, "suggestion.list_title")

    # a deputy with no part in it is refused; staff may read it
    await zhao.tap_data(SuggestionOpen(suggestion=1, page=0).pack())
    assert zhao.last == say(zhao, "error.not_your_record")
    await zhao.tap_data(SuggestionText(suggestion=1).pack())
    assert zhao.last == say(zhao, "error.not_your_record")
    await zhao.tap_data(SuggestionWithdrawConfirmed(suggestion=1, page=0).pack())
    assert zhao.last == say(zhao, "suggest.not_lead")
    await admin.tap_data(SuggestionOpen(suggestion=1, page=0, fresh=True).pack())
    assert admin.last.startswith("<b>JY2026-0001</b>")
    await zhang.tap_data(SuggestionOpen(suggestion=999, page=0).pack())
    assert zhang.last == say(zhang, "suggestion.unknown")


async def test_a_notice_opens_the_card_below_it(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    li = await invite_deputy(world, admin, person, 3002, "李四")
    await draft_suggestion(zhang)
    await zhang.tap(say(zhang, "suggestion.open_button"))
    await zhang.tap(say(zhang, "suggestion.invite_button"))
    await zhang.tap("李四")
    await Mail(world).take()
    invitation = world.api.chat_messages(li.id)[-1]["text"]
    assert invitation == say(
        li,
        "suggestion.notify_cosign_invite",
        lead="张三",
        number=NUMBER,
        title=TITLE,
        reason=REASON,
        proposals=PROPOSALS,
    )
    out = await li.tap(say(li, "suggestion.open_button"))
    assert [o.kind for o in out] == ["message"]  # a new message: the notice stays
    assert out[0].text.startswith(f"<b>{NUMBER}</b>")
    assert say(li, "suggestion.cosign_confirm_button") in out[0].buttons()
    assert world.api.chat_messages(li.id)[-2]["text"] == invitation


async def test_an_opinion_in_a_live_suggestion_does_not_nag_its_holder(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    voter = person(2001, "王芳")
    tracking_no = await send_opinion(voter, OPINION)
    await draft_suggestion(zhang, opinions=[tracking_no])
    mail = Mail(world)
    await mail.take()
    world.clock.advance(days=16)  # past the 15 days an opinion may wait for its answer
    await world.services.inbox.run_due()
    assert await mail.take() == []
    # withdrawn, it is the deputy's opinion to answer again
    await zhang.tap_data(SuggestionWithdrawConfirmed(suggestion=1, page=0).pack())
    await mail.take()
    await world.services.inbox.run_due()
    reminded = [chat for chat, _ in await mail.take()]
    assert zhang.id in reminded
    # /my: the opinion is open again, its history saying where it was
    await voter.send("/my")
    await voter.tap_data(MyOpinion(opinion=1, page=0).pack())
    assert say(voter, "suggestion.my_follow_button") not in voter.seen[-1].buttons()
    assert (await events_of(world, 1))[-2:] == [
        ("suggested", NUMBER),
        ("suggestion_withdrawn", NUMBER),
    ]
    assert voter.last.count(NUMBER) == 2  # taken into it, and let go by it
