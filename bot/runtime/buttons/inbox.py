"""Buttons of the opinion handling: the deputies' /inbox, the staff's /opinions (both show an
opinion's one card, with the actions the service allows its viewer; `side` says which list
it came from and goes back to), the typed steps about an opinion (answer, reason, question,
the voter's reply) and the voter's rating."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import Field

from bot.runtime.buttons.base import SQLITE_MAX_INT, CallbackData, Id, Page, notice_action
from bot.services.inbox import TYPED_BY_BUTTON, VIEWS, Listing, OpinionAction
from bot.services.opinions import SATISFACTION_CHOICES, SOLVED_LABELS
from bot.services.outbox import Intent, NoticeButton
from storage.models import OpinionStatus

# The inbox's views (bot.services.inbox.VIEWS).
View = Literal["all", "new", "open"]
# What is typed after tapping a card's button (the voter's reply has its own button).
Step = Literal["answer", "decline", "ask"]
# The voter's two rating questions (bot.services.opinions).
Solved = Literal["yes", "partly", "no"]
Satisfaction = Literal["satisfied", "basically", "unsatisfied"]

# one list each, checked at import against the services that store them
if set(get_args(View)) != set(VIEWS):
    raise TypeError("View must name exactly bot.services.inbox.VIEWS")
if set(get_args(Step)) != {str(a) for a in TYPED_BY_BUTTON - {OpinionAction.REPLY}}:
    raise TypeError("Step must name the card's typed steps of bot.services.inbox")
if set(get_args(Solved)) != set(SOLVED_LABELS):
    raise TypeError("Solved must name exactly bot.services.opinions.SOLVED_LABELS")
if set(get_args(Satisfaction)) != set(SATISFACTION_CHOICES):
    raise TypeError("Satisfaction must name exactly bot.services.opinions.SATISFACTION_CHOICES")

# A street filter: a street's id, or 0 for every street.
StreetOrAll = Annotated[int, Field(ge=0, le=SQLITE_MAX_INT)]


class Side(StrEnum):
    """Where an opinion's card was opened: its actions come back to the same card."""

    INBOX = "i"  # /inbox (a deputy, or staff looking at the inbox)
    STAFF = "s"  # the staff's /opinions

    @property
    def listing(self) -> Listing:
        """The service's name for the list, which says who may use it."""
        return Listing.INBOX if self is Side.INBOX else Listing.EVERY


class StatusFilter(StrEnum):
    """The staff list's status filter: every status, or one of them."""

    ALL = "all"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ANSWERED = "answered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def status(self) -> OpinionStatus | None:
        """The status filtered on; None for every status."""
        return None if self is StatusFilter.ALL else OpinionStatus(self.value)


if {f.value for f in StatusFilter} - {"all"} != {s.value for s in OpinionStatus}:
    raise TypeError("StatusFilter must name exactly the statuses of storage.models")


# --- an opinion's card, from either side --------------------------------------------------


class OpinionCard(CallbackData, prefix="ibo"):
    """Show an opinion's card in place of the tapped message."""

    side: Side
    opinion: Id


class Accept(CallbackData, prefix="soa"):
    """Staff accept a submitted opinion (the side defaults to /opinions)."""

    side: Side = Side.STAFF
    opinion: Id


class Release(CallbackData, prefix="ibr"):
    """The holder (or staff) gives the opinion back to the station's deputies."""

    side: Side
    opinion: Id


class PickDeputy(CallbackData, prefix="iba"):
    """Staff: list the deputies of the opinion's station to give it to."""

    side: Side
    opinion: Id


class AssignTo(CallbackData, prefix="ibt"):
    """Staff: give the opinion to this deputy of its station."""

    side: Side
    opinion: Id
    deputy: Id


class Compose(CallbackData, prefix="ibw"):
    """Start typing an answer, a reason for declining or a question to the voter."""

    step: Step
    opinion: Id


# --- the inbox ----------------------------------------------------------------------------


class InboxList(CallbackData, prefix="ibl"):
    """A page of one of the inbox's views."""

    view: View
    page: Page


