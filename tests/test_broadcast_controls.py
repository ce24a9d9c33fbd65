"""Broadcasts keep their controls and their text: the progress message (Pause, Cancel) is
recorded before anything is queued, even when the confirmation cannot be edited; /broadcasts
offers Pause, Resume and Cancel; the length limit counts what was typed, not the HTML; and
a notice made only of invisible characters is refused (issue 7: failures 5, 6 and 8)."""

from __future__ import annotations

import html
from typing import Any

import pytest

from bot.runtime.buttons.broadcast import BroadcastListControl, Control
from tests.support.people import Person
from tests.support.scenarios import ADMIN, onboard, say
from tests.support.world import World


async def voters(person, first_id: int, count: int) -> list[Person]:
    people = [person(first_id + i, f"选民{i}") for i in range(count)]
    for voter in people:
        await onboard(voter)
    return people


async def compose(staff: Person, text: str, audience: str = "全体选民") -> None:
    await staff.send("/broadcast")
    await staff.send(text)
    await staff.tap(audience)


def fail_next_edit(world: World, chat_id: int, fault: str) -> None:
    """The next edit in `chat_id` fails: "400" as an old message is refused, or "timeout"."""
    fault = "400:message can't be edited" if fault == "400" else fault
    world.api.fail_replies(chat_id, fault, method="editMessageText")


async def broadcast_rows(world: World) -> list[dict[str, Any]]:
    return await world.rows("SELECT * FROM broadcasts ORDER BY id")


async def queued(world: World, broadcast_id: int) -> int:
    rows = await world.rows(
        "SELECT count(*) AS n FROM outbox WHERE broadcast_id = ?", (broadcast_id,)
    )
    return int(rows[0]["n"])


def stored(world: World, chat_id: int, message_id: int) -> dict[str, Any]:
    return world.api.messages[(chat_id, message_id)]


# --- 8: the controls are recorded before the broadcast is queued ---------------------------


@pytest.mark.parametrize("fault", ["400", "timeout"])
async def test_a_failed_confirmation_edit_still_gives_the_controls(
    world: World, person, admin, fault: str
) -> None:
    recipients = await voters(person, 100, 3)
    await world.outbox.abort()  # hold the queue still while the buttons are tapped
    await compose(admin, "周六议事会")
    fail_next_edit(world, ADMIN, fault)
    edits_before = len(world.api.calls_to("editMessageText"))
    out = await admin.tap("✅ 确认发送")
    # the confirmation's edit was tried and met the fault
    assert len(world.api.calls_to("editMessageText")) > edits_before
    assert world.api.reply_faults[(ADMIN, "editMessageText")] == []

    # the controls came as a new message, and that message is the one recorded
    progress = [o for o in out if o.kind == "message" and "群发 #1" in o.text]
    assert len(progress) == 1, [o.text for o in out]
    assert progress[0].buttons() == ["⏸ 暂停", "⏹ 取消"]
    assert not any(o.text == say(admin, "error.internal") for o in out)
    (row,) = await broadcast_rows(world)
    assert (row["progress_chat_id"], row["progress_message_id"]) == (
        ADMIN,
        progress[0].message_id,
    )
    assert row["total"] == len(recipients)
    assert await queued(world, 1) == len(recipients)

    # Pause from that message pauses the broadcast, and the message says so
    await admin.tap("⏸ 暂停")
    assert (await broadcast_rows(world))[0]["state"] == "paused"
    assert "已暂停" in stored(world, ADMIN, progress[0].message_id)["text"]

    # Confirm again: the draft is gone, a clear answer, no second broadcast
    out = await admin.tap("✅ 确认发送")
    assert [o.text for o in out if o.kind == "alert"] == [
        say(admin, "broadcast.already_sent", number=1)
    ]
    assert len(await broadcast_rows(world)) == 1
    assert await queued(world, 1) == len(recipients)


async def test_no_controls_anywhere_means_nothing_is_queued_and_confirm_works_again(
    world: World, person, admin
) -> None:
    recipients = await voters(person, 200, 2)
    await world.outbox.abort()
    await compose(admin, "停水通知")
    fail_next_edit(world, ADMIN, "400")
    world.api.fail(ADMIN, "network")  # the new progress message fails too
    await admin.tap("✅ 确认发送")
    (withdrawn,) = await broadcast_rows(world)
    assert withdrawn["state"] == "cancelled" and withdrawn["progress_message_id"] is None
    assert await queued(world, withdrawn["id"]) == 0

    # the draft is still at its preview: Confirm sends it, with its controls
    out = await admin.tap("✅ 确认发送")
    sent = (await broadcast_rows(world))[-1]
    assert sent["id"] == withdrawn["id"] + 1 and sent["state"] == "running"
    assert sent["progress_message_id"] == out[-1].message_id
    assert out[-1].buttons() == ["⏸ 暂停", "⏹ 取消"]
    assert await queued(world, sent["id"]) == len(recipients)


