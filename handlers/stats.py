"""/stats: the figures for a period and an area, as a message, an .xlsx and a chart.

Staff pick a period (this month, quarter or year, last year, or type a range) and an area
(the district, a street or a station through the shared picker); every step stores the
draft and the next step (bot.services.figures.STATS) before answering, so a restart resumes
there. The message lists each section's figures with the labels of the .xlsx and .docx
(bot.services.figures_documents); the chart follows as a photo."""

from __future__ import annotations

import io
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.runtime.buttons import Picker, any_of
from bot.runtime.buttons.stats import StatsArea, StatsCancel, StatsPeriod
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services import figures_documents as documents
from bot.services.figures import (
    STATS,
    Area,
    AreaKind,
    FiguresReport,
    Period,
    PeriodChoice,
    StatsDraft,
    StatsStep,
)
from bot.services.figures_documents import (
    AREA_KINDS,
    area_name,
    parts,
    period_text,
    top_categories,
    value_text,
)
from handlers.ballot_results import chunks
from handlers.common import (
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    guarded,
    message_of,
    respond,
    saying,
)
from handlers.keyboards import button
from handlers.station_picker import TYPE_A_NAME, Rows, StationPicker, View

Step = StatsStep
END = DeclaredConversation.END
PERIOD_LABELS = {
    PeriodChoice.THIS_MONTH: "stats.this_month",
    PeriodChoice.THIS_QUARTER: "stats.this_quarter",
    PeriodChoice.THIS_YEAR: "stats.this_year",
    PeriodChoice.LAST_YEAR: "stats.last_year",
}
AREA_BUTTONS = {
    AreaKind.DISTRICT: "stats.whole_district",
    AreaKind.STREET: "stats.a_street",
    AreaKind.STATION: "stats.a_station",
}


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [button(context.texts("stats.cancel_button"), StatsCancel())]


async def _save(update: Update, context: BotContext, draft: StatsDraft, step: Step | None) -> None:
    await context.services.conversations.save(STATS, context.user, chat_id_of(update), draft, step)


async def _draft(context: BotContext) -> StatsDraft:
    return await context.services.conversations.load(STATS, context.user)


# --- the steps ---------------------------------------------------------------------------


async def ask_period(update: Update, context: BotContext) -> None:
    texts = context.texts
    choices = [button(texts(label), StatsPeriod(choice=c)) for c, label in PERIOD_LABELS.items()]
    markup = InlineKeyboardMarkup([choices[:2], choices[2:], _cancel_row(context)])
    await respond(update, context, texts("stats.ask_period"), markup, edit=False)


async def ask_area(update: Update, context: BotContext, period: Period) -> None:
    texts = context.texts
    rows = [[button(texts(label), StatsArea(kind=k))] for k, label in AREA_BUTTONS.items()]
    text = texts("stats.ask_area", period=period_text(texts, period))
    markup = InlineKeyboardMarkup([*rows, _cancel_row(context)])
    await respond(update, context, text, markup, edit=update.callback_query is not None)


@guarded(Action.VIEW_STATS)
async def begin(update: Update, context: BotContext) -> Step:
    await _save(update, context, StatsDraft(), Step.PERIOD)
    await ask_period(update, context)
    return Step.PERIOD


async def _period_chosen(update: Update, context: BotContext, period: Period) -> Step:
    await _save(update, context, StatsDraft(start=period.start, end=period.end), Step.AREA)
    await answer_tap(update)
    await ask_area(update, context, period)
    return Step.AREA


@guarded(Action.VIEW_STATS)
async def choose_period(update: Update, context: BotContext) -> Step | None:
    choice = StatsPeriod.of(update).choice
    period = context.services.figures.preset(context.user, choice)
    return await _period_chosen(update, context, period)


@guarded(Action.VIEW_STATS)
async def type_period(update: Update, context: BotContext) -> Step | None:
    period = context.services.figures.typed_period(context.user, message_of(update).text)
    return await _period_chosen(update, context, period)


@guarded(Action.VIEW_STATS)
async def choose_area(update: Update, context: BotContext) -> Step | int | None:
    kind = StatsArea.of(update).kind
    draft = await _draft(context)
    draft.period()  # a draft without its period (forged step) is refused here
    if kind == AreaKind.DISTRICT:
        return await _report(update, context, Area.district())
    step, picker = (Step.STREET, STREETS) if kind == AreaKind.STREET else (Step.STATION, STATIONS)
    await _save(update, context, draft, step)
    await answer_tap(update)
    await picker.show(update, context)
    return step


