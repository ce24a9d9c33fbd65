"""Buttons of /opinion (writing and sending an opinion) and of /my (the voter's own list)."""

from __future__ import annotations

from typing import Literal, get_args

from bot.runtime.buttons.base import CallbackData, Id, Page, Token
from bot.services.opinions import CATEGORY_LABELS

# The category codes stored in the database (bot.services.opinions.CATEGORIES).
CategoryCode = Literal[
    "urban",
    "traffic",
    "elderly",
    "education",
    "environment",
    "housing",
    "jobs",
    "safety",
    "culture",
    "other",
]
if set(get_args(CategoryCode)) != set(CATEGORY_LABELS):  # one list, checked at import
    raise TypeError("CategoryCode must name exactly the categories of bot.services.opinions")

# What the voter may change from the preview ("address" only when a deputy may be addressed).
EditField = Literal["category", "text", "photos", "location", "name", "address"]


# --- /opinion ----------------------------------------------------------------------------


class OpinionCategory(CallbackData, prefix="opc"):
    """The category chosen (first step, or editing it from the preview)."""

    code: CategoryCode


class OpinionPhotosDone(CallbackData, prefix="opp"):
    """No (more) photos: go on to the location."""


class OpinionSkipLocation(CallbackData, prefix="opl"):
    """No location."""


class OpinionName(CallbackData, prefix="opn"):
    """Show the voter's name to the deputies (True) or stay anonymous."""

    show: bool


class OpinionAddress(CallbackData, prefix="opa"):
    """Address the deputy whose code the voter opened (True), or the whole station. The
    deputy is not in the button: the tap is read against the deputy offered now."""

    deputy: bool


class OpinionSend(CallbackData, prefix="os"):
    """Send the draft `draft` (its token): a repeated tap finds the opinion it became."""

    draft: Token


class OpinionEditMenu(CallbackData, prefix="ope"):
    """From the preview: which field to change."""


class OpinionEditField(CallbackData, prefix="opef"):
    """Change one field, then come back to the preview."""

    field: EditField


class OpinionBackToPreview(CallbackData, prefix="opv"):
    """Leave the edit menu unchanged."""


class OpinionCancel(CallbackData, prefix="opx"):
    """Drop the draft and leave /opinion."""


# Every button of the /opinion conversation: one tapped at the wrong step is stale.
OPINION_BUTTONS: tuple[type[CallbackData], ...] = (
    OpinionCategory,
    OpinionPhotosDone,
    OpinionSkipLocation,
    OpinionName,
    OpinionAddress,
    OpinionSend,
    OpinionEditMenu,
    OpinionEditField,
    OpinionBackToPreview,
    OpinionCancel,
)


# --- /my ---------------------------------------------------------------------------------


class MyPage(CallbackData, prefix="myp"):
    """A page of the voter's own opinions, newest first."""

    page: Page


class MyOpinion(CallbackData, prefix="myo"):
    """One of the voter's opinions; `page` is the list page to go back to."""

    opinion: Id
    page: Page
