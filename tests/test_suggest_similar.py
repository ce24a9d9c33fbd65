"""The similar list of /suggest: after the deputy takes one of their opinions, open opinions
like it from the same 街镇 are offered ("N similar opinions from M stations") and attached
with a tap. Written against bot.services.similar_opinions' interface (`like`): it needs the
real matcher, and checks only what any sound matcher must find on these texts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.support.inbox import Mail, notice
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.suggestions import NUMBER, TITLE, button_with, send_opinion
from tests.support.world import World

LANGS = pytest.mark.parametrize("code", ["zh-hans", "en"])
SHELTER = "学院路南口公交站没有遮雨棚，下雨天候车的老人孩子都淋雨。"
SHELTER_SAME_STATION = "学院路南口的公交站缺一个遮雨棚，下雨天候车太难了，老人都淋雨。"
SHELTER_NEXT_STATION = "学院路南口公交站台没有遮雨棚，雨天等车只能淋雨，希望加装遮雨棚。"
SHELTER_OTHER_STREET = "海淀大街公交站没有遮雨棚，下雨天候车的老人孩子都淋雨。"
RUBBISH = "小区垃圾桶太少，垃圾经常堆在路边，夏天气味很大。"


@LANGS
async def test_similar_opinions_from_the_same_street_are_offered_and_attached(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    voters = [person(2001 + i, f"选民{i}", code) for i in range(5)]
    seed = await send_opinion(voters[0], SHELTER)
    same = await send_opinion(voters[1], SHELTER_SAME_STATION)
    nearby = await send_opinion(voters[2], SHELTER_NEXT_STATION, station="学院路第二联络站")
    elsewhere = await send_opinion(
        voters[3], SHELTER_OTHER_STREET, street="海淀街道", station="海淀街道联络站"
    )
    await send_opinion(voters[4], RUBBISH)
    mail = Mail(world)
    await mail.take()

    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    await zhang.tap(button_with(zhang, seed))
    offered = " ".join(zhang.buttons())
    assert same in offered and nearby in offered
    assert elsewhere not in offered  # never from another 街镇
    found = [
        say(zhang, "suggest.similar_found", count=n, stations=2) in zhang.last for n in range(2, 5)
    ]
    assert any(found), zhang.last
    await zhang.tap(button_with(zhang, nearby))
    assert button_with(zhang, nearby).startswith("✅ ")
    await zhang.tap(button_with(zhang, same))
    await zhang.tap(button_with(zhang, same))  # a second tap detaches it again
    assert not button_with(zhang, same).startswith("✅ ")
    await zhang.tap(button_with(zhang, same))
    await zhang.tap(say(zhang, "suggest.opinions_done", count=3))
    await draft_rest(zhang)

    linked = await world.rows(
        "SELECT o.tracking_no, o.holder_id FROM suggestion_opinions so"
        " JOIN opinions o ON o.id = so.opinion_id ORDER BY o.id"
    )
    assert [(r["tracking_no"], r["holder_id"]) for r in linked] == [
        (seed, zhang.id),
        (same, zhang.id),
        (nearby, zhang.id),  # unclaimed at the next station: now the lead's
    ]
    told = await mail.take()
    for voter in voters[:3]:
        taken = notice(
            voter, "suggestion.notify_taken_up", number=NUMBER, title=TITLE, deputy="张三"
        )
        assert taken in told
    # taken, they leave the similar matches of anyone's next draft
    matches = await world.services.similar_opinions.like(4)
    assert not {m.opinion.id for m in matches.matches} & {1, 2, 3}


async def draft_rest(deputy: Person) -> None:
    await deputy.send(TITLE)
    await deputy.send("学院路南口公交站台没有遮雨棚，雨天候车的老人和学生只能淋雨。")
    await deputy.send("一、在学院路南口站台增设遮雨棚；二、增设候车座椅。")
    await deputy.tap(say(deputy, "category.traffic"))
    await deputy.tap(say(deputy, "suggest.publish_yes"))
    await deputy.tap(say(deputy, "suggest.submit"))
    assert deputy.last == say(deputy, "suggest.submitted", number=NUMBER)


async def test_the_similar_list_leaves_out_what_was_taken_before(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    """Opinions taken from the deputy's own list are not offered again as similar ones;
    with nothing similar the deputy is told so and may go on."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    first = await send_opinion(person(2001), RUBBISH)
    await send_opinion(person(2002), SHELTER)
    await zhang.send("/suggest")
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    await zhang.tap(button_with(zhang, first))
    assert zhang.last.endswith(say(zhang, "suggest.similar_none"))
    assert first not in " ".join(zhang.buttons()[:6])
    assert say(zhang, "suggest.more_opinions") in zhang.buttons()
    await zhang.tap(say(zhang, "suggest.opinions_done", count=1))
    assert say(zhang, "suggest.taken_count", count=1) in zhang.last


async def test_starting_from_opinions_prepares_the_streets_similar_ones(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    """While the deputy looks through their own opinions, their 街镇's index is built in the
    background (its texts segmented), so the similar list is ready after the pick."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    seed = await send_opinion(person(2001), SHELTER)
    await send_opinion(person(2002), SHELTER_SAME_STATION)
    await send_opinion(
        person(2003), SHELTER_OTHER_STREET, street="海淀街道", station="海淀街道联络站"
    )
    await zhang.send("/suggest")
    assert await world.rows("SELECT * FROM opinion_terms") == []
    await zhang.tap(say(zhang, "suggest.from_opinions"))
    kept: list[dict] = []
    for _ in range(3000):  # no pick yet: it goes on by itself (a loaded machine: 30 s)
        await asyncio.sleep(0.01)
        kept = await world.rows("SELECT opinion_id FROM opinion_terms ORDER BY opinion_id")
        if kept:
            break
    assert [r["opinion_id"] for r in kept] == [1, 2]  # 学院路's, not 海淀's
    await zhang.tap(button_with(zhang, seed))
    assert say(zhang, "suggest.similar_found", count=1, stations=1) in zhang.last
