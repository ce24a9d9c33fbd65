"""A deputy's suggestions (代表建议): drafting from scratch or from opinions, co-signers (联名),
withdrawal before assignment, and what the deputy and the voters behind it see.

/suggest writes a typed draft step by step (SUGGEST): where it starts, the opinions taken
(the deputy's own, then any similar ones of the same 街镇), title, reason (事由), proposals
(具体建议), category, consent to publish, a preview and Submit. The draft and its step are
stored together after every step, so a restart resumes. Submit makes the suggestion, links
its opinions, records the trail and tells the voters and staff in one transaction; the draft
then remembers what it became, so a second tap of the same Submit makes nothing new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from bot.access import Action, allowed, ensure, may_claim
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.i18n import N_
from bot.services.conversations import Conversation, DraftStore, DraftUnreadable
from bot.services.deputy_notices import WAITING_NOTICES
from bot.services.opinions import CATEGORY_LABELS
from bot.services.outbox import Intent, NoticeButton, NoticeButtons, Outbox
from bot.services.paging import Page, clamp_page
from bot.services.similar_opinions import SimilarMatches, SimilarOpinions
from bot.services.suggestion_trail import (
    VOTER_EVENTS,
    EventKind,
    SuggestionTrail,
    handling_year,
)
from bot.services.text import clean, clip, typed
from bot.settings import Settings
from storage import Database, Tx
from storage.models import (
    CosignerState,
    Deputy,
    Opinion,
    OpinionStatus,
    Station,
    Suggestion,
    SuggestionAnswer,
    SuggestionEvent,
    SuggestionRating,
    SuggestionState,
    User,
    new_draft_token,
)
from storage.repos.drafts import conversation_key
from storage.repos.opinions import OpinionRepo
from storage.repos.stations import StationRepo
from storage.repos.suggestions import OPINION_WITHDRAWN_FROM, SuggestionRepo
from storage.repos.users import UserRepo

# 一事一议: a title names one matter. The reason and the proposals together stay within one
# Telegram message (4,096 characters) with the rest of the preview.
TITLE_MIN = 4
TITLE_MAX = 60
BODY_MIN = 10
BODY_MAX = 1500
MAX_OPINIONS = 50  # opinions one suggestion may grow from
NAME_SEARCH_MAX = 20
EXCERPT_CHARS = 200  # of the reason and proposals in a co-signing invitation
OPEN_STATUSES = frozenset({OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED})
# co-signers join, and the lead withdraws, only before 交办
BEFORE_ASSIGNMENT = frozenset({SuggestionState.SUBMITTED})
DEAD = frozenset({SuggestionState.WITHDRAWN, SuggestionState.DECLINED})


class SuggestStep(StrEnum):
    """The steps of /suggest, as stored (the strings must not change)."""

    SOURCE = "source"  # from scratch, or from opinions
    OPINIONS = "opinions"  # the deputy's own open opinions
    SIMILAR = "similar"  # opinions like the one just taken, from the same 街镇
    TITLE = "title"
    REASON = "reason"
    PROPOSALS = "proposals"
    CATEGORY = "category"
    PUBLISH = "publish"
    PREVIEW = "preview"


# What the preview lets the deputy change (each goes back to the preview after).
EditField = Literal["title", "reason", "proposals", "category", "publish"]
EDIT_STEPS: dict[str, SuggestStep] = {
    "title": SuggestStep.TITLE,
    "reason": SuggestStep.REASON,
    "proposals": SuggestStep.PROPOSALS,
    "category": SuggestStep.CATEGORY,
    "publish": SuggestStep.PUBLISH,
}


class SuggestDraft(BaseModel):
    """What the deputy has entered so far. `own_ids` were taken from their own opinions,
    `similar_ids` from a similar list; `seed_id` is the opinion whose similar ones are shown,
    `offered` the ones that list offered (only those may be attached). `token` names the
    preview its Submit carries; `submitted_as`, once sent, what it became."""

    own_ids: list[int] = Field(default_factory=list)
    similar_ids: list[int] = Field(default_factory=list)
    seed_id: int | None = None
    offered: list[int] = Field(default_factory=list)
    title: str | None = None
    reason: str | None = None
    proposals: str | None = None
    category: str | None = None
    publish: bool | None = None
    editing: bool = False
    token: str = ""
    submitted_as: int | None = None

    @property
    def opinion_ids(self) -> list[int]:
        return [*self.own_ids, *self.similar_ids]

    def complete(self) -> bool:
        return None not in (self.title, self.reason, self.proposals, self.category, self.publish)


SUGGEST = Conversation(
    "suggest",
    steps=SuggestStep,
    draft=SuggestDraft,
    opened_by=("suggest",),
    needs=Action.DRAFT_SUGGESTION,
    timeout=timedelta(hours=48),
)


class SearchStep(StrEnum):
    TYPING = "typing"  # a name (or part of one) of the deputy to invite


class SearchDraft(BaseModel):
    suggestion_id: int


# Looking a co-signer up by name: one optional step, left silently by walking away.
COSIGN_SEARCH = Conversation(
    "cosign_search",
    steps=SearchStep,
    draft=SearchDraft,
    needs=Action.DRAFT_SUGGESTION,
    optional_steps=[SearchStep.TYPING],
)


class CosignChoice(StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"


class Viewer(StrEnum):
    """Who looks at a suggestion's card, which decides what it shows and offers."""

    LEAD = "lead"
    COSIGNER = "cosigner"  # invited or confirmed (a declined one sees it as staff would)
    STAFF = "staff"
    VOTER = "voter"  # one of whose opinions fed it: no internal details, no voters' names


