"""The street → station picker, shared by every feature that asks for a place. `purpose`
says which feature the pick belongs to, so each feature's handlers see only its own."""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from bot.runtime.buttons.base import CallbackData, Id, Page


class Picker(StrEnum):
    STATION = "st"  # a voter's own station
    INVITE = "iv"  # the station of an invited deputy
    DUTY = "dt"  # the station of a duty rule or turn
    VISIT = "vs"  # the station of a logged visit
    VOTERS_STREET = "bv"  # a broadcast to the voters of a street
    DEPUTIES_STREET = "bd"  # a broadcast to the deputies of a street
    BROADCAST_STATION = "bs"  # a broadcast to the voters of a station
    OPINION_FILTER = "of"  # staff filtering opinions by street
    CONSULT_VOTERS_STREET = "kv"  # a consultation for the voters of a street
    CONSULT_DEPUTIES_STREET = "kd"  # a consultation for the deputies of a street
    CONSULT_STATION = "kt"  # a consultation for the voters of a station
    STATS = "ts"  # the area of /stats: a street or a station
    DESK = "dk"  # the station a visitor came to (/desk)


class StreetPage(CallbackData, prefix="pz"):
    """A page of the streets (街镇)."""

    purpose: Picker
    page: Page


class StreetStations(CallbackData, prefix="ps"):
    """A page of one street's stations (or, for a street-wide choice, the street itself)."""

    purpose: Picker
    street: Id
    page: Page


class StationPicked(CallbackData, prefix="pp"):
    """A station chosen."""

    purpose: Picker
    station: Id


# The words searched for ride in the button as base64url: any text packs, ':' included.
# "pf:xx:99999:" leaves 52 characters, which hold 39 bytes of UTF-8.
WORDS_CHARS = 52
WORDS_BYTES = WORDS_CHARS * 3 // 4
Words = Annotated[str, Field(max_length=WORDS_CHARS, pattern=r"^[A-Za-z0-9_-]{1,52}$")]


def fit(words: str) -> str:
    """`words` cut (at a character) to what a search button can carry, so every page of a
    search looks for the same words as its first."""
    return words.encode()[:WORDS_BYTES].decode("utf-8", "ignore")


class StationSearch(CallbackData, prefix="pf"):
    """A page of the stations (or, for a street-wide choice, the streets) whose names hold
    the words searched for."""

    purpose: Picker
    page: Page
    words: Words

    @classmethod
    def of_words(cls, purpose: Picker, page: int, words: str) -> Self:
        """The button for a page of the search for `words` (already `fit`)."""
        packed = base64.urlsafe_b64encode(words.encode()).decode().rstrip("=")
        return cls(purpose=purpose, page=page, words=packed)

    @property
    def text(self) -> str:
        """The words searched for."""
        return _decoded(self.words)

    @model_validator(mode="after")
    def _readable(self) -> Self:
        _decoded(self.words)  # a forged value that is no UTF-8 is refused as malformed
        return self


def _decoded(packed: str) -> str:
    try:
        return base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("not the words of a search") from None
