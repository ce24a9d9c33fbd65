"""Who may do what: the one place every command, button and service asks."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from bot.errors import AccessDenied, DomainError
from storage.models import Consultation, ConsultationAudience, Opinion, Role, User


class Action(StrEnum):
    SUBMIT_OPINION = "submit_opinion"
    VIEW_OWN_OPINIONS = "view_own_opinions"
    CHOOSE_STATION = "choose_station"
    INVITE_DEPUTY = "invite_deputy"
    MANAGE_STAFF = "manage_staff"
    VIEW_ALL_OPINIONS = "view_all_opinions"
    HANDLE_OPINIONS = "handle_opinions"
    BROADCAST = "broadcast"
    SET_NOTICES = "set_notices"
    CHOOSE_NOTICE_MODE = "choose_notice_mode"  # new opinions each at once, or a daily digest
    VIEW_SCHEDULE = "view_schedule"
    MANAGE_CALENDAR = "manage_calendar"
    EXPORT_CALENDAR = "export_calendar"
    LOG_VISIT = "log_visit"
    VIEW_INBOX = "view_inbox"
    CLAIM_OPINION = "claim_opinion"
    ASSIGN_OPINION = "assign_opinion"
    RATE_OPINION = "rate_opinion"
    OPEN_CONSULTATION = "open_consultation"  # /consult: open, close, report, feedback
    COMMENT_CONSULTATION = "comment_consultation"  # read a draft law and comment on it
    MANAGE_PROJECTS = "manage_projects"  # livelihood projects: candidates, ballots, progress
    VIEW_PROJECTS = "view_projects"
    FOLLOW_PROJECT = "follow_project"  # a deputy follows a project's progress
    SUPERVISE_PROJECT = "supervise_project"  # a deputy's supervision opinion on a project
    VOTE_BALLOT = "vote_ballot"  # 票决 and 测评: deputies only, by secret ballot
    # deputies' suggestions (代表建议), issue 10
    DRAFT_SUGGESTION = "draft_suggestion"  # /suggest, withdraw, invite co-signers
    COSIGN_SUGGESTION = "cosign_suggestion"  # confirm or decline a co-signing invitation
    RATE_SUGGESTION = "rate_suggestion"  # the lead deputy rates the answer
    ASSIGN_SUGGESTION = "assign_suggestion"  # 交办, 不予交办, reassign, 重点督办, extend
    MANAGE_DEPARTMENTS = "manage_departments"  # the departments table and their liaisons
    ANSWER_SUGGESTION = "answer_suggestion"  # a department's answer, 退办, progress updates
    VIEW_LEDGER = "view_ledger"  # 台账
    VIEW_STATS = "view_stats"  # /stats
    GIVE_ACCOUNT = "give_account"  # /account: a deputy's annual account (年述职)
    OPEN_ACCOUNT_RATING = "open_account_rating"  # voters rate a deputy's account
    RATE_ACCOUNT = "rate_account"  # a voter of the deputy's station rates the account
    # issue 11
    OWN_DATA = "own_data"  # /privacy, /mydata, /forget: a person's rights over their data
    RECEIVE_VISITORS = "receive_visitors"  # /desk: enter a visitor's opinion at the station
    # issue 12
    SHOW_DEPUTY_CODE = "show_deputy_code"  # /mycode: a deputy's own link and QR (代表码)
    TRANSCRIBE_VOICE = "transcribe_voice"  # staff type the transcript of a voice opinion


_EVERYONE = frozenset(Role)
_STAFF = frozenset({Role.STAFF, Role.ADMIN})

POLICY: dict[Action, frozenset[Role]] = {
    Action.SUBMIT_OPINION: _EVERYONE,
    Action.VIEW_OWN_OPINIONS: _EVERYONE,
    Action.CHOOSE_STATION: _EVERYONE,
    Action.INVITE_DEPUTY: _STAFF,
    Action.VIEW_ALL_OPINIONS: _STAFF,
    Action.HANDLE_OPINIONS: _STAFF,
    Action.BROADCAST: _STAFF,
    Action.SET_NOTICES: _EVERYONE,
    Action.CHOOSE_NOTICE_MODE: frozenset({Role.DEPUTY}),
    Action.VIEW_SCHEDULE: _EVERYONE,
    Action.MANAGE_CALENDAR: _STAFF,
    Action.EXPORT_CALENDAR: frozenset({Role.DEPUTY}),
    Action.LOG_VISIT: frozenset({Role.DEPUTY}),
    Action.VIEW_INBOX: frozenset({Role.DEPUTY, Role.STAFF, Role.ADMIN}),
    Action.CLAIM_OPINION: frozenset({Role.DEPUTY}),
    Action.ASSIGN_OPINION: _STAFF,
    Action.RATE_OPINION: _EVERYONE,
    Action.MANAGE_STAFF: frozenset({Role.ADMIN}),
    Action.OPEN_CONSULTATION: _STAFF,
    Action.COMMENT_CONSULTATION: _EVERYONE,
    Action.MANAGE_PROJECTS: _STAFF,
    Action.VIEW_PROJECTS: _EVERYONE,
    Action.FOLLOW_PROJECT: frozenset({Role.DEPUTY}),
    Action.SUPERVISE_PROJECT: frozenset({Role.DEPUTY}),
    Action.VOTE_BALLOT: frozenset({Role.DEPUTY}),
    Action.DRAFT_SUGGESTION: frozenset({Role.DEPUTY}),
    Action.COSIGN_SUGGESTION: frozenset({Role.DEPUTY}),
    Action.RATE_SUGGESTION: frozenset({Role.DEPUTY}),
    Action.ASSIGN_SUGGESTION: _STAFF,
    Action.MANAGE_DEPARTMENTS: _STAFF,
    # staff record the answer for a department that does not use the bot
    Action.ANSWER_SUGGESTION: frozenset({Role.LIAISON, Role.STAFF, Role.ADMIN}),
    Action.VIEW_LEDGER: _STAFF,
    Action.VIEW_STATS: _STAFF,
    Action.GIVE_ACCOUNT: frozenset({Role.DEPUTY}),
    Action.OPEN_ACCOUNT_RATING: _STAFF,
    Action.RATE_ACCOUNT: frozenset({Role.VOTER}),
    Action.OWN_DATA: _EVERYONE,
    Action.RECEIVE_VISITORS: _STAFF,
    Action.SHOW_DEPUTY_CODE: frozenset({Role.DEPUTY}),
    Action.TRANSCRIBE_VOICE: _STAFF,
}


def allowed(user: User, action: Action) -> bool:
    """True when the user's role may perform the action (and the user has consented)."""
    return user.consented and user.role in POLICY[action]


