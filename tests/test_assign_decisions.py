"""Staff's other decisions on the card of /assign: 不予交办 with a typed reason the deputies
read (empty, too long and non-text reasons refused at the step), 重点督办 on and off, and
the one extension of the deadline (代表法 art. 51) — asked by the department and granted or
refused, or given directly — refused the second time."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.runtime.buttons.assign import (
    AssignOpen,
    AssignPriority,
    AssignStart,
    DeclineConfirm,
    DeclineStart,
    ExtensionAsk,
    ExtensionGrant,
    ExtensionRefuse,
)
from bot.runtime.buttons.assigned import ExtensionStart
from bot.services.suggestion_handling import REASON_MAX
from storage.db import stamp
from tests.support.inbox import notice
from tests.support.scenarios import LANGUAGES, only, say
from tests.support.suggestion_seed import seed_assignment
from tests.support.world import SHANGHAI, World
from tests.test_assign import (
    NUMBER,
    TITLE,
    alert,
    day,
    events,
    item,
    make_loop,
    open_card,
    suggestion_row,
)

pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

DUE = datetime(2027, 2, 27, tzinfo=SHANGHAI)  # 交办 at the World's first moment, 3 months on
EXTENDED = datetime(2027, 5, 27, tzinfo=SHANGHAI)  # six months from 交办
DUE_DAY, EXTENDED_DAY = date(2027, 2, 26), date(2027, 5, 26)  # their last days, as told


# --- 不予交办 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_decline_with_a_reason_the_deputies_read(
    world: World, person, code: str, locale: str
) -> None:
    loop = await make_loop(world, person, code)
    admin = loop.admin
    await open_card(admin)
    await admin.tap(say(admin, "assign.decline"))
    assert say(admin, "assign.ask_reason", maximum=REASON_MAX) in admin.last
    assert await world.conversation_state("suggestion_decline", admin.id) == "reason"

    assert only(await admin.send("\u200b\u3000")).text == say(admin, "assign.reason_empty")
    too_long = only(await admin.send("理" * (REASON_MAX + 1))).text
    assert too_long == say(
        admin, "assign.reason_too_long", maximum=REASON_MAX, count=REASON_MAX + 1
    )
    assert only(await admin.send_sticker()).text == say(admin, "assign.reason_text")
    assert only(await admin.send("/departments")).text == say(admin, "assign.in_progress")
    # 交办 meanwhile: one conversation at a time
    assert alert(await admin.tap_data(AssignStart(suggestion=1).pack())) == say(
        admin, "conversation.busy"
    )
    assert (await suggestion_row(world))["state"] == "submitted"

    reason = "属于市级事权，<建议>转市人大代表提出"
    preview = only(await admin.send(f"  {reason}  ")).text
    assert (
        say(admin, "assign.decline_preview", reason="属于市级事权，&lt;建议&gt;转市人大代表提出")
        in preview
    )
    await admin.tap(say(admin, "assign.decline_confirm"))
    assert admin.last.startswith(say(admin, "assign.declined", number=NUMBER))
    assert (
        say(admin, "assign.card_declined", reason="属于市级事权，&lt;建议&gt;转市人大代表提出")
        in admin.last
    )
    assert say(admin, "assign.assign") not in admin.seen[-1].buttons()
    row = await suggestion_row(world)
    assert (row["state"], row["decline_reason"]) == ("declined", reason)
    assert await events(world) == [("declined", reason)]
    assert await world.conversation_state("suggestion_decline", admin.id) is None
    # its opinion is let go: back with the deputies, its own history saying why
    assert await world.rows("SELECT 1 FROM suggestion_opinions") == []
    released = await world.rows(
        "SELECT opinion_id, actor_id, note FROM opinion_events WHERE kind = 'suggestion_declined'"
    )
    assert released == [{"opinion_id": 1, "actor_id": admin.id, "note": NUMBER}]

    escaped = "属于市级事权，&lt;建议&gt;转市人大代表提出"
    about = {"number": NUMBER, "title": TITLE}
    assert sorted(await loop.mail.take()) == sorted(
        [
            notice(loop.zhang, "assign.notice_declined", **about, reason=escaped),
            notice(loop.li, "assign.notice_declined", **about, reason=escaped),
            notice(loop.voter, "assign.voters_declined", **about),
        ]
    )
    before = await world.snapshot()
    for data in (
        DeclineConfirm(suggestion=1),
        AssignStart(suggestion=1),
        DeclineStart(suggestion=1),
    ):
        assert alert(await admin.tap_data(data.pack())) == say(
            admin, "assign.refused_declined", number=NUMBER
        ), data
    assert await world.snapshot() == before


async def test_a_returned_suggestion_is_reassigned_not_declined(world: World, person) -> None:
    loop = await make_loop(world, person, "en")
    await seed_assignment(world, loop.suggestion, loop.transport)
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = 'returned' WHERE id = 1")
    before = await world.snapshot()
    assert alert(await loop.admin.tap_data(DeclineStart(suggestion=1).pack())) == say(
        loop.admin, "assign.decline_returned", number=NUMBER
    )
    assert await world.snapshot() == before


async def test_cancelling_a_decline_leaves_the_suggestion_waiting(world: World, person) -> None:
    loop = await make_loop(world, person, "zh-hans")
    admin = loop.admin
    await open_card(admin)
    await admin.tap(say(admin, "assign.decline"))
    await admin.send("不属于本级")
    await admin.send("/cancel")
    assert admin.last == say(admin, "assign.cancelled")
    assert (await suggestion_row(world))["state"] == "submitted"
    assert alert(await admin.tap_data(DeclineConfirm(suggestion=1).pack())) == say(
        admin, "assign.no_draft"
    )
    assert await loop.mail.take() == []


# --- 重点督办 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_priority_supervision_on_and_off(
    world: World, person, code: str, locale: str
) -> None:
    loop = await make_loop(world, person, code)
    admin = loop.admin
    await seed_assignment(world, loop.suggestion, loop.transport, [loop.city])
    await loop.mail.take()
    await admin.send("/assign")
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_handling"), count=1, mark="")
    )
    await admin.tap(item())
    out = await admin.tap(say(admin, "assign.flag"))
    assert [o.text for o in out if o.kind == "alert"] == [say(admin, "assign.flagged")]
    assert say(admin, "assign.card_priority") in admin.last
    assert (await suggestion_row(world))["priority"] == 1
    about = {"number": NUMBER, "title": TITLE}
    assert await loop.mail.take() == [
        notice(loop.transport_liaison, "assign.notice_priority", **about),
        notice(loop.city_liaison, "assign.notice_priority", **about),
    ]
    # tapped twice (an old card): nothing more happens
    await admin.tap_data(AssignPriority(suggestion=1, on=True).pack())
    assert [kind for kind, _ in await events(world)] == ["priority_on"]
    await admin.send("/assign")
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_handling"), count=1, mark="")
    )
    assert say(admin, "assign.priority_mark") + f"<b>{NUMBER}</b>" in admin.last
    await admin.tap(item())
    await admin.tap(say(admin, "assign.unflag"))
    assert (await suggestion_row(world))["priority"] == 0
    assert [kind for kind, _ in await events(world)] == ["priority_on", "priority_off"]
    assert await loop.mail.take() == []


async def test_a_withdrawn_suggestion_cannot_be_flagged(world: World, person) -> None:
    loop = await make_loop(world, person, "en")
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = 'withdrawn' WHERE id = 1")
    before = await world.snapshot()
    assert alert(await loop.admin.tap_data(AssignPriority(suggestion=1, on=True).pack())) == say(
        loop.admin, "assign.not_flaggable", number=NUMBER
    )
    assert await world.snapshot() == before


# --- the one extension ------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_extend_once_and_a_second_extension_is_refused(
    world: World, person, code: str, locale: str
) -> None:
    loop = await make_loop(world, person, code)
    admin = loop.admin
    await seed_assignment(world, loop.suggestion, loop.transport, at=world.clock.now())
    await loop.mail.take()
    await admin.send("/assign")
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_handling"), count=1, mark="")
    )
    await admin.tap(item())
    await admin.tap(say(admin, "assign.extend"))
    assert (
        say(
            admin,
            "assign.extension_confirm",
            due=day(admin, DUE_DAY),
            new_due=day(admin, EXTENDED_DAY),
            months=6,
        )
        in admin.last
    )
    assert (await suggestion_row(world))["extended"] == 0
    await admin.tap(say(admin, "assign.extension_yes"))
    assert admin.last.startswith(say(admin, "assign.extended", due=day(admin, EXTENDED_DAY)))
    row = await suggestion_row(world)
    assert (row["extended"], datetime.fromisoformat(row["due_at"])) == (1, EXTENDED)
    assert say(admin, "assign.extend") not in admin.seen[-1].buttons()
    assert await events(world) == [("extended", "")]
    assert await loop.mail.take() == [
        notice(
            loop.transport_liaison,
            "assign.notice_extended",
            number=NUMBER,
            title=TITLE,
            due_on=day(loop.transport_liaison, EXTENDED_DAY),
        ),
        notice(
            loop.zhang,
            "assign.notice_deputy_extended",
            number=NUMBER,
            title=TITLE,
            due_on=day(loop.zhang, EXTENDED_DAY),
        ),
    ]
    before = await world.snapshot()
    refusal = say(admin, "assign.extended_already", number=NUMBER, due=day(admin, EXTENDED_DAY))
    for data in (ExtensionAsk(suggestion=1), ExtensionGrant(suggestion=1)):
        assert alert(await admin.tap_data(data.pack())) == refusal
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_department_asks_for_more_time_and_staff_refuse_then_grant(
    world: World, person, code: str, locale: str
) -> None:
    loop = await make_loop(world, person, code)
    admin = loop.admin
    await seed_assignment(world, loop.suggestion, loop.transport, at=world.clock.now())

    async def ask(reason: str) -> None:  # as the department's request leaves it
        async with world.db.transaction() as tx:
            await tx.execute(
                "UPDATE suggestions SET extension_requested_at = ?, extension_reason = ?"
                " WHERE id = 1",
                (world.clock.now().isoformat(), reason),
            )

    assert alert(await admin.tap_data(ExtensionRefuse(suggestion=1).pack())) == say(
        admin, "assign.no_extension_request", number=NUMBER
    )
    world.clock.advance(days=40)
    await ask("需要协调地铁公司，三个月内无法完成")
    await loop.mail.take()
    await admin.send("/assign")
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_handling"), count=1, mark="")
    )
    await admin.tap(item())
    texts = world.services.i18n.texts(locale)
    assert (
        say(
            admin,
            "assign.card_extension_asked",
            date=texts.date(world.clock.now()),
            reason="需要协调地铁公司，三个月内无法完成",
        )
        in admin.last
    )
    await admin.tap(say(admin, "assign.extension_refuse"))
    assert admin.last.startswith(say(admin, "assign.refused"))
    row = await suggestion_row(world)
    assert (row["extension_requested_at"], row["extended"]) == (None, 0)
    assert datetime.fromisoformat(row["due_at"]) == DUE
    assert await loop.mail.take() == [
        notice(
            loop.transport_liaison,
            "assign.notice_extension_refused",
            number=NUMBER,
            title=TITLE,
            due_on=day(loop.transport_liaison, DUE_DAY),
        ),
    ]
    assert alert(await admin.tap_data(ExtensionRefuse(suggestion=1).pack())) == say(
        admin, "assign.no_extension_request", number=NUMBER
    )

    await ask("地铁公司已回复，需要再给两个月")
    await admin.send("/assign")
    await admin.tap(
        say(admin, "assign.part_tab", part=say(admin, "assign.part_handling"), count=1, mark="")
    )
    await admin.tap(item())
    await admin.tap(say(admin, "assign.extension_grant"))
    await admin.tap(say(admin, "assign.extension_yes"))
    row = await suggestion_row(world)
    assert (row["extended"], datetime.fromisoformat(row["due_at"])) == (1, EXTENDED)
    assert [e for e in await events(world)] == [
        ("extension_refused", "需要协调地铁公司，三个月内无法完成"),
        ("extended", "地铁公司已回复，需要再给两个月"),
    ]
    assert say(admin, "assign.extension_grant") not in admin.seen[-1].buttons()


async def test_re_handling_is_not_extended(world: World, person) -> None:
    loop = await make_loop(world, person, "en")
    await seed_assignment(world, loop.suggestion, loop.transport)
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET state = 'rehandling' WHERE id = 1")
    assert alert(await loop.admin.tap_data(ExtensionAsk(suggestion=1).pack())) == say(
        loop.admin, "assign.not_extendable", number=NUMBER
    )
    await loop.admin.tap_data(AssignOpen(suggestion=1, page=0).pack())
    assert say(loop.admin, "assign.record_answer") in loop.admin.seen[-1].buttons()
    assert say(loop.admin, "assign.extend") not in loop.admin.seen[-1].buttons()


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_an_extension_is_once_per_suggestion_even_across_a_reassignment(
    world: World, person, code: str, locale: str
) -> None:
    loop = await make_loop(world, person, code)
    admin = loop.admin
    await seed_assignment(world, loop.suggestion, loop.transport, at=world.clock.now())
    await admin.tap_data(ExtensionAsk(suggestion=1).pack())
    await admin.tap(say(admin, "assign.extension_yes"))
    assert (await suggestion_row(world))["extended"] == 1
    # 区交通委 returns it (as the department's return leaves it); staff reassign it
    world.clock.advance(days=2)
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestion_assignments SET state = 'returned', returned_at = ? WHERE id = 1",
            (stamp(world.clock.now()),),
        )
        await tx.execute("UPDATE suggestions SET state = 'returned', due_at = NULL WHERE id = 1")
    await admin.tap_data(AssignOpen(suggestion=1, page=0).pack())
    await admin.tap(say(admin, "assign.reassign"))
    await admin.tap("区城管委")
    await admin.tap(say(admin, "assign.review"))
    await admin.tap(say(admin, "assign.confirm"))
    row = await suggestion_row(world)
    assert (row["state"], row["extended"]) == ("assigned", 1)
    # three months from the reassignment (2026-11-28): the extension is not given again
    assert datetime.fromisoformat(row["due_at"]) == datetime(2027, 3, 1, tzinfo=SHANGHAI)
    assert say(admin, "assign.extend") not in admin.seen[-1].buttons()
    refusal = say(
        admin, "assign.extended_already", number=NUMBER, due=day(admin, date(2027, 2, 28))
    )
    assert alert(await admin.tap_data(ExtensionAsk(suggestion=1).pack())) == refusal
    # and the new department's view agrees: it cannot ask
    liaison = loop.city_liaison
    await liaison.send("/assigned")
    await liaison.tap(NUMBER)
    assert say(liaison, "answers.extension_button") not in liaison.buttons()
    asked = alert(await liaison.tap_data(ExtensionStart(suggestion=1).pack()))
    assert asked == say(liaison, "answers.already_extended")
