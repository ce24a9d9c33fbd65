"""The whole loop of a deputy's suggestion, every step in the chat of the person who takes
it, in both languages: (1) three voters' opinions merged into one suggestion (two found as
similar), (2) co-signed, (3) assigned, returned (退办) by the lead department and reassigned,
(4) answered in class B with a commitment, (5) rated 不满意 with re-handling asked, (6) answered
again and rated 满意, (7) the commitment done — and the voters behind it told at each step.
Staff make the departments and invite the liaisons in chat too; nothing is seeded."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.people import Person
from tests.support.scenarios import BOT_USERNAME, consented_admin, invite_deputy, say
from tests.support.suggestions import button_with, draft_suggestion, send_opinion
from tests.support.world import World

pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

LIAISON_LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=lia_([A-Za-z0-9_-]+)")
NUMBER = "JY2026-0001"
SHELTER = (
    "学院路南口公交站台没有遮雨棚，下雨天老人孩子候车都淋雨，希望尽快加装。",
    "学院路公交车站没有遮雨棚，一下雨等车的人全身湿透，建议增设雨棚。",
    "清华东路公交站台缺少遮雨棚和座椅，雨天候车很不方便，请加装遮雨设施。",
)
SUGGESTION_MESSAGES = ("suggestion", "assign", "answers", "rating", "ledger")
LANGUAGES = [pytest.param("zh-hans", id="zh"), pytest.param("en", id="en")]


async def voter_keys(world: World, voter: Person) -> list[str]:
    """The notices the outbox sent this voter about suggestions, in order."""
    await world.outbox.drain()
    rows = await world.rows(
        "SELECT message_key, state FROM outbox WHERE chat_id = ? AND message_key IS NOT NULL"
        " ORDER BY id",
        (voter.id,),
    )
    about = [r for r in rows if r["message_key"].split(".")[0] in SUGGESTION_MESSAGES]
    assert all(r["state"] == "sent" for r in about), about
    return [r["message_key"] for r in about]


async def suggestion(world: World) -> dict[str, Any]:
    (row,) = await world.rows("SELECT * FROM suggestions")
    return row


async def add_department(admin: Person, name: str) -> None:
    await admin.send("/departments")
    await admin.tap(say(admin, "department.add"))
    await admin.send(name)


async def make_liaison(
    world: World,
    admin: Person,
    person: Callable[..., Person],
    user_id: int,
    name: str,
    department: str,
    code: str,
) -> Person:
    await admin.send(f"/invite liaison {name}")
    await admin.tap(department)
    match = LIAISON_LINK.search(admin.last)
    assert match, admin.last
    liaison = person(user_id, name, code)
    await liaison.send(f"/start lia_{match.group(1)}")
    await liaison.tap(say(liaison, "privacy.agree"))
    assert (await world.user_row(user_id))["role"] == "liaison"
    return liaison


async def answer(liaison: Person, summary: str, promise: str, due: str) -> None:
    """The lead department's answer in class B, met the deputy, one commitment."""
    await liaison.send("/assigned")
    await liaison.tap(button_with(liaison, NUMBER))
    await liaison.tap(say(liaison, "answers.answer_button"))
    await liaison.tap(button_with(liaison, "B "))
    await liaison.tap(say(liaison, "answers.met_yes"))
    await liaison.send(liaison.world.clock.now().date().isoformat())  # met today
    await liaison.send(summary)
    await liaison.send(promise)
    await liaison.send(due)
    await liaison.tap(say(liaison, "answers.commitments_done"))
    await liaison.tap(say(liaison, "answers.confirm"))


