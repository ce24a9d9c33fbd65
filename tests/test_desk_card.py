"""An opinion entered at the reception desk on its inbox card: the visitor's name and phone
for staff and the deputy handling it, only that it came from the desk for the station's other
deputies; nobody is asked a question before the visitor claims it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime.buttons.inbox import Claim, Compose
from tests.support.inbox import Mail
from tests.support.scenarios import invite_deputy, only, say
from tests.support.world import World
from tests.test_desk import at_desk, enter

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
SHOWN = {
    "zh-hans": "\n🏢 来访登记 · 姓名：王大爷 · 电话：13812345678",
    "en": "\n🏢 Reception desk · name: 王大爷 · phone: 13812345678",
}
HIDDEN = {
    "zh-hans": "\n🏢 来访登记（来访群众的信息仅经办代表和工作人员可见）",
    "en": "\n🏢 Reception desk (the visitor's details are for the handling deputy and staff only)",
}


@LANGS
async def test_the_card_shows_the_visitor_to_staff_and_the_holder_only(
    world: World, person: Any, lang: str
) -> None:
    staff = await at_desk(world, lang)
    zhang = await invite_deputy(world, staff, person, 3001, "张三", language_code=lang)
    li = await invite_deputy(world, staff, person, 3002, "李四", language_code=lang)
    await enter(staff)
    await Mail(world).take()  # the deputies' notices, each with its Open button
    await zhang.tap(say(zhang, "inbox.open_button"))
    assert zhang.last.endswith(HIDDEN[lang])
    await zhang.tap_data(Claim(opinion=1).pack())
    assert zhang.last.endswith(SHOWN[lang])
    await li.tap(say(li, "inbox.open_button"))
    assert li.last.endswith(HIDDEN[lang]) and "王大爷" not in li.last
    await staff.send("/opinions")
    await staff.tap(next(b for b in staff.buttons() if b.startswith("HD-2026-000001")))
    assert staff.last.endswith(SHOWN[lang])


@LANGS
async def test_nobody_is_asked_before_the_visitor_claims_it(
    world: World, person: Any, lang: str
) -> None:
    staff = await at_desk(world)
    zhang = await invite_deputy(world, staff, person, 3001, "张三", language_code=lang)
    await enter(staff)
    await zhang.tap_data(Claim(opinion=1).pack())
    assert say(zhang, "inbox.ask_button") not in zhang.buttons()
    refused = only(await zhang.tap_data(Compose(step="ask", opinion=1).pack()))
    assert refused.text == say(zhang, "desk.nobody_to_ask", tracking_no="HD-2026-000001")
    assert await world.rows("SELECT 1 FROM opinion_events WHERE kind = 'asked'") == []
