"""/duty for staff: set up monthly reception rules, one-off turns, home visits and annual
accounts in chat; list rules to change or end them. Each step is kept in the database."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import Picker, StationPicked, StreetPage, StreetStations
from bot.runtime.buttons.duty import (
    DutyDeputiesDone,
    DutyDeputy,
    DutyDiscard,
    DutyMenu,
    DutyMode,
    DutyRuleControl,
    DutySave,
    DutyWeek,
    DutyWeekday,
    RuleAction,
    WeekOfMonth,
)
from bot.runtime.context import BotContext
from bot.services.calendar import CONVERSATION, TURN_LABELS, WEEKS_OF_MONTH
from bot.services.typed_dates import YearDirection, parse_date, parse_time_range
from handlers.common import answer_tap, chat_id_of, guarded, respond
from handlers.keyboards import button, picker_handlers, rows_of, station_picker, street_picker
from storage.models import DutyRule, TurnKind

MENU, STATION, WEEK, WEEKDAY, DATE, TIME, DEPUTIES, CONFIRM, RULES = (
    "menu",
    "station",
    "week",
    "weekday",
    "date",
    "time",
    "deputies",
    "confirm",
    "rules",
)
END = ConversationHandler.END
PICK = Picker.DUTY
MODES = {
    DutyMode.RULE: "duty.new_rule",
    DutyMode.RECEPTION: "duty.new_reception",
    DutyMode.HOME_VISIT: "duty.new_home_visit",
    DutyMode.ANNUAL_ACCOUNT: "duty.new_annual_account",
}


async def _step(
    update: Update, context: BotContext, data: dict[str, Any], step: str | None
) -> str | int:
    await context.services.calendar.save_draft(context.user, chat_id_of(update), data, step)
    return END if step is None else step


def _week_label(texts: Texts, week: int) -> str:
    return texts(f"duty.week_{week}")


# --- entry and menu ----------------------------------------------------------------------


@guarded(Action.MANAGE_CALENDAR)
async def begin(update: Update, context: BotContext) -> str | int:
    texts = context.texts
    buttons = [button(texts(label), DutyMenu(mode=mode)) for mode, label in MODES.items()]
    buttons.append(button(texts("duty.list_rules"), DutyMenu(mode=DutyMode.RULES)))
    markup = InlineKeyboardMarkup(
        [*rows_of(buttons, 1), [button(texts("duty.discard"), DutyDiscard())]]
    )
    await respond(update, context, texts("duty.menu"), markup, edit=False)
    return await _step(update, context, {}, MENU)


@guarded(Action.MANAGE_CALENDAR)
async def choose_mode(update: Update, context: BotContext) -> str | int:
    mode = DutyMenu.of(update).mode
    await answer_tap(update)
    if mode == DutyMode.RULES:
        return await show_rules(update, context)
    markup = await street_picker(context.services, context.texts, PICK, 0)
    await respond(update, context, context.texts("duty.pick_street"), markup)
    return await _step(update, context, {"mode": mode.value}, STATION)


# --- station -----------------------------------------------------------------------------


@guarded(Action.MANAGE_CALENDAR)
async def street_page(update: Update, context: BotContext) -> None:
    page = StreetPage.of(update).page
    await answer_tap(update)
    markup = await street_picker(context.services, context.texts, PICK, page)
    await respond(update, context, context.texts("duty.pick_street"), markup)


@guarded(Action.MANAGE_CALENDAR)
async def station_page(update: Update, context: BotContext) -> None:
    tapped = StreetStations.of(update)
    street_id, page = tapped.street, tapped.page
    await context.services.stations.street(street_id)
    await answer_tap(update)
    markup = await station_picker(context.services, context.texts, PICK, street_id, page)
    await respond(update, context, context.texts("duty.pick_station"), markup)


@guarded(Action.MANAGE_CALENDAR)
async def station_chosen(update: Update, context: BotContext) -> str | int | None:
    station = await context.services.stations.get(StationPicked.of(update).station)
    data = await context.services.calendar.draft(context.user)
    if not await context.services.calendar.deputies_at(station.id):
        raise DomainError("duty.no_deputies_here")
    await answer_tap(update)
    data["station_id"] = station.id
    data["deputies"] = []
    if data.get("mode") == "rule":
        return await ask_week(update, context, data)
    await respond(update, context, context.texts("duty.ask_date"))
    return await _step(update, context, data, DATE)


# --- when --------------------------------------------------------------------------------


async def ask_week(update: Update, context: BotContext, data: dict[str, Any]) -> str | int:
    texts = context.texts
    buttons = [
        button(_week_label(texts, w), DutyWeek(week=WeekOfMonth.of(w))) for w in WEEKS_OF_MONTH
    ]
    await respond(
        update, context, texts("duty.pick_week"), InlineKeyboardMarkup(rows_of(buttons, 3))
    )
    return await _step(update, context, data, WEEK)


@guarded(Action.MANAGE_CALENDAR)
async def choose_week(update: Update, context: BotContext) -> str | int:
    week = DutyWeek.of(update).week.number
    await answer_tap(update)
    data = await context.services.calendar.draft(context.user)
    data["week"] = week
    texts = context.texts
    buttons = [button(texts(f"weekday.{d}"), DutyWeekday(weekday=d)) for d in range(7)]
    await respond(
        update, context, texts("duty.pick_weekday"), InlineKeyboardMarkup(rows_of(buttons, 4))
    )
    return await _step(update, context, data, WEEKDAY)


@guarded(Action.MANAGE_CALENDAR)
async def choose_weekday(update: Update, context: BotContext) -> str | int:
    weekday = DutyWeekday.of(update).weekday
    await answer_tap(update)
    data = await context.services.calendar.draft(context.user)
    data["weekday"] = weekday
    await respond(update, context, context.texts("duty.ask_time"))
    return await _step(update, context, data, TIME)


@guarded(Action.MANAGE_CALENDAR)
async def receive_date(update: Update, context: BotContext) -> str | int:
    assert update.effective_message is not None
    services = context.services
    day = parse_date(
        update.effective_message.text,
        today=services.calendar.today(),
        direction=YearDirection.NEXT,
        refusal="duty.bad_date",
    )
    if day < services.calendar.today():
        raise DomainError("duty.in_the_past")
    data = await services.calendar.draft(context.user)
    data["date"] = day.isoformat()
    await respond(update, context, context.texts("duty.ask_time"), edit=False)
    return await _step(update, context, data, TIME)


@guarded(Action.MANAGE_CALENDAR)
async def receive_time(update: Update, context: BotContext) -> str | int:
    assert update.effective_message is not None
    starts, ends = parse_time_range(update.effective_message.text)
    data = await context.services.calendar.draft(context.user)
    data["time"] = f"{starts}-{ends}"
    return await ask_deputies(update, context, data)


# --- who ---------------------------------------------------------------------------------


async def ask_deputies(update: Update, context: BotContext, data: dict[str, Any]) -> str | int:
    texts = context.texts
    chosen = set(data.get("deputies", []))
    buttons = [
        button(("✓ " if d.user_id in chosen else "") + d.name, DutyDeputy(deputy=d.user_id))
        for d in await context.services.calendar.deputies_at(int(data["station_id"]))
    ]
    markup = InlineKeyboardMarkup(
        [*rows_of(buttons, 2), [button(texts("duty.done"), DutyDeputiesDone())]]
    )
    await respond(
        update, context, texts("duty.pick_deputies"), markup, edit=update.callback_query is not None
    )
    return await _step(update, context, data, DEPUTIES)


@guarded(Action.MANAGE_CALENDAR)
async def toggle_deputy(update: Update, context: BotContext) -> str | int:
    deputy_id = DutyDeputy.of(update).deputy
    data = await context.services.calendar.draft(context.user)
    here = {d.user_id for d in await context.services.calendar.deputies_at(int(data["station_id"]))}
    if deputy_id not in here:
        raise DomainError("duty.unknown_deputy")
    await answer_tap(update)
    chosen = set(data.get("deputies", []))
    chosen ^= {deputy_id}
    data["deputies"] = sorted(chosen)
    return await ask_deputies(update, context, data)


@guarded(Action.MANAGE_CALENDAR)
async def deputies_done(update: Update, context: BotContext) -> str | int:
    data = await context.services.calendar.draft(context.user)
    if not data.get("deputies"):
        raise DomainError("duty.no_deputies")
    await answer_tap(update)
    texts = context.texts
    station = await context.services.stations.get(int(data["station_id"]))
    names = "、".join(
        d.name
        for d in await context.services.calendar.deputies_at(station.id)
        if d.user_id in data["deputies"]
    )
    starts, ends = data["time"].split("-")
    if data["mode"] in ("rule", "change"):
        summary = texts(
            "duty.summary_rule",
            station=escape(station.name),
            week=_week_label(texts, int(data["week"])),
            weekday=texts(f"weekday.{data['weekday']}"),
            start=starts,
            end=ends,
            deputies=escape(names),
        )
    else:
        summary = texts(
            "duty.summary_turn",
            kind=texts(TURN_LABELS[TurnKind(data["mode"])]),
            station=escape(station.name),
            date=date.fromisoformat(data["date"]).isoformat(),
            start=starts,
            end=ends,
            deputies=escape(names),
        )
    markup = InlineKeyboardMarkup(
        [[button(texts("duty.save"), DutySave()), button(texts("duty.discard"), DutyDiscard())]]
    )
    await respond(update, context, summary, markup)
    return await _step(update, context, data, CONFIRM)


@guarded(Action.MANAGE_CALENDAR)
async def save(update: Update, context: BotContext) -> str | int:
    calendar = context.services.calendar
    data = await calendar.draft(context.user)
    if "time" not in data or not data.get("deputies"):
        raise DomainError("error.stale_button")
    texts = context.texts
    mode = data["mode"]
    if mode == "rule":
        rule = await calendar.add_rule(
            context.user,
            station_id=int(data["station_id"]),
            week_of_month=int(data["week"]),
            weekday=int(data["weekday"]),
            time_range=data["time"],
            deputy_ids=data["deputies"],
        )
        count = await calendar.turns_of_rule(rule.id)
        text = texts("duty.saved_rule", number=rule.id, count=texts.number(count))
    elif mode == "change":
        rule = await calendar.change_rule(
            context.user,
            int(data["rule_id"]),
            week_of_month=int(data["week"]),
            weekday=int(data["weekday"]),
            time_range=data["time"],
            deputy_ids=data["deputies"],
        )
        text = texts("duty.changed_rule", number=rule.id)
    else:
        turn = await calendar.add_turn(
            context.user,
            kind=TurnKind(mode),
            station_id=int(data["station_id"]),
            day=date.fromisoformat(data["date"]),
            time_range=data["time"],
            deputy_ids=data["deputies"],
        )
        text = texts(
            "duty.saved_turn", kind=texts(TURN_LABELS[turn.kind]), date=texts.date(turn.starts_at)
        )
    await answer_tap(update)
    await respond(update, context, text)
    return await _step(update, context, {}, None)


# --- rules: list, change, end ------------------------------------------------------------


async def _rule_line(context: BotContext, rule: DutyRule) -> str:
    texts = context.texts
    station = await context.services.stations.get(rule.station_id)
    names = "、".join(
        d.name
        for d in await context.services.calendar.deputies_at(rule.station_id)
        if d.user_id in rule.deputy_ids
    )
    return texts(
        "duty.rule_line",
        number=rule.id,
        station=escape(station.name),
        week=_week_label(texts, rule.week_of_month),
        weekday=texts(f"weekday.{rule.weekday}"),
        start=rule.starts,
        end=rule.ends,
        deputies=escape(names or "—"),
    )


async def show_rules(update: Update, context: BotContext) -> str | int:
    texts = context.texts
    rules = await context.services.calendar.rules(context.user)
    if not rules:
        await respond(update, context, texts("duty.rules_empty"))
        return await _step(update, context, {}, None)
    lines = [texts("duty.rules_title")] + [await _rule_line(context, r) for r in rules]
    rows = [
        [
            button(
                texts("duty.change", number=r.id),
                DutyRuleControl(action=RuleAction.CHANGE, rule=r.id),
            ),
            button(
                texts("duty.end", number=r.id), DutyRuleControl(action=RuleAction.END, rule=r.id)
            ),
        ]
        for r in rules
    ]
    rows.append([button(texts("duty.discard"), DutyDiscard())])
    await respond(update, context, "\n".join(lines), InlineKeyboardMarkup(rows))
    return await _step(update, context, {}, RULES)


@guarded(Action.MANAGE_CALENDAR)
async def change_rule(update: Update, context: BotContext) -> str | int:
    rule = await context.services.calendar.open_rule(context.user, DutyRuleControl.of(update).rule)
    await answer_tap(update)
    data = {
        "mode": "change",
        "rule_id": rule.id,
        "station_id": rule.station_id,
        "deputies": rule.deputy_ids,
    }
    return await ask_week(update, context, data)


@guarded(Action.MANAGE_CALENDAR)
async def end_rule(update: Update, context: BotContext) -> str | int:
    rule_id = DutyRuleControl.of(update).rule
    await context.services.calendar.open_rule(context.user, rule_id)
    await answer_tap(update)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    texts("duty.confirm_end_yes"),
                    DutyRuleControl(action=RuleAction.END_CONFIRMED, rule=rule_id),
                ),
                button(texts("duty.discard"), DutyDiscard()),
            ]
        ]
    )
    await respond(update, context, texts("duty.confirm_end", number=rule_id), markup)
    return RULES


@guarded(Action.MANAGE_CALENDAR)
async def end_rule_confirmed(update: Update, context: BotContext) -> str | int:
    rule = await context.services.calendar.end_rule(context.user, DutyRuleControl.of(update).rule)
    await answer_tap(update)
    await respond(update, context, context.texts("duty.ended_rule", number=rule.id))
    return await _step(update, context, {}, None)


# --- leaving and bad input ---------------------------------------------------------------


async def discard(update: Update, context: BotContext) -> int:
    await context.services.calendar.save_draft(context.user, chat_id_of(update), {}, None)
    await answer_tap(update)
    await respond(update, context, context.texts("duty.discarded"))
    return END


async def use_buttons(update: Update, context: BotContext) -> None:
    await respond(update, context, context.texts("duty.use_buttons"), edit=False)


async def command_in_middle(update: Update, context: BotContext) -> None:
    await respond(update, context, context.texts("duty.in_progress"), edit=False)


def handlers() -> list[BaseHandler]:
    text = filters.TEXT & ~filters.COMMAND
    others = MessageHandler(~filters.COMMAND, use_buttons)
    picker = picker_handlers(PICK, street_page, station_page, station_chosen)
    conversation = ConversationHandler(
        entry_points=[CommandHandler("duty", begin)],  # type: ignore[arg-type]
        states={
            MENU: [CallbackQueryHandler(choose_mode, pattern=DutyMenu.filter()), others],
            STATION: [*picker, others],
            WEEK: [CallbackQueryHandler(choose_week, pattern=DutyWeek.filter()), others],
            WEEKDAY: [CallbackQueryHandler(choose_weekday, pattern=DutyWeekday.filter()), others],
            DATE: [MessageHandler(text, receive_date), others],
            TIME: [MessageHandler(text, receive_time), others],
            DEPUTIES: [
                CallbackQueryHandler(toggle_deputy, pattern=DutyDeputy.filter()),
                CallbackQueryHandler(deputies_done, pattern=DutyDeputiesDone.filter()),
                others,
            ],
            CONFIRM: [CallbackQueryHandler(save, pattern=DutySave.filter()), others],
            RULES: [
                CallbackQueryHandler(
                    change_rule, pattern=DutyRuleControl.filter(action=RuleAction.CHANGE)
                ),
                CallbackQueryHandler(
                    end_rule, pattern=DutyRuleControl.filter(action=RuleAction.END)
                ),
                CallbackQueryHandler(
                    end_rule_confirmed,
                    pattern=DutyRuleControl.filter(action=RuleAction.END_CONFIRMED),
                ),
                others,
            ],
        },  # type: ignore[dict-item]
        fallbacks=[
            CommandHandler("cancel", discard),  # type: ignore[arg-type]
            CallbackQueryHandler(discard, pattern=DutyDiscard.filter()),  # type: ignore[arg-type]
            MessageHandler(filters.COMMAND, command_in_middle),  # type: ignore[arg-type]
        ],
        name=CONVERSATION,
        persistent=True,
    )
    return [conversation]
