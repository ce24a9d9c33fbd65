"""Buttons of the annual account (prefixes sz…, 述职): the deputy's turns of the year and the
ones missed (/account), staff opening a rating of an account (/accounts), and a voter's
secret ballot on it (the notice's "rate" button).

Turn buttons name the year of the account they belong to, so a turn of another year, of
another deputy or a forged id is refused by the service whatever the button says. A voter's
choice travels only in the buttons of their own confirmation: nothing is stored before the
vote counts, and then only that it was cast and a counter."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bot.runtime.buttons.base import CallbackData, Id, Page, notice_action
from bot.services.outbox import Intent, NoticeButton
from storage.models import SuggestionRating

Year = Annotated[int, Field(ge=2000, le=2100)]


# --- the deputy: /account ----------------------------------------------------------------------


class AccountTurns(CallbackData, prefix="szt"):
    """A page of the deputy's turns of `year`, past and coming."""

    year: Year
    page: Page


class AccountTurnOpen(CallbackData, prefix="szo"):
    """One turn's card; `page` is the list page to go back to."""

    turn: Id
    year: Year
    page: Page


class AccountAbsent(CallbackData, prefix="sza"):
    """Mark the turn "未能参加" (or correct the reason): the reason is asked."""

    turn: Id
    year: Year
    page: Page


class AccountUndo(CallbackData, prefix="szu"):
    """The turn was attended after all: the absence goes."""

    turn: Id
    year: Year
    page: Page


class AbsenceCancel(CallbackData, prefix="szx"):
    """Leave the reason unwritten; nothing is saved."""


# --- staff: /accounts ---------------------------------------------------------------------------


class RatingDeputyPage(CallbackData, prefix="szp"):
    page: Page


class RatingDeputy(CallbackData, prefix="szk"):
    """The deputy whose account is to be rated."""

    deputy: Id


class RatingYear(CallbackData, prefix="szy"):
    year: Year


class RatingGo(CallbackData, prefix="szg"):
    """Open the rating the preview showed."""


class RatingCancel(CallbackData, prefix="szn"):
    """Stop opening a rating."""


# --- a voter's ballot -------------------------------------------------------------------------


class RatingBallot(CallbackData, prefix="szb"):
    """The ballot of an account rating: the three choices."""

    rating: Id


@notice_action(Intent.RATE_ACCOUNT)
def _ballot_from_notice(notice: NoticeButton) -> RatingBallot:
    """The opening notice's "rate" button: `target` is the account rating."""
    return RatingBallot(rating=notice.target)


class RatingChoice(CallbackData, prefix="szv"):
    """A choice made, to be confirmed."""

    rating: Id
    choice: SuggestionRating


class RatingConfirm(CallbackData, prefix="szc"):
    """Cast the vote the confirmation showed; it cannot be changed after."""

    rating: Id
    choice: SuggestionRating
