"""Buttons of deputies' suggestions (prefixes sg…): /suggest step by step (sgd…), the
deputy's /suggestions list and card, co-signing and withdrawal, and the voter's view of the
suggestion an opinion fed (from /my)."""

from __future__ import annotations

from typing import Literal

from bot.runtime.buttons.base import CallbackData, Id, Page, Token, notice_action
from bot.runtime.buttons.opinion import CategoryCode
from bot.services.outbox import Intent, NoticeButton
from bot.services.suggestions import CosignChoice, EditField

Source = Literal["scratch", "opinions"]


# --- /suggest ------------------------------------------------------------------------------


class SuggestSource(CallbackData, prefix="sgda"):
    """Start from scratch, or from opinions in the inbox."""

    source: Source


class SuggestOpinionsPage(CallbackData, prefix="sgdl"):
    """A page of the deputy's own open opinions."""

    page: Page


class SuggestPick(CallbackData, prefix="sgdp"):
    """Take one of the deputy's own opinions (or put it back); `page` is shown again."""

    opinion: Id
    page: Page


class SuggestSimilarPage(CallbackData, prefix="sgdn"):
    page: Page


class SuggestAttach(CallbackData, prefix="sgdt"):
    """Attach a similar opinion (✓), or detach it."""

    opinion: Id
    page: Page


class SuggestMore(CallbackData, prefix="sgdm"):
    """Back to the deputy's own opinions to take another."""


class SuggestOpinionsDone(CallbackData, prefix="sgdc"):
    """The opinions are chosen: on to the title."""


class SuggestCategory(CallbackData, prefix="sgdk"):
    code: CategoryCode


class SuggestPublish(CallbackData, prefix="sgdu"):
    """The lead deputy agrees to publish it (建议公开) once answered, or not."""

    publish: bool


class SuggestEdit(CallbackData, prefix="sgde"):
    """From the preview: enter one field again."""

    field: EditField


class SuggestSubmit(CallbackData, prefix="sgds"):
    """Submit the draft as the preview `draft` showed it: a repeated tap finds what it
    became."""

    draft: Token


class SuggestCancel(CallbackData, prefix="sgdx"):
    """Drop the draft and leave /suggest."""


# Every button of /suggest but Submit (answered outside too): one tapped at another step is
# stale.
SUGGEST_BUTTONS: tuple[type[CallbackData], ...] = (
    SuggestSource,
    SuggestOpinionsPage,
    SuggestPick,
    SuggestSimilarPage,
    SuggestAttach,
    SuggestMore,
    SuggestOpinionsDone,
    SuggestCategory,
    SuggestPublish,
    SuggestEdit,
)


# --- /suggestions: the list and the card ------------------------------------------------------


class SuggestionList(CallbackData, prefix="sgl"):
    page: Page


class SuggestionOpen(CallbackData, prefix="sgo"):
    """A suggestion's card; `page` is the list page to go back to; `fresh`: shown as a new
    message (from a notice, which stays as it is)."""

    suggestion: Id
    page: Page
    fresh: bool = False


@notice_action(Intent.OPEN_SUGGESTION)
def _open_suggestion(notice: NoticeButton) -> CallbackData:
    """A notice's "open": the card as its reader may see it (deputy, co-signer, voter)."""
    return SuggestionOpen(suggestion=notice.target, page=0, fresh=True)


class SuggestionText(CallbackData, prefix="sgf"):
    """The full reason and proposals, as a message of their own (a card shows the start)."""

    suggestion: Id


# --- co-signers (联名) ---------------------------------------------------------------------------


class CosignAnswer(CallbackData, prefix="sgc"):
    """The invited deputy confirms or declines co-signing."""

    suggestion: Id
    choice: CosignChoice


@notice_action(Intent.COSIGN_SUGGESTION)
def _cosign(notice: NoticeButton) -> CallbackData:
    """An invitation's Confirm or Decline; one without a choice opens the card, which offers
    both."""
    if notice.choice in tuple(CosignChoice):
        return CosignAnswer(suggestion=notice.target, choice=CosignChoice(notice.choice))
    return SuggestionOpen(suggestion=notice.target, page=0, fresh=True)


class CosignPick(CallbackData, prefix="sgi"):
    """A page of deputies the lead may invite, their own station's first."""

    suggestion: Id
    page: Page


class CosignInvite(CallbackData, prefix="sgj"):
    """Invite this deputy; `page` of the list is shown again."""

    suggestion: Id
    deputy: Id
    page: Page


class CosignSearch(CallbackData, prefix="sgs"):
    """Look the deputy up by typing a name."""

    suggestion: Id


class CosignSearchCancel(CallbackData, prefix="sgsx"):
    """Stop looking a name up; back to the card."""

    suggestion: Id


# --- withdrawal --------------------------------------------------------------------------------


class SuggestionWithdraw(CallbackData, prefix="sgw"):
    """Ask whether to withdraw."""

    suggestion: Id
    page: Page


class SuggestionWithdrawConfirmed(CallbackData, prefix="sgwy"):
    suggestion: Id
    page: Page


# --- the voter's view, from /my -----------------------------------------------------------------


class MySuggestion(CallbackData, prefix="sgm"):
    """The suggestion the voter's opinion `opinion` fed; Back returns to that opinion of
    /my's page `page`."""

    opinion: Id
    page: Page
