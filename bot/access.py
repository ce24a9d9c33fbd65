"""Who may do what: the one place every command, button and service asks."""

from __future__ import annotations

from enum import StrEnum

from bot.errors import AccessDenied
from storage.models import Opinion, Role, User


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
    VIEW_SCHEDULE = "view_schedule"
    MANAGE_CALENDAR = "manage_calendar"
    EXPORT_CALENDAR = "export_calendar"
    LOG_VISIT = "log_visit"
    VIEW_INBOX = "view_inbox"
    RATE_OPINION = "rate_opinion"


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
    Action.VIEW_SCHEDULE: _EVERYONE,
    Action.MANAGE_CALENDAR: _STAFF,
    Action.EXPORT_CALENDAR: frozenset({Role.DEPUTY}),
    Action.LOG_VISIT: frozenset({Role.DEPUTY}),
    Action.VIEW_INBOX: frozenset({Role.DEPUTY, Role.STAFF, Role.ADMIN}),
    Action.RATE_OPINION: _EVERYONE,
    Action.MANAGE_STAFF: frozenset({Role.ADMIN}),
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
