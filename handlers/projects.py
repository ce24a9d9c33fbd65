"""/projects: the year's livelihood projects (民生实事) and each one's card, for everyone.
Staff enter candidates (title → description → department → budget → confirm), edit or
withdraw them until a ballot opens, and post progress (percent → note → photos → confirm);
deputies follow a chosen project's progress and send supervision opinions about it.
Rules: bot.services.projects; buttons: bot.runtime.buttons.projects.

Each conversation stores its typed draft with the next step before answering, so a restart
resumes where the person was."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import CallbackData, any_of
from bot.runtime.buttons.projects import (
    Flow,
    PhotosAction,
    ProgressPhotos,
    ProgressPost,
    ProgressStart,
    ProjectAdd,
    ProjectCancel,
    ProjectEditField,
    ProjectEditMenu,
    ProjectFollow,
    ProjectList,
    ProjectOpen,
    ProjectPhotos,
    ProjectSave,
    ProjectSkip,
    ProjectWithdraw,
    ProjectWithdrawConfirmed,
    SupervisionSend,
    SupervisionStart,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.opinions import TEXT_MAX as OPINION_MAX
from bot.services.opinions import TEXT_MIN as OPINION_MIN
from bot.services.projects import (
    CANDIDATE,
    DEPARTMENT_MAX,
    DESCRIPTION_MAX,
    FIELD_LABELS,
    MAX_PHOTOS,
    NOTE_MAX,
    OPTIONAL_FIELDS,
    PROGRESS,
    STATE_LABELS,
    SUPERVISION,
    TITLE_MAX,
    CandidateDraft,
    CandidateStep,
    ProgressDraft,
    ProgressStep,
    ProjectCard,
    ProjectField,
    SupervisionStep,
    parse_budget,
    parse_percent,
    progress_note,
    project_department,
    project_description,
)
from handlers.common import (
    Callback,
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    clip,
    guarded,
    message_of,
    respond,
    saying,
    show_error,
    tap_of,
)
from handlers.keyboards import button, paged, rows_of

END = DeclaredConversation.END
PER_PAGE = 8
TITLE_IN_LIST = 60  # characters of a title in the list's text
TITLE_ON_BUTTON = 30
NOTE_ON_CARD = 300  # characters of each update's note on the card: the card stays one message
TITLE_IN_CAPTION = 100
# Refusals after which a conversation cannot go on: it ends, and the person is told why.
ENDING = ("project.locked", "project.unknown", "project.not_chosen", "project.title_taken")


# --- rendering ---------------------------------------------------------------------------


def _budget(texts: Texts, project_budget: float | None) -> str:
    if project_budget is None:
        return "—"
    return texts("project.budget_value", amount=texts.number(project_budget))


def render_card(texts: Texts, card: ProjectCard) -> str:
    project = card.project
    text = texts(
        "project.card",
        title=escape(project.title),
        state=texts(STATE_LABELS[project.state]),
        department=escape(project.department) or "—",
        budget=_budget(texts, project.budget_wan),
        percent=project.percent_done,
    )
    if card.followers is not None:
        text += "\n" + texts("project.card_followers", count=texts.number(card.followers))
    if project.description:
        text += "\n\n" + escape(project.description)
    text += "\n\n" + texts("project.updates_title")
    if not card.updates:
        return text + "\n" + texts("project.no_updates")
    for update in card.updates:
        text += "\n" + texts(
            "project.update_item",
            date=texts.date(update.created_at),
            percent=update.percent_done,
            photos=len(update.photos),
            note=escape(clip(update.note, NOTE_ON_CARD)),
        )
    return text


def card_markup(texts: Texts, card: ProjectCard, page: int) -> InlineKeyboardMarkup:
    project = card.project
    rows: list[list[InlineKeyboardButton]] = []
    if card.may_follow:
        label = "project.unfollow" if card.following else "project.follow"
        on = not card.following
        rows.append([button(texts(label), ProjectFollow(project=project.id, page=page, on=on))])
    if card.may_supervise:
        rows.append([button(texts("project.supervise"), SupervisionStart(project=project.id))])
    if card.may_post:
        rows.append([button(texts("project.post_progress"), ProgressStart(project=project.id))])
    if card.may_edit:
        rows.append(
            [
                button(texts("project.edit"), ProjectEditMenu(project=project.id, page=page)),
                button(texts("project.withdraw"), ProjectWithdraw(project=project.id, page=page)),
            ]
        )
    rows.extend(
        [
            button(
                texts(
                    "project.photos_button",
                    date=texts.date(update.created_at),
                    count=len(update.photos),
                ),
                ProjectPhotos(update=update.id),
            )
        ]
        for update in card.updates
        if update.photos
    )
    rows.append([button(texts("project.back_to_list"), ProjectList(year=project.year, page=page))])
    return InlineKeyboardMarkup(rows)


async def show_card(
    update: Update,
    context: BotContext,
    project_id: int,
    page: int,
    head: str = "",
    *,
    edit: bool = True,
) -> None:
    texts = context.texts
    card = await context.services.projects.card(context.user, project_id)
    text = (head + "\n\n" if head else "") + render_card(texts, card)
    await respond(update, context, text, card_markup(texts, card, page), edit=edit)


async def show_list(
    update: Update, context: BotContext, year: int, page: int, head: str = ""
) -> None:
    """A page of the year's projects: each numbered with its state, percent done and
    department, a button to open it, ◀ ▶ to other years, and "add" for staff."""
    texts = context.texts
    result = await context.services.projects.year_page(context.user, year, page, PER_PAGE)
    lines = [texts("project.list_title", year=result.year)]
    buttons = []
    first = result.page.page * PER_PAGE + 1
    for number, project in enumerate(result.page.items, start=first):
        lines.append(
            texts(
                "project.list_item",
                number=number,
                title=escape(clip(project.title, TITLE_IN_LIST)),
                state=texts(STATE_LABELS[project.state]),
                percent=project.percent_done,
                department=escape(project.department) or "—",
            )
        )
        label = texts(
            "project.item_button", number=number, title=clip(project.title, TITLE_ON_BUTTON)
        )
        buttons.append(button(label, ProjectOpen(project=project.id, page=result.page.page)))
    if not result.page.items:
        lines.append(texts("project.list_empty"))
    years = []
    if result.earlier is not None:
        earlier = texts("project.earlier_year", year=result.earlier)
        years.append(button(earlier, ProjectList(year=result.earlier, page=0)))
    if result.later is not None:
        later = texts("project.later_year", year=result.later)
        years.append(button(later, ProjectList(year=result.later, page=0)))
    markup = paged(
        buttons,
        result.page.page,
        result.page.pages,
        lambda p: ProjectList(year=result.year, page=p),
        texts,
        extra=years,
    )
    keyboard = list(markup.inline_keyboard)
    if result.may_add:
        keyboard.append((button(texts("project.add"), ProjectAdd()),))
    body = (head + "\n\n" if head else "") + "\n\n".join(lines)
    await respond(update, context, body, InlineKeyboardMarkup(keyboard))


# --- the list, the card, photos, following -------------------------------------------------


@guarded(Action.VIEW_PROJECTS)
async def projects_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, context.services.projects.this_year(), 0)


@guarded(Action.VIEW_PROJECTS)
async def list_page(update: Update, context: BotContext) -> None:
    tapped = ProjectList.of(update)
    await answer_tap(update)
    await show_list(update, context, tapped.year, tapped.page)


@guarded(Action.VIEW_PROJECTS)
async def open_project(update: Update, context: BotContext) -> None:
    tapped = ProjectOpen.of(update)
    await context.services.projects.visible(context.user, tapped.project)
    await answer_tap(update)
    await show_card(update, context, tapped.project, tapped.page, edit=not tapped.fresh)


@guarded(Action.VIEW_PROJECTS)
async def send_photos(update: Update, context: BotContext) -> None:
    """A progress update's photos, one by one below the card; the first says whose."""
    tapped = ProjectPhotos.of(update)
    project, progress = await context.services.projects.photos(context.user, tapped.update)
    await answer_tap(update)
    texts = context.texts
    caption = texts(
        "project.photos_caption",
        title=escape(clip(project.title, TITLE_IN_CAPTION)),
        date=texts.date(progress.created_at),
    )
    for index, photo in enumerate(progress.photos):
        await context.bot.send_photo(
            chat_id_of(update), photo, caption=caption if index == 0 else None
        )


