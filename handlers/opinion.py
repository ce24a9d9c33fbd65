"""/opinion: category → text (or a voice message) → photos → location → name or anonymous
→ (the deputy whose code the voter opened, or the station) → preview → send.

The conversation is declared once (bot.services.opinions.OPINION). Every step stores the
draft and the next step in the database before answering, so a restart resumes where the
voter was (see OpinionService.save). The location step shows the location key
(handlers.location_key), and leaving it (or cancelling at any step) takes the key away."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Any, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import any_of
from bot.runtime.buttons.opinion import (
    OPINION_BUTTONS,
    CategoryCode,
    EditField,
    OpinionAddress,
    OpinionBackToPreview,
    OpinionCancel,
    OpinionCategory,
    OpinionEditField,
    OpinionEditMenu,
    OpinionName,
    OpinionPhotosDone,
    OpinionSend,
    OpinionSkipLocation,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.opinions import (
    CATEGORIES,
    CATEGORY_LABELS,
    MAX_PHOTOS,
    OPINION,
    VOICE_MAX_SECONDS,
    OpinionStep,
    Submission,
    take_text,
    take_voice,
)
from handlers.common import (
    alerting,
    answer_tap,
    chat_id_of,
    guarded,
    message_of,
    respond,
    say,
    saying,
    sender_of,
    show_error,
    tap_of,
)
from handlers.keyboards import button, rows_of
from handlers.location_key import (
    is_skip,
    offer_location_key,
    settle_tap,
    take_location_key_away,
)
from handlers.station import prompt_station
from storage.models import Deputy, OpinionDraft

CATEGORY, TEXT, PHOTOS, LOCATION, NAME, ADDRESS, PREVIEW, EDIT = OpinionStep
END = DeclaredConversation.END
# The voice limit as every message about it says it (the one limit: VOICE_MAX_SECONDS).
VOICE_MAX_MINUTES = VOICE_MAX_SECONDS // 60

log = logging.getLogger(__name__)


def _ids(update: Update) -> tuple[int, int]:
    """The voter and their chat (private chats: the same number)."""
    return sender_of(update).id, chat_id_of(update)


async def _draft(update: Update, context: BotContext) -> OpinionDraft:
    """The voter's draft as stored (a fresh one if none is)."""
    user_id, _ = _ids(update)
    return await context.services.opinions.draft(user_id)


async def _offered(context: BotContext) -> Deputy | None:
    """The deputy this voter may address by name (whose code they opened), if any."""
    return await context.services.deputy_codes.offered_deputy(context.user)


def _cancel_button(context: BotContext) -> list[InlineKeyboardButton]:
    """The row with the Cancel button every step shows."""
    return [button(context.texts("opinion.cancel_button"), OpinionCancel())]


@dataclass(frozen=True)
class Ask:
    """What a step's prompt needs: the draft, the deputy the voter may address (None: no
    such choice), and whether a tapped message is edited into the prompt (False: a new
    message, after one that took the location key away)."""

    draft: OpinionDraft
    deputy: Deputy | None
    edit: bool = True


# --- prompts -----------------------------------------------------------------------------


async def ask_category(update: Update, context: BotContext, ask: Ask) -> None:
    """The first step: the categories, two a row."""
    texts = context.texts
    buttons = [
        button(texts(label), OpinionCategory(code=cast(CategoryCode, code)))
        for code, label in CATEGORIES
    ]
    markup = InlineKeyboardMarkup([*rows_of(buttons, 2), _cancel_button(context)])
    await respond(update, context, texts("opinion.ask_category"), markup, edit=ask.edit)


async def ask_text(update: Update, context: BotContext, ask: Ask) -> None:
    """Ask for the text (10 to 2,000 characters once cleaned) or a voice message."""
    markup = InlineKeyboardMarkup([_cancel_button(context)])
    text = context.texts("opinion.ask_text", minutes=VOICE_MAX_MINUTES)
    await respond(update, context, text, markup, edit=ask.edit)