async def test_the_progress_message_is_recorded_and_queued_in_one_go(
    world: World, person, admin
) -> None:
    await voters(person, 300, 2)
    await compose(admin, "正常发送")
    out = await admin.tap("✅ 确认发送")
    (row,) = await broadcast_rows(world)
    assert out[-1].kind == "edit" and row["progress_message_id"] == out[-1].message_id
    await world.outbox.drain()
    assert (await broadcast_rows(world))[0]["state"] == "done"
    assert "已完成" in stored(world, ADMIN, row["progress_message_id"])["text"]


async def test_a_broadcast_left_unstarted_by_a_crash_is_withdrawn(
    world: World, person, admin
) -> None:
    await voters(person, 350, 1)
    await world.outbox.abort()
    await compose(admin, "崩溃之前")
    staff = await world.services.users.get(ADMIN)
    assert staff is not None
    preview = (await world.services.broadcasts.draft(staff)).preview
    orphan = await world.services.broadcasts.create(staff, ADMIN, preview)  # then the crash
    broadcasts = world.services.broadcasts
    assert await broadcasts.finish_if_done(orphan.id) is None  # a moment later: left alone
    world.clock.advance(minutes=11)
    assert await broadcasts.finish_if_done(orphan.id) is not None
    (row,) = await broadcast_rows(world)
    assert row["state"] == "cancelled" and await queued(world, orphan.id) == 0
    # the draft survived: Confirm sends it now
    await admin.tap("✅ 确认发送")
    assert (await broadcast_rows(world))[-1]["state"] == "running"


# --- /broadcasts offers the controls -------------------------------------------------------


async def test_broadcasts_list_offers_pause_resume_and_cancel(world: World, person, admin) -> None:
    await voters(person, 400, 2)
    await world.outbox.abort()
    await compose(admin, "第一条")
    await admin.tap("✅ 确认发送")
    await compose(admin, "第二条")
    await admin.tap("✅ 确认发送")
    await admin.tap("⏸ 暂停")  # the second one's progress message, the newest

    out = await admin.send("/broadcasts")
    assert out[-1].buttons() == ["▶️ 继续 #2", "⏹ 取消 #2", "⏸ 暂停 #1", "⏹ 取消 #1"]

    out = await admin.tap("▶️ 继续 #2")
    assert out[-1].kind == "edit" and "⏸ 暂停 #2" in out[-1].buttons()
    states = {r["id"]: r["state"] for r in await broadcast_rows(world)}
    assert states == {1: "running", 2: "running"}

    await admin.tap("⏹ 取消 #1")
    first = (await broadcast_rows(world))[0]
    assert first["state"] == "cancelled"
    skipped = await world.rows("SELECT DISTINCT state, reason FROM outbox WHERE broadcast_id = 1")
    assert skipped == [{"state": "skipped", "reason": "cancelled"}]
    assert "⏸ 暂停 #1" not in admin.buttons() and "⏹ 取消 #1" not in admin.buttons()
    # the progress message of #1 says so too and has no buttons left
    progress = stored(world, ADMIN, first["progress_message_id"])
    assert "已取消" in progress["text"] and "reply_markup" not in progress

    await admin.tap("⏸ 暂停 #2")
    assert (await broadcast_rows(world))[1]["state"] == "paused"
    assert "▶️ 继续 #2" in admin.buttons()
    # a control of a broadcast that moved on says so, and changes nothing
    stale = BroadcastListControl(action=Control.PAUSE, broadcast=2, page=0)
    out = await admin.tap_data(stale.pack())
    assert [o.text for o in out if o.kind == "alert"] == [say(admin, "broadcast.not_now")]
    assert (await broadcast_rows(world))[1]["state"] == "paused"


# --- 6: the length is what was typed, not the HTML -----------------------------------------


