"""The reception desk (面对面 → 键对键): staff enter the opinion of a visitor who came to
the station; the visitor claims it later from a link or QR code and follows it in the bot.

/desk is one declared conversation (DESK): the station (kept for the next visitor), the
visitor's spoken consent (asked before anything they say is typed in: without it nothing of
theirs is stored, not even in the draft), the category, the text (the same cleaner and length
rules as /opinion), the visitor's name and phone (both optional), a preview and Send. Sending
makes an opinion with no author through the same path as a voter's (tracking number, the
deputies told) and its desk entry, with a single-use claim code that expires after
`claim_ttl_days`. Opening the claim link binds the opinion to the visitor's account (a
voter's: staff, deputies and liaisons trying the code are refused)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.access import Action, ensure, may_see_visitor
from bot.clock import Clock
from bot.errors import DomainError, present
from bot.services.conversations import Conversation, DraftStore
from bot.services.opinions import OpinionService
from bot.services.outbox import Outbox
from bot.services.text import clean, typed
from bot.settings import Settings
from storage import Database
from storage.models import Opinion, Role, Station, User, new_draft_token
from storage.repos.desk import DeskEntry, DeskRepo
from storage.repos.opinions import OpinionRepo
from storage.repos.stations import StationRepo
from storage.repos.users import UserRepo

CLAIM_CODE_BYTES = 12  # secrets.token_urlsafe: 16 characters of [A-Za-z0-9_-]
NAME_MAX = 40

# A mainland mobile number, written with or without +86 / 0086 in front.
MOBILE = re.compile(r"^(?:\+86|0086)?(1[3-9]\d{9})$")
# A landline with its area code: 010 and 02x take eight digits, the four-digit codes seven
# or eight; a local number never starts with 0 or 1.
LANDLINE = re.compile(r"^(010|02\d)([2-9]\d{7})$|^(0[3-9]\d{2})([2-9]\d{6,7})$")
PHONE_SEPARATORS = re.compile(r"[\s\-()（）.]")


class DeskStep(StrEnum):
    """The steps of /desk in their order, as stored (the strings must not change)."""

    STATION = "station"
    CONSENT = "consent"  # before anything the visitor says is typed in
    CATEGORY = "category"
    TEXT = "text"
    NAME = "name"
    PHONE = "phone"
    PREVIEW = "preview"
    # entered: the next visitor at the same station, or done; staff may just walk away
    NEXT = "next"


class DeskDraft(BaseModel):
    """What staff have entered for the visitor in front of them; `token` names the draft, so
    a repeated Send finds the opinion it became. The station stays for the next visitor.
    Nothing the visitor said (category, text, name, phone) is here before `consent_at`."""

    token: str = Field(default_factory=new_draft_token)
    station_id: int | None = None
    category: str | None = None
    text: str | None = None
    visitor_name: str = ""
    visitor_phone: str = ""
    consent_at: datetime | None = None  # when staff noted the visitor's spoken consent


DESK = Conversation(
    "desk",
    steps=DeskStep,
    draft=DeskDraft,
    opened_by=("desk",),
    needs=Action.RECEIVE_VISITORS,
    optional_steps=(DeskStep.NEXT,),
)


def visitor_name(raw: str | None) -> str:
    """The visitor's name as typed, cleaned, on one line, at most NAME_MAX characters."""
    name = typed(raw, maximum=NAME_MAX, empty="desk.name_empty", too_long="desk.name_too_long")
    return " ".join(name.split())


def visitor_phone(raw: str | None) -> str:
    """A mainland mobile number (13812345678) or a landline with its area code
    (010-12345678), as typed with spaces, hyphens, brackets or full-width digits; stored
    in that one form. Anything else is refused."""
    text = PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", clean(raw)))
    mobile = MOBILE.match(text)
    if mobile:
        return mobile.group(1)
    for prefix in ("+86", "0086"):  # a landline dialled from abroad drops its leading 0
        if text.startswith(prefix):
            text = "0" + text.removeprefix(prefix)
    landline = LANDLINE.match(text)
    if landline is None:
        raise DomainError("desk.phone_invalid")
    area, number = (g for g in landline.groups() if g is not None)
    return f"{area}-{number}"


def holds_visitor_data(draft: DeskDraft) -> bool:
    """Whether the draft holds anything the visitor said."""
    return bool(draft.category or draft.text or draft.visitor_name or draft.visitor_phone)


@dataclass(frozen=True)
class Receipt:
    """What Send made: the opinion, its station and the claim code the visitor takes home.
    `repeated`: it was sent before and nothing new was made; `step`: where the desk
    conversation is now (None: not in it)."""

    opinion: Opinion
    station: Station
    entry: DeskEntry
    repeated: bool
    step: DeskStep | None