async def ask_photos(update: Update, context: BotContext, ask: Ask) -> None:
    """Ask for photos, or say how many came; the button skips or finishes."""
    texts = context.texts
    count = len(ask.draft.photos)
    key = "opinion.photo_received" if count else "opinion.ask_photos"
    label = "opinion.photos_done" if count else "opinion.skip"
    markup = InlineKeyboardMarkup(
        [[button(texts(label), OpinionPhotosDone())], _cancel_button(context)]
    )
    text = texts(key, count=count, maximum=MAX_PHOTOS)
    await respond(update, context, text, markup, edit=ask.edit)


async def ask_location(update: Update, context: BotContext, ask: Ask) -> None:
    """Ask for a location, which may be skipped; the location key follows on its own."""
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("opinion.skip"), OpinionSkipLocation())], _cancel_button(context)]
    )
    await respond(update, context, texts("opinion.ask_location"), markup, edit=ask.edit)
    await offer_location_key(update, context, "opinion.location_key_hint")


async def ask_name(update: Update, context: BotContext, ask: Ask) -> None:
    """Ask whether the deputies see the voter's name."""
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("opinion.show_name"), OpinionName(show=True))],
            [button(texts("opinion.anonymous"), OpinionName(show=False))],
            _cancel_button(context),
        ]
    )
    await respond(update, context, texts("opinion.ask_name"), markup, edit=ask.edit)


async def ask_address(update: Update, context: BotContext, ask: Ask) -> None:
    """Ask whether the opinion goes to the deputy whose code the voter opened, by name, or to
    the whole station (only asked while there is such a deputy: see `_go_to`)."""
    texts = context.texts
    name = ask.deputy.name if ask.deputy is not None else ""
    markup = InlineKeyboardMarkup(
        [
            [button(texts("opinion.address_deputy", deputy=name), OpinionAddress(deputy=True))],
            [button(texts("opinion.address_station"), OpinionAddress(deputy=False))],
            _cancel_button(context),
        ]
    )
    text = texts("opinion.ask_address", deputy=escape(name))
    await respond(update, context, text, markup, edit=ask.edit)


def _body(context: BotContext, draft: OpinionDraft) -> str:
    """The opinion's body as the preview shows it: the voice's length, or the text escaped."""
    if draft.voice_file_id is not None:
        return context.texts(
            "opinion.voice_body", length=context.texts.length(draft.voice_seconds or 0)
        )
    return escape(draft.text or "")


def render_preview(context: BotContext, ask: Ask) -> str:
    """The whole draft as the voter checks it before sending (their text escaped); whom it
    is addressed to only when there is a deputy to address."""
    texts, draft = context.texts, ask.draft
    location = (
        texts("opinion.location_given")
        if draft.latitude is not None
        else texts("opinion.location_none")
    )
    name = texts("opinion.name_shown") if draft.show_name else texts("opinion.name_hidden")
    preview = texts(
        "opinion.preview",
        category=texts(CATEGORY_LABELS[draft.category or "other"]),
        text=_body(context, draft),
        photos=texts.number(len(draft.photos)),
        location=location,
        name=name,
    )
    if ask.deputy is None:
        return preview
    to_deputy = draft.addressed_to == ask.deputy.user_id
    addressee = (
        texts("opinion.addressed_deputy", deputy=escape(ask.deputy.name))
        if to_deputy
        else texts("opinion.addressed_station")
    )
    return preview + "\n" + texts("opinion.preview_address", addressee=addressee)


async def show_preview(update: Update, context: BotContext, ask: Ask) -> None:
    """The preview with Send (carrying the draft's token), Edit and Cancel."""
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("opinion.send"), OpinionSend(draft=ask.draft.token))],
            [
                button(texts("opinion.edit"), OpinionEditMenu()),
                button(texts("opinion.cancel_button"), OpinionCancel()),
            ],
        ]
    )
    await respond(update, context, render_preview(context, ask), markup, edit=ask.edit)


