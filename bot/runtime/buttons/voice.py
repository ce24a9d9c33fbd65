"""Voice opinions: the button that sends a card's voice to its viewer, and staff's typed
transcript of it."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Id, notice_action
from bot.runtime.buttons.inbox import Side
from bot.services.outbox import Intent, NoticeButton


class PlayVoice(CallbackData, prefix="vo"):
    """Send the opinion's voice message to whoever taps (its author, or a deputy or staff
    who may see it)."""

    opinion: Id


class Transcribe(CallbackData, prefix="vot"):
    """Staff: type the transcript of the opinion's voice; the card of `side` comes back."""

    side: Side
    opinion: Id


class TranscriptCancel(CallbackData, prefix="votx"):
    """Leave the transcript as it was (as /cancel does)."""


@notice_action(Intent.PLAY_VOICE)
def _play(notice: NoticeButton) -> CallbackData:
    """The voice of the opinion the notice is about."""
    return PlayVoice(opinion=notice.target)
