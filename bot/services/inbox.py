"""The deputies' opinion inbox: claim, ask, answer, decline, release; the voter's rating;
and the deadlines that remind deputies and alert staff.

Everything typed about an opinion (an answer, a reason, a question to the voter, the voter's
reply, the voter's comment on the answer) goes through one restart-safe typing step: the
draft (which opinion, which action) and the conversation state are written together, and
finishing writes the change, its history event and its notifications in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, field_validator

from bot.access import (
    Action,
    allowed,
    ensure,
    ensure_is_author,
    ensure_may_act_as_holder,
    ensure_may_assign,
    ensure_may_claim,
    ensure_may_see_in_inbox,
    may_act_as_holder,
    may_claim,
    may_see_author,
    may_see_in_inbox,
)
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError
from bot.i18n import N_
from bot.services.conversations import Conversation, DraftStore, DraftUnreadable
from bot.services.opinions import (
    ANSWER_MAX,
    EVENT_LABELS,
    REASON_MAX,
    SATISFACTION_CHOICES,
    SATISFACTION_LABELS,
    SOLVED_LABELS,
    TRANSITIONS,
    apply_transition,
    clean_reply,
    satisfaction_buttons,
    solved_buttons,
    translated,
)
from bot.services.outbox import Intent, NoticeButton, NoticeButtons, Outbox
from bot.services.paging import Page, clamp_page
from storage import Database, Tx
from storage.models import Deputy, Opinion, OpinionEvent, OpinionStatus, User
from storage.repos.calendar import CalendarRepo
from storage.repos.drafts import ConversationRepo, conversation_key
from storage.repos.opinions import OpinionRepo
from storage.repos.projects import ProjectRepo
from storage.repos.stations import StationRepo
from storage.repos.users import UserRepo

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.deputy_notices import DeputyNotices

VIEWS = ("all", "new", "open")
QUESTION_MAX = 1000
COMMENT_MAX = 500


class OpinionAction(StrEnum):
    """What someone may do with an opinion. A card offers exactly the actions `permitted`
    gives its viewer; the service refuses the others whatever button is tapped."""

    CLAIM = "claim"  # a deputy of its station takes it on
    ACCEPT = "accept"  # staff accept it, with nobody holding it yet
    ANSWER = "answer"  # typed: the holder, or staff for them
    DECLINE = "decline"  # typed: the reason
    ASK = "ask"  # typed: a question to the voter
    RELEASE = "release"  # back to the station's deputies
    ASSIGN = "assign"  # staff give it to a deputy of its station (or another one)
    REPLY = "reply"  # typed: the voter answers a question
    RATE_SOLVED = "rate_solved"  # the voter: was the problem solved?
    RATE_SATISFACTION = "rate_satisfaction"  # the voter: how satisfied?
    COMMENT = "comment"  # typed: the voter's comment on the rating
    LOOK_AGAIN = "look_again"  # the voter: not solved, look again (once)


# The statuses an action needs; who may take it is bot.access's rule (see `permitted`).
NEEDS_STATUS: dict[OpinionAction, frozenset[OpinionStatus]] = {
    OpinionAction.CLAIM: frozenset({OpinionStatus.SUBMITTED}),
    OpinionAction.ACCEPT: frozenset(TRANSITIONS["accept"][0]),
    OpinionAction.ANSWER: frozenset(TRANSITIONS["answer"][0]),
    OpinionAction.DECLINE: frozenset(TRANSITIONS["decline"][0]),
    OpinionAction.ASK: frozenset({OpinionStatus.ACCEPTED}),
    OpinionAction.RELEASE: frozenset({OpinionStatus.ACCEPTED}),
    OpinionAction.ASSIGN: frozenset({OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED}),
    OpinionAction.REPLY: frozenset({OpinionStatus.ACCEPTED}),
    OpinionAction.RATE_SOLVED: frozenset({OpinionStatus.ANSWERED}),
    OpinionAction.RATE_SATISFACTION: frozenset({OpinionStatus.ANSWERED}),
    OpinionAction.COMMENT: frozenset({OpinionStatus.CLOSED}),
    OpinionAction.LOOK_AGAIN: frozenset({OpinionStatus.CLOSED}),
}

# Why an opinion no longer waits for a deputy to claim or answer it: said in words of its own
# (answered, declined, withdrawn), not as a bare "not allowed".
GONE: dict[OpinionStatus, str] = {
    OpinionStatus.ANSWERED: "inbox.gone_answered",
    OpinionStatus.CLOSED: "inbox.gone_answered",
    OpinionStatus.DECLINED: "inbox.gone_declined",
    OpinionStatus.WITHDRAWN: "inbox.gone_withdrawn",
}

# What an opinion in a live suggestion (代表建议) is no longer open to: it is followed there,
# and answered with the suggestion's answer. Nor is it claimed: submitting the suggestion
# gave it a holder, and no reminder or digest offers it as waiting any more.
FOLLOWED_IN_SUGGESTION = frozenset(
    {OpinionAction.CLAIM, OpinionAction.ANSWER, OpinionAction.DECLINE, OpinionAction.RELEASE}
)

# What a typed text is for, and what the person is asked / told while typing it.
TYPED_BY_HOLDER = frozenset({OpinionAction.ANSWER, OpinionAction.DECLINE, OpinionAction.ASK})
TYPED_BY_BUTTON = TYPED_BY_HOLDER | {OpinionAction.REPLY}  # the voter's reply has its own
TYPED = TYPED_BY_BUTTON | {OpinionAction.COMMENT}  # the comment follows a rating
TEXT_MAXIMUM = {
    OpinionAction.ANSWER: ANSWER_MAX,
    OpinionAction.DECLINE: REASON_MAX,
    OpinionAction.ASK: QUESTION_MAX,
    OpinionAction.REPLY: QUESTION_MAX,
    OpinionAction.COMMENT: COMMENT_MAX,
}


class Listing(StrEnum):
    """Where an opinion's card is opened from; each is someone's to use."""

    INBOX = "inbox"  # /inbox: a deputy's station and what they hold (everything for staff)
    EVERY = "every"  # /opinions: every opinion, for staff


LISTING_NEEDS = {Listing.INBOX: Action.VIEW_INBOX, Listing.EVERY: Action.VIEW_ALL_OPINIONS}


def _is_author(actor: User, opinion: Opinion) -> bool:
    """bot.access's rule for the voter's side, as a yes or no."""
    try:
        ensure_is_author(actor, opinion)
    except AccessDenied:
        return False
    return True


def may_look_again(opinion: Opinion) -> bool:
    """'Not solved' lets the voter ask the holder to look again, once."""
    return (
        opinion.status in NEEDS_STATUS[OpinionAction.LOOK_AGAIN]
        and opinion.solved == "no"
        and not opinion.looked_again
    )


def permitted(actor: User, opinion: Opinion, station_id: int | None) -> frozenset[OpinionAction]:
    """Every action `actor` may take on `opinion` now, from its status and bot.access's
    rules; `station_id` is the actor's own station as a deputy (None: no deputy). The typed
    reply and comment are not offered here: a question's notice and a rating open them."""
    holder = may_act_as_holder(actor, opinion)
    author = _is_author(actor, opinion)
    rating = author and opinion.satisfaction is None
    rule = {
        OpinionAction.CLAIM: opinion.holder_id is None and may_claim(actor, opinion, station_id),
        OpinionAction.ACCEPT: allowed(actor, Action.HANDLE_OPINIONS),
        OpinionAction.ANSWER: holder,
        OpinionAction.DECLINE: holder,
        OpinionAction.ASK: holder and opinion.author_id is not None,  # nobody to ask yet
        OpinionAction.RELEASE: holder,
        OpinionAction.ASSIGN: allowed(actor, Action.ASSIGN_OPINION),
        OpinionAction.RATE_SOLVED: rating and opinion.solved is None,
        OpinionAction.RATE_SATISFACTION: rating and opinion.solved is not None,
        OpinionAction.LOOK_AGAIN: author and may_look_again(opinion),
    }
    return frozenset(a for a, ok in rule.items() if ok and opinion.status in NEEDS_STATUS[a])


