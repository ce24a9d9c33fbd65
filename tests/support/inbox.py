"""The inbox as its people live it: a voter's opinion at 学院路第一联络站, two deputies of that
station and the admin (`Cast`), and `Mail`, which reads every notice the outbox sent and
checks it reached the chat as rendered."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.runtime.buttons.inbox import Claim, Compose
from bot.runtime.dispatcher import render_params
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, onboard, say
from tests.support.world import World

NO = "HD-2026-000001"  # the first opinion's tracking number


async def submit(voter: Person, text: str, *, anonymous: bool = True) -> None:
    """Onboard at 学院路第一联络站 and send one opinion in the urban category."""
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
            " WHERE o.id > ? AND o.broadcast_id IS NULL AND o.sets_menu = 0 ORDER BY o.id",
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


def notice(person: Person, key: str, **params: object) -> tuple[int, str]:
    """A notice to `person` as `Mail.take` lists it: (their chat, the text in their language)."""
    return (person.id, say(person, key, **params))


def chat_of(world: World, someone: Person) -> str:
    """Everything this person was ever shown, as one string."""
    return "\n".join(
        [o.text for o in world.api.outputs if o.chat_id == someone.id]
        + [json.dumps(m, ensure_ascii=False) for m in world.api.chat_messages(someone.id)]
    )


async def opinion_row(world: World, opinion_id: int = 1) -> dict[str, Any]:
    """The opinions row of `opinion_id`."""
    return (await world.rows("SELECT * FROM opinions WHERE id = ?", (opinion_id,)))[0]


async def events_of(world: World, opinion_id: int = 1) -> list[tuple[str, str]]:
    """The history of `opinion_id` as (kind, note), oldest first."""
    rows = await world.rows(
        "SELECT kind, note FROM opinion_events WHERE opinion_id = ? ORDER BY id", (opinion_id,)
    )
    return [(r["kind"], r["note"]) for r in rows]


async def open_in_inbox(deputy: Person, tracking_no: str = NO) -> None:
    """/inbox and open the card of `tracking_no`."""
    await deputy.send("/inbox")
    await deputy.tap(next(b for b in deputy.buttons() if b.startswith(tracking_no)))


def refused(person: Person, key: str, **params: object) -> bool:
    """The person's last answer was this refusal (as an alert or a message)."""
    return person.last == say(person, key, **params)


@dataclass
class Cast:
    """The people of the inbox tests and the mail they were sent."""

    world: World
    admin: Person
    voter: Person
    zhang: Person
    li: Person
    mail: Mail


async def make_cast(world: World, person: Callable[..., Person], admin: Person) -> Cast:
    """Two deputies of 学院路第一联络站 and an anonymous opinion there (all in Chinese)."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    li = await invite_deputy(world, admin, person, 3002, "李四")
    voter = person(2001, "王芳")
    await submit(voter, "小区路灯坏了一个多月，晚上很不安全。")
    mail = Mail(world)
    # the station's deputies were told of the new opinion (tests/test_new_opinion_notices.py)
    assert [chat for chat, _ in await mail.take()] == [zhang.id, li.id]
    return Cast(world, admin, voter, zhang, li, mail)


async def zhang_answers(cast: Cast, answer: str) -> None:
    """张三 claims the opinion and answers it (by the buttons' data); the notices are taken."""
    await cast.zhang.tap_data(Claim(opinion=1).pack())
    await cast.zhang.tap_data(Compose(step="answer", opinion=1).pack())
    await cast.zhang.send(answer)
    await cast.mail.take()
