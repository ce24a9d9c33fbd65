"""/opinion: category → text → photos → location → name or anonymous → preview → send.

Every step stores the draft and the next step in the database before answering, so a
restart resumes where the voter was (see OpinionService.save)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.context import BotContext
from bot.services.opinions import CATEGORIES, CATEGORY_LABELS, CONVERSATION, MAX_PHOTOS, clean_text
from handlers.common import answer_tap, callback_args, guarded, respond, show_error
from handlers.keyboards import button, rows_of
from handlers.station import prompt_station
from storage.models import OpinionDraft

CATEGORY, TEXT, PHOTOS, LOCATION, NAME, PREVIEW, EDIT = (
    "category",
    "text",
    "photos",
    "location",
    "name",
    "preview",
    "edit",
)
END = ConversationHandler.END


def _ids(update: Update) -> tuple[int, int]:
    assert update.effective_user is not None and update.effective_chat is not None
    return update.effective_user.id, update.effective_chat.id


async def _save(update: Update, context: BotContext, draft: OpinionDraft, step: str) -> str:
    user_id, chat_id = _ids(update)
    await context.services.opinions.save(user_id, chat_id, draft, step)
    return step


def _cancel_button(context: BotContext) -> list:
    return [button(context.texts("opinion.cancel_button"), "op:cancel")]


# --- prompts -----------------------------------------------------------------------------


async def ask_category(update: Update, context: BotContext) -> None:
    texts = context.texts
    buttons = [button(texts(label), f"op:cat:{code}") for code, label in CATEGORIES]
    markup = InlineKeyboardMarkup([*rows_of(buttons, 2), _cancel_button(context)])
    await respond(update, context, texts("opinion.ask_category"), markup)


async def ask_text(update: Update, context: BotContext) -> None:
    markup = InlineKeyboardMarkup([_cancel_button(context)])
    await respond(update, context, context.texts("opinion.ask_text"), markup)


async def ask_photos(update: Update, context: BotContext, count: int) -> None:
    texts = context.texts
    key = "opinion.photo_received" if count else "opinion.ask_photos"
    label = "opinion.photos_done" if count else "opinion.skip"
    markup = InlineKeyboardMarkup(
        [[button(texts(label), "op:photos_done")], _cancel_button(context)]
    )
    await respond(
        update,
        context,
        texts(key, count=count, maximum=MAX_PHOTOS),
        markup,
        edit=update.callback_query is not None,
    )


async def ask_location(update: Update, context: BotContext) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("opinion.skip"), "op:loc_skip")], _cancel_button(context)]
    )
    await respond(update, context, texts("opinion.ask_location"), markup)


async def ask_name(update: Update, context: BotContext) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("opinion.show_name"), "op:name:1")],
            [button(texts("opinion.anonymous"), "op:name:0")],
            _cancel_button(context),
        ]
    )
    await respond(update, context, texts("opinion.ask_name"), markup)


def render_preview(context: BotContext, draft: OpinionDraft) -> str:
    texts = context.texts
    location = (
        texts("opinion.location_given")
        if draft.latitude is not None
        else texts("opinion.location_none")
    )
    name = texts("opinion.name_shown") if draft.show_name else texts("opinion.name_hidden")
    return texts(
        "opinion.preview",
        category=texts(CATEGORY_LABELS[draft.category or "other"]),
        text=escape(draft.text or ""),
        photos=texts.number(len(draft.photos)),
        location=location,
        name=name,
    )


async def show_preview(update: Update, context: BotContext, draft: OpinionDraft) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("opinion.send"), "op:send")],
            [
                button(texts("opinion.edit"), "op:edit"),
                button(texts("opinion.cancel_button"), "op:cancel"),
            ],
        ]
    )
    await respond(update, context, render_preview(context, draft), markup)


async def _next_after(update: Update, context: BotContext, draft: OpinionDraft, step: str) -> str:
    """Go on to `step`, or back to the preview when the voter was editing one field."""
    if draft.editing:
        draft.editing = False
        await _save(update, context, draft, PREVIEW)
        await show_preview(update, context, draft)
        return PREVIEW
    await _save(update, context, draft, step)
    prompts = {
        TEXT: ask_text,
        LOCATION: ask_location,
        NAME: ask_name,
    }
    if step == PHOTOS:
        await ask_photos(update, context, len(draft.photos))
    elif step == PREVIEW:
        await show_preview(update, context, draft)
    else:
        await prompts[step](update, context)
    return step


# --- steps -------------------------------------------------------------------------------


@guarded(Action.SUBMIT_OPINION)
async def begin(update: Update, context: BotContext) -> str | int:
    try:
        await context.services.opinions.begin(context.user)
    except DomainError as error:
        await show_error(update, context, error)
        if error.key == "opinion.no_station":
            await prompt_station(update, context, edit=False)
        return END
    await _save(update, context, OpinionDraft(), CATEGORY)
    await ask_category(update, context)
    return CATEGORY


@guarded(Action.SUBMIT_OPINION)
async def choose_category(update: Update, context: BotContext) -> str:
    (code,) = callback_args(update, "op:cat", 1)
    if code not in CATEGORY_LABELS:
        raise DomainError("error.stale_button")
    await answer_tap(update)
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    draft.category = code
    return await _next_after(update, context, draft, TEXT)


@guarded(Action.SUBMIT_OPINION)
async def receive_text(update: Update, context: BotContext) -> str | None:
    assert update.effective_message is not None
    text = clean_text(update.effective_message.text)
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    draft.text = text
    return await _next_after(update, context, draft, PHOTOS)


@guarded(Action.SUBMIT_OPINION)
async def receive_photo(update: Update, context: BotContext) -> str | None:
    message = update.effective_message
    assert message is not None and message.photo
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    if len(draft.photos) >= MAX_PHOTOS:
        raise DomainError("opinion.too_many_photos", maximum=MAX_PHOTOS)
    draft.photos.append(message.photo[-1].file_id)
    await _save(update, context, draft, PHOTOS)
    await ask_photos(update, context, len(draft.photos))
    return PHOTOS


@guarded(Action.SUBMIT_OPINION)
async def photos_done(update: Update, context: BotContext) -> str:
    await answer_tap(update)
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    return await _next_after(update, context, draft, LOCATION)


@guarded(Action.SUBMIT_OPINION)
async def receive_location(update: Update, context: BotContext) -> str:
    message = update.effective_message
    assert message is not None and message.location is not None
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    draft.latitude, draft.longitude = message.location.latitude, message.location.longitude
    draft.location_skipped = False
    return await _next_after(update, context, draft, NAME)


@guarded(Action.SUBMIT_OPINION)
async def skip_location(update: Update, context: BotContext) -> str:
    await answer_tap(update)
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    draft.latitude = draft.longitude = None
    draft.location_skipped = True
    return await _next_after(update, context, draft, NAME)


@guarded(Action.SUBMIT_OPINION)
async def choose_name(update: Update, context: BotContext) -> str:
    (choice,) = callback_args(update, "op:name", 1)
    if choice not in ("0", "1"):
        raise DomainError("error.stale_button")
    await answer_tap(update)
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    draft.show_name = choice == "1"
    draft.editing = False
    return await _next_after(update, context, draft, PREVIEW)


@guarded(Action.SUBMIT_OPINION)
async def send(update: Update, context: BotContext) -> int | None:
    _, chat_id = _ids(update)
    opinion = await context.services.opinions.submit(context.user, chat_id)
    await answer_tap(update)
    await respond(update, context, context.texts("opinion.sent", tracking_no=opinion.tracking_no))
    return END


EDIT_FIELDS = (
    ("category", "opinion.edit_category", CATEGORY),
    ("text", "opinion.edit_text", TEXT),
    ("photos", "opinion.edit_photos", PHOTOS),
    ("location", "opinion.edit_location", LOCATION),
    ("name", "opinion.edit_name", NAME),
)


@guarded(Action.SUBMIT_OPINION)
async def edit_menu(update: Update, context: BotContext) -> str:
    await answer_tap(update)
    texts = context.texts
    buttons = [button(texts(label), f"op:edit:{field}") for field, label, _ in EDIT_FIELDS]
    markup = InlineKeyboardMarkup(
        [*rows_of(buttons, 2), [button(texts("opinion.back_to_preview"), "op:preview")]]
    )
    await respond(update, context, texts("opinion.edit_which"), markup)
    user_id, _ = _ids(update)
    await _save(update, context, await context.services.opinions.draft(user_id), EDIT)
    return EDIT


@guarded(Action.SUBMIT_OPINION)
async def edit_field(update: Update, context: BotContext) -> str:
    (field,) = callback_args(update, "op:edit", 1)
    steps = {name: step for name, _, step in EDIT_FIELDS}
    if field not in steps:
        raise DomainError("error.stale_button")
    await answer_tap(update)
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    draft.editing = field != "name"
    if field == "photos":
        draft.photos = []
    await _save(update, context, draft, steps[field])
    prompts = {CATEGORY: ask_category, TEXT: ask_text, LOCATION: ask_location, NAME: ask_name}
    if steps[field] == PHOTOS:
        await ask_photos(update, context, 0)
    else:
        await prompts[steps[field]](update, context)
    return steps[field]


@guarded(Action.SUBMIT_OPINION)
async def back_to_preview(update: Update, context: BotContext) -> str:
    await answer_tap(update)
    user_id, _ = _ids(update)
    draft = await context.services.opinions.draft(user_id)
    draft.editing = False
    await _save(update, context, draft, PREVIEW)
    await show_preview(update, context, draft)
    return PREVIEW


async def cancel(update: Update, context: BotContext) -> int:
    user_id, chat_id = _ids(update)
    await context.services.opinions.discard(user_id, chat_id)
    await answer_tap(update)
    await respond(update, context, context.texts("opinion.cancelled"))
    return END


# --- bad input ---------------------------------------------------------------------------

BAD_INPUT = {
    CATEGORY: "opinion.bad_category",
    TEXT: "opinion.bad_text",
    PHOTOS: "opinion.bad_photo",
    LOCATION: "opinion.bad_location",
    NAME: "opinion.bad_name",
    PREVIEW: "opinion.bad_preview",
    EDIT: "opinion.bad_edit",
}


def bad_input(step: str):
    async def reply(update: Update, context: BotContext) -> None:
        await respond(update, context, context.texts(BAD_INPUT[step]), edit=False)
        return None

    return reply


async def command_in_middle(update: Update, context: BotContext) -> None:
    await respond(update, context, context.texts("opinion.in_progress"), edit=False)


async def stale_button(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(context.texts("error.stale_button"), show_alert=True)


def handlers() -> list[BaseHandler]:
    def others(step: str) -> MessageHandler:
        return MessageHandler(~filters.COMMAND, bad_input(step))  # type: ignore[arg-type]

    text = filters.TEXT & ~filters.COMMAND
    conversation = ConversationHandler(
        entry_points=[CommandHandler("opinion", begin)],  # type: ignore[arg-type]
        states={
            CATEGORY: [
                CallbackQueryHandler(choose_category, pattern=r"^op:cat:"),
                others(CATEGORY),
            ],
            TEXT: [MessageHandler(text, receive_text), others(TEXT)],
            PHOTOS: [
                MessageHandler(filters.PHOTO, receive_photo),
                CallbackQueryHandler(photos_done, pattern=r"^op:photos_done$"),
                others(PHOTOS),
            ],
            LOCATION: [
                MessageHandler(filters.LOCATION, receive_location),
                CallbackQueryHandler(skip_location, pattern=r"^op:loc_skip$"),
                others(LOCATION),
            ],
            NAME: [CallbackQueryHandler(choose_name, pattern=r"^op:name:"), others(NAME)],
            PREVIEW: [
                CallbackQueryHandler(send, pattern=r"^op:send$"),
                CallbackQueryHandler(edit_menu, pattern=r"^op:edit$"),
                others(PREVIEW),
            ],
            EDIT: [
                CallbackQueryHandler(edit_field, pattern=r"^op:edit:"),
                CallbackQueryHandler(back_to_preview, pattern=r"^op:preview$"),
                others(EDIT),
            ],
        },  # type: ignore[dict-item]
        fallbacks=[
            CommandHandler("cancel", cancel),  # type: ignore[arg-type]
            CallbackQueryHandler(cancel, pattern=r"^op:cancel$"),  # type: ignore[arg-type]
            MessageHandler(filters.COMMAND, command_in_middle),  # type: ignore[arg-type]
            CallbackQueryHandler(stale_button, pattern=r"^op:"),  # type: ignore[arg-type]
        ],
        name=CONVERSATION,
        persistent=True,
        allow_reentry=False,
    )
    return [conversation]