# --- the `reply` conversation: one text typed about an opinion ------------------------------


class ReplyStep(StrEnum):
    """Its steps, as stored (the strings must not change)."""

    TYPING = "typing"
    # The comment after a rating is optional: a step of its own, so that leaving it (another
    # command, or walking away) ends it without a word.
    COMMENTING = "commenting"


class ReplyDraft(BaseModel):
    """What is being typed: for which opinion, and what for (both known from the start)."""

    opinion_id: int
    action: OpinionAction

    @field_validator("action")
    @classmethod
    def _typed(cls, action: OpinionAction) -> OpinionAction:
        if action not in TYPED:
            raise ValueError(f"{action} is not typed")
        return action


async def _may_keep_typing(services: Services, user: User) -> bool:
    """The holder's texts need the inbox still; the voter's need only their own rights."""
    pending = await services.inbox.typing(user)
    if pending is not None and pending.action in TYPED_BY_HOLDER:
        return allowed(user, Action.VIEW_INBOX)
    return allowed(user, Action.RATE_OPINION)


REPLY = Conversation(
    "reply",
    steps=ReplyStep,
    draft=ReplyDraft,
    may_continue=_may_keep_typing,
    optional_steps=[ReplyStep.COMMENTING],
)

# reminders_sent: subject, the recipient of a reminder that found nobody, and the kinds
SUBJECT = "opinion"
NOBODY = 0
UNCLAIMED = "unclaimed@"  # + the opinion's unclaimed_since: each unclaimed period afresh
UNCLAIMED_ALERT = "unclaimed_alert@"  # + the same
UNANSWERED = "unanswered@"  # + the holding's claimed_at
RATING_REMINDER = "rating@"  # + the answer's answered_at


# --- who may see an opinion: the one rule, read by the inbox card (a listing's card: its
# author is not among them there) and by bot.services.voice_opinions to play its voice ------


async def station_of(repo: OpinionRepo, user: User, tx: Tx | None = None) -> int | None:
    """A deputy's own station, from their deputies row; None for anyone else."""
    if not allowed(user, Action.CLAIM_OPINION):
        return None
    deputy = await repo.deputy(user.telegram_id, tx)
    return deputy.station_id if deputy else None


async def opinion_of(repo: OpinionRepo, opinion_id: int, tx: Tx | None = None) -> Opinion:
    """The opinion, or the refusal an unknown id gets (the same as someone else's)."""
    opinion = await repo.get_in(tx, opinion_id) if tx else await repo.get(opinion_id)
    if opinion is None:
        raise DomainError("error.not_your_record")
    return opinion


