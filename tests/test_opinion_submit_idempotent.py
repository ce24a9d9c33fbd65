"""Sending an opinion is idempotent and its tracking number is never lost (issue 7, failure 7).

The opinion commits together with a receipt held back in the outbox for a minute. When the
reply to the Send tap fails (500, 429, timeout, network, "query is too old"), the receipt goes
out at once; when the process dies between the commit and the reply, it goes out after the
minute. Send tapped again answers with the same number and makes nothing, and /opinion starts
a new opinion at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.demo.botapi import FakeBotAPI, Output
from tests.support.opinions import LANGS, T, draft_of, send_data, state_of, to_preview
from tests.support.opinions import voter_with_station as voter_at_station
from tests.support.people import Person
from tests.support.scenarios import say
from tests.support.world import World

FAULTS = ["500:Internal Server Error", "429:3", "timeout", "network", "400:query is too old"]
NUMBER = "HD-2026-000001"


@pytest.fixture
def replies(world: World) -> Iterator[FakeBotAPI]:
    """Faults on the calls that answer a tap in place; hung calls are let go at the end."""
    yield world.api
    world.api.release()


@pytest.fixture
async def voter(world: World) -> AsyncIterator[Person]:
    yield await voter_at_station(world, 8001)


def sent_text(voter: Person, number: str = NUMBER) -> str:
    return T[voter.language_code]["sent"].format(no=number)


def receipt_text(voter: Person) -> str:
    """The whole confirmation, in the voter's language, as the outbox sends it."""
    return say(voter, "opinion.sent", tracking_no=NUMBER)


def receipts(world: World, voter: Person) -> list[Output]:
    """Messages (not edits) carrying the tracking number: the receipts the outbox sent."""
    return [
        o
        for o in world.api.outputs
        if o.chat_id == voter.id and o.kind == "message" and sent_text(voter) in o.text
    ]


def apologies(world: World, voter: Person) -> list[Output]:
    apology = world.services.i18n.texts("zh_CN")("error.internal")
    return [o for o in world.api.outputs if o.chat_id == voter.id and o.text == apology]


async def opinions(world: World) -> list[dict[str, Any]]:
    return await world.rows("SELECT id, tracking_no, draft_token FROM opinions")


async def receipt_rows(world: World) -> list[dict[str, Any]]:
    return await world.rows(
        "SELECT state, reason FROM outbox WHERE message_key = 'opinion.sent' ORDER BY id"
    )


async def assert_send_again_gives_the_same_number(
    world: World, voter: Person, data: str, message: dict[str, Any] | None = None
) -> None:
    """Send tapped again (on `message`, the preview): the same number, nothing new."""
    t = T[voter.language_code]
    new = await voter.tap_data(data, message)
    assert ("alert", t["already_sent"].format(no=NUMBER)) in [(o.kind, o.text) for o in new]
    assert len(await opinions(world)) == 1
    assert (await world.rows("SELECT last FROM tracking_sequences"))[0]["last"] == 1


async def assert_a_new_opinion_starts(voter: Person) -> None:
    t = T[voter.language_code]
    new = await voter.send("/opinion")
    assert [o.text for o in new] == [t["ask_category"]]
    assert t["in_progress"] not in voter.last


# --- the reply fails --------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_failed_reply_still_brings_the_number(
    world: World, voter: Person, replies: FakeBotAPI, fault: str
) -> None:
    await to_preview(voter)
    data = send_data(world, voter)
    shown = world.api.chat_messages(voter.id)[-1]  # the preview, kept current by the fake
    replies.fail_replies(voter.id, fault, fault)  # the answer to the tap and the edit both fail

    new = await voter.tap(T["zh-hans"]["send"])
    assert not [o for o in new if sent_text(voter) in o.text]  # Telegram took nothing
    assert apologies(world, voter) == []
    rows = await opinions(world)
    assert [(r["tracking_no"], r["draft_token"] is not None) for r in rows] == [(NUMBER, True)]
    assert await draft_of(world, voter.id) is None
    assert await state_of(world, voter.id) is None

    # The receipt was released at once: the outbox brings the number.
    await world.outbox.drain()
    assert [o.text for o in receipts(world, voter)] == [receipt_text(voter)]
    assert await receipt_rows(world) == [{"state": "sent", "reason": None}]

    # The preview is still on screen: Send again gives the same number, and now shows it.
    assert "reply_markup" in shown
    await assert_send_again_gives_the_same_number(world, voter, data, shown)
    assert sent_text(voter) in shown["text"] and "reply_markup" not in shown
    await assert_a_new_opinion_starts(voter)

    # Nothing else arrives later.
    world.clock.advance(seconds=120)
    await world.outbox.drain()
    assert len(receipts(world, voter)) == 1


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_failed_answer_alone_still_shows_the_number(
    world: World, voter: Person, replies: FakeBotAPI, fault: str
) -> None:
    """Only the answer to the tap fails (the usual "query is too old"): the edit shows the
    number, so the receipt is withdrawn and the voter gets the number once."""
    await to_preview(voter)
    data = send_data(world, voter)
    replies.fail_replies(voter.id, fault)
    await voter.tap(T["zh-hans"]["send"])
    assert sent_text(voter) in voter.last
    assert apologies(world, voter) == []
    assert await receipt_rows(world) == [{"state": "skipped", "reason": "withdrawn"}]
    world.clock.advance(seconds=120)
    await world.outbox.drain()
    assert receipts(world, voter) == []
    await assert_send_again_gives_the_same_number(world, voter, data)
    await assert_a_new_opinion_starts(voter)