@dataclass(frozen=True)
class Claimed:
    """A claim link opened: the opinion, now the account's. `already`: it was theirs before;
    `station`: the station the account now has, when the claim gave it one."""

    opinion: Opinion
    already: bool
    station: Station | None


@dataclass(frozen=True)
class Visitor:
    """The visitor of a desk opinion as one viewer may know them: `name` and `phone` are
    None when the viewer may not see them ('' when not given or erased)."""

    name: str | None
    phone: str | None


class Desk:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        outbox: Outbox,
        opinions: OpinionService,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.claim_ttl = timedelta(days=settings.claim_ttl_days)
        # the one way an opinion is filed (tracking number, first event, deputies told)
        self.opinions = opinions
        self.repo = DeskRepo(db)
        self.opinion_repo = OpinionRepo(db)
        self.stations = StationRepo(db)
        self.users = UserRepo(db)
        self.steps = DraftStore(db, DESK)

    # --- the draft ---------------------------------------------------------------------

    async def draft(self, actor: User) -> DeskDraft:
        """The draft kept for `actor` (a fresh one if none is)."""
        ensure(actor, Action.RECEIVE_VISITORS)
        return await self.steps.load(actor.telegram_id) or DeskDraft()

    async def save(self, actor: User, chat_id: int, draft: DeskDraft, step: DeskStep) -> None:
        """Store the draft and its step together, so a restart resumes where staff were;
        never anything the visitor said before they agreed to it being kept."""
        ensure(actor, Action.RECEIVE_VISITORS)
        if draft.consent_at is None and holds_visitor_data(draft):
            raise DomainError("desk.no_consent")
        await self.steps.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    async def step_of(self, actor: User, chat_id: int) -> DeskStep | None:
        return await self.steps.step_of(chat_id, actor.telegram_id)

    async def discard(self, actor: User, chat_id: int) -> None:
        """Cancel: the draft goes, and with it everything the visitor said."""
        await self.steps.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    async def begin(
        self, actor: User, chat_id: int, username: str | None
    ) -> tuple[DeskDraft, DeskStep]:
        """A new visitor: a fresh draft, at the station of the previous one if staff are
        still at the desk (then their consent is asked first; else the station is). The bot's
        @username (`username`) is kept for the posters (`python -m bot poster`)."""
        ensure(actor, Action.RECEIVE_VISITORS)
        previous = await self.steps.load(actor.telegram_id)
        draft = DeskDraft(station_id=previous.station_id if previous else None)
        if draft.station_id is not None and await self.stations.get(draft.station_id) is None:
            draft.station_id = None
        step = DeskStep.CONSENT if draft.station_id is not None else DeskStep.STATION
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self.steps.put(tx, chat_id, actor.telegram_id, draft, step, now)
            if username and username != await self.repo.bot_username():
                await self.repo.remember_bot_username(tx, username, now)
        return draft, step

    async def station(self, station_id: int) -> Station:
        station = await self.stations.get(station_id)
        if station is None:
            raise DomainError("station.unknown")
        return station

    @staticmethod
    def after_station(draft: DeskDraft) -> DeskStep:
        """The step after the station is picked: the consent, unless it was noted already
        (the station changed for the same visitor)."""
        return DeskStep.CONSENT if draft.consent_at is None else DeskStep.CATEGORY

    async def note_consent(self, actor: User, chat_id: int, draft: DeskDraft) -> DeskDraft:
        """Staff say the visitor agreed (spoken consent): noted with the time; what the
        visitor has to say may now be typed in, from the category on."""
        draft.consent_at = self.clock.now()
        await self.save(actor, chat_id, draft, DeskStep.CATEGORY)
        return draft

    # --- sending -----------------------------------------------------------------------

    async def _receipt(self, entry: DeskEntry, repeated: bool, step: DeskStep | None) -> Receipt:
        opinion = present(await self.opinion_repo.get(entry.opinion_id), "desk opinion")
        return Receipt(opinion, await self.station(opinion.station_id), entry, repeated, step)

    async def submit(self, actor: User, chat_id: int, token: str) -> Receipt:
        """Send the draft named `token`, once. In one transaction: the opinion (no author,
        the name shown to nobody) with its tracking number and the deputies' notices, its
        desk entry with a new claim code, and the draft's end, the station kept for the
        next visitor. A draft sent before gives back the same receipt, making nothing."""
        ensure(actor, Action.RECEIVE_VISITORS)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            earlier = await self.repo.by_token(token, tx)
            if earlier is not None and earlier.staff_id == actor.telegram_id:
                step = await self.steps.step_of(chat_id, actor.telegram_id, tx)
                return await self._receipt(earlier, True, step)
            draft = await self.steps.load(actor.telegram_id, tx)
            if draft is None or draft.token != token:  # given up, or forged
                raise DomainError("desk.no_draft")
            if draft.consent_at is None:
                raise DomainError("desk.no_consent")
            if draft.station_id is None or draft.category is None or draft.text is None:
                raise DomainError("desk.incomplete")
            opinion = await self.opinions.enter_for_visitor(
                tx,
                actor,
                station_id=draft.station_id,
                category=draft.category,
                text=draft.text,
                token=token,
                now=now,
            )
            await self.repo.insert(
                tx,
                opinion_id=opinion.id,
                staff_id=actor.telegram_id,
                visitor_name=draft.visitor_name,
                visitor_phone=draft.visitor_phone,
                consent_noted_at=draft.consent_at,
                claim_code=secrets.token_urlsafe(CLAIM_CODE_BYTES),
                claim_expires_at=now + self.claim_ttl,
            )
            following = DeskDraft(station_id=draft.station_id)
            await self.steps.put(tx, chat_id, actor.telegram_id, following, DeskStep.NEXT, now)
            entry = present(await self.repo.get(opinion.id, tx), "desk entry")
        return await self._receipt(entry, False, DeskStep.NEXT)

    async def sent_before(self, actor: User, chat_id: int, token: str) -> Receipt:
        """A Send tapped again elsewhere than at the preview: the receipt of the opinion that
        draft became; any other Send there is stale."""
        ensure(actor, Action.RECEIVE_VISITORS)
        entry = await self.repo.by_token(token)
        if entry is None or entry.staff_id != actor.telegram_id:
            raise DomainError("error.stale_button")
        return await self._receipt(entry, True, await self.step_of(actor, chat_id))

    # --- the visitor's claim -------------------------------------------------------------

    async def claim(self, actor: User, code: str) -> Claimed:
        """The claim link opened by `actor`: the opinion becomes theirs (they are told of
        its answer and rate it like any other) and their station is its station if they
        had none. The code works once, until it expires, and for a voter only (staff,
        deputies and liaisons trying a code change nothing); the staff member who entered
        the opinion cannot take it. A claim whose link to the account was erased (/forget,
        retention) says so, to whoever opens it."""
        ensure(actor, Action.VIEW_OWN_OPINIONS)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            entry = await self.repo.by_code(tx, code)
            if entry is None:
                raise DomainError("desk.claim_unknown")
            if entry.claimed_at is not None:
                if entry.claimed_by is None:
                    raise DomainError("desk.claim_erased")
                if entry.claimed_by != actor.telegram_id:
                    raise DomainError("desk.claim_taken")
                opinion = present(await self.opinion_repo.get_in(tx, entry.opinion_id), "opinion")
                return Claimed(opinion, True, None)
            if entry.staff_id == actor.telegram_id:
                raise DomainError("desk.claim_own_entry")
            if actor.role != Role.VOTER:
                raise DomainError("desk.claim_not_voter")
            if now >= entry.claim_expires_at:
                raise DomainError("desk.claim_expired", until=entry.claim_expires_at)
            if not await self.opinion_repo.bind_author(
                tx, entry.opinion_id, actor.telegram_id, now
            ) or not await self.repo.mark_claimed(tx, entry.opinion_id, actor.telegram_id, now):
                raise DomainError("desk.claim_taken")
            await self.opinion_repo.add_event(
                tx, entry.opinion_id, now, actor.telegram_id, "desk_claimed"
            )
            opinion = present(await self.opinion_repo.get_in(tx, entry.opinion_id), "opinion")
            station: Station | None = None
            if actor.station_id is None:
                await self.users.set_station(tx, actor.telegram_id, opinion.station_id)
                station = await self.station(opinion.station_id)
        return Claimed(opinion, False, station)

    # --- who sees the visitor ------------------------------------------------------------

    async def visitor(self, actor: User, opinion: Opinion) -> Visitor | None:
        """The visitor of `opinion` as `actor` may know them; None when it was not entered
        at the desk."""
        entry = await self.repo.get(opinion.id)
        if entry is None:
            return None
        if not may_see_visitor(actor, opinion):
            return Visitor(None, None)
        return Visitor(entry.visitor_name, entry.visitor_phone)

    # --- posters ---------------------------------------------------------------------------

    async def poster_stations(self, reference: str) -> list[Station]:
        """The stations a poster's STATION may mean: the one with that id, else every
        station with exactly that name (none: unknown; several: the caller asks which)."""
        reference = reference.strip()
        if reference.isdigit():
            station = await self.stations.get(int(reference))
            if station is not None:
                return [station]
        return await self.stations.named(reference)

    async def bot_username(self) -> str | None:
        """The @username the desk last made a link with (None: /desk never ran here)."""
        return await self.repo.bot_username()
