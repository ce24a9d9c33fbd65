"""A deputy's own code (代表码): the deputy replacing it (/mycode), and what a voter who opened
it may tap (the deputy's station instead of theirs, or keep theirs). Both carry the code
itself: a tap does no more than opening the link again would, and a code replaced since (or
made up) opens nothing. Prefixes: dc, dcs."""

from __future__ import annotations

from enum import StrEnum

from bot.runtime.buttons.base import CallbackData, Token


class RenewStep(StrEnum):
    ASK = "ask"  # "a new code?" under the QR code
    CONFIRM = "yes"  # the old link stops working
    CANCEL = "no"


class CodeRenewal(CallbackData, prefix="dc"):
    """The deputy replaces their code `code` (the one shown with the button)."""

    step: RenewStep
    code: Token


class CodeStation(CallbackData, prefix="dcs"):
    """A voter with another station who opened the code `code`: switch to the deputy's
    station, or keep theirs."""

    code: Token
    switch: bool
