"""Buttons of the ledger (prefixes tz…, 台账): staff's filtered list, a suggestion's card,
the .xlsx, correcting an answer; and a commitment's progress update, which the department's
liaison (or staff) opens from the reminder. The list's filter travels in its buttons."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bot.runtime.buttons.assigned import ClassCode
from bot.runtime.buttons.base import CallbackData, Id, Page, notice_action
from bot.services.ledger import LedgerFilter, LedgerStatus, UpdateOutcome
from bot.services.outbox import Intent, NoticeButton

# a department to filter by, 0 for any (department ids stay far below a million)
DepartmentId = Annotated[int, Field(ge=0, le=999_999)]
# the class to filter by: an outcome class's code as ClassCode bounds it (1-4 characters, no
# space, never the separator), or "" for any
AnyClass = Annotated[str, Field(max_length=4, pattern=r"^[^\s:]{0,4}$")]


class LedgerList(CallbackData, prefix="tzl"):
    """A page of the list under a filter (each filter button is this, one field changed)."""

    status: LedgerStatus
    department: DepartmentId
    cls: AnyClass
    overdue: bool
    priority: bool
    page: Page

    def wanted(self) -> LedgerFilter:
        return LedgerFilter(self.status, self.department, self.cls, self.overdue, self.priority)


def listing(wanted: LedgerFilter, page: int = 0) -> LedgerList:
    return LedgerList(
        status=wanted.status,
        department=wanted.department,
        cls=wanted.outcome_class,
        overdue=wanted.overdue,
        priority=wanted.priority,
        page=page,
    )


class LedgerDepartments(CallbackData, prefix="tzd"):
    """A page of the departments to filter by; the rest of the filter is kept."""

    status: LedgerStatus
    cls: AnyClass
    overdue: bool
    priority: bool
    page: Page

    def wanted(self) -> LedgerFilter:
        return LedgerFilter(self.status, 0, self.cls, self.overdue, self.priority)


class LedgerCard(CallbackData, prefix="tzc"):
    """A suggestion's card, with the list's filter and page to go back to."""

    suggestion: Id
    status: LedgerStatus
    department: DepartmentId
    cls: AnyClass
    overdue: bool
    priority: bool
    page: Page

    def wanted(self) -> LedgerFilter:
        return LedgerFilter(self.status, self.department, self.cls, self.overdue, self.priority)


def card(suggestion: int, wanted: LedgerFilter, page: int) -> LedgerCard:
    return LedgerCard(
        suggestion=suggestion,
        status=wanted.status,
        department=wanted.department,
        cls=wanted.outcome_class,
        overdue=wanted.overdue,
        priority=wanted.priority,
        page=page,
    )


class LedgerExport(CallbackData, prefix="tzx"):
    """The .xlsx of what the filter lets through."""

    status: LedgerStatus
    department: DepartmentId
    cls: AnyClass
    overdue: bool
    priority: bool

    def wanted(self) -> LedgerFilter:
        return LedgerFilter(self.status, self.department, self.cls, self.overdue, self.priority)


def export(wanted: LedgerFilter) -> LedgerExport:
    return LedgerExport(
        status=wanted.status,
        department=wanted.department,
        cls=wanted.outcome_class,
        overdue=wanted.overdue,
        priority=wanted.priority,
    )


# --- correcting an answer (staff, from the card) ---------------------------------------------


class CorrectSummary(CallbackData, prefix="tzs"):
    """Type the answer's corrected summary."""

    suggestion: Id


class CorrectClass(CallbackData, prefix="tzk"):
    """Show the year's classes to correct the answer's class."""

    suggestion: Id


class ClassChosen(CallbackData, prefix="tzkc"):
    suggestion: Id
    code: ClassCode


class CorrectCancel(CallbackData, prefix="tzkx"):
    """Leave the correction."""


# --- a commitment's progress update ------------------------------------------------------------


class CommitmentOpen(CallbackData, prefix="tzm"):
    """A commitment and its updates; `fresh`: as a new message (below a notice)."""

    commitment: Id
    fresh: bool = False


@notice_action(Intent.COMMITMENT_UPDATE)
def _commitment(notice: NoticeButton) -> CallbackData:
    """The reminder's (and staff's alert's) button: the commitment, to post an update."""
    return CommitmentOpen(commitment=notice.target, fresh=True)


class CommitmentWrite(CallbackData, prefix="tzw"):
    """Begin a progress update: it is typed next."""

    commitment: Id


class CommitmentOutcome(CallbackData, prefix="tzo"):
    """What the typed update says: done, under way, or cannot be done."""

    commitment: Id
    outcome: UpdateOutcome


class CommitmentCancel(CallbackData, prefix="tzq"):
    """Leave the update without posting it."""
