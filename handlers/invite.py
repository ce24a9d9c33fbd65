"""/invite <name>: staff pick the deputy's station and get a one-time deep link. The lists
are the shared picker with purpose Picker.INVITE; the name waits in the database."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import Picker, StationPicked, StreetPage, StreetStations
from bot.runtime.context import BotContext
from bot.services.invitations import DEEP_LINK_PREFIX
from handlers.common import guarded, respond
from handlers.keyboards import picker_handlers, station_picker, street_picker

PURPOSE = Picker.INVITE


@guarded(Action.INVITE_DEPUTY)
async def invite_command(update: Update, context: BotContext) -> None:
    """Remember the name (cleaned by the service) and show the streets."""
    name = " ".join(context.args or [])
    if not name:
        raise DomainError("invite.usage")
    name = await context.services.invitations.start(context.user, name)
    markup = await street_picker(context.services, context.texts, PURPOSE, 0)
    await respond(
        update,
        context,
        context.texts("invite.choose_station", name=escape(name)),
        markup,
        edit=False,
    )


async def _pending_name(context: BotContext) -> str:
    """The name typed with /invite, waiting for its station."""
    return await context.services.invitations.pending_name(context.user)


@guarded(Action.INVITE_DEPUTY)
async def street_page(update: Update, context: BotContext) -> None:
    """Another page of the streets."""
    page = StreetPage.of(update).page
    name = await _pending_name(context)
    assert update.callback_query is not None
    await update.callback_query.answer()
    markup = await street_picker(context.services, context.texts, PURPOSE, page)
    await respond(
        update, context, context.texts("invite.choose_station", name=escape(name)), markup
    )


@guarded(Action.INVITE_DEPUTY)
async def station_page(update: Update, context: BotContext) -> None:
    """A page of one street's stations."""
    tapped = StreetStations.of(update)
    name = await _pending_name(context)
    await context.services.stations.street(tapped.street)
    assert update.callback_query is not None
    await update.callback_query.answer()
    markup = await station_picker(
        context.services, context.texts, PURPOSE, tapped.street, tapped.page
    )
    await respond(
        update, context, context.texts("invite.choose_station", name=escape(name)), markup
    )


@guarded(Action.INVITE_DEPUTY)
async def pick(update: Update, context: BotContext) -> None:
    """The station is chosen: make the invitation and show its one-time link."""
    station_id = StationPicked.of(update).station
    name = await _pending_name(context)
    invitation = await context.services.invitations.create(context.user, name, station_id)
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
    """/invite and its picker (purpose INVITE)."""
    return [
        CommandHandler("invite", invite_command),  # type: ignore[arg-type]
        *picker_handlers(PURPOSE, street_page, station_page, pick),
    ]
