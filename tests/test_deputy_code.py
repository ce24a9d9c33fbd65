"""A deputy's own code (代表码): /mycode sends a QR photo that reads as the deputy's link, with
a caption naming them; the code is made once (two asks, even at once, make one) and may be
replaced, after which the old link opens nothing. A voter who opens the link meets the
deputy: a new voter through the consent gets the deputy's station; one at that station
already is told so; one with another station is asked (switch, or keep theirs). Staff and
deputies only see the card. Unknown, replaced and forged codes are refused; the deputy is
never told who opened their code."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from bot.demo.botapi import BOT_USERNAME, Output
from bot.runtime.buttons.mycode import CodeStation
from tests.support.opinions import T, to_preview
from tests.support.people import Person
from tests.support.scenarios import (
    INVITE_LINK,
    agree,
    consented_admin,
    invite_deputy,
    onboard,
    only,
    say,
)
from tests.support.world import World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
CODE_LINK = re.compile(rf"^https://t\.me/{BOT_USERNAME}\?start=dep_([A-Za-z0-9_-]{{16}})$")
DEPUTY_ID = 101
HOME = "学院路第一联络站"  # the deputy's station
OTHER = "海淀街道联络站"

# What people read, written out so a wrong language or a missing catalog fails.
CARD = {
    "zh-hans": "👤 <b>王芳</b>代表，学院路第一联络站（学院路街道）。接待时间见 /schedule。\n\n",
    "en": "👤 Deputy <b>王芳</b>, 学院路第一联络站 (学院路街道). Reception hours: /schedule.\n\n",
}
V: dict[str, dict[str, str]] = {
    "zh-hans": {
        "caption": (
            "<b>王芳</b>代表的代表码\n学院路第一联络站\n{link}\n\n"
            "选民扫描二维码或打开链接后，联络站即设为学院路第一联络站，下次提意见时可以直接"
            "写给您。您不会知道是谁打开了它。"
        ),
        "agree": "✅ 同意并继续",
        "bound": CARD["zh-hans"]
        + "您的联络站已设为学院路第一联络站；下次提意见时可以直接写给王芳代表。",
        "same": CARD["zh-hans"]
        + "学院路第一联络站就是您的联络站；下次提意见时可以直接写给王芳代表。",
        "ask": "您现在的联络站是海淀街道联络站，王芳代表在学院路第一联络站。"
        "要把联络站改为学院路第一联络站吗？",
        "switch": "改为学院路第一联络站",
        "keep": "保留海淀街道联络站",
        "kept": "好的，您的联络站仍是海淀街道联络站。",
        "not_voter": CARD["zh-hans"] + "代表码是给选民用的：您的账号没有任何改变。",
        "unknown": "这个代表码无效，或已被代表换成新码。请向代表索取现在的二维码或链接。",
        "renew": "🔄 换一个新码",
        "renew_ask": (
            "换成新码后，旧的二维码和链接（包括已印发的）将不能再用；已经通过旧码设好联络站的"
            "选民不受影响。确定换码吗？"
        ),
        "renew_confirm": "✅ 确定换码",
        "renew_cancel": "保留现在的代表码",
        "renew_cancelled": "好的，代表码没有改变。",
        "renewed": "✅ 已换成新码，旧的二维码和链接已失效。新的代表码如下。",
        "renewed_already": "这个代表码已经换过了。发送 /mycode 查看现在的代表码。",
        "forbidden": "您没有权限进行此操作。",
        "stale": "这个按钮已失效，请重新操作。",
    },
    "en": {
        "caption": (
            "Deputy <b>王芳</b>'s code\n学院路第一联络站\n{link}\n\n"
            "A voter who scans the QR code or opens the link gets 学院路第一联络站 as their"
            " station and can address their next opinion to you by name. You are not told who"
            " opened it."
        ),
        "agree": "✅ I agree",
        "bound": CARD["en"] + "Your station is now 学院路第一联络站; your next opinion can go"
        " to deputy 王芳 by name.",
        "same": CARD["en"] + "学院路第一联络站 is your station already; your next opinion can"
        " go to deputy 王芳 by name.",
        "ask": "Your station now is 海淀街道联络站; deputy 王芳 serves at"
        " 学院路第一联络站. Make 学院路第一联络站 your station?",
        "switch": "Switch to 学院路第一联络站",
        "keep": "Keep 海淀街道联络站",
        "kept": "All right: your station stays 海淀街道联络站.",
        "not_voter": CARD["en"]
        + "A deputy's code is for voters: nothing about your account was changed.",
        "unknown": (
            "This deputy's code is not valid, or the deputy has replaced it. Ask the deputy for"
            " their current QR code or link."
        ),
        "renew": "🔄 New code",
        "renew_ask": (
            "With a new code, the old QR code and link (printed ones too) stop working; voters"
            " who already met you through the old one keep their station. Make a new code?"
        ),
        "renew_confirm": "✅ Make a new code",
        "renew_cancel": "Keep the current code",
        "renew_cancelled": "All right: your code is unchanged.",
        "renewed": (
            "✅ New code made: the old QR code and link no longer work. Here is the new one."
        ),
        "renewed_already": "This code was replaced already. Send /mycode to see your current one.",
        "forbidden": "You are not allowed to do that.",
        "stale": "This button is no longer valid. Please start again.",
    },
}

MakePerson = Callable[..., Person]
REMOVE_KEY = {"remove_keyboard": True}


def decoded(png: bytes | None) -> list[str]:
    """What a QR reader finds in an image (zxing-cpp, not the encoder under test)."""
    assert png is not None
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


async def deputy_in(world: World, person: MakePerson, lang: str = "zh-hans") -> Person:
    """王芳, a deputy of 学院路第一联络站, made the real way."""
    admin = await consented_admin(world, lang)
    return await invite_deputy(world, admin, person, DEPUTY_ID, "王芳", language_code=lang)


async def code_of(deputy: Person) -> tuple[Output, str]:
    """/mycode: the photo sent, and the link its QR code reads as."""
    photo = only(await deputy.send("/mycode"))
    assert photo.kind == "photo", photo
    [link] = decoded(photo.content)
    assert CODE_LINK.match(link), link
    return photo, link


def payload(link: str) -> str:
    return link.rsplit("=", 1)[1]


async def asked(voter: Person, link: str) -> Output:
    """A voter of another station opens the link: the card (which takes any location key
    away), then the question with its buttons on a message of its own."""
    card, question = await voter.send(f"/start {payload(link)}")
    assert (card.text, card.markup) == (CARD[voter.language_code].rstrip(), REMOVE_KEY)
    return question


async def answered(voter: Person, label: str) -> Output:
    """The voter taps switch or keep: the question loses its buttons, the answer is new."""
    settled, answer = await voter.tap(label)
    assert settled.kind == "edit" and settled.buttons() == []
    assert answer.kind == "message" and answer.markup == REMOVE_KEY
    return answer


async def met(world: World, user_id: int) -> tuple[int | None, int | None]:
    """The voter's station and the deputy they met."""
    row = await world.user_row(user_id)
    return row["station_id"], row["met_deputy_id"]


