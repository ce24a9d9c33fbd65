"""How a broadcast's progress message looks, shared by /broadcast and the dispatcher."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Texts
from storage.models import Broadcast, BroadcastCounts, BroadcastState

STATE_LABELS = {
    BroadcastState.RUNNING: "broadcast.state_running",
    BroadcastState.PAUSED: "broadcast.state_paused",
    BroadcastState.CANCELLED: "broadcast.state_cancelled",
    BroadcastState.DONE: "broadcast.state_done",
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
    buttons = []
    if broadcast.state == BroadcastState.RUNNING:
        buttons.append(
            InlineKeyboardButton(texts("broadcast.pause"), callback_data=f"bc:pause:{broadcast.id}")
        )
    elif broadcast.state == BroadcastState.PAUSED:
        buttons.append(
            InlineKeyboardButton(
                texts("broadcast.resume"), callback_data=f"bc:resume:{broadcast.id}"
            )
        )
    if broadcast.state in (BroadcastState.RUNNING, BroadcastState.PAUSED):
        buttons.append(
            InlineKeyboardButton(
                texts("broadcast.cancel"), callback_data=f"bc:cancel:{broadcast.id}"
            )
        )
    return text, InlineKeyboardMarkup([buttons]) if buttons else None
