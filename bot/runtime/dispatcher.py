"""The outbox dispatcher: sends queued messages under an overall rate and a per-chat
interval, honours RetryAfter, retries network faults with backoff, and keeps each
broadcast's progress message current. One task per application."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from datetime import date, datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.i18n import Texts
from bot.runtime.buttons import for_notice, unpack_any
from bot.runtime.menus import set_menu
from bot.runtime.progress import show_progress
from bot.services import Services
from bot.services.outbox import NoticeButton
from storage.models import BroadcastState, OutboxItem
from storage.repos.outbox import BLOCKED, Claimed, OutboxRepo

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 300
CATCH_UP_SLOTS = 2


class Dropped(Exception):
    """A row not to be sent after all (the edit of a post that never went out): skipped."""


class NotYet(Exception):
    """A row to send a little later (the edit of a post still on its way): retried."""


class SendRate:
    """Spaces sends: one slot every 1/rate seconds overall, one per interval per chat."""

    def __init__(self, per_second: float, per_chat_interval: float) -> None:
        self._gap = 1.0 / per_second
        self._per_chat = per_chat_interval
        self._next = 0.0
        self._chat_next: dict[int, float] = {}

    async def overall(self) -> None:
        now = time.monotonic()
        # a loop that woke late may catch up by a few slots, so the average holds the rate;
        # the credit is bounded, so no second ever sees more than rate + CATCH_UP sends
        at = max(now - self._gap * CATCH_UP_SLOTS, self._next)
        self._next = at + self._gap
        if at > now:
            await asyncio.sleep(at - now)

    async def chat(self, chat_id: int) -> None:
        if not self._per_chat:
            return
        now = time.monotonic()
        at = max(now, self._chat_next.get(chat_id, 0.0))
        self._chat_next[chat_id] = at + self._per_chat
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        if at > now:
            await asyncio.sleep(at - now)

    def pause(self, seconds: float) -> None:
        """Telegram said RetryAfter: nothing goes out until then."""
        self._next = max(self._next, time.monotonic() + seconds)


def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` is seconds in PTB 22 and becomes a timedelta later; accept either."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def render_params(texts: Texts, params: dict[str, object]) -> dict[str, object]:
    """Parameters as the recipient reads them: `*_at` instants and `*_on` dates (ISO) formatted
    for their locale, `*_key` message ids translated (under the name without `_key`), other
    text escaped."""
    rendered: dict[str, object] = {}
    for name, value in params.items():
        if name.endswith("_key") and isinstance(value, str):
            rendered[name.removesuffix("_key")] = texts(value)
        elif name.endswith("_at") and isinstance(value, str):
            rendered[name] = texts.datetime(datetime.fromisoformat(value))
        elif name.endswith("_on") and isinstance(value, str):
            rendered[name] = texts.date(date.fromisoformat(value))
        elif isinstance(value, str):
            rendered[name] = html.escape(value)
        else:
            rendered[name] = value
    return rendered


class OutboxDispatcher:
    def __init__(self, bot: Bot, services: Services) -> None:
        settings = services.settings
        self.bot = bot
        self.services = services
        self.repo = OutboxRepo(services.db)
        self.rate = SendRate(settings.outbox_rate, settings.outbox_per_chat_interval_seconds)
        self.batch = max(1, int(settings.outbox_rate))
        self.max_attempts = settings.outbox_max_attempts
        self.progress_every = settings.broadcast_progress_seconds
        self._slots = asyncio.Semaphore(32)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._last_progress = 0.0
        self.retry_afters = 0

    async def start(self) -> None:
        requeued = await self.repo.reset_in_flight()
        if requeued:
            log.warning(
                "outbox: %s messages were in flight at the last stop; sending again", requeued
            )
        self.services.outbox.on_enqueue(self._wake.set)
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    @property
    def running(self) -> bool:
        """Started and neither stopped nor aborted."""
        return self._task is not None and not self._stopping

    async def stop(self) -> None:
        """Stop claiming, let sends in flight finish and record their outcome."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def abort(self) -> None:
        """Stop at once, leaving sends in flight unrecorded, as a crash would."""
        self._stopping = True
        for task in [*self._in_flight, *([self._task] if self._task else [])]:
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        self._in_flight.clear()

    async def drain(self, within: float = 30.0) -> None:
        """Wait until nothing due is left and nothing is in flight, finishing broadcasts on
        the way (tests, benchmarks)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self._wake.set()
            await asyncio.sleep(0.01)
            if await self._idle():
                await self.report_progress(force=True)
                if await self._idle():
                    return
        raise TimeoutError("outbox did not drain")

    async def _idle(self) -> bool:
        # checked in the order a row moves (queued → sending → task done), so a row moving
        # on between two checks is still seen by the next one
        return (
            not await self.repo.has_due(self.services.clock.now())
            and not await self.repo.sending_count()
            and not self._in_flight
        )

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before claiming, so a wake-up during the claim is not lost
            try:
                items = await self.repo.claim_due(self.services.clock.now(), self.batch)
            except Exception:
                log.exception("outbox: claiming failed")
                await self._record_error()
                items = []
            for item in items:
                if self._stopping:
                    await self.repo.put_back(item.id)
                    continue
                await self._slots.acquire()
                await self.rate.overall()
                task = asyncio.create_task(self._deliver(item))
                self._in_flight.add(task)
                task.add_done_callback(self._done)
            await self.report_progress()
            if not items:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()

    async def _deliver(self, item: Claimed) -> None:
        now = self.services.clock.now
        try:
            if item.user_active is False:
                await self.repo.finish(item.id, "skipped", now(), BLOCKED)
                return
            if item.respects_opt_out and item.user_notices is False:
                await self.repo.finish(item.id, "skipped", now(), "opted_out")
                return
            if item.broadcast_id is not None and not await self._broadcast_running(item):
                return
            await self.rate.chat(item.chat_id)
            if item.sets_menu:  # the person's own command menu (Outbox.refresh_menu)
                await set_menu(self.bot, self.services, item.chat_id)
                await self.repo.finish(item.id, "sent", now())
                return
            message_id = await self._send(item)
            await self.repo.finish(item.id, "sent", now(), message_id=message_id)
        except Dropped as exc:
            await self.repo.finish(item.id, "skipped", now(), str(exc))
        except NotYet as exc:
            delay = min(2 ** (item.attempts + 1), MAX_BACKOFF_SECONDS)
            await self.repo.retry_later(item.id, now() + timedelta(seconds=delay), str(exc))
        except RetryAfter as exc:
            self.retry_afters += 1
            self.rate.pause(retry_after_seconds(exc))
            await self.repo.put_back(item.id)
        except Forbidden as exc:
            await self.services.users.mark_unreachable(item.chat_id)
            await self.repo.finish(item.id, "skipped", now(), BLOCKED)
            log.info(
                "outbox: message %s not sent: the chat blocked the bot (%s)", item.id, exc.message
            )
        except BadRequest as exc:
            await self._fail(item, exc.message)
        except NetworkError as exc:  # timeouts included
            if item.attempts + 1 >= self.max_attempts:
                await self._fail(item, f"network: {exc.message}")
            else:
                delay = min(2 ** (item.attempts + 1), MAX_BACKOFF_SECONDS)
                await self.repo.retry_later(
                    item.id, now() + timedelta(seconds=delay), f"network: {exc.message}"
                )
        except TelegramError as exc:
            await self._fail(item, exc.message)
        except Exception as exc:
            log.exception("outbox: message %s failed", item.id)
            await self._fail(item, repr(exc)[:200], logged=True)

    async def _fail(self, item: Claimed, reason: str, *, logged: bool = False) -> None:
        """Give up on a message: recorded as failed, logged by its outbox id and kind (never
        its chat or text), and its time kept for the health report."""
        await self.repo.finish(item.id, "failed", self.services.clock.now(), reason)
        if not logged:
            kind = item.message_key or f"broadcast {item.broadcast_id}"
            # Telegram's description names the fault (chat not found, a network error),
            # never the message's content
            log.warning(
                "outbox: message %s (%s) failed after %s attempt(s): %s",
                item.id,
                kind,
                item.attempts + 1,
                reason,
            )
        await self._record_error()

    async def _record_error(self) -> None:
        """The health report shows when the outbox last failed."""
        try:
            await self.services.health.record_error()
        except Exception:  # the database may be what failed; the error is logged already
            log.warning("outbox: could not record the time of the error for the health report")

    async def _broadcast_running(self, item: OutboxItem) -> bool:
        """A broadcast paused or cancelled after this row was claimed: hold or drop it."""
        if item.broadcast_id is None:
            raise ValueError(f"outbox item {item.id} belongs to no broadcast")
        broadcast = await self.services.broadcasts.repo.get(item.broadcast_id)
        if broadcast is None or broadcast.state == BroadcastState.CANCELLED:
            await self.repo.finish(item.id, "skipped", self.services.clock.now(), "cancelled")
            return False
        if broadcast.state != BroadcastState.RUNNING:
            await self.repo.put_back(item.id)
            return False
        return True

    async def _send(self, item: Claimed) -> int:
        """Send the row; returns the id of the message it became (or edited)."""
        if item.broadcast_id is not None:
            if item.photo:
                sent = await self.bot.send_photo(
                    item.chat_id, item.photo, caption=item.text or None
                )
            elif item.document:
                sent = await self.bot.send_document(
                    item.chat_id, item.document, caption=item.text or None
                )
            else:
                sent = await self.bot.send_message(item.chat_id, item.text or "")
            return sent.message_id
        texts = self.services.i18n.texts(item.locale)
        params = render_params(texts, item.params)
        markup = notice_markup(texts, item.buttons)
        text = texts(item.message_key or "", **params)
        if item.post_of is not None:  # the edit of a post to a channel (Outbox.post)
            return await self._edit_post(item, item.post_of, text, markup)
        sent = await self.bot.send_message(item.chat_id, text, reply_markup=markup)
        return sent.message_id

    async def _edit_post(
        self, item: OutboxItem, post_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> int:
        """Edit the message post `post_id` became; while the post is still on its way, later;
        when it never went out, not at all (it says the same once queued again)."""
        posted = await self.repo.posted(post_id)
        if posted is None or posted.state in ("failed", "skipped"):
            raise Dropped(f"post {post_id} was not sent")
        if posted.message_id is None:
            raise NotYet(f"post {post_id} is not sent yet")
        try:
            await self.bot.edit_message_text(
                text, chat_id=item.chat_id, message_id=posted.message_id, reply_markup=markup
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        return posted.message_id

    async def report_progress(self, force: bool = False) -> None:
        """Edit each unfinished broadcast's progress message, at most every few seconds."""
        if not force and time.monotonic() - self._last_progress < self.progress_every:
            return
        self._last_progress = time.monotonic()
        broadcasts = self.services.broadcasts
        for broadcast in await broadcasts.unfinished():
            finished = await broadcasts.finish_if_done(broadcast.id)
            current = finished or broadcast
            await self.show_progress(current.id)
            if finished:
                self._wake.set()

    async def show_progress(self, broadcast_id: int) -> None:
        broadcast = await self.services.broadcasts.repo.get(broadcast_id)
        if broadcast is not None:
            await show_progress(self.bot, self.services, broadcast)


def notice_markup(texts: Texts, rows: list[list[Any]]) -> InlineKeyboardMarkup | None:
    """A queued notice's typed actions as buttons in the recipient's language. Rows queued
    by an older version hold [label, data]; their data is kept only if it still unpacks."""
    keyboard: list[list[InlineKeyboardButton]] = []
    for row in rows:
        buttons = []
        for entry in row:
            try:
                if isinstance(entry, dict):
                    notice = NoticeButton.model_validate(entry)
                    buttons.append(for_notice(notice).button(texts(notice.label)))
                else:
                    label, data = entry
                    buttons.append(unpack_any(data).button(texts(label)))
            except (ValueError, TypeError, KeyError):
                log.warning("outbox: dropped a button that no longer exists")
        if buttons:
            keyboard.append(buttons)
    return InlineKeyboardMarkup(keyboard) if keyboard else None
