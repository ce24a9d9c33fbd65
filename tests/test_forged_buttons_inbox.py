"""Forged taps on the buttons of /inbox, /opinions, the typed steps and the voter's rating
(issue 7, failure 1): ids too big for SQLite, zero, negative or not numbers, fields that no
button carries, the wrong number of fields, and data over Telegram's 64 bytes. Each gets the
stale-button alert (which also stops the spinner), never the apology of a crashed handler,
and nothing in the database changes.

The table is built from the registry: every kind declared in bot.runtime.buttons.inbox is
packed with valid values and then spoiled field by field, so a new kind is covered as soon
as it is declared."""

from __future__ import annotations

import itertools
import typing
from enum import Enum

import pytest

from bot.demo.botapi import Output
from bot.runtime.buttons import REGISTRY, CallbackData
from bot.runtime.buttons import inbox as inbox_buttons
from bot.runtime.buttons.base import MAX_BYTES, SEPARATOR, SQLITE_MAX_INT
from bot.runtime.buttons.inbox import Compose, InboxOpen, OpinionCard, Side
from tests.support.inbox import NO, Cast, events_of, opinion_row
from tests.support.people import Person
from tests.support.scenarios import say
from tests.support.world import World

HUGE = "9" * 30  # what the tester sent
KINDS = sorted(
    (k for k in REGISTRY.values() if k.__module__ == inbox_buttons.__name__),
    key=lambda k: k.prefix,
)

# The shapes of the last version that the tester sent, with numbers SQLite cannot bind.
LEGACY = (
    f"ib:o:{HUGE}",
    f"ib:v:{HUGE}",
    f"ib:claim:{HUGE}",
    f"ib:answer:{HUGE}",
    f"ib:rel:{HUGE}",
    f"ib:to:1:{HUGE}",
    f"ib:l:all:{HUGE}",
    f"so:o:{HUGE}",
    f"so:answer:{HUGE}",
    f"so:accept:{HUGE}",
    f"so:to:{HUGE}:1",
    f"so:l:*:{HUGE}:0",
    f"sz:s:{HUGE}:0",
    f"rt:s:{HUGE}:yes",
    f"rt:f:{HUGE}:satisfied",
    f"rt:skip:{HUGE}",
    f"rt:again:{HUGE}",
    f"rp:{HUGE}",
)


# --- the table, from the declared kinds ----------------------------------------------------


def _bounds(kind: type[CallbackData], name: str) -> tuple[int, int]:
    """The declared (lowest, highest) of an integer field."""
    metadata = kind.model_fields[name].metadata
    lower = next(m.ge for m in metadata if hasattr(m, "ge"))
    upper = next(m.le for m in metadata if hasattr(m, "le"))
    return lower, upper


