"""/station: choose a liaison station from paged street and station lists, or the nearest
ones to a shared location."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.runtime.context import BotContext
from handlers.common import callback_args, guarded, int_arg, respond
from handlers.keyboards import button, station_picker, street_picker

PREFIX = "st"


async def prompt_station(
    update: Update, context: BotContext, *, edit: bool = True, first_time: bool = False
) -> None:
    texts = context.texts
    intro = texts("station.first_time") if first_time else texts("station.choose_street")
    markup = await street_picker(context.services, texts, PREFIX, 0)
    await respond(update, context, intro + "\n" + texts("station.or_location"), markup, edit=edit)


async def bind_station(
    update: Update, context: BotContext, station_id: int, *, edit: bool = True
) -> None:
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
    await prompt_station(update, context, edit=False)


@guarded(Action.CHOOSE_STATION)
async def street_page(update: Update, context: BotContext) -> None:
    (raw,) = callback_args(update, f"{PREFIX}:z", 1)
    page = int_arg(raw)
    assert update.callback_query is not None
    await update.callback_query.answer()
    markup = await street_picker(context.services, context.texts, PREFIX, page)
    await respond(update, context, context.texts("station.choose_street"), markup)


@guarded(Action.CHOOSE_STATION)
async def station_page(update: Update, context: BotContext) -> None:
    street_id, page = (int_arg(a) for a in callback_args(update, f"{PREFIX}:s", 2))
    street = await context.services.stations.street(street_id)
    assert update.callback_query is not None
    await update.callback_query.answer()
    markup = await station_picker(context.services, context.texts, PREFIX, street_id, page)
    await respond(
        update,
        context,
        context.texts("station.choose_station", street=escape(street.name)),
        markup,
    )


@guarded(Action.CHOOSE_STATION)
async def pick(update: Update, context: BotContext) -> None:
    (raw,) = callback_args(update, f"{PREFIX}:p", 1)
    station = await context.services.stations.get(int_arg(raw))
    assert update.callback_query is not None
    await update.callback_query.answer()
    await bind_station(update, context, station.id)


@guarded(Action.CHOOSE_STATION)
async def nearest(update: Update, context: BotContext) -> None:
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
                f"{PREFIX}:p:{s.id}",
            )
        ]
        for s, km in found
    ]
    await respond(
        update, context, texts("station.nearest"), InlineKeyboardMarkup(buttons), edit=False
    )


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("station", station_command),  # type: ignore[arg-type]
        CallbackQueryHandler(street_page, pattern=rf"^{PREFIX}:z:"),  # type: ignore[arg-type]
        CallbackQueryHandler(station_page, pattern=rf"^{PREFIX}:s:"),  # type: ignore[arg-type]
        CallbackQueryHandler(pick, pattern=rf"^{PREFIX}:p:"),  # type: ignore[arg-type]
        MessageHandler(filters.LOCATION, nearest),  # type: ignore[arg-type]
    ]