def typed_text(length: int) -> str:
    """`length` characters, a third of them '&', '<' and '>' (each several in HTML)."""
    unit = "甲&乙<丙>"
    text = (unit * (length // len(unit) + 1))[:length]
    assert len(text) == length
    return text


async def test_4000_typed_characters_with_markup_signs_go_out_intact(
    world: World, person, admin
) -> None:
    (voter,) = await voters(person, 500, 1)
    text = typed_text(4000)
    assert len(html.escape(text)) > 7000  # what the old check measured
    await compose(admin, text)
    assert "收件人数：<b>1</b>" in admin.last
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    received = [o.text for o in world.api.outputs if o.chat_id == voter.id]
    assert received[-1] == html.escape(text, quote=False)
    assert not world.api.refusals


async def test_4097_typed_characters_are_refused_with_that_count(
    world: World, person, admin
) -> None:
    await voters(person, 600, 1)
    await admin.send("/broadcast")
    out = await admin.send(typed_text(4097))
    assert [o.text for o in out] == [say(admin, "broadcast.too_long", count=4097, maximum=4096)]
    out = await admin.send(typed_text(4096))
    assert out[-1].text == say(admin, "broadcast.choose_audience")


async def test_a_caption_is_measured_the_same_way(world: World, person, admin) -> None:
    (voter,) = await voters(person, 700, 1)
    photo = [{"file_id": "poster", "file_unique_id": "p", "width": 800, "height": 600}]
    await admin.send("/broadcast")
    out = await admin._message(photo=photo, caption=typed_text(1025))
    assert [o.text for o in out] == [say(admin, "broadcast.too_long", count=1025, maximum=1024)]
    await admin._message(photo=photo, caption=typed_text(1024))
    await admin.tap("全体选民")
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    photos = [c.params for c in world.api.calls_to("sendPhoto") if c.params["chat_id"] == voter.id]
    assert [p["caption"] for p in photos] == [html.escape(typed_text(1024), quote=False)]


# --- 5: invisible text is no notice -------------------------------------------------------


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u200b\u200c\u200d", "\u2060\ufeff", " \ufeff \n\u200b "]
)
async def test_a_notice_of_invisible_characters_is_refused(
    world: World, person, admin, invisible: str
) -> None:
    await voters(person, 800, 1)
    await admin.send("/broadcast")
    out = await admin.send(invisible)
    assert [o.text for o in out] == [say(admin, "broadcast.empty")]
    drafts = await world.rows("SELECT data FROM drafts WHERE kind = 'broadcast'")
    assert all('"text": ""' in r["data"] for r in drafts)
    assert await world.rows("SELECT * FROM broadcasts") == []
    assert await world.rows("SELECT * FROM outbox WHERE broadcast_id IS NOT NULL") == []
    out = await admin.send("还在等通知内容")  # the step stays: real text is taken
    assert out[-1].text == say(admin, "broadcast.choose_audience")


async def test_zero_width_characters_inside_a_notice_are_removed(
    world: World, person, admin
) -> None:
    (voter,) = await voters(person, 900, 1)
    await compose(admin, "\ufeff周六\u200b上午\u2060议事会\u200b")
    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    received = [o.text for o in world.api.outputs if o.chat_id == voter.id]
    assert received[-1] == "周六上午议事会"
    rows = await world.rows("SELECT text FROM broadcasts")
    assert rows == [{"text": "周六上午议事会"}]


def confirm_of_last_preview(world: World, staff: Person) -> tuple[str, dict[str, Any]]:
    """The Confirm data and message of the preview just shown."""
    label = say(staff, "broadcast.confirm")
    for output in reversed(staff.seen):
        for row in (output.markup or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return button["callback_data"], stored(world, staff.id, output.message_id)
    raise AssertionError("no preview with Confirm was shown")


async def test_the_confirm_of_an_older_preview_sends_nothing(
    world: World, admin: Person, person
) -> None:
    await voters(person, 9100, 3)
    await compose(admin, "旧的通知：周三停水。")
    old_data, old_message = confirm_of_last_preview(world, admin)
    await admin.send("/cancel")
    await compose(admin, "新的通知：周五停电。")

    replies = await admin.tap_data(old_data, old_message)
    assert [o.text for o in replies if o.kind == "alert"] == [say(admin, "broadcast.old_preview")]
    assert await broadcast_rows(world) == []

    await admin.tap(say(admin, "broadcast.confirm"))  # the latest preview's Confirm sends
    rows = await broadcast_rows(world)
    assert [r["text"] for r in rows] == ["新的通知：周五停电。"]


async def test_a_preview_before_the_audience_changed_sends_nothing(
    world: World, admin: Person, person
) -> None:
    await voters(person, 9200, 2)
    await compose(admin, "通知：社区活动。")
    old_data, old_message = confirm_of_last_preview(world, admin)
    await admin.tap(say(admin, "broadcast.change_audience"))
    await admin.tap("全体选民")
    replies = await admin.tap_data(old_data, old_message)
    assert [o.text for o in replies if o.kind == "alert"] == [say(admin, "broadcast.old_preview")]
    assert await broadcast_rows(world) == []


async def test_controls_that_arrived_though_their_send_timed_out_do_no_harm(
    world: World, person, admin
) -> None:
    """The new progress message reached Telegram but its answer did not: the broadcast is
    withdrawn, so its controls (on screen anyway) refuse clearly and Confirm sends once."""
    recipients = await voters(person, 400, 2)
    await compose(admin, "停电通知")
    fail_next_edit(world, ADMIN, "400")
    world.api.fail(ADMIN, "late")
    out = await admin.tap("✅ 确认发送")
    orphan = [o for o in out if o.kind == "message" and "⏸ 暂停" in o.buttons()]
    assert len(orphan) == 1  # on the staff member's screen, though the bot never heard so
    (withdrawn,) = await broadcast_rows(world)
    assert withdrawn["state"] == "cancelled" and await queued(world, withdrawn["id"]) == 0

    pause = await admin.tap("⏸ 暂停")
    assert not any(o.text == say(admin, "error.internal") for o in pause)
    assert (await broadcast_rows(world))[0]["state"] == "cancelled"

    await admin.tap("✅ 确认发送")
    await world.outbox.drain()
    rows = await broadcast_rows(world)
    assert [r["state"] for r in rows] == ["cancelled", "done"]
    for voter in recipients:
        texts = [m.get("text") for m in world.api.chat_messages(voter.id)]
        assert texts.count("停电通知") == 1
