"""The street → station picker, shared by every feature that asks for a place. `purpose`
says which feature the pick belongs to, so each feature's handlers see only its own."""

from __future__ import annotations

from enum import StrEnum

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

