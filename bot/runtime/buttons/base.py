"""Typed callback data, as aiogram's `CallbackData`: each kind of button is one frozen model
with a unique prefix and bounded fields. `pack()` refuses more than Telegram's 64 bytes;
`unpack()` refuses anything this bot did not make; `filter()` is the handler pattern."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from telegram import InlineKeyboardButton, Update

from bot.errors import AccessDenied
from bot.services.outbox import Intent, NoticeButton

MAX_BYTES = 64  # Telegram's limit on callback_data
SQLITE_MAX_INT = 2**63 - 1
SEPARATOR = ":"

# Field types every button uses: ids are positive and fit SQLite's 64-bit integer.
Id = Annotated[int, Field(ge=1, le=SQLITE_MAX_INT)]
Page = Annotated[int, Field(ge=0, le=99_999)]
Count = Annotated[int, Field(ge=0, le=99_999)]
Token = Annotated[str, Field(max_length=24, pattern=r"^[A-Za-z0-9_-]{1,24}$")]

PREFIX_SHAPE = re.compile(r"^[a-z][a-z0-9]{0,5}$")
DIGITS = re.compile(r"[0-9]{1,19}")

REGISTRY: dict[str, type[CallbackData]] = {}
NOTICE_ACTIONS: dict[Intent, Callable[[NoticeButton], CallbackData]] = {}


class MalformedButton(ValueError):
    """Callback data this bot did not make: forged, stale from an old version, or cut."""


class CallbackData(BaseModel):
    """One kind of button. Subclass with `class X(CallbackData, prefix="xx")`; fields are
    packed in declaration order, separated by ':'."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    prefix: ClassVar[str]

    def __init_subclass__(cls, *, prefix: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not PREFIX_SHAPE.match(prefix):
            raise TypeError(f"{cls.__name__}: prefix {prefix!r} must be 1-6 of [a-z0-9]")
        if prefix in REGISTRY:
            raise TypeError(
                f"{cls.__name__}: prefix {prefix!r} is taken by {REGISTRY[prefix].__name__}"
            )
        cls.prefix = prefix
        REGISTRY[prefix] = cls

    # --- packing -------------------------------------------------------------------------

    def pack(self) -> str:
        """The callback_data string; refuses a field holding ':' or a result over 64 bytes."""
        parts = [self.prefix]
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, Enum):
                text = str(value.value)
            else:
                text = str(value)
            if SEPARATOR in text:
                raise ValueError(f"{type(self).__name__}.{name} holds {SEPARATOR!r}")
            parts.append(text)
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"{type(self).__name__}: {len(data.encode())} bytes > {MAX_BYTES}")
        return data

    @classmethod
    def unpack(cls, data: object) -> Self:
        """The button behind `data`, or MalformedButton."""
        if not isinstance(data, str) or len(data.encode()) > MAX_BYTES:
            raise MalformedButton(repr(data)[:80])
        prefix, _, rest = data.partition(SEPARATOR)
        if prefix != cls.prefix:
            raise MalformedButton(f"not a {cls.__name__}")
        names = list(cls.model_fields)
        if not names:
            if data != cls.prefix:  # a button without fields packs to its prefix alone
                raise MalformedButton(f"{cls.__name__}: takes no fields")
            return cls()
        raw = rest.split(SEPARATOR)
        if len(raw) != len(names):
            raise MalformedButton(f"{cls.__name__}: wrong number of fields")
        values: dict[str, object] = {}
        for name, text in zip(names, raw, strict=True):
            annotation = cls.model_fields[name].annotation
            if annotation is bool:
                if text not in ("0", "1"):
                    raise MalformedButton(f"{cls.__name__}.{name}")
                values[name] = text == "1"
            elif annotation is int:
                if not DIGITS.fullmatch(text):
                    raise MalformedButton(f"{cls.__name__}.{name}")
                values[name] = int(text)
            else:
                values[name] = text
        try:
            return cls.model_validate(values)
        except ValidationError:
            raise MalformedButton(f"{cls.__name__}: out of bounds") from None

    @classmethod
    def of(cls, update: Update) -> Self:
        """The tapped button of `update`; a forged or stale one is refused as such."""
        data = update.callback_query.data if update.callback_query else None
        try:
            return cls.unpack(data)
        except MalformedButton:
            raise AccessDenied("error.stale_button") from None

    @classmethod
    def filter(cls, **expected: object) -> ButtonFilter:
        """The handler pattern: data that unpacks as this button (with these field values)."""
        return ButtonFilter((cls,), expected)

    def button(self, label: str) -> InlineKeyboardButton:
        """An inline button with this data."""
        return InlineKeyboardButton(label, callback_data=self.pack())


class ButtonFilter:
    """A `CallbackQueryHandler` pattern (PTB calls it with the data): true when the data
    unpacks as one of `buttons` and matches `expected`."""

    def __init__(self, buttons: tuple[type[CallbackData], ...], expected: dict[str, object]):
        self.buttons = buttons
        self.expected = expected

    def __call__(self, data: object) -> bool:
        for kind in self.buttons:
            try:
                button = kind.unpack(data)
            except MalformedButton:
                continue
            if all(getattr(button, k) == v for k, v in self.expected.items()):
                return True
        return False

    def __repr__(self) -> str:
        names = ", ".join(b.__name__ for b in self.buttons)
        return f"ButtonFilter({names}, {self.expected})"


def any_of(*buttons: type[CallbackData]) -> ButtonFilter:
    """One pattern for several kinds of button (a conversation's stale-button fallback)."""
    return ButtonFilter(buttons, {})


def unpack_any(data: object) -> CallbackData:
    """Whichever declared button `data` is; MalformedButton when none."""
    if isinstance(data, str):
        kind = REGISTRY.get(data.partition(SEPARATOR)[0])
        if kind is not None:
            return kind.unpack(data)
    raise MalformedButton(repr(data)[:80])


def notice_action(intent: Intent) -> Callable[[Callable[[NoticeButton], CallbackData]], Any]:
    """Declare which button a notice's typed action becomes (see `for_notice`)."""

    def register(factory: Callable[[NoticeButton], CallbackData]) -> Any:
        if intent in NOTICE_ACTIONS:
            raise TypeError(f"intent {intent} declared twice")
        NOTICE_ACTIONS[intent] = factory
        return factory

    return register


def for_notice(notice: NoticeButton) -> CallbackData:
    """The button a service's typed action stands for; services never write callback data."""
    return NOTICE_ACTIONS[notice.intent](notice)