@guarded(Action.FOLLOW_PROJECT)
async def follow(update: Update, context: BotContext) -> None:
    tapped = ProjectFollow.of(update)
    await context.services.projects.follow(context.user, tapped.project, tapped.on)
    said = "project.followed" if tapped.on else "project.unfollowed"
    await tap_of(update).answer(context.texts(said))
    await show_card(update, context, tapped.project, tapped.page)


@guarded(Action.MANAGE_PROJECTS)
async def edit_menu(update: Update, context: BotContext) -> None:
    tapped = ProjectEditMenu.of(update)
    project = await context.services.projects.may_withdraw(context.user, tapped.project)
    await answer_tap(update)
    texts = context.texts
    fields = [
        button(texts(label), ProjectEditField(project=project.id, field=field))
        for field, label in FIELD_LABELS.items()
    ]
    back = button(texts("nav.back"), ProjectOpen(project=project.id, page=tapped.page))
    markup = InlineKeyboardMarkup([*rows_of(fields, 2), [back]])
    await respond(update, context, texts("project.edit_which", title=escape(project.title)), markup)


@guarded(Action.MANAGE_PROJECTS)
async def ask_withdraw(update: Update, context: BotContext) -> None:
    tapped = ProjectWithdraw.of(update)
    project = await context.services.projects.may_withdraw(context.user, tapped.project)
    await answer_tap(update)
    texts = context.texts
    confirmed = ProjectWithdrawConfirmed(project=project.id, page=tapped.page)
    markup = InlineKeyboardMarkup(
        [
            [
                button(texts("project.withdraw_yes"), confirmed),
                button(
                    texts("project.withdraw_no"), ProjectOpen(project=project.id, page=tapped.page)
                ),
            ]
        ]
    )
    text = texts("project.confirm_withdraw", title=escape(project.title))
    await respond(update, context, text, markup)


