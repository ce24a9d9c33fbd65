"""Buttons before and around consent (agreeing to the privacy notice, choosing a language),
and the deep links (`https://t.me/<bot>?start=<payload>`) the bot hands out: the one place
their prefixes, their shape and the link itself are made."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, ValidationError

from bot.errors import DomainError
from bot.runtime.buttons.base import CallbackData

# The payloads' prefixes: a station's QR code (st_<station id>), a deputy's (inv_<code>) or a
# department liaison's (lia_<code>) invitation, a reception-desk claim of an opinion entered
# for a visitor (claim_<code>), a deputy's own code, 代表码 (dep_<code>).
STATION_PREFIX = "st_"
INVITE_PREFIX = "inv_"
LIAISON_PREFIX = "lia_"
CLAIM_PREFIX = "claim_"
DEPUTY_PREFIX = "dep_"

# A deep link as the bot makes them: any of the above, or none.
DeepLink = Annotated[
    str,
    Field(
        max_length=36,
        pattern=(
            rf"^(|{STATION_PREFIX}[0-9]{{1,9}}|(?:{INVITE_PREFIX}|{LIAISON_PREFIX})"
            rf"[A-Za-z0-9_-]{{1,32}}|(?:{CLAIM_PREFIX}|{DEPUTY_PREFIX})[A-Za-z0-9_-]{{1,30}})$"
        ),
    ),
]

# A bot's @username as Telegram allows it (without the @).
BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def bot_username(raw: str) -> str:
    """A bot's @username as given (the @ may be left out); refused unless Telegram's shape."""
    name = raw.strip().removeprefix("@")
    if not BOT_USERNAME.match(name):
        raise DomainError("desk.bad_bot_username")
    return name


def start_link(username: str, payload: str) -> str:
    """The link that opens the bot @`username` and sends it `/start <payload>`."""
    return f"https://t.me/{username}?start={payload}"


def station_link(username: str, station_id: int) -> str:
    """A station's link (its poster's QR code): the voter's station once opened."""
    return start_link(username, f"{STATION_PREFIX}{station_id}")


def claim_link(username: str, code: str) -> str:
    """The link a visitor claims the opinion entered for them at the desk with."""
    return start_link(username, f"{CLAIM_PREFIX}{code}")


def deputy_link(username: str, code: str) -> str:
    """A deputy's own link (代表码): a voter who opens it meets the deputy at their station."""
    return start_link(username, f"{DEPUTY_PREFIX}{code}")


def invite_link(username: str, code: str) -> str:
    """A deputy's one-time invitation."""
    return start_link(username, f"{INVITE_PREFIX}{code}")


def liaison_link(username: str, code: str) -> str:
    """A department liaison's one-time invitation."""
    return start_link(username, f"{LIAISON_PREFIX}{code}")


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
