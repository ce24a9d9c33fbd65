"""Buttons of the lead deputy's rating of an answer (prefixes pj…, 评价): the view, the
rating chosen, and the confirmation, with or without asking for re-handling (重新办理)."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Id, notice_action
from bot.services.outbox import Intent, NoticeButton
from storage.models import SuggestionRating


class RateOpen(CallbackData, prefix="pjo"):
    """The answer to rate; `fresh`: shown as a new message (below a notice, which stays)."""

    suggestion: Id
    fresh: bool = False


@notice_action(Intent.RATE_SUGGESTION)
def _rate(notice: NoticeButton) -> CallbackData:
    """The "answered" notice's and the reminder's button: the answer to rate."""
    return RateOpen(suggestion=notice.target, fresh=True)


class RateChoose(CallbackData, prefix="pjc"):
    """满意 / 基本满意 / 不满意 chosen (or changed): then a comment may be typed."""

    suggestion: Id
    rating: SuggestionRating


class RateConfirm(CallbackData, prefix="pjy"):
    """The rating given; `rehandle`: 不满意, and the suggestion is to be handled again."""

    suggestion: Id
    rehandle: bool


class RateCancel(CallbackData, prefix="pjx"):
    """Leave the rating without giving it."""