async def offered(world: World, user_id: int) -> int | None:
    """The deputy the voter's next opinion offers (the opinion flow's own question)."""
    voter = await world.services.users.get(user_id)
    assert voter is not None
    deputy = await world.services.deputy_codes.offered_deputy(voter)
    return None if deputy is None else deputy.user_id


async def sent_to(world: World, chat_id: int) -> list[dict[str, Any]]:
    """What is queued for a chat, command menus aside."""
    return await world.rows(
        "SELECT message_key FROM outbox WHERE chat_id = ? AND sets_menu = 0", (chat_id,)
    )


# --- the deputy's side: /mycode ------------------------------------------------------------


@LANGS
async def test_a_deputy_gets_their_code_as_a_qr_photo(
    world: World, person: MakePerson, lang: str
) -> None:
    deputy = await deputy_in(world, person, lang)
    photo, link = await code_of(deputy)
    assert photo.text == V[lang]["caption"].format(link=link)
    assert photo.buttons() == [V[lang]["renew"]]
    [row] = await world.rows("SELECT code FROM deputies WHERE user_id = ?", (DEPUTY_ID,))
    assert link.endswith(f"=dep_{row['code']}")
    # asked again: the same code, the same link
    again, link_again = await code_of(deputy)
    assert link_again == link and again.text == photo.text
    assert await world.rows("SELECT code FROM deputies") == [row]


