"""Buttons of reading and commenting on a draft (prefixes kr…). An article is named by its
position in the draft (0, 1 …); `at` is the article a view returns to."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Count, Id, Page, notice_action
from bot.services.outbox import Intent, NoticeButton


class ReadOpen(CallbackData, prefix="kro"):
    """Open a consultation to read: its title, deadline and table of contents."""

    consultation: Id


@notice_action(Intent.READ_CONSULTATION)
def _readopen_from_notice(notice: NoticeButton) -> ReadOpen:
    return ReadOpen(consultation=notice.target)


class ReadList(CallbackData, prefix="krl"):
    """A page of /consultations."""

    page: Page


class ReadContents(CallbackData, prefix="krc"):
    """The table of contents: `volume` 0 is the top level, k the chapters of the k-th 编."""

    consultation: Id
    volume: Count
    page: Page


class ReadArticle(CallbackData, prefix="kra"):
    """One page: the article at `position`, its part `part` (past the last: the last)."""

    consultation: Id
    position: Count
    part: Count


class CommentArticle(CallbackData, prefix="krn"):
    """Comment on the article at `position`."""

    consultation: Id
    position: Count


class CommentWhole(CallbackData, prefix="krw"):
    """Comment on the draft as a whole."""

    consultation: Id
    at: Count


class ReadQuestions(CallbackData, prefix="krq"):
    """The key questions (重点征求意见的问题)."""

    consultation: Id
    at: Count


class QuestionOpen(CallbackData, prefix="krqo"):
    question: Id
    at: Count


class QuestionChoose(CallbackData, prefix="krqc"):
    """Pick option `option` (0, 1 …) of a multiple-choice question."""

    question: Id
    option: Count
    at: Count


class QuestionAnswer(CallbackData, prefix="krqa"):
    """Answer a free-text question in words (a comment on that question)."""

    question: Id
    at: Count


class MyComments(CallbackData, prefix="krm"):
    """One's own comments on a consultation."""

    consultation: Id
    at: Count
    page: Page


class CommentEdit(CallbackData, prefix="kre"):
    comment: Id
    at: Count


class CommentWithdraw(CallbackData, prefix="krx"):
    """Ask whether to withdraw one's comment."""

    comment: Id
    at: Count
    page: Page


class CommentWithdrawConfirmed(CallbackData, prefix="krxy"):
    comment: Id
    at: Count
    page: Page


class CommentNamed(CallbackData, prefix="krs"):
    """A voter's choice: show their name with the comment, or not."""

    named: bool


class CommentCancel(CallbackData, prefix="krz"):
    """Leave the comment being written."""