# The fields the preview's Edit offers: (the button's field, its label, the step asking it).
EDIT_FIELDS: tuple[tuple[EditField, str, OpinionStep], ...] = (
    ("category", "opinion.edit_category", CATEGORY),
    ("text", "opinion.edit_text", TEXT),
    ("photos", "opinion.edit_photos", PHOTOS),
    ("location", "opinion.edit_location", LOCATION),
    ("name", "opinion.edit_name", NAME),
    ("address", "opinion.edit_address", ADDRESS),
)


async def ask_edit(update: Update, context: BotContext, ask: Ask) -> None:
    """From the preview: which field to change (whom to address only when there is a
    deputy to address), or back to the preview."""
    texts = context.texts
    buttons = [
        button(texts(label), OpinionEditField(field=field))
        for field, label, step in EDIT_FIELDS
        if step is not ADDRESS or ask.deputy is not None
    ]
    markup = InlineKeyboardMarkup(
        [*rows_of(buttons, 2), [button(texts("opinion.back_to_preview"), OpinionBackToPreview())]]
    )
    await respond(update, context, texts("opinion.edit_which"), markup, edit=ask.edit)


# What each step asks; every step of the declaration has its prompt here, once.
PROMPTS: dict[OpinionStep, Callable[[Update, BotContext, Ask], Awaitable[None]]] = {
    CATEGORY: ask_category,
    TEXT: ask_text,
    PHOTOS: ask_photos,
    LOCATION: ask_location,
    NAME: ask_name,
    ADDRESS: ask_address,
    PREVIEW: show_preview,
    EDIT: ask_edit,
}
if set(PROMPTS) != set(OpinionStep):
    raise TypeError("every step of /opinion has its prompt")


async def _go_to(
    update: Update,
    context: BotContext,
    draft: OpinionDraft,
    step: OpinionStep,
    *,
    key_gone: str | None = None,
) -> OpinionStep:
    """Store the draft at `step` and ask what the step asks. Without a deputy to address
    (none offered, or they left the voter's station) the address step is the preview.
    `key_gone`: first say this, taking the location key away; the prompt is then a new
    message below it."""
    deputy = await _offered(context)
    if step is ADDRESS and deputy is None:
        step = PREVIEW
    user_id, chat_id = _ids(update)
    await context.services.opinions.save(user_id, chat_id, draft, step)
    if key_gone is not None:
        await settle_tap(update)
        await take_location_key_away(update, context, context.texts(key_gone))
    await PROMPTS[step](update, context, Ask(draft, deputy, edit=key_gone is None))
    return step


async def _next_after(
    update: Update,
    context: BotContext,
    draft: OpinionDraft,
    step: OpinionStep,
    *,
    key_gone: str | None = None,
) -> OpinionStep:
    """Go on to `step`, or back to the preview when the voter was editing one field."""
    if draft.editing:
        draft.editing = False
        step = PREVIEW
    return await _go_to(update, context, draft, step, key_gone=key_gone)


# --- steps -------------------------------------------------------------------------------


@guarded(Action.SUBMIT_OPINION)
async def begin(update: Update, context: BotContext) -> OpinionStep | int:
    """/opinion: check station and daily limit, then start a new draft (a new token)."""
    try:
        await context.services.opinions.begin(context.user)
    except DomainError as error:
        await show_error(update, context, error)
        if error.key == "opinion.no_station":
            await prompt_station(update, context, edit=False)
        return END
    return await _go_to(update, context, OpinionDraft(), CATEGORY)


@guarded(Action.SUBMIT_OPINION)
async def choose_category(update: Update, context: BotContext) -> OpinionStep:
    """The category tapped goes into the draft."""
    code = OpinionCategory.of(update).code
    await answer_tap(update)
    draft = await _draft(update, context)
    draft.category = code
    return await _next_after(update, context, draft, TEXT)


@guarded(Action.SUBMIT_OPINION)
async def receive_text(update: Update, context: BotContext) -> OpinionStep | None:
    """The text, cleaned and measured by the service, becomes the body (a voice given
    before goes)."""
    draft = await _draft(update, context)
    take_text(draft, message_of(update).text)
    return await _next_after(update, context, draft, PHOTOS)