def _choices(kind: type[CallbackData], name: str) -> list[object]:
    """Every value of an enum or Literal field; the lowest value of an integer field."""
    annotation = kind.model_fields[name].annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return list(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    if annotation is int:
        return [max(_bounds(kind, name)[0], 1)]
    raise AssertionError(f"{kind.__name__}.{name}: no sample for {annotation!r}")


def valid_buttons(kind: type[CallbackData]) -> list[CallbackData]:
    """The kind with every combination of its enum and Literal values, ids at 1."""
    names = list(kind.model_fields)
    combos = itertools.product(*(_choices(kind, n) for n in names))
    return [kind.model_validate(dict(zip(names, values, strict=True))) for values in combos]


def _spoiled_values(kind: type[CallbackData], name: str) -> list[str]:
    """What a forger might put in field `name` instead of a value the bot makes."""
    if kind.model_fields[name].annotation is int:
        lower, upper = _bounds(kind, name)
        values = [HUGE, str(upper + 1), str(SQLITE_MAX_INT + 1), "-1", "abc", "1e3", " 5"]
        values += ["", "+1", "1_0", "0x1f", "１２", "1.5"]
        return values + (["0"] if lower >= 1 else [])
    return ["nonsense", "", "*", "ALL", "0"]


def forgeries(button: CallbackData) -> list[str]:
    """A valid button's data spoiled: each field in turn, the field count, the length."""
    kind = type(button)
    parts = button.pack().split(SEPARATOR)
    names = list(kind.model_fields)
    found = []
    for index, name in enumerate(names, start=1):
        for value in _spoiled_values(kind, name):
            found.append(SEPARATOR.join([*parts[:index], value, *parts[index + 1 :]]))
        if kind.model_fields[name].annotation is int:  # the right count, over 64 bytes
            padded = "0" * MAX_BYTES + parts[index]
            found.append(SEPARATOR.join([*parts[:index], padded, *parts[index + 1 :]]))
    found += [
        SEPARATOR.join(parts[:-1]),  # a field short
        SEPARATOR.join([*parts, "1"]),  # a field too many
        kind.prefix,
        kind.prefix + SEPARATOR,
        button.pack() + SEPARATOR + "0" * MAX_BYTES,  # over 64 bytes
    ]
    return [data for data in found if data != button.pack()]


def _has_side(kind: type[CallbackData]) -> bool:
    return "side" in kind.model_fields


def forged_taps(kind: type[CallbackData]) -> list[str]:
    """Spoiled data for the kind (on each side, where it has sides)."""
    bases = valid_buttons(kind)
    if not _has_side(kind):
        bases = bases[:1]
    return list(dict.fromkeys(d for b in bases for d in forgeries(b)))


# --- helpers ------------------------------------------------------------------------------


def assert_stale_alert(person: Person, new: list[Output], data: str) -> None:
    """Exactly one answer, the stale-button alert: no apology, no message."""
    expected = ("alert", say(person, "error.stale_button"), True)
    assert [(o.kind, o.text, o.show_alert) for o in new] == [expected], data


def assert_no_apology(world: World, person: Person) -> None:
    apology = say(person, "error.internal")
    assert not [o for o in world.api.outputs if o.chat_id == person.id and o.text == apology]


async def claimed_and_asked(cast: Cast) -> None:
    """The opinion held by 张三 with a question to the voter pending: every kind of button
    of this module would do something for someone."""
    await cast.zhang.tap_data(inbox_buttons.Claim(opinion=1).pack())
    await cast.zhang.tap_data(Compose(step="ask", opinion=1).pack())
    await cast.zhang.send("路灯具体在哪个位置？")
    await cast.mail.take()
    await cast.admin.send("/opinions")
    await cast.voter.send("/my")


# --- the tests ----------------------------------------------------------------------------


def test_the_table_covers_every_kind_of_this_module() -> None:
    """Every kind declared in the module is in the table, with a few dozen forgeries."""
    declared = {
        value
        for value in vars(inbox_buttons).values()
        if isinstance(value, type) and issubclass(value, CallbackData) and value is not CallbackData
    }
    assert declared == set(KINDS)
    for kind in KINDS:
        taps = forged_taps(kind)
        assert len(taps) >= 10, kind
        assert any(len(d.encode()) > MAX_BYTES for d in taps), kind
        assert any(HUGE in d for d in taps) or not any(
            kind.model_fields[n].annotation is int for n in kind.model_fields
        ), kind


async def test_every_valid_button_of_this_module_reaches_its_handler(world: World) -> None:
    """The base of each forgery is real: every kind, on every side, has a handler that is
    not the stale-button fallback."""
    patterns = world.button_patterns()
    for kind in KINDS:
        for button in valid_buttons(kind):
            data = button.pack()
            assert any(callable(p) and p(data) for p in patterns), data


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
async def test_forged_taps_get_the_stale_alert_and_change_nothing(
    cast: Cast, kind: type[CallbackData]
) -> None:
    world = cast.world
    await claimed_and_asked(cast)
    before = await world.snapshot()
    for person in (cast.voter, cast.zhang, cast.admin):
        for data in forged_taps(kind):
            assert_stale_alert(person, await person.tap_data(data), data)
        assert_no_apology(world, person)
    assert await world.snapshot() == before


async def test_the_taps_the_tester_sent_get_the_stale_alert(cast: Cast) -> None:
    world = cast.world
    await claimed_and_asked(cast)
    before = await world.snapshot()
    for person in (cast.voter, cast.zhang, cast.admin):
        for data in LEGACY:
            answered = len(world.api.calls_to("answerCallbackQuery"))
            assert_stale_alert(person, await person.tap_data(data), data)
            assert len(world.api.calls_to("answerCallbackQuery")) == answered + 1, data
        assert_no_apology(world, person)
    assert await world.snapshot() == before


@pytest.mark.parametrize(
    "kind",
    [k for k in KINDS if any(k.model_fields[n].annotation is int for n in k.model_fields)],
    ids=lambda k: k.__name__,
)
async def test_the_largest_ids_a_button_may_carry_reach_the_database_safely(
    cast: Cast, kind: type[CallbackData]
) -> None:
    """At the declared upper bounds the tap reaches its handler, which refuses it for what
    it is (no such opinion, street or deputy, or not allowed); SQLite binds every value."""
    world = cast.world
    await claimed_and_asked(cast)
    before = await world.snapshot()
    for base in valid_buttons(kind)[:1] if not _has_side(kind) else valid_buttons(kind):
        values = base.model_dump()
        for name in kind.model_fields:
            if kind.model_fields[name].annotation is int:
                values[name] = _bounds(kind, name)[1]
        data = kind.model_validate(values).pack()
        assert len(data.encode()) <= MAX_BYTES
        for person in (cast.voter, cast.zhang, cast.admin):
            answered = len(world.api.calls_to("answerCallbackQuery"))
            new = await person.tap_data(data)
            assert_no_apology(world, person)
            assert len(world.api.calls_to("answerCallbackQuery")) > answered, data
            alerts = [o for o in new if o.kind == "alert"]
            stale = say(person, "error.stale_button")
            assert all(o.text != stale for o in alerts), (data, person.id)
            assert len(alerts) <= 1 and new, (data, person.id, new)
    assert await world.snapshot() == before


async def test_a_forged_tap_while_typing_leaves_the_typing_as_it_was(cast: Cast) -> None:
    world, zhang = cast.world, cast.zhang
    await claimed_and_asked(cast)
    await zhang.tap_data(Compose(step="answer", opinion=1).pack())
    assert zhang.last == say(zhang, "handling.ask_answer")
    for data in (
        f"ibw:answer:{HUGE}",
        "ibw:answer:0",
        f"ibo:{Side.INBOX.value}:-1",
        f"ibv:{HUGE}",
        f"{InboxOpen.prefix}:1:1",
        OpinionCard(side=Side.INBOX, opinion=1).pack() + "0" * MAX_BYTES,
    ):
        assert_stale_alert(zhang, await zhang.tap_data(data), data)
    await zhang.send("已联系物业，本周内修好。")
    assert zhang.last == say(zhang, "handling.done_answer", tracking_no=NO)
    assert (await opinion_row(world))["status"] == "answered"
    assert [k for k, _ in await events_of(world)][-1] == "answered"