@pytest.mark.parametrize("code", LANGUAGES)
async def test_the_whole_loop_from_opinions_to_a_kept_commitment(
    world: World, person: Callable[..., Person], code: str
) -> None:
    admin = await consented_admin(world, code)
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    li = await invite_deputy(world, admin, person, 3002, "李四", language_code=code)
    voters = [person(2001, "刘洋", code), person(2002, "陈静", code), person(2003, "赵磊", code)]
    numbers = [await send_opinion(voters[0], SHELTER[0]), await send_opinion(voters[1], SHELTER[1])]
    # the third at the street's other station: found as similar, from 2 stations
    numbers.append(await send_opinion(voters[2], SHELTER[2], station="学院路第二联络站"))

    # (1) merged: the deputy takes the first and attaches the two similar ones
    await draft_suggestion(zhang, opinions=[numbers[0]], similar=numbers[1:], publish=False)
    row = await suggestion(world)
    assert (row["number"], row["state"], row["lead_deputy_id"]) == (NUMBER, "submitted", zhang.id)
    linked = await world.rows("SELECT opinion_id FROM suggestion_opinions ORDER BY opinion_id")
    assert [r["opinion_id"] for r in linked] == [1, 2, 3]
    for voter in voters:
        assert await voter_keys(world, voter) == ["suggestion.notify_taken_up"]
        await voter.send("/my")
        assert any(NUMBER in label for label in voter.buttons())

    # (2) co-signed: 李四 is invited from the card and confirms
    await zhang.send("/suggestions")
    await zhang.tap(button_with(zhang, NUMBER))
    await zhang.tap(say(zhang, "suggestion.invite_button"))
    await zhang.tap("李四")
    await world.outbox.drain()
    await li.tap(say(li, "suggestion.cosign_confirm_button"))
    cosigners = await world.rows("SELECT deputy_id, state FROM suggestion_cosigners")
    assert cosigners == [{"deputy_id": li.id, "state": "confirmed"}]

    # staff make two departments and invite a liaison for each, all in chat
    await add_department(admin, "区交通委")
    await add_department(admin, "区城管委")
    transport = await make_liaison(world, admin, person, 7001, "交通联络员", "区交通委", code)
    city = await make_liaison(world, admin, person, 7002, "城管联络员", "区城管委", code)

    # (3) assigned to 区交通委, which returns it (退办); staff reassign it to 区城管委
    await admin.send("/assign")
    await admin.tap(button_with(admin, NUMBER))
    await admin.tap(say(admin, "assign.assign"))
    await admin.tap("区交通委")
    await admin.tap(say(admin, "assign.review"))
    await admin.tap(say(admin, "assign.confirm"))
    assert (await suggestion(world))["state"] == "assigned"
    await world.outbox.drain()
    await transport.tap(say(transport, "assign.open_assignment"))
    await transport.tap(say(transport, "answers.return_button"))
    await transport.send("道路设施由城管委负责维护。")
    await transport.send("区城管委")
    await transport.tap(say(transport, "answers.confirm"))
    assert (await suggestion(world))["state"] == "returned"
    await world.outbox.drain()
    await admin.tap(say(admin, "answers.review_button"))
    await admin.tap(say(admin, "assign.reassign"))
    await admin.tap("区城管委")
    await admin.tap(say(admin, "assign.review"))
    await admin.tap(say(admin, "assign.confirm"))
    assert (await suggestion(world))["state"] == "assigned"
    assignments = await world.rows(
        "SELECT d.name, a.lead, a.state FROM suggestion_assignments a"
        " JOIN departments d ON d.id = a.department_id ORDER BY a.id"
    )
    assert [(a["name"], a["state"]) for a in assignments] == [
        ("区交通委", "returned"),
        ("区城管委", "active"),
    ]

    # (4) 区城管委 answers in class B with a commitment
    await answer(city, "已列入明年站台改造计划。", "学院路南口站台加装遮雨棚", "2026-12-28")
    row = await suggestion(world)
    assert (row["state"], row["outcome_class"]) == ("answered", "B")

    # (5) the lead deputy rates it 不满意 and asks for re-handling
    await world.outbox.drain()
    await zhang.tap(say(zhang, "answers.rate_button"))
    await zhang.tap(say(zhang, "suggestion.rating.unsatisfied"))
    await zhang.send("答复没有说明具体时间。")
    await zhang.tap(say(zhang, "rating.confirm_rehandle"))
    row = await suggestion(world)
    assert (row["state"], row["rehandled"], row["rating"]) == ("rehandling", 1, "unsatisfied")

    # (6) answered again (round 2), then rated 满意
    world.clock.advance(days=3)
    await answer(
        city, "已于12月底前完成站台遮雨棚加装。", "学院路南口站台加装遮雨棚和座椅", "2026-12-28"
    )
    await world.outbox.drain()
    await zhang.tap(say(zhang, "answers.rate_button"))
    await zhang.tap(say(zhang, "suggestion.rating.satisfied"))
    await zhang.tap(say(zhang, "rating.confirm"))
    row = await suggestion(world)
    assert (row["state"], row["rating"]) == ("closed", "satisfied")
    rounds = await world.rows("SELECT round, outcome_class FROM suggestion_answers ORDER BY round")
    assert [(r["round"], r["outcome_class"]) for r in rounds] == [(1, "B"), (2, "B")]
    assert row["ledger_done_at"] is None  # on the ledger until the commitment is kept

    # (7) on the commitment's date the department is asked; it reports it done
    world.clock.set(world.clock.now().replace(year=2026, month=12, day=28, hour=10))
    assert await world.services.ledger.run_due() >= 1
    await world.outbox.drain()
    await city.tap(say(city, "ledger.update_button"))
    await city.tap(say(city, "ledger.write_update"))
    await city.send("遮雨棚和座椅已安装完毕，12月27日通过验收。")
    await city.tap(say(city, "ledger.outcome_done"))
    row = await suggestion(world)
    assert row["ledger_done_at"] is not None

    # the voters heard of every step that concerns them, in order
    for voter in voters:
        await voter.send("/my")
        await voter.tap(button_with(voter, NUMBER))
        await voter.tap(say(voter, "suggestion.my_follow_button"))
        assert "遮雨棚" in voter.last  # followed to the answer's summary
        assert await voter_keys(world, voter) == [
            "suggestion.notify_taken_up",
            "assign.notice_voters",
            "assign.notice_voters",
            "answers.notice_answered_voters",
            "rating.notice_voters_rehandling",
            "answers.notice_answered_voters",
            "rating.notice_voters_rated",
            "ledger.notice_done_voters",
        ]
    kinds = [r["kind"] for r in await world.rows("SELECT kind FROM suggestion_events ORDER BY id")]
    assert kinds[0] == "submitted" and kinds[-1] == "ledger_done", kinds
    assert {"assigned", "returned", "reassigned", "answered", "rehandling", "rated"} <= set(kinds)