async def _street_picked(update: Update, context: BotContext, street_id: int) -> int:
    return await _report(update, context, Area(AreaKind.STREET, street_id), answer=False)


async def _station_picked(update: Update, context: BotContext, station_id: int) -> int:
    return await _report(update, context, Area(AreaKind.STATION, station_id), answer=False)


async def _cancel_below(context: BotContext, view: View) -> Rows:
    """Below every view of the pickers: leave /stats."""
    return [_cancel_row(context)]


STREETS = StationPicker(
    Picker.STATS,
    Action.VIEW_STATS,
    _street_picked,
    "stats.pick_street",
    hint=TYPE_A_NAME,
    street_is_answer=True,
    rows_below=_cancel_below,
)
STATIONS = StationPicker(
    Picker.STATS,
    Action.VIEW_STATS,
    _station_picked,
    "stats.pick_station",
    street_prompt="stats.pick_station_of",
    hint=TYPE_A_NAME,
    rows_below=_cancel_below,
)


# --- the figures -------------------------------------------------------------------------


def render(context: BotContext, report: FiguresReport) -> list[str]:
    """The key figures as lines: the period and area, then each section's lines (the
    labels of the .xlsx), with the hot topics under the opinions."""
    texts = context.texts
    kind = texts(AREA_KINDS[report.area.kind])
    if report.area.kind == AreaKind.DISTRICT:
        where = texts("stats.head_district")
    else:
        where = texts("stats.head_area", area=escape(area_name(texts, report)), kind=kind)
    lines = [
        texts("stats.head"),
        texts("stats.head_period", period=period_text(texts, report.period)),
        where,
    ]
    for part in parts(texts, report):
        lines += ["", texts("stats.section", title=part.title)]
        if part.lines is None:
            lines.append(texts("stats.district_only"))
            continue
        lines += [
            texts("stats.line", label=line.label, value=value_text(texts, line))
            for line in part.lines
        ]
        if part.name == "opinions" and report.opinions.by_category:
            topics = top_categories(texts, report.opinions.by_category)
            lines.append(texts("stats.hot_topics", topics=escape(topics)))
    return lines


async def _report(update: Update, context: BotContext, area: Area, *, answer: bool = True) -> int:
    """Compute, end the conversation, then the message, the .xlsx and the chart."""
    services = context.services
    draft = await _draft(context)
    report = await services.figures.view(context.user, draft.period(), area)
    await _save(update, context, draft, None)
    if answer:
        await answer_tap(update)
    texts = context.texts
    chat_id = chat_id_of(update)
    for message in chunks(render(context, report)):
        await context.bot.send_message(chat_id, message)
    caption = texts(
        "stats.files_caption",
        period=period_text(texts, report.period),
        area=escape(area_name(texts, report)),
    )
    await context.bot.send_document(
        chat_id,
        io.BytesIO(await documents.xlsx(report, texts)),
        filename=documents.file_name(texts, report, "xlsx"),
        caption=caption,
    )
    await context.bot.send_photo(
        chat_id, io.BytesIO(await documents.chart(report, texts)), caption=caption
    )
    return END


@guarded(Action.VIEW_STATS)
async def cancel(update: Update, context: BotContext) -> int:
    await _save(update, context, StatsDraft(), None)
    await answer_tap(update)
    await respond(update, context, context.texts("stats.cancelled"))
    return END


command_in_middle = saying("stats.in_progress")
stale_button = alerting("error.stale_button")


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND

    def others(key: str) -> Handler:
        return MessageHandler(~filters.COMMAND, saying(key))

    conversation = DeclaredConversation(
        STATS,
        entry_points=[CommandHandler("stats", begin)],
        states={
            Step.PERIOD: [
                CallbackQueryHandler(choose_period, pattern=StatsPeriod.filter()),
                MessageHandler(text, type_period),
                others("stats.bad_period_input"),
            ],
            Step.AREA: [
                CallbackQueryHandler(choose_area, pattern=StatsArea.filter()),
                others("stats.use_buttons"),
            ],
            Step.STREET: [*STREETS.handlers(), STREETS.search_handler(), others("stats.bad_pick")],
            Step.STATION: [
                *STATIONS.handlers(),
                STATIONS.search_handler(),
                others("stats.bad_pick"),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=StatsCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
            # a button of a step left behind: refused as stale, the step stays
            CallbackQueryHandler(stale_button, pattern=any_of(StatsPeriod, StatsArea)),
        ],
    )
    return [conversation]
