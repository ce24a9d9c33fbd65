"""Voice opinions on the cards of deputies and staff: the button that sends the voice, and
staff's typed transcript (one step, declared in bot.services.voice_opinions.TRANSCRIPT).
Who may hear or transcribe is the service's rule; a card shows the buttons it offers
(handlers.opinion_card.voice_rows)."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import any_of
from bot.runtime.buttons.inbox import Side
from bot.runtime.buttons.voice import PlayVoice, Transcribe, TranscriptCancel
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.voice_opinions import (
    ENDS_TYPING,
    TRANSCRIPT,
    TRANSCRIPT_MAX,
    TRANSCRIPT_MIN,
    TranscriptStep,
)
from handlers.common import (
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    guarded,
    message_of,
    respond,
    say,
    saying,
    show_error,
)
from handlers.keyboards import button
from handlers.opinion_card import show_card

log = logging.getLogger(__name__)

END = DeclaredConversation.END
# Telegram's answer when the listener's privacy settings (a Premium user's) refuse voice
# messages; any other refusal (a file Telegram no longer has) may pass.
VOICES_FORBIDDEN = "VOICE_MESSAGES_FORBIDDEN"
# The card a saved transcript shows again: the list it was opened from.
SIDE_OF = {side.listing: side for side in Side}


@guarded()
async def play(update: Update, context: BotContext) -> None:
    """Send the voice to the one who tapped, as a reply of its own under the card."""
    recording = await context.services.voice_opinions.recording(
        context.user, PlayVoice.of(update).opinion
    )
    await answer_tap(update)
    texts = context.texts
    caption = texts(
        "voice.caption",
        tracking_no=recording.tracking_no,
        length=texts.length(recording.seconds),
    )
    try:
        await context.bot.send_voice(chat_id_of(update), recording.file_id, caption=caption)
    except BadRequest as error:
        log.warning("voice of %s not sent: %s", recording.tracking_no, error.message)
        # the listener's own privacy setting refuses voices: trying later will not help
        forbidden = VOICES_FORBIDDEN in error.message.upper()  # PTB capitalises the message
        key = "voice.forbidden" if forbidden else "voice.unavailable"
        await say(update, context, key, tracking_no=recording.tracking_no)


@guarded(Action.TRANSCRIBE_VOICE)
async def begin(update: Update, context: BotContext) -> TranscriptStep:
    """Staff tapped "add/edit the transcript" on a voice opinion's card: ask for it."""
    tapped = Transcribe.of(update)
    opinion = await context.services.voice_opinions.begin_transcript(
        context.user, chat_id_of(update), tapped.opinion, tapped.side.listing
    )
    await answer_tap(update)
    texts = context.texts
    key = "voice.ask_new_transcript" if opinion.text else "voice.ask_transcript"
    text = texts(
        key, tracking_no=opinion.tracking_no, minimum=TRANSCRIPT_MIN, maximum=TRANSCRIPT_MAX
    )
    cancel_row = [button(texts("voice.cancel_button"), TranscriptCancel())]
    await respond(update, context, text, InlineKeyboardMarkup([cancel_row]), edit=False)
    return TranscriptStep.TYPING


@guarded(Action.TRANSCRIBE_VOICE)
async def receive(update: Update, context: BotContext) -> int:
    """The typed transcript saved and the card shown again with it; bad text (empty, too
    short or long) is refused and the step stays."""
    voice = context.services.voice_opinions
    try:
        opinion, listing = await voice.save_transcript(
            context.user, chat_id_of(update), message_of(update).text
        )
    except DomainError as error:
        if error.key in ENDS_TYPING:
            await show_error(update, context, error)
            return END
        raise
    await say(update, context, "voice.transcript_saved", tracking_no=opinion.tracking_no)
    await show_card(update, context, opinion.id, SIDE_OF[listing], edit=False)
    return END


@guarded()
async def cancel(update: Update, context: BotContext) -> int:
    """/cancel or the Cancel button: the transcript stays as it was."""
    await context.services.voice_opinions.discard_transcript(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("voice.transcript_cancelled"), edit=False)
    return END


text_only = saying("voice.transcript_text_only")
in_progress = saying("voice.transcript_in_progress")
busy = alerting("voice.transcript_in_progress")


def handlers() -> list[Handler]:
    transcript = DeclaredConversation(
        TRANSCRIPT,
        entry_points=[CallbackQueryHandler(begin, pattern=Transcribe.filter())],
        states={
            TranscriptStep.TYPING: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, receive),
                MessageHandler(~filters.COMMAND, text_only),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=TranscriptCancel.filter()),
            MessageHandler(filters.COMMAND, in_progress),
            CallbackQueryHandler(busy, pattern=any_of(Transcribe)),
        ],
    )
    return [transcript, CallbackQueryHandler(play, pattern=PlayVoice.filter())]