@guarded(Action.SUBMIT_OPINION)
async def receive_voice(update: Update, context: BotContext) -> OpinionStep | None:
    """A voice message of the voter's own becomes the body (a text typed before goes); one
    too short, too long or forwarded is refused and the step stays."""
    message = message_of(update)
    voice = message.voice
    if voice is None:  # the handler's filter lets only voice messages through
        raise RuntimeError("the voice handler got no voice")
    # PTB 22 gives seconds (a timedelta once PTB_TIMEDELTA is set); accept either
    length = voice.duration
    seconds = int(length.total_seconds()) if isinstance(length, timedelta) else int(length)
    draft = await _draft(update, context)
    take_voice(draft, voice.file_id, seconds, forwarded=message.forward_origin is not None)
    return await _next_after(update, context, draft, PHOTOS)


@guarded(Action.SUBMIT_OPINION)
async def receive_photo(update: Update, context: BotContext) -> OpinionStep | None:
    """One more photo (the largest size), up to MAX_PHOTOS."""
    message = message_of(update)
    if not message.photo:
        raise RuntimeError("the photo step's handler got no photo")
    draft = await _draft(update, context)
    if len(draft.photos) >= MAX_PHOTOS:
        raise DomainError("opinion.too_many_photos", maximum=MAX_PHOTOS)
    draft.photos.append(message.photo[-1].file_id)
    return await _go_to(update, context, draft, PHOTOS)


@guarded(Action.SUBMIT_OPINION)
async def photos_done(update: Update, context: BotContext) -> OpinionStep:
    """No more photos: on to the location."""
    await answer_tap(update)
    draft = await _draft(update, context)
    return await _next_after(update, context, draft, LOCATION)


@guarded(Action.SUBMIT_OPINION)
async def receive_location(update: Update, context: BotContext) -> OpinionStep:
    """The shared location goes into the draft; the location key goes."""
    message = message_of(update)
    if message.location is None:
        raise RuntimeError("the location step's handler got no location")
    draft = await _draft(update, context)
    draft.latitude, draft.longitude = message.location.latitude, message.location.longitude
    draft.location_skipped = False
    return await _next_after(update, context, draft, NAME, key_gone="opinion.location_received")


@guarded(Action.SUBMIT_OPINION)
async def skip_location(update: Update, context: BotContext) -> OpinionStep:
    """No location (the inline Skip, or the skip key); the location key goes."""
    await answer_tap(update)
    draft = await _draft(update, context)
    draft.latitude = draft.longitude = None
    draft.location_skipped = True
    return await _next_after(update, context, draft, NAME, key_gone="opinion.location_skipped")


async def typed_at_location(update: Update, context: BotContext) -> OpinionStep | None:
    """Text at the location step: the skip key's label (pressed or typed) skips; anything
    else is not a location."""
    if is_skip(context, message_of(update).text):
        return await skip_location(update, context)
    await bad_input(LOCATION)(update, context)
    return None


@guarded(Action.SUBMIT_OPINION)
async def choose_name(update: Update, context: BotContext) -> OpinionStep:
    """Named or anonymous; whom to address (when there is a deputy to), then the preview."""
    show = OpinionName.of(update).show
    await answer_tap(update)
    draft = await _draft(update, context)
    draft.show_name = show
    return await _next_after(update, context, draft, ADDRESS)


@guarded(Action.SUBMIT_OPINION)
async def choose_address(update: Update, context: BotContext) -> OpinionStep:
    """The deputy offered now, by name, or the whole station; the preview follows. The
    voter's name stays as the name step set it."""
    to_deputy = OpinionAddress.of(update).deputy
    await answer_tap(update)
    draft = await _draft(update, context)
    deputy = await _offered(context) if to_deputy else None
    draft.addressed_to = deputy.user_id if deputy is not None else None
    return await _next_after(update, context, draft, PREVIEW)


