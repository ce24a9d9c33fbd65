"""Buttons of /desk, where staff enter a visitor's opinion (the visitor's claim is a deep
link, `start=claim_<code>`: bot.runtime.buttons.start)."""

from __future__ import annotations

from enum import StrEnum

from bot.runtime.buttons.base import CallbackData, Token
from bot.runtime.buttons.opinion import CategoryCode


class DeskAct(StrEnum):
    STATION = "st"  # pick another station
    SKIP_NAME = "sn"  # the visitor gives no name
    SKIP_PHONE = "sp"  # the visitor gives no phone
    AGREED = "ok"  # the visitor agreed (their spoken consent)
    SEND = "send"  # send the draft named by `draft`
    CANCEL = "no"  # drop the draft: nothing is stored
    NEXT = "next"  # the next visitor, at the same station
    DONE = "done"  # no more visitors


NO_DRAFT = "-"  # `draft` of every act but SEND


class DeskTap(CallbackData, prefix="dk"):
    """One act of /desk; Send carries the draft's token, so a repeated tap finds the opinion
    the draft became."""

    act: DeskAct
    draft: Token = NO_DRAFT


class DeskCategory(CallbackData, prefix="dkc"):
    """The category of the visitor's opinion (the same as /opinion's)."""

    code: CategoryCode
