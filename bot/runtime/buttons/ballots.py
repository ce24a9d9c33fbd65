"""Buttons of the secret ballots (prefixes jb…): a deputy's sheet, its confirmation and the
notices' "vote" / "results" button (/ballot); staff's board, closing and opening (/ballots).

A vote's buttons name their ballot, so a button of another ballot, a stale or a forged one
is refused for what it is; the service checks the project and the choice against the
ballot as well, whatever the button says."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bot.runtime.buttons.base import CallbackData, Id, Page, notice_action
from bot.services.ballot_rules import Choice
from bot.services.outbox import Intent, NoticeButton
from storage.models import BallotMode

Year = Annotated[int, Field(ge=2000, le=2100)]


# --- deputies: /ballot -----------------------------------------------------------------------


class BallotOpen(CallbackData, prefix="jbo"):
    """Open a ballot: to vote while it is open, its results once it is closed."""

    ballot: Id


@notice_action(Intent.OPEN_BALLOT)
def _ballot_from_notice(notice: NoticeButton) -> BallotOpen:
    """The opening notice's "vote" and the closing notice's "results": both open it."""
    return BallotOpen(ballot=notice.target)


class BallotMark(CallbackData, prefix="jbm"):
    """Mark a project (in k_of_n, choose or unchoose it); `page` is the sheet's page."""

    ballot: Id
    project: Id
    choice: Choice
    page: Page


class BallotPage(CallbackData, prefix="jbp"):
    ballot: Id
    page: Page


class BallotRestAbstain(CallbackData, prefix="jba"):
    """'each': mark every project still unmarked abstain."""

    ballot: Id
    page: Page


class BallotSubmit(CallbackData, prefix="jbs"):
    """Show the confirmation: every mark once more."""

    ballot: Id


class BallotBack(CallbackData, prefix="jbb"):
    """From the confirmation back to the sheet."""

    ballot: Id


class BallotConfirm(CallbackData, prefix="jbc"):
    """Cast the vote as the confirmation showed it."""

    ballot: Id


class BallotQuit(CallbackData, prefix="jbq"):
    """Leave without voting; the marks are dropped."""


# --- staff: /ballots -------------------------------------------------------------------------


class BallotBoard(CallbackData, prefix="jbl"):
    """Show the board again: every open ballot's turnout, fresh."""


class BallotClose(CallbackData, prefix="jbe"):
    """Ask to close an open ballot by hand."""

    ballot: Id


class BallotCloseConfirmed(CallbackData, prefix="jbf"):
    ballot: Id


class BallotResults(CallbackData, prefix="jbr"):
    """A closed ballot's results: the table, the .xlsx and the chart."""

    ballot: Id


class BallotNew(CallbackData, prefix="jbn"):
    """Start opening a ballot."""


class BallotKind(CallbackData, prefix="jbk"):
    mode: BallotMode


class BallotYear(CallbackData, prefix="jby"):
    year: Year


class BallotNoClosing(CallbackData, prefix="jbz"):
    """No closing time: staff close it by hand."""


class BallotGo(CallbackData, prefix="jbg"):
    """Open the ballot the preview showed."""


class BallotNewCancel(CallbackData, prefix="jbx"):
    """Stop opening a ballot."""
