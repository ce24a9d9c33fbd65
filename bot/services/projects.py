"""Livelihood projects (民生实事): candidates, progress, followers, supervision.

The year's loop is 年初定项目，年中督落实，年底评实效. Staff enter the candidates (in chat, or
in bulk: bot.services.project_import); a selection ballot (bot.services.ballots) makes some
of them chosen; staff post progress updates on the chosen ones, which reach the deputies
following each; deputies send supervision opinions, which staff handle with every other
opinion. Three conversations are declared here; each step stores its typed draft with the
step, so a restart resumes where the person was."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from bot.access import Action, allowed, ensure
from bot.clock import Clock
from bot.errors import AccessDenied, DomainError, present
from bot.i18n import N_
from bot.services.conversations import Conversation, DraftStore
from bot.services.opinions import opinion_text, take_tracking_no
from bot.services.outbox import Intent, NoticeButton, Outbox
from bot.services.paging import Page, clamp_page
from bot.services.text import clean, typed
from bot.settings import Settings
from storage import Database, Tx
from storage.models import Opinion, Project, ProjectState, ProjectUpdate, User
from storage.repos.deputies import DeputyRepo
from storage.repos.opinions import OpinionRepo
from storage.repos.projects import ProjectRepo

TITLE_MAX = 100
DESCRIPTION_MAX = 1_000
DEPARTMENT_MAX = 60
NOTE_MAX = 1_000
BUDGET_MAX = Decimal(10_000_000)  # 万元: a thousand 亿 yuan, beyond any district's project
MAX_PHOTOS = 5
LATEST_UPDATES = 3  # the updates a project's card shows
# A supervision opinion is about a livelihood project, which may be of any kind: "other".
SUPERVISION_CATEGORY = "other"

# digits, or digits grouped by thousands ("1,200"), and at most four decimals (one yuan)
BUDGET = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d{1,12})(?:\.\d{1,4})?$")
BUDGET_UNITS = ("万元", "万")
PERCENT = re.compile(r"^\d{1,3}$")

STATE_LABELS = {
    ProjectState.CANDIDATE: N_("project.state_candidate"),
    ProjectState.CHOSEN: N_("project.state_chosen"),
    ProjectState.REJECTED: N_("project.state_rejected"),
    ProjectState.WITHDRAWN: N_("project.state_withdrawn"),
}


# --- what is typed -----------------------------------------------------------------------


def project_title(raw: str | None) -> str:
    return typed(
        raw, maximum=TITLE_MAX, empty="project.title_empty", too_long="project.title_too_long"
    )


def project_description(raw: str | None) -> str:
    return typed(
        raw,
        maximum=DESCRIPTION_MAX,
        empty="project.description_empty",
        too_long="project.description_too_long",
    )


def project_department(raw: str | None) -> str:
    return typed(
        raw,
        maximum=DEPARTMENT_MAX,
        empty="project.department_empty",
        too_long="project.department_too_long",
    )


def parse_budget(raw: str | None) -> float:
    """A budget in 万元: a number ≥ 0 such as "120", "85.5", "１２０万元" or "1,200"."""
    text = unicodedata.normalize("NFKC", clean(raw)).strip()
    for unit in BUDGET_UNITS:
        text = text.removesuffix(unit).rstrip()
    negative = text[:1] in ("-", "−")
    digits = text[1:] if text[:1] in ("-", "−", "+") else text
    if not BUDGET.match(digits):
        raise DomainError("project.budget_not_number")
    value = Decimal(digits.replace(",", ""))
    if negative and value:
        raise DomainError("project.budget_negative")
    if value > BUDGET_MAX:
        raise DomainError("project.budget_too_large", maximum=int(BUDGET_MAX))
    return float(value)


def parse_percent(raw: str | None) -> int:
    """Percent done: a whole number from 0 to 100 ("60", "60%", "６０％")."""
    text = unicodedata.normalize("NFKC", clean(raw)).replace(" ", "").removesuffix("%")
    if not PERCENT.match(text) or int(text) > 100:
        raise DomainError("project.percent_bad")
    return int(text)


def progress_note(raw: str | None) -> str:
    return typed(
        raw, maximum=NOTE_MAX, empty="project.note_empty", too_long="project.note_too_long"
    )


# --- the three conversations ---------------------------------------------------------------


class CandidateStep(StrEnum):
    """The steps of adding (or editing) a candidate (the values are stored)."""

    TITLE = "title"
    DESCRIPTION = "description"
    DEPARTMENT = "department"
    BUDGET = "budget"
    CONFIRM = "confirm"


class ProjectField(StrEnum):
    """The fields of a candidate that can be edited, each entered at its own step."""

    TITLE = "title"
    DESCRIPTION = "description"
    DEPARTMENT = "department"
    BUDGET = "budget"

    @property
    def step(self) -> CandidateStep:
        return CandidateStep(self.value)


FIELD_LABELS = {
    ProjectField.TITLE: N_("project.field_title"),
    ProjectField.DESCRIPTION: N_("project.field_description"),
    ProjectField.DEPARTMENT: N_("project.field_department"),
    ProjectField.BUDGET: N_("project.field_budget"),
}
OPTIONAL_FIELDS = (ProjectField.DESCRIPTION, ProjectField.BUDGET)  # skipped, or cleared


class CandidateDraft(BaseModel):
    """A candidate being entered; for an edit, the project and the field being changed."""

    year: int = 0
    title: str | None = None
    description: str = ""
    department: str | None = None
    budget_wan: float | None = None
    editing: int | None = None
    field: ProjectField | None = None


CANDIDATE = Conversation(
    "project_candidate",
    steps=CandidateStep,
    draft=CandidateDraft,
    needs=Action.MANAGE_PROJECTS,
)


class ProgressStep(StrEnum):
    PERCENT = "percent"
    NOTE = "note"
    PHOTOS = "photos"
    CONFIRM = "confirm"


class ProgressDraft(BaseModel):
    project_id: int
    percent: int | None = None
    note: str | None = None
    photos: list[str] = Field(default_factory=list)


PROGRESS = Conversation(
    "project_progress",
    steps=ProgressStep,
    draft=ProgressDraft,
    needs=Action.MANAGE_PROJECTS,
)


class SupervisionStep(StrEnum):
    TEXT = "text"
    CONFIRM = "confirm"


class SupervisionDraft(BaseModel):
    project_id: int
    text: str | None = None


SUPERVISION = Conversation(
    "project_supervision",
    steps=SupervisionStep,
    draft=SupervisionDraft,
    needs=Action.SUPERVISE_PROJECT,
)


# --- what is shown -------------------------------------------------------------------------


@dataclass(frozen=True)
class YearPage:
    """A page of one year's projects, and the years to switch to (None: none that way)."""

    year: int
    page: Page[Project]
    earlier: int | None
    later: int | None
    may_add: bool


