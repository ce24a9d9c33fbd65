"""Opinions (意见建议): the draft a voter writes step by step, submission with a tracking
number, the voter's own list and history, and the handling transitions (accept, decline,
answer) shared by the staff's /opinions and the deputies' inbox (bot/services/inbox.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.access import Action, ensure, ensure_may_act_as_holder, ensure_may_view_opinion
from bot.clock import Clock
from bot.errors import DomainError, present
from bot.i18n import N_
from bot.services.conversations import Conversation, DraftStore
from bot.services.outbox import Intent, NoticeButton, NoticeButtons, Outbox
from bot.services.paging import Page, clamp_page
from bot.services.text import typed
from storage import Database, Tx
from storage.models import Opinion, OpinionDraft, OpinionEvent, OpinionStatus, User
from storage.repos.deputies import DeputyRepo
from storage.repos.opinions import OpinionRepo

if TYPE_CHECKING:
    from bot.services.deputy_notices import DeputyNotices


class OpinionStep(StrEnum):
    """The steps of /opinion, as stored (the strings must not change)."""

    CATEGORY = "category"
    TEXT = "text"
    PHOTOS = "photos"
    LOCATION = "location"
    NAME = "name"
    ADDRESS = "address"  # to the deputy whose code the voter opened, or the station
    PREVIEW = "preview"
    EDIT = "edit"  # which field to change, from the preview


# The voter's draft keeps its own table (OpinionDraft), written with the step by `save`.
OPINION = Conversation(
    "opinion",
    steps=OpinionStep,
    draft=OpinionDraft,
    opened_by=("opinion",),
    needs=Action.SUBMIT_OPINION,
    draft_table="opinion_drafts",
)

TEXT_MIN = 10
TEXT_MAX = 2000
# The longest voice message taken as an opinion's body; a longer one is refused clearly.
VOICE_MAX_SECONDS = 120
VOICE_MIN_SECONDS = 2  # shorter is a slip of the thumb on 🎤, not an opinion
MAX_PHOTOS = 3
# How long the receipt of a new opinion waits for the direct reply to reach the voter; after
# that (a failed reply, a process that died) the outbox sends the tracking number itself.
RECEIPT_DELAY = timedelta(seconds=60)

# (code stored in the database, message id of its label)
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("urban", N_("category.urban")),
    ("traffic", N_("category.traffic")),
    ("elderly", N_("category.elderly")),
    ("education", N_("category.education")),
    ("environment", N_("category.environment")),
    ("housing", N_("category.housing")),
    ("jobs", N_("category.jobs")),
    ("safety", N_("category.safety")),
    ("culture", N_("category.culture")),
    ("other", N_("category.other")),
)
CATEGORY_LABELS = dict(CATEGORIES)

STATUS_LABELS = {
    "submitted": N_("status.submitted"),
    "accepted": N_("status.accepted"),
    "declined": N_("status.declined"),
    "answered": N_("status.answered"),
    "closed": N_("status.closed"),
    "withdrawn": N_("status.withdrawn"),
}
EVENT_LABELS = {
    "submitted": N_("event.submitted"),
    "accepted": N_("event.accepted"),
    "declined": N_("event.declined"),
    "answered": N_("event.answered"),
    "closed": N_("event.closed"),
    "forgotten": N_("event.forgotten"),
    "assigned": N_("event.assigned"),
    "released": N_("event.released"),
    "asked": N_("event.asked"),
    "replied": N_("event.replied"),
    "solved_yes": N_("event.solved_yes"),
    "solved_partly": N_("event.solved_partly"),
    "solved_no": N_("event.solved_no"),
    "rated_satisfied": N_("event.rated_satisfied"),
    "rated_basically": N_("event.rated_basically"),
    "rated_unsatisfied": N_("event.rated_unsatisfied"),
    "commented": N_("event.commented"),
    "reopened": N_("event.reopened"),
    "not_rated": N_("event.not_rated"),
    "suggested": N_("event.suggested"),
    "suggestion_withdrawn": N_("event.suggestion_withdrawn"),
    "suggestion_declined": N_("event.suggestion_declined"),
    # the reception desk (bot.services.desk): entered by staff for a visitor, then claimed
    "desk_entered": N_("event.desk_entered"),
    "desk_claimed": N_("event.desk_claimed"),
    "transcribed": N_("event.transcribed"),  # staff typed a voice opinion's transcript
}

# The voter's rating of an answer: two separate questions (code stored, label message id).
SOLVED_LABELS = {
    "yes": N_("rate.solved_yes"),
    "partly": N_("rate.solved_partly"),
    "no": N_("rate.solved_no"),
}
SATISFACTION_LABELS = {
    "satisfied": N_("rate.satisfied"),
    "basically": N_("rate.basically"),
    "unsatisfied": N_("rate.unsatisfied"),
    "not_rated": N_("rate.not_rated"),
}
SATISFACTION_CHOICES = ("satisfied", "basically", "unsatisfied")


def translated(**message_ids: str) -> dict[str, object]:
    """Notice parameters that the dispatcher translates into the recipient's language:
    `event=<message id>` is sent as `event_key` and rendered as `{event}`."""
    return {f"{name}_key": message_id for name, message_id in message_ids.items()}


def solved_buttons(opinion_id: int) -> NoticeButtons:
    """The typed actions under a notice for "was the problem solved?", one per answer."""
    return [
        [
            NoticeButton(label=label, intent=Intent.RATE_SOLVED, target=opinion_id, choice=code)
            for code, label in SOLVED_LABELS.items()
        ]
    ]


def satisfaction_buttons(opinion_id: int) -> NoticeButtons:
    """The typed actions under a notice for "how satisfied are you?", one per answer."""
    return [
        [
            NoticeButton(
                label=SATISFACTION_LABELS[code],
                intent=Intent.RATE_SATISFACTION,
                target=opinion_id,
                choice=code,
            )
            for code in SATISFACTION_CHOICES
        ]
    ]


@dataclass(frozen=True)
class OpinionDetail:
    opinion: Opinion
    events: list[OpinionEvent]


@dataclass(frozen=True)
class Submission:
    """What a Send tap did. `repeated`: the draft was sent before and nothing new was made;
    `receipt`: the outbox id of the held-back receipt (a new opinion only); `step`: where the
    voter's /opinion conversation is now (None: not in one)."""

    opinion: Opinion
    repeated: bool
    receipt: int | None
    step: str | None


