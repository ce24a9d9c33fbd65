"""/duty for staff: set up monthly reception rules, one-off turns, home visits and annual
accounts in chat; list rules to change or end them. Each step is kept in the database with
its typed draft (bot.services.calendar.DUTY)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import Picker
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
from bot.runtime.conversation import DeclaredConversation
from bot.services.calendar import (
    DUTY,
    ONE_OFF_TURNS,
    TURN_LABELS,
    WEEKS_OF_MONTH,
    DutyDraft,
    DutyStep,
    DutyTask,
    filled,
)
from bot.services.typed_dates import parse_time_range
from handlers.common import (
    Handler,
    answer_tap,
    chat_id_of,
    guarded,
    message_of,
    respond,
    saying,
)
from handlers.keyboards import button, rows_of
from handlers.station_picker import TYPE_A_NAME, StationPicker
from storage.models import DutyRule

Step = DutyStep
END = DeclaredConversation.END
# The menu: what each choice sets up, and its label (RULES lists the rules instead).
MODES = {
    DutyMode.RULE: (DutyTask.RULE, "duty.new_rule"),
    DutyMode.RECEPTION: (DutyTask.RECEPTION, "duty.new_reception"),
    DutyMode.HOME_VISIT: (DutyTask.HOME_VISIT, "duty.new_home_visit"),
    DutyMode.ANNUAL_ACCOUNT: (DutyTask.ANNUAL_ACCOUNT, "duty.new_annual_account"),
}


async def _step(
    update: Update, context: BotContext, draft: DutyDraft | None, step: Step | None
) -> Step | int:
    await context.services.calendar.save_draft(context.user, chat_id_of(update), draft, step)
    return END if step is None else step


async def _draft(update: Update, context: BotContext) -> DutyDraft:
    """The staff member's draft (one that can no longer be read ends /duty: see
    bot.runtime.conversation.DeclaredConversation)."""
    return await context.services.calendar.draft(context.user)


def _week_label(texts: Texts, week: int) -> str:
    return texts(f"duty.week_{week}")


# --- entry and menu ----------------------------------------------------------------------


@guarded(Action.MANAGE_CALENDAR)
async def begin(update: Update, context: BotContext) -> Step | int:
    texts = context.texts
    buttons = [button(texts(label), DutyMenu(mode=mode)) for mode, (_, label) in MODES.items()]
    buttons.append(button(texts("duty.list_rules"), DutyMenu(mode=DutyMode.RULES)))
    markup = InlineKeyboardMarkup(
        [*rows_of(buttons, 1), [button(texts("duty.discard"), DutyDiscard())]]
    )
    await respond(update, context, texts("duty.menu"), markup, edit=False)
    return await _step(update, context, DutyDraft(), Step.MENU)


@guarded(Action.MANAGE_CALENDAR)
async def choose_mode(update: Update, context: BotContext) -> Step | int:
    mode = DutyMenu.of(update).mode
    await answer_tap(update)
    if mode == DutyMode.RULES:
        return await show_rules(update, context)
    await PICKER.show(update, context)
    return await _step(update, context, DutyDraft(task=MODES[mode][0]), Step.STATION)


# --- station -----------------------------------------------------------------------------


async def station_chosen(update: Update, context: BotContext, station_id: int) -> Step | int:
    """The picker's answer (it answers the tap itself)."""
    draft = await _draft(update, context)
    if not await context.services.calendar.deputies_at(station_id):
        raise DomainError("duty.no_deputies_here")
    draft.station_id = station_id
    draft.deputy_ids = []
    if draft.task == DutyTask.RULE:
        return await ask_week(update, context, draft)
    await respond(update, context, context.texts("duty.ask_date"))
    return await _step(update, context, draft, Step.DATE)


PICKER = StationPicker(
    Picker.DUTY,
    Action.MANAGE_CALENDAR,
    station_chosen,
    "duty.pick_street",
    street_prompt="duty.pick_station",
    hint=TYPE_A_NAME,
)


# --- when --------------------------------------------------------------------------------


async def ask_week(update: Update, context: BotContext, draft: DutyDraft) -> Step | int:
    texts = context.texts
    buttons = [
        button(_week_label(texts, w), DutyWeek(week=WeekOfMonth.of(w))) for w in WEEKS_OF_MONTH
    ]
    await respond(
        update, context, texts("duty.pick_week"), InlineKeyboardMarkup(rows_of(buttons, 3))
    )
    return await _step(update, context, draft, Step.WEEK)


