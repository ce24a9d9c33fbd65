"""Pydantic models of the rows the repositories return."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    VOTER = "voter"
    DEPUTY = "deputy"
    STAFF = "staff"
    ADMIN = "admin"
    LIAISON = "liaison"  # a handling department's liaison (承办单位联络员)


class OpinionStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ANSWERED = "answered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # unanswered, its author forgotten: out of every queue


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class User(Row):
    """A Telegram account. Before consent only the id, a default locale, `created_at`,
    `notice_shown_at` and an explicit /language choice are stored (PIPL); `locale` then
    carries the language of the current update, worked out at run time, not the stored one."""

    telegram_id: int
    role: Role
    locale: str
    full_name: str = ""
    username: str | None = None
    station_id: int | None = None
    consent_at: datetime | None = None
    active: bool = True
    notices: bool = True
    created_at: datetime
    notice_shown_at: datetime | None = None
    locale_chosen: bool = False
    # the privacy notice's version agreed to, stored with the consent (None before it)
    consent_version: int | None = None
    # the deputy whose code (代表码) they opened last: their next opinion offers them
    met_deputy_id: int | None = None
    # what their own command menu was last set to (bot.runtime.menus); None: none set
    menu: str | None = None

    @property
    def consented(self) -> bool:
        return self.consent_at is not None


class Street(Row):
    id: int
    name: str
    station_count: int = 0


class Station(Row):
    id: int
    street_id: int
    street_name: str = ""
    name: str
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None


class NoticeMode(StrEnum):
    """How a deputy hears of their station's new opinions."""

    EACH = "each"  # one notice per opinion, at once (quiet hours aside)
    DIGEST = "digest"  # one message a day listing them


class Deputy(Row):
    user_id: int
    name: str
    station_id: int
    joined_at: datetime
    notice_mode: NoticeMode = NoticeMode.EACH
    code: str | None = None  # their 代表码, the payload of their link (made when first asked)


class Invitation(Row):
    code: str
    deputy_name: str
    station_id: int
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None


class Opinion(Row):
    id: int
    tracking_no: str
    # None: entered at the reception desk and not yet claimed, or its author was forgotten
    author_id: int | None
    station_id: int
    category: str
    text: str
    photos: list[str] = Field(default_factory=list)
    latitude: float | None = None
    longitude: float | None = None
    show_name: bool
    status: OpinionStatus
    created_at: datetime
    updated_at: datetime
    # the inbox: who holds it, since when, and how the voter rated the answer
    holder_id: int | None = None
    claimed_at: datetime | None = None
    answered_at: datetime | None = None
    solved: str | None = None  # yes | partly | no
    satisfaction: str | None = None  # satisfied | basically | unsatisfied | not_rated
    rating_comment: str = ""
    project_id: int | None = None  # a deputy's supervision opinion of a livelihood project
    rated_at: datetime | None = None
    looked_again: bool = False
    # since when it has waited for a deputy: its submission, or its latest release
    unclaimed_since: datetime | None = None
    # a voice opinion: its file_id and length (its `text` is staff's transcript, '' until then)
    voice_file_id: str | None = None
    voice_seconds: int | None = None
    addressed_to: int | None = None  # the deputy the voter addressed by name; None: the station


class OpinionEvent(Row):
    id: int
    opinion_id: int
    at: datetime
    actor_id: int | None = None
    kind: str
    note: str = ""


def new_draft_token() -> str:
    """A random name for one draft: its Send button carries it, its opinion keeps it."""
    return secrets.token_urlsafe(12)


class OpinionDraft(BaseModel):
    """What a voter has entered so far; saved after every step of `/opinion`. `token` names
    this draft, so a repeated Send finds the opinion it became instead of making another."""

    token: str = Field(default_factory=new_draft_token)
    category: str | None = None
    text: str | None = None
    photos: list[str] = Field(default_factory=list)
    latitude: float | None = None
    longitude: float | None = None
    location_skipped: bool = False
    show_name: bool | None = None
    editing: bool = False
    # a voice message instead of typed text: its file_id and length in seconds
    voice_file_id: str | None = None
    voice_seconds: int | None = None
    # the deputy (user id) the voter chose to address by name; None: the whole station
    addressed_to: int | None = None


class Audience(StrEnum):
    VOTERS = "voters"
    VOTERS_OF_STREET = "voters_street"
    VOTERS_OF_STATION = "voters_station"
    DEPUTIES = "deputies"
    DEPUTIES_OF_STREET = "deputies_street"


