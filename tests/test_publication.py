"""建议公开: answered suggestions whose lead deputy agreed are posted to the public channel
(title, proposals, department, answer summary, class) through the outbox; a correction by
staff, or the answer after re-handling, edits the post (or, still queued, it goes out with
the new text); nothing is posted without consent or without a channel."""

from __future__ import annotations

import json
from html import escape

import pytest

from bot.runtime.buttons.ledger import ClassChosen, CorrectSummary
from tests.support.projects import staff
from tests.support.world import World
from tests.test_ledger_seed import (
    SUMMARY,
    Answered,
    add_answer,
    departments,
    events,
    lead_deputy,
    queued,
    seed_answered,
    suggestion_row,
)

CHANNEL = -1001234567890
PUBLISHING = pytest.mark.world(publication_channel_id=CHANNEL)
TITLE = "关于增设学院路公交站台遮雨棚的建议"
PROPOSALS = "1. 在学院路南口站台增设遮雨棚；2. 增设座椅 <含无障碍座椅> & 扶手。"


def post_text(world: World, number: str, summary: str = SUMMARY, outcome: str = "B") -> str:
    """The post as the channel shows it: in the default language, user text escaped."""
    labels = {"A": "已解决或基本解决", "B": "正在解决或列入计划逐步解决", "C": "因条件限制留作参考"}
    return world.text(
        "zh_CN",
        "ledger.post",
        number=number,
        title=escape(TITLE),
        proposals=escape(PROPOSALS),
        department="区交通委员会",
        outcome=f"{outcome} {labels[outcome]}",
        summary=escape(summary),
    )


def channel_messages(world: World) -> list[str]:
    return [m["text"] for m in world.api.chat_messages(CHANNEL)]


def channel_calls(world: World, method: str) -> list[int]:
    """The message ids of the calls `method` made to the channel."""
    return [
        int(c.params.get("message_id", 0))
        for c in world.api.calls_to(method)
        if int(c.params["chat_id"]) == CHANNEL
    ]


async def published(world: World, *, publish: bool = True) -> tuple[Answered, str]:
    lead = await lead_deputy(world)
    d = await departments(world)
    seeded = await seed_answered(world, lead.id, d.lead, proposals=PROPOSALS, publish=publish)
    return seeded, (await suggestion_row(world, seeded.id))["number"]


@PUBLISHING
async def test_an_answer_the_deputy_agreed_to_publish_is_posted_once(world: World) -> None:
    world.api.add_channel(CHANNEL)
    seeded, number = await published(world)
    private, _ = await published_again(world)
    ledger = world.services.ledger
    assert await ledger.run_due() == 1
    assert await ledger.run_due() == 0  # once
    row = await suggestion_row(world, seeded.id)
    assert row["channel_outbox_id"] is not None
    assert (await suggestion_row(world, private.id))["channel_outbox_id"] is None
    assert ("published", "") in await events(world, seeded.id)
    await world.outbox.drain()
    assert channel_messages(world) == [post_text(world, number)]
    post = (await world.rows("SELECT * FROM outbox WHERE id = ?", (row["channel_outbox_id"],)))[0]
    assert post["state"] == "sent"
    assert (
        json.loads(post["params"])["message_id"]
        == world.api.chat_messages(CHANNEL)[0]["message_id"]
    )
    assert "王代表" not in channel_messages(world)[0]  # no personal data


async def published_again(world: World) -> tuple[Answered, str]:
    """A second answered suggestion of the same deputy, whose publication was not agreed."""
    d = (await world.rows("SELECT id FROM departments WHERE name = '区交通委员会'"))[0]["id"]
    seeded = await seed_answered(world, 6001, d, proposals=PROPOSALS, publish=False)
    return seeded, (await suggestion_row(world, seeded.id))["number"]


async def test_nothing_is_posted_without_a_channel(world: World) -> None:
    await published(world)
    assert await world.services.ledger.run_due() == 0
    assert await queued(world, "ledger.post") == []