@guarded(Action.MANAGE_PROJECTS)
async def confirm_withdraw(update: Update, context: BotContext) -> None:
    tapped = ProjectWithdrawConfirmed.of(update)
    project = await context.services.projects.withdraw(context.user, tapped.project)
    await answer_tap(update)
    head = context.texts("project.withdrawn", title=escape(project.title))
    await show_list(update, context, project.year, tapped.page, head)


# --- what the three conversations share ----------------------------------------------------


def _cancel_row(context: BotContext, flow: Flow) -> list[InlineKeyboardButton]:
    return [button(context.texts("project.cancel"), ProjectCancel(flow=flow))]


def _current(context: BotContext, value: str | None) -> str:
    """The line showing a field's value while it is edited."""
    if value is None:
        return ""
    return "\n" + context.texts("project.current_value", value=escape(value) or "—")


async def _discard(context: BotContext, chat_id: int, flow: Flow) -> None:
    projects = context.services.projects
    if flow == Flow.CANDIDATE:
        await projects.discard_candidate(context.user, chat_id)
    elif flow == Flow.PROGRESS:
        await projects.discard_progress(context.user, chat_id)
    else:
        await projects.discard_supervision(context.user, chat_id)


async def _ending(update: Update, context: BotContext, error: DomainError, flow: Flow) -> int:
    """A refusal the conversation cannot get past: it ends, and the person is told why."""
    await _discard(context, chat_id_of(update), flow)
    await show_error(update, context, error)
    return END


# A command in the middle of a conversation: answered, the step stays.
in_progress = saying("project.in_progress")


def cancel(flow: Flow) -> Callback[int]:
    async def leave(update: Update, context: BotContext) -> int:
        await _discard(context, chat_id_of(update), flow)
        await answer_tap(update)
        await respond(update, context, context.texts("project.cancelled"))
        return END

    return leave


# An opening button tapped while the same conversation is under way.
busy = alerting("project.in_progress")