class CardAction(StrEnum):
    INVITE = "invite"
    WITHDRAW = "withdraw"
    CONFIRM = "confirm"
    DECLINE = "decline"


COSIGNER_STATES = {
    CosignerState.INVITED: N_("suggestion.cosigner_invited"),
    CosignerState.CONFIRMED: N_("suggestion.cosigner_confirmed"),
    CosignerState.DECLINED: N_("suggestion.cosigner_declined"),
}

# an invitation answered before: the refusal of a second answer
ANSWERED = {
    CosignerState.INVITED: "suggest.cosign_already_answered",
    CosignerState.CONFIRMED: "suggest.cosign_already_confirmed",
    CosignerState.DECLINED: "suggest.cosign_already_declined",
}

# the trail's step of an answered invitation
ANSWER_EVENTS = {
    CosignerState.CONFIRMED: EventKind.COSIGNER_CONFIRMED,
    CosignerState.DECLINED: EventKind.COSIGNER_DECLINED,
}

# what the lead is told of an answered invitation
TELL_LEAD = {
    CosignerState.CONFIRMED: "suggestion.notify_cosign_confirmed",
    CosignerState.DECLINED: "suggestion.notify_cosign_declined",
}


def title_text(raw: str | None) -> str:
    return typed(
        raw,
        minimum=TITLE_MIN,
        maximum=TITLE_MAX,
        empty="suggest.title_empty",
        too_short="suggest.title_too_short",
        too_long="suggest.title_too_long",
    )


def body_text(raw: str | None) -> str:
    """The reason (事由) or the proposals (具体建议)."""
    return typed(
        raw,
        minimum=BODY_MIN,
        maximum=BODY_MAX,
        empty="suggest.body_empty",
        too_short="suggest.body_too_short",
        too_long="suggest.body_too_long",
    )


def open_button(suggestion_id: int) -> NoticeButton:
    return NoticeButton(
        label="suggestion.open_button", intent=Intent.OPEN_SUGGESTION, target=suggestion_id
    )


def cosign_buttons(suggestion_id: int) -> NoticeButtons:
    """Under an invitation: confirm, decline, and the card to read it in full first."""
    return [
        [
            NoticeButton(
                label="suggestion.cosign_confirm_button",
                intent=Intent.COSIGN_SUGGESTION,
                target=suggestion_id,
                choice=CosignChoice.CONFIRM,
            ),
            NoticeButton(
                label="suggestion.cosign_decline_button",
                intent=Intent.COSIGN_SUGGESTION,
                target=suggestion_id,
                choice=CosignChoice.DECLINE,
            ),
        ],
        [open_button(suggestion_id)],
    ]


@dataclass(frozen=True)
class Takeable:
    """The deputy's own opinions they may take, one page of them."""

    page: Page[Opinion]
    chosen: frozenset[int]


@dataclass(frozen=True)
class Similar:
    """Opinions like the seed, as offered: the matches, which are attached, and the names
    of their stations."""

    matches: SimilarMatches
    page: Page[Opinion]
    attached: frozenset[int]
    stations: dict[int, str]


@dataclass(frozen=True)
class Preview:
    draft: SuggestDraft
    deputy: Deputy
    opinions: list[Opinion]


@dataclass(frozen=True)
class Submission:
    """What a Submit tap did; `repeated`: the draft was sent before and nothing was made."""

    suggestion: Suggestion
    repeated: bool


@dataclass(frozen=True)
class Cosigner:
    deputy_id: int
    name: str
    state: CosignerState


@dataclass(frozen=True)
class Answer:
    answer: SuggestionAnswer
    department: str
    class_label: str


@dataclass(frozen=True)
class TrailEntry:
    """One step of the trail as its viewer may read it. A `rated` step carries the rating
    (its stored note is empty); a voter reads no notes (they may name people)."""

    kind: EventKind
    at: datetime
    note: str = ""
    rating: SuggestionRating | None = None


KNOWN_EVENTS = frozenset(EventKind)


def trail_of(
    suggestion: Suggestion, events: Sequence[SuggestionEvent], voter: bool
) -> list[TrailEntry]:
    """The trail as the viewer may read it: a voter only the steps of the handling
    (VOTER_EVENTS), without notes. Every part records an EventKind; a kind this version does
    not know (none should be) is left out rather than shown unnamed."""
    kinds = [EventKind(e.kind) if e.kind in KNOWN_EVENTS else None for e in events]
    entries = []
    for i, (event, kind) in enumerate(zip(events, kinds, strict=True)):
        if kind is None or (voter and kind not in VOTER_EVENTS):
            continue
        rating = None
        if kind == EventKind.RATED:
            # only 不满意 asks for re-handling; the last rating is the suggestion's own
            again = EventKind.REHANDLING in kinds[i + 1 :]
            rating = SuggestionRating.UNSATISFIED if again else suggestion.rating
        note = "" if voter or kind == EventKind.RATED else event.note
        entries.append(TrailEntry(kind, event.at, note, rating))
    return entries


