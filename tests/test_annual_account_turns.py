"""From /account a deputy opens the year's duty turns (paged, past and coming) and marks one
"未能参加" with a typed reason, corrects the reason or undoes it; the account counts it at
once. A turn not theirs, of another year, with a visit logged, or a forged button is refused;
a bad reason too. In both languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from bot.runtime.buttons.account import AccountAbsent, AccountTurnOpen, AccountTurns, AccountUndo
from bot.services.annual_accounts import REASON_MAX
from bot.services.calendar import TURN_LABELS
from storage.models import TurnKind
from tests.support.consultation_seed import add_user
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, onboard, say, texts_of
from tests.support.world import World
from tests.test_annual_account import (
    DEPUTY,
    OTHER_DEPUTY,
    add_turn,
    add_visit,
    at,
    the_deputy,
)


async def absences(world: World) -> list[dict[str, object]]:
    return await world.rows("SELECT turn_id, deputy_id, reason FROM turn_absences ORDER BY 1, 2")


def turn_label(deputy: Person, mark: str, starts_at: datetime, kind: TurnKind) -> str:
    return say(
        deputy,
        "account.turn_button",
        mark=say(deputy, mark),
        date=texts_of(deputy).date(starts_at),
        kind=say(deputy, TURN_LABELS[kind]),
    )


async def open_turns(deputy: Person, year: int = 2026) -> None:
    await deputy.send("/account" if year == 2026 else f"/account {year}")
    await deputy.tap(say(deputy, "account.turns_button", year=year))


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_missed_turn_is_given_a_reason_corrected_and_undone(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    deputy = await the_deputy(world, person, code)
    turn = await add_turn(world, TurnKind.RECEPTION, at(4, 11), [DEPUTY])
    coming = await add_turn(world, TurnKind.HOME_VISIT, at(12, 12), [DEPUTY])

    await open_turns(deputy)
    assert deputy.last.startswith(say(deputy, "account.turns_head", year=2026))
    attended = turn_label(deputy, "account.mark_attended", at(4, 11), TurnKind.RECEPTION)
    assert deputy.seen[-1].buttons() == [
        attended,
        turn_label(deputy, "account.mark_coming", at(12, 12), TurnKind.HOME_VISIT),
    ]
    await deputy.tap(attended)
    assert say(deputy, "account.status_attended") in deputy.last
    await deputy.tap(say(deputy, "account.absent_button"))
    t = texts_of(deputy)
    kind = say(deputy, TURN_LABELS[TurnKind.RECEPTION])
    assert deputy.last == say(
        deputy,
        "account.ask_reason",
        date=t.date(at(4, 11)),
        kind=kind,
        reason="",
        maximum=REASON_MAX,
    )

    # a reason that is not one
    await deputy.send("\u200b\u200b")
    assert deputy.last == say(deputy, "account.reason_empty")
    await deputy.send("因" * (REASON_MAX + 1))
    assert deputy.last == say(
        deputy, "account.reason_too_long", maximum=REASON_MAX, count=REASON_MAX + 1
    )
    await deputy.send_sticker()
    assert deputy.last == say(deputy, "account.use_text")
    assert await absences(world) == []

    await deputy.send("  家中有事 <临时>  ")
    assert await absences(world) == [
        {"turn_id": turn, "deputy_id": DEPUTY, "reason": "家中有事 <临时>"}
    ]
    assert deputy.last.startswith(say(deputy, "account.absence_saved"))
    assert say(deputy, "account.status_absent", reason="家中有事 &lt;临时&gt;") in deputy.last
    await deputy.send("/account")
    assert say(deputy, "account.attended", count=0, reception=0, home=0, account=0) in (
        deputy.seen[-2].text
    )

    # the reason corrected: the old one is shown, the new one replaces it
    await deputy.tap_data(AccountTurnOpen(turn=turn, year=2026, page=0).pack())
    await deputy.tap(say(deputy, "account.change_reason_button"))
    assert "家中有事 &lt;临时&gt;" in deputy.last
    await deputy.send("临时生病")
    assert await absences(world) == [{"turn_id": turn, "deputy_id": DEPUTY, "reason": "临时生病"}]

    # undone: attended after all
    await deputy.tap(say(deputy, "account.undo_button"))
    assert await absences(world) == []
    assert deputy.last.startswith(say(deputy, "account.absence_undone"))
    assert say(deputy, "account.status_attended") in deputy.last

    # a coming turn can be marked ahead, and cancelling keeps nothing
    await deputy.tap_data(AccountTurnOpen(turn=coming, year=2026, page=0).pack())
    assert say(deputy, "account.status_coming") in deputy.last
    await deputy.tap(say(deputy, "account.absent_button"))
    await deputy.tap(say(deputy, "account.cancel_button"))
    assert deputy.last.startswith(say(deputy, "account.absence_cancelled"))
    assert await absences(world) == []
    assert await world.conversation_state("account_absence", DEPUTY) is None


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_turns_not_theirs_of_another_year_or_visited_are_refused(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    deputy = await the_deputy(world, person, code)
    await add_user(world, OTHER_DEPUTY, role="deputy", name="李明", station_id=1)
    visited = await add_turn(world, TurnKind.RECEPTION, at(3, 14), [DEPUTY])
    await add_visit(world, DEPUTY, "2026-03-14", 12, turn=visited)
    not_his = await add_turn(world, TurnKind.RECEPTION, at(5, 9), [OTHER_DEPUTY])
    last_year = await add_turn(world, TurnKind.RECEPTION, at(12, 13, year=2025), [DEPUTY])
    plain = await add_turn(world, TurnKind.RECEPTION, at(6, 13), [DEPUTY])
    await open_turns(deputy)

    # a visit logged: attended, and no button to say otherwise
    await deputy.tap_data(AccountTurnOpen(turn=visited, year=2026, page=0).pack())
    assert say(deputy, "account.status_visited") in deputy.last
    assert say(deputy, "account.absent_button") not in deputy.seen[-1].buttons()

    forged = [
        (AccountAbsent(turn=visited, year=2026, page=0), "account.turn_visited", {}),
        (AccountAbsent(turn=not_his, year=2026, page=0), "account.not_your_turn", {}),
        (AccountTurnOpen(turn=not_his, year=2026, page=0), "account.not_your_turn", {}),
        (
            AccountAbsent(turn=last_year, year=2026, page=0),
            "account.turn_other_year",
            {"year": 2026},
        ),
        (AccountUndo(turn=plain, year=2026, page=0), "account.not_absent", {}),
        (AccountAbsent(turn=999_999, year=2026, page=0), "account.turn_unknown", {}),
    ]
    for button, key, params in forged:
        await deputy.tap_data(button.pack())
        assert deputy.seen[-1].kind == "alert", key
        assert deputy.last == say(deputy, key, **params), key
    for data in ("sza:abc:2026:0", "sza:1:1999:0", f"szu:{plain}:2026"):
        await deputy.tap_data(data)
        assert deputy.last == say(deputy, "error.stale_button"), data
    assert await absences(world) == []
    assert await world.conversation_state("account_absence", DEPUTY) is None

    # last year's turn, from last year's account, is theirs to mark
    await deputy.tap_data(AccountAbsent(turn=last_year, year=2025, page=0).pack())
    await deputy.send("年底出差")
    assert await absences(world) == [
        {"turn_id": last_year, "deputy_id": DEPUTY, "reason": "年底出差"}
    ]

    # a voter is no deputy
    voter = person(501, "选民", code)
    await onboard(voter)
    await voter.tap_data(AccountTurns(year=2026, page=0).pack())
    assert voter.last == say(voter, "error.forbidden")


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_what_changed_while_the_reason_was_typed_is_checked_when_it_is_saved(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    """A visit logged for the turn while the reason was being typed: the deputy was there,
    the absence is refused. A turn taken off the deputy before the undo: refused too."""
    deputy = await the_deputy(world, person, code)
    turn = await add_turn(world, TurnKind.RECEPTION, at(4, 11), [DEPUTY])
    await deputy.tap_data(AccountAbsent(turn=turn, year=2026, page=0).pack())
    await add_visit(world, DEPUTY, "2026-04-11", 9, turn=turn)
    await deputy.send("家中有事")
    assert deputy.last == say(deputy, "account.turn_visited")
    assert await absences(world) == []

    other = await add_turn(world, TurnKind.RECEPTION, at(6, 13), [DEPUTY])
    await deputy.tap_data(AccountAbsent(turn=other, year=2026, page=0).pack())
    await deputy.send("出差")
    assert await absences(world) == [{"turn_id": other, "deputy_id": DEPUTY, "reason": "出差"}]
    async with world.db.transaction() as tx:  # staff gave the turn to another deputy
        await tx.execute(
            "DELETE FROM duty_turn_deputies WHERE turn_id = ? AND deputy_id = ?", (other, DEPUTY)
        )
    await deputy.tap_data(AccountUndo(turn=other, year=2026, page=0).pack())
    assert deputy.last == say(deputy, "account.not_your_turn")
    assert len(await absences(world)) == 1


async def test_the_reason_step_survives_a_restart(
    world: World, person: Callable[..., Person]
) -> None:
    deputy = await the_deputy(world, person)
    turn = await add_turn(world, TurnKind.RECEPTION, at(4, 11), [DEPUTY])
    await deputy.tap_data(AccountAbsent(turn=turn, year=2026, page=0).pack(), message=None)
    assert await world.conversation_state("account_absence", DEPUTY) == "reason"

    await world.crash_and_restart()
    await deputy.send("出差")

    assert await absences(world) == [{"turn_id": turn, "deputy_id": DEPUTY, "reason": "出差"}]
    assert await world.conversation_state("account_absence", DEPUTY) is None


async def test_the_turns_of_a_busy_year_come_in_pages(
    world: World, person: Callable[..., Person]
) -> None:
    deputy = await the_deputy(world, person)
    for month in range(1, 13):
        await add_turn(world, TurnKind.RECEPTION, at(month, 8), [DEPUTY])

    await open_turns(deputy)
    first = deputy.seen[-1].buttons()
    assert first[0] == turn_label(deputy, "account.mark_attended", at(1, 8), TurnKind.RECEPTION)
    assert say(deputy, "nav.next") in first
    await deputy.tap(say(deputy, "nav.next"))
    second = deputy.seen[-1].buttons()
    assert second[0] == turn_label(deputy, "account.mark_attended", at(9, 8), TurnKind.RECEPTION)
    assert second[3] == turn_label(deputy, "account.mark_coming", at(12, 8), TurnKind.RECEPTION)
    assert say(deputy, "nav.prev") in second