stale_button = alerting("error.stale_button")


def bad_input(key: str) -> Callback[None]:
    """Anything but what a step takes: said plainly, the step stays."""

    async def reply(update: Update, context: BotContext) -> None:
        await respond(update, context, context.texts(key), edit=False)

    return reply


# --- a candidate (staff) -------------------------------------------------------------------

CStep = CandidateStep


async def ask_candidate(
    update: Update, context: BotContext, draft: CandidateDraft, step: CStep
) -> None:
    texts = context.texts
    editing = draft.editing is not None
    rows = []
    if step == CStep.TITLE:
        text = texts("project.ask_title", maximum=TITLE_MAX)
        text += _current(context, draft.title if editing else None)
    elif step == CStep.DESCRIPTION:
        text = texts("project.ask_description", maximum=DESCRIPTION_MAX)
        text += _current(context, draft.description if editing else None)
    elif step == CStep.DEPARTMENT:
        text = texts("project.ask_department", maximum=DEPARTMENT_MAX)
        text += _current(context, draft.department if editing else None)
    elif step == CStep.BUDGET:
        text = texts("project.ask_budget")
        if editing:
            text += _current(context, _budget(texts, draft.budget_wan))
    else:
        text = texts(
            "project.candidate_preview",
            year=draft.year,
            title=escape(draft.title or ""),
            description=escape(draft.description) or "—",
            department=escape(draft.department or ""),
            budget=_budget(texts, draft.budget_wan),
        )
        rows.append([button(texts("project.save"), ProjectSave())])
    field = ProjectField(step.value) if step != CStep.CONFIRM else None
    if field in OPTIONAL_FIELDS:
        skip = "project.clear" if editing else "project.skip"
        rows.append([button(texts(skip), ProjectSkip(field=ProjectField(step.value)))])
    rows.append(_cancel_row(context, Flow.CANDIDATE))
    await respond(update, context, text, InlineKeyboardMarkup(rows))


async def _candidate_next(
    update: Update, context: BotContext, draft: CandidateDraft, step: CStep
) -> CStep | int:
    """Go on to `step`; when a candidate's field was being edited, save it instead."""
    projects = context.services.projects
    if draft.editing is not None:
        try:
            project = await projects.save_edit(context.user, chat_id_of(update), draft)
        except DomainError as error:
            if error.key in ENDING:
                return await _ending(update, context, error, Flow.CANDIDATE)
            raise
        await answer_tap(update)
        head = context.texts("project.updated")
        await show_card(update, context, project.id, 0, head)
        return END
    await projects.keep_candidate(context.user, chat_id_of(update), draft, step)
    await answer_tap(update)
    await ask_candidate(update, context, draft, step)
    return step


@guarded(Action.MANAGE_PROJECTS)
async def begin_candidate(update: Update, context: BotContext) -> CStep:
    draft = await context.services.projects.begin_candidate(context.user, chat_id_of(update))
    await answer_tap(update)
    await ask_candidate(update, context, draft, CStep.TITLE)
    return CStep.TITLE


@guarded(Action.MANAGE_PROJECTS)
async def edit_field(update: Update, context: BotContext) -> CStep:
    tapped = ProjectEditField.of(update)
    draft = await context.services.projects.begin_edit(
        context.user, chat_id_of(update), tapped.project, tapped.field
    )
    await answer_tap(update)
    await ask_candidate(update, context, draft, tapped.field.step)
    return tapped.field.step


async def _draft(context: BotContext) -> CandidateDraft:
    return await context.services.projects.candidate(context.user)


@guarded(Action.MANAGE_PROJECTS)
async def receive_title(update: Update, context: BotContext) -> CStep | int:
    draft = await _draft(context)
    projects = context.services.projects
    draft.title = await projects.candidate_title(context.user, draft, message_of(update).text)
    return await _candidate_next(update, context, draft, CStep.DESCRIPTION)


@guarded(Action.MANAGE_PROJECTS)
async def receive_description(update: Update, context: BotContext) -> CStep | int:
    value = project_description(message_of(update).text)
    draft = await _draft(context)
    draft.description = value
    return await _candidate_next(update, context, draft, CStep.DEPARTMENT)