async def may_see(repo: OpinionRepo, actor: User, opinion: Opinion) -> bool:
    """Its author (their /my), staff, a deputy of its station, or its holder."""
    if opinion.author_id == actor.telegram_id and allowed(actor, Action.VIEW_OWN_OPINIONS):
        return True
    return may_see_in_inbox(actor, opinion, await station_of(repo, actor))


async def seen_opinion(repo: OpinionRepo, actor: User, opinion_id: int) -> Opinion:
    """The opinion, for someone who may see it (`may_see`); anyone else is refused as for
    an opinion that is not theirs, whatever it is."""
    opinion = await opinion_of(repo, opinion_id)
    if not await may_see(repo, actor, opinion):
        raise AccessDenied("error.not_your_record")
    return opinion


@dataclass(frozen=True)
class InboxCard:
    """One opinion as a deputy or staff member sees it in the inbox."""

    opinion: Opinion
    events: list[OpinionEvent]
    station_name: str
    holder_name: str | None
    author_name: str | None  # None: the author stayed anonymous to this viewer
    actions: frozenset[OpinionAction]  # what the viewer may do with it now
    project_title: str | None = None  # a supervision opinion: the project it is about


def _open_button(opinion_id: int) -> NoticeButton:
    """'Open' under a notice: the opinion's inbox card as a new message."""
    return NoticeButton(label="inbox.open_button", intent=Intent.OPEN_OPINION, target=opinion_id)


def notice_buttons(opinion: Opinion) -> NoticeButtons:
    """Under every notice that an opinion waits for a deputy (a new or released opinion, the
    3-day reminder): claim, or claim and answer at once; open the card (and play the voice
    of a voice opinion)."""
    act = [
        NoticeButton(label="inbox.claim_button", intent=Intent.CLAIM_OPINION, target=opinion.id),
        NoticeButton(label="inbox.answer_button", intent=Intent.ANSWER_OPINION, target=opinion.id),
    ]
    more = [_open_button(opinion.id)]
    if opinion.voice_seconds is not None:
        play = NoticeButton(
            label="deputy_notices.play_button", intent=Intent.PLAY_VOICE, target=opinion.id
        )
        more.insert(0, play)
    return [act, more]


def _open(opinion_id: int) -> NoticeButtons:
    """The one button under a notice about an opinion: open its card."""
    return [[_open_button(opinion_id)]]


def _assign_and_open(opinion: Opinion) -> NoticeButtons:
    """Under a staff alert about an overdue opinion: give it to a deputy (another one, if
    someone holds it) from the alert itself, or open its card."""
    label = "inbox.reassign_button" if opinion.holder_id else "inbox.assign_button"
    assign = NoticeButton(label=label, intent=Intent.ASSIGN_OPINION, target=opinion.id)
    return [[assign, _open_button(opinion.id)]]


