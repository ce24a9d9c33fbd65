"""Co-signers (联名) and withdrawal, the second step of the suggestion loop: the lead deputy
invites deputies (their own station's first, or found by name), each confirms or declines
from the invitation's buttons, only confirmed ones count; the lead withdraws before 交办 and
the voters and co-signers are told. Every refusal, forged button and late answer too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.runtime.buttons.suggestions import (
    CosignAnswer,
    CosignInvite,
    CosignPick,
    SuggestionWithdraw,
    SuggestionWithdrawConfirmed,
)
from bot.services.suggestions import CosignChoice
from tests.support.inbox import Mail, events_of, notice, opinion_row
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.suggestion_seed import seed_assignment, seed_department
from tests.support.suggestions import NUMBER, TITLE, draft_suggestion, send_opinion
from tests.support.world import World

LANGS = pytest.mark.parametrize("code", ["zh-hans", "en"])
OPINION = "学院路南口公交站没有遮雨棚，下雨天老人候车很不方便。"


@dataclass
class Deputies:
    zhang: Person  # the lead, 学院路第一联络站
    li: Person  # the same station
    wang: Person  # 学院路第二联络站
    zhao: Person  # 海淀街道联络站
    voter: Person
    mail: Mail


async def deputies(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> Deputies:
    """Four deputies and a voter whose opinion 张三 takes into suggestion JY2026-0001."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四", language_code=code)
    wang = await invite_deputy(
        world, admin, person, 3003, "王五", station="学院路第二联络站", language_code=code
    )
    zhao = await invite_deputy(
        world, admin, person, 3004, "赵六", "海淀街道", "海淀街道联络站", language_code=code
    )
    voter = person(2001, "王芳", code)
    tracking_no = await send_opinion(voter, OPINION)
    await draft_suggestion(zhang, opinions=[tracking_no])
    mail = Mail(world)
    await mail.take()
    return Deputies(zhang, li, wang, zhao, voter, mail)


async def open_card(deputy: Person) -> None:
    await deputy.send("/suggestions")
    await deputy.tap(next(b for b in deputy.buttons() if b.startswith(NUMBER)))


async def cosigners(world: World) -> dict[int, str]:
    rows = await world.rows("SELECT deputy_id, state FROM suggestion_cosigners")
    return {r["deputy_id"]: r["state"] for r in rows}


def invitation(deputy: Person) -> tuple[int, str]:
    return notice(
        deputy,
        "suggestion.notify_cosign_invite",
        lead="张三",
        number=NUMBER,
        title=TITLE,
        reason="学院路南口公交站台没有遮雨棚，雨天候车的老人和学生只能淋雨，居民多次反映。",
        proposals="一、在学院路南口站台增设遮雨棚；二、增设候车座椅；三、完善站台照明。",
    )