@guarded(Action.MANAGE_PROJECTS)
async def receive_department(update: Update, context: BotContext) -> CStep | int:
    value = project_department(message_of(update).text)
    draft = await _draft(context)
    draft.department = value
    return await _candidate_next(update, context, draft, CStep.BUDGET)


@guarded(Action.MANAGE_PROJECTS)
async def receive_budget(update: Update, context: BotContext) -> CStep | int:
    value = parse_budget(message_of(update).text)
    draft = await _draft(context)
    draft.budget_wan = value
    return await _candidate_next(update, context, draft, CStep.CONFIRM)


@guarded(Action.MANAGE_PROJECTS)
async def skip_field(update: Update, context: BotContext) -> CStep | int:
    """Skip (or, editing, clear) the description or the budget."""
    field = ProjectSkip.of(update).field
    draft = await _draft(context)
    if field == ProjectField.DESCRIPTION:
        draft.description = ""
        return await _candidate_next(update, context, draft, CStep.DEPARTMENT)
    draft.budget_wan = None
    return await _candidate_next(update, context, draft, CStep.CONFIRM)


@guarded(Action.MANAGE_PROJECTS)
async def save_candidate(update: Update, context: BotContext) -> int:
    try:
        project = await context.services.projects.save_candidate(context.user, chat_id_of(update))
    except DomainError as error:
        if error.key in ENDING:
            return await _ending(update, context, error, Flow.CANDIDATE)
        raise
    await answer_tap(update)
    await show_card(update, context, project.id, 0, context.texts("project.saved"))
    return END


# --- progress (staff) ----------------------------------------------------------------------

PStep = ProgressStep


async def ask_progress(
    update: Update, context: BotContext, draft: ProgressDraft, step: PStep
) -> None:
    texts = context.texts
    rows = []
    edit = True
    if step == PStep.NOTE:
        text = texts("project.ask_note", maximum=NOTE_MAX)
    elif step == PStep.PHOTOS:
        count = len(draft.photos)
        key = "project.photo_received" if count else "project.ask_photos"
        text = texts(key, count=count, maximum=MAX_PHOTOS)
        done = "project.done" if count else "project.skip"
        rows.append([button(texts(done), ProgressPhotos(action=PhotosAction.DONE))])
        if count:
            clear = ProgressPhotos(action=PhotosAction.CLEAR)
            rows.append([button(texts("project.photos_clear"), clear)])
        edit = update.callback_query is not None
    else:
        project = await context.services.projects.visible(context.user, draft.project_id)
        followers = await context.services.projects.followers_of(project.id)
        text = texts(
            "project.progress_preview",
            title=escape(project.title),
            percent=draft.percent,
            note=escape(draft.note or ""),
            photos=len(draft.photos),
            count=texts.number(followers),
        )
        rows.append([button(texts("project.post"), ProgressPost())])
    rows.append(_cancel_row(context, Flow.PROGRESS))
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=edit)


async def _progress_next(
    update: Update, context: BotContext, draft: ProgressDraft, step: PStep
) -> PStep:
    await context.services.projects.keep_progress(context.user, chat_id_of(update), draft, step)
    await answer_tap(update)
    await ask_progress(update, context, draft, step)
    return step


@guarded(Action.MANAGE_PROJECTS)
async def begin_progress(update: Update, context: BotContext) -> PStep:
    tapped = ProgressStart.of(update)
    projects = context.services.projects
    project = await projects.begin_progress(context.user, chat_id_of(update), tapped.project)
    await answer_tap(update)
    texts = context.texts
    text = texts("project.ask_percent", title=escape(project.title), percent=project.percent_done)
    markup = InlineKeyboardMarkup([_cancel_row(context, Flow.PROGRESS)])
    await respond(update, context, text, markup, edit=False)
    return PStep.PERCENT


async def _progress(context: BotContext) -> ProgressDraft:
    return await context.services.projects.progress_draft(context.user)