@guarded(Action.MANAGE_CALENDAR)
async def choose_week(update: Update, context: BotContext) -> Step | int:
    week = DutyWeek.of(update).week.number
    draft = await _draft(update, context)
    await answer_tap(update)
    draft.week = week
    texts = context.texts
    buttons = [button(texts(f"weekday.{d}"), DutyWeekday(weekday=d)) for d in range(7)]
    await respond(
        update, context, texts("duty.pick_weekday"), InlineKeyboardMarkup(rows_of(buttons, 4))
    )
    return await _step(update, context, draft, Step.WEEKDAY)


@guarded(Action.MANAGE_CALENDAR)
async def choose_weekday(update: Update, context: BotContext) -> Step | int:
    weekday = DutyWeekday.of(update).weekday
    draft = await _draft(update, context)
    await answer_tap(update)
    draft.weekday = weekday
    await respond(update, context, context.texts("duty.ask_time"))
    return await _step(update, context, draft, Step.TIME)


@guarded(Action.MANAGE_CALENDAR)
async def receive_date(update: Update, context: BotContext) -> Step | int:
    day = context.services.calendar.turn_day(message_of(update).text)
    draft = await _draft(update, context)
    draft.day = day
    await respond(update, context, context.texts("duty.ask_time"), edit=False)
    return await _step(update, context, draft, Step.TIME)


@guarded(Action.MANAGE_CALENDAR)
async def receive_time(update: Update, context: BotContext) -> Step | int:
    starts, ends = parse_time_range(message_of(update).text)
    draft = await _draft(update, context)
    draft.starts, draft.ends = starts, ends
    return await ask_deputies(update, context, draft)


# --- who ---------------------------------------------------------------------------------


async def ask_deputies(update: Update, context: BotContext, draft: DutyDraft) -> Step | int:
    texts = context.texts
    chosen = set(draft.deputy_ids)
    station_id = filled(draft.station_id)
    buttons = [
        button(("✓ " if d.user_id in chosen else "") + d.name, DutyDeputy(deputy=d.user_id))
        for d in await context.services.calendar.deputies_at(station_id)
    ]
    markup = InlineKeyboardMarkup(
        [*rows_of(buttons, 2), [button(texts("duty.done"), DutyDeputiesDone())]]
    )
    await respond(
        update, context, texts("duty.pick_deputies"), markup, edit=update.callback_query is not None
    )
    return await _step(update, context, draft, Step.DEPUTIES)


@guarded(Action.MANAGE_CALENDAR)
async def toggle_deputy(update: Update, context: BotContext) -> Step | int:
    deputy_id = DutyDeputy.of(update).deputy
    draft = await _draft(update, context)
    station_id = filled(draft.station_id)
    here = {d.user_id for d in await context.services.calendar.deputies_at(station_id)}
    if deputy_id not in here:
        raise DomainError("duty.unknown_deputy")
    await answer_tap(update)
    draft.deputy_ids = sorted(set(draft.deputy_ids) ^ {deputy_id})
    return await ask_deputies(update, context, draft)


async def _summary(context: BotContext, draft: DutyDraft) -> str:
    """What Save will save, in a few lines."""
    texts = context.texts
    station = await context.services.stations.get(filled(draft.station_id))
    names = "、".join(
        d.name
        for d in await context.services.calendar.deputies_at(station.id)
        if d.user_id in draft.deputy_ids
    )
    task = filled(draft.task)
    if draft.is_rule:
        return texts(
            "duty.summary_rule",
            station=escape(station.name),
            week=_week_label(texts, filled(draft.week)),
            weekday=texts(f"weekday.{filled(draft.weekday)}"),
            start=filled(draft.starts),
            end=filled(draft.ends),
            deputies=escape(names),
        )
    return texts(
        "duty.summary_turn",
        kind=texts(TURN_LABELS[ONE_OFF_TURNS[task]]),
        station=escape(station.name),
        date=filled(draft.day).isoformat(),
        start=filled(draft.starts),
        end=filled(draft.ends),
        deputies=escape(names),
    )