class BroadcastState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class Broadcast(Row):
    id: int
    created_by: int
    audience: Audience
    audience_ref: int | None = None
    text: str
    photo: str | None = None
    document: str | None = None
    state: BroadcastState
    total: int
    progress_chat_id: int | None = None
    progress_message_id: int | None = None
    created_at: datetime
    finished_at: datetime | None = None


class BroadcastCounts(Row):
    queued: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0

    @property
    def remaining(self) -> int:
        return self.queued + self.sending


class OutboxItem(Row):
    """A claimed outbox row with everything needed to send it."""

    id: int
    chat_id: int
    attempts: int
    broadcast_id: int | None = None
    message_key: str | None = None
    params: dict[str, object] = Field(default_factory=dict)
    respects_opt_out: bool = False
    locale: str | None = None
    user_active: bool | None = None
    user_notices: bool | None = None
    text: str | None = None
    photo: str | None = None
    document: str | None = None
    # rows of typed actions (dicts); rows queued by older versions hold [label, data] pairs
    buttons: list[list[Any]] = Field(default_factory=list)
    sets_menu: bool = False  # not a message: sets the chat's command menu (Outbox.refresh_menu)


class TurnKind(StrEnum):
    RECEPTION = "reception"
    HOME_VISIT = "home_visit"
    ANNUAL_ACCOUNT = "annual_account"


class DutyRule(Row):
    """A monthly reception rule: the nth weekday of every month at a station."""

    id: int
    station_id: int
    week_of_month: int
    weekday: int
    starts: str
    ends: str
    valid_from: date
    valid_until: date | None = None
    deputy_ids: list[int] = Field(default_factory=list)


class DutyTurn(Row):
    id: int
    kind: TurnKind
    station_id: int | None = None
    rule_id: int | None = None
    starts_at: datetime
    ends_at: datetime
    uid: str
    note: str = ""
    deputy_ids: list[int] = Field(default_factory=list)


class Visit(Row):
    """One entry of a deputy's visit log (履职记录); `deleted_at` is set by a soft delete."""

    id: int
    deputy_id: int
    kind: str
    visit_date: date
    station_id: int | None = None
    turn_id: int | None = None
    voters_met: int
    opinions_received: int
    done_for_voters: str = ""
    notes: str = ""
    photos: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


# --- draft-law consultations (0006) ---------------------------------------------------------


class ConsultationAudience(StrEnum):
    """Who is prompted besides the deputies, who always are."""

    DEPUTIES = "deputies"
    DEPUTIES_OF_STREET = "deputies_street"
    VOTERS_OF_STATION = "voters_station"
    VOTERS_OF_STREET = "voters_street"
    EVERYONE = "everyone"


class ConsultationState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PersonKind(StrEnum):
    """Who a comment or an invitation is from or for."""

    DEPUTY = "deputy"
    VOTER = "voter"
    STAFF = "staff"


class Consultation(Row):
    id: int
    title: str
    summary: str = ""
    source: str = ""
    audience: ConsultationAudience
    audience_ref: int | None = None
    deadline: datetime
    state: ConsultationState
    invited: int = 0
    created_by: int | None = None
    created_at: datetime
    closed_at: datetime | None = None
    feedback: str | None = None
    feedback_at: datetime | None = None


class ConsultationArticle(Row):
    """One article (条) of a draft, in reading order; `number` is None for a draft that has
    no 第X条 at all (one text); `sub` is M of an inserted 第N条之M, 0 otherwise."""

    consultation_id: int
    position: int
    number: int | None = None
    heading_path: list[str] = Field(default_factory=list)
    text: str
    sub: int = 0


class ConsultationQuestion(Row):
    """A key question (重点征求意见的问题): free text when `choices` is empty."""

    id: int
    consultation_id: int
    position: int
    text: str
    choices: list[str] = Field(default_factory=list)


class ConsultationComment(Row):
    id: int
    consultation_id: int
    author_id: int
    article_position: int | None = None
    question_id: int | None = None
    choice: str | None = None
    text: str = ""
    author_kind: PersonKind
    station_id: int | None = None
    show_name: bool = False
    adopted: bool = False
    created_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None = None


# --- livelihood projects and secret ballots (0007) ------------------------------------------


class ProjectState(StrEnum):
    CANDIDATE = "candidate"
    CHOSEN = "chosen"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Project(Row):
    id: int
    year: int
    title: str
    description: str = ""
    department: str = ""
    budget_wan: float | None = None
    state: ProjectState
    percent_done: int = 0
    created_by: int | None = None
    created_at: datetime


class ProjectUpdate(Row):
    id: int
    project_id: int
    author_id: int | None = None
    percent_done: int
    note: str = ""
    photos: list[str] = Field(default_factory=list)
    created_at: datetime


