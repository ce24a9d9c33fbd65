"""The visit log (履职记录): what a deputy did with voters, in a few taps.

A visit is written step by step into a draft (kind → date → station → voters met → opinions
received → things done for voters → notes → photos). The draft and the conversation step are
stored together after every step, so a restart resumes where the deputy was. From the
"log this visit?" prompt after a duty turn, kind, date and station come from the turn and only
the two numbers are asked. A deputy may edit or delete their own visits for EDIT_DAYS days."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.i18n import N_
from bot.services.conversations import Conversation, DraftStore
from bot.services.paging import Page, clamp_page
from bot.services.text import clean, typed
from bot.services.typed_dates import YearDirection, parse_date
from storage import Database
from storage.models import Deputy, DutyTurn, Station, TurnKind, User, Visit
from storage.repos.calendar import CalendarRepo
from storage.repos.deputies import DeputyRepo
from storage.repos.stations import StationRepo
from storage.repos.visits import VisitRepo

MAX_COUNT = 10_000
TEXT_MAX = 1_000
MAX_PHOTOS = 5
EDIT_DAYS = 7
EARLIEST = date(2000, 1, 1)
# Used only until the application passes settings.zone (see VisitService.__init__).
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
# the refusal of a draft an older version (or a damaged row) left in a shape no longer read


class VisitStep(StrEnum):
    """The steps of /visit (the values are stored: conversations in progress resume)."""

    KIND = "kind"
    DATE = "date"  # today, yesterday, or another (typed)
    DATE_TYPED = "date_typed"
    STATION = "station"
    VOTERS = "voters"
    OPINIONS = "opinions"
    DONE = "done"  # things done for voters
    NOTES = "notes"
    PHOTOS = "photos"


class VisitKind(StrEnum):
    """The kinds of visit, as stored in visits.kind."""

    RECEPTION = "reception"
    HOME_VISIT = "home_visit"
    INSPECTION = "inspection"
    RESEARCH = "research"
    LAW_ENFORCEMENT = "law_enforcement"
    TRAINING = "training"
    MEETING = "meeting"
    OTHER = "other"


class VisitField(StrEnum):
    """The fields of a saved visit that can be edited."""

    KIND = "kind"
    DATE = "date"
    STATION = "station"
    VOTERS = "voters"
    OPINIONS = "opinions"
    DONE = "done"
    NOTES = "notes"
    PHOTOS = "photos"


# (code stored in visits.kind, message id of its label)
KINDS: tuple[tuple[VisitKind, str], ...] = (
    (VisitKind.RECEPTION, N_("visit.kind_reception")),
    (VisitKind.HOME_VISIT, N_("visit.kind_home_visit")),
    (VisitKind.INSPECTION, N_("visit.kind_inspection")),
    (VisitKind.RESEARCH, N_("visit.kind_research")),
    (VisitKind.LAW_ENFORCEMENT, N_("visit.kind_law_enforcement")),
    (VisitKind.TRAINING, N_("visit.kind_training")),
    (VisitKind.MEETING, N_("visit.kind_meeting")),
    (VisitKind.OTHER, N_("visit.kind_other")),
)
KIND_LABELS: dict[str, str] = dict(KINDS)

TURN_KINDS = {
    TurnKind.RECEPTION: VisitKind.RECEPTION,
    TurnKind.HOME_VISIT: VisitKind.HOME_VISIT,
    TurnKind.ANNUAL_ACCOUNT: VisitKind.MEETING,
}

# The fields of a saved visit that can be edited: (field, message id of its label, column).
FIELDS: tuple[tuple[VisitField, str, str], ...] = (
    (VisitField.KIND, N_("visit.field_kind"), "kind"),
    (VisitField.DATE, N_("visit.field_date"), "visit_date"),
    (VisitField.STATION, N_("visit.field_station"), "station_id"),
    (VisitField.VOTERS, N_("visit.field_voters"), "voters_met"),
    (VisitField.OPINIONS, N_("visit.field_opinions"), "opinions_received"),
    (VisitField.DONE, N_("visit.field_done"), "done_for_voters"),
    (VisitField.NOTES, N_("visit.field_notes"), "notes"),
    (VisitField.PHOTOS, N_("visit.field_photos"), "photos"),
)
FIELD_COLUMNS = {field: column for field, _, column in FIELDS}
# The step where each editable field is entered again.
FIELD_STEPS = {
    VisitField.KIND: VisitStep.KIND,
    VisitField.DATE: VisitStep.DATE,
    VisitField.STATION: VisitStep.STATION,
    VisitField.VOTERS: VisitStep.VOTERS,
    VisitField.OPINIONS: VisitStep.OPINIONS,
    VisitField.DONE: VisitStep.DONE,
    VisitField.NOTES: VisitStep.NOTES,
    VisitField.PHOTOS: VisitStep.PHOTOS,
}

COUNT = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")
COUNT_UNITS = "人位名条个件次"


class VisitDraft(BaseModel):
    """What the deputy has entered so far; for an edit, a copy of the saved visit."""

    kind: VisitKind | None = None
    visit_date: date | None = None
    station_id: int | None = None
    turn_id: int | None = None
    voters_met: int | None = None
    opinions_received: int | None = None
    done_for_voters: str | None = None
    notes: str | None = None
    photos: list[str] = Field(default_factory=list)
    editing: int | None = None  # the id of the saved visit being edited
    field: VisitField | None = None  # the field being edited


VISIT = Conversation(
    "visit",
    steps=VisitStep,
    draft=VisitDraft,
    opened_by=("visit",),
    needs=Action.LOG_VISIT,
)


def parse_count(raw: str | None) -> int:
    """A number of people or opinions: a whole number from 0 to MAX_COUNT ("1,200" and
    "12人" are understood; full-width digits too)."""
    text = unicodedata.normalize("NFKC", clean(raw)).replace(" ", "")
    text = text.rstrip(COUNT_UNITS)
    negative = text[:1] in ("-", "−")
    digits = text[1:] if text[:1] in ("-", "−", "+") else text
    if not COUNT.match(digits):
        raise DomainError("visit.count_not_number", maximum=MAX_COUNT)
    digits = digits.replace(",", "")
    if len(digits) > 9:
        raise DomainError("visit.count_too_large", maximum=MAX_COUNT)
    value = int(digits)
    if negative and value:
        raise DomainError("visit.count_negative")
    if value > MAX_COUNT:
        raise DomainError("visit.count_too_large", maximum=MAX_COUNT)
    return value


def visit_date(raw: str | None, today: date) -> date:
    """The typed date of a visit (bot.services.typed_dates; without a year, the most recent
    such day); a date in the future or before EARLIEST is refused."""
    value = parse_date(
        raw, today=today, direction=YearDirection.MOST_RECENT, refusal="visit.date_unparsable"
    )
    check_date(value, today)
    return value


def check_date(value: date, today: date) -> None:
    if value > today:
        raise DomainError("visit.date_in_future", date=value.isoformat())
    if value < EARLIEST:
        raise DomainError("visit.date_too_old", earliest=EARLIEST.isoformat())


def visit_text(raw: str | None) -> str:
    """Things done for voters, or notes, cleaned (bot.services.text): not empty once the
    invisible characters are gone (Skip is a button), at most TEXT_MAX characters."""
    return typed(raw, maximum=TEXT_MAX, empty="visit.text_empty", too_long="visit.text_too_long")


class VisitService:
    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo | None = None) -> None:
        self.db = db
        self.clock = clock
        self.zone = zone or DEFAULT_ZONE
        self.repo = VisitRepo(db)
        self.deputies = DeputyRepo(db)
        self.stations = StationRepo(db)
        self.calendar = CalendarRepo(db)
        self.steps = DraftStore(db, VISIT)

    # --- time ------------------------------------------------------------------------------

    def today(self) -> date:
        """Today in the configured zone, from the injected clock."""
        return self.clock.now().astimezone(self.zone).date()

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def may_change(self, actor: User, visit: Visit) -> bool:
        """The deputy's own live visit, logged less than EDIT_DAYS days ago."""
        return (
            visit.deputy_id == actor.telegram_id
            and visit.deleted_at is None
            and self.clock.now() < visit.created_at + timedelta(days=EDIT_DAYS)
        )

    # --- who ------------------------------------------------------------------------------

    async def deputy(self, actor: User) -> Deputy:
        """The deputy record of the actor; LOG_VISIT is checked first."""
        ensure(actor, Action.LOG_VISIT)
        deputy = await self.deputies.get(actor.telegram_id)
        if deputy is None:
            raise DomainError("visit.not_a_deputy")
        return deputy

    async def station(self, station_id: int | None) -> Station | None:
        return None if station_id is None else await self.stations.get(station_id)

    # --- the draft ------------------------------------------------------------------------

    async def draft(self, user_id: int) -> VisitDraft:
        """The draft (a fresh one if none is kept)."""
        return await self.steps.load(user_id) or VisitDraft()

    async def save(self, user_id: int, chat_id: int, draft: VisitDraft, step: VisitStep) -> None:
        """Store the draft and the step it is at, together, so a crash loses at most one step."""
        async with self.db.transaction() as tx:
            await self.steps.put(tx, chat_id, user_id, draft, step, self.clock.now())

    async def discard(self, user_id: int, chat_id: int) -> None:
        async with self.db.transaction() as tx:
            await self.steps.put(tx, chat_id, user_id, None, None, self.clock.now())

    async def begin(self, actor: User, chat_id: int) -> VisitDraft:
        """A new visit from /visit: an empty draft at the first step (the gate has made sure
        no other conversation is under way)."""
        await self.deputy(actor)
        draft = VisitDraft()
        await self.save(actor.telegram_id, chat_id, draft, VisitStep.KIND)
        return draft

    async def begin_from_turn(
        self, actor: User, chat_id: int, turn_id: int
    ) -> tuple[VisitDraft, DutyTurn]:
        """A visit for a duty turn the deputy was on: kind, date and station come from it;
        the two numbers are asked."""
        await self.deputy(actor)
        turn = await self.calendar.get_turn(turn_id)
        if turn is None:
            raise DomainError("visit.turn_unknown")
        if actor.telegram_id not in turn.deputy_ids:
            raise AccessDenied("visit.not_your_turn")
        if turn.starts_at > self.clock.now():
            raise DomainError("visit.turn_not_started")
        async with self.db.transaction() as tx:
            logged = await self.repo.logged_turn(tx, actor.telegram_id, turn_id)
        if logged is not None:
            raise DomainError("visit.turn_already_logged", date=logged.visit_date.isoformat())
        await self.steps.ensure_alone(chat_id, actor.telegram_id, "visit.busy_elsewhere")
        draft = VisitDraft(
            kind=TURN_KINDS[turn.kind],
            visit_date=self.local_date(turn.starts_at),
            station_id=turn.station_id,
            turn_id=turn.id,
        )
        await self.save(actor.telegram_id, chat_id, draft, VisitStep.VOTERS)
        return draft, turn

    async def submit(self, actor: User, chat_id: int) -> Visit:
        """Write the visit from the draft, and drop the draft and the step, in one transaction."""
        deputy = await self.deputy(actor)
        draft = await self.draft(actor.telegram_id)
        if (
            draft.kind is None
            or draft.visit_date is None
            or draft.voters_met is None
            or draft.opinions_received is None
        ):
            raise DomainError("visit.incomplete")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if draft.turn_id is not None:
                logged = await self.repo.logged_turn(tx, deputy.user_id, draft.turn_id)
                if logged is not None:
                    raise DomainError(
                        "visit.turn_already_logged", date=logged.visit_date.isoformat()
                    )
            visit_id = await self.repo.insert(
                tx,
                deputy_id=deputy.user_id,
                kind=draft.kind,
                visit_date=draft.visit_date,
                station_id=draft.station_id,
                turn_id=draft.turn_id,
                voters_met=draft.voters_met,
                opinions_received=draft.opinions_received,
                done_for_voters=draft.done_for_voters or "",
                notes=draft.notes or "",
                photos=draft.photos,
                now=now,
            )
            await self.steps.put(tx, chat_id, actor.telegram_id, None, None, now)
        visit = await self.repo.get(visit_id)
        visit = present(visit, "visit")
        return visit

    # --- the log --------------------------------------------------------------------------

    async def mine(self, actor: User, page: int, per_page: int) -> Page[Visit]:
        """The deputy's own visits, newest first."""
        ensure(actor, Action.LOG_VISIT)
        total = await self.repo.count_by_deputy(actor.telegram_id)
        page, pages = clamp_page(page, total, per_page)
        items = await self.repo.page_by_deputy(actor.telegram_id, page * per_page, per_page)
        return Page(items, page, pages)

    async def detail(self, actor: User, visit_id: int) -> Visit:
        """One of the deputy's own visits; anyone else's is refused."""
        ensure(actor, Action.LOG_VISIT)
        visit = await self.repo.get(visit_id)
        if visit is None or visit.deleted_at is not None or visit.deputy_id != actor.telegram_id:
            raise AccessDenied("error.not_your_record")
        return visit

    def _refusal(self, actor: User, visit: Visit | None) -> DomainError | None:
        """Why the actor may not change this visit, or None when they may."""
        if visit is None or visit.deleted_at is not None or visit.deputy_id != actor.telegram_id:
            return AccessDenied("error.not_your_record")
        if not self.may_change(actor, visit):
            return DomainError("visit.too_late", days=EDIT_DAYS)
        return None

    async def changeable(self, actor: User, visit_id: int) -> Visit:
        """The visit, if the actor may still edit or delete it."""
        visit = await self.detail(actor, visit_id)
        refusal = self._refusal(actor, visit)
        if refusal is not None:
            raise refusal
        return visit

    async def begin_edit(
        self, actor: User, chat_id: int, visit_id: int, field: VisitField
    ) -> tuple[VisitDraft, VisitStep]:
        """Copy the visit into a draft and wait at the field's step for its new value."""
        visit = await self.changeable(actor, visit_id)
        await self.steps.ensure_alone(chat_id, actor.telegram_id, "visit.busy_elsewhere")
        draft = VisitDraft(
            kind=VisitKind(visit.kind),
            visit_date=visit.visit_date,
            station_id=visit.station_id,
            turn_id=visit.turn_id,
            voters_met=visit.voters_met,
            opinions_received=visit.opinions_received,
            done_for_voters=visit.done_for_voters,
            notes=visit.notes,
            photos=list(visit.photos),
            editing=visit.id,
            field=field,
        )
        step = FIELD_STEPS[field]
        await self.save(actor.telegram_id, chat_id, draft, step)
        return draft, step

    async def save_edit(self, actor: User, chat_id: int, draft: VisitDraft) -> Visit:
        """Write the edited field to the visit. When the visit may no longer be changed, the
        draft is dropped and the reason raised."""
        if draft.editing is None or draft.field is None:
            raise DomainError("visit.no_draft")
        ensure(actor, Action.LOG_VISIT)
        column = FIELD_COLUMNS[draft.field]
        value = getattr(draft, column)
        if column in ("done_for_voters", "notes"):
            value = value or ""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            # Checked in the writing transaction: a delete or the deadline cannot slip between.
            refusal = self._refusal(actor, await self.repo.get_in(tx, draft.editing))
            if refusal is None:
                await self.repo.update(tx, draft.editing, {column: value}, now)
            await self.steps.put(tx, chat_id, actor.telegram_id, None, None, now)
        if refusal is not None:
            raise refusal
        visit = await self.repo.get(draft.editing)
        visit = present(visit, "visit")
        return visit

    async def delete(self, actor: User, visit_id: int) -> None:
        """Soft delete: the row stays with deleted_at set, and leaves the log and counts."""
        await self.changeable(actor, visit_id)
        async with self.db.transaction() as tx:
            if not await self.repo.soft_delete(tx, visit_id, self.clock.now()):
                raise AccessDenied("error.not_your_record")