class InboxOpen(CallbackData, prefix="ibv"):
    """'Open' under a notice: the card comes as a new message, the notice stays."""

    opinion: Id


class Claim(CallbackData, prefix="ibc"):
    """A deputy of the opinion's station takes it on."""

    opinion: Id


class ClaimFromNotice(CallbackData, prefix="ibk"):
    """'Claim' under a notice: the card's claim, told below the notice, which stays (a
    refusal too, as a message that stays in the chat, not an alert gone once closed)."""

    opinion: Id


class AnswerFromNotice(CallbackData, prefix="ibn"):
    """Under a new-opinion notice: claim the opinion if nobody holds it, then answer it."""

    opinion: Id


class AssignFromNotice(CallbackData, prefix="ibg"):
    """Staff, under an overdue alert: the deputies to give the opinion to, as a new message
    below the alert, which stays as it was."""

    opinion: Id


# --- the staff's /opinions ----------------------------------------------------------------


class StaffList(CallbackData, prefix="sol"):
    """A page of every opinion, filtered by status and street (0: every street)."""

    status: StatusFilter
    street: StreetOrAll
    page: Page


# --- the voter's side ---------------------------------------------------------------------


class ReplyToQuestion(CallbackData, prefix="rp"):
    """The voter answers a question about their opinion."""

    opinion: Id


class RateSolved(CallbackData, prefix="rts"):
    """First rating question: was the problem solved?"""

    opinion: Id
    solved: Solved


class RateSatisfaction(CallbackData, prefix="rtf"):
    """Second rating question: how satisfied is the voter?"""

    opinion: Id
    satisfaction: Satisfaction


class SkipComment(CallbackData, prefix="rtk"):
    """No comment on the rating."""

    opinion: Id


class LookAgain(CallbackData, prefix="rta"):
    """'Not solved': ask the holder to look at the opinion again (once)."""

    opinion: Id


# --- the typed actions of queued notices --------------------------------------------------


@notice_action(Intent.OPEN_OPINION)
def _open(notice: NoticeButton) -> CallbackData:
    """The opinion's inbox card, below the notice."""
    return InboxOpen(opinion=notice.target)


@notice_action(Intent.CLAIM_OPINION)
def _claim(notice: NoticeButton) -> CallbackData:
    """Claim the opinion (from a new-opinion notice or a reminder to the station's deputies)."""
    return ClaimFromNotice(opinion=notice.target)


@notice_action(Intent.ANSWER_OPINION)
def _answer(notice: NoticeButton) -> CallbackData:
    """Claim if need be, then the answer step (from a new-opinion notice)."""
    return AnswerFromNotice(opinion=notice.target)


@notice_action(Intent.ASSIGN_OPINION)
def _assign(notice: NoticeButton) -> CallbackData:
    """Staff: the deputies to give the opinion to, below the overdue alert."""
    return AssignFromNotice(opinion=notice.target)


@notice_action(Intent.ASK_AGAIN)
def _ask_again(notice: NoticeButton) -> CallbackData:
    """Ask the voter another question (under a relayed reply)."""
    return Compose(step="ask", opinion=notice.target)


@notice_action(Intent.REPLY_TO_QUESTION)
def _reply(notice: NoticeButton) -> CallbackData:
    """The voter answers the question of the notice."""
    return ReplyToQuestion(opinion=notice.target)


@notice_action(Intent.RATE_SOLVED)
def _rate_solved(notice: NoticeButton) -> CallbackData:
    """One answer to 'was it solved?'; `choice` is its code (refused if unknown)."""
    return RateSolved.model_validate({"opinion": notice.target, "solved": notice.choice})


@notice_action(Intent.RATE_SATISFACTION)
def _rate_satisfaction(notice: NoticeButton) -> CallbackData:
    """One answer to 'how satisfied?'; `choice` is its code (refused if unknown)."""
    return RateSatisfaction.model_validate(
        {"opinion": notice.target, "satisfaction": notice.choice}
    )