async def test_two_asks_at_once_make_one_code(world: World, person: MakePerson) -> None:
    await deputy_in(world, person)
    account = await world.services.users.get(DEPUTY_ID)
    assert account is not None
    codes = world.services.deputy_codes
    first, second = await asyncio.gather(codes.code_of(account), codes.code_of(account))
    assert first.code == second.code
    assert await world.rows("SELECT code FROM deputies") == [{"code": first.code}]


async def test_codes_differ_between_deputies(world: World, person: MakePerson) -> None:
    deputy = await deputy_in(world, person)
    admin = await consented_admin(world)
    other = await invite_deputy(world, admin, person, 102, "李明", "海淀街道", OTHER)
    _, mine = await code_of(deputy)
    _, theirs = await code_of(other)
    assert mine != theirs


@LANGS
async def test_mycode_is_for_deputies_only(world: World, person: MakePerson, lang: str) -> None:
    await deputy_in(world, person, lang)
    voter = person(2001, "小李", lang)
    await onboard(voter)
    assert only(await voter.send("/mycode")).text == V[lang]["forbidden"]
    admin = await consented_admin(world, lang)
    assert only(await admin.send("/mycode")).text == V[lang]["forbidden"]
    assert await world.rows("SELECT code FROM deputies") == [{"code": None}]


@LANGS
async def test_a_new_code_replaces_the_old_one(world: World, person: MakePerson, lang: str) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person, lang)
    _, old = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await voter.send(f"/start {payload(old)}")
    await voter.tap(v["agree"])
    home = await world.station_id(HOME)
    assert await met(world, voter.id) == (home, DEPUTY_ID)

    # asked first; keeping it changes nothing
    assert only(await deputy.tap(v["renew"])).text == v["renew_ask"]
    assert deputy.buttons()[:2] == [v["renew_confirm"], v["renew_cancel"]]
    cancelled = only(await deputy.tap(v["renew_cancel"]))
    assert (cancelled.kind, cancelled.text) == ("edit", v["renew_cancelled"])
    assert (await code_of(deputy))[1] == old

    await deputy.tap(v["renew"])
    renewed, photo = await deputy.tap(v["renew_confirm"])
    assert (renewed.kind, renewed.text) == ("edit", v["renewed"])
    assert photo.kind == "photo"
    [new] = decoded(photo.content)
    assert CODE_LINK.match(new) and new != old
    assert photo.text == v["caption"].format(link=new)
    assert (await code_of(deputy))[1] == new
    # the old link opens nothing; the voter who met the deputy through it keeps what it gave
    late = person(2002, "小张", lang)
    await onboard(late, "海淀街道", OTHER)
    assert only(await late.send(f"/start {payload(old)}")).text == v["unknown"]
    assert await met(world, late.id) == (await world.station_id(OTHER), None)
    assert await met(world, voter.id) == (home, DEPUTY_ID)
    # the new one works
    assert (await asked(late, new)).text == v["ask"]


@LANGS
async def test_a_second_tap_on_the_new_code_makes_no_other(
    world: World, person: MakePerson, lang: str
) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person, lang)
    await code_of(deputy)
    await deputy.tap(v["renew"])
    message, data = deputy._find(v["renew_confirm"])
    await deputy.tap_data(data, message)
    [made] = await world.rows("SELECT code FROM deputies")
    again = only(await deputy.tap_data(data, message))
    assert (again.kind, again.show_alert, again.text) == ("alert", True, v["renewed_already"])
    assert await world.rows("SELECT code FROM deputies") == [made]


