"""Invisible text in the typed steps about an opinion (issue 7, failure 5): an answer, a
reason for declining, a question to the voter, the voter's reply and the voter's comment on
the rating. Text made only of zero-width characters (U+200B-U+200D, U+2060, U+FEFF), with
or without spaces, is refused with the step's message and nothing is stored; the typing
stays open, and real text with a zero-width space inside is stored without it. Lengths are
measured on the cleaned text."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.services.inbox import TEXT_MAXIMUM
from bot.services.opinions import REPLY_MIN
from tests.support.inbox import NO, Cast, open_in_inbox
from tests.support.people import Person
from tests.support.scenarios import say
from tests.support.world import World

# The outbox's pause between two notices to one chat (a second, in real time) is not what
# these tests prove; without it a test that waits for several notices does not wait seconds.
pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

INVISIBLE = (
    "\u200b\u200b",
    "\u200c\u200d",
    "\u2060\ufeff",
    "\ufeff\u2060\u200d\u200c\u200b",
    " \u200b \u200c \u200d \u2060 \ufeff ",
    "\u200b" * 40,
    "\u3000\u200b\n\u2060 ",
)
ONE_VISIBLE = "好\u200b"  # two characters typed, one after cleaning: too short
REAL = "已联系\u200b物业，\u200b本周内修好。"
STORED = "已联系物业，本周内修好。"


# --- each step: how a person gets to its prompt, and where its text is stored ----------------


async def _claimed(cast: Cast) -> None:
    await open_in_inbox(cast.zhang)
    await cast.zhang.tap(say(cast.zhang, "inbox.claim_button"))
    await cast.mail.take()


async def start_answer(cast: Cast) -> Person:
    await _claimed(cast)
    await cast.zhang.tap(say(cast.zhang, "handling.answer"))
    assert cast.zhang.last == say(cast.zhang, "handling.ask_answer")
    return cast.zhang


async def start_decline(cast: Cast) -> Person:
    """Staff decline from /opinions (the same typed step as the holder's)."""
    admin = cast.admin
    await admin.send("/opinions")
    await admin.tap(next(b for b in admin.buttons() if b.startswith(NO)))
    await admin.tap(say(admin, "handling.decline"))
    assert admin.last == say(admin, "handling.ask_reason")
    return admin


async def start_ask(cast: Cast) -> Person:
    await _claimed(cast)
    await cast.zhang.tap(say(cast.zhang, "inbox.ask_button"))
    assert cast.zhang.last == say(cast.zhang, "inbox.ask_question")
    return cast.zhang


async def start_reply(cast: Cast) -> Person:
    await start_ask(cast)
    await cast.zhang.send("路灯具体在哪个位置？")
    await cast.mail.take()
    voter = cast.voter
    await voter.tap(say(voter, "inbox.reply_button"))
    assert voter.last == say(voter, "inbox.ask_reply", tracking_no=NO)
    return voter


async def start_comment(cast: Cast) -> Person:
    await start_answer(cast)
    await cast.zhang.send("已经修好了，请查看。")
    await cast.mail.take()
    voter = cast.voter
    await voter.tap(say(voter, "rate.solved_yes"))
    await voter.tap(say(voter, "rate.satisfied"))
    assert voter.buttons()[0] == say(voter, "rate.skip_button")
    return voter


async def last_note(world: World, kind: str) -> str | None:
    rows = await world.rows(
        "SELECT note FROM opinion_events WHERE opinion_id = 1 AND kind = ? ORDER BY id", (kind,)
    )
    return rows[-1]["note"] if rows else None


async def comment_of(world: World) -> str | None:
    rows = await world.rows("SELECT rating_comment FROM opinions WHERE id = 1")
    return rows[0]["rating_comment"]


@dataclass(frozen=True)
class Step:
    name: str  # the action in bot.services.inbox.TEXT_MAXIMUM
    start: Callable[[Cast], Awaitable[Person]]
    stored: Callable[[World], Awaitable[str | None]]
    done: str  # what the person is told when the text is taken


STEPS = [
    Step("answer", start_answer, lambda w: last_note(w, "answered"), "handling.done_answer"),
    Step("decline", start_decline, lambda w: last_note(w, "declined"), "handling.done_decline"),
    Step("ask", start_ask, lambda w: last_note(w, "asked"), "inbox.done_ask"),
    Step("reply", start_reply, lambda w: last_note(w, "replied"), "inbox.done_reply"),
    Step("comment", start_comment, comment_of, "rate.done_comment"),
]


async def written(world: World) -> dict[str, object]:
    """What a finished step writes: the opinion, its history and the notices queued."""
    return {
        "opinions": await world.rows("SELECT * FROM opinions ORDER BY id"),
        "events": await world.rows("SELECT * FROM opinion_events ORDER BY id"),
        "outbox": await world.rows("SELECT id, message_key, params FROM outbox ORDER BY id"),
    }


# --- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
async def test_invisible_text_is_refused_and_real_text_is_stored_clean(
    cast: Cast, step: Step
) -> None:
    world = cast.world
    typist = await step.start(cast)
    before = await written(world)
    for text in INVISIBLE:
        await typist.send(text)
        assert typist.last == say(typist, "handling.reply_empty"), repr(text)
    await typist.send(ONE_VISIBLE)
    assert typist.last == say(typist, "handling.reply_too_short", minimum=REPLY_MIN)
    assert await written(world) == before
    # the step is still open: real text goes through, without the zero-width spaces
    await typist.send(REAL)
    assert typist.last == say(typist, step.done, tracking_no=NO)
    assert await step.stored(world) == STORED
    notices = await world.rows("SELECT params FROM outbox")
    assert all(
        "\u200b" not in json.loads(n["params"]).get(k, "")
        for n in notices
        for k in (
            "note",
            "question",
            "reply",
            "comment",
        )
    )
    assert STORED in "\n".join(text for _, text in await cast.mail.take())


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
async def test_the_length_is_measured_on_the_cleaned_text(cast: Cast, step: Step) -> None:
    world = cast.world
    maximum = TEXT_MAXIMUM[step.name]
    typist = await step.start(cast)
    before = await written(world)
    await typist.send("字" * (maximum + 1) + "\u200b")
    assert typist.last == say(typist, "handling.reply_too_long", maximum=maximum, count=maximum + 1)
    assert await written(world) == before
    longest = "字" * maximum
    await typist.send("\u200b" + longest[:10] + "\ufeff\u2060" + longest[10:] + "\u200b")
    assert typist.last == say(typist, step.done, tracking_no=NO)
    assert await step.stored(world) == longest
