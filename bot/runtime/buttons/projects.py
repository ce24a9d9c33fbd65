"""Buttons of /projects (prefixes jp…): the year's list and a project's card, following,
the candidate, progress and supervision conversations, and the notice of a progress update."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from bot.runtime.buttons.base import CallbackData, Id, Page, notice_action
from bot.services.outbox import Intent, NoticeButton
from bot.services.projects import ProjectField

Year = Annotated[int, Field(ge=2000, le=2100)]


class Flow(StrEnum):
    """The conversation a Cancel button leaves."""

    CANDIDATE = "candidate"
    PROGRESS = "progress"
    SUPERVISION = "supervision"


class PhotosAction(StrEnum):
    DONE = "done"
    CLEAR = "clear"


# --- the list and the card -----------------------------------------------------------------


class ProjectList(CallbackData, prefix="jpl"):
    """A page of one year's projects (the ◀ ▶ buttons switch the year)."""

    year: Year
    page: Page


class ProjectOpen(CallbackData, prefix="jpo"):
    """A project's card; `page` is the list page to go back to; `fresh`: shown as a new
    message (from a notice, which stays as it is) instead of in place of the list."""

    project: Id
    page: Page
    fresh: bool = False


@notice_action(Intent.OPEN_PROJECT)
def _open_project(notice: NoticeButton) -> CallbackData:
    """A progress notice's button: the project's card, below the notice."""
    return ProjectOpen(project=notice.target, page=0, fresh=True)


class ProjectPhotos(CallbackData, prefix="jpp"):
    """Send the photos of one progress update."""

    update: Id


@notice_action(Intent.PROGRESS_PHOTOS)
def _progress_photos(notice: NoticeButton) -> CallbackData:
    """A progress notice's second button: that update's photos, below the notice."""
    return ProjectPhotos(update=notice.target)


class ProjectFollow(CallbackData, prefix="jpf"):
    """A deputy follows (on) or stops following a project; the card is shown again."""

    project: Id
    page: Page
    on: bool


# --- candidates (staff) --------------------------------------------------------------------


class ProjectAdd(CallbackData, prefix="jpa"):
    """Enter a new candidate of this year."""


class ProjectSkip(CallbackData, prefix="jps"):
    """Skip (or, editing, clear) the description or the budget."""

    field: ProjectField


class ProjectSave(CallbackData, prefix="jpsv"):
    """Save the candidate as the preview shows it."""


class ProjectEditMenu(CallbackData, prefix="jpe"):
    project: Id
    page: Page


class ProjectEditField(CallbackData, prefix="jpef"):
    """Type one field of a candidate again."""

    project: Id
    field: ProjectField


class ProjectWithdraw(CallbackData, prefix="jpw"):
    """Ask whether to withdraw a candidate."""

    project: Id
    page: Page


class ProjectWithdrawConfirmed(CallbackData, prefix="jpwy"):
    project: Id
    page: Page


# --- progress (staff) ----------------------------------------------------------------------


class ProgressStart(CallbackData, prefix="jpu"):
    """Post a progress update on a chosen project."""

    project: Id


class ProgressPhotos(CallbackData, prefix="jpuh"):
    action: PhotosAction


class ProgressPost(CallbackData, prefix="jpup"):
    """Post the update as the preview shows it (its followers are told)."""


# --- supervision (deputies) ----------------------------------------------------------------


class SupervisionStart(CallbackData, prefix="jpv"):
    """Write a supervision opinion about a chosen project."""

    project: Id


class SupervisionSend(CallbackData, prefix="jpvs"):
    """Send the supervision opinion as the preview shows it."""


class ProjectCancel(CallbackData, prefix="jpx"):
    """Leave one of the three conversations without saving."""

    flow: Flow
