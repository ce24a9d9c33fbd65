"""Staff broadcasts: compose, choose an audience, preview the exact count, confirm; then
pause, resume or cancel while the outbox sends it.

Confirming is two steps, so a broadcast never runs without its controls: `create` writes
the broadcast with nothing queued, the Telegram layer shows its progress message (Pause,
Cancel), and `start` records that message and queues the recipients in one transaction."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError, present
from bot.services.conversations import Conversation, DraftStore, DraftUnreadable
from bot.services.outbox import Outbox
from bot.services.paging import Page, clamp_page
from bot.services.text import clean, telegram_length
from storage import Database, Tx
from storage.models import (
    Audience,
    Broadcast,
    BroadcastCounts,
    BroadcastState,
    User,
    new_draft_token,
)
from storage.repos.drafts import conversation_key
from storage.repos.outbox import AUDIENCE_NEEDS_REF, BroadcastRepo, OutboxRepo
from storage.repos.stations import StationRepo

TEXT_MAX = 4096  # Telegram's limit on a message's text, after entity parsing
CAPTION_MAX = 1024  # the same for a photo's or a document's caption
# A broadcast created but never started (the process stopped between the two steps) is
# withdrawn after this long; nothing of it was queued.
START_WITHIN = timedelta(minutes=10)
TAG = re.compile(r"<[^>]*>")


class BroadcastStep(StrEnum):
    """The steps of /broadcast (the values are stored: conversations in progress resume)."""

    COMPOSE = "compose"  # the notice is asked for
    AUDIENCE = "audience"  # who it goes to, a street or station picked for some audiences
    PREVIEW = "preview"  # shown as recipients will see it, with the count and Confirm


class BroadcastDraft(BaseModel):
    """A broadcast being composed; after Confirm, only `sent_as` is kept, until the next."""

    text: str = ""
    photo: str | None = None
    document: str | None = None
    audience: Audience | None = None
    audience_ref: int | None = None
    # the audience whose street or station is being picked (a name typed searches for it)
    picking: Audience | None = None
    # names the preview last shown: only its Confirm sends (an older one showed another
    # text or audience)
    preview: str = ""
    sent_as: int | None = None  # the broadcast a confirmed draft became

    def has_content(self) -> bool:
        return bool(self.text.strip() or self.photo or self.document)


BROADCAST = Conversation(
    "broadcast",
    steps=BroadcastStep,
    draft=BroadcastDraft,
    opened_by=("broadcast",),
    needs=Action.BROADCAST,
)


def shown_text(markup: str) -> str:
    """What Telegram shows of an HTML text: the tags dropped, the entities decoded. The text
    comes from Telegram's own entities (`text_html`), so every '<' in it opens a tag."""
    return html.unescape(TAG.sub("", markup))


def _not_started(broadcast: Broadcast, counts: BroadcastCounts) -> bool:
    """Created, but its progress message is not recorded and nothing of it is queued."""
    queued_ever = counts.remaining + counts.sent + counts.failed + counts.blocked + counts.skipped
    return broadcast.progress_message_id is None and queued_ever == 0