@LANGS
async def test_only_the_deputy_may_replace_their_code(
    world: World, person: MakePerson, lang: str
) -> None:
    deputy = await deputy_in(world, person)
    photo, _ = await code_of(deputy)
    [code] = await world.rows("SELECT code FROM deputies")
    confirm = next(
        b["callback_data"]
        for row in (photo.markup or {})["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("dc:")
    ).replace("dc:ask:", "dc:yes:")
    voter = person(2001, "小李", lang)
    await onboard(voter)
    refused = only(await voter.tap_data(confirm))
    assert (refused.kind, refused.text) == ("alert", V[lang]["forbidden"])
    assert await world.rows("SELECT code FROM deputies") == [code]


# --- the voter's side: the link opened -------------------------------------------------------


@LANGS
async def test_a_new_voter_meets_the_deputy_through_the_consent(
    world: World, person: MakePerson, lang: str
) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    told_before = await sent_to(world, DEPUTY_ID)
    deputy_saw = len(deputy.seen)

    stranger = person(2001, "小李", lang)
    greeting = only(await stranger.send(f"/start {payload(link)}"))
    assert v["agree"] in greeting.buttons()
    assert await met(world, stranger.id) == (None, None)
    thanks, card = await stranger.tap(v["agree"])
    assert thanks.text == say(stranger, "privacy.thanks")
    assert card.text == v["bound"] and card.buttons() == []
    home = await world.station_id(HOME)
    assert await met(world, stranger.id) == (home, DEPUTY_ID)
    assert await offered(world, stranger.id) == DEPUTY_ID
    # the deputy is told nothing of who opened their code
    assert await sent_to(world, DEPUTY_ID) == told_before
    assert len(deputy.seen) == deputy_saw
    # the station is theirs from now on, as if picked
    assert only(await stranger.send("/start")).text == say(stranger, "start.welcome_back")


@LANGS
async def test_a_voter_of_the_deputys_station_is_not_asked(
    world: World, person: MakePerson, lang: str
) -> None:
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await onboard(voter, "学院路街道", HOME)
    answer = only(await voter.send(f"/start {payload(link)}"))
    assert answer.text == V[lang]["same"] and answer.buttons() == []
    assert await met(world, voter.id) == (await world.station_id(HOME), DEPUTY_ID)
    assert await offered(world, voter.id) == DEPUTY_ID


@LANGS
async def test_a_voter_of_another_station_switches(
    world: World, person: MakePerson, lang: str
) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await onboard(voter, "海淀街道", OTHER)
    question = await asked(voter, link)
    assert question.text == v["ask"]
    assert question.buttons() == [v["switch"], v["keep"]]
    assert await met(world, voter.id) == (await world.station_id(OTHER), None)

    message, data = voter._find(v["switch"])
    switched = await answered(voter, v["switch"])
    assert switched.text == v["bound"]
    assert switched.buttons() == [] and v["switch"] not in voter.buttons()
    home = await world.station_id(HOME)
    assert await met(world, voter.id) == (home, DEPUTY_ID)
    assert await offered(world, voter.id) == DEPUTY_ID
    # the same tap again (a double tap): the station is the deputy's already
    again = await voter.tap_data(data, message)
    assert again[-1].text == v["same"]
    assert await met(world, voter.id) == (home, DEPUTY_ID)


@LANGS
async def test_a_voter_of_another_station_keeps_theirs(
    world: World, person: MakePerson, lang: str
) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await onboard(voter, "海淀街道", OTHER)
    await asked(voter, link)
    kept = await answered(voter, v["keep"])
    assert kept.text == v["kept"]
    # the deputy serves elsewhere: nothing set, nothing offered
    assert await met(world, voter.id) == (await world.station_id(OTHER), None)
    assert await offered(world, voter.id) is None


@LANGS
async def test_staff_and_deputies_only_see_the_card(
    world: World, person: MakePerson, lang: str
) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person, lang)
    _, link = await code_of(deputy)
    admin = await consented_admin(world, lang)
    before = await world.snapshot()
    assert only(await admin.send(f"/start {payload(link)}")).text == v["not_voter"]
    assert only(await deputy.send(f"/start {payload(link)}")).text == v["not_voter"]
    assert await world.snapshot() == before


# --- the location key goes with the card ------------------------------------------------------