@LANGS
async def test_a_reply_that_arrives_withdraws_the_receipt(world: World, lang: str) -> None:
    voter = await voter_at_station(world, 8002, lang)
    await to_preview(voter)
    await voter.tap(T[lang]["send"])
    assert sent_text(voter) in voter.last
    assert await receipt_rows(world) == [{"state": "skipped", "reason": "withdrawn"}]
    world.clock.advance(seconds=120)
    await world.outbox.drain()
    assert receipts(world, voter) == []


# --- the process dies between the commit and the reply ---------------------------------


async def until(check: Any, within: float = 5.0) -> None:
    """Wait until the async `check()` is true."""
    for _ in range(int(within / 0.01)):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting")


@LANGS
async def test_a_crash_before_the_reply_brings_the_number_after_a_minute(
    world: World, replies: FakeBotAPI, lang: str
) -> None:
    voter = await voter_at_station(world, 8003, lang)
    await to_preview(voter)
    data = send_data(world, voter)
    replies.hang(voter.id)  # Telegram never answers; the process dies meanwhile
    tap = asyncio.create_task(voter.tap(T[lang]["send"]))

    async def committed() -> bool:
        return len(await opinions(world)) == 1

    await until(committed)
    await world.crash_and_restart()
    tap.cancel()
    await asyncio.gather(tap, return_exceptions=True)
    replies.hanging.clear()

    # After the restart: one opinion, no draft, no conversation; the receipt waits its minute.
    assert len(await opinions(world)) == 1
    assert await draft_of(world, voter.id) is None
    assert await state_of(world, voter.id) is None
    await world.outbox.drain()
    assert receipts(world, voter) == []
    assert await receipt_rows(world) == [{"state": "queued", "reason": None}]

    world.clock.advance(seconds=61)
    await world.outbox.drain()
    assert [o.text for o in receipts(world, voter)] == [receipt_text(voter)]

    await assert_send_again_gives_the_same_number(world, voter, data)
    await assert_a_new_opinion_starts(voter)


# --- Send again from wherever the voter is ---------------------------------------------


@LANGS
async def test_send_again_in_the_middle_of_the_next_opinion(
    world: World, replies: FakeBotAPI, lang: str
) -> None:
    """The old preview's Send, tapped while writing the next opinion: the first number, and
    the new opinion stays at its step with its draft."""
    t = T[lang]
    voter = await voter_at_station(world, 8004, lang)
    await to_preview(voter)
    data = send_data(world, voter)
    replies.fail_replies(voter.id, "500:Internal Server Error", "500:Internal Server Error")
    await voter.tap(t["send"])
    await voter.send("/opinion")
    await voter.tap(t["elderly"])
    draft = await draft_of(world, voter.id)
    assert await state_of(world, voter.id) == "text"

    await assert_send_again_gives_the_same_number(world, voter, data)
    assert await draft_of(world, voter.id) == draft
    assert await state_of(world, voter.id) == "text"
    await voter.send("楼道的灯坏了很久，晚上上下楼不安全。")
    assert voter.last == t["ask_photos"]


@LANGS
async def test_send_of_another_voters_draft_is_refused(world: World, lang: str) -> None:
    t = T[lang]
    author = await voter_at_station(world, 8005, lang)
    await to_preview(author)
    data = send_data(world, author)
    await author.tap(t["send"])
    other = await voter_at_station(world, 8006, lang)
    new = await other.tap_data(data)
    assert all(NUMBER not in o.text for o in new)
    assert [o.kind for o in new] == ["alert"]
    assert len(await opinions(world)) == 1


async def test_the_receipt_is_in_the_voters_language(world: World, replies: FakeBotAPI) -> None:
    voter = await voter_at_station(world, 8007, "en")
    await to_preview(voter)
    replies.fail_replies(voter.id, "timeout", "timeout")
    await voter.tap(T["en"]["send"])
    await world.outbox.drain()
    assert [o.text for o in receipts(world, voter)] == [receipt_text(voter)]


async def test_a_reply_that_went_through_but_timed_out_brings_the_number_once_more(
    world: World, voter: Person, replies: FakeBotAPI
) -> None:
    """Telegram carried the edit out but its answer never came: the bot cannot know, so it
    releases the receipt too. The number arrives twice at worst; the opinion exists once."""
    await to_preview(voter)
    replies.fail_replies(voter.id, "late", method="editMessageText")
    await voter.tap(T["zh-hans"]["send"])
    assert sent_text(voter) in world.api.chat_messages(voter.id)[-1]["text"]  # it was shown
    await world.outbox.drain()
    assert [o.text for o in receipts(world, voter)] == [receipt_text(voter)]
    assert len(await opinions(world)) == 1
    assert apologies(world, voter) == []
