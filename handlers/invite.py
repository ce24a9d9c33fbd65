"""/invite <name>: staff pick the deputy's station and get a one-time deep link."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.context import BotContext
from bot.services.invitations import DEEP_LINK_PREFIX
from handlers.common import callback_args, guarded, int_arg, respond
from handlers.keyboards import station_picker, street_picker

PREFIX = "iv"


@guarded(Action.INVITE_DEPUTY)
async def invite_command(update: Update, context: BotContext) -> None:
    name = " ".join(context.args or [])
    if not name:
        raise DomainError("invite.usage")
    name = await context.services.invitations.start(context.user, name)
    markup = await street_picker(context.services, context.texts, PREFIX, 0)
    await respond(
        update,
        context,
        context.texts("invite.choose_station", name=escape(name)),
        markup,
        edit=False,
    )


async def _pending_name(context: BotContext) -> str:
    return await context.services.invitations.pending_name(context.user)


@guarded(Action.INVITE_DEPUTY)
async def street_page(update: Update, context: BotContext) -> None:
    (raw,) = callback_args(update, f"{PREFIX}:z", 1)
    page = int_arg(raw)
    name = await _pending_name(context)
    assert update.callback_query is not None
    await update.callback_query.answer()
    markup = await street_picker(context.services, context.texts, PREFIX, page)
    await respond(
        update, context, context.texts("invite.choose_station", name=escape(name)), markup
    )


@guarded(Action.INVITE_DEPUTY)
async def station_page(update: Update, context: BotContext) -> None:
    street_id, page = (int_arg(a) for a in callback_args(update, f"{PREFIX}:s", 2))
    name = await _pending_name(context)
    await context.services.stations.street(street_id)
    assert update.callback_query is not None
    await update.callback_query.answer()
    markup = await station_picker(context.services, context.texts, PREFIX, street_id, page)
    await respond(
        update, context, context.texts("invite.choose_station", name=escape(name)), markup
    )


@guarded(Action.INVITE_DEPUTY)
async def pick(update: Update, context: BotContext) -> None:
    (station_id,) = callback_args(update, f"{PREFIX}:p", 1)
    name = await _pending_name(context)
    invitation = await context.services.invitations.create(context.user, name, int_arg(station_id))
    station = await context.services.stations.get(invitation.station_id)
    assert update.callback_query is not None
    await update.callback_query.answer()
    link = f"https://t.me/{context.bot.username}?start={DEEP_LINK_PREFIX}{invitation.code}"
    texts = context.texts
    await respond(
        update,
        context,
        texts(
            "invite.created",
            name=escape(invitation.deputy_name),
            station=escape(station.name),
            link=link,
            expires=texts.datetime(invitation.expires_at),
        ),
    )


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("invite", invite_command),  # type: ignore[arg-type]
        CallbackQueryHandler(street_page, pattern=rf"^{PREFIX}:z:"),  # type: ignore[arg-type]
        CallbackQueryHandler(station_page, pattern=rf"^{PREFIX}:s:"),  # type: ignore[arg-type]
        CallbackQueryHandler(pick, pattern=rf"^{PREFIX}:p:"),  # type: ignore[arg-type]
    ]