KEYS = {"zh-hans": ["📍 发送我的位置", "跳过"], "en": ["📍 Send my location", "Skip"]}


@LANGS
async def test_the_location_key_goes_when_a_new_voter_opens_the_code(
    world: World, person: MakePerson, lang: str
) -> None:
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await agree(voter)  # the first-time prompt: the picker, and the location key
    assert voter.keyboard() == KEYS[lang]
    card = only(await voter.send(f"/start {payload(link)}"))
    assert (card.text, card.markup) == (V[lang]["bound"], REMOVE_KEY)
    assert voter.keyboard() == []


@LANGS
async def test_the_location_key_goes_when_a_voter_of_the_station_opens_the_code(
    world: World, person: MakePerson, lang: str
) -> None:
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await onboard(voter, "学院路街道", HOME)
    await voter.send("/station")
    assert voter.keyboard() == KEYS[lang]
    card = only(await voter.send(f"/start {payload(link)}"))
    assert (card.text, card.markup) == (V[lang]["same"], REMOVE_KEY)
    assert voter.keyboard() == []


@LANGS
@pytest.mark.parametrize("choice", ["switch", "keep"])
async def test_the_location_key_goes_when_a_voter_of_another_station_is_asked(
    world: World, person: MakePerson, lang: str, choice: str
) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await onboard(voter, "海淀街道", OTHER)
    await voter.send("/station")
    assert voter.keyboard() == KEYS[lang]
    assert (await asked(voter, link)).text == v["ask"]  # the card takes the key away
    assert voter.keyboard() == []
    # shown again before the answer: the answer takes it away too
    await voter.send("/station")
    assert voter.keyboard() == KEYS[lang]
    answer = await answered(voter, v[choice])
    assert answer.text == v["bound" if choice == "switch" else "kept"]
    assert voter.keyboard() == []


async def test_a_question_that_cannot_lose_its_buttons_is_still_answered(
    world: World, person: MakePerson, caplog: pytest.LogCaptureFixture
) -> None:
    """Taking the buttons off the question is cosmetic: Telegram refusing it (too old a
    message, say) stops nothing; it is logged without the voter's data."""
    v = V["zh-hans"]
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    voter = person(2001, "小李")
    await onboard(voter, "海淀街道", OTHER)
    await asked(voter, link)
    world.api.fail_replies(voter.id, "400:message can't be edited", method="editMessageReplyMarkup")
    with caplog.at_level(logging.WARNING, logger="handlers.location_key"):
        out = await voter.tap(v["switch"])
    assert [o.text for o in out if o.kind == "message"] == [v["bound"]]
    assert await met(world, voter.id) == (await world.station_id(HOME), DEPUTY_ID)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "handlers.location_key"]
    assert "kept its buttons" in warning
    assert str(voter.id) not in warning and "小李" not in warning


# --- a deputy moved to another station -------------------------------------------------------


async def reinvite(world: World, deputy: Person, street: str, station: str) -> None:
    """Staff invite the deputy again, at `station`; the deputy opens the new link."""
    admin = await consented_admin(world)
    await admin.send("/invite 王芳")
    await admin.tap(street)
    await admin.tap(station)
    match = INVITE_LINK.search(admin.last)
    assert match, admin.last
    await deputy.send(f"/start inv_{match.group(1)}")
    row = await world.rows("SELECT station_id FROM deputies WHERE user_id = ?", (DEPUTY_ID,))
    assert row == [{"station_id": await world.station_id(station)}]


@LANGS
async def test_a_deputy_moved_to_another_station_loses_the_old_code(
    world: World, person: MakePerson, lang: str
) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person)
    _, old = await code_of(deputy)
    await reinvite(world, deputy, "海淀街道", OTHER)
    assert await world.rows("SELECT code FROM deputies") == [{"code": None}]
    # the old link would have moved voters to the deputy's new station: it opens nothing
    voter = person(2001, "小李", lang)
    await onboard(voter, "学院路街道", HOME)
    assert only(await voter.send(f"/start {payload(old)}")).text == v["unknown"]
    assert await met(world, voter.id) == (await world.station_id(HOME), None)
    # /mycode makes a new one, for the new station
    _, new = await code_of(deputy)
    assert new != old


