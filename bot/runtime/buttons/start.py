"""Buttons before and around consent: agreeing to the privacy notice, choosing a language."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationError

from bot.runtime.buttons.base import CallbackData

# A deep link as the bot makes them: a station's QR code, a deputy's or a liaison's
# invitation, a reception-desk claim of an opinion entered for a visitor.
DeepLink = Annotated[
    str,
    Field(
        max_length=36,
        pattern=r"^(|st_[0-9]{1,9}|(?:inv|lia)_[A-Za-z0-9_-]{1,32}|claim_[A-Za-z0-9_-]{1,30})$",
    ),
]


class Consent(CallbackData, prefix="ok"):
    """I agree to the privacy notice; `link` is the deep link to follow afterwards."""

    link: DeepLink = ""


def is_deep_link(raw: str) -> bool:
    """True for a /start payload of a shape the bot makes and the consent button can carry."""
    try:
        Consent(link=raw)
    except ValidationError:
        return False
    return bool(raw)


class Language(CallbackData, prefix="lg"):
    code: Literal["zh_CN", "en"]
