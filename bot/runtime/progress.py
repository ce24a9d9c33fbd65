"""A broadcast's progress message: how it looks and bringing it up to date, shared by
/broadcast and the dispatcher."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from bot.i18n import N_, Texts
from bot.runtime.buttons.broadcast import BroadcastControl, Control
from bot.services import Services
from storage.models import Broadcast, BroadcastCounts, BroadcastState

log = logging.getLogger(__name__)

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


async def show_progress(bot: Bot, services: Services, broadcast: Broadcast) -> None:
    """Edit the broadcast's progress message to its present state, in its author's
    language; a failed edit is logged, never raised (the next one catches up)."""
    if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
        return
    author = await services.users.get(broadcast.created_by)
    texts = services.i18n.texts(author.locale if author else None)
    counts = await services.broadcasts.counts(broadcast.id)
    text, markup = progress_view(texts, broadcast, counts, services.settings.outbox_rate)
    try:
        await bot.edit_message_text(
            text, broadcast.progress_chat_id, broadcast.progress_message_id, reply_markup=markup
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.warning("progress of broadcast %s: %s", broadcast.id, exc.message)
    except TelegramError as exc:
        log.warning("progress of broadcast %s: %s", broadcast.id, exc.message)
