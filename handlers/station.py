"""/station: choose a liaison station from paged street and station lists, by name
(`/station 名称`), or the nearest ones to a shared location. The lists are the one station
picker (handlers.station_picker) with purpose Picker.STATION."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import Picker, StationPicked
from bot.runtime.buttons.base import SQLITE_MAX_INT
from bot.runtime.context import BotContext
from handlers.common import guarded, message_of, respond
from handlers.keyboards import button
from handlers.station_picker import STATION_COMMAND_NAME, StationPicker

PURPOSE = Picker.STATION


async def prompt_station(
    update: Update, context: BotContext, *, edit: bool = True, first_time: bool = False
) -> None:
    """Ask for the station: the first page of streets, a name, or a shared location."""
    texts = context.texts
    intro = texts("station.first_time") if first_time else texts("station.choose_street")
    await PICKER.show(update, context, edit=edit, text=intro + "\n" + texts("station.or_location"))


async def bind_station(
    update: Update, context: BotContext, station_id: int, *, edit: bool = True
) -> None:
    """Make `station_id` the person's station and say which it is; an id that cannot be a
    station (from a deep link, say) is refused like a missing one, never sent to SQLite."""
    if not 1 <= station_id <= SQLITE_MAX_INT:
        raise DomainError("station.unknown")
    context.account = await context.services.users.choose_station(context.user, station_id)
    station = await context.services.stations.get(station_id)
    await respond(
        update,
        context,
        context.texts(
            "station.chosen",
            station=escape(station.name),
            street=escape(station.street_name),
            address=escape(station.address or "—"),
        ),
        edit=edit,
    )


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
    """The stations nearest to a shared location, nearest first."""
    location = message_of(update).location
    if location is None:  # the handler's filter lets only locations through
        raise RuntimeError("a location's handler got a message without one")
    found = await context.services.stations.nearest(location.latitude, location.longitude)
    texts = context.texts
    if not found:
        await prompt_station(update, context, edit=False)
        return
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


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/station, its picker (purpose STATION) and a shared location."""
    return [
        CommandHandler("station", station_command),
        *PICKER.handlers(),
        MessageHandler(filters.LOCATION, nearest),
    ]