class BroadcastService:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.repo = BroadcastRepo(db)
        self.queue = OutboxRepo(db)
        self.steps = DraftStore(db, BROADCAST)
        self.stations = StationRepo(db)

    async def draft(self, actor: User) -> BroadcastDraft:
        ensure(actor, Action.BROADCAST)
        return await self.steps.load(actor.telegram_id) or BroadcastDraft()

    async def _store(
        self, actor: User, chat_id: int, draft: BroadcastDraft, step: BroadcastStep | None
    ) -> None:
        """The draft and the conversation step it is at, written together."""
        await self.steps.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def begin(self, actor: User, chat_id: int) -> None:
        ensure(actor, Action.BROADCAST)
        await self._store(actor, chat_id, BroadcastDraft(), BroadcastStep.COMPOSE)

    async def set_content(
        self, actor: User, chat_id: int, text: str, photo: str | None, document: str | None
    ) -> None:
        """Keep the notice: `text` is the message's text (or caption) as HTML, formatting
        kept and everything else escaped. It is cleaned (bot.services.text) and measured as
        Telegram measures it: the text shown, not the HTML, so '&' counts one, not five."""
        ensure(actor, Action.BROADCAST)
        markup = clean(text)
        shown = shown_text(markup)
        limit = CAPTION_MAX if (photo or document) else TEXT_MAX
        length = telegram_length(shown)
        if length > limit:
            raise DomainError("broadcast.too_long", maximum=limit, count=length)
        if not shown.strip() and not (photo or document):
            raise DomainError("broadcast.empty")
        if not shown.strip():
            markup = ""  # a caption of nothing visible: none
        draft = BroadcastDraft(text=markup, photo=photo, document=document)
        await self._store(actor, chat_id, draft, BroadcastStep.AUDIENCE)

    async def pick_place(self, actor: User, chat_id: int, audience: Audience) -> None:
        """An audience of one street or station is chosen: its place is picked next (a
        name typed at this step searches for it)."""
        draft = await self._composed(actor)
        if audience not in AUDIENCE_NEEDS_REF:
            raise DomainError("error.stale_button")
        draft.audience, draft.audience_ref, draft.preview = None, None, ""
        draft.picking = audience
        await self._store(actor, chat_id, draft, BroadcastStep.AUDIENCE)

    async def _composed(self, actor: User) -> BroadcastDraft:
        """The actor's draft, which must have its notice."""
        draft = await self.draft(actor)
        if not draft.has_content():
            raise DomainError("broadcast.no_draft")
        return draft

    async def set_audience(
        self, actor: User, chat_id: int, audience: Audience | None, ref: int | None
    ) -> int:
        """Choose the audience (None: back to choosing); returns the exact recipient count.
        Choosing one makes a new preview (`draft.preview` names it for its Confirm)."""
        draft = await self._composed(actor)
        draft.picking = None
        if audience is None:
            draft.audience, draft.audience_ref, draft.preview = None, None, ""
            await self._store(actor, chat_id, draft, BroadcastStep.AUDIENCE)
            return 0
        await self.check_audience(audience, ref)
        count = len(await self.repo.audience_ids(audience, ref))
        draft.audience, draft.audience_ref = audience, ref
        draft.preview = new_draft_token()
        await self._store(actor, chat_id, draft, BroadcastStep.PREVIEW)
        return count

    async def discard(self, actor: User, chat_id: int) -> None:
        await self._store(actor, chat_id, BroadcastDraft(), None)

    async def check_audience(self, audience: Audience, ref: int | None) -> None:
        if audience in AUDIENCE_NEEDS_REF:
            if ref is None:
                raise DomainError("error.stale_button")
            if audience == Audience.VOTERS_OF_STATION:
                if await self.stations.get(ref) is None:
                    raise DomainError("station.unknown")
            elif await self.stations.get_street(ref) is None:
                raise DomainError("station.unknown")

    async def create(self, actor: User, chat_id: int, preview: str) -> Broadcast:
        """The broadcast of the draft as `preview` showed it, with nothing queued yet: its
        progress message must be shown and recorded first (`start`). The draft stays until
        then. The Confirm of an older preview is refused: it showed something else."""
        draft = await self.draft(actor)
        if draft.audience is None or not draft.has_content():
            raise DomainError("broadcast.no_draft")
        if preview != draft.preview:
            raise DomainError("broadcast.old_preview")
        await self.check_audience(draft.audience, draft.audience_ref)
        async with self.db.transaction() as tx:
            recipients = await self.repo.audience_ids(draft.audience, draft.audience_ref, tx)
            if not recipients:
                raise DomainError("broadcast.no_recipients")
            broadcast_id = await self.repo.create(
                tx,
                created_by=actor.telegram_id,
                audience=draft.audience,
                audience_ref=draft.audience_ref,
                text=draft.text,
                photo=draft.photo,
                document=draft.document,
                total=len(recipients),
                now=self.clock.now(),
            )
        broadcast = await self.repo.get(broadcast_id)
        broadcast = present(broadcast, "broadcast")
        return broadcast

    async def start(
        self, actor: User, chat_id: int, broadcast_id: int, progress_chat: int, progress_id: int
    ) -> Broadcast:
        """Record the progress message (its Pause and Cancel), then queue one outbox row per
        recipient and drop the draft, all in one transaction: a broadcast is never sent
        without its controls, and once it is queued Confirm cannot send it again."""
        ensure(actor, Action.BROADCAST)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            broadcast = await self.repo.get(broadcast_id, tx)
            if broadcast is None or broadcast.progress_message_id is not None:
                raise DomainError("broadcast.not_now")
            await self.repo.set_progress_message(tx, broadcast_id, progress_chat, progress_id)
            if broadcast.state != BroadcastState.CANCELLED:
                recipients = await self.repo.audience_ids(
                    broadcast.audience, broadcast.audience_ref, tx
                )
                await self.queue.enqueue_broadcast(tx, broadcast_id, recipients, now)
                await self.repo.set_total(tx, broadcast_id, len(recipients))
            await self._end_as_sent(tx, chat_id, actor.telegram_id, broadcast_id)
        self.outbox.wake()
        started = await self.repo.get(broadcast_id)
        started = present(started, "started")
        return started

    async def _end_as_sent(self, tx: Tx, chat_id: int, user_id: int, broadcast_id: int) -> None:
        """End the conversation; in place of the draft, remember which broadcast it became."""
        now = self.clock.now()
        memo = BroadcastDraft(sent_as=broadcast_id).model_dump(mode="json")
        await self.steps.drafts.save(tx, user_id, BROADCAST.name, memo, now)
        key = conversation_key(chat_id, user_id)
        await self.steps.states.put(tx, BROADCAST.name, key, None, now)

    async def withdraw(self, actor: User, broadcast_id: int) -> None:
        """A created broadcast whose controls could not be shown anywhere: cancelled before
        anything is queued. The draft stays at its preview, so Confirm can be tapped again."""
        ensure(actor, Action.BROADCAST)
        async with self.db.transaction() as tx:
            await self.repo.withdraw(tx, broadcast_id, self.clock.now())

    async def sent_as(self, actor: User) -> int | None:
        """The broadcast the actor's last confirmed draft became, while no new one is begun:
        what a Confirm tapped again is answered with."""
        try:
            return (await self.draft(actor)).sent_as
        except DraftUnreadable:  # outside the conversation: nothing was sent from it
            return None

    async def get(self, actor: User, broadcast_id: int) -> Broadcast:
        ensure(actor, Action.BROADCAST)
        broadcast = await self.repo.get(broadcast_id)
        if broadcast is None:
            raise DomainError("error.not_your_record")
        return broadcast

    async def set_state(self, actor: User, broadcast_id: int, state: BroadcastState) -> Broadcast:
        """Pause, resume or cancel; finished broadcasts stay as they are."""
        await self.get(actor, broadcast_id)
        allowed = {
            BroadcastState.PAUSED: {BroadcastState.RUNNING},
            BroadcastState.RUNNING: {BroadcastState.PAUSED},
            BroadcastState.CANCELLED: {BroadcastState.RUNNING, BroadcastState.PAUSED},
        }
        async with self.db.transaction() as tx:
            # checked inside the write, so a broadcast finishing meanwhile is not cancelled
            broadcast = await self.repo.get(broadcast_id, tx)
            if broadcast is None or broadcast.state not in allowed.get(state, set()):
                raise DomainError("broadcast.not_now")
            if state == BroadcastState.CANCELLED:
                await self.repo.skip_remaining(tx, broadcast_id, "cancelled")
                await self.repo.set_state(tx, broadcast_id, state, self.clock.now())
                await self._report(tx, broadcast, await self.repo.counts(broadcast_id, tx))
            else:
                await self.repo.set_state(tx, broadcast_id, state)
        self.outbox.wake()
        return await self.get(actor, broadcast_id)

    async def counts(self, broadcast_id: int) -> BroadcastCounts:
        return await self.repo.counts(broadcast_id)

    async def recent(self, actor: User, page: int, per_page: int) -> Page[Broadcast]:
        ensure(actor, Action.BROADCAST)
        page, pages = clamp_page(page, await self.repo.count(), per_page)
        return Page(await self.repo.recent(page * per_page, per_page), page, pages)

    async def unfinished(self) -> list[Broadcast]:
        return await self.repo.unfinished()

    async def finish_if_done(self, broadcast_id: int) -> Broadcast | None:
        """Mark a running broadcast done once nothing is left and queue the delivery report
        to its author; returns the broadcast when it has just finished. One not started
        yet is left alone, or withdrawn when it was never started (START_WITHIN)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            broadcast = await self.repo.get(broadcast_id, tx)
            counts = await self.repo.counts(broadcast_id, tx)
            if broadcast is not None and _not_started(broadcast, counts):
                if now - broadcast.created_at < START_WITHIN:
                    return None
                await self.repo.withdraw(tx, broadcast_id, now)
                return await self.repo.get(broadcast_id, tx)
            if broadcast is None or broadcast.state != BroadcastState.RUNNING or counts.remaining:
                return None
            await self.repo.set_state(tx, broadcast_id, BroadcastState.DONE, self.clock.now())
            await self._report(tx, broadcast, counts)
        return await self.repo.get(broadcast_id)

    async def _report(self, tx: Tx, broadcast: Broadcast, counts: BroadcastCounts) -> None:
        await self.outbox.notify(
            tx,
            broadcast.created_by,
            "broadcast.report",
            number=broadcast.id,
            total=broadcast.total,
            sent=counts.sent,
            failed=counts.failed,
            blocked=counts.blocked,
            skipped=counts.skipped,
        )
