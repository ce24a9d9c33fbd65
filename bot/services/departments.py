"""Handling departments (承办单位): the table staff keep (imported from CSV, or added, renamed,
deactivated and reactivated in chat) and the liaisons of each. A department is never deleted
once used; one with suggestions still assigned to it cannot be deactivated."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

from bot.access import Action, allowed, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.services.conversations import Conversation, DraftStore
from bot.services.csvfile import check_width, read_table
from bot.services.outbox import Outbox
from bot.services.paging import Page, clamp_page
from bot.services.text import clean, typed
from bot.settings import Settings
from storage import Database, Tx
from storage.models import Department, DepartmentLiaison, Role, User
from storage.repos.departments import DepartmentRepo
from storage.repos.users import UserRepo

NAME_MAX = 60
# The header of an import file's one column, as the district's own lists name it.
HEADERS = ("name", "名称", "单位名称", "承办单位")
LINE = re.compile(r"^line (\d+):")


def department_name(raw: str | None) -> str:
    """A department's name as typed: cleaned, single spaces, not too long."""
    return typed(
        " ".join(clean(raw).split()),
        maximum=NAME_MAX,
        empty="department.name_empty",
        too_long="department.name_too_long",
    )


def name_key(name: str) -> str:
    """What makes two names the same department: width, case and spaces aside."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


# --- the one conversation: a name typed, for a new department or a renamed one ------------


class NameStep(StrEnum):
    NAME = "name"


class NameDraft(BaseModel):
    """None: a new department; else the one being renamed."""

    department_id: int | None = None


NAMING = Conversation(
    "department_name",
    steps=NameStep,
    draft=NameDraft,
    needs=Action.MANAGE_DEPARTMENTS,
)


# --- what is shown ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentLine:
    """A department in the list, with its liaisons and active assignments counted."""

    department: Department
    liaisons: int
    assignments: int


@dataclass(frozen=True)
class DepartmentCard:
    department: Department
    liaisons: list[DepartmentLiaison]
    assignments: int


@dataclass
class DepartmentImport:
    created: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


class DepartmentService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.repo = DepartmentRepo(db)
        self.users = UserRepo(db)
        self.naming = DraftStore(db, NAMING)

    # --- reading ---------------------------------------------------------------------------

    async def page(self, actor: User, page: int, per_page: int) -> Page[DepartmentLine]:
        """Every department, the active first, each with its liaisons and load."""
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        total = await self.repo.count(active_only=False)
        page, pages = clamp_page(page, total, per_page)
        departments = await self.repo.page(page * per_page, per_page, active_only=False)
        loads = await self.repo.loads([d.id for d in departments])
        lines = [DepartmentLine(d, *loads.get(d.id, (0, 0))) for d in departments]
        return Page(lines, page, pages)

    async def choices(
        self, actor: User, page: int, per_page: int, excluding: list[int] | None = None
    ) -> Page[Department]:
        """A page of the active departments to pick from (交办, a liaison's invitation)."""
        if not (
            allowed(actor, Action.MANAGE_DEPARTMENTS) or allowed(actor, Action.ASSIGN_SUGGESTION)
        ):
            raise AccessDenied()
        left_out = excluding or []
        total = await self.repo.count(active_only=True, excluding=left_out)
        page, pages = clamp_page(page, total, per_page)
        items = await self.repo.page(
            page * per_page, per_page, active_only=True, excluding=left_out
        )
        return Page(items, page, pages)

    async def card(self, actor: User, department_id: int) -> DepartmentCard:
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        department = await self.get(department_id)
        liaisons = await self.repo.liaisons(department.id)
        _, assignments = (await self.repo.loads([department.id]))[department.id]
        return DepartmentCard(department, liaisons, assignments)

    async def get(self, department_id: int, tx: Tx | None = None) -> Department:
        """The department; a forged or stale id refuses."""
        department = await self.repo.get(department_id, tx)
        if department is None:
            raise DomainError("department.unknown")
        return department

    async def active(self, department_id: int, tx: Tx | None = None) -> Department:
        """The department, which must be active to be given new work or liaisons."""
        department = await self.get(department_id, tx)
        if not department.active:
            raise DomainError("department.inactive", name=department.name)
        return department

    async def names(self, department_ids: list[int], tx: Tx | None = None) -> dict[int, str]:
        found = await self.repo.get_many(department_ids, tx)
        return {i: d.name for i, d in found.items()}

    async def without_liaison(self, department_ids: list[int], tx: Tx | None = None) -> list[int]:
        """Those with no liaison in the bot: staff record their answers."""
        return await self.repo.without_liaison(department_ids, tx)

    # --- a department's liaisons -----------------------------------------------------------

    async def liaison(self, actor: User, department_id: int, user_id: int) -> DepartmentLiaison:
        """One of the department's liaisons (to confirm their removal); a stale one refuses."""
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        department = await self.get(department_id)
        for liaison in await self.repo.liaisons(department.id):
            if liaison.user_id == user_id:
                return liaison
        raise DomainError("department.no_such_liaison", name=department.name)

    async def remove_liaison(
        self, actor: User, department_id: int, user_id: int
    ) -> DepartmentLiaison:
        """The person is no longer the department's liaison: their account becomes a voter's
        (a conversation of theirs that needs the role ends at their next step, as when staff
        lose theirs), and they are told."""
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        async with self.db.transaction() as tx:
            department = await self.get(department_id, tx)
            liaison = await self.repo.liaison_of(user_id, tx)
            if liaison is None or liaison.department_id != department.id:
                raise DomainError("department.no_such_liaison", name=department.name)
            await self.repo.unbind_liaison(tx, user_id, department.id)
            if await self.users.role_in(tx, user_id) == Role.LIAISON:
                await self.users.set_role(tx, user_id, Role.VOTER)
                await self.outbox.refresh_menu(tx, user_id)
            await self.outbox.notify(
                tx, user_id, "department.notice_liaison_removed", department=department.name
            )
        return liaison

    # --- a name typed in chat --------------------------------------------------------------

    async def begin_naming(
        self, actor: User, chat_id: int, department_id: int | None
    ) -> Department | None:
        """Ask for the name of a new department (None) or of one to rename (returned)."""
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        department = None if department_id is None else await self.get(department_id)
        await self.naming.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = NameDraft(department_id=department_id)
        await self.naming.keep(chat_id, actor.telegram_id, draft, NameStep.NAME, self.clock.now())
        return department

    async def naming_draft(self, actor: User) -> NameDraft:
        return await self.naming.required(actor, "department.no_draft")

    async def discard_naming(self, actor: User, chat_id: int) -> None:
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        await self.naming.keep(chat_id, actor.telegram_id, None, None, self.clock.now())

    async def save_name(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[Department, bool]:
        """The typed name becomes a new department or the new name of the one renamed;
        refused (the step stays) when another department has it. Returns the department and
        whether it is new."""
        draft = await self.naming_draft(actor)
        name = department_name(raw)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self._unique(tx, name, draft.department_id)
            if draft.department_id is None:
                department_id = await self.repo.insert(tx, name, now)
            else:
                department_id = (await self.get(draft.department_id, tx)).id
                await self.repo.rename(tx, department_id, name)
            await self.naming.put(tx, chat_id, actor.telegram_id, None, None, now)
            saved = await self.repo.get(department_id, tx)
        return present(saved, "department"), draft.department_id is None

    async def _unique(self, tx: Tx, name: str, keeping: int | None) -> None:
        key = name_key(name)
        for other in await self.repo.names(tx):
            if other.id != keeping and name_key(other.name) == key:
                raise DomainError("department.name_taken", name=other.name)

    # --- active or not ---------------------------------------------------------------------

    async def set_active(self, actor: User, department_id: int, active: bool) -> Department:
        """Deactivate (no new work, no new liaisons) or reactivate; a department that still
        handles suggestions cannot be deactivated."""
        ensure(actor, Action.MANAGE_DEPARTMENTS)
        async with self.db.transaction() as tx:
            department = await self.get(department_id, tx)
            if not active and department.active:
                busy = await self.repo.active_assignments(tx, department.id)
                if busy:
                    raise DomainError("department.busy", name=department.name, count=busy)
            await self.repo.set_active(tx, department.id, active)
            changed = await self.repo.get(department.id, tx)
        return present(changed, "department")

    # --- import ----------------------------------------------------------------------------

    async def import_csv(self, path: Path) -> DepartmentImport:
        """Departments from a CSV of one column (名称 or name): every bad line reported and
        then nothing written; names already in the table are left as they are."""
        report = DepartmentImport()
        rows, errors = read_departments(path)
        names, problems = check_names(rows)
        report.errors = sorted(errors + problems, key=_line_of)
        if report.errors:
            return report
        now = self.clock.now()
        async with self.db.transaction() as tx:
            known = {name_key(d.name) for d in await self.repo.names(tx)}
            for name in names:
                if name_key(name) in known:
                    report.unchanged += 1
                    continue
                await self.repo.insert(tx, name, now)
                known.add(name_key(name))
                report.created += 1
        return report


def read_departments(path: Path) -> tuple[list[tuple[int, str]], list[str]]:
    """The file's names by line, read by the shared CSV reader once the header is known."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError):
        first = None  # the shared reader says what is wrong with the file
    wrong_header = [f"line 1: the header must be one column: {' or '.join(HEADERS)}"]
    if first is None:  # unreadable, not UTF-8, or empty: as the shared reader says
        _, errors = read_table(path, HEADERS[:1])
        return [], errors or wrong_header
    header = tuple(c.strip().lower() for c in first)
    if len(header) != 1 or header[0] not in HEADERS:
        return [], wrong_header
    lines, errors = read_table(path, header)
    rows: list[tuple[int, str]] = []
    for line, cells in lines:
        try:
            check_width(line, cells, header)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        rows.append((line, cells[0]))
    return rows, errors


def check_names(rows: list[tuple[int, str]]) -> tuple[list[str], list[str]]:
    """Each name cleaned and checked: not blank, not too long, not repeated in the file."""
    names: list[str] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in rows:
        name = " ".join(clean(raw).split())
        if not name:
            errors.append(f"line {line}: the name (名称) is blank")
        elif len(name) > NAME_MAX:
            errors.append(f"line {line}: the name is longer than {NAME_MAX} characters")
        elif name_key(name) in seen:
            errors.append(f"line {line}: the name {name!r} repeats line {seen[name_key(name)]}")
        else:
            seen[name_key(name)] = line
            names.append(name)
    return names, errors


def _line_of(error: str) -> int:
    found = LINE.match(error)
    return int(found.group(1)) if found else 0
