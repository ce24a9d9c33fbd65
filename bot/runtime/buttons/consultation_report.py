"""Buttons of a consultation's report and feedback (prefixes kq…): the report itself,
marking comments adopted (the targets with comments, a target's comments, the ✓ toggle),
and writing, publishing or dropping the feedback note."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from bot.runtime.buttons.base import SQLITE_MAX_INT, CallbackData, Id, Page, notice_action
from bot.services.outbox import Intent, NoticeButton

# an article's position (from 0) or a key question's id; nothing for the whole draft
Ref = Annotated[int, Field(ge=0, le=SQLITE_MAX_INT)]


class TargetKind(StrEnum):
    """What the comments listed are on."""

    ARTICLE = "a"
    WHOLE = "w"
    QUESTION = "q"


class ReportOpen(CallbackData, prefix="kqo"):
    """Staff: a closed consultation's summary, with its .xlsx and .docx."""

    consultation: Id


@notice_action(Intent.CONSULTATION_REPORT)
def _reportopen_from_notice(notice: NoticeButton) -> ReportOpen:
    return ReportOpen(consultation=notice.target)


# --- marking comments adopted (采纳) --------------------------------------------------------


class AdoptStart(CallbackData, prefix="kqa"):
    """From the summary: the articles, whole draft and questions with comments, anew."""

    consultation: Id


class AdoptTargets(CallbackData, prefix="kqg"):
    """A page of the targets with comments, in place."""

    consultation: Id
    page: Page


class AdoptComments(CallbackData, prefix="kql"):
    """A page of the comments on one target, each with its ✓ toggle."""

    consultation: Id
    kind: TargetKind
    ref: Ref
    page: Page


class AdoptToggle(CallbackData, prefix="kqt"):
    """Mark one comment adopted, or no longer; its page is shown again."""

    comment: Id
    page: Page


# --- the feedback note (意见采纳情况反馈) ----------------------------------------------------


class FeedbackWrite(CallbackData, prefix="kqf"):
    """Begin writing the feedback note of a closed consultation."""

    consultation: Id


class FeedbackPublish(CallbackData, prefix="kqp"):
    """Publish the previewed note and tell everyone who commented."""

    consultation: Id


class FeedbackCancel(CallbackData, prefix="kqx"):
    """Drop the note being written."""
