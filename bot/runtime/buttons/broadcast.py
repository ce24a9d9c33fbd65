"""Buttons of /broadcast (audience, preview, confirm), of a broadcast's progress message
(Pause, Resume, Cancel) and of /broadcasts (its pages and the same controls per broadcast)."""

from __future__ import annotations

from enum import StrEnum

from bot.runtime.buttons.base import CallbackData, Id, Page, Token
from storage.models import Audience, BroadcastState


class Control(StrEnum):
    """What a control button does to a running or paused broadcast."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"

    @property
    def state(self) -> BroadcastState:
        """The state the broadcast is put in."""
        return CONTROL_STATES[self]


CONTROL_STATES = {
    Control.PAUSE: BroadcastState.PAUSED,
    Control.RESUME: BroadcastState.RUNNING,
    Control.CANCEL: BroadcastState.CANCELLED,
}


# --- composing ---------------------------------------------------------------------------


class BroadcastAudience(CallbackData, prefix="bca"):
    """Who the draft goes to; street and station audiences then open the picker."""

    audience: Audience


class BroadcastConfirm(CallbackData, prefix="bcok"):
    """Send the draft as this preview showed it. Tapped again after it went, it says which
    broadcast it is; the Confirm of an older preview is refused."""

    preview: Token


class BroadcastChangeAudience(CallbackData, prefix="bcch"):
    """From the preview, back to choosing the audience."""


class BroadcastDiscard(CallbackData, prefix="bcx"):
    """Drop the draft."""


# --- while it is sent, and afterwards ----------------------------------------------------


class BroadcastControl(CallbackData, prefix="bc"):
    """Pause, Resume or Cancel under the progress message. Packs as `bc:pause:<id>`, the
    shape of earlier versions, so progress messages already shown keep working."""

    action: Control
    broadcast: Id


class BroadcastListPage(CallbackData, prefix="bcl"):
    """A page of /broadcasts."""

    page: Page


class BroadcastListControl(CallbackData, prefix="bclc"):
    """Pause, Resume or Cancel from /broadcasts; the list is shown again at `page`."""

    action: Control
    broadcast: Id
    page: Page
