"""The button registry: unique prefixes, every kind handled, none over 64 bytes even with
the longest values its fields allow, forgeries refused, and no callback data written by
hand anywhere else in the code."""

from __future__ import annotations

import ast
import re
import typing
from enum import Enum
from pathlib import Path

import pytest

from bot.runtime.buttons import NOTICE_ACTIONS, REGISTRY, CallbackData, MalformedButton
from bot.runtime.buttons.base import MAX_BYTES, SQLITE_MAX_INT, ButtonFilter
from bot.runtime.buttons.pickers import Picker, StationPicked
from bot.services.outbox import Intent, NoticeButton
from tests.support.world import World

ROOT = Path(__file__).resolve().parent.parent
REGISTRY_DIR = ROOT / "bot" / "runtime" / "buttons"
ANY_CHAR = re.compile(r"(?<!\\)\.|\\[wWsSDpP]|\[\^")


def _longest(kind: type[CallbackData], name: str) -> int:
    """The most bytes field `name` can pack to, from its declared type and bounds."""
    info = kind.model_fields[name]
    annotation = info.annotation
    if annotation is bool:
        return 1
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return max(len(str(m.value).encode()) for m in annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return max(len(str(v).encode()) for v in typing.get_args(annotation))
    bounds = {type(m).__name__: m for m in info.metadata}
    if annotation is int:
        upper = getattr(bounds.get("Le"), "le", None)
        lower = getattr(bounds.get("Ge"), "ge", None)
        assert upper is not None and lower is not None, f"{kind.__name__}.{name} is unbounded"
        return max(len(str(upper)), len(str(lower)))
    if annotation is str:
        longest = getattr(bounds.get("MaxLen"), "max_length", None)
        assert longest is not None, f"{kind.__name__}.{name} has no max_length"
        pattern = getattr(info, "pattern", None) or next(
            (m.pattern for m in info.metadata if getattr(m, "pattern", None)), None
        )
        # a pattern of ASCII character classes only admits 1-byte characters
        ascii_only = pattern is not None and pattern.isascii() and not ANY_CHAR.search(pattern)
        return longest if ascii_only else longest * 4
    raise AssertionError(f"{kind.__name__}.{name}: undeclared field type {annotation!r}")


@pytest.mark.parametrize("kind", sorted(REGISTRY.values(), key=lambda k: k.prefix), ids=str)
def test_no_button_can_exceed_64_bytes(kind: type[CallbackData]) -> None:
    names = list(kind.model_fields)
    worst = len(kind.prefix) + len(names) + sum(_longest(kind, n) for n in names)
    assert worst <= MAX_BYTES, f"{kind.__name__} can pack to {worst} bytes"


def test_the_longest_values_pack_within_64_bytes() -> None:
    longest_station = StationPicked(purpose=Picker.OPINION_FILTER, station=SQLITE_MAX_INT)
    assert len(longest_station.pack().encode()) <= MAX_BYTES
    assert StationPicked.unpack(longest_station.pack()) == longest_station


def test_a_duplicate_prefix_is_refused() -> None:
    taken = next(iter(REGISTRY))
    with pytest.raises(TypeError, match="taken"):

        class Twin(CallbackData, prefix=taken):  # pragma: no cover - refused at definition
            pass


def test_pack_refuses_more_than_64_bytes() -> None:
    class Roomy(CallbackData, prefix="zzroom"):
        text: str

    try:
        with pytest.raises(ValueError, match="bytes"):
            Roomy(text="汉" * 30).pack()
    finally:
        del REGISTRY["zzroom"]


@pytest.mark.parametrize(
    "data",
    [
        "pp:st:0",
        "pp:st:-1",
        "pp:st:999999999999999999999999999999",
        f"pp:st:{SQLITE_MAX_INT + 1}",
        "pp:st:１２",
        "pp:st:1e3",
        "pp:st: 5",
        "pp:zz:5",
        "pp:st:5:5",
        "pp:st",
        "pp:st:" + "9" * 70,
        "",
        None,
    ],
)
def test_unpack_refuses_what_the_bot_did_not_make(data: str | None) -> None:
    with pytest.raises(MalformedButton):
        StationPicked.unpack(data)


def test_every_notice_intent_becomes_a_declared_button() -> None:
    assert set(NOTICE_ACTIONS) == set(Intent)
    # the longest choice each rating intent takes; the others take none
    choices = {Intent.RATE_SOLVED: "partly", Intent.RATE_SATISFACTION: "unsatisfied"}
    for intent, factory in NOTICE_ACTIONS.items():
        notice = NoticeButton(
            label="x", intent=intent, target=SQLITE_MAX_INT, choice=choices.get(intent, "")
        )
        button = factory(notice)
        assert type(button).prefix in REGISTRY
        assert len(button.pack().encode()) <= MAX_BYTES


async def test_every_declared_button_has_a_handler(world: World) -> None:
    patterns = world.button_patterns()
    handled = {kind for p in patterns if isinstance(p, ButtonFilter) for kind in p.buttons}
    unhandled = sorted(k.__name__ for k in REGISTRY.values() if k not in handled)
    assert not unhandled, f"declared buttons without a handler: {unhandled}"
    # the only pattern that is no ButtonFilter is the catch-all for stale buttons
    others = [p for p in patterns if not isinstance(p, ButtonFilter)]
    assert others == [None], others


# --- no callback data written by hand outside the registry ---------------------------------

CALLBACK_SHAPE = re.compile(r"^[a-z][a-z0-9_]{0,7}:($|[A-Za-z0-9_{])")


def _code_files() -> list[Path]:
    return [
        path
        for package in ("bot", "handlers", "storage")
        for path in sorted((ROOT / package).rglob("*.py"))
        if REGISTRY_DIR not in path.parents
    ]


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value + "{"))
    return found


def test_no_callback_literal_outside_the_registry() -> None:
    offenders = []
    for path in _code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        for line, text in _literals(tree):
            if CALLBACK_SHAPE.match(text) and not text.startswith(("http:", "https:")):
                offenders.append(f"{where}:{line}: {text!r}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if called == "InlineKeyboardButton":  # buttons come from CallbackData.button()
                offenders.append(f"{where}:{node.lineno}: InlineKeyboardButton(...)")
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "callback_data" and not isinstance(value, ast.Constant):
                    offenders.append(f"{where}:{node.lineno}: callback_data=")
                if (
                    keyword.arg == "pattern"
                    and called == "CallbackQueryHandler"
                    and not isinstance(value, ast.Call)
                ):
                    offenders.append(f"{where}:{node.lineno}: pattern=")
    assert not offenders, "callback data written by hand:\n" + "\n".join(offenders)