@dataclass(frozen=True)
class NewCandidate:
    """A candidate read from an import file; `line` is where, for the report."""

    line: int
    title: str
    description: str
    department: str
    budget_wan: float | None


@dataclass(frozen=True)
class ProjectCard:
    """A project as the actor may see it, with what they may do about it."""

    project: Project
    updates: list[ProjectUpdate]
    followers: int | None  # staff only
    following: bool
    may_follow: bool
    may_supervise: bool
    may_post: bool
    may_edit: bool


class ProjectService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox
        self.repo = ProjectRepo(db)
        self.deputies = DeputyRepo(db)
        self.opinions = OpinionRepo(db)
        self.candidates = DraftStore(db, CANDIDATE)
        self.progress = DraftStore(db, PROGRESS)
        self.supervision = DraftStore(db, SUPERVISION)

    def this_year(self) -> int:
        return self.clock.now().astimezone(self.zone).year

    # --- who sees what ----------------------------------------------------------------------

    @staticmethod
    def _insider(actor: User) -> bool:
        """Staff, who enter the candidates, and deputies, who vote on them, see candidates;
        voters see the chosen projects."""
        return allowed(actor, Action.MANAGE_PROJECTS) or allowed(actor, Action.VOTE_BALLOT)

    def _listed_states(self, actor: User) -> tuple[ProjectState, ...]:
        if self._insider(actor):
            return (ProjectState.CHOSEN, ProjectState.CANDIDATE)
        return (ProjectState.CHOSEN,)

    async def visible(self, actor: User, project_id: int) -> Project:
        """The project, if the actor may see it; anything else is refused as unknown."""
        ensure(actor, Action.VIEW_PROJECTS)
        project = await self.repo.get(project_id)
        if project is None or project.state not in self._listed_states(actor):
            raise DomainError("project.unknown")
        return project

    async def year_page(self, actor: User, year: int, page: int, per_page: int) -> YearPage:
        """A page of the year's projects: the chosen first, then (for staff and deputies)
        the candidates; and the years before and after that have projects to show."""
        ensure(actor, Action.VIEW_PROJECTS)
        states = self._listed_states(actor)
        now = self.this_year()
        year = min(year, now)
        total = await self.repo.count_listed(year, states)
        page, pages = clamp_page(page, total, per_page)
        items = await self.repo.page_listed(year, states, page * per_page, per_page)
        years = await self.repo.years(states)
        earlier = max((y for y in years if y < year), default=None)
        later = min((y for y in [*years, now] if year < y <= now), default=None)
        may_add = year == now and allowed(actor, Action.MANAGE_PROJECTS)
        return YearPage(year, Page(items, page, pages), earlier, later, may_add)

    async def card(self, actor: User, project_id: int) -> ProjectCard:
        project = await self.visible(actor, project_id)
        chosen = project.state == ProjectState.CHOSEN
        staff = allowed(actor, Action.MANAGE_PROJECTS)
        may_follow = chosen and allowed(actor, Action.FOLLOW_PROJECT)
        return ProjectCard(
            project=project,
            updates=await self.repo.latest_updates(project.id, LATEST_UPDATES),
            followers=await self.repo.count_followers(project.id) if staff else None,
            following=may_follow and await self.repo.follows(project.id, actor.telegram_id),
            may_follow=may_follow,
            may_supervise=chosen and allowed(actor, Action.SUPERVISE_PROJECT),
            may_post=chosen and self.may_post(actor, project),
            may_edit=staff and await self._editable(project),
        )

    async def photos(self, actor: User, update_id: int) -> tuple[Project, ProjectUpdate]:
        """A progress update's photos, for whoever may see its project."""
        update = await self.repo.update(update_id)
        if update is None:
            raise DomainError("project.unknown")
        return await self.visible(actor, update.project_id), update

    # --- conversations: shared steps -------------------------------------------------------

    async def _put(
        self,
        store: DraftStore[Any, Any],
        actor: User,
        chat_id: int,
        draft: BaseModel | None,
        step: StrEnum | None,
    ) -> None:
        """A conversation's draft and its step, written together (step None: ended)."""
        store.spec.ensure(actor)
        await store.keep(chat_id, actor.telegram_id, draft, step, self.clock.now())

    # --- candidates ------------------------------------------------------------------------

    async def _editable(self, project: Project) -> bool:
        """A candidate is edited or withdrawn only until a ballot on it has opened."""
        return project.state == ProjectState.CANDIDATE and not await self.repo.on_ballot(project.id)

    async def _changeable(self, actor: User, project_id: int) -> Project:
        ensure(actor, Action.MANAGE_PROJECTS)
        project = await self.repo.get(project_id)
        if project is None or project.state == ProjectState.WITHDRAWN:
            raise DomainError("project.unknown")
        if not await self._editable(project):
            raise DomainError("project.locked", title=project.title)
        return project

    async def candidate(self, actor: User) -> CandidateDraft:
        ensure(actor, Action.MANAGE_PROJECTS)
        return await self.candidates.load(actor.telegram_id) or CandidateDraft()

    async def begin_candidate(self, actor: User, chat_id: int) -> CandidateDraft:
        """A new candidate of this year, from the list's "add" button."""
        ensure(actor, Action.MANAGE_PROJECTS)
        await self.candidates.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = CandidateDraft(year=self.this_year())
        await self._put(self.candidates, actor, chat_id, draft, CandidateStep.TITLE)
        return draft

    async def begin_edit(
        self, actor: User, chat_id: int, project_id: int, field: ProjectField
    ) -> CandidateDraft:
        """One field of a candidate typed again; saved as soon as it is."""
        project = await self._changeable(actor, project_id)
        await self.candidates.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = CandidateDraft(
            year=project.year,
            title=project.title,
            description=project.description,
            department=project.department,
            budget_wan=project.budget_wan,
            editing=project.id,
            field=field,
        )
        await self._put(self.candidates, actor, chat_id, draft, field.step)
        return draft

    async def keep_candidate(
        self, actor: User, chat_id: int, draft: CandidateDraft, step: CandidateStep
    ) -> None:
        await self._put(self.candidates, actor, chat_id, draft, step)

    async def discard_candidate(self, actor: User, chat_id: int) -> None:
        await self._put(self.candidates, actor, chat_id, None, None)

    async def candidate_title(self, actor: User, draft: CandidateDraft, raw: str | None) -> str:
        """The typed title, refused when another project of the year has it."""
        ensure(actor, Action.MANAGE_PROJECTS)
        title = project_title(raw)
        if await self.repo.title_taken(draft.year, title, draft.editing):
            raise DomainError("project.title_taken", title=title, year=draft.year)
        return title

    async def save_candidate(self, actor: User, chat_id: int) -> Project:
        """The new candidate from the draft; the draft and the step end with it."""
        ensure(actor, Action.MANAGE_PROJECTS)
        draft = await self.candidate(actor)
        if draft.editing is not None or draft.title is None or draft.department is None:
            raise DomainError("project.no_draft")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            project_id = await self.repo.add_candidate(
                tx,
                year=draft.year,
                title=draft.title,
                description=draft.description,
                department=draft.department,
                budget_wan=draft.budget_wan,
                created_by=actor.telegram_id,
                now=now,
            )
            if project_id is None:  # entered meanwhile, by someone else or an import
                raise DomainError("project.title_taken", title=draft.title, year=draft.year)
            await self.candidates.put(tx, chat_id, actor.telegram_id, None, None, now)
            project = await self.repo.get(project_id, tx)
        return present(project, "project")

    async def add_candidates(
        self, year: int, candidates: list[NewCandidate], errors: list[str]
    ) -> int:
        """Candidates of `year` in bulk (the import), in one transaction: all of them, or
        none when a title is taken already (each such line is added to `errors`)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            for candidate in candidates:
                if await self.repo.title_taken(year, candidate.title, tx=tx):
                    errors.append(
                        f"line {candidate.line}: a project titled {candidate.title!r}"
                        f" already exists in {year}"
                    )
            if errors:
                return 0
            for candidate in candidates:
                added = await self.repo.add_candidate(
                    tx,
                    year=year,
                    title=candidate.title,
                    description=candidate.description,
                    department=candidate.department,
                    budget_wan=candidate.budget_wan,
                    created_by=None,
                    now=now,
                )
                present(added, "imported project")
        return len(candidates)

    async def save_edit(self, actor: User, chat_id: int, draft: CandidateDraft) -> Project:
        """The edited field written, if the candidate may still change; the edit ends."""
        if draft.editing is None or draft.field is None:
            raise DomainError("project.no_draft")
        project = await self._changeable(actor, draft.editing)
        column, value = {
            ProjectField.TITLE: ("title", draft.title),
            ProjectField.DESCRIPTION: ("description", draft.description),
            ProjectField.DEPARTMENT: ("department", draft.department),
            ProjectField.BUDGET: ("budget_wan", draft.budget_wan),
        }[draft.field]
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if column == "title" and await self.repo.title_taken(
                project.year, str(value), project.id, tx
            ):
                raise DomainError("project.title_taken", title=str(value), year=project.year)
            if column == "title":  # a withdrawn candidate's title is free again
                await self.repo.drop_withdrawn(tx, project.year, str(value))
            await self.repo.edit(tx, project.id, column, value)
            await self.candidates.put(tx, chat_id, actor.telegram_id, None, None, now)
            edited = await self.repo.get(project.id, tx)
        return present(edited, "edited project")

    async def may_withdraw(self, actor: User, project_id: int) -> Project:
        return await self._changeable(actor, project_id)

    async def withdraw(self, actor: User, project_id: int) -> Project:
        """A candidate withdrawn before any ballot: listed no more (its title may be
        entered again)."""
        project = await self._changeable(actor, project_id)
        async with self.db.transaction() as tx:
            await self.repo.withdraw(tx, project.id)
        return project

    # --- progress --------------------------------------------------------------------------

    def may_post(self, actor: User, project: Project) -> bool:
        """Who may post progress on a project: staff for now. Department liaisons will post
        on their own department's projects; that rule belongs here, next to this one."""
        return allowed(actor, Action.MANAGE_PROJECTS)

    async def _postable(self, actor: User, project_id: int, tx: Tx | None = None) -> Project:
        project = await self.repo.get(project_id, tx)
        if project is None or project.state == ProjectState.WITHDRAWN:
            raise DomainError("project.unknown")
        if not self.may_post(actor, project):
            raise AccessDenied()
        if project.state != ProjectState.CHOSEN:
            raise DomainError("project.not_chosen", title=project.title)
        return project

    async def begin_progress(self, actor: User, chat_id: int, project_id: int) -> Project:
        ensure(actor, Action.MANAGE_PROJECTS)
        project = await self._postable(actor, project_id)
        await self.progress.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = ProgressDraft(project_id=project.id)
        await self._put(self.progress, actor, chat_id, draft, ProgressStep.PERCENT)
        return project

    async def progress_draft(self, actor: User) -> ProgressDraft:
        return await self.progress.required(actor, "project.no_draft")

    async def keep_progress(
        self, actor: User, chat_id: int, draft: ProgressDraft, step: ProgressStep
    ) -> None:
        await self._put(self.progress, actor, chat_id, draft, step)

    async def discard_progress(self, actor: User, chat_id: int) -> None:
        await self._put(self.progress, actor, chat_id, None, None)

    async def followers_of(self, project_id: int) -> int:
        return await self.repo.count_followers(project_id)

    async def post_progress(self, actor: User, chat_id: int) -> tuple[Project, int]:
        """Post the drafted update: in one transaction the update, the project's percent
        done, one notice to each deputy following it, and the end of the conversation.
        Returns the project as it is now and how many followers are told."""
        draft = await self.progress_draft(actor)
        if draft.percent is None or draft.note is None:
            raise DomainError("project.no_draft")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            project = await self._postable(actor, draft.project_id, tx)
            update_id = await self.repo.add_update(
                tx,
                project_id=project.id,
                author_id=actor.telegram_id,
                percent_done=draft.percent,
                note=draft.note,
                photos=draft.photos,
                now=now,
            )
            followers = await self.repo.followers(tx, project.id)
            buttons = [
                [
                    NoticeButton(
                        label="project.open_button", intent=Intent.OPEN_PROJECT, target=project.id
                    )
                ]
            ]
            if draft.photos:  # the photos themselves, one tap from the notice
                photos = NoticeButton(
                    label="project.notice_photos_button",
                    intent=Intent.PROGRESS_PHOTOS,
                    target=update_id,
                )
                buttons.append([photos])
            for follower in followers:
                await self.outbox.notify(
                    tx,
                    follower,
                    "project.notify_progress",
                    buttons=buttons,
                    title=project.title,
                    percent=draft.percent,
                    note=draft.note,
                    photos=len(draft.photos),
                    posted_at=now.isoformat(),
                )
            await self.progress.put(tx, chat_id, actor.telegram_id, None, None, now)
            posted = await self.repo.get(project.id, tx)
        return present(posted, "project"), len(followers)

    # --- followers -------------------------------------------------------------------------

    async def follow(self, actor: User, project_id: int, on: bool) -> Project:
        """A deputy follows (or stops following) a chosen project's progress."""
        ensure(actor, Action.FOLLOW_PROJECT)
        project = await self.visible(actor, project_id)
        if on and project.state != ProjectState.CHOSEN:
            raise DomainError("project.not_chosen", title=project.title)
        async with self.db.transaction() as tx:
            await self.repo.follow(tx, project.id, actor.telegram_id, on)
        return project

    # --- supervision -----------------------------------------------------------------------

    async def begin_supervision(self, actor: User, chat_id: int, project_id: int) -> Project:
        ensure(actor, Action.SUPERVISE_PROJECT)
        project = await self.visible(actor, project_id)
        if project.state != ProjectState.CHOSEN:
            raise DomainError("project.not_chosen", title=project.title)
        if await self.deputies.get(actor.telegram_id) is None:
            raise DomainError("project.not_a_deputy")
        await self.supervision.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = SupervisionDraft(project_id=project.id)
        await self._put(self.supervision, actor, chat_id, draft, SupervisionStep.TEXT)
        return project

    async def supervision_draft(self, actor: User) -> SupervisionDraft:
        return await self.supervision.required(actor, "project.no_draft")

    async def supervision_text(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[Project, str]:
        """The typed opinion, checked as every opinion is (10–2,000 characters, cleaned),
        kept for the preview; with the project it is about."""
        draft = await self.supervision_draft(actor)
        text = opinion_text(raw)
        project = await self.visible(actor, draft.project_id)
        draft.text = text
        await self._put(self.supervision, actor, chat_id, draft, SupervisionStep.CONFIRM)
        return project, text

    async def discard_supervision(self, actor: User, chat_id: int) -> None:
        await self._put(self.supervision, actor, chat_id, None, None)

    async def send_supervision(self, actor: User, chat_id: int) -> Opinion:
        """The deputy's supervision opinion becomes an opinion like a voter's, at the
        deputy's station, named, submitted, with a tracking number of the same sequence;
        it says which project it is about. Staff handle it in /opinions."""
        draft = await self.supervision_draft(actor)
        if draft.text is None:
            raise DomainError("project.no_draft")
        deputy = await self.deputies.get(actor.telegram_id)
        if deputy is None:
            raise DomainError("project.not_a_deputy")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            project = await self.repo.get(draft.project_id, tx)
            if project is None or project.state != ProjectState.CHOSEN:
                raise DomainError("project.unknown")
            opinion_id = await self.opinions.insert(
                tx,
                tracking_no=await self._tracking_no(tx),
                author_id=actor.telegram_id,
                station_id=deputy.station_id,
                category=SUPERVISION_CATEGORY,
                text=draft.text,
                photos=[],
                latitude=None,
                longitude=None,
                show_name=True,
                now=now,
            )
            await self.opinions.add_event(tx, opinion_id, now, actor.telegram_id, "submitted")
            await self.repo.mark_opinion(tx, opinion_id, project.id)
            await self.supervision.put(tx, chat_id, actor.telegram_id, None, None, now)
            opinion = await self.opinions.get_in(tx, opinion_id)
        return present(opinion, "opinion")

    async def _tracking_no(self, tx: Tx) -> str:
        """The next tracking number, from the one sequence every opinion takes from."""
        year = self.clock.now().astimezone(self.zone).year
        return await take_tracking_no(tx, self.opinions, self.settings.tracking_prefix, year)

    async def project_of_opinion(self, opinion_id: int) -> Project | None:
        """The project a supervision opinion is about (None: an ordinary opinion)."""
        project_id = await self.repo.opinion_project(opinion_id)
        return None if project_id is None else await self.repo.get(project_id)