class BallotPurpose(StrEnum):
    SELECTION = "selection"  # 票决
    RATING = "rating"  # 测评


class BallotMode(StrEnum):
    EACH = "each"  # for / against / abstain on each project
    K_OF_N = "k_of_n"  # 差额票决: choose K of the N projects
    RATING = "rating"  # 满意 / 基本满意 / 不满意 on each project


class BallotState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Ballot(Row):
    id: int
    year: int
    purpose: BallotPurpose
    mode: BallotMode
    pick: int | None = None
    state: BallotState
    entitled: int
    opened_by: int | None = None
    opened_at: datetime
    closes_at: datetime | None = None
    closed_at: datetime | None = None


# --- deputies' suggestions, departments, the ledger (0009) -----------------------------------


class SuggestionState(StrEnum):
    """A suggestion's life: submitted → assigned (交办) → answered (办复) → closed once rated;
    withdrawn or declined (不予交办) before assignment; returned (退办) while staff reassign;
    rehandling (重新办理) after an unsatisfied rating, once."""

    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"
    ASSIGNED = "assigned"
    RETURNED = "returned"
    ANSWERED = "answered"
    REHANDLING = "rehandling"
    CLOSED = "closed"


class SuggestionRating(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY = "basically"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class CosignerState(StrEnum):
    INVITED = "invited"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class AssignmentState(StrEnum):
    ACTIVE = "active"
    RETURNED = "returned"  # 退办 by the department
    ENDED = "ended"  # replaced by a reassignment, or the suggestion closed


class Department(Row):
    id: int
    name: str
    active: bool = True
    created_at: datetime


class DepartmentLiaison(Row):
    user_id: int
    department_id: int
    name: str
    joined_at: datetime


class LiaisonInvitation(Row):
    code: str
    name: str
    department_id: int
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None


class OutcomeClass(Row):
    """One answer class of a year (A 已解决或基本解决 …): a setting per year."""

    year: int
    code: str
    label: str
    position: int
    counts_as_progress: bool = False
    ledger: bool = False


class Suggestion(Row):
    id: int
    number: str
    lead_deputy_id: int
    title: str
    reason: str
    proposals: str
    category: str
    publish: bool = False
    state: SuggestionState
    priority: bool = False
    decline_reason: str = ""
    created_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None = None
    assigned_at: datetime | None = None
    first_assigned_at: datetime | None = None
    due_at: datetime | None = None
    extended: bool = False
    extension_requested_at: datetime | None = None
    extension_reason: str = ""
    answered_at: datetime | None = None
    outcome_class: str | None = None
    rating: SuggestionRating | None = None
    rated_at: datetime | None = None
    rating_due_at: datetime | None = None
    rating_comment: str = ""
    rehandled: bool = False
    ledger_done_at: datetime | None = None
    channel_outbox_id: int | None = None
    closed_at: datetime | None = None


class SuggestionCosigner(Row):
    suggestion_id: int
    deputy_id: int
    state: CosignerState
    invited_at: datetime
    answered_at: datetime | None = None


class SuggestionAssignment(Row):
    id: int
    suggestion_id: int
    department_id: int
    lead: bool
    state: AssignmentState
    assigned_at: datetime
    assigned_by: int | None = None
    return_reason: str = ""
    proposed_department: str = ""
    returned_at: datetime | None = None


class SuggestionAnswer(Row):
    id: int
    suggestion_id: int
    round: int
    department_id: int
    outcome_class: str
    met_deputy: bool
    met_on: date | None = None
    summary: str
    recorded_by: int
    answered_at: datetime
    on_time: bool


class Commitment(Row):
    """A class-B promise: what, by when; done once the department says so (台账)."""

    id: int
    suggestion_id: int
    answer_id: int
    text: str
    due_on: date
    done_at: datetime | None = None
    reminded_at: datetime | None = None
    alerted_at: datetime | None = None


class CommitmentUpdate(Row):
    id: int
    commitment_id: int
    text: str
    done: bool = False
    author_id: int | None = None
    at: datetime


class SuggestionEvent(Row):
    id: int
    suggestion_id: int
    at: datetime
    actor_id: int | None = None
    kind: str
    note: str = ""


class TurnAbsence(Row):
    turn_id: int
    deputy_id: int
    reason: str
    at: datetime


class AccountRating(Row):
    """Voters' satisfaction with a deputy's annual account (年述职测评), by secret ballot."""

    id: int
    deputy_id: int
    year: int
    station_id: int
    state: BallotState
    opened_by: int | None = None
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None = None
