"""Buttons of /consult (prefixes ks…): the list of consultations and closing one early, and
the steps of composing a new one. A closed one's report button is `ReportOpen`
(bot.runtime.buttons.consultation_report)."""

from __future__ import annotations

from enum import StrEnum

from bot.runtime.buttons.base import CallbackData, Id, Page, Token
from storage.models import ConsultationAudience

# --- the list ------------------------------------------------------------------------------


class ConsultList(CallbackData, prefix="ksl"):
    """A page of the consultations."""

    page: Page


class ConsultClose(CallbackData, prefix="ksc"):
    """Close an open consultation now: asks to confirm."""

    consultation: Id
    page: Page


class ConsultCloseConfirmed(CallbackData, prefix="ksy"):
    """Closing confirmed; the list is shown again at `page`."""

    consultation: Id
    page: Page


# --- composing -----------------------------------------------------------------------------


class ConsultNew(CallbackData, prefix="ksn"):
    """Compose a new consultation (from the menu; an older menu's too)."""


class PreviewAction(StrEnum):
    ACCEPT = "accept"  # the structure is right: on to the title
    FIX = "fix"  # the corrected text or file is sent again and replaces it


class ConsultPasteDone(CallbackData, prefix="ksd"):
    """Every part of the draft is pasted: show its preview."""


class ConsultPreview(CallbackData, prefix="ksp"):
    """Accept the preview, or fix the draft."""

    action: PreviewAction


class SkipStep(StrEnum):
    SUMMARY = "summary"
    SOURCE = "source"


class ConsultSkip(CallbackData, prefix="kss"):
    """No summary, or no source."""

    step: SkipStep


class ConsultFreeText(CallbackData, prefix="ksf"):
    """The key question just typed is answered in free text (no options)."""


class ConsultQuestionsDone(CallbackData, prefix="ksq"):
    """No more key questions: on to the audience."""


class ConsultAudience(CallbackData, prefix="ksa"):
    """Who is prompted; a street or station is then picked for some."""

    audience: ConsultationAudience


class ConsultChangeAudience(CallbackData, prefix="ksb"):
    """Back to choosing the audience."""


class ConsultOpen(CallbackData, prefix="kso"):
    """Open the consultation as this confirm screen showed it. Tapped again once it is open,
    it says which consultation it became; an older screen's is refused."""

    token: Token


class ConsultCancel(CallbackData, prefix="ksx"):
    """Drop the consultation being composed."""