@LANGS
async def test_co_signed(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    """Loop step 2: 李四 (the lead's station, offered first) and 王五 (found by name) are
    invited; 李四 confirms and 王五 declines from the invitation; only 李四 counts."""
    d = await deputies(world, person, admin, code)
    zhang = d.zhang
    await open_card(zhang)
    assert zhang.last.startswith(f"<b>{NUMBER}</b>")
    await zhang.tap(say(zhang, "suggestion.invite_button"))
    assert zhang.last == say(zhang, "suggestion.cosign_pick", number=NUMBER)
    names = [b for b in zhang.buttons() if b in ("李四", "王五", "赵六", "张三")]
    assert names == ["李四", "王五", "赵六"]  # the lead's own station first; never the lead
    await zhang.tap("李四")
    assert zhang.last == (
        say(zhang, "suggestion.invited", name="李四")
        + "\n\n"
        + say(zhang, "suggestion.cosign_pick", number=NUMBER)
    )
    search, back = say(zhang, "suggestion.search_button"), say(zhang, "nav.back")
    assert zhang.seen[-1].buttons() == ["王五", "赵六", search, back]  # 李四 invited already

    await zhang.tap(say(zhang, "suggestion.search_button"))
    assert zhang.last == say(zhang, "suggestion.search_ask")
    await zhang.send_sticker()
    assert zhang.last == say(zhang, "suggestion.search_send_text")
    await zhang.send("\u200b \u3000")  # nothing but invisible and blank characters
    assert zhang.last == say(zhang, "suggest.search_empty")
    assert await world.conversation_state("cosign_search", zhang.id) == "typing"
    await zhang.send("五")
    assert zhang.last == say(zhang, "suggestion.search_found", count=1)
    await zhang.tap("王五")
    assert await cosigners(world) == {d.li.id: "invited", d.wang.id: "invited"}

    told = await d.mail.take()
    assert told == [invitation(d.li), invitation(d.wang)]
    # 李四 confirms from the invitation; 王五 declines from theirs
    await d.li.tap(say(d.li, "suggestion.cosign_confirm_button"))
    assert say(d.li, "suggestion.cosign_confirmed", number=NUMBER) in d.li.last
    await d.wang.tap(say(d.wang, "suggestion.cosign_decline_button"))
    assert say(d.wang, "suggestion.cosign_declined", number=NUMBER) in d.wang.last
    assert await cosigners(world) == {d.li.id: "confirmed", d.wang.id: "declined"}
    told = await d.mail.take()
    assert told == [
        notice(
            zhang, "suggestion.notify_cosign_confirmed", deputy="李四", number=NUMBER, title=TITLE
        ),
        notice(
            zhang, "suggestion.notify_cosign_declined", deputy="王五", number=NUMBER, title=TITLE
        ),
    ]

    # the lead sees every invitation with its answer; the co-signer only who counts
    await open_card(zhang)
    separator = say(zhang, "suggestion.list_separator")
    lead_view = separator.join(
        [
            say(
                zhang,
                "suggestion.cosigner_with_state",
                name="李四",
                state=say(zhang, "suggestion.cosigner_confirmed"),
            ),
            say(
                zhang,
                "suggestion.cosigner_with_state",
                name="王五",
                state=say(zhang, "suggestion.cosigner_declined"),
            ),
        ]
    )
    assert say(zhang, "suggestion.card_cosigners", names=lead_view) in zhang.last
    await open_card(d.li)
    assert say(d.li, "suggestion.card_cosigners", names="李四") in d.li.last
    assert say(d.li, "suggestion.item_cosigned") not in d.li.last
    # confirmed: nothing to do but read it (no invitations, no withdrawal)
    assert d.li.seen[-1].buttons() == [
        say(d.li, "suggestion.full_text_button"),
        say(d.li, "nav.back"),
    ]
    kinds = await world.rows("SELECT kind, note FROM suggestion_events ORDER BY id")
    assert [(r["kind"], r["note"]) for r in kinds] == [
        ("submitted", ""),
        ("cosigner_invited", "李四"),
        ("cosigner_invited", "王五"),
        ("cosigner_confirmed", "李四"),
        ("cosigner_declined", "王五"),
    ]


@LANGS
async def test_co_signing_refusals(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    d = await deputies(world, person, admin, code)
    zhang, li = d.zhang, d.li
    sid = 1
    for deputy_id, key, params in [
        (zhang.id, "suggest.cosign_self", {}),
        (d.voter.id, "suggest.cosign_not_deputy", {}),
        (999, "suggest.cosign_not_deputy", {}),
    ]:
        out = await zhang.tap_data(CosignInvite(suggestion=sid, deputy=deputy_id, page=0).pack())
        assert [o.kind for o in out] == ["alert"]
        assert zhang.last == say(zhang, key, **params)
    await zhang.tap_data(CosignInvite(suggestion=sid, deputy=li.id, page=0).pack())
    await zhang.tap_data(CosignInvite(suggestion=sid, deputy=li.id, page=0).pack())
    assert zhang.last == say(zhang, "suggest.cosign_already_invited", name="李四")
    await zhang.tap_data(CosignInvite(suggestion=99, deputy=li.id, page=0).pack())
    assert zhang.last == say(zhang, "suggestion.unknown")

    # not the lead: a co-signer's forged invitations and withdrawal are refused
    for data in (
        CosignPick(suggestion=sid, page=0),
        CosignInvite(suggestion=sid, deputy=d.wang.id, page=0),
        SuggestionWithdraw(suggestion=sid, page=0),
        SuggestionWithdrawConfirmed(suggestion=sid, page=0),
    ):
        await li.tap_data(data.pack())
        assert li.last == say(li, "suggest.not_lead")
    # an invitation nobody sent, and one answered twice
    await d.zhao.tap_data(CosignAnswer(suggestion=sid, choice=CosignChoice.CONFIRM).pack())
    assert d.zhao.last == say(d.zhao, "suggest.not_invited")
    await d.voter.tap_data(CosignAnswer(suggestion=sid, choice=CosignChoice.CONFIRM).pack())
    assert d.voter.last == say(d.voter, "error.forbidden")
    await li.tap_data(CosignAnswer(suggestion=sid, choice=CosignChoice.CONFIRM).pack())
    await li.tap_data(CosignAnswer(suggestion=sid, choice=CosignChoice.DECLINE).pack())
    assert li.last == say(li, "suggest.cosign_already_confirmed", number=NUMBER)
    await li.tap_data(f"{CosignAnswer.prefix}:{sid}:maybe")
    assert li.last == say(li, "error.stale_button")
    assert await cosigners(world) == {li.id: "confirmed"}

    # after 交办 nothing about co-signers changes, and it cannot be withdrawn
    await zhang.tap_data(CosignInvite(suggestion=sid, deputy=d.wang.id, page=0).pack())
    await seed_assignment(world, sid, await seed_department(world, "区交通委"))
    await d.wang.tap_data(CosignAnswer(suggestion=sid, choice=CosignChoice.CONFIRM).pack())
    assert d.wang.last == say(d.wang, "suggest.cosign_too_late", number=NUMBER)
    await zhang.tap_data(CosignInvite(suggestion=sid, deputy=d.zhao.id, page=0).pack())
    assert zhang.last == say(zhang, "suggest.cosign_too_late", number=NUMBER)
    await zhang.tap_data(SuggestionWithdraw(suggestion=sid, page=0).pack())
    assert zhang.last == say(zhang, "suggest.withdraw_too_late", number=NUMBER)
    await zhang.tap_data(SuggestionWithdrawConfirmed(suggestion=sid, page=0).pack())
    assert zhang.last == say(zhang, "suggest.withdraw_too_late", number=NUMBER)
    assert await cosigners(world) == {li.id: "confirmed", d.wang.id: "invited"}
    state = await world.rows("SELECT state FROM suggestions")
    assert state == [{"state": "assigned"}]
    await open_card(zhang)
    assert say(zhang, "suggestion.withdraw_button") not in zhang.buttons()
    assert say(zhang, "suggestion.invite_button") not in zhang.buttons()


@LANGS
async def test_withdrawn_before_assignment(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    d = await deputies(world, person, admin, code)
    zhang = d.zhang
    await zhang.tap_data(CosignInvite(suggestion=1, deputy=d.li.id, page=0).pack())
    await zhang.tap_data(CosignInvite(suggestion=1, deputy=d.wang.id, page=0).pack())
    await d.li.tap_data(CosignAnswer(suggestion=1, choice=CosignChoice.CONFIRM).pack())
    await d.mail.take()

    await open_card(zhang)
    await zhang.tap(say(zhang, "suggestion.withdraw_button"))
    state = say(zhang, "suggestion.state.submitted")
    head = say(zhang, "suggestion.head", number=NUMBER, title=TITLE, state=state)
    assert zhang.last == say(zhang, "suggestion.withdraw_confirm", head=head)
    await zhang.tap(say(zhang, "suggestion.withdraw_no"))
    assert (await world.rows("SELECT state FROM suggestions"))[0]["state"] == "submitted"
    await zhang.tap(say(zhang, "suggestion.withdraw_button"))
    await zhang.tap(say(zhang, "suggestion.withdraw_yes"))
    assert zhang.last.startswith(say(zhang, "suggestion.withdrawn", number=NUMBER))
    assert say(zhang, "suggestion.state.withdrawn") in zhang.last
    assert zhang.seen[-1].buttons() == [
        say(zhang, "suggestion.full_text_button"),
        say(zhang, "nav.back"),
    ]
    [row] = await world.rows("SELECT state, withdrawn_at FROM suggestions")
    assert row["state"] == "withdrawn" and row["withdrawn_at"] is not None

    told = await d.mail.take()
    assert told == [
        notice(
            d.voter, "suggestion.notify_withdrawn_voter", deputy="张三", number=NUMBER, title=TITLE
        ),
        notice(
            d.li, "suggestion.notify_withdrawn_cosigner", lead="张三", number=NUMBER, title=TITLE
        ),
        notice(
            d.wang, "suggestion.notify_withdrawn_cosigner", lead="张三", number=NUMBER, title=TITLE
        ),
    ]
    # an invitation answered after the withdrawal is refused; withdrawing twice too
    await d.wang.tap(say(d.wang, "suggestion.cosign_confirm_button"))
    assert d.wang.last == say(d.wang, "suggest.cosign_withdrawn", number=NUMBER)
    await zhang.tap_data(SuggestionWithdrawConfirmed(suggestion=1, page=0).pack())
    assert zhang.last == say(zhang, "suggest.no_longer_open", number=NUMBER)
    events = await world.rows("SELECT kind FROM suggestion_events WHERE kind = 'withdrawn'")
    assert len(events) == 1

    # its opinion is let go: open, still the lead's, its history saying where it was; the
    # lead may take it into another suggestion, and it is among the similar ones again
    assert await world.rows("SELECT * FROM suggestion_opinions") == []
    let_go = await opinion_row(world, 1)
    assert (let_go["status"], let_go["holder_id"]) == ("accepted", zhang.id)
    assert (await events_of(world, 1))[-1] == ("suggestion_withdrawn", NUMBER)
    tracking_no = let_go["tracking_no"]
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    assert tracking_no in " ".join(zhang.seen[-1].buttons())
    await zhang.tap(say(zhang, "suggest.cancel_button"))
    alike = await send_opinion(person(2002), "学院路南口公交站台缺少遮雨棚，雨天老人等车很辛苦。")
    [row] = await world.rows("SELECT id FROM opinions WHERE tracking_no = ?", (alike,))
    matches = await world.services.similar_opinions.like(row["id"])
    assert 1 in {m.opinion.id for m in matches.matches}