class InboxService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        *,
        notices: DeputyNotices,
        unclaimed_remind_days: int = 3,
        unclaimed_alert_days: int = 7,
        unanswered_days: int = 15,
        rating_remind_days: int = 7,
        rating_close_days: int = 14,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.notices = notices
        self.unclaimed_remind_days = unclaimed_remind_days
        self.unclaimed_alert_days = unclaimed_alert_days
        self.unanswered_days = unanswered_days
        self.rating_remind_days = rating_remind_days
        self.rating_close_days = rating_close_days
        self.repo = OpinionRepo(db)
        self.stations = StationRepo(db)
        self.projects = ProjectRepo(db)
        self.users = UserRepo(db)
        self.marks = CalendarRepo(db)
        self.replies = DraftStore(db, REPLY)
        self.conversations = ConversationRepo(db)

    # --- reading ---------------------------------------------------------------------------

    async def _station_of(self, user: User, tx: Tx | None = None) -> int | None:
        return await station_of(self.repo, user, tx)

    async def _get(self, opinion_id: int, tx: Tx | None = None) -> Opinion:
        return await opinion_of(self.repo, opinion_id, tx)

    async def page(self, actor: User, view: str, page: int, per_page: int) -> Page[Opinion]:
        """Staff: every opinion; a deputy: their station's and those they hold. Newest first."""
        ensure(actor, Action.VIEW_INBOX)
        if view not in VIEWS:
            raise AccessDenied("error.stale_button")
        if allowed(actor, Action.VIEW_ALL_OPINIONS):
            station_id, user_id = None, None
        else:
            station_id, user_id = await self._station_of(actor), actor.telegram_id
        total = await self.repo.count_inbox(station_id, user_id, view)
        page, pages = clamp_page(page, total, per_page)
        items = await self.repo.page_inbox(station_id, user_id, view, page * per_page, per_page)
        return Page(items, page, pages)

    @staticmethod
    def ensure_listing(actor: User, listing: Listing) -> None:
        """May `actor` use this listing (and the cards opened from it) at all?"""
        ensure(actor, LISTING_NEEDS[listing])

    async def actions(self, actor: User, opinion: Opinion) -> frozenset[OpinionAction]:
        """What `actor` may do with `opinion` now (a card offers exactly these)."""
        return await self._permitted(actor, opinion, await self._station_of(actor))

    async def _permitted(
        self, actor: User, opinion: Opinion, station_id: int | None
    ) -> frozenset[OpinionAction]:
        """`permitted`, less what an opinion in a live suggestion is no longer open to."""
        actions = permitted(actor, opinion, station_id)
        if not actions & FOLLOWED_IN_SUGGESTION:
            return actions
        if await self.repo.in_live_suggestion(None, opinion.id) is not None:
            return actions - FOLLOWED_IN_SUGGESTION
        return actions

    async def _refuse_in_suggestion(self, tx: Tx, opinion: Opinion) -> None:
        """An opinion a live suggestion follows is answered there, not from the inbox."""
        number = await self.repo.in_live_suggestion(tx, opinion.id)
        if number is not None:
            raise DomainError("inbox.in_suggestion", tracking_no=opinion.tracking_no, number=number)

    async def card(self, actor: User, opinion_id: int, listing: Listing) -> InboxCard:
        """An opinion as `actor` sees it from `listing`, with what they may do about it."""
        self.ensure_listing(actor, listing)
        opinion = await self._get(opinion_id)
        station_id = await self._station_of(actor)
        ensure_may_see_in_inbox(actor, opinion, station_id)
        station = await self.stations.get(opinion.station_id)
        author_name = None
        if may_see_author(actor, opinion) and opinion.author_id is not None:
            author = await self.users.get(opinion.author_id)
            author_name = author.full_name if author and author.full_name else "—"
        return InboxCard(
            opinion=opinion,
            events=await self.repo.events(opinion_id),
            station_name=station.name if station else "—",
            holder_name=(
                await self.repo.deputy_name(opinion.holder_id) if opinion.holder_id else None
            ),
            author_name=author_name,
            actions=await self._permitted(actor, opinion, station_id),
            project_title=await self._project_title(opinion),
        )

    async def _project_title(self, opinion: Opinion) -> str | None:
        if opinion.project_id is None:
            return None
        project = await self.projects.get(opinion.project_id)
        return project.title if project is not None else None

    async def holder_name(self, opinion: Opinion) -> str | None:
        return await self.repo.deputy_name(opinion.holder_id) if opinion.holder_id else None

    async def addressee_name(self, opinion: Opinion) -> str | None:
        """The deputy the voter wrote the opinion to by name (代表码), or None."""
        if opinion.addressed_to is None:
            return None
        return await self.repo.deputy_name(opinion.addressed_to)

    async def assignable(self, actor: User, opinion_id: int) -> tuple[Opinion, list[Deputy]]:
        """The deputies of the opinion's station, for staff to pick from."""
        ensure_may_assign(actor)
        opinion = await self._get(opinion_id)
        if opinion.status not in NEEDS_STATUS[OpinionAction.ASSIGN]:
            raise DomainError("handling.wrong_status", tracking_no=opinion.tracking_no)
        return opinion, await self.repo.station_deputies(opinion.station_id)

    # --- claim, assign, release ------------------------------------------------------------

    async def claim(self, actor: User, opinion_id: int) -> Opinion:
        """Exactly one deputy holds an opinion: the conditional UPDATE decides, and the
        history event and the voter's notification commit with it or not at all."""
        async with self.db.transaction() as tx:
            await self._claim(tx, actor, await self._get(opinion_id, tx), self.clock.now())
        return await self._get(opinion_id)

    async def _claim(self, tx: Tx, actor: User, opinion: Opinion, now: datetime) -> None:
        """Inside the caller's transaction: `actor` takes `opinion` on, or the reason why
        not is raised (another station, someone else first, no longer waiting)."""
        ensure_may_claim(actor, opinion, await self._station_of(actor, tx))
        if not await self.repo.claim(tx, opinion.id, actor.telegram_id, now):
            await self._refuse_taken(tx, actor, opinion.id)
        # won, but a live suggestion follows it: the refusal rolls the claim back
        await self._refuse_in_suggestion(tx, opinion)
        name = await self.repo.deputy_name(actor.telegram_id, tx)
        await self.repo.add_event(tx, opinion.id, now, actor.telegram_id, "accepted", name)
        await self.notices.taken(tx, opinion.id)
        await self.outbox.notify(
            tx,
            opinion.author_id,
            "inbox.notify_claimed",
            tracking_no=opinion.tracking_no,
            deputy=name,
        )

    async def _refuse_taken(self, tx: Tx, actor: User, opinion_id: int) -> None:
        current = await self._get(opinion_id, tx)
        self._refuse_gone(current)  # answered (by whoever holds it) says more than who holds it
        if current.holder_id == actor.telegram_id:
            raise DomainError("inbox.already_yours", tracking_no=current.tracking_no)
        if current.holder_id is not None:
            holder = await self.repo.deputy_name(current.holder_id, tx)
            raise DomainError("inbox.held_by", tracking_no=current.tracking_no, name=holder)
        if current.status == OpinionStatus.ACCEPTED:  # staff accepted it, nobody holds it
            raise DomainError("inbox.accepted_unassigned", tracking_no=current.tracking_no)
        raise DomainError("handling.wrong_status", tracking_no=current.tracking_no)

    @staticmethod
    def _refuse_gone(opinion: Opinion) -> None:
        """An opinion answered, declined or withdrawn says so."""
        if opinion.status in GONE:
            raise DomainError(GONE[opinion.status], tracking_no=opinion.tracking_no)

    async def answer_from_notice(
        self, actor: User, chat_id: int, opinion_id: int
    ) -> tuple[Opinion, bool]:
        """'Answer' under a notice: a deputy of the station who does not hold the opinion
        claims it (as `claim` does: one winner, its event, the voter told) and, in the same
        transaction, its answer is what they type next (the `reply` conversation's step, as
        the card's Answer opens it); its holder goes straight to typing. Someone else first,
        or an opinion no longer waiting, is refused with the reason and nothing opens. Busy
        in another conversation is said only to someone who could act: after every other
        check, and the claim is rolled back with it. Returns the opinion and whether it was
        claimed now."""
        answer = OpinionAction.ANSWER
        busy = await self._busy_elsewhere(actor, chat_id)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            claiming = opinion.holder_id != actor.telegram_id
            if claiming:  # refused in a suggestion inside: the claim is rolled back with it
                await self._claim(tx, actor, opinion, now)
            else:
                ensure_may_act_as_holder(actor, opinion)
                self._refuse_gone(opinion)
                await self._check_typing(actor, opinion, answer, tx)
                await self._refuse_in_suggestion(tx, opinion)
            if busy:
                raise DomainError("conversation.busy")
            await self._save_typing(tx, actor, chat_id, opinion_id, answer)
        return await self._get(opinion_id), claiming

    async def assign(self, actor: User, opinion_id: int, deputy_id: int) -> Opinion:
        """Staff give an opinion to a deputy of its station, or move it to another one."""
        ensure_may_assign(actor)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            deputy = await self.repo.deputy(deputy_id, tx)
            if deputy is None or deputy.station_id != opinion.station_id:
                raise AccessDenied("inbox.not_station_deputy")
            if opinion.status not in NEEDS_STATUS[OpinionAction.ASSIGN]:
                raise DomainError("handling.wrong_status", tracking_no=opinion.tracking_no)
            if opinion.holder_id == deputy_id:
                raise DomainError("inbox.already_holder", name=deputy.name)
            await self.repo.assign(tx, opinion_id, deputy_id, now)
            await self.notices.taken(tx, opinion_id)
            await self.repo.add_event(
                tx, opinion_id, now, actor.telegram_id, "assigned", deputy.name
            )
            await self.outbox.notify(
                tx,
                deputy_id,
                "inbox.notify_assigned",
                buttons=_open(opinion_id),
                tracking_no=opinion.tracking_no,
            )
            if opinion.holder_id is not None:
                await self.outbox.notify(
                    tx,
                    opinion.holder_id,
                    "inbox.notify_done_for_you",
                    tracking_no=opinion.tracking_no,
                    params=translated(event=EVENT_LABELS["assigned"]),
                )
            if opinion.status == OpinionStatus.SUBMITTED:
                await self.outbox.notify(
                    tx,
                    opinion.author_id,
                    "inbox.notify_claimed",
                    tracking_no=opinion.tracking_no,
                    deputy=deputy.name,
                )
        return await self._get(opinion_id)

    async def release(self, actor: User, opinion_id: int) -> Opinion:
        """The holder (or staff) gives an opinion back to the station's deputies: it is
        unclaimed again from now (its 3- and 7-day deadlines count afresh), and the station's
        deputies are told as of a new opinion, except whoever released it and its holder."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            ensure_may_act_as_holder(actor, opinion)
            await self._refuse_in_suggestion(tx, opinion)
            if not await self.repo.release(tx, opinion_id, now):
                raise DomainError("handling.wrong_status", tracking_no=opinion.tracking_no)
            await self.repo.add_event(tx, opinion_id, now, actor.telegram_id, "released")
            await self.outbox.notify(
                tx, opinion.author_id, "inbox.notify_released", tracking_no=opinion.tracking_no
            )
            if opinion.holder_id is not None and opinion.holder_id != actor.telegram_id:
                await self.outbox.notify(
                    tx,
                    opinion.holder_id,
                    "inbox.notify_done_for_you",
                    tracking_no=opinion.tracking_no,
                    params=translated(event=EVENT_LABELS["released"]),
                )
            skip = {actor.telegram_id, *([opinion.holder_id] if opinion.holder_id else [])}
            await self.notices.tell_unclaimed(
                tx, await self._get(opinion_id, tx), released=True, skip=skip
            )
        return await self._get(opinion_id)

    # --- typing: answer, reason, question, reply, comment ----------------------------------

    async def _check_typing(
        self, actor: User, opinion: Opinion, action: OpinionAction, tx: Tx | None = None
    ) -> None:
        """May `actor` type `action` for `opinion` now? Raises the reason if not."""
        fits = opinion.status in NEEDS_STATUS[action]
        if action in TYPED_BY_HOLDER:
            ensure_may_act_as_holder(actor, opinion)
            if not fits:
                raise DomainError("handling.wrong_status", tracking_no=opinion.tracking_no)
            if action == OpinionAction.ASK and opinion.author_id is None:
                raise DomainError("desk.nobody_to_ask", tracking_no=opinion.tracking_no)
        elif action == OpinionAction.REPLY:
            ensure_is_author(actor, opinion)
            if not fits or await self.repo.last_asker(opinion.id, tx) is None:
                raise DomainError("inbox.no_question", tracking_no=opinion.tracking_no)
        elif action == OpinionAction.COMMENT:
            ensure_is_author(actor, opinion)
            if not fits or opinion.rated_at is None or opinion.rating_comment:
                raise DomainError("rate.comment_closed", tracking_no=opinion.tracking_no)
        else:
            raise AccessDenied("error.stale_button")

    async def _save_typing(
        self, tx: Tx, actor: User, chat_id: int, opinion_id: int, action: OpinionAction
    ) -> None:
        await self.replies.put(
            tx,
            chat_id,
            actor.telegram_id,
            ReplyDraft(opinion_id=opinion_id, action=action),
            ReplyStep.COMMENTING if action == OpinionAction.COMMENT else ReplyStep.TYPING,
            self.clock.now(),
        )

    async def _drop_typing(self, tx: Tx, actor: User, chat_id: int) -> None:
        await self.replies.put(tx, chat_id, actor.telegram_id, None, None, self.clock.now())

    async def _busy_elsewhere(self, actor: User, chat_id: int) -> bool:
        """In the middle of another multi-step conversation (one at a time)."""
        key = conversation_key(chat_id, actor.telegram_id)
        return bool(await self.conversations.active_names(key) - {REPLY.name})

    async def start_typing(
        self, actor: User, chat_id: int, opinion_id: int, action: str
    ) -> Opinion:
        """Remember which opinion a text is being typed for, and what for; restart-safe."""
        if action not in TYPED_BY_BUTTON:
            raise AccessDenied("error.stale_button")
        typed = OpinionAction(action)
        opinion = await self._get(opinion_id)
        await self._check_typing(actor, opinion, typed)
        if await self._busy_elsewhere(actor, chat_id):
            raise DomainError("conversation.busy")
        async with self.db.transaction() as tx:
            if typed in FOLLOWED_IN_SUGGESTION:
                await self._refuse_in_suggestion(tx, opinion)
            await self._save_typing(tx, actor, chat_id, opinion_id, typed)
        return opinion

    async def typing(self, actor: User) -> ReplyDraft | None:
        """What is being typed, or None."""
        try:
            return await self.replies.load(actor.telegram_id)
        except DraftUnreadable:  # left by a version that typed something else
            return None

    async def drop_typing(self, actor: User, chat_id: int) -> None:
        async with self.db.transaction() as tx:
            await self._drop_typing(tx, actor, chat_id)

    async def finish_typing(
        self, actor: User, chat_id: int, text: str
    ) -> tuple[Opinion, OpinionAction]:
        """Apply the typed text. A text that is too short or long keeps the typing open;
        an opinion that moved on meanwhile ends it (the error says why)."""
        pending = await self.typing(actor)
        if pending is None:
            await self.drop_typing(actor, chat_id)
            raise DomainError("inbox.nothing_typed")
        opinion_id, action = pending.opinion_id, pending.action
        note = clean_reply(text, TEXT_MAXIMUM[action])
        now = self.clock.now()
        try:
            async with self.db.transaction() as tx:
                opinion = await self._get(opinion_id, tx)
                if action in (OpinionAction.ANSWER, OpinionAction.DECLINE):
                    # taken into a suggestion while the text was being typed
                    await self._refuse_in_suggestion(tx, opinion)
                    await apply_transition(
                        tx, self.repo, self.outbox, actor, opinion, action, note, now
                    )
                else:
                    await self._check_typing(actor, opinion, action, tx)
                    if action == OpinionAction.ASK:
                        await self._ask(tx, actor, opinion, note, now)
                    elif action == OpinionAction.REPLY:
                        await self._reply(tx, actor, opinion, note, now)
                    else:
                        await self._comment(tx, actor, opinion, note, now)
                await self._drop_typing(tx, actor, chat_id)
        except DomainError:
            await self.drop_typing(actor, chat_id)
            raise
        return await self._get(opinion_id), action

    async def _ask(
        self, tx: Tx, actor: User, opinion: Opinion, question: str, now: datetime
    ) -> None:
        await self.repo.add_event(tx, opinion.id, now, actor.telegram_id, "asked", question)
        deputy = await self.repo.deputy(actor.telegram_id, tx)
        asker: dict[str, object] = (
            {"asker": deputy.name} if deputy else translated(asker=N_("inbox.staff_asker"))
        )
        await self.outbox.notify(
            tx,
            opinion.author_id,
            "inbox.notify_question",
            buttons=[
                [
                    NoticeButton(
                        label="inbox.reply_button",
                        intent=Intent.REPLY_TO_QUESTION,
                        target=opinion.id,
                    )
                ]
            ],
            tracking_no=opinion.tracking_no,
            question=question,
            params=asker,
        )

    async def _reply(
        self, tx: Tx, actor: User, opinion: Opinion, reply: str, now: datetime
    ) -> None:
        """The voter's reply goes to whoever asked, and to the holder if that is someone else;
        the voter's name only to those allowed to see it."""
        await self.repo.add_event(tx, opinion.id, now, actor.telegram_id, "replied", reply)
        recipients = []
        for someone in (await self.repo.last_asker(opinion.id, tx), opinion.holder_id):
            if someone is not None and someone not in recipients:
                recipients.append(someone)
        for recipient_id in recipients:
            recipient = await self.users.get(recipient_id)
            named = recipient is not None and may_see_author(recipient, opinion)
            author: dict[str, object] = (
                {"author": actor.full_name or "—"}
                if named
                else translated(author=N_("inbox.anonymous_voter"))
            )
            await self.outbox.notify(
                tx,
                recipient_id,
                "inbox.notify_reply",
                buttons=[
                    [
                        _open_button(opinion.id),
                        NoticeButton(
                            label="inbox.ask_again_button",
                            intent=Intent.ASK_AGAIN,
                            target=opinion.id,
                        ),
                    ]
                ],
                tracking_no=opinion.tracking_no,
                reply=reply,
                params=author,
            )

    async def _comment(
        self, tx: Tx, actor: User, opinion: Opinion, comment: str, now: datetime
    ) -> None:
        if not await self.repo.set_comment(tx, opinion.id, comment, now):
            raise DomainError("rate.comment_closed", tracking_no=opinion.tracking_no)
        await self.repo.add_event(tx, opinion.id, now, actor.telegram_id, "commented", comment)
        if opinion.holder_id is not None:
            await self.outbox.notify(
                tx,
                opinion.holder_id,
                "inbox.notify_comment",
                buttons=_open(opinion.id),
                tracking_no=opinion.tracking_no,
                comment=comment,
            )

    # --- the voter's rating ----------------------------------------------------------------

    @staticmethod
    def _ensure_rateable(opinion: Opinion) -> None:
        if opinion.status == OpinionStatus.ANSWERED and opinion.satisfaction is None:
            return
        if opinion.status == OpinionStatus.CLOSED:
            raise DomainError("rate.already_rated", tracking_no=opinion.tracking_no)
        raise DomainError("rate.not_answered", tracking_no=opinion.tracking_no)

    async def rate_solved(self, actor: User, opinion_id: int, solved: str) -> Opinion:
        """First question: was the problem solved? It may be changed until the second."""
        if solved not in SOLVED_LABELS:
            raise AccessDenied("error.stale_button")
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            ensure_is_author(actor, opinion)
            self._ensure_rateable(opinion)
            await self.repo.set_solved(tx, opinion_id, solved, self.clock.now())
        return await self._get(opinion_id)

    async def rate_satisfaction(
        self, actor: User, chat_id: int, opinion_id: int, satisfaction: str
    ) -> tuple[Opinion, bool]:
        """Second question: how satisfied? Stores the rating, closes the opinion, tells the
        holder, and opens the optional comment unless the voter is in the middle of
        something else; returns the opinion and whether a comment is awaited."""
        if satisfaction not in SATISFACTION_CHOICES:
            raise AccessDenied("error.stale_button")
        # no comment step while anything else is being typed, a pending reply included:
        # the next message would otherwise land as a comment on this opinion
        key = conversation_key(chat_id, actor.telegram_id)
        comment = not await self.conversations.active_names(key)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            ensure_is_author(actor, opinion)
            self._ensure_rateable(opinion)
            if opinion.solved is None:
                raise DomainError("rate.solved_first", tracking_no=opinion.tracking_no)
            if not await self.repo.rate(tx, opinion_id, satisfaction, now):
                raise DomainError("rate.already_rated", tracking_no=opinion.tracking_no)
            await self.repo.add_event(
                tx, opinion_id, now, actor.telegram_id, f"solved_{opinion.solved}"
            )
            await self.repo.add_event(
                tx, opinion_id, now, actor.telegram_id, f"rated_{satisfaction}"
            )
            if opinion.holder_id is not None:
                await self.outbox.notify(
                    tx,
                    opinion.holder_id,
                    "inbox.notify_rated",
                    buttons=_open(opinion_id),
                    tracking_no=opinion.tracking_no,
                    params=translated(
                        solved=SOLVED_LABELS[opinion.solved],
                        satisfaction=SATISFACTION_LABELS[satisfaction],
                    ),
                )
            if comment:
                await self._save_typing(tx, actor, chat_id, opinion_id, OpinionAction.COMMENT)
        return await self._get(opinion_id), comment

    async def skip_comment(self, actor: User, chat_id: int, opinion_id: int) -> Opinion:
        opinion = await self._get(opinion_id)
        ensure_is_author(actor, opinion)
        await self.drop_typing(actor, chat_id)
        return opinion

    async def look_again(self, actor: User, chat_id: int, opinion_id: int) -> Opinion:
        """'Not solved': the voter asks the same holder to look again, once."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            ensure_is_author(actor, opinion)
            if opinion.looked_again:
                raise DomainError("rate.looked_again_once", tracking_no=opinion.tracking_no)
            if not may_look_again(opinion) or not await self.repo.reopen(tx, opinion_id, now):
                raise DomainError("rate.look_again_refused", tracking_no=opinion.tracking_no)
            await self.repo.add_event(tx, opinion_id, now, actor.telegram_id, "reopened")
            if opinion.holder_id is not None:
                await self.outbox.notify(
                    tx,
                    opinion.holder_id,
                    "inbox.notify_look_again",
                    buttons=_open(opinion_id),
                    tracking_no=opinion.tracking_no,
                )
            else:
                for staff_id in await self.users.staff_ids(tx):
                    await self.outbox.notify(
                        tx,
                        staff_id,
                        "inbox.notify_look_again",
                        buttons=_open(opinion_id),
                        tracking_no=opinion.tracking_no,
                    )
            pending = await self.typing(actor)
            if pending is not None and pending.opinion_id == opinion_id:
                await self._drop_typing(tx, actor, chat_id)
        return await self._get(opinion_id)

    # --- deadlines -------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Send every deadline reminder, staff alert, rating reminder and rating closure that
        is due now, each once (reminders_sent records them, in the transaction that queues
        them); returns how many messages were queued."""
        now = self.clock.now()
        sent = 0
        for opinion_id, kind in await self.repo.due_unclaimed(
            now - timedelta(days=self.unclaimed_remind_days), UNCLAIMED
        ):
            sent += await self._unclaimed(opinion_id, kind, now)
        for opinion_id, kind in await self.repo.due_unclaimed(
            now - timedelta(days=self.unclaimed_alert_days), UNCLAIMED_ALERT
        ):
            sent += await self._unclaimed(opinion_id, kind, now)
        for opinion_id, kind in await self.repo.due_unanswered(
            now - timedelta(days=self.unanswered_days), UNANSWERED
        ):
            sent += await self._unanswered(opinion_id, kind, now)
        # closures first: an opinion past both deadlines is closed, not reminded
        for opinion_id in await self.repo.due_closures(
            now - timedelta(days=self.rating_close_days)
        ):
            sent += await self._close_unrated(opinion_id, now)
        for opinion_id, kind in await self.repo.due_rating_reminders(
            now - timedelta(days=self.rating_remind_days), RATING_REMINDER
        ):
            sent += await self._remind_rating(opinion_id, kind, now)
        return sent

    async def _send_once(
        self,
        tx: Tx,
        opinion_id: int,
        kind: str,
        recipients: list[int],
        key: str,
        buttons: NoticeButtons | None,
        now: datetime,
        **params: object,
    ) -> int:
        """`key` to each recipient not yet reminded of `kind`; nobody at all is recorded as
        dropped, so the opinion is not looked at again for this kind."""
        if not recipients:
            await self.marks.mark_reminded(tx, SUBJECT, opinion_id, NOBODY, kind, "dropped", now)
            return 0
        sent = 0
        for recipient in dict.fromkeys(recipients):
            if await self.marks.mark_reminded(
                tx, SUBJECT, opinion_id, recipient, kind, "sent", now
            ):
                await self.outbox.notify(tx, recipient, key, buttons=buttons, params=params)
                sent += 1
        return sent

    async def _unclaimed(self, opinion_id: int, kind: str, now: datetime) -> int:
        """`kind` names the deadline and the unclaimed period it was due for."""
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            since = await self.repo.stamp_of(tx, opinion_id, "unclaimed_since")
            deadline = UNCLAIMED if kind.startswith(UNCLAIMED) else UNCLAIMED_ALERT
            if opinion.status != OpinionStatus.SUBMITTED or kind != deadline + str(since):
                return 0  # claimed, or claimed and released again, since the query
            station = await self.stations.get(opinion.station_id)
            params: dict[str, object] = {
                "tracking_no": opinion.tracking_no,
                "station": station.name if station else "—",
            }
            if deadline == UNCLAIMED:
                deputies = await self.repo.station_deputies(opinion.station_id, tx)
                return await self._send_once(
                    tx,
                    opinion_id,
                    kind,
                    [d.user_id for d in deputies],
                    "inbox.remind_unclaimed",
                    notice_buttons(opinion),
                    now,
                    days=self.unclaimed_remind_days,
                    **params,
                )
            return await self._send_once(
                tx,
                opinion_id,
                kind,
                await self.users.staff_ids(tx),
                "inbox.alert_unclaimed",
                _assign_and_open(opinion),
                now,
                days=self.unclaimed_alert_days,
                **params,
            )

    async def _unanswered(self, opinion_id: int, kind: str, now: datetime) -> int:
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            held_since = await self.repo.stamp_of(tx, opinion_id, "claimed_at")
            if opinion.status != OpinionStatus.ACCEPTED or kind != UNANSWERED + str(held_since):
                return 0  # answered, released or handed on since the query
            sent = 0
            if opinion.holder_id is not None:
                sent += await self._send_once(
                    tx,
                    opinion_id,
                    kind,
                    [opinion.holder_id],
                    "inbox.remind_unanswered",
                    _open(opinion_id),
                    now,
                    tracking_no=opinion.tracking_no,
                    days=self.unanswered_days,
                )
            holder = (
                await self.repo.deputy_name(opinion.holder_id, tx) if opinion.holder_id else "—"
            )
            staff = [s for s in await self.users.staff_ids(tx) if s != opinion.holder_id]
            if staff or opinion.holder_id is None:
                sent += await self._send_once(
                    tx,
                    opinion_id,
                    kind,
                    staff,
                    "inbox.alert_unanswered",
                    _assign_and_open(opinion),
                    now,
                    tracking_no=opinion.tracking_no,
                    days=self.unanswered_days,
                    holder=holder,
                )
            return sent

    async def _remind_rating(self, opinion_id: int, kind: str, now: datetime) -> int:
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            answered = await self.repo.stamp_of(tx, opinion_id, "answered_at")
            if opinion.status != OpinionStatus.ANSWERED or kind != RATING_REMINDER + str(answered):
                return 0
            buttons = (
                solved_buttons(opinion_id)
                if opinion.solved is None
                else satisfaction_buttons(opinion_id)
            )
            return await self._send_once(
                tx,
                opinion_id,
                kind,
                [] if opinion.author_id is None else [opinion.author_id],
                "rate.remind",
                buttons,
                now,
                tracking_no=opinion.tracking_no,
                waited=self.rating_remind_days,
                days=self.rating_close_days - self.rating_remind_days,
            )

    async def _close_unrated(self, opinion_id: int, now: datetime) -> int:
        """No rating in time: closed as 'not rated', which never counts as satisfied."""
        cutoff = now - timedelta(days=self.rating_close_days)
        async with self.db.transaction() as tx:
            opinion = await self._get(opinion_id, tx)
            if not await self.repo.close_unrated(tx, opinion_id, cutoff, now):
                return 0
            await self.repo.add_event(tx, opinion_id, now, None, "not_rated")
            await self.outbox.notify(
                tx, opinion.author_id, "rate.notify_not_rated", tracking_no=opinion.tracking_no
            )
            return 1
