"""/schedule: a deputy's next duties, or the next reception days at a voter's station with
the station as a map venue; /calendar: the deputy's duties as an .ics file."""

from __future__ import annotations

import io
from html import escape

from telegram import Update
from telegram.ext import CommandHandler

from bot.access import Action, allowed
from bot.i18n import Texts
from bot.runtime.context import BotContext
from bot.services.calendar import TURN_LABELS, TurnView
from handlers.common import Handler, chat_id_of, guarded, respond
from handlers.station import prompt_station


def when(texts: Texts, view: TurnView) -> str:
    turn = view.turn
    return texts(
        "schedule.time_range",
        date=texts.date(turn.starts_at),
        start=texts.time(turn.starts_at),
        end=texts.time(turn.ends_at),
    )


@guarded(Action.VIEW_SCHEDULE)
async def schedule_command(update: Update, context: BotContext) -> None:
    texts = context.texts
    services = context.services
    user = context.user
    if allowed(user, Action.EXPORT_CALENDAR):
        views = await services.calendar.next_turns_of(user)
        if not views:
            await respond(update, context, texts("schedule.deputy_empty"), edit=False)
            return
        items = [
            texts(
                "schedule.deputy_item",
                when=when(texts, v),
                kind=texts(TURN_LABELS[v.turn.kind]),
                station=escape(v.station.name if v.station else "—"),
                address=escape((v.station.address or v.station.name) if v.station else "—"),
            )
            for v in views
        ]
        body = "\n\n".join([texts("schedule.deputy_title"), *items, texts("schedule.deputy_hint")])
        await respond(update, context, body, edit=False)
        return
    if user.station_id is None:
        await respond(update, context, texts("schedule.no_station"), edit=False)
        await prompt_station(update, context, edit=False)
        return
    station = await services.stations.get(user.station_id)
    views = await services.calendar.next_receptions_at(station.id)
    if views:
        lines = [texts("schedule.station_title", station=escape(station.name))]
        lines += [
            texts(
                "schedule.station_item",
                when=when(texts, v),
                deputies=escape("、".join(d.name for d in v.deputies) or "—"),
            )
            for v in views
        ]
        await respond(update, context, "\n".join(lines), edit=False)
    else:
        await respond(
            update,
            context,
            texts("schedule.station_empty", station=escape(station.name)),
            edit=False,
        )
    if station.latitude is not None and station.longitude is not None and update.effective_chat:
        await context.bot.send_venue(
            update.effective_chat.id,
            station.latitude,
            station.longitude,
            station.name,
            station.address or station.street_name,
        )


@guarded(Action.EXPORT_CALENDAR)
async def calendar_command(update: Update, context: BotContext) -> None:
    texts = context.texts
    titles = {kind: texts(label) for kind, label in TURN_LABELS.items()}
    data = await context.services.calendar.ics(context.user, titles, texts("calendar.name"))
    await context.bot.send_document(
        chat_id_of(update),
        io.BytesIO(data),
        filename="jiazhan-duty.ics",
        caption=texts("calendar.caption"),
    )


def handlers() -> list[Handler]:
    return [
        CommandHandler("schedule", schedule_command),
        CommandHandler("calendar", calendar_command),
    ]