@guarded(Action.MANAGE_PROJECTS)
async def receive_percent(update: Update, context: BotContext) -> PStep:
    value = parse_percent(message_of(update).text)
    draft = await _progress(context)
    draft.percent = value
    return await _progress_next(update, context, draft, PStep.NOTE)


@guarded(Action.MANAGE_PROJECTS)
async def receive_note(update: Update, context: BotContext) -> PStep:
    value = progress_note(message_of(update).text)
    draft = await _progress(context)
    draft.note = value
    return await _progress_next(update, context, draft, PStep.PHOTOS)


@guarded(Action.MANAGE_PROJECTS)
async def receive_photo(update: Update, context: BotContext) -> PStep:
    photo = message_of(update).photo[-1]  # the largest size; the handler takes photos only
    draft = await _progress(context)
    if len(draft.photos) >= MAX_PHOTOS:
        raise DomainError("project.too_many_photos", maximum=MAX_PHOTOS)
    draft.photos.append(photo.file_id)
    return await _progress_next(update, context, draft, PStep.PHOTOS)


@guarded(Action.MANAGE_PROJECTS)
async def photos_action(update: Update, context: BotContext) -> PStep:
    action = ProgressPhotos.of(update).action
    draft = await _progress(context)
    if action == PhotosAction.CLEAR:
        draft.photos = []
        return await _progress_next(update, context, draft, PStep.PHOTOS)
    return await _progress_next(update, context, draft, PStep.CONFIRM)


@guarded(Action.MANAGE_PROJECTS)
async def post_progress(update: Update, context: BotContext) -> int:
    try:
        project, told = await context.services.projects.post_progress(
            context.user, chat_id_of(update)
        )
    except DomainError as error:
        if error.key in ENDING:
            return await _ending(update, context, error, Flow.PROGRESS)
        raise
    await answer_tap(update)
    head = context.texts("project.progress_posted", count=context.texts.number(told))
    await show_card(update, context, project.id, 0, head)
    return END


# --- a supervision opinion (deputies) ------------------------------------------------------

SStep = SupervisionStep


@guarded(Action.SUPERVISE_PROJECT)
async def begin_supervision(update: Update, context: BotContext) -> SStep:
    tapped = SupervisionStart.of(update)
    projects = context.services.projects
    project = await projects.begin_supervision(context.user, chat_id_of(update), tapped.project)
    await answer_tap(update)
    text = context.texts(
        "project.ask_supervision",
        title=escape(project.title),
        minimum=OPINION_MIN,
        maximum=OPINION_MAX,
    )
    markup = InlineKeyboardMarkup([_cancel_row(context, Flow.SUPERVISION)])
    await respond(update, context, text, markup, edit=False)
    return SStep.TEXT


@guarded(Action.SUPERVISE_PROJECT)
async def receive_supervision(update: Update, context: BotContext) -> SStep:
    projects = context.services.projects
    project, text = await projects.supervision_text(
        context.user, chat_id_of(update), message_of(update).text
    )
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("project.send"), SupervisionSend())],
            _cancel_row(context, Flow.SUPERVISION),
        ]
    )
    preview = texts("project.supervision_preview", title=escape(project.title), text=escape(text))
    await respond(update, context, preview, markup, edit=False)
    return SStep.CONFIRM


@guarded(Action.SUPERVISE_PROJECT)
async def send_supervision(update: Update, context: BotContext) -> int:
    try:
        opinion = await context.services.projects.send_supervision(context.user, chat_id_of(update))
    except DomainError as error:
        if error.key in ENDING:
            return await _ending(update, context, error, Flow.SUPERVISION)
        raise
    await answer_tap(update)
    text = context.texts("project.supervision_sent", tracking_no=opinion.tracking_no)
    await respond(update, context, text)
    return END


# --- registration ----------------------------------------------------------------------------