async def test_a_deputy_invited_again_at_the_same_station_keeps_the_code(
    world: World, person: MakePerson
) -> None:
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    await reinvite(world, deputy, "学院路街道", HOME)
    assert (await code_of(deputy))[1] == link


# --- refused codes and buttons ---------------------------------------------------------------


@LANGS
async def test_an_unknown_code_is_refused(world: World, person: MakePerson, lang: str) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person)
    await code_of(deputy)
    voter = person(2001, "小李", lang)
    await onboard(voter, "海淀街道", OTHER)
    before = await world.snapshot()
    assert only(await voter.send("/start dep_NoSuchCode123456")).text == v["unknown"]
    assert only(await voter.send("/start dep_x")).text == v["unknown"]
    assert await world.snapshot() == before
    # a stranger goes through the consent first, then is told the same
    stranger = person(2002, "小张", lang)
    await stranger.send("/start dep_NoSuchCode123456")
    _, refused = await stranger.tap(v["agree"])
    assert refused.text == v["unknown"]
    assert await met(world, stranger.id) == (None, None)


@LANGS
async def test_forged_and_stale_station_buttons_are_refused(
    world: World, person: MakePerson, lang: str
) -> None:
    v = V[lang]
    deputy = await deputy_in(world, person, lang)
    _, link = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await onboard(voter, "海淀街道", OTHER)
    await voter.send(f"/start {payload(link)}")
    before = await world.snapshot()
    # a code nobody has, in a button of the right shape
    forged = CodeStation(code="NoSuchCode123456", switch=True).pack()
    refused = only(await voter.tap_data(forged))
    assert (refused.kind, refused.show_alert, refused.text) == ("alert", True, v["unknown"])
    # data of no shape the bot makes
    for data in ("dcs:bad!code:1", "dcs:NoSuchCode123456:2", "dcs:NoSuchCode123456"):
        stale = only(await voter.tap_data(data))
        assert (stale.kind, stale.text) == ("alert", v["stale"]), data
    assert await world.snapshot() == before
    # the deputy replaced the code since the question: the switch opens nothing
    await deputy.tap(V[lang]["renew"])
    await deputy.tap(V[lang]["renew_confirm"])
    replaced = only(await voter.tap(v["switch"]))
    assert (replaced.kind, replaced.text) == ("alert", v["unknown"])
    assert await met(world, voter.id) == (await world.station_id(OTHER), None)
    # keeping their station needs no code: said so, nothing changes
    before = await world.snapshot()
    assert (await answered(voter, v["keep"])).text == v["kept"]
    assert await world.snapshot() == before


# --- the voter's next opinion ----------------------------------------------------------------


@LANGS
async def test_the_next_opinion_offers_the_deputy_met(
    world: World, person: MakePerson, lang: str
) -> None:
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    stranger = person(2001, "小李", lang)
    await stranger.send(f"/start {payload(link)}")
    await stranger.tap(V[lang]["agree"])
    await to_preview(stranger)
    assert stranger.last == say(stranger, "opinion.ask_address", deputy="王芳")
    to_deputy = say(stranger, "opinion.address_deputy", deputy="王芳")
    assert to_deputy in stranger.buttons()
    await stranger.tap(to_deputy)
    await stranger.tap(T[lang]["send"])
    assert await world.rows("SELECT author_id, addressed_to FROM opinions") == [
        {"author_id": stranger.id, "addressed_to": DEPUTY_ID}
    ]


@LANGS
async def test_a_voter_who_kept_their_station_is_not_offered_the_deputy(
    world: World, person: MakePerson, lang: str
) -> None:
    deputy = await deputy_in(world, person)
    _, link = await code_of(deputy)
    voter = person(2001, "小李", lang)
    await onboard(voter, "海淀街道", OTHER)
    await voter.send(f"/start {payload(link)}")
    await voter.tap(V[lang]["keep"])
    await to_preview(voter)
    assert T[lang]["send"] in voter.buttons()
    assert say(voter, "opinion.address_deputy", deputy="王芳") not in voter.buttons()
