"""建议公开: answered suggestions whose lead deputy agreed are posted to the public channel
(title, proposals, department, answer summary, class) through the outbox; a correction by
staff, or the answer after re-handling, edits the post (or, still queued, it goes out with
the new text); a post the channel refused is tried again once a day, a few times; nothing is
posted without consent or without a channel."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import aiosqlite
import pytest

from bot.demo.telegram_html import parse_html, utf16_length
from bot.runtime.buttons.ledger import ClassChosen, CorrectSummary
from bot.services.ledger import POST_PROPOSALS, POST_SUMMARY, REPOSTS
from storage.db import migrate, migration_files
from tests.support.ledger_seed import (
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
from tests.support.projects import staff
from tests.support.world import World

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
    assert post["message_id"] == world.api.chat_messages(CHANNEL)[0]["message_id"]
    # the post's parameters are its words only: the link to the message is a column
    assert set(json.loads(post["params"])) == {
        "number",
        "title",
        "proposals",
        "department",
        "outcome",
        "summary",
    }
    assert row["posted_answer_id"] == seeded.answer_id
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
async def test_an_edit_in_a_channel_the_bot_left_fails_and_the_post_stays(world: World) -> None:
    world.api.add_channel(CHANNEL)
    admin = await staff(world)
    seeded, number = await published(world)
    await world.services.ledger.run_due()
    await world.outbox.drain()
    world.api.remove_channel(CHANNEL)  # no longer an administrator there
    await admin.tap_data(CorrectSummary(suggestion=seeded.id).pack())
    await admin.send("更正后的答复摘要。")
    await world.outbox.drain()
    post_id = (await suggestion_row(world, seeded.id))["channel_outbox_id"]
    edits = await world.rows("SELECT state, reason FROM outbox WHERE post_of = ?", (post_id,))
    assert edits == [{"state": "failed", "reason": "Chat not found"}]
    assert channel_messages(world) == [post_text(world, number)]  # as first posted
    assert (await post_row(world, seeded.id))["state"] == "sent"
    assert await world.services.ledger.run_due() == 0  # a sent post is never posted again


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


async def post_row(world: World, suggestion_id: int) -> dict[str, object]:
    row = await suggestion_row(world, suggestion_id)
    found = await world.rows(
        "SELECT id, state, reason, reposts, message_id FROM outbox WHERE id = ?",
        (row["channel_outbox_id"],),
    )
    return found[0]


@PUBLISHING
async def test_a_post_the_channel_refused_is_tried_again_once_a_day_a_few_times(
    world: World,
) -> None:
    """The bot is not in the channel yet: the post fails; the sweep queues the same post
    again a day later (not sooner), up to REPOSTS times, then gives up."""
    seeded, _ = await published(world)
    ledger = world.services.ledger
    assert await ledger.run_due() == 1
    await world.outbox.drain()
    first = await post_row(world, seeded.id)
    assert (first["state"], first["reason"], first["reposts"]) == ("failed", "Chat not found", 0)
    assert await ledger.run_due() == 0  # not again within the day
    for attempt in range(1, REPOSTS + 1):
        world.clock.advance(hours=23)
        assert await ledger.run_due() == 0
        world.clock.advance(hours=1)
        assert await ledger.run_due() == 1
        await world.outbox.drain()
        again = await post_row(world, seeded.id)
        assert (again["id"], again["state"], again["reposts"]) == (first["id"], "failed", attempt)
    world.clock.advance(days=2)
    assert await ledger.run_due() == 0  # given up after REPOSTS
    assert channel_messages(world) == []


@PUBLISHING
async def test_a_failed_post_goes_out_when_the_bot_joins_the_channel(world: World) -> None:
    seeded, number = await published(world)
    ledger = world.services.ledger
    await ledger.run_due()
    await world.outbox.drain()
    world.api.add_channel(CHANNEL)  # the bot made an admin of the channel since
    world.clock.advance(days=1)
    assert await ledger.run_due() == 1
    await world.outbox.drain()
    assert channel_messages(world) == [post_text(world, number)]
    sent = await post_row(world, seeded.id)
    assert (sent["state"], sent["reposts"]) == ("sent", 1)
    assert sent["message_id"] == world.api.chat_messages(CHANNEL)[0]["message_id"]
    assert [kind for kind, _ in await events(world, seeded.id)].count("published") == 1


@PUBLISHING
async def test_a_correction_of_a_failed_post_queues_it_again_with_the_new_text(
    world: World,
) -> None:
    admin = await staff(world)
    seeded, number = await published(world)
    await world.services.ledger.run_due()
    await world.outbox.drain()
    first = await post_row(world, seeded.id)
    assert first["state"] == "failed"
    world.api.add_channel(CHANNEL)
    await admin.tap_data(CorrectSummary(suggestion=seeded.id).pack())
    await admin.send("更正后的答复摘要。")
    await world.outbox.drain()
    again = await post_row(world, seeded.id)
    assert (again["id"], again["state"], again["reposts"]) == (first["id"], "sent", 1)
    assert channel_messages(world) == [post_text(world, number, "更正后的答复摘要。")]


@PUBLISHING
async def test_the_edit_of_a_post_that_never_went_out_is_skipped_not_sent(world: World) -> None:
    """Staff correct the answer while its post is being sent; the send then fails (the bot is
    not in the channel): the edit is skipped, and the post, queued again a day later, says
    the corrected text."""
    admin = await staff(world)
    await world.outbox.drain()
    await world.outbox.stop()  # the dispatcher is not sending: the post stays queued
    seeded, number = await published(world)
    await world.services.ledger.run_due()
    post_id = (await suggestion_row(world, seeded.id))["channel_outbox_id"]
    async with world.db.transaction() as tx:  # claimed by the dispatcher, being sent
        await tx.execute("UPDATE outbox SET state = 'sending' WHERE id = ?", (post_id,))
    await admin.tap_data(CorrectSummary(suggestion=seeded.id).pack())
    await admin.send("更正后的答复摘要。")
    edits = await world.rows("SELECT id, state FROM outbox WHERE post_of = ?", (post_id,))
    assert [e["state"] for e in edits] == ["queued"]
    async with world.db.transaction() as tx:  # the send failed: "chat not found"
        await tx.execute(
            "UPDATE outbox SET state = 'failed', reason = 'Chat not found' WHERE id = ?",
            (post_id,),
        )
    await world.crash_and_restart()
    await world.outbox.drain()
    edit = await world.rows(
        "SELECT state, reason, sent_at FROM outbox WHERE id = ?", (edits[0]["id"],)
    )
    assert edit[0] == {
        "state": "skipped",
        "reason": f"post {post_id} was not sent",
        "sent_at": None,
    }
    assert channel_calls(world, "editMessageText") == []
    world.api.add_channel(CHANNEL)
    world.clock.advance(days=1)
    assert await world.services.ledger.run_due() == 1
    await world.outbox.drain()
    assert channel_messages(world) == [post_text(world, number, "更正后的答复摘要。")]


@PUBLISHING
async def test_a_post_full_of_emoji_stays_within_telegrams_4096_utf16_units(
    world: World,
) -> None:
    """Telegram counts UTF-16 code units: an emoji is two. The proposals and the summary,
    clipped by that measure, leave the post within the limit (the fake API refuses more)."""
    world.api.add_channel(CHANNEL)
    lead = await lead_deputy(world)
    d = await departments(world)
    wide = "🌧️遮雨棚" * 1000  # 4 characters, 6 UTF-16 units each time
    seeded = await seed_answered(
        world,
        lead.id,
        d.lead,
        title="关于遮雨棚的建议🌧",
        proposals=wide,
        summary=wide,
        publish=True,
    )
    assert await world.services.ledger.run_due() == 1
    await world.outbox.drain()
    assert (await post_row(world, seeded.id))["state"] == "sent"
    shown = parse_html(channel_messages(world)[0])
    assert utf16_length(shown) <= 4096
    assert "…" in shown
    assert POST_PROPOSALS + POST_SUMMARY < 4096


async def test_posts_queued_before_migration_0011_keep_their_link(tmp_path: Path) -> None:
    """A post, its edit and the answer it showed kept in the parameters by the previous
    version are moved into the columns."""
    old, new = tmp_path / "before", tmp_path / "with_0011"
    for folder, last in ((old, 10), (new, 11)):
        folder.mkdir()
        for number, name, sql in migration_files():
            if number <= last:
                (folder / name).write_text(sql, encoding="utf-8")
    path = tmp_path / "bot.db"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await migrate(conn, old)
        await conn.execute("PRAGMA foreign_keys=OFF")  # only the rows that matter here
        await conn.execute(
            "INSERT INTO suggestion_answers (id, suggestion_id, round, department_id,"
            " outcome_class, met_deputy, summary, recorded_by, answered_at, on_time)"
            " VALUES (7, 3, 1, 1, 'B', 0, '摘要', 1, '2026-11-25T07:00:00+00:00', 1)"
        )
        await conn.execute(
            "INSERT INTO suggestions (id, number, lead_deputy_id, title, reason, proposals,"
            " category, publish, state, created_at, updated_at, channel_outbox_id)"
            " VALUES (3, 'JY2026-0003', 1, '题', '由', '议', '类', 1, 'answered',"
            " '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', 1)"
        )
        await conn.executemany(
            "INSERT INTO outbox (id, chat_id, message_key, params, state, not_before,"
            " created_at) VALUES (?, -100, 'ledger.post', ?, ?, '2026-11-26T00:00:00+00:00',"
            " '2026-11-26T00:00:00+00:00')",
            [
                (1, '{"title": "题", "answer_id": 7, "post": 0, "message_id": 55}', "sent"),
                (2, '{"title": "新题", "answer_id": 7, "post": 1}', "queued"),
                (3, '{"number": "JY2026-0001"}', "sent"),  # a notice: untouched
            ],
        )
        await conn.execute("PRAGMA foreign_keys=ON")
        assert await migrate(conn, new) == ["0011_outbox_posts.sql"]
        rows = await conn.execute_fetchall(
            "SELECT id, params, message_id, post_of FROM outbox ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [
            (1, '{"title":"题"}', 55, None),
            (2, '{"title":"新题"}', None, 1),
            (3, '{"number": "JY2026-0001"}', None, None),
        ]
        linked = await conn.execute_fetchall("SELECT posted_answer_id FROM suggestions")
        assert [tuple(r) for r in linked] == [(7,)]
