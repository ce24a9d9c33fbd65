"""Buttons of /privacy, /mydata and /forget: under the notice, download or erase; under
/forget's question, erase or keep. They work before consent too (see handlers.gate)."""

from __future__ import annotations

from enum import StrEnum

from bot.runtime.buttons.base import CallbackData, Token


class RightAction(StrEnum):
    MYDATA = "mydata"  # send the /mydata file
    FORGET = "forget"  # ask /forget's question


class PrivacyRight(CallbackData, prefix="pv"):
    """Under /privacy (and a renewed notice): use one of the person's rights."""

    action: RightAction


class ForgetChoice(StrEnum):
    ERASE = "erase"
    KEEP = "keep"


class ForgetConfirm(CallbackData, prefix="pvf"):
    """The answer to /forget's question; `token` names the question (only the last one
    asked may be answered)."""

    choice: ForgetChoice
    token: Token


PRIVACY_BUTTONS = (PrivacyRight, ForgetConfirm)