@guarded(Action.SUBMIT_OPINION)
async def send(update: Update, context: BotContext) -> OpinionStep | str | int:
    """Send the draft the button names. The opinion commits first (with a held-back
    receipt); then the tap is answered. The conversation ends whatever Telegram says; a
    repeated tap answers with the same number and leaves the conversation where it is."""
    token = OpinionSend.of(update).draft
    _, chat_id = _ids(update)
    sent = await context.services.opinions.submit(context.user, chat_id, token)
    await confirm(update, context, sent)
    return END if sent.step is None else sent.step


@guarded(Action.SUBMIT_OPINION)
async def send_again(update: Update, context: BotContext) -> None:
    """A Send tapped at another step of /opinion: the number of the opinion that draft
    became; any other Send is stale there."""
    token = OpinionSend.of(update).draft
    _, chat_id = _ids(update)
    sent = await context.services.opinions.sent_before(context.user, chat_id, token)
    await confirm(update, context, sent)


async def confirm(update: Update, context: BotContext, sent: Submission) -> None:
    """Show the tracking number. A new opinion's receipt is then withdrawn (the voter saw
    the number) or released at once (they did not: it reaches them through the outbox)."""
    shown = await _show_sent(update, context, sent)
    if sent.receipt is None:
        return
    outbox = context.services.outbox
    try:
        if shown:
            await outbox.withdraw(sent.receipt)
        else:
            await outbox.release_now(sent.receipt)
    except Exception:  # committed already: the receipt goes out at its time instead
        log.exception("opinion %s: its receipt stays as queued", sent.opinion.id)


async def _show_sent(update: Update, context: BotContext, sent: Submission) -> bool:
    """Answer the tap and turn the preview into the confirmation; False when Telegram did
    not take the confirmation (an unanswered tap alone does not hide the number)."""
    query = tap_of(update)
    texts = context.texts
    number = sent.opinion.tracking_no
    try:
        if sent.repeated:
            await query.answer(texts("opinion.already_sent", tracking_no=number), show_alert=True)
        else:
            await query.answer()
    except TelegramError as error:
        log.warning("opinion %s: the tap was not answered: %s", sent.opinion.id, error)
    try:
        await respond(update, context, texts("opinion.sent", tracking_no=number))
    except TelegramError as error:
        log.warning("opinion %s: the confirmation was not shown: %s", sent.opinion.id, error)
        return False
    return True


@guarded(Action.SUBMIT_OPINION)
async def edit_menu(update: Update, context: BotContext) -> OpinionStep:
    """From the preview: which field to change."""
    await answer_tap(update)
    return await _go_to(update, context, await _draft(update, context), EDIT)


@guarded(Action.SUBMIT_OPINION)
async def edit_field(update: Update, context: BotContext) -> OpinionStep:
    """Ask for one field again; the answer leads back to the preview."""
    field = OpinionEditField.of(update).field
    steps = {name: step for name, _, step in EDIT_FIELDS}
    await answer_tap(update)
    draft = await _draft(update, context)
    draft.editing = True
    if field == "photos":
        draft.photos = []
    return await _go_to(update, context, draft, steps[field])


@guarded(Action.SUBMIT_OPINION)
async def back_to_preview(update: Update, context: BotContext) -> OpinionStep:
    """Leave the edit menu unchanged."""
    await answer_tap(update)
    draft = await _draft(update, context)
    draft.editing = False
    return await _go_to(update, context, draft, PREVIEW)


async def cancel(update: Update, context: BotContext) -> int:
    """/cancel or the Cancel button: drop the draft and leave the conversation. At any step
    the location key goes too (a key /station left may still be shown): the tapped message
    loses its buttons and "cancelled" comes as a new message."""
    user_id, chat_id = _ids(update)
    await context.services.opinions.discard(user_id, chat_id)
    await answer_tap(update)
    await settle_tap(update)
    await take_location_key_away(update, context, context.texts("opinion.cancelled"))
    return END