def opinion_text(raw: str | None) -> str:
    """The opinion's text as typed, cleaned of invisible characters and checked for length."""
    return typed(
        raw,
        minimum=TEXT_MIN,
        maximum=TEXT_MAX,
        empty="opinion.text_empty",
        too_short="opinion.text_too_short",
        too_long="opinion.text_too_long",
    )


def take_text(draft: OpinionDraft, raw: str | None) -> None:
    """The typed text becomes the draft's body (cleaned and measured); a voice given before
    is dropped: an opinion has one body."""
    draft.text = opinion_text(raw)
    draft.voice_file_id = draft.voice_seconds = None


def take_voice(draft: OpinionDraft, file_id: str, seconds: int, *, forwarded: bool) -> None:
    """A voice message becomes the draft's body, kept by Telegram's file_id with its length,
    in place of any text typed before. Refused: a forwarded one (someone else's voice), one
    shorter than VOICE_MIN_SECONDS or longer than VOICE_MAX_SECONDS."""
    if forwarded:
        raise DomainError("opinion.voice_forwarded")
    if seconds < VOICE_MIN_SECONDS:
        raise DomainError("opinion.voice_too_short", seconds=VOICE_MIN_SECONDS)
    if seconds > VOICE_MAX_SECONDS:
        raise DomainError("opinion.voice_too_long", minutes=VOICE_MAX_SECONDS // 60)
    draft.voice_file_id, draft.voice_seconds = file_id, seconds
    draft.text = None


REPLY_MIN = 2
REASON_MAX = 500
ANSWER_MAX = 2000

# status → the statuses it may move to, by action
TRANSITIONS: dict[str, tuple[set[OpinionStatus], OpinionStatus, str]] = {
    "accept": ({OpinionStatus.SUBMITTED}, OpinionStatus.ACCEPTED, "notify.opinion_accepted"),
    "decline": (
        {OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED},
        OpinionStatus.DECLINED,
        "notify.opinion_declined",
    ),
    "answer": (
        {OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED},
        OpinionStatus.ANSWERED,
        "inbox.notify_answered",
    ),
}


def clean_reply(raw: str | None, maximum: int) -> str:
    """Anything typed about an opinion (an answer, a reason, a question, the voter's reply or
    comment), cleaned of invisible characters and measured after cleaning."""
    return typed(
        raw,
        minimum=REPLY_MIN,
        maximum=maximum,
        empty="handling.reply_empty",
        too_short="handling.reply_too_short",
        too_long="handling.reply_too_long",
    )


async def apply_transition(
    tx: Tx,
    repo: OpinionRepo,
    outbox: Outbox,
    actor: User,
    opinion: Opinion,
    action: str,
    note: str,
    now: datetime,
) -> None:
    """Accept (staff), decline or answer (the holder, or staff for them): the status, a
    history event and the notifications change together, inside the caller's transaction.
    `note` is already cleaned."""
    sources, target, notice = TRANSITIONS[action]
    if action == "accept":
        ensure(actor, Action.HANDLE_OPINIONS)
    else:
        ensure_may_act_as_holder(actor, opinion)
    if opinion.status not in sources:
        raise DomainError("handling.wrong_status", tracking_no=opinion.tracking_no)
    if action == "accept":
        await repo.accept_unheld(tx, opinion.id, now)
    elif action == "answer":
        await repo.mark_answered(tx, opinion.id, now)
    else:
        await repo.set_status(tx, opinion.id, target, now)
    await repo.add_event(tx, opinion.id, now, actor.telegram_id, target.value, note)
    buttons = solved_buttons(opinion.id) if action == "answer" else None
    await outbox.notify(
        tx,
        opinion.author_id,
        notice,
        buttons=buttons,
        tracking_no=opinion.tracking_no,
        note=note,
    )
    holder = opinion.holder_id
    if action != "accept" and holder is not None and holder != actor.telegram_id:
        # staff acted for the holder: the holder hears of it
        await outbox.notify(
            tx,
            holder,
            "inbox.notify_done_for_you",
            buttons=[
                [
                    NoticeButton(
                        label="inbox.open_button", intent=Intent.OPEN_OPINION, target=opinion.id
                    )
                ]
            ],
            tracking_no=opinion.tracking_no,
            params=translated(event=EVENT_LABELS[target.value]),
        )


async def take_tracking_no(tx: Tx, repo: OpinionRepo, prefix: str, year: int) -> str:
    """The next tracking number of `year` (e.g. HD-2026-000042), never handed out again: a
    voter's opinion and a deputy's supervision opinion of a project take theirs here."""
    sequence = await repo.next_sequence(tx, year)
    return f"{prefix}-{year}-{sequence:06d}"


class OpinionService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        zone: ZoneInfo,
        daily_limit: int,
        prefix: str,
        outbox: Outbox,
        notices: DeputyNotices,
    ) -> None:
        self.outbox = outbox
        self.notices = notices
        self.db = db
        self.clock = clock
        self.zone = zone
        self.daily_limit = daily_limit
        self.prefix = prefix
        self.repo = OpinionRepo(db)
        self.deputies = DeputyRepo(db)
        self.steps = DraftStore(db, OPINION)

    def _start_of_day(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        return datetime.combine(local.date(), time(0), tzinfo=self.zone)

    async def check_daily_limit(self, author: User) -> None:
        """A plain read: submit checks again inside its own transaction."""
        await self._check_limit(None, author.telegram_id)

    async def _check_limit(self, tx: Tx | None, author_id: int) -> None:
        since = self._start_of_day(self.clock.now())
        count = await self.repo.count_by_author_since(tx, author_id, since)
        if count >= self.daily_limit:
            raise DomainError("opinion.daily_limit", limit=self.daily_limit)

    async def begin(self, author: User) -> None:
        """Checks before a new opinion: permission, station, today's limit."""
        ensure(author, Action.SUBMIT_OPINION)
        if author.station_id is None:
            raise DomainError("opinion.no_station")
        await self.check_daily_limit(author)

    async def draft(self, user_id: int) -> OpinionDraft:
        return await self.steps.load(user_id) or OpinionDraft()

    async def save(
        self, user_id: int, chat_id: int, draft: OpinionDraft, step: OpinionStep
    ) -> None:
        """Store the draft and the step it is at, together, so a crash loses at most one step."""
        async with self.db.transaction() as tx:
            await self.steps.put(tx, chat_id, user_id, draft, step, self.clock.now())

    async def discard(self, user_id: int, chat_id: int) -> OpinionStep | None:
        """Drop the draft and leave /opinion; the step it was at (None: not in it)."""
        async with self.db.transaction() as tx:
            step = await self.steps.step_of(chat_id, user_id, tx)
            await self.steps.put(tx, chat_id, user_id, None, None, self.clock.now())
        return step

    async def _sent_from(self, author: User, token: str, tx: Tx | None = None) -> Opinion | None:
        """The author's opinion made from the draft named `token` (another's is not found)."""
        opinion = await self.repo.by_draft_token(token, tx)
        return opinion if opinion is not None and opinion.author_id == author.telegram_id else None

    async def sent_before(self, author: User, chat_id: int, token: str) -> Submission:
        """A Send tapped again while the voter is elsewhere in /opinion: the opinion that
        draft became; any other Send button there is stale."""
        ensure(author, Action.SUBMIT_OPINION)
        opinion = await self._sent_from(author, token)
        if opinion is None:
            raise DomainError("error.stale_button")
        step = await self.steps.step_of(chat_id, author.telegram_id)
        return Submission(opinion, True, None, step)

    async def submit(self, author: User, chat_id: int, token: str) -> Submission:
        """Send the draft named `token`, once. In one transaction: the opinion (keeping the
        token), its first event, the end of the draft and of the conversation, a receipt
        of the tracking number held back in the outbox (RECEIPT_DELAY) in case the direct
        reply never arrives, and the notices to the station's deputies. A draft sent before
        gives back the same opinion, making nothing."""
        ensure(author, Action.SUBMIT_OPINION)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            earlier = await self._sent_from(author, token, tx)
            if earlier is not None:
                step = await self.steps.step_of(chat_id, author.telegram_id, tx)
                return Submission(earlier, True, None, step)
            draft = await self.steps.load(author.telegram_id, tx)
            if draft is None or draft.token != token:  # that draft was given up (or forged)
                raise DomainError("opinion.no_draft")
            spoken = draft.voice_file_id is not None
            if draft.category is None or draft.show_name is None:
                raise DomainError("opinion.incomplete")
            if draft.text is None and not spoken:
                raise DomainError("opinion.incomplete")
            if author.station_id is None:
                raise DomainError("opinion.no_station")
            await self._check_limit(tx, author.telegram_id)
            opinion = await self._file(
                tx,
                author_id=author.telegram_id,
                actor_id=author.telegram_id,
                event="submitted",
                station_id=author.station_id,
                category=draft.category,
                # a voice opinion's text is staff's transcript, none yet
                text="" if spoken else draft.text or "",
                photos=draft.photos,
                latitude=draft.latitude,
                longitude=draft.longitude,
                show_name=draft.show_name,
                token=token,
                now=now,
                voice_file_id=draft.voice_file_id,
                voice_seconds=draft.voice_seconds if spoken else None,
                addressed_to=await self._addressee(tx, draft.addressed_to, author.station_id),
            )
            await self.steps.put(tx, chat_id, author.telegram_id, None, None, now)
            receipt = await self.outbox.notify_later(
                tx,
                author.telegram_id,
                "opinion.sent",
                delay=RECEIPT_DELAY,
                tracking_no=opinion.tracking_no,
            )
            await self.notices.tell_unclaimed(tx, opinion)
        return Submission(opinion, False, receipt, None)

    async def _addressee(self, tx: Tx, deputy_id: int | None, station_id: int) -> int | None:
        """The deputy the voter chose to address, kept only while that deputy serves the
        voter's station; otherwise the opinion goes to the station, without an error."""
        if deputy_id is None:
            return None
        deputy = await self.deputies.get(deputy_id, tx)
        return deputy_id if deputy is not None and deputy.station_id == station_id else None

    async def enter_for_visitor(
        self,
        tx: Tx,
        staff: User,
        *,
        station_id: int,
        category: str,
        text: str,
        token: str,
        now: datetime,
    ) -> Opinion:
        """Inside the caller's transaction (the reception desk's, bot.services.desk): an
        opinion staff entered for a visitor, with no author until the visitor claims it, the
        name shown to nobody; like any other it takes its tracking number, its first event
        and the station's deputies are told of it. `text` is already cleaned."""
        ensure(staff, Action.RECEIVE_VISITORS)
        opinion = await self._file(
            tx,
            author_id=None,
            actor_id=staff.telegram_id,
            event="desk_entered",
            station_id=station_id,
            category=category,
            text=text,
            photos=[],
            latitude=None,
            longitude=None,
            show_name=False,
            token=token,
            now=now,
        )
        await self.notices.tell_unclaimed(tx, opinion)
        return opinion

    async def _file(
        self,
        tx: Tx,
        *,
        author_id: int | None,
        actor_id: int,
        event: str,
        station_id: int,
        category: str,
        text: str,
        photos: list[str],
        latitude: float | None,
        longitude: float | None,
        show_name: bool,
        token: str,
        now: datetime,
        voice_file_id: str | None = None,
        voice_seconds: int | None = None,
        addressed_to: int | None = None,
    ) -> Opinion:
        """A new submitted opinion with the next tracking number of the year and its first
        event (`event`, by `actor_id`), as the transaction now holds it."""
        year = now.astimezone(self.zone).year
        tracking_no = await take_tracking_no(tx, self.repo, self.prefix, year)
        opinion_id = await self.repo.insert(
            tx,
            tracking_no=tracking_no,
            author_id=author_id,
            station_id=station_id,
            category=category,
            text=text,
            photos=photos,
            latitude=latitude,
            longitude=longitude,
            show_name=show_name,
            now=now,
            draft_token=token,
            voice_file_id=voice_file_id,
            voice_seconds=voice_seconds,
            addressed_to=addressed_to,
        )
        await self.repo.add_event(tx, opinion_id, now, actor_id, event)
        return present(await self.repo.get_in(tx, opinion_id), "opinion")

    async def mine(self, author: User, page: int, per_page: int) -> Page[Opinion]:
        ensure(author, Action.VIEW_OWN_OPINIONS)
        page, pages = clamp_page(
            page, await self.repo.count_by_author(author.telegram_id), per_page
        )
        items = await self.repo.page_by_author(author.telegram_id, page * per_page, per_page)
        return Page(items, page, pages)

    async def detail(self, actor: User, opinion_id: int) -> OpinionDetail:
        opinion = await self.repo.get(opinion_id)
        if opinion is None:
            raise DomainError("error.not_your_record")
        ensure_may_view_opinion(actor, opinion)
        return OpinionDetail(opinion, await self.repo.events(opinion_id))

    async def all(
        self,
        actor: User,
        status: OpinionStatus | None,
        street_id: int | None,
        page: int,
        per_page: int,
    ) -> Page[Opinion]:
        """Every opinion, newest first, filtered by status and street (staff)."""
        ensure(actor, Action.VIEW_ALL_OPINIONS)
        total = await self.repo.count_filtered(status, street_id)
        page, pages = clamp_page(page, total, per_page)
        return Page(
            await self.repo.page_filtered(status, street_id, page * per_page, per_page),
            page,
            pages,
        )

    async def handle(self, actor: User, opinion_id: int, action: str, note: str = "") -> Opinion:
        """Accept, decline (with a reason) or answer (with a reply): the status, a history
        event and the author's notification change together."""
        if action not in TRANSITIONS:
            raise DomainError("error.stale_button")
        if action == "decline":
            note = clean_reply(note, REASON_MAX)
        elif action == "answer":
            note = clean_reply(note, ANSWER_MAX)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            opinion = await self.repo.get_in(tx, opinion_id)
            if opinion is None:
                raise DomainError("error.not_your_record")
            await apply_transition(tx, self.repo, self.outbox, actor, opinion, action, note, now)
        updated = await self.repo.get(opinion_id)
        updated = present(updated, "updated")
        return updated