@dataclass(frozen=True)
class Card:
    """A suggestion as `viewer` sees it, with what they may do about it now."""

    suggestion: Suggestion
    viewer: Viewer
    lead_name: str
    cosigners: list[Cosigner]
    opinion_count: int
    events: list[TrailEntry]
    departments: list[tuple[str, bool]]
    answer: Answer | None
    actions: frozenset[CardAction] = field(default_factory=frozenset)


class SuggestionService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.repo = SuggestionRepo(db)
        self.users = UserRepo(db)
        self.opinions = OpinionRepo(db)
        self.stations = StationRepo(db)
        self.trail = SuggestionTrail(db, clock, outbox)
        self.steps = DraftStore(db, SUGGEST)
        self.searches = DraftStore(db, COSIGN_SEARCH)

    # --- who -------------------------------------------------------------------------------

    async def deputy(self, actor: User, tx: Tx | None = None) -> Deputy:
        """The actor's deputy record; anyone else (voters, staff) is refused."""
        if not allowed(actor, Action.DRAFT_SUGGESTION):
            raise AccessDenied("suggest.deputies_only")
        deputy = await self.opinions.deputy(actor.telegram_id, tx)
        if deputy is None:
            raise AccessDenied("suggest.deputies_only")
        return deputy

    async def _stations(self, station_ids: Sequence[int]) -> dict[int, Station]:
        """These stations by id (their 街镇 and name)."""
        found = {}
        for station_id in sorted(set(station_ids)):
            station = await self.stations.get(station_id)
            if station is not None:
                found[station_id] = station
        return found

    # --- the draft ---------------------------------------------------------------------------

    async def draft(self, actor: User) -> SuggestDraft:
        ensure(actor, Action.DRAFT_SUGGESTION)
        return await self.steps.load(actor.telegram_id) or SuggestDraft()

    async def save(
        self, actor: User, chat_id: int, draft: SuggestDraft, step: SuggestStep
    ) -> SuggestStep:
        """Keep the draft and its step together; returns the step."""
        await self.steps.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())
        return step

    async def discard(self, actor: User, chat_id: int) -> None:
        await self.steps.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    async def begin(self, actor: User, chat_id: int) -> SuggestDraft:
        """/suggest: a fresh draft at its first step (the gate keeps other conversations out)."""
        await self.deputy(actor)
        draft = SuggestDraft()
        await self.save(actor, chat_id, draft, SuggestStep.SOURCE)
        return draft

    async def choose_source(
        self, actor: User, chat_id: int, from_opinions: bool
    ) -> tuple[SuggestDraft, SuggestStep]:
        draft = await self.draft(actor)
        if not from_opinions:
            self._drop_opinions(draft)
        step = SuggestStep.OPINIONS if from_opinions else SuggestStep.TITLE
        return draft, await self.save(actor, chat_id, draft, step)

    @staticmethod
    def _drop_opinions(draft: SuggestDraft) -> None:
        draft.own_ids, draft.similar_ids, draft.seed_id, draft.offered = [], [], None, []

    async def prepare_similar(self, actor: User, matcher: SimilarOpinions) -> None:
        """The deputy starts from opinions: `matcher` builds their 街镇's index meanwhile, in
        the background, so the similar list is ready when they have picked one."""
        deputy = await self.deputy(actor)
        if deputy.station_id is None:
            return
        station = await self.stations.get(deputy.station_id)
        if station is not None:
            matcher.prepare(station.street_id)

    # --- taking opinions -----------------------------------------------------------------------

    async def takeable(self, actor: User, page: int, per_page: int) -> Takeable:
        """The deputy's own open opinions, newest first: those they hold and the unclaimed
        ones of their station, in no suggestion yet."""
        deputy = await self.deputy(actor)
        draft = await self.draft(actor)
        total = await self.repo.count_takeable(deputy.user_id, deputy.station_id)
        page, pages = clamp_page(page, total, per_page)
        items = await self.repo.page_takeable(
            deputy.user_id, deputy.station_id, page * per_page, per_page
        )
        return Takeable(Page(items, page, pages), frozenset(draft.opinion_ids))

    async def _open_opinion(self, opinion_id: int, tx: Tx | None = None) -> Opinion:
        """An opinion that is still open and feeds no suggestion; refused otherwise."""
        found = await self.repo.opinions([opinion_id], tx)
        if not found:
            raise AccessDenied("suggest.opinion_not_yours")
        opinion = found[0]
        taken = await self.repo.linked([opinion_id], tx)
        if opinion_id in taken:
            raise DomainError(
                "suggest.opinion_in_suggestion",
                tracking_no=opinion.tracking_no,
                number=taken[opinion_id],
            )
        if opinion.status not in OPEN_STATUSES or opinion.project_id is not None:
            raise DomainError("suggest.opinion_not_open", tracking_no=opinion.tracking_no)
        return opinion

    @staticmethod
    def _own(actor: User, deputy: Deputy, opinion: Opinion) -> bool:
        """The deputy's to take: one they hold, or one nobody holds that they may claim
        (bot.access: a deputy of the opinion's station)."""
        if opinion.holder_id is not None:
            return opinion.holder_id == actor.telegram_id
        return may_claim(actor, opinion, deputy.station_id)

    async def pick_opinion(
        self, actor: User, chat_id: int, opinion_id: int
    ) -> tuple[SuggestDraft, SuggestStep]:
        """Take one of the deputy's own opinions (then its similar ones are offered), or
        put back one taken before."""
        deputy = await self.deputy(actor)
        draft = await self.draft(actor)
        if opinion_id in draft.own_ids:
            draft.own_ids.remove(opinion_id)
            if not draft.own_ids:
                # similar ones go with the last of the deputy's own: a suggestion from
                # opinions grows from at least one of theirs
                self._drop_opinions(draft)
            elif draft.seed_id == opinion_id:
                draft.seed_id, draft.offered = None, []
            return draft, await self.save(actor, chat_id, draft, SuggestStep.OPINIONS)
        opinion = await self._open_opinion(opinion_id)
        if not self._own(actor, deputy, opinion):
            raise AccessDenied("suggest.opinion_not_yours")
        if len(draft.opinion_ids) >= MAX_OPINIONS:
            raise DomainError("suggest.too_many_opinions", maximum=MAX_OPINIONS)
        if opinion_id in draft.similar_ids:
            draft.similar_ids.remove(opinion_id)
        draft.own_ids.append(opinion_id)
        draft.seed_id, draft.offered = opinion_id, []
        return draft, await self.save(actor, chat_id, draft, SuggestStep.SIMILAR)

    async def similar(
        self, actor: User, chat_id: int, matcher: SimilarOpinions, page: int, per_page: int
    ) -> Similar:
        """Open opinions like the seed from its 街镇, as `matcher` (the application's one
        bot.services.similar_opinions, with whatever it keeps in memory) finds them: those
        taken before are left out, those attached from this list stay, ticked. The draft
        remembers what was offered: only those may be attached."""
        await self.deputy(actor)
        draft = await self.draft(actor)
        if draft.seed_id is None:
            raise DomainError("error.stale_button")
        attached = frozenset(draft.similar_ids)
        exclude = [i for i in draft.opinion_ids if i not in attached]
        matches = await matcher.like(draft.seed_id, exclude=exclude)
        items = [m.opinion for m in matches.matches]
        offered = [o.id for o in items]
        if offered != draft.offered:
            draft.offered = offered
            await self.save(actor, chat_id, draft, SuggestStep.SIMILAR)
        page, pages = clamp_page(page, len(items), per_page)
        shown = items[page * per_page : (page + 1) * per_page]
        stations = await self._stations([o.station_id for o in shown])
        names = {i: station.name for i, station in stations.items()}
        return Similar(matches, Page(shown, page, pages), attached, names)

    async def toggle_similar(self, actor: User, chat_id: int, opinion_id: int) -> SuggestDraft:
        """Attach an opinion the similar list offered, or detach it again; any other is a
        forged or stale button."""
        await self.deputy(actor)
        draft = await self.draft(actor)
        if opinion_id in draft.similar_ids:
            draft.similar_ids.remove(opinion_id)
        elif opinion_id in draft.offered and opinion_id not in draft.own_ids:
            await self._open_opinion(opinion_id)  # taken or answered since it was offered
            if len(draft.opinion_ids) >= MAX_OPINIONS:
                raise DomainError("suggest.too_many_opinions", maximum=MAX_OPINIONS)
            draft.similar_ids.append(opinion_id)
        else:
            raise DomainError("error.stale_button")
        await self.save(actor, chat_id, draft, SuggestStep.SIMILAR)
        return draft

    async def more_opinions(self, actor: User, chat_id: int) -> SuggestStep:
        draft = await self.draft(actor)
        return await self.save(actor, chat_id, draft, SuggestStep.OPINIONS)

    async def opinions_done(self, actor: User, chat_id: int) -> tuple[SuggestDraft, SuggestStep]:
        """On to the title, with at least one of the deputy's own opinions taken."""
        draft = await self.draft(actor)
        if not draft.own_ids:
            raise DomainError("suggest.no_opinions_chosen")
        return draft, await self._after(actor, chat_id, draft, SuggestStep.TITLE)

    # --- the texts and choices -----------------------------------------------------------------

    async def _after(
        self, actor: User, chat_id: int, draft: SuggestDraft, step: SuggestStep
    ) -> SuggestStep:
        """Go on to `step`, or back to the preview when a field was being changed."""
        if draft.editing and draft.complete():
            return await self.to_preview(actor, chat_id, draft)
        return await self.save(actor, chat_id, draft, step)

    async def set_title(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[SuggestDraft, SuggestStep]:
        value = title_text(raw)
        draft = await self.draft(actor)
        draft.title = value
        return draft, await self._after(actor, chat_id, draft, SuggestStep.REASON)

    async def set_reason(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[SuggestDraft, SuggestStep]:
        value = body_text(raw)
        draft = await self.draft(actor)
        draft.reason = value
        return draft, await self._after(actor, chat_id, draft, SuggestStep.PROPOSALS)

    async def set_proposals(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[SuggestDraft, SuggestStep]:
        value = body_text(raw)
        draft = await self.draft(actor)
        draft.proposals = value
        return draft, await self._after(actor, chat_id, draft, SuggestStep.CATEGORY)

    async def set_category(
        self, actor: User, chat_id: int, code: str
    ) -> tuple[SuggestDraft, SuggestStep]:
        if code not in CATEGORY_LABELS:
            raise AccessDenied("error.stale_button")
        draft = await self.draft(actor)
        draft.category = code
        return draft, await self._after(actor, chat_id, draft, SuggestStep.PUBLISH)

    async def set_publish(
        self, actor: User, chat_id: int, publish: bool
    ) -> tuple[SuggestDraft, SuggestStep]:
        draft = await self.draft(actor)
        draft.publish = publish
        return draft, await self.to_preview(actor, chat_id, draft)

    async def to_preview(self, actor: User, chat_id: int, draft: SuggestDraft) -> SuggestStep:
        """A new preview: its Submit carries a new token, so an older preview's is stale."""
        draft.editing = False
        draft.token = new_draft_token()
        return await self.save(actor, chat_id, draft, SuggestStep.PREVIEW)

    async def edit(self, actor: User, chat_id: int, what: str) -> tuple[SuggestDraft, SuggestStep]:
        """From the preview: enter one field again, then come back to the preview."""
        if what not in EDIT_STEPS:
            raise AccessDenied("error.stale_button")
        draft = await self.draft(actor)
        if not draft.complete():
            raise DomainError("error.stale_button")
        draft.editing = True
        draft.token = ""
        return draft, await self.save(actor, chat_id, draft, EDIT_STEPS[what])

    async def preview(self, actor: User) -> Preview:
        deputy = await self.deputy(actor)
        draft = await self.draft(actor)
        return Preview(draft, deputy, await self.repo.opinions(draft.opinion_ids))

    # --- submitting ----------------------------------------------------------------------------

    async def _memo(self, actor: User) -> SuggestDraft | None:
        try:
            return await self.steps.load(actor.telegram_id)
        except DraftUnreadable:
            return None

    async def sent_before(self, actor: User, token: str) -> Suggestion:
        """A Submit tapped again after the draft was sent: the suggestion it became; any
        other Submit is stale."""
        await self.deputy(actor)
        memo = await self._memo(actor)
        if memo is None or memo.submitted_as is None or not token or memo.token != token:
            raise DomainError("error.stale_button")
        return present(await self.repo.get(memo.submitted_as), "suggestion")

    async def _gone(
        self, tx: Tx, actor: User, deputy: Deputy, draft: SuggestDraft
    ) -> list[Opinion]:
        """The draft's opinions that may no longer be taken: answered, declined or taken
        into another suggestion meanwhile, or no longer the deputy's."""
        opinions = await self.repo.opinions(draft.opinion_ids, tx)
        linked = await self.repo.linked(draft.opinion_ids, tx)
        stations = await self._stations([o.station_id for o in opinions])
        street_of = {i: station.street_id for i, station in stations.items()}
        streets = {street_of.get(o.station_id) for o in opinions if o.id in draft.own_ids}
        gone = []
        for opinion in opinions:
            if opinion.id in draft.own_ids:
                mine = self._own(actor, deputy, opinion)
            else:  # from the 街镇 of one of the deputy's own
                mine = street_of.get(opinion.station_id) in streets
            if not mine or opinion.id in linked or opinion.status not in OPEN_STATUSES:
                gone.append(opinion)
        missing = set(draft.opinion_ids) - {o.id for o in opinions}
        if missing:
            raise RuntimeError("an opinion of a draft is missing: opinions are never deleted")
        return gone

    async def submit(self, actor: User, chat_id: int, token: str) -> Submission:
        """Send the draft the preview `token` showed, once. In one transaction: the
        suggestion (numbered JY<year>-NNNN), its opinions linked (the unclaimed ones now held
        by the lead deputy), the trail, each opinion's event, the voters and staff told, and
        the conversation ended with the draft remembering what it became."""
        deputy = await self.deputy(actor)
        now = self.clock.now()
        year = now.astimezone(self.settings.zone).year
        async with self.db.transaction() as tx:
            draft = await self.steps.load(actor.telegram_id, tx)
            if draft is not None and draft.submitted_as is not None and draft.token == token:
                suggestion = await self.trail.load(tx, draft.submitted_as)
                return Submission(suggestion, True)
            if draft is None or not token or draft.token != token:
                raise DomainError("suggest.old_preview")
            if not draft.complete():
                raise DomainError("suggest.incomplete")
            gone = await self._gone(tx, actor, deputy, draft)
            if not gone:
                suggestion = await self._write(tx, deputy, draft, year)
                draft.submitted_as = suggestion.id
                await self.steps.drafts.save(
                    tx, actor.telegram_id, SUGGEST.name, draft.model_dump(mode="json"), now
                )
                key = conversation_key(chat_id, actor.telegram_id)
                await self.steps.states.put(tx, SUGGEST.name, key, None, now)
                return Submission(suggestion, False)
        # the preview showed opinions that may no longer be taken: they leave the draft, and
        # the deputy sees a new preview without them; with none of their own left, the
        # similar ones go too and they choose again (it never turns into 代表自拟 silently)
        ids = {o.id for o in gone}
        numbers = ", ".join(o.tracking_no for o in gone)
        draft.own_ids = [i for i in draft.own_ids if i not in ids]
        draft.similar_ids = [i for i in draft.similar_ids if i not in ids]
        draft.seed_id, draft.offered = None, []
        if not draft.own_ids:
            self._drop_opinions(draft)
            draft.token = ""
            await self.save(actor, chat_id, draft, SuggestStep.OPINIONS)
            raise DomainError("suggest.own_opinions_gone", numbers=numbers)
        await self.to_preview(actor, chat_id, draft)
        raise DomainError("suggest.opinions_gone", numbers=numbers)

    async def _write(self, tx: Tx, deputy: Deputy, draft: SuggestDraft, year: int) -> Suggestion:
        now = self.clock.now()
        if draft.title is None or draft.reason is None or draft.proposals is None:
            raise RuntimeError("a complete draft has its texts")
        sequence = await self.repo.next_number(tx, year)
        number = f"{self.settings.suggestion_number_prefix}{year}-{sequence:04d}"
        suggestion_id = await self.repo.insert(
            tx,
            number=number,
            lead_deputy_id=deputy.user_id,
            title=draft.title,
            reason=draft.reason,
            proposals=draft.proposals,
            category=draft.category or "other",
            publish=bool(draft.publish),
            now=now,
        )
        suggestion = await self.trail.load(tx, suggestion_id)
        opinion_ids = draft.opinion_ids
        if opinion_ids:
            await self.repo.link_opinions(tx, suggestion_id, opinion_ids)
            for opinion_id in await self.repo.hold_unclaimed(tx, opinion_ids, deputy.user_id, now):
                # no station deputy need be told any more that it waits for someone
                await self.outbox.withdraw_about(tx, opinion_id, WAITING_NOTICES)
            await self.repo.add_opinion_events(tx, opinion_ids, now, deputy.user_id, number)
            await self._tell_holders(tx, deputy, suggestion, opinion_ids)
        await self.trail.record(tx, suggestion, EventKind.SUBMITTED, deputy.user_id)
        await self.trail.tell_voters(
            tx, suggestion, "suggestion.notify_taken_up", {"deputy": deputy.name}
        )
        staff = await self.users.staff_ids(tx)
        if staff:
            await self.outbox.notify_many(
                tx,
                staff,
                "suggestion.notify_new_for_staff",
                buttons=[
                    [
                        NoticeButton(
                            label="suggestion.review_button",
                            intent=Intent.REVIEW_SUGGESTION,
                            target=suggestion_id,
                        )
                    ]
                ],
                params={
                    "number": number,
                    "title": suggestion.title,
                    "deputy": deputy.name,
                    "count": len(opinion_ids),
                },
            )
        return suggestion

    async def _tell_holders(
        self, tx: Tx, lead: Deputy, suggestion: Suggestion, opinion_ids: list[int]
    ) -> None:
        """Another deputy who held an opinion attached as a similar one hears that it is
        followed in this suggestion now (they keep holding it)."""
        for opinion in await self.repo.opinions(opinion_ids, tx):
            if opinion.holder_id is not None and opinion.holder_id != lead.user_id:
                await self.outbox.notify(
                    tx,
                    opinion.holder_id,
                    "suggestion.notify_holder_taken",
                    tracking_no=opinion.tracking_no,
                    deputy=lead.name,
                    number=suggestion.number,
                    title=suggestion.title,
                )

    # --- the deputy's suggestions ----------------------------------------------------------------

    async def mine(self, actor: User, page: int, per_page: int) -> Page[Suggestion]:
        """The deputy's suggestions, as lead or co-signer, newest first."""
        deputy = await self.deputy(actor)
        total = await self.repo.count_of_deputy(deputy.user_id)
        page, pages = clamp_page(page, total, per_page)
        items = await self.repo.page_of_deputy(deputy.user_id, page * per_page, per_page)
        return Page(items, page, pages)

    async def _viewer(self, actor: User, suggestion: Suggestion) -> Viewer:
        """How `actor` may look at it; a stranger is refused."""
        if allowed(actor, Action.DRAFT_SUGGESTION):
            if suggestion.lead_deputy_id == actor.telegram_id:
                return Viewer.LEAD
            cosigner = await self.repo.cosigner(suggestion.id, actor.telegram_id)
            if cosigner is not None and cosigner.state != CosignerState.DECLINED:
                return Viewer.COSIGNER
        if allowed(actor, Action.VIEW_ALL_OPINIONS):
            return Viewer.STAFF
        if actor.consented and await self.repo.fed_by_author(suggestion.id, actor.telegram_id):
            return Viewer.VOTER
        if allowed(actor, Action.DRAFT_SUGGESTION):
            cosigner = await self.repo.cosigner(suggestion.id, actor.telegram_id)
            if cosigner is not None:  # declined: they may still read what they declined
                return Viewer.COSIGNER
        raise AccessDenied("error.not_your_record")

    @staticmethod
    def actions(suggestion: Suggestion, viewer: Viewer, mine: Cosigner | None) -> set[CardAction]:
        """What the viewer may do now: the lead invites and withdraws before 交办; an
        invited deputy confirms or declines."""
        found: set[CardAction] = set()
        if suggestion.state not in BEFORE_ASSIGNMENT:
            return found
        if viewer == Viewer.LEAD:
            found |= {CardAction.INVITE, CardAction.WITHDRAW}
        if mine is not None and mine.state == CosignerState.INVITED:
            found |= {CardAction.CONFIRM, CardAction.DECLINE}
        return found

    async def card(self, actor: User, suggestion_id: int) -> Card:
        suggestion = await self.repo.get(suggestion_id)
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        viewer = await self._viewer(actor, suggestion)
        return await self._card(actor, suggestion, viewer)

    async def _card(self, actor: User, suggestion: Suggestion, viewer: Viewer) -> Card:
        rows = await self.repo.cosigners(suggestion.id)
        names = await self.opinions.deputy_names(
            [suggestion.lead_deputy_id, *(c.deputy_id for c in rows)]
        )
        cosigners = [
            Cosigner(c.deputy_id, names.get(c.deputy_id, str(c.deputy_id)), c.state)
            for c in rows
            if viewer in (Viewer.LEAD, Viewer.STAFF)
            or c.state == CosignerState.CONFIRMED
            or c.deputy_id == actor.telegram_id
        ]
        mine = next((c for c in cosigners if c.deputy_id == actor.telegram_id), None)
        events = await self.repo.events(suggestion.id)
        return Card(
            suggestion=suggestion,
            viewer=viewer,
            lead_name=names.get(suggestion.lead_deputy_id, "—"),
            cosigners=cosigners,
            opinion_count=len(await self.repo.opinion_ids(suggestion.id)),
            events=trail_of(suggestion, events, voter=viewer == Viewer.VOTER),
            departments=await self.repo.departments(suggestion.id),
            answer=await self._answer(suggestion),
            actions=frozenset(self.actions(suggestion, viewer, mine)),
        )

    async def _answer(self, suggestion: Suggestion) -> Answer | None:
        found = await self.repo.latest_answer(suggestion.id)
        if found is None:
            return None
        answer, department = found
        year = handling_year(suggestion, self.settings.zone)  # as the answering step
        labels = {c.code: c.label for c in await self.trail.outcome_classes(year)}
        label = labels.get(answer.outcome_class, "")
        return Answer(answer, department, label)

    async def for_opinion(self, actor: User, opinion_id: int) -> Card:
        """The voter's view of the suggestion their opinion fed (from /my)."""
        found = await self.repo.of_authors_opinions(actor.telegram_id, [opinion_id])
        if opinion_id not in found:
            raise AccessDenied("error.not_your_record")
        return await self._card(actor, found[opinion_id], Viewer.VOTER)

    async def of_opinions(self, actor: User, opinion_ids: list[int]) -> dict[int, Suggestion]:
        """Which of the actor's own opinions fed a suggestion, and which (for /my)."""
        ensure(actor, Action.VIEW_OWN_OPINIONS)
        return await self.repo.of_authors_opinions(actor.telegram_id, opinion_ids)

    # --- co-signers (联名) ---------------------------------------------------------------------

    async def _as_lead(
        self, actor: User, suggestion_id: int, tx: Tx | None = None
    ) -> tuple[Suggestion, Deputy]:
        """The lead's own suggestion (any state), and the lead."""
        lead = await self.deputy(actor, tx)
        suggestion = (
            await self.trail.load(tx, suggestion_id)
            if tx is not None
            else await self.repo.get(suggestion_id)
        )
        if suggestion is None:
            raise DomainError("suggestion.unknown")
        if suggestion.lead_deputy_id != actor.telegram_id:
            raise AccessDenied("suggest.not_lead")
        return suggestion, lead

    def _before_assignment(self, suggestion: Suggestion, refusal: str) -> None:
        if suggestion.state in DEAD:
            raise DomainError("suggest.no_longer_open", number=suggestion.number)
        if suggestion.state not in BEFORE_ASSIGNMENT:
            raise DomainError(refusal, number=suggestion.number)

    async def candidates(
        self, actor: User, suggestion_id: int, page: int, per_page: int, words: str | None = None
    ) -> tuple[Suggestion, Page[Deputy]]:
        """Deputies the lead may invite: the lead's own station's first, then by name;
        `words`: only names holding them."""
        suggestion, lead = await self._as_lead(actor, suggestion_id)
        self._before_assignment(suggestion, "suggest.cosign_too_late")
        total = await self.repo.count_candidates(suggestion.id, lead.user_id, words)
        page, pages = clamp_page(page, total, per_page)
        items = await self.repo.page_candidates(
            suggestion.id, lead.user_id, lead.station_id, page * per_page, per_page, words
        )
        return suggestion, Page(items, page, pages)

    async def begin_search(self, actor: User, chat_id: int, suggestion_id: int) -> Suggestion:
        """Look a co-signer up by typing a name: one restart-safe step."""
        suggestion, _ = await self._as_lead(actor, suggestion_id)
        self._before_assignment(suggestion, "suggest.cosign_too_late")
        await self.searches.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        await self.searches.keep(
            chat_id,
            actor.telegram_id,
            SearchDraft(suggestion_id=suggestion.id),
            SearchStep.TYPING,
            self.clock.now(),
        )
        return suggestion

    async def search(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[Suggestion, list[Deputy]]:
        """The deputies whose name holds what was typed; the search ends then, whatever is
        found. Nothing typed (blank, invisible characters) keeps the step: type again."""
        pending = await self.searches.load(actor.telegram_id)
        if pending is None:
            await self.end_search(actor, chat_id)
            raise DomainError("error.stale_button")
        words = clean(raw)
        if not words:
            raise DomainError("suggest.search_empty")
        try:
            suggestion, page = await self.candidates(
                actor, pending.suggestion_id, 0, NAME_SEARCH_MAX, words[:NAME_SEARCH_MAX]
            )
        finally:
            await self.end_search(actor, chat_id)
        return suggestion, page.items

    async def end_search(self, actor: User, chat_id: int) -> None:
        await self.searches.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    async def invite(self, actor: User, suggestion_id: int, deputy_id: int) -> Deputy:
        """Invite a deputy to co-sign: not oneself, a deputy, once, before 交办. The invitee
        gets a notice with Confirm and Decline."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion, lead = await self._as_lead(actor, suggestion_id, tx)
            self._before_assignment(suggestion, "suggest.cosign_too_late")
            if deputy_id == actor.telegram_id:
                raise DomainError("suggest.cosign_self")
            invitee = await self.opinions.deputy(deputy_id, tx)
            if invitee is None:
                raise DomainError("suggest.cosign_not_deputy")
            if not await self.repo.invite_cosigner(tx, suggestion.id, deputy_id, now):
                raise DomainError("suggest.cosign_already_invited", name=invitee.name)
            await self.trail.record(
                tx, suggestion, EventKind.COSIGNER_INVITED, lead.user_id, invitee.name
            )
            await self.outbox.notify(
                tx,
                deputy_id,
                "suggestion.notify_cosign_invite",
                buttons=cosign_buttons(suggestion.id),
                number=suggestion.number,
                title=suggestion.title,
                lead=lead.name,
                reason=clip(suggestion.reason, EXCERPT_CHARS),
                proposals=clip(suggestion.proposals, EXCERPT_CHARS),
            )
        return invitee

    async def answer(self, actor: User, suggestion_id: int, choice: str) -> Suggestion:
        """The invited deputy confirms or declines, once, before 交办; the lead is told."""
        if choice not in tuple(CosignChoice):
            raise AccessDenied("error.stale_button")
        ensure(actor, Action.COSIGN_SUGGESTION)
        confirmed = choice == CosignChoice.CONFIRM
        state = CosignerState.CONFIRMED if confirmed else CosignerState.DECLINED
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion = await self.trail.load(tx, suggestion_id)
            mine = await self.repo.cosigner(suggestion.id, actor.telegram_id, tx)
            if mine is None:
                raise AccessDenied("suggest.not_invited")
            if suggestion.state == SuggestionState.WITHDRAWN:
                raise DomainError("suggest.cosign_withdrawn", number=suggestion.number)
            if mine.state != CosignerState.INVITED:
                raise DomainError(ANSWERED[mine.state], number=suggestion.number)
            self._before_assignment(suggestion, "suggest.cosign_too_late")
            me = actor.telegram_id
            if not await self.repo.answer_cosigning(tx, suggestion.id, me, state, now):
                raise DomainError("suggest.cosign_already_answered", number=suggestion.number)
            name = await self.opinions.deputy_name(actor.telegram_id, tx)
            await self.trail.record(tx, suggestion, ANSWER_EVENTS[state], actor.telegram_id, name)
            await self.outbox.notify(
                tx,
                suggestion.lead_deputy_id,
                TELL_LEAD[state],
                buttons=[[open_button(suggestion.id)]],
                number=suggestion.number,
                title=suggestion.title,
                deputy=name,
            )
        return suggestion

    # --- withdrawal ----------------------------------------------------------------------------

    async def withdrawable(self, actor: User, suggestion_id: int) -> Suggestion:
        """The lead's suggestion, if it may still be withdrawn (asked before confirming)."""
        suggestion, _ = await self._as_lead(actor, suggestion_id)
        self._before_assignment(suggestion, "suggest.withdraw_too_late")
        return suggestion

    async def withdraw(self, actor: User, suggestion_id: int) -> Suggestion:
        """The lead withdraws it before 交办: its opinions are let go (open again, with their
        holders, each one's history saying so; they may be taken into another suggestion and
        are among the similar ones again); the voters and co-signers are told."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            suggestion, lead = await self._as_lead(actor, suggestion_id, tx)
            self._before_assignment(suggestion, "suggest.withdraw_too_late")
            await self.repo.update(
                tx, suggestion.id, now, state=SuggestionState.WITHDRAWN, withdrawn_at=now
            )
            await self.trail.record(tx, suggestion, EventKind.WITHDRAWN, actor.telegram_id)
            # told while the opinions still name their voters
            await self.trail.tell_voters(
                tx, suggestion, "suggestion.notify_withdrawn_voter", {"deputy": lead.name}
            )
            released = await self.repo.unlink_opinions(tx, suggestion.id)
            await self.repo.add_opinion_events(
                tx, released, now, lead.user_id, suggestion.number, kind=OPINION_WITHDRAWN_FROM
            )
            cosigners = [
                c.deputy_id
                for c in await self.repo.cosigners(suggestion.id, tx)
                if c.state != CosignerState.DECLINED
            ]
            if cosigners:
                await self.outbox.notify_many(
                    tx,
                    cosigners,
                    "suggestion.notify_withdrawn_cosigner",
                    params={
                        "number": suggestion.number,
                        "title": suggestion.title,
                        "lead": lead.name,
                    },
                )
        return present(await self.repo.get(suggestion.id), "suggestion")