def _conversation_fallbacks(
    flow: Flow, opening: tuple[type[CallbackData], ...], stale: tuple[type[CallbackData], ...]
) -> list[Handler]:
    """Leaving, a command in the middle, the conversation's opening buttons tapped again
    (busy), and the buttons of a step the person has left (stale; the step stays)."""
    return [
        CommandHandler("cancel", cancel(flow)),
        CallbackQueryHandler(cancel(flow), pattern=ProjectCancel.filter(flow=flow)),
        MessageHandler(filters.COMMAND, in_progress),
        CallbackQueryHandler(busy, pattern=any_of(*opening)),
        CallbackQueryHandler(stale_button, pattern=any_of(*stale)),
    ]


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    not_command = ~filters.COMMAND

    def others(key: str) -> Handler:
        return MessageHandler(not_command, bad_input(key))

    candidate = DeclaredConversation(
        CANDIDATE,
        entry_points=[
            CallbackQueryHandler(begin_candidate, pattern=ProjectAdd.filter()),
            CallbackQueryHandler(edit_field, pattern=ProjectEditField.filter()),
        ],
        states={
            CStep.TITLE: [MessageHandler(text, receive_title), others("project.bad_text")],
            CStep.DESCRIPTION: [
                MessageHandler(text, receive_description),
                CallbackQueryHandler(
                    skip_field, pattern=ProjectSkip.filter(field=ProjectField.DESCRIPTION)
                ),
                others("project.bad_text"),
            ],
            CStep.DEPARTMENT: [
                MessageHandler(text, receive_department),
                others("project.bad_text"),
            ],
            CStep.BUDGET: [
                MessageHandler(text, receive_budget),
                CallbackQueryHandler(
                    skip_field, pattern=ProjectSkip.filter(field=ProjectField.BUDGET)
                ),
                others("project.bad_budget"),
            ],
            CStep.CONFIRM: [
                CallbackQueryHandler(save_candidate, pattern=ProjectSave.filter()),
                others("project.use_buttons"),
            ],
        },
        fallbacks=_conversation_fallbacks(
            Flow.CANDIDATE, (ProjectAdd, ProjectEditField), (ProjectSkip, ProjectSave)
        ),
    )
    progress = DeclaredConversation(
        PROGRESS,
        entry_points=[CallbackQueryHandler(begin_progress, pattern=ProgressStart.filter())],
        states={
            PStep.PERCENT: [MessageHandler(text, receive_percent), others("project.percent_bad")],
            PStep.NOTE: [MessageHandler(text, receive_note), others("project.bad_text")],
            PStep.PHOTOS: [
                MessageHandler(filters.PHOTO, receive_photo),
                CallbackQueryHandler(photos_action, pattern=ProgressPhotos.filter()),
                others("project.bad_photo"),
            ],
            PStep.CONFIRM: [
                CallbackQueryHandler(post_progress, pattern=ProgressPost.filter()),
                others("project.use_buttons"),
            ],
        },
        fallbacks=_conversation_fallbacks(
            Flow.PROGRESS, (ProgressStart,), (ProgressPhotos, ProgressPost)
        ),
    )
    supervision = DeclaredConversation(
        SUPERVISION,
        entry_points=[CallbackQueryHandler(begin_supervision, pattern=SupervisionStart.filter())],
        states={
            SStep.TEXT: [MessageHandler(text, receive_supervision), others("project.bad_text")],
            SStep.CONFIRM: [
                CallbackQueryHandler(send_supervision, pattern=SupervisionSend.filter()),
                others("project.use_buttons"),
            ],
        },
        fallbacks=_conversation_fallbacks(
            Flow.SUPERVISION, (SupervisionStart,), (SupervisionSend,)
        ),
    )
    return [
        candidate,
        progress,
        supervision,
        CommandHandler("projects", projects_command),
        CallbackQueryHandler(list_page, pattern=ProjectList.filter()),
        CallbackQueryHandler(open_project, pattern=ProjectOpen.filter()),
        CallbackQueryHandler(send_photos, pattern=ProjectPhotos.filter()),
        CallbackQueryHandler(follow, pattern=ProjectFollow.filter()),
        CallbackQueryHandler(edit_menu, pattern=ProjectEditMenu.filter()),
        CallbackQueryHandler(ask_withdraw, pattern=ProjectWithdraw.filter()),
        CallbackQueryHandler(confirm_withdraw, pattern=ProjectWithdrawConfirmed.filter()),
    ]
