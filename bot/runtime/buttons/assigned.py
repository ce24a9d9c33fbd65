"""Buttons of a department's view of its assigned suggestions (prefixes bf…, 办复): the
list and the card, the answer step by step, the return (退办) and the request for more
time."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bot.runtime.buttons.base import CallbackData, Id, Page, notice_action
from bot.services.outbox import Intent, NoticeButton

# an outcome class's code as staff set it (A, B, 甲 …): 1-4 characters, never the separator
ClassCode = Annotated[str, Field(min_length=1, max_length=4, pattern=r"^[^\s:]{1,4}$")]


class AnswerStart(CallbackData, prefix="bfa"):
    """Record the answer of a suggestion: its lead department's liaison, or staff for a
    department that does not use the bot (the staff card carries this button too)."""

    suggestion: Id


# --- /assigned and the department's card ------------------------------------------------------


class AssignedPage(CallbackData, prefix="bfl"):
    page: Page


class AssignedOpen(CallbackData, prefix="bfo"):
    """The department's card of a suggestion; `page` is the list page to go back to."""

    suggestion: Id
    page: Page


@notice_action(Intent.OPEN_ASSIGNMENT)
def _open_assignment(notice: NoticeButton) -> CallbackData:
    """A new assignment (or re-handling) told to the department: `target` is the suggestion."""
    return AssignedOpen(suggestion=notice.target, page=0)


# --- the answer, step by step -------------------------------------------------------------------


class AnswerClass(CallbackData, prefix="bfc"):
    code: ClassCode


class AnswerMet(CallbackData, prefix="bfm"):
    """Met or talked with the deputy before answering (见面/沟通)?"""

    met: bool


class AnswerMore(CallbackData, prefix="bfn"):
    """Add another commitment."""


class AnswerDone(CallbackData, prefix="bfd"):
    """The commitments are all listed."""


class AnswerConfirm(CallbackData, prefix="bfy"):
    pass


class AnswerCancel(CallbackData, prefix="bfx"):
    pass


# --- 退办 and more time --------------------------------------------------------------------------


class ReturnStart(CallbackData, prefix="bfr"):
    suggestion: Id


class ReturnFor(CallbackData, prefix="bfrf"):
    """Staff return an active assignment (退办) on its department's behalf: the staff card
    carries one per department handling the suggestion."""

    assignment: Id


class ExtensionStart(CallbackData, prefix="bfe"):
    suggestion: Id


class RequestSkip(CallbackData, prefix="bfs"):
    """No department to propose instead."""


class RequestConfirm(CallbackData, prefix="bfk"):
    pass


class RequestCancel(CallbackData, prefix="bfq"):
    pass
