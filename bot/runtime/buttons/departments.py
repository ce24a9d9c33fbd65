"""Buttons of /departments (prefixes dp…): the list and a department's card, naming a new
or renamed department, deactivating and reactivating, removing a liaison; and the department
picked for a liaison's invitation (/invite liaison NAME)."""

from __future__ import annotations

from bot.runtime.buttons.base import CallbackData, Id, Page

# --- /departments ----------------------------------------------------------------------------


class DepartmentList(CallbackData, prefix="dpl"):
    page: Page


class DepartmentOpen(CallbackData, prefix="dpo"):
    """A department's card; `page` is the list page to go back to."""

    department: Id
    page: Page


class DepartmentAdd(CallbackData, prefix="dpa"):
    """Type the name of a new department."""


class DepartmentRename(CallbackData, prefix="dpr"):
    """Type a department's new name."""

    department: Id


class DepartmentActive(CallbackData, prefix="dps"):
    """Deactivate (on False) or reactivate (on True) a department; the card is shown again."""

    department: Id
    page: Page
    on: bool


class DepartmentCancel(CallbackData, prefix="dpx"):
    """Leave the name step without saving."""


class LiaisonRemove(CallbackData, prefix="dplr"):
    """Ask to confirm that `liaison` (their Telegram id) no longer serves the department."""

    department: Id
    liaison: Id
    page: Page


class LiaisonRemoveConfirm(CallbackData, prefix="dply"):
    """The liaison removed: their account becomes a voter's; the card is shown again."""

    department: Id
    liaison: Id
    page: Page


# --- the department of a liaison's invitation ------------------------------------------------


class LiaisonDepartments(CallbackData, prefix="dpip"):
    """A page of the active departments to invite a liaison to."""

    page: Page


class LiaisonDepartment(CallbackData, prefix="dpi"):
    """The department picked: the invitation's link is made."""

    department: Id
