"""The outbox: the one way to send anything that is not a direct reply. Callers add a
message inside the same transaction as the change that causes it; the dispatcher
(bot.runtime.dispatcher) sends it later, in the recipient's language."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.clock import Clock
from storage import Database, Tx
from storage.repos.outbox import OutboxRepo

# Queue priorities, lower first: a person's own affairs, then what goes to thousands at once
# (broadcasts, a consultation's prompts, its feedback).
PERSONAL = 0
BULK = 1


class Intent(StrEnum):
    """What a button under a notice does. The Telegram layer turns each into its button
    (bot.runtime.buttons); services never write callback data."""

    OPEN_OPINION = "open_opinion"  # show the opinion's inbox card
    REPLY_TO_QUESTION = "reply_to_question"  # the voter answers a deputy's question
    ASK_AGAIN = "ask_again"  # the deputy asks the voter another question
    CLAIM_OPINION = "claim_opinion"
    RATE_SOLVED = "rate_solved"  # `choice`: the solved code
    RATE_SATISFACTION = "rate_satisfaction"  # `choice`: the satisfaction code
    LOG_VISIT = "log_visit"  # `target` is the duty turn
    READ_CONSULTATION = "read_consultation"  # `target`: the consultation, opened to read
    CONSULTATION_REPORT = "consultation_report"  # `target`: the closed consultation
    OPEN_BALLOT = "open_ballot"  # `target`: the ballot, opened to vote
    OPEN_PROJECT = "open_project"  # `target`: the livelihood project
    PROGRESS_PHOTOS = "progress_photos"  # `target`: a progress update, its photos sent
    # deputies' suggestions: `target` is the suggestion unless said otherwise
    OPEN_SUGGESTION = "open_suggestion"  # the deputy's (or a voter's) view of it
    COSIGN_SUGGESTION = "cosign_suggestion"  # `choice`: confirm | decline
    REVIEW_SUGGESTION = "review_suggestion"  # staff: accept and assign, or decline
    OPEN_ASSIGNMENT = "open_assignment"  # the department's view: answer, return, extension
    RATE_SUGGESTION = "rate_suggestion"  # the lead deputy rates the answer
    COMMITMENT_UPDATE = "commitment_update"  # `target`: the commitment, a progress update
    RATE_ACCOUNT = "rate_account"  # `target`: the account rating, a voter's ballot
    # from a new-opinion notice: claim it if need be and open the answer step at once
    ANSWER_OPINION = "answer_opinion"
    ASSIGN_OPINION = "assign_opinion"  # staff, from an overdue alert: pick the deputy
    PLAY_VOICE = "play_voice"  # `target`: a voice opinion, its voice sent to the viewer


class NoticeButton(BaseModel):
    """A button under a queued notice: its label's message id and a typed action."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    intent: Intent
    target: int
    choice: str = ""


