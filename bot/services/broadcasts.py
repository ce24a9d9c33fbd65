"""Staff broadcasts: compose, choose an audience, preview the exact count, confirm; then
pause, resume or cancel while the outbox sends it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError
from bot.services.outbox import Outbox
from bot.services.paging import Page, clamp_page
from storage import Database, Tx
from storage.models import Audience, Broadcast, BroadcastCounts, BroadcastState, User
from storage.repos.drafts import ConversationDrafts
from storage.repos.outbox import AUDIENCE_NEEDS_REF, BroadcastRepo, OutboxRepo
from storage.repos.stations import StationRepo

CONVERSATION = "broadcast"
STEP_COMPOSE, STEP_AUDIENCE, STEP_PREVIEW = "compose", "audience", "preview"
TEXT_MAX = 4096
CAPTION_MAX = 1024


@dataclass
class BroadcastDraft:
    text: str = ""
    photo: str | None = None
    document: str | None = None
    audience: Audience | None = None
    audience_ref: int | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> BroadcastDraft:
        if not data:
            return cls()
        audience = data.get("audience")
        return cls(
            text=data.get("text", ""),
            photo=data.get("photo"),
            document=data.get("document"),
            audience=Audience(audience) if audience else None,
            audience_ref=data.get("audience_ref"),
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "photo": self.photo,
            "document": self.document,
            "audience": self.audience.value if self.audience else None,
            "audience_ref": self.audience_ref,
        }


class BroadcastService:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.repo = BroadcastRepo(db)
        self.queue = OutboxRepo(db)
        self.steps = ConversationDrafts(db, CONVERSATION)
        self.stations = StationRepo(db)

    async def draft(self, actor: User) -> BroadcastDraft:
        ensure(actor, Action.BROADCAST)
        return BroadcastDraft.from_data(await self.steps.get(actor.telegram_id))

    async def _store(
        self, actor: User, chat_id: int, draft: BroadcastDraft, step: str | None
    ) -> None:
        """The draft and the conversation step it is at, written together."""
        async with self.db.transaction() as tx:
            await self.steps.put(
                tx, chat_id, actor.telegram_id, draft.to_data(), step, self.clock.now()
            )

    async def begin(self, actor: User, chat_id: int) -> None:
        ensure(actor, Action.BROADCAST)
        await self._store(actor, chat_id, BroadcastDraft(), STEP_COMPOSE)

    async def set_content(
        self, actor: User, chat_id: int, text: str, photo: str | None, document: str | None
    ) -> None:
        ensure(actor, Action.BROADCAST)
        limit = CAPTION_MAX if (photo or document) else TEXT_MAX
        if len(text) > limit:
            raise DomainError("broadcast.too_long", maximum=limit, count=len(text))
        if not text.strip() and not (photo or document):
            raise DomainError("broadcast.empty")
        draft = BroadcastDraft(text=text, photo=photo, document=document)
        await self._store(actor, chat_id, draft, STEP_AUDIENCE)

    async def set_audience(
        self, actor: User, chat_id: int, audience: Audience | None, ref: int | None
    ) -> int:
        """Choose the audience (None: back to choosing); returns the exact recipient count."""
        draft = await self.draft(actor)
        if not (draft.text.strip() or draft.photo or draft.document):
            raise DomainError("broadcast.no_draft")
        if audience is None:
            draft.audience, draft.audience_ref = None, None
            await self._store(actor, chat_id, draft, STEP_AUDIENCE)
            return 0
        await self.check_audience(audience, ref)
        count = len(await self.repo.audience_ids(audience, ref))
        draft.audience, draft.audience_ref = audience, ref
        await self._store(actor, chat_id, draft, STEP_PREVIEW)
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

    async def confirm(self, actor: User, chat_id: int) -> Broadcast:
        """Create the broadcast and queue one outbox row per recipient, in one transaction."""
        draft = await self.draft(actor)
        if draft.audience is None or not (draft.text.strip() or draft.photo or draft.document):
            raise DomainError("broadcast.no_draft")
        await self.check_audience(draft.audience, draft.audience_ref)
        now = self.clock.now()
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
                now=now,
            )
            await self.queue.enqueue_broadcast(tx, broadcast_id, recipients, now)
            await self.steps.put(tx, chat_id, actor.telegram_id, None, None, now)
        self.outbox.wake()
        broadcast = await self.repo.get(broadcast_id)
        assert broadcast is not None
        return broadcast

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

    async def track_progress(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """The message the dispatcher keeps editing with the broadcast's progress."""
        await self.repo.set_progress_message(broadcast_id, chat_id, message_id)

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
        to its author; returns the broadcast when it has just finished."""
        async with self.db.transaction() as tx:
            broadcast = await self.repo.get(broadcast_id, tx)
            counts = await self.repo.counts(broadcast_id, tx)
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
