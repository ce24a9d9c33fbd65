"""Buttons of /visit (logging a visit step by step), of the "log this visit?" prompt after a
duty turn, and of /visits (the deputy's log: open, edit, delete)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from bot.runtime.buttons.base import CallbackData, Id, Page, notice_action
from bot.services.outbox import Intent, NoticeButton
from bot.services.visits import VisitField, VisitKind


class DateChoice(StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    OTHER = "other"  # then the date is typed


class StationChoice(StrEnum):
    OWN = "own"  # the deputy's own station
    NONE = "none"  # not at a station


class TextStep(StrEnum):
    """The two free-text steps, which can be skipped."""

    DONE = "done"
    NOTES = "notes"


class PhotosAction(StrEnum):
    DONE = "done"
    CLEAR = "clear"


# --- the "log this visit?" prompt --------------------------------------------------------


class VisitFromTurn(CallbackData, prefix="vl"):
    """Log the visit of duty turn `turn`. Packs as `vl:turn:<id>`, the shape of earlier
    versions, so prompts already delivered (or queued) keep working."""

    source: Literal["turn"] = "turn"
    turn: Id


@notice_action(Intent.LOG_VISIT)
def _log_visit(notice: NoticeButton) -> CallbackData:
    """The reminder service's "log this visit?" action: `target` is the duty turn."""
    return VisitFromTurn(turn=notice.target)


# --- /visit, step by step ----------------------------------------------------------------


class VisitKindChosen(CallbackData, prefix="vik"):
    kind: VisitKind


class VisitDate(CallbackData, prefix="vid"):
    choice: DateChoice


class VisitStation(CallbackData, prefix="vis"):
    """The deputy's own station or none; other stations come from the shared picker."""

    choice: StationChoice


class VisitSkip(CallbackData, prefix="vip"):
    """Skip (or, editing, clear) one of the free-text steps."""

    step: TextStep


class VisitPhotos(CallbackData, prefix="vih"):
    action: PhotosAction


class VisitCancel(CallbackData, prefix="vix"):
    """Leave /visit (or an edit) without saving."""


# --- /visits -----------------------------------------------------------------------------


class VisitListPage(CallbackData, prefix="vvl"):
    page: Page


class VisitOpen(CallbackData, prefix="vvo"):
    """A visit's card; `page` is the list page to go back to."""

    visit: Id
    page: Page


class VisitEditMenu(CallbackData, prefix="vve"):
    visit: Id
    page: Page


class VisitEditField(CallbackData, prefix="vvf"):
    """Enter a new value for one field of a saved visit."""

    visit: Id
    field: VisitField


class VisitDelete(CallbackData, prefix="vvd"):
    """Ask whether to delete."""

    visit: Id
    page: Page


class VisitDeleteConfirmed(CallbackData, prefix="vvy"):
    visit: Id
    page: Page