def ensure(user: User, action: Action) -> None:
    if not allowed(user, action):
        raise AccessDenied()


def ensure_may_view_opinion(user: User, opinion: Opinion) -> None:
    """The author sees their own opinion; staff see every opinion."""
    if opinion.author_id == user.telegram_id and allowed(user, Action.VIEW_OWN_OPINIONS):
        return
    if allowed(user, Action.VIEW_ALL_OPINIONS):
        return
    raise AccessDenied("error.not_your_record")


# --- the opinion inbox ---------------------------------------------------------------------
# A deputy's own station comes from their `deputies` row (never the station they may pick as
# a voter); callers pass it as `station_id`, None when the user is no deputy.


def may_see_in_inbox(user: User, opinion: Opinion, station_id: int | None) -> bool:
    """Staff see every opinion; a deputy those of their station and those they hold."""
    if allowed(user, Action.VIEW_ALL_OPINIONS):
        return True
    if not allowed(user, Action.VIEW_INBOX):
        return False
    return opinion.holder_id == user.telegram_id or (
        station_id is not None and opinion.station_id == station_id
    )


def ensure_may_see_in_inbox(user: User, opinion: Opinion, station_id: int | None) -> None:
    if not allowed(user, Action.VIEW_INBOX):
        raise AccessDenied()
    if not may_see_in_inbox(user, opinion, station_id):
        raise AccessDenied("error.not_your_record")


def may_claim(user: User, opinion: Opinion, station_id: int | None) -> bool:
    """Only a deputy of the opinion's own station claims it."""
    return (
        allowed(user, Action.CLAIM_OPINION)
        and station_id is not None
        and opinion.station_id == station_id
    )