NoticeButtons = list[list[NoticeButton]]


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.repo = OutboxRepo(db)
        self._listeners: list[Callable[[], None]] = []

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        """Called after something is queued; the dispatcher wakes up on it."""
        self._listeners.append(listener)

    def wake(self) -> None:
        for listener in self._listeners:
            listener()

    async def notify(
        self,
        tx: Tx,
        chat_id: int | None,
        key: str,
        *,
        respects_opt_out: bool = False,
        buttons: NoticeButtons | None = None,
        not_before: datetime | None = None,
        about_opinion: int | None = None,
        params: Mapping[str, object] | None = None,
        **named: object,
    ) -> None:
        """Queue a catalog message `key` for `chat_id`, inside the caller's transaction
        (held until `not_before` when given: quiet hours).
        At render time string parameters are HTML-escaped, `*_at` ISO instants are
        formatted and `*_key` message ids translated for the recipient; `buttons` are rows
        of typed actions, labelled in the recipient's language. Parameters come as keywords,
        or as `params` when built beforehand. A `chat_id` of None is nobody to tell (an
        opinion whose author is unknown or forgotten): nothing is queued."""
        if chat_id is None:
            return
        await self.repo.enqueue_notice(
            tx,
            chat_id,
            key,
            {**(params or {}), **named},
            self.clock.now(),
            respects_opt_out=respects_opt_out,
            buttons=[[b.model_dump(mode="json") for b in row] for row in buttons]
            if buttons
            else None,
            not_before=not_before,
            about_opinion=about_opinion,
        )
        self.wake()

    async def refresh_menu(self, tx: Tx, chat_id: int) -> None:
        """Inside the transaction that changed a person's role or language: their own
        command menu is set again (bot.runtime.menus decides what it lists when it goes out,
        under the same rate limits as any message)."""
        if await self.repo.enqueue_menu(tx, chat_id, self.clock.now()):
            self.wake()

    async def notify_many(
        self,
        tx: Tx,
        chat_ids: Iterable[int],
        key: str,
        *,
        respects_opt_out: bool = False,
        buttons: NoticeButtons | None = None,
        not_before: datetime | None = None,
        priority: int = PERSONAL,
        params: Mapping[str, object] | None = None,
    ) -> None:
        """Queue the same catalog message `key` for every chat of `chat_ids` in one
        statement, inside the caller's transaction: what `notify` does for one, for an
        audience of tens of thousands (rendered per recipient at send time, as `notify`).
        A mass prompt goes at `priority` 1, as broadcasts do, so the personal notices
        (priority 0) queued after it are not held up behind it."""
        await self.repo.enqueue_notices(
            tx,
            chat_ids,
            key,
            params or {},
            self.clock.now(),
            respects_opt_out=respects_opt_out,
            buttons=[[b.model_dump(mode="json") for b in row] for row in buttons]
            if buttons
            else None,
            not_before=not_before,
            priority=priority,
        )
        self.wake()

    async def post(
        self,
        tx: Tx,
        chat_id: int,
        key: str,
        params: Mapping[str, object],
        *,
        replaces: int | None = None,
    ) -> int:
        """Queue a post of catalog message `key` to a channel (rendered in the default
        language, as a notice is), inside the caller's transaction; the dispatcher keeps the
        message it becomes. `replaces`, the id an earlier call returned, makes it that post
        again, saying `params` now: rendered from them if still queued, its message edited if
        sent, queued again if it failed (the bot not yet in the channel …). Returns the
        post's id, to pass as `replaces` next time (the same one once there is a post)."""
        now = self.clock.now()
        if replaces is not None and await self.repo.correct_post(tx, replaces, params, now):
            post_id = replaces
        else:
            post_id = await self.repo.enqueue_notice(tx, chat_id, key, params, now)
        self.wake()
        return post_id

    async def notify_later(
        self, tx: Tx, chat_id: int, key: str, *, delay: timedelta, **params: object
    ) -> int:
        """Queue a catalog message that goes out only after `delay` unless withdrawn first:
        the safety net of a direct reply that may never arrive. Returns its id."""
        now = self.clock.now()
        return await self.repo.enqueue_notice(tx, chat_id, key, params, now, not_before=now + delay)

    async def withdraw_about(self, tx: Tx, opinion_id: int, keys: Sequence[str]) -> int:
        """Notices `keys` about an opinion that no longer need to go (still queued ones:
        held through the quiet hours, or not yet sent); returns how many were withdrawn."""
        return await self.repo.withdraw_about(tx, opinion_id, keys)

    async def withdraw_marked(
        self, tx: Tx, keys: Sequence[str], name: str, value: int, *, chat_id: int | None = None
    ) -> int:
        """Notices `keys` still queued whose parameter `name` is `value` no longer go (what
        they ask for has ended, or was done: to `chat_id` only when given); returns how
        many were withdrawn."""
        return await self.repo.withdraw_marked(tx, keys, name, value, chat_id)

    async def withdraw(self, item_id: int) -> None:
        """The direct reply arrived: the held-back message is not sent."""
        async with self.db.transaction() as tx:
            await self.repo.withdraw(tx, item_id)

    async def release_now(self, item_id: int) -> None:
        """The direct reply failed: the held-back message goes out at once."""
        async with self.db.transaction() as tx:
            released = await self.repo.release_now(tx, item_id, self.clock.now())
        if released:
            self.wake()
