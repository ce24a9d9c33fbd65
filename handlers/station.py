"""/station: choose a liaison station from paged street and station lists, by name
(`/station 名称`), or the nearest ones to a shared location (the location key:
handlers.location_key). The lists are the one station picker (handlers.station_picker) with
purpose Picker.STATION."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    Update,
)
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import Picker, StationPicked
from bot.runtime.buttons.base import SQLITE_MAX_INT
from bot.runtime.context import BotContext
from handlers.common import guarded, message_of, respond
from handlers.fallback import stray_message
from handlers.keyboards import button
from handlers.location_key import (
    SkipKey,
    is_skip,
    offer_location_key,
    settle_tap,
    take_location_key_away,
)
from handlers.station_picker import STATION_COMMAND_NAME, StationPicker

PURPOSE = Picker.STATION

# --- choosing the station ----------------------------------------------------------------


async def prompt_station(
    update: Update, context: BotContext, *, edit: bool = True, first_time: bool = False
) -> None:
    """Ask for the station: the first page of streets (or a name), then the location key for
    the nearest ones."""
    texts = context.texts
    intro = texts("station.first_time") if first_time else texts("station.choose_street")
    await PICKER.show(update, context, edit=edit, text=intro)
    await offer_location_key(update, context, "station.location_key_hint")


async def bind_station(
    update: Update, context: BotContext, station_id: int, *, edit: bool = True
) -> None:
    """Make `station_id` the person's station and say which it is, as a new message that takes
    the location key away; `edit`: the tapped picker loses its buttons. An id that cannot
    be a station (from a deep link, say) is refused like a missing one, never sent to
    SQLite."""
    if not 1 <= station_id <= SQLITE_MAX_INT:
        raise DomainError("station.unknown")
    context.account = await context.services.users.choose_station(context.user, station_id)
    station = await context.services.stations.get(station_id)
    if edit:
        await settle_tap(update)
    text = context.texts(
        "station.chosen",
        station=escape(station.name),
        street=escape(station.street_name),
        address=escape(station.address or "—"),
    )
    await take_location_key_away(update, context, text)


async def picked(update: Update, context: BotContext, station_id: int) -> None:
    """The station tapped becomes the person's station."""
    await bind_station(update, context, station_id)


PICKER = StationPicker(
    purpose=PURPOSE,
    action=Action.CHOOSE_STATION,
    on_picked=picked,
    prompt="station.choose_street",
    street_prompt="station.choose_station",
    hint=STATION_COMMAND_NAME,
)


@guarded(Action.CHOOSE_STATION)
async def station_command(update: Update, context: BotContext) -> None:
    """/station: choose another station; `/station 名称` looks it up by name."""
    if context.args:
        await PICKER.search(update, context, " ".join(context.args))
        return
    await prompt_station(update, context, edit=False)


@guarded(Action.CHOOSE_STATION)
async def nearest(update: Update, context: BotContext) -> None:
    """The stations nearest to a shared location, nearest first (the key goes first: the
    list has inline buttons and cannot take it away itself)."""
    location = message_of(update).location
    if location is None:  # the handler's filter lets only locations through
        raise RuntimeError("a location's handler got a message without one")
    found = await context.services.stations.nearest(location.latitude, location.longitude)
    texts = context.texts
    if not found:
        await prompt_station(update, context, edit=False)
        return
    await take_location_key_away(update, context, texts("station.location_received"))
    buttons = [
        [
            button(
                texts("station.nearest_item", station=s.name, km=texts.number(round(km, 1))),
                StationPicked(purpose=PURPOSE, station=s.id),
            )
        ]
        for s, km in found
    ]
    await respond(
        update, context, texts("station.nearest"), InlineKeyboardMarkup(buttons), edit=False
    )


@guarded()
async def skip(update: Update, context: BotContext) -> None:
    """The skip key pressed (or its label typed) while no conversation asks for a location:
    no station chosen now, and the key goes. Another language's label is just a stray
    message."""
    if not is_skip(context, message_of(update).text):
        await stray_message(update, context)
        return
    await take_location_key_away(update, context, context.texts("station.location_skipped"))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/station, its picker (purpose STATION), a shared location and the skip key."""
    return [
        CommandHandler("station", station_command),
        *PICKER.handlers(),
        MessageHandler(filters.LOCATION, nearest),
        MessageHandler(filters.TEXT & ~filters.COMMAND & SkipKey(), skip),
    ]
