"""/invite <name>: staff pick the deputy's station and get a one-time deep link. The lists
are the one station picker (handlers.station_picker) with purpose Picker.INVITE; the name
waits in the database."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import Picker
from bot.runtime.context import BotContext
from bot.services.invitations import DEEP_LINK_PREFIX
from handlers.common import guarded, respond
from handlers.station_picker import StationPicker


async def _pending_name(context: BotContext) -> Mapping[str, object]:
    """The name typed with /invite, waiting for its station (the prompt's {name})."""
    return {"name": escape(await context.services.invitations.pending_name(context.user))}


async def picked(update: Update, context: BotContext, station_id: int) -> None:
    """The station is chosen: make the invitation and show its one-time link."""
    name = await context.services.invitations.pending_name(context.user)
    invitation = await context.services.invitations.create(context.user, name, station_id)
    station = await context.services.stations.get(invitation.station_id)
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


# /invite takes the deputy's name as its argument, so no search by name is offered here
PICKER = StationPicker(
    purpose=Picker.INVITE,
    action=Action.INVITE_DEPUTY,
    on_picked=picked,
    prompt="invite.choose_station",
    params=_pending_name,
)


@guarded(Action.INVITE_DEPUTY)
async def invite_command(update: Update, context: BotContext) -> None:
    """Remember the name (cleaned by the service) and show the streets."""
    name = " ".join(context.args or [])
    if not name:
        raise DomainError("invite.usage")
    await context.services.invitations.start(context.user, name)
    await PICKER.show(update, context, edit=False)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/invite and its picker (purpose INVITE)."""
    return [
        CommandHandler("invite", invite_command),
        *PICKER.handlers(),
    ]