@guarded(Action.MANAGE_CALENDAR)
async def deputies_done(update: Update, context: BotContext) -> Step | int:
    draft = await _draft(update, context)
    if not draft.deputy_ids:
        raise DomainError("duty.no_deputies")
    summary = await _summary(context, draft)
    await answer_tap(update)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("duty.save"), DutySave()), button(texts("duty.discard"), DutyDiscard())]]
    )
    await respond(update, context, summary, markup)
    return await _step(update, context, draft, Step.CONFIRM)


@guarded(Action.MANAGE_CALENDAR)
async def save(update: Update, context: BotContext) -> Step | int:
    calendar = context.services.calendar
    draft = await _draft(update, context)
    saved = await calendar.complete(context.user, chat_id_of(update), draft)
    texts = context.texts
    if isinstance(saved, DutyRule):
        if draft.task == DutyTask.CHANGE:
            text = texts("duty.changed_rule", number=saved.id)
        else:
            count = texts.number(await calendar.turns_of_rule(saved.id))
            text = texts("duty.saved_rule", number=saved.id, count=count)
    else:
        kind = texts(TURN_LABELS[saved.kind])
        text = texts("duty.saved_turn", kind=kind, date=texts.date(saved.starts_at))
    await answer_tap(update)
    await respond(update, context, text)
    return END


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


async def show_rules(update: Update, context: BotContext) -> Step | int:
    texts = context.texts
    rules = await context.services.calendar.rules(context.user)
    if not rules:
        await respond(update, context, texts("duty.rules_empty"))
        return await _step(update, context, None, None)
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
    return await _step(update, context, DutyDraft(), Step.RULES)


@guarded(Action.MANAGE_CALENDAR)
async def change_rule(update: Update, context: BotContext) -> Step | int:
    rule = await context.services.calendar.open_rule(context.user, DutyRuleControl.of(update).rule)
    await answer_tap(update)
    draft = DutyDraft(
        task=DutyTask.CHANGE,
        rule_id=rule.id,
        station_id=rule.station_id,
        deputy_ids=rule.deputy_ids,
    )
    return await ask_week(update, context, draft)


@guarded(Action.MANAGE_CALENDAR)
async def end_rule(update: Update, context: BotContext) -> Step | int:
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
    return Step.RULES


@guarded(Action.MANAGE_CALENDAR)
async def end_rule_confirmed(update: Update, context: BotContext) -> Step | int:
    rule = await context.services.calendar.end_rule(context.user, DutyRuleControl.of(update).rule)
    await answer_tap(update)
    await respond(update, context, context.texts("duty.ended_rule", number=rule.id))
    return await _step(update, context, None, None)


# --- leaving and bad input ---------------------------------------------------------------


async def discard(update: Update, context: BotContext) -> int:
    await _step(update, context, None, None)
    await answer_tap(update)
    await respond(update, context, context.texts("duty.discarded"))
    return END


use_buttons = saying("duty.use_buttons")


command_in_middle = saying("duty.in_progress")


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    others = MessageHandler(~filters.COMMAND, use_buttons)
    conversation = DeclaredConversation(
        DUTY,
        entry_points=[CommandHandler("duty", begin)],
        states={
            Step.MENU: [CallbackQueryHandler(choose_mode, pattern=DutyMenu.filter()), others],
            # a name typed at the station step is searched for
            Step.STATION: [*PICKER.handlers(), PICKER.search_handler(), others],
            Step.WEEK: [CallbackQueryHandler(choose_week, pattern=DutyWeek.filter()), others],
            Step.WEEKDAY: [
                CallbackQueryHandler(choose_weekday, pattern=DutyWeekday.filter()),
                others,
            ],
            Step.DATE: [MessageHandler(text, receive_date), others],
            Step.TIME: [MessageHandler(text, receive_time), others],
            Step.DEPUTIES: [
                CallbackQueryHandler(toggle_deputy, pattern=DutyDeputy.filter()),
                CallbackQueryHandler(deputies_done, pattern=DutyDeputiesDone.filter()),
                others,
            ],
            Step.CONFIRM: [CallbackQueryHandler(save, pattern=DutySave.filter()), others],
            Step.RULES: [
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
        },
        fallbacks=[
            CommandHandler("cancel", discard),
            CallbackQueryHandler(discard, pattern=DutyDiscard.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
        ],
    )
    return [conversation]