@PUBLISHING
async def test_staff_corrections_edit_the_post(world: World) -> None:
    world.api.add_channel(CHANNEL)
    admin = await staff(world)
    seeded, number = await published(world)
    await world.services.ledger.run_due()
    await world.outbox.drain()
    message_id = world.api.chat_messages(CHANNEL)[0]["message_id"]

    await admin.tap_data(CorrectSummary(suggestion=seeded.id).pack())
    await admin.send("经复核，遮雨棚已于<12月>开工。")
    await world.outbox.drain()
    corrected = post_text(world, number, "经复核，遮雨棚已于<12月>开工。")
    assert channel_messages(world) == [corrected]  # the same message, edited
    assert channel_calls(world, "editMessageText") == [message_id]
    await admin.tap_data(ClassChosen(suggestion=seeded.id, code="A").pack())
    await world.outbox.drain()
    assert channel_messages(world) == [
        post_text(world, number, "经复核，遮雨棚已于<12月>开工。", outcome="A")
    ]
    assert channel_calls(world, "editMessageText") == [message_id, message_id]
    assert len(channel_calls(world, "sendMessage")) == 1  # one post in all
    # nothing more for the sweep to do
    assert await world.services.ledger.run_due() == 0


@PUBLISHING
async def test_a_correction_before_the_post_went_out_is_simply_posted(world: World) -> None:
    world.api.add_channel(CHANNEL)
    admin = await staff(world)
    await world.outbox.drain()
    await world.outbox.stop()  # the dispatcher is not sending: the post stays queued
    seeded, number = await published(world)
    await world.services.ledger.run_due()
    await admin.tap_data(CorrectSummary(suggestion=seeded.id).pack())
    await admin.send("更正后的答复摘要。")
    rows = await queued(world, "ledger.post")
    assert [r["state"] for r in rows] == ["queued"]  # one post, rendered from the new text
    await world.crash_and_restart()
    await world.outbox.drain()
    assert channel_messages(world) == [post_text(world, number, "更正后的答复摘要。")]
    assert channel_calls(world, "editMessageText") == []
    assert len(channel_calls(world, "sendMessage")) == 1


@PUBLISHING
async def test_the_answer_after_rehandling_edits_the_post(world: World) -> None:
    world.api.add_channel(CHANNEL)
    seeded, number = await published(world)
    ledger = world.services.ledger
    await ledger.run_due()
    await world.outbox.drain()
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = 'rehandling', rehandled = 1 WHERE id = ?",
            (seeded.id,),
        )
    assert await ledger.run_due() == 0  # the first answer still stands
    department = (await world.rows("SELECT id FROM departments WHERE name = '区交通委员会'"))[0]
    await add_answer(
        world, seeded.id, department["id"], round_no=2, outcome="A", summary="已建成并投入使用。"
    )
    assert await ledger.run_due() == 1
    assert await ledger.run_due() == 0
    await world.outbox.drain()
    assert channel_messages(world) == [post_text(world, number, "已建成并投入使用。", "A")]
    assert len(channel_calls(world, "editMessageText")) == 1


@PUBLISHING
async def test_a_channel_the_bot_is_not_in_fails_the_post_and_a_correction_posts_anew(
    world: World,
) -> None:
    admin = await staff(world)
    seeded, number = await published(world)
    await world.services.ledger.run_due()
    await world.outbox.drain()
    first = (await suggestion_row(world, seeded.id))["channel_outbox_id"]
    failed = (await world.rows("SELECT state, reason FROM outbox WHERE id = ?", (first,)))[0]
    assert failed == {"state": "failed", "reason": "Chat not found"}
    world.api.add_channel(CHANNEL)  # the bot made an admin of the channel since
    await admin.tap_data(CorrectSummary(suggestion=seeded.id).pack())
    await admin.send("更正后的答复摘要。")
    await world.outbox.drain()
    assert (await suggestion_row(world, seeded.id))["channel_outbox_id"] != first
    assert channel_messages(world) == [post_text(world, number, "更正后的答复摘要。")]
