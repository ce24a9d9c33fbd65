"""The visitor's claim link (`start=claim_<code>`): a new voter goes through the consent and
the opinion becomes theirs (their station too, if they had none); a voter with a station
keeps it; the link works once (the same person again: already theirs; anyone else:
refused, nothing changed), until it expires; only a voter may take it (the staff member who
entered it, other staff, deputies and liaisons trying it are refused). Claimed, the opinion is
in /my and its answer and rating reach the visitor. The privacy work's hooks list and erase
the visitor data; a claim erased by /forget or retention says so when opened again, and an
unclaimed code still works after retention."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from bot.demo.botapi import BOT_USERNAME
from bot.runtime.buttons.inbox import Claim, Compose
from storage.repos.desk import DeskRepo
from tests.support.inbox import Mail, events_of, opinion_row
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, onboard, only, say
from tests.support.world import World
from tests.test_desk import at_desk, enter

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
CLAIM_LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=(claim_[A-Za-z0-9_-]+)")
NO = "HD-2026-000001"

# What the visitor reads, written out so a wrong language or a missing catalog fails.
V: dict[str, dict[str, str]] = {
    "zh-hans": {
        "agree": "✅ 同意并继续",
        "claimed": (
            f"✅ 这条意见建议已归入您的账号。\n编号：<b>{NO}</b>\n当前状态：已提交\n"
            "代表受理和答复后会通知您，也可以随时发送 /my 查看进展。"
        ),
        "station": "\n您的联络站已设为学院路第一联络站。",
        "already": f"这条意见建议已经在您的账号里了，编号：<b>{NO}</b>。发送 /my 查看进展。",
        "taken": "这条意见建议已被其他账号认领。如有疑问，请联系联络站工作人员。",
        "unknown": "这个认领链接无效。请核对回执上的二维码或链接，或联系联络站工作人员。",
        "expired": "这个认领链接已于2027年2月24日 10:00过期。请联系联络站工作人员。",
        "own": "这条意见建议是您在接待台代为登记的，只能由来访群众本人认领。",
        "not_voter": (
            "认领链接只供来访群众本人使用。工作人员、人大代表和承办单位联络员的账号不能认领"
            "意见建议，什么也没有改变。"
        ),
        "erased": (
            "这个认领链接已经用过；认领它的账号与这条意见建议之间的关联，已按本人要求或在"
            "保存期满后删除。如需帮助，请联系联络站工作人员。"
        ),
        "claimed_event": "来访群众认领",
    },
    "en": {
        "agree": "✅ I agree",
        "claimed": (
            f"✅ This opinion is now in your account.\nNumber: <b>{NO}</b>\nStatus: submitted\n"
            "You will be told when the deputies take it on and answer it; send /my at any time"
            " to see how it is going."
        ),
        "station": "\nYour station is now 学院路第一联络站.",
        "already": (
            f"This opinion is in your account already, number <b>{NO}</b>. Send /my to see how"
            " it is going."
        ),
        "taken": (
            "This opinion was claimed by another account. If that is wrong, ask the station's"
            " staff."
        ),
        "unknown": (
            "This claim link is not valid. Check the QR code or link on your slip, or ask the"
            " station's staff."
        ),
        "expired": "This claim link expired on Feb 24, 2027 10:00. Please ask the station's staff.",
        "own": "You entered this opinion at the desk for a visitor: only the visitor can claim it.",
        "not_voter": (
            "Claim links are for the visitors themselves: an account of staff, a deputy or a"
            " department liaison cannot claim an opinion. Nothing was changed."
        ),
        "erased": (
            "This claim link was used, and the link between the account that claimed it and the"
            " opinion has since been erased, at that person's request or after the retention"
            " period. If you need help, ask the station's staff."
        ),
        "claimed_event": "claimed by the visitor",
    },
}


async def entered(world: World, staff: Person | None = None) -> str:
    """A visitor's opinion entered at the desk by the admin: the claim link's payload."""
    receipt = (await enter(staff or await at_desk(world)))[0]
    match = CLAIM_LINK.search(receipt.text)
    assert match, receipt.text
    return match.group(1)


async def claim_row(world: World) -> dict[str, Any]:
    rows = await world.rows("SELECT * FROM desk_entries")
    assert len(rows) == 1
    return rows[0]


async def state(world: World) -> list[dict[str, Any]]:
    """What a claim changes."""
    return [
        *(await world.rows("SELECT id, author_id, updated_at FROM opinions")),
        *(await world.rows("SELECT * FROM desk_entries")),
        *(await world.rows("SELECT kind FROM opinion_events")),
        *(await world.rows("SELECT telegram_id, station_id FROM users ORDER BY telegram_id")),
    ]


@LANGS
async def test_a_new_voter_claims_it_through_the_consent(
    world: World, person: Any, lang: str
) -> None:
    v = V[lang]
    payload = await entered(world)
    visitor = person(2001, "Wang" if lang == "en" else "小王", lang)
    greeting = only(await visitor.send(f"/start {payload}"))
    assert v["agree"] in greeting.buttons()
    assert await world.rows("SELECT author_id FROM opinions") == [{"author_id": None}]
    thanks, claimed = await visitor.tap(v["agree"])
    assert thanks.text == say(visitor, "privacy.thanks")
    assert claimed.text == v["claimed"] + v["station"]

    opinion = await opinion_row(world)
    assert opinion["author_id"] == visitor.id and opinion["show_name"] == 0
    entry = await claim_row(world)
    assert entry["claimed_by"] == visitor.id and entry["claimed_at"] is not None
    assert entry["visitor_name"] == "王大爷"  # stays on the desk entry, for staff
    user = await world.user_row(visitor.id)
    assert user["station_id"] == await world.station_id("学院路第一联络站")
    assert user["full_name"] == visitor.first_name  # the account's name is Telegram's
    assert [kind for kind, _ in await events_of(world)] == ["desk_entered", "desk_claimed"]
    # /my lists it, with its history
    listed = only(await visitor.send("/my"))
    [item] = [b for b in listed.buttons() if b.startswith(NO)]
    card = only(await visitor.tap(item))
    assert say(visitor, "event.desk_entered") in card.text and v["claimed_event"] in card.text


@LANGS
async def test_a_voter_with_a_station_keeps_it(world: World, person: Any, lang: str) -> None:
    v = V[lang]
    payload = await entered(world)
    voter = person(2001, "王芳", lang)
    await onboard(voter, "海淀街道", "海淀街道联络站")
    assert only(await voter.send(f"/start {payload}")).text == v["claimed"]
    user = await world.user_row(voter.id)
    assert user["station_id"] == await world.station_id("海淀街道联络站")
    assert (await opinion_row(world))["author_id"] == voter.id


@LANGS
async def test_a_claim_link_used_twice(world: World, person: Any, lang: str) -> None:
    v = V[lang]
    payload = await entered(world)
    first = person(2001, "王芳", lang)
    await onboard(first)
    assert only(await first.send(f"/start {payload}")).text == v["claimed"]
    claimed = await state(world)
    assert only(await first.send(f"/start {payload}")).text == v["already"]
    assert await state(world) == claimed
    other = person(2002, "刘洋", lang)
    await onboard(other)
    before = await state(world)
    assert only(await other.send(f"/start {payload}")).text == v["taken"]
    assert await state(world) == before
    assert (await opinion_row(world))["author_id"] == first.id
    # a stranger opening it goes through the consent, then is refused the same way
    stranger = person(2003, "陈晨", lang)
    await stranger.send(f"/start {payload}")
    _, refused = await stranger.tap(v["agree"])
    assert refused.text == v["taken"]
    assert (await world.user_row(stranger.id))["station_id"] is None


@LANGS
async def test_an_expired_or_unknown_link_is_refused(world: World, person: Any, lang: str) -> None:
    v = V[lang]
    payload = await entered(world)
    voter = person(2001, "王芳", lang)
    await onboard(voter)
    before = await state(world)
    assert only(await voter.send("/start claim_NoSuchCode123456")).text == v["unknown"]
    world.clock.advance(days=90, seconds=1)
    assert only(await voter.send(f"/start {payload}")).text == v["expired"]
    assert await state(world) == before
    assert await world.rows("SELECT author_id FROM opinions") == [{"author_id": None}]


@LANGS
async def test_the_staff_member_who_entered_it_cannot_claim_it(world: World, lang: str) -> None:
    staff = await at_desk(world, lang)
    payload = await entered(world, staff)
    before = await state(world)
    assert only(await staff.send(f"/start {payload}")).text == V[lang]["own"]
    assert await state(world) == before


@LANGS
async def test_the_claimed_opinion_is_followed_like_any_other(
    world: World, person: Any, lang: str
) -> None:
    staff = await at_desk(world)
    zhang = await invite_deputy(world, staff, person, 3001, "张三")
    receipt = (await enter(staff))[0]
    match = CLAIM_LINK.search(receipt.text)
    assert match
    mail = Mail(world)
    await mail.take()
    # answered before anyone claims it: the answer goes to nobody (nobody to tell yet)
    await zhang.tap_data(Claim(opinion=1).pack())
    assert [chat for chat, _ in await mail.take()] == []
    visitor = person(2001, "王芳", lang)
    await visitor.send(f"/start {match.group(1)}")
    await visitor.tap(V[lang]["agree"])
    await zhang.tap_data(Compose(step="answer", opinion=1).pack())
    await zhang.send("路灯已经修好了，感谢您的反映。")
    told = await mail.take()
    answer = say(
        visitor, "inbox.notify_answered", tracking_no=NO, note="路灯已经修好了，感谢您的反映。"
    )
    assert (visitor.id, answer) in told
    # and the rating buttons under it are the visitor's
    await visitor.tap(say(visitor, "rate.solved_yes"))
    await visitor.tap(say(visitor, "rate.satisfied"))
    opinion = await opinion_row(world)
    assert (opinion["status"], opinion["solved"], opinion["satisfaction"]) == (
        "closed",
        "yes",
        "satisfied",
    )


# --- the privacy work's hooks (storage.repos.desk) ----------------------------------------


async def test_the_privacy_hooks_list_and_erase_what_a_claimer_gave(
    world: World, person: Any
) -> None:
    payload = await entered(world)
    voter = person(2001, "王芳")
    await onboard(voter)
    await voter.send(f"/start {payload}")
    repo = DeskRepo(world.db)
    [listed] = await repo.visitor_data_of_author(voter.id)
    assert (listed.visitor_name, listed.visitor_phone) == ("王大爷", "13812345678")
    assert await repo.visitor_data_of_author(voter.id + 1) == []
    async with world.db.transaction() as tx:
        assert await repo.erase_visitor_data_of_author(tx, voter.id, world.clock.now()) == 1
    entry = await claim_row(world)
    assert (entry["visitor_name"], entry["visitor_phone"], entry["claimed_by"]) == ("", "", None)
    assert entry["erased_at"] is not None and entry["claimed_at"] is not None
    assert await repo.visitor_data_of_author(voter.id) == []
    # the code stays used, and says why it no longer leads to an account
    assert only(await voter.send(f"/start {payload}")).text == V["zh-hans"]["erased"]


@pytest.mark.world(claim_ttl_days=3650)
async def test_a_claim_still_works_after_retention_erased_the_visitor_data(
    world: World, person: Any
) -> None:
    payload = await entered(world)
    staff = await world.services.users.get(1)
    assert staff is not None
    await world.services.opinions.handle(staff, 1, "decline", "不属于人大代表的职责范围。")
    repo = DeskRepo(world.db)
    now = world.clock.now()
    async with world.db.transaction() as tx:  # not closed long enough yet
        assert (
            await repo.erase_visitor_data_closed_before(tx, now - timedelta(days=1), now, 10) == 0
        )
    world.clock.advance(days=740)
    now = world.clock.now()
    async with world.db.transaction() as tx:
        assert (
            await repo.erase_visitor_data_closed_before(tx, now - timedelta(days=730), now, 10) == 1
        )
        assert (
            await repo.erase_visitor_data_closed_before(tx, now - timedelta(days=730), now, 10) == 0
        )
    entry = await claim_row(world)
    assert (entry["visitor_name"], entry["visitor_phone"]) == ("", "")
    voter = person(2001, "王芳")
    await onboard(voter)
    claimed = only(await voter.send(f"/start {payload}")).text
    assert claimed == (
        f"✅ 这条意见建议已归入您的账号。\n编号：<b>{NO}</b>\n当前状态：不予受理\n"
        "发送 /my 查看办理经过和答复。"
    )
    assert (await opinion_row(world))["author_id"] == voter.id


@LANGS
async def test_only_a_voter_may_claim(world: World, person: Any, lang: str) -> None:
    v = V[lang]
    staff = await at_desk(world)
    deputy = await invite_deputy(world, staff, person, 3001, "张三", language_code=lang)
    payload = await entered(world, staff)
    colleague = person(2002, "同事", lang)
    liaison = person(2003, "联络员", lang)
    for someone in (colleague, liaison):
        await onboard(someone)
    async with world.db.transaction() as tx:  # seeded: staff and a liaison
        await tx.execute("UPDATE users SET role = 'staff' WHERE telegram_id = 2002")
        await tx.execute("UPDATE users SET role = 'liaison' WHERE telegram_id = 2003")
    before = await state(world)
    for trying in (deputy, colleague, liaison):
        assert only(await trying.send(f"/start {payload}")).text == v["not_voter"], trying.id
    assert await state(world) == before
    # the code still works for the visitor
    visitor = person(2001, "王芳", lang)
    await onboard(visitor)
    assert only(await visitor.send(f"/start {payload}")).text == v["claimed"]


@LANGS
async def test_a_claim_erased_by_forget_or_retention_says_so(
    world: World, person: Any, lang: str
) -> None:
    v = V[lang]
    staff = await at_desk(world)
    payload = await entered(world, staff)
    voter = person(2001, "王芳", lang)
    await onboard(voter)
    assert only(await voter.send(f"/start {payload}")).text == v["claimed"]
    # retention: the opinion declined long ago, its desk entry erased with the account's link
    admin = await world.services.users.get(staff.id)
    assert admin is not None
    await world.services.opinions.handle(admin, 1, "decline", "不属于人大代表的职责范围。")
    world.clock.advance(days=740)
    now = world.clock.now()
    async with world.db.transaction() as tx:
        erased = await DeskRepo(world.db).erase_visitor_data_closed_before(
            tx, now - timedelta(days=730), now, 10
        )
    assert erased == 1
    other = person(2002, "刘洋", lang)
    await onboard(other)
    before = await state(world)
    assert only(await voter.send(f"/start {payload}")).text == v["erased"]  # not "taken"
    assert only(await other.send(f"/start {payload}")).text == v["erased"]
    assert await state(world) == before
