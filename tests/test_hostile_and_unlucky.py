"""What a hostile or unlucky user met before (issue 7): a deep link too long for a button,
and a tap whose handler fails, which must never leave the button spinning."""

from __future__ import annotations

import pytest

from tests.support.scenarios import onboard, say
from tests.support.world import World


@pytest.mark.parametrize("code", ["A" * 60, "a-b_c" * 12, "x" * 33])
async def test_an_overlong_invitation_link_still_gets_a_working_consent_button(
    world: World, person, code: str
) -> None:
    stranger = person(8101, "陌生人")
    replies = await stranger.send(f"/start inv_{code}")
    assert world.api.refusals == []  # Telegram would have refused a 72-byte button
    assert replies[-1].buttons() == [say(stranger, "privacy.agree")]
    assert all(o.text != say(stranger, "error.internal") for o in replies)

    await stranger.tap(say(stranger, "privacy.agree"))
    assert await world.rows("SELECT role FROM users WHERE telegram_id = 8101") == [
        {"role": "voter"}
    ]
    assert say(stranger, "privacy.thanks") in [o.text for o in stranger.seen]


@pytest.mark.parametrize("fault", ["500:Internal Server Error", "network", "timeout"])
async def test_a_tap_whose_handler_fails_is_answered_with_the_apology(
    world: World, person, fault: str
) -> None:
    voter = person(8201)
    await onboard(voter)
    await voter.send("/language")
    # the handler's own answer to the tap fails; nothing else would stop the spinner
    world.api.fail_replies(voter.id, fault, method="answerCallbackQuery")

    replies = await voter.tap("English")

    alerts = [o for o in replies if o.kind == "alert" and o.show_alert]
    # the language was switched before the answer failed: the apology comes in English
    english = world.services.i18n.texts("en")
    assert [a.text for a in alerts] == [english("error.internal")]


async def test_a_failing_tap_that_was_already_answered_apologises_in_the_chat(
    world: World, person
) -> None:
    voter = person(8301)
    await onboard(voter)
    await voter.send("/opinion")
    world.api.fail_replies(voter.id, "500:Internal Server Error", method="editMessageText")
    replies = await voter.tap("交通出行")  # the handler answers the tap, then its edit fails
    assert replies[-1].kind == "message"
    assert replies[-1].text == say(voter, "error.internal")


async def test_a_tap_refused_by_the_flood_guard_does_not_spin(world: World, person) -> None:
    voter = person(8401)
    await onboard(voter)
    await voter.send("/language")
    message = world.api.chat_messages(voter.id)[-1]
    data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    limit = world.settings.flood_max_updates
    first = len(world.taps)
    for _ in range(limit + 3):
        await voter.tap_data(data, message, think=0)
    mine = world.taps[first:]
    answered = {c.params["callback_query_id"] for c in world.api.calls_to("answerCallbackQuery")}
    assert len(mine) == limit + 3
    assert [t for t in mine if t not in answered] == []  # the refused ones too
