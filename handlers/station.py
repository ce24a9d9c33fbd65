"""/station: choose a liaison station from paged street and station lists, or the nearest
ones to a shared location. The lists are the shared picker with purpose Picker.STATION."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.runtime.buttons import Picker, StationPicked, StreetPage, StreetStations
from bot.runtime.buttons.base import SQLITE_MAX_INT
from bot.runtime.context import BotContext
from handlers.common import guarded, respond
from handlers.keyboards import button, picker_handlers, station_picker, street_picker

PURPOSE = Picker.STATION


async def prompt_station(
    update: Update, context: BotContext, *, edit: bool = True, first_time: bool = False
) -> None:
    """Ask for the station: the first page of streets, or a shared location."""
    texts = context.texts
    intro = texts("station.first_time") if first_time else texts("station.choose_street")
    markup = await street_picker(context.services, texts, PURPOSE, 0)
    await respond(update, context, intro + "\n" + texts("station.or_location"), markup, edit=edit)


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


@guarded(Action.CHOOSE_STATION)
async def station_command(update: Update, context: BotContext) -> None:
    """/station: choose another station."""
    await prompt_station(update, context, edit=False)


@guarded(Action.CHOOSE_STATION)
async def street_page(update: Update, context: BotContext) -> None:
    """Another page of the streets."""
    page = StreetPage.of(update).page
    assert update.callback_query is not None
    await update.callback_query.answer()
    markup = await street_picker(context.services, context.texts, PURPOSE, page)
    await respond(update, context, context.texts("station.choose_street"), markup)


@guarded(Action.CHOOSE_STATION)
async def station_page(update: Update, context: BotContext) -> None:
    """A page of one street's stations."""
    tapped = StreetStations.of(update)
    street = await context.services.stations.street(tapped.street)
    assert update.callback_query is not None
    await update.callback_query.answer()
    markup = await station_picker(
        context.services, context.texts, PURPOSE, tapped.street, tapped.page
    )
    await respond(
        update,
        context,
        context.texts("station.choose_station", street=escape(street.name)),
        markup,
    )


@guarded(Action.CHOOSE_STATION)
async def pick(update: Update, context: BotContext) -> None:
    """The station tapped becomes the person's station."""
    station = await context.services.stations.get(StationPicked.of(update).station)
    assert update.callback_query is not None
    await update.callback_query.answer()
    await bind_station(update, context, station.id)


@guarded(Action.CHOOSE_STATION)
async def nearest(update: Update, context: BotContext) -> None:
    """The stations nearest to a shared location, nearest first."""
    message = update.effective_message
    assert message is not None and message.location is not None
    found = await context.services.stations.nearest(
        message.location.latitude, message.location.longitude
    )
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


def handlers() -> list[BaseHandler]:
    """/station, its picker (purpose STATION) and a shared location."""
    return [
        CommandHandler("station", station_command),  # type: ignore[arg-type]
        *picker_handlers(PURPOSE, street_page, station_page, pick),
        MessageHandler(filters.LOCATION, nearest),  # type: ignore[arg-type]
    ]
