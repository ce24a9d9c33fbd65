"""Buttons of /assign (prefixes ja…): staff's queue of suggestions and the card of one, 交办
step by step (the lead department, the co-handling ones, confirm), 不予交办, 重点督办 and
the extension; and the staff alert's button, which opens the card."""

from __future__ import annotations

from enum import StrEnum

from bot.runtime.buttons.base import CallbackData, Id, Page, notice_action
from bot.services.outbox import Intent, NoticeButton
from bot.services.suggestion_handling import QueuePart


class Flow(StrEnum):
    """The conversation a Cancel button leaves."""

    ASSIGN = "assign"
    DECLINE = "decline"


# --- the queue and the card ------------------------------------------------------------------


class AssignQueue(CallbackData, prefix="jaq"):
    """A page of one part of the queue (待交办, 退办, 办理中)."""

    part: QueuePart
    page: Page


class AssignOpen(CallbackData, prefix="jao"):
    """A suggestion's staff card; `page` is the queue page to go back to; `fresh`: shown
    as a new message (from a notice, which stays as it is)."""

    suggestion: Id
    page: Page
    fresh: bool = False


@notice_action(Intent.REVIEW_SUGGESTION)
def _review(notice: NoticeButton) -> CallbackData:
    """A staff alert's button (an overdue deadline, a return): the card, below it."""
    return AssignOpen(suggestion=notice.target, page=0, fresh=True)


class AssignPriority(CallbackData, prefix="jap"):
    """Flag (on) or unflag 重点督办; the card is shown again."""

    suggestion: Id
    on: bool


class ExtensionAsk(CallbackData, prefix="jae"):
    """Show what an extension would do, to confirm."""

    suggestion: Id


class ExtensionGrant(CallbackData, prefix="jaeg"):
    suggestion: Id


class ExtensionRefuse(CallbackData, prefix="jaer"):
    """Refuse the department's request for more time."""

    suggestion: Id


# --- 交办 ------------------------------------------------------------------------------------


class AssignStart(CallbackData, prefix="jas"):
    """交办 (or, after 退办, reassign) a suggestion: first its lead department."""

    suggestion: Id


class AssignLeadPage(CallbackData, prefix="jalp"):
    page: Page


class AssignLead(CallbackData, prefix="jal"):
    """The lead department (主办) picked."""

    department: Id


class AssignCoPage(CallbackData, prefix="jacp"):
    page: Page


class AssignCo(CallbackData, prefix="jac"):
    """A co-handling department (协办) on or off; `page` is the page shown."""

    department: Id
    page: Page


class AssignChangeLead(CallbackData, prefix="jab"):
    """Back to picking the lead department."""


class AssignReview(CallbackData, prefix="jan"):
    """The co-handling departments are picked: show what 交办 will do."""


class AssignBackToCo(CallbackData, prefix="jabc"):
    """From the confirmation back to the co-handling departments."""


class AssignConfirm(CallbackData, prefix="jay"):
    suggestion: Id


# --- 不予交办 --------------------------------------------------------------------------------


class DeclineStart(CallbackData, prefix="jad"):
    suggestion: Id


class DeclineConfirm(CallbackData, prefix="jady"):
    suggestion: Id


class HandlingCancel(CallbackData, prefix="jax"):
    """Leave 交办 or 不予交办 without changing anything."""

    flow: Flow
