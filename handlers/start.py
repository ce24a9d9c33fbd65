"""/start: greeting, the privacy notice with its agree button, and the deep links
`?start=st_<station>` (a station's QR code), `?start=inv_<code>` (a deputy invitation),
`?start=lia_<code>` (a department liaison's invitation), `?start=claim_<code>` (an
opinion entered for the person at the reception desk: handlers.desk) and `?start=dep_<code>`
(a deputy's own code, 代表码: handlers.mycode)."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.errors import DomainError
from bot.runtime.buttons.start import (
    CLAIM_PREFIX,
    DEPUTY_PREFIX,
    INVITE_PREFIX,
    LIAISON_PREFIX,
    STATION_PREFIX,
    Consent,
    is_deep_link,
)
from bot.runtime.context import BotContext
from handlers import desk, mycode
from handlers.common import Handler, answer_tap, error_text, guarded, respond, sender_of, show_error
from handlers.gate import consent_keyboard
from handlers.station import bind_station, prompt_station


def _payload(context: BotContext) -> str:
    """The deep-link payload if it has a shape we make (one the consent button can carry);
    anything else is ignored."""
    raw = context.args[0] if context.args else ""
    return raw if is_deep_link(raw) else ""


async def start(update: Update, context: BotContext) -> None:
    payload = _payload(context)
    texts = context.texts
    if not context.user.consented:
        await respond(
            update,
            context,
            texts("start.greeting") + "\n\n" + texts("privacy.notice"),
            consent_keyboard(context, payload),
            edit=False,
        )
        context.account = await context.services.users.notice_shown(context.user)
        return
    await continue_start(update, context, payload)


@guarded()
async def agree(update: Update, context: BotContext) -> None:
    payload = Consent.of(update).link
    await answer_tap(update)
    if not context.user.consented:
        # only now may the name and the language be kept, stored with the consent itself
        sender = sender_of(update)
        context.account = await context.services.users.consent(
            context.user.telegram_id, sender.full_name, sender.username, context.user.locale
        )
    await respond(update, context, context.texts("privacy.thanks"))
    await continue_start(update, context, payload)


async def continue_start(update: Update, context: BotContext, payload: str) -> None:
    """After consent: follow the deep link, or ask for a station if there is none yet."""
    texts = context.texts
    try:
        if payload.startswith(LIAISON_PREFIX):
            code = payload.removeprefix(LIAISON_PREFIX)
            liaison = await context.services.invitations.accept_liaison(context.user, code)
            context.account = await context.services.users.get(context.user.telegram_id)
            text = texts(
                "liaison.accepted",
                name=escape(liaison.liaison.name),
                department=escape(liaison.department_name),
            )
            await respond(update, context, text, edit=False)
            return
        if payload.startswith(INVITE_PREFIX):
            code = payload.removeprefix(INVITE_PREFIX)
            accepted = await context.services.invitations.accept(context.user, code)
            context.account = await context.services.users.get(context.user.telegram_id)
            await respond(
                update,
                context,
                texts(
                    "invite.accepted",
                    name=escape(accepted.deputy.name),
                    station=escape(accepted.station_name),
                ),
                edit=False,
            )
            return
        if payload.startswith(CLAIM_PREFIX):
            await desk.claim(update, context, payload.removeprefix(CLAIM_PREFIX))
            return
        if payload.startswith(DEPUTY_PREFIX):
            await mycode.open_code(update, context, payload.removeprefix(DEPUTY_PREFIX))
            return
        if payload.startswith(STATION_PREFIX):
            station_id = int(payload.removeprefix(STATION_PREFIX))
            await bind_station(update, context, station_id, edit=False)
            return
    except DomainError as error:
        await show_error_message(update, context, error)
        return
    if context.user.station_id is None:
        await prompt_station(update, context, edit=False, first_time=True)
        return
    await respond(update, context, texts("start.welcome_back"), edit=False)


async def show_error_message(update: Update, context: BotContext, error: DomainError) -> None:
    """Errors after a button tap here deserve a message, not just a fleeting alert."""
    if update.callback_query is not None:
        await respond(update, context, error_text(context, error), edit=False)
    else:
        await show_error(update, context, error)


def handlers() -> list[Handler]:
    return [
        CommandHandler("start", start),
        CallbackQueryHandler(agree, pattern=Consent.filter()),
    ]