# --- bad input ---------------------------------------------------------------------------

BAD_INPUT = {
    CATEGORY: "opinion.bad_category",
    TEXT: "opinion.bad_text",
    PHOTOS: "opinion.bad_photo",
    LOCATION: "opinion.bad_location",
    NAME: "opinion.bad_name",
    ADDRESS: "opinion.bad_address",
    PREVIEW: "opinion.bad_preview",
    EDIT: "opinion.bad_edit",
}


def bad_input(step: OpinionStep) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A reply for input the step does not take; the step stays."""

    async def reply(update: Update, context: BotContext) -> None:
        """Say what the step expects."""
        text = context.texts(BAD_INPUT[step], minutes=VOICE_MAX_MINUTES)
        await respond(update, context, text, edit=False)
        return None

    return reply


async def video_note_refused(update: Update, context: BotContext) -> None:
    """At the text step: a round video is not a voice message; told so, the step stays."""
    await say(update, context, "opinion.video_note_refused", minutes=VOICE_MAX_MINUTES)


async def audio_refused(update: Update, context: BotContext) -> None:
    """At the text step: an audio file is not a voice message; told so, the step stays."""
    await say(update, context, "opinion.audio_refused", minutes=VOICE_MAX_MINUTES)


# Another command while writing: finish or /cancel first.
command_in_middle = saying("opinion.in_progress")


# An /opinion button of another step: refused with an alert, the step stays.
stale_button = alerting("error.stale_button")


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The /opinion conversation, and Send outside it for a repeated tap."""

    def others(step: OpinionStep) -> MessageHandler[Any, None]:
        """Anything but a command that this step does not take."""
        return MessageHandler(~filters.COMMAND, bad_input(step))

    text = filters.TEXT & ~filters.COMMAND
    conversation = DeclaredConversation(
        OPINION,
        entry_points=[CommandHandler("opinion", begin)],
        states={
            CATEGORY: [
                CallbackQueryHandler(choose_category, pattern=OpinionCategory.filter()),
                others(CATEGORY),
            ],
            TEXT: [
                MessageHandler(text, receive_text),
                MessageHandler(filters.VOICE, receive_voice),
                MessageHandler(filters.VIDEO_NOTE, video_note_refused),
                MessageHandler(filters.AUDIO, audio_refused),
                others(TEXT),
            ],
            PHOTOS: [
                MessageHandler(filters.PHOTO, receive_photo),
                CallbackQueryHandler(photos_done, pattern=OpinionPhotosDone.filter()),
                others(PHOTOS),
            ],
            LOCATION: [
                MessageHandler(filters.LOCATION, receive_location),
                CallbackQueryHandler(skip_location, pattern=OpinionSkipLocation.filter()),
                MessageHandler(text, typed_at_location),
                others(LOCATION),
            ],
            NAME: [CallbackQueryHandler(choose_name, pattern=OpinionName.filter()), others(NAME)],
            ADDRESS: [
                CallbackQueryHandler(choose_address, pattern=OpinionAddress.filter()),
                others(ADDRESS),
            ],
            PREVIEW: [
                CallbackQueryHandler(send, pattern=OpinionSend.filter()),
                CallbackQueryHandler(edit_menu, pattern=OpinionEditMenu.filter()),
                others(PREVIEW),
            ],
            EDIT: [
                CallbackQueryHandler(edit_field, pattern=OpinionEditField.filter()),
                CallbackQueryHandler(back_to_preview, pattern=OpinionBackToPreview.filter()),
                others(EDIT),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=OpinionCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
            CallbackQueryHandler(send_again, pattern=OpinionSend.filter()),
            CallbackQueryHandler(
                stale_button,
                pattern=any_of(*OPINION_BUTTONS),
            ),
        ],
    )
    # Send tapped after the conversation ended (a reply that failed, a restart): the same
    # tracking number again, nothing new made.
    sent_already = CallbackQueryHandler(send, pattern=OpinionSend.filter())
    return [conversation, sent_already]
