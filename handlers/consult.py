"""/consult for staff: the consultations (open ones with their deadline and comment count,
closed ones with their report), closing one early, and composing a new one: the draft (a
.docx or .txt document, or pasted in one or more messages) → its preview (accept, fix,
cancel) → title → summary → source → key questions → audience (a street or station picked
for some, the exact count shown) → deadline → confirm → open. Every step stores the typed
draft and the next step (bot.services.consultations.CONSULT) before answering, so a restart
resumes where staff were. Buttons: bot.runtime.buttons.consult."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import Picker, any_of
from bot.runtime.buttons.consult import (
    ConsultAudience,
    ConsultCancel,
    ConsultChangeAudience,
    ConsultClose,
    ConsultCloseConfirmed,
    ConsultFreeText,
    ConsultList,
    ConsultNew,
    ConsultOpen,
    ConsultPasteDone,
    ConsultPreview,
    ConsultQuestionsDone,
    ConsultSkip,
    PreviewAction,
    SkipStep,
)
from bot.runtime.buttons.consultation_report import ReportOpen
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.consultations import (
    CHOICE_MAX,
    CHOICES_MAX,
    CHOICES_MIN,
    CONSULT,
    NATIONAL_MIN_DAYS,
    QUESTIONS_MAX,
    SOURCE_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    ConsultDraft,
    ConsultStep,
    Listed,
    QuestionPlan,
    Reach,
)
from bot.services.draft_files import megabytes
from bot.services.draft_split import DraftStructure, preview
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
)
from handlers.keyboards import button, paged
from handlers.station_picker import TYPE_A_NAME, Picked, StationPicker
from storage.models import ConsultationAudience, ConsultationState, User

Step = ConsultStep
END = DeclaredConversation.END
PER_PAGE = 5
# characters shown on the summaries (the questions' list, the confirm screen), so that the
# longest of everything still fits one message
QUESTION_SHOWN = 120
CHOICES_SHOWN = 80
SUMMARY_SHOWN = 300
AUDIENCE_LABELS = {
    ConsultationAudience.DEPUTIES: "consult.audience_deputies",
    ConsultationAudience.DEPUTIES_OF_STREET: "consult.audience_deputies_street",
    ConsultationAudience.VOTERS_OF_STATION: "consult.audience_voters_station",
    ConsultationAudience.VOTERS_OF_STREET: "consult.audience_voters_street",
    ConsultationAudience.EVERYONE: "consult.audience_everyone",
}
ACTION = Action.OPEN_CONSULTATION


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [button(context.texts("consult.cancel"), ConsultCancel())]


def _cancel_only(context: BotContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([_cancel_row(context)])


def _ids(update: Update, context: BotContext) -> tuple[User, int]:
    """The staff member and the chat, as every step of the service takes them."""
    return context.user, chat_id_of(update)


# --- how the draft reads ----------------------------------------------------------------


def preview_text(texts: Texts, structure: DraftStructure) -> str:
    """The structure found (bot.services.draft_split.preview), then what staff may do."""
    return preview(structure, texts) + "\n\n" + texts("consult.preview_check")


# --- the steps' prompts ------------------------------------------------------------------


async def ask_draft(update: Update, context: BotContext, key: str = "consult.ask_draft") -> None:
    maximum = megabytes(context.services.settings.draft_max_bytes)
    await respond(update, context, context.texts(key, maximum=maximum), _cancel_only(context))


async def show_preview(update: Update, context: BotContext, structure: DraftStructure) -> Step:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(texts("consult.accept"), ConsultPreview(action=PreviewAction.ACCEPT)),
                button(texts("consult.fix"), ConsultPreview(action=PreviewAction.FIX)),
            ],
            _cancel_row(context),
        ]
    )
    await respond(update, context, preview_text(texts, structure), markup)
    return Step.PREVIEW


async def ask_text(update: Update, context: BotContext, step: Step) -> None:
    texts = context.texts
    rows: list[list[InlineKeyboardButton]] = []
    if step == Step.TITLE:
        text = texts("consult.ask_title", maximum=TITLE_MAX)
    elif step == Step.SUMMARY:
        text = texts("consult.ask_summary", maximum=SUMMARY_MAX)
        rows.append([button(texts("consult.skip"), ConsultSkip(step=SkipStep.SUMMARY))])
    else:
        text = texts("consult.ask_source", maximum=SOURCE_MAX)
        rows.append([button(texts("consult.skip"), ConsultSkip(step=SkipStep.SOURCE))])
    rows.append(_cancel_row(context))
    await respond(update, context, text, InlineKeyboardMarkup(rows))


def question_line(texts: Texts, number: int, question: QuestionPlan) -> str:
    """One key question on the summaries, clipped: ten of them fit one message."""
    if question.choices:
        joined = texts("draft.separator").join(question.choices)
        answers = escape(clip(joined, CHOICES_SHOWN))
    else:
        answers = texts("consult.free_text_answer")
    return texts(
        "consult.question_line",
        number=number,
        text=escape(clip(question.text, QUESTION_SHOWN)),
        answers=answers,
    )


async def ask_questions(update: Update, context: BotContext, draft: ConsultDraft) -> None:
    texts = context.texts
    lines = [texts("consult.ask_questions", maximum=QUESTIONS_MAX)]
    lines += [question_line(texts, n, q) for n, q in enumerate(draft.questions, start=1)]
    done = "consult.questions_done" if draft.questions else "consult.no_questions"
    markup = InlineKeyboardMarkup(
        [[button(texts(done), ConsultQuestionsDone())], _cancel_row(context)]
    )
    await respond(update, context, "\n".join(lines), markup)


async def ask_question_kind(update: Update, context: BotContext) -> None:
    texts = context.texts
    text = texts(
        "consult.ask_question_kind", minimum=CHOICES_MIN, maximum=CHOICES_MAX, length=CHOICE_MAX
    )
    markup = InlineKeyboardMarkup(
        [[button(texts("consult.free_text"), ConsultFreeText())], _cancel_row(context)]
    )
    await respond(update, context, text, markup)


async def ask_audience(update: Update, context: BotContext) -> None:
    texts = context.texts
    rows = [
        [button(texts(label), ConsultAudience(audience=audience))]
        for audience, label in AUDIENCE_LABELS.items()
    ]
    rows.append(_cancel_row(context))
    await respond(update, context, texts("consult.ask_audience"), InlineKeyboardMarkup(rows))


async def audience_name(
    context: BotContext, audience: ConsultationAudience, ref: int | None
) -> str:
    """The audience in words, with its street or station."""
    name = context.texts(AUDIENCE_LABELS[audience])
    if ref is None:
        return name
    stations = context.services.stations
    if audience == ConsultationAudience.VOTERS_OF_STATION:
        place = (await stations.get(ref)).name
    else:
        place = (await stations.street(ref)).name
    return context.texts("consult.audience_of", audience=name, place=escape(place))


def reach_line(texts: Texts, reach: Reach) -> str:
    return texts(
        "consult.reach",
        count=texts.number(reach.total),
        deputies=texts.number(reach.deputies),
        voters=texts.number(reach.voters),
    )


# --- /consult: the menu and the list -----------------------------------------------------


def _list_line(texts: Texts, item: Listed) -> str:
    c = item.consultation
    if c.state == ConsultationState.OPEN:
        return texts(
            "consult.line_open",
            number=c.id,
            title=escape(c.title),
            deadline=texts.datetime(c.deadline),
            comments=texts.number(item.comments),
        )
    return texts(
        "consult.line_closed",
        number=c.id,
        title=escape(c.title),
        closed=texts.datetime(c.closed_at or c.deadline),
        comments=texts.number(item.comments),
    )


async def show_list(update: Update, context: BotContext, page: int, head: str = "") -> None:
    """The consultations, with "new", "close" for open ones and "report" for closed ones."""
    texts = context.texts
    result = await context.services.consultations.listed(context.user, page, PER_PAGE)
    lines = [head] if head else []
    lines.append(texts("consult.menu_title"))
    if not result.items:
        lines.append(texts("consult.list_empty"))
    lines += [_list_line(texts, item) for item in result.items]
    buttons: list[InlineKeyboardButton] = []
    for item in result.items:
        number = item.consultation.id
        if item.consultation.state == ConsultationState.OPEN:
            tapped = ConsultClose(consultation=number, page=result.page)
            buttons.append(button(texts("consult.close_button", number=number), tapped))
        else:
            report = ReportOpen(consultation=number)
            buttons.append(button(texts("consult.report_of", number=number), report))
    markup = paged(
        buttons,
        result.page,
        result.pages,
        lambda p: ConsultList(page=p),
        texts,
        columns=2,
        extra=[button(texts("consult.new"), ConsultNew())],
    )
    await respond(update, context, "\n\n".join(lines), markup)


@guarded(ACTION)
async def menu(update: Update, context: BotContext) -> None:
    await show_list(update, context, 0)


@guarded(ACTION)
async def list_page(update: Update, context: BotContext) -> None:
    page = ConsultList.of(update).page
    await answer_tap(update)
    await show_list(update, context, page)


@guarded(ACTION)
async def ask_close(update: Update, context: BotContext) -> None:
    tapped = ConsultClose.of(update)
    item = await context.services.consultations.get(context.user, tapped.consultation)
    if item.consultation.state != ConsultationState.OPEN:
        raise DomainError("consult.already_closed")
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    texts("consult.close_yes"),
                    ConsultCloseConfirmed(consultation=tapped.consultation, page=tapped.page),
                ),
                button(texts("nav.back"), ConsultList(page=tapped.page)),
            ]
        ]
    )
    text = texts(
        "consult.close_confirm",
        title=escape(item.consultation.title),
        deadline=texts.datetime(item.consultation.deadline),
        comments=texts.number(item.comments),
    )
    await answer_tap(update)
    await respond(update, context, text, markup)


@guarded(ACTION)
async def close(update: Update, context: BotContext) -> None:
    tapped = ConsultCloseConfirmed.of(update)
    closed = await context.services.consultations.close(context.user, tapped.consultation)
    await answer_tap(update)
    head = context.texts("consult.closed_now", title=escape(closed.title))
    await show_list(update, context, tapped.page, head)


# --- composing ---------------------------------------------------------------------------


@guarded(ACTION)
async def new(update: Update, context: BotContext) -> Step:
    await context.services.consultations.begin(*_ids(update, context))
    await answer_tap(update)
    await ask_draft(update, context)
    return Step.DRAFT


@guarded(ACTION)
async def receive_document(update: Update, context: BotContext) -> Step:
    """A .docx or .txt draft: its announced size checked before it is fetched (Telegram lets
    a bot fetch 20 MB at most), then read into memory, split and previewed."""
    consultations = context.services.consultations
    document = message_of(update).document
    if document is None:  # the handler takes documents only
        raise RuntimeError("a document's handler got no document")
    consultations.check_upload(document.file_size)
    try:
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
    except BadRequest as error:
        if "too big" not in str(error).lower():
            raise
        consultations.refuse_too_large()
    user, chat_id = _ids(update, context)
    structure = await consultations.take_document(user, chat_id, data, document.file_name)
    return await show_preview(update, context, structure)


async def _pasted(update: Update, context: BotContext, *, replace: bool) -> Step:
    user, chat_id = _ids(update, context)
    draft = await context.services.consultations.take_pasted(
        user, chat_id, message_of(update).text, replace=replace
    )
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("consult.paste_done"), ConsultPasteDone())], _cancel_row(context)]
    )
    text = texts(
        "consult.pasted", parts=texts.number(draft.pasted), count=texts.number(len(draft.text))
    )
    await respond(update, context, text, markup)
    return Step.DRAFT


@guarded(ACTION)
async def receive_paste(update: Update, context: BotContext) -> Step:
    return await _pasted(update, context, replace=False)


@guarded(ACTION)
async def paste_over_preview(update: Update, context: BotContext) -> Step:
    """Text sent at the preview is the corrected draft: it replaces the one previewed."""
    return await _pasted(update, context, replace=True)


@guarded(ACTION)
async def paste_done(update: Update, context: BotContext) -> Step:
    consultations = context.services.consultations
    user, chat_id = _ids(update, context)
    structure = await consultations.preview(user, chat_id)
    await answer_tap(update)
    return await show_preview(update, context, structure)


@guarded(ACTION)
async def preview_action(update: Update, context: BotContext) -> Step:
    action = ConsultPreview.of(update).action
    consultations = context.services.consultations
    if action == PreviewAction.FIX:
        await consultations.fix(*_ids(update, context))
        await answer_tap(update)
        await ask_draft(update, context, "consult.ask_fixed_draft")
        return Step.DRAFT
    await consultations.accept(*_ids(update, context))
    await answer_tap(update)
    await ask_text(update, context, Step.TITLE)
    return Step.TITLE


@guarded(ACTION)
async def receive_title(update: Update, context: BotContext) -> Step:
    await context.services.consultations.set_title(*_ids(update, context), message_of(update).text)
    await ask_text(update, context, Step.SUMMARY)
    return Step.SUMMARY


@guarded(ACTION)
async def receive_summary(update: Update, context: BotContext) -> Step:
    await context.services.consultations.set_summary(
        *_ids(update, context), message_of(update).text
    )
    await ask_text(update, context, Step.SOURCE)
    return Step.SOURCE


@guarded(ACTION)
async def receive_source(update: Update, context: BotContext) -> Step:
    consultations = context.services.consultations
    await consultations.set_source(*_ids(update, context), message_of(update).text)
    await ask_questions(update, context, await consultations.draft(context.user))
    return Step.QUESTIONS


@guarded(ACTION)
async def skip(update: Update, context: BotContext) -> Step:
    consultations = context.services.consultations
    step = ConsultSkip.of(update).step
    await answer_tap(update)
    if step == SkipStep.SUMMARY:
        await consultations.set_summary(*_ids(update, context), None)
        await ask_text(update, context, Step.SOURCE)
        return Step.SOURCE
    await consultations.set_source(*_ids(update, context), None)
    await ask_questions(update, context, await consultations.draft(context.user))
    return Step.QUESTIONS


@guarded(ACTION)
async def receive_question(update: Update, context: BotContext) -> Step:
    await context.services.consultations.ask_question(
        *_ids(update, context), message_of(update).text
    )
    await ask_question_kind(update, context)
    return Step.QUESTION_KIND


async def _question_added(update: Update, context: BotContext, options: str | None) -> Step:
    draft = await context.services.consultations.add_question(*_ids(update, context), options)
    await answer_tap(update)
    await ask_questions(update, context, draft)
    return Step.QUESTIONS


@guarded(ACTION)
async def receive_options(update: Update, context: BotContext) -> Step:
    return await _question_added(update, context, message_of(update).text or "")


@guarded(ACTION)
async def free_text(update: Update, context: BotContext) -> Step:
    return await _question_added(update, context, None)


@guarded(ACTION)
async def questions_done(update: Update, context: BotContext) -> Step:
    await context.services.consultations.questions_done(*_ids(update, context))
    await answer_tap(update)
    await ask_audience(update, context)
    return Step.AUDIENCE


async def _audience_set(
    update: Update, context: BotContext, audience: ConsultationAudience, ref: int | None
) -> Step:
    """The audience chosen: its exact count, and the deadline asked for."""
    consultations = context.services.consultations
    reach = await consultations.set_audience(*_ids(update, context), audience, ref)
    texts = context.texts
    text = "\n".join(
        [
            texts("consult.audience_set", audience=await audience_name(context, audience, ref)),
            reach_line(texts, reach),
            "",
            texts("consult.ask_deadline", example=consultations.example_deadline().isoformat()),
        ]
    )
    markup = InlineKeyboardMarkup(
        [
            [button(texts("consult.change_audience"), ConsultChangeAudience())],
            _cancel_row(context),
        ]
    )
    await respond(update, context, text, markup)
    return Step.DEADLINE


def _to_deadline(audience: ConsultationAudience) -> Picked:
    """What picking the street or station of `audience` does: on to the deadline."""

    async def picked(update: Update, context: BotContext, place: int) -> Step:
        return await _audience_set(update, context, audience, place)

    return picked


def _picker(purpose: Picker, audience: ConsultationAudience, prompt: str) -> StationPicker:
    return StationPicker(
        purpose=purpose,
        action=ACTION,
        on_picked=_to_deadline(audience),
        prompt=prompt,
        hint=TYPE_A_NAME,
        street_is_answer=audience != ConsultationAudience.VOTERS_OF_STATION,
    )


# the audiences of one street or station, each with its picker
PICKERS = {
    ConsultationAudience.DEPUTIES_OF_STREET: _picker(
        Picker.CONSULT_DEPUTIES_STREET,
        ConsultationAudience.DEPUTIES_OF_STREET,
        "consult.pick_street",
    ),
    ConsultationAudience.VOTERS_OF_STREET: _picker(
        Picker.CONSULT_VOTERS_STREET, ConsultationAudience.VOTERS_OF_STREET, "consult.pick_street"
    ),
    ConsultationAudience.VOTERS_OF_STATION: _picker(
        Picker.CONSULT_STATION, ConsultationAudience.VOTERS_OF_STATION, "consult.pick_station"
    ),
}


@guarded(ACTION)
async def choose_audience(update: Update, context: BotContext) -> Step:
    audience = ConsultAudience.of(update).audience
    picker = PICKERS.get(audience)
    if picker is None:
        await answer_tap(update)
        return await _audience_set(update, context, audience, None)
    await context.services.consultations.pick_place(*_ids(update, context), audience)
    await answer_tap(update)
    await picker.show(update, context)
    return Step.AUDIENCE


@guarded(ACTION)
async def typed_at_audience(update: Update, context: BotContext) -> None:
    """A name typed while a street or station is being picked searches for it; otherwise
    the buttons are what this step takes."""
    draft = await context.services.consultations.draft(context.user)
    picker = PICKERS.get(draft.picking) if draft.picking is not None else None
    if picker is None:
        await use_buttons(update, context)
        return
    await picker.search(update, context, message_of(update).text)


@guarded(ACTION)
async def change_audience(update: Update, context: BotContext) -> Step:
    await context.services.consultations.change_audience(*_ids(update, context))
    await answer_tap(update)
    await ask_audience(update, context)
    return Step.AUDIENCE


@guarded(ACTION)
async def receive_deadline(update: Update, context: BotContext) -> Step:
    consultations = context.services.consultations
    draft = await consultations.set_deadline(*_ids(update, context), message_of(update).text)
    await show_confirm(update, context, draft)
    return Step.CONFIRM


async def show_confirm(update: Update, context: BotContext, draft: ConsultDraft) -> None:
    """Everything staff set, the exact count to be prompted, and Open."""
    consultations = context.services.consultations
    texts = context.texts
    if draft.audience is None or draft.deadline is None:
        raise DomainError("consult.nothing_yet")
    structure = await consultations.structure(draft)
    reach = await consultations.reach(draft.audience, draft.audience_ref)
    questions = [question_line(texts, n, q) for n, q in enumerate(draft.questions, start=1)]
    deadline = consultations.deadline_of(draft.deadline)
    lines = [
        texts(
            "consult.confirm",
            title=escape(draft.title),
            summary=escape(clip(draft.summary, SUMMARY_SHOWN)) or "—",
            source=escape(draft.source) or "—",
            structure=preview(structure, texts),
            questions="\n".join(questions) if questions else "—",
            audience=await audience_name(context, draft.audience, draft.audience_ref),
            deadline=texts.datetime(deadline),
        ),
        reach_line(texts, reach),
    ]
    if consultations.short_deadline(draft.deadline):
        days = (draft.deadline - consultations.today()).days
        lines.append(texts("consult.short_deadline", days=days, minimum=NATIONAL_MIN_DAYS))
    markup = InlineKeyboardMarkup(
        [
            [button(texts("consult.open"), ConsultOpen(token=draft.token))],
            [button(texts("consult.change_audience"), ConsultChangeAudience())],
            _cancel_row(context),
        ]
    )
    await respond(update, context, "\n".join(lines), markup)


@guarded(ACTION)
async def confirm(update: Update, context: BotContext) -> int:
    token = ConsultOpen.of(update).token
    consultation = await context.services.consultations.confirm(*_ids(update, context), token)
    await answer_tap(update)
    texts = context.texts
    text = texts(
        "consult.opened",
        number=consultation.id,
        title=escape(consultation.title),
        count=texts.number(consultation.invited),
        deadline=texts.datetime(consultation.deadline),
    )
    await respond(update, context, text)
    return END


@guarded(ACTION)
async def opened_already(update: Update, context: BotContext) -> None:
    """Open tapped again once the draft has gone: say which consultation it became."""
    number = await context.services.consultations.opened_as(context.user)
    if number is None:
        raise DomainError("error.stale_button")
    raise DomainError("consult.already_opened", number=number)


async def cancel(update: Update, context: BotContext) -> int:
    await context.services.consultations.discard(*_ids(update, context))
    await answer_tap(update)
    await respond(update, context, context.texts("consult.cancelled"))
    return END


# --- what a step does not take ------------------------------------------------------------

BAD_INPUT = {
    Step.DRAFT: "consult.bad_draft",
    Step.TITLE: "consult.type_text",
    Step.SUMMARY: "consult.type_text",
    Step.SOURCE: "consult.type_text",
    Step.QUESTIONS: "consult.type_text",
    Step.QUESTION_KIND: "consult.type_text",
    Step.DEADLINE: "consult.type_text",
}


def bad_input(step: Step) -> Callback[None]:
    async def reply(update: Update, context: BotContext) -> None:
        await respond(update, context, context.texts(BAD_INPUT[step]), edit=False)

    return reply


use_buttons = saying("consult.use_buttons")


command_in_middle = saying("consult.in_progress")


# "New" tapped on an older menu while one is being composed.
busy = alerting("consult.in_progress")


stale_button = alerting("error.stale_button")


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    document = filters.Document.ALL
    not_command = ~filters.COMMAND

    def others(step: Step) -> Handler:
        return MessageHandler(not_command, bad_input(step))

    conversation = DeclaredConversation(
        CONSULT,
        entry_points=[CallbackQueryHandler(new, pattern=ConsultNew.filter())],
        states={
            Step.DRAFT: [
                MessageHandler(document, receive_document),
                MessageHandler(text, receive_paste),
                CallbackQueryHandler(paste_done, pattern=ConsultPasteDone.filter()),
                others(Step.DRAFT),
            ],
            Step.PREVIEW: [
                CallbackQueryHandler(preview_action, pattern=ConsultPreview.filter()),
                MessageHandler(document, receive_document),
                MessageHandler(text, paste_over_preview),
                MessageHandler(not_command, use_buttons),
            ],
            Step.TITLE: [MessageHandler(text, receive_title), others(Step.TITLE)],
            Step.SUMMARY: [
                MessageHandler(text, receive_summary),
                CallbackQueryHandler(skip, pattern=ConsultSkip.filter(step=SkipStep.SUMMARY)),
                others(Step.SUMMARY),
            ],
            Step.SOURCE: [
                MessageHandler(text, receive_source),
                CallbackQueryHandler(skip, pattern=ConsultSkip.filter(step=SkipStep.SOURCE)),
                others(Step.SOURCE),
            ],
            Step.QUESTIONS: [
                MessageHandler(text, receive_question),
                CallbackQueryHandler(questions_done, pattern=ConsultQuestionsDone.filter()),
                others(Step.QUESTIONS),
            ],
            Step.QUESTION_KIND: [
                MessageHandler(text, receive_options),
                CallbackQueryHandler(free_text, pattern=ConsultFreeText.filter()),
                others(Step.QUESTION_KIND),
            ],
            Step.AUDIENCE: [
                CallbackQueryHandler(choose_audience, pattern=ConsultAudience.filter()),
                *(handler for picker in PICKERS.values() for handler in picker.handlers()),
                MessageHandler(text, typed_at_audience),
                MessageHandler(not_command, use_buttons),
            ],
            Step.DEADLINE: [
                MessageHandler(text, receive_deadline),
                CallbackQueryHandler(change_audience, pattern=ConsultChangeAudience.filter()),
                others(Step.DEADLINE),
            ],
            Step.CONFIRM: [
                CallbackQueryHandler(confirm, pattern=ConsultOpen.filter()),
                CallbackQueryHandler(change_audience, pattern=ConsultChangeAudience.filter()),
                MessageHandler(not_command, use_buttons),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=ConsultCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
            CallbackQueryHandler(busy, pattern=ConsultNew.filter()),
            # buttons of a step left behind: refused as stale, the step stays
            CallbackQueryHandler(
                stale_button,
                pattern=any_of(
                    ConsultPasteDone,
                    ConsultPreview,
                    ConsultSkip,
                    ConsultFreeText,
                    ConsultQuestionsDone,
                    ConsultAudience,
                    ConsultChangeAudience,
                    ConsultOpen,
                ),
            ),
        ],
    )
    return [
        conversation,
        CommandHandler("consult", menu),
        CallbackQueryHandler(opened_already, pattern=ConsultOpen.filter()),
        CallbackQueryHandler(list_page, pattern=ConsultList.filter()),
        CallbackQueryHandler(ask_close, pattern=ConsultClose.filter()),
        CallbackQueryHandler(close, pattern=ConsultCloseConfirmed.filter()),
    ]
