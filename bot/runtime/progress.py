"""How a broadcast's progress message looks, shared by /broadcast and the dispatcher."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.i18n import N_, Texts
from bot.runtime.buttons.broadcast import BroadcastControl, Control
from storage.models import Broadcast, BroadcastCounts, BroadcastState

STATE_LABELS = {
    BroadcastState.RUNNING: "broadcast.state_running",
    BroadcastState.PAUSED: "broadcast.state_paused",
    BroadcastState.CANCELLED: "broadcast.state_cancelled",
    BroadcastState.DONE: "broadcast.state_done",
}
CONTROL_LABELS = {
    Control.PAUSE: N_("broadcast.pause"),
    Control.RESUME: N_("broadcast.resume"),
    Control.CANCEL: N_("broadcast.cancel"),
}


def progress_view(
    texts: Texts, broadcast: Broadcast, counts: BroadcastCounts, rate: float
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and the Pause/Resume/Cancel buttons of a broadcast's progress message."""
    eta = counts.remaining / rate if broadcast.state == BroadcastState.RUNNING else 0
    text = texts(
        "broadcast.progress",
        number=broadcast.id,
        state=texts(STATE_LABELS[broadcast.state]),
        total=texts.number(broadcast.total),
        sent=texts.number(counts.sent),
        failed=texts.number(counts.failed),
        blocked=texts.number(counts.blocked),
        remaining=texts.number(counts.remaining),
        eta=texts.duration(eta) if counts.remaining else "—",
    )
    buttons = [
        BroadcastControl(action=action, broadcast=broadcast.id).button(
            texts(CONTROL_LABELS[action])
        )
        for action in controls(broadcast.state)
    ]
    return text, InlineKeyboardMarkup([buttons]) if buttons else None


def controls(state: BroadcastState) -> list[Control]:
    """The controls a broadcast in `state` offers: Pause or Resume, then Cancel."""
    if state == BroadcastState.RUNNING:
        return [Control.PAUSE, Control.CANCEL]
    if state == BroadcastState.PAUSED:
        return [Control.RESUME, Control.CANCEL]
    return []