def ensure_may_claim(user: User, opinion: Opinion, station_id: int | None) -> None:
    if not allowed(user, Action.CLAIM_OPINION):
        raise AccessDenied()
    if not may_claim(user, opinion, station_id):
        raise AccessDenied("inbox.not_your_station")


def may_act_as_holder(user: User, opinion: Opinion) -> bool:
    """The holder asks, answers, declines and releases; staff may do all of it for them."""
    if allowed(user, Action.HANDLE_OPINIONS):
        return True
    return allowed(user, Action.VIEW_INBOX) and opinion.holder_id == user.telegram_id


def ensure_may_act_as_holder(user: User, opinion: Opinion) -> None:
    if not allowed(user, Action.VIEW_INBOX):
        raise AccessDenied()
    if not may_act_as_holder(user, opinion):
        raise AccessDenied("inbox.not_holder")


def ensure_may_assign(user: User) -> None:
    ensure(user, Action.ASSIGN_OPINION)


def ensure_is_author(user: User, opinion: Opinion) -> None:
    """The voter's side of the inbox (replying, rating, asking to look again): the author only."""
    ensure(user, Action.RATE_OPINION)
    if opinion.author_id != user.telegram_id:
        raise AccessDenied("error.not_your_record")


def may_see_author(user: User, opinion: Opinion) -> bool:
    """An author who stayed anonymous is named to staff only, never to deputies."""
    return (
        opinion.show_name
        or opinion.author_id == user.telegram_id
        or allowed(user, Action.VIEW_ALL_OPINIONS)
    )


def may_see_visitor(user: User, opinion: Opinion) -> bool:
    """The name and phone a visitor gave at the reception desk: for staff and the deputy
    holding the opinion (as a voter's shown name would be), never for other deputies."""
    if allowed(user, Action.VIEW_ALL_OPINIONS):
        return True
    return allowed(user, Action.VIEW_INBOX) and opinion.holder_id == user.telegram_id


# --- a person's rights over their data (PIPL) ---------------------------------------------

# Who must give up a role before being forgotten, and what they are told.
FORGET_REFUSALS: dict[Role, str] = {
    Role.DEPUTY: "privacy.forget_deputy",
    Role.STAFF: "privacy.forget_staff",
    Role.ADMIN: "privacy.forget_admin",
    Role.LIAISON: "privacy.forget_liaison",
}


def ensure_may_own_data(user: User) -> None:
    """Action.OWN_DATA without the consent `ensure` asks for: /privacy, /mydata and /forget
    come before consent."""
    if user.role not in POLICY[Action.OWN_DATA]:
        raise AccessDenied()


def ensure_may_be_forgotten(person: int, role: Role, admin_ids: Collection[int]) -> None:
    """Only a voter may be erased: a deputy, staff member, administrator (by the settings'
    ids too) or liaison first gives up the role, so the records of public duties stay."""
    refusal = FORGET_REFUSALS.get(Role.ADMIN if person in admin_ids else role)
    if refusal is not None:
        raise DomainError(refusal)


# --- draft-law consultations ---------------------------------------------------------------
# A voter's street is that of the station they picked (users.station_id); callers pass it as
# `street_id`, None when the voter has no station.


def may_read_consultation(user: User, consultation: Consultation, street_id: int | None) -> bool:
    """Deputies and staff read every consultation; a voter those whose audience includes
    them: everyone, the voters of their station, or those of their station's street."""
    if not allowed(user, Action.COMMENT_CONSULTATION):
        return False
    if user.role != Role.VOTER:
        return True
    audience = consultation.audience
    if audience == ConsultationAudience.EVERYONE:
        return True
    if audience == ConsultationAudience.VOTERS_OF_STATION:
        return user.station_id is not None and consultation.audience_ref == user.station_id
    if audience == ConsultationAudience.VOTERS_OF_STREET:
        return street_id is not None and consultation.audience_ref == street_id
    return False


def ensure_may_read_consultation(
    user: User, consultation: Consultation, street_id: int | None
) -> None:
    if not may_read_consultation(user, consultation, street_id):
        raise AccessDenied()
