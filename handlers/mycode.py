"""/mycode: a deputy's own link and QR code (代表码), and a new one in its place. The
`dep_<code>` deep link a voter opens is followed by handlers.start, which calls `open_code`
here: the deputy's card, the voter's station set to the deputy's (asked first when they
have another one). The deputy is never told who opened it."""

from __future__ import annotations

import io
from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.access import Action
from bot.runtime.buttons.mycode import CodeRenewal, CodeStation, RenewStep
from bot.runtime.buttons.start import deputy_link
from bot.runtime.context import BotContext
from bot.services.deputy_codes import DeputyCode, Meeting, Met
from bot.services.qr_codes import qr_png
from handlers.common import Handler, answer_tap, chat_id_of, clip, guarded, respond
from handlers.keyboards import button

# What opening a code did, as the person who opened it is told.
OUTCOMES = {
    Meeting.BOUND: "mycode.bound",
    Meeting.SAME: "mycode.same",
    Meeting.ASK: "mycode.ask",
    Meeting.KEPT: "mycode.kept",
    Meeting.NOT_VOTER: "mycode.not_voter",
}
# Names as they are shown in a button's label: long ones are cut (Telegram wraps them badly).
LABEL_NAME_MAX = 24

# --- the deputy's side -------------------------------------------------------------------


async def send_code(update: Update, context: BotContext, shown: DeputyCode) -> None:
    """The QR code of the deputy's link, as a photo whose caption names them, their station
    and the link (a name and a station are at most 60 and 100 characters: the caption stays
    far below Telegram's 1024)."""
    texts = context.texts
    link = deputy_link(context.bot.username, shown.code)
    caption = texts(
        "mycode.caption",
        name=escape(shown.deputy.name),
        station=escape(shown.station.name),
        link=escape(link),
    )
    renew = CodeRenewal(step=RenewStep.ASK, code=shown.code)
    markup = InlineKeyboardMarkup([[button(texts("mycode.renew_button"), renew)]])
    await context.bot.send_photo(
        chat_id_of(update), io.BytesIO(qr_png(link)), caption=caption, reply_markup=markup
    )


@guarded(Action.SHOW_DEPUTY_CODE)
async def mycode(update: Update, context: BotContext) -> None:
    """/mycode: the deputy's code, made the first time."""
    await send_code(update, context, await context.services.deputy_codes.code_of(context.user))


@guarded(Action.SHOW_DEPUTY_CODE)
async def renewal(update: Update, context: BotContext) -> None:
    """A new code: asked first (printed posters of the old one stop working), then made."""
    tapped = CodeRenewal.of(update)
    texts = context.texts
    if tapped.step == RenewStep.ASK:
        await answer_tap(update)
        confirm = CodeRenewal(step=RenewStep.CONFIRM, code=tapped.code)
        cancel = CodeRenewal(step=RenewStep.CANCEL, code=tapped.code)
        markup = InlineKeyboardMarkup(
            [
                [button(texts("mycode.renew_confirm"), confirm)],
                [button(texts("mycode.renew_cancel"), cancel)],
            ]
        )
        await respond(update, context, texts("mycode.renew_ask"), markup, edit=False)
        return
    if tapped.step == RenewStep.CANCEL:
        await answer_tap(update)
        await respond(update, context, texts("mycode.renew_cancelled"))
        return
    shown = await context.services.deputy_codes.renew(context.user, tapped.code)
    await answer_tap(update)
    await respond(update, context, texts("mycode.renewed"))
    await send_code(update, context, shown)


# --- the voter's side: the link opened ----------------------------------------------------


def met_text(context: BotContext, met: Met) -> str:
    """The deputy's card, then what opening their code did."""
    texts = context.texts
    name, station = escape(met.deputy.name), escape(met.station.name)
    card = texts("mycode.card", name=name, station=station, street=escape(met.station.street_name))
    own = escape(met.own.name) if met.own is not None else ""
    outcome = texts(OUTCOMES[met.meeting], name=name, station=station, own=own)
    return f"{card}\n\n{outcome}"


def met_markup(context: BotContext, met: Met) -> InlineKeyboardMarkup | None:
    """Switch or keep, for a voter with another station; nothing otherwise."""
    if met.meeting != Meeting.ASK or met.deputy.code is None or met.own is None:
        return None
    texts = context.texts
    code = met.deputy.code
    switch = texts("mycode.switch_button", station=clip(met.station.name, LABEL_NAME_MAX))
    keep = texts("mycode.keep_button", own=clip(met.own.name, LABEL_NAME_MAX))
    return InlineKeyboardMarkup(
        [
            [button(switch, CodeStation(code=code, switch=True))],
            [button(keep, CodeStation(code=code, switch=False))],
        ]
    )


async def open_code(update: Update, context: BotContext, code: str) -> None:
    """The deputy's link, after the consent (refusals are the caller's to show)."""
    met = await context.services.deputy_codes.open(context.user, code)
    if met.meeting == Meeting.BOUND:
        context.account = await context.services.users.get(context.user.telegram_id)
    await respond(update, context, met_text(context, met), met_markup(context, met), edit=False)


@guarded(Action.CHOOSE_STATION)
async def station_choice(update: Update, context: BotContext) -> None:
    """The voter asked: the deputy's station instead of theirs, or keep theirs."""
    tapped = CodeStation.of(update)
    codes = context.services.deputy_codes
    if tapped.switch:
        met = await codes.switch(context.user, tapped.code)
        context.account = await context.services.users.get(context.user.telegram_id)
    else:
        met = await codes.keep(context.user, tapped.code)
    await answer_tap(update)
    await respond(update, context, met_text(context, met))


def handlers() -> list[Handler]:
    return [
        CommandHandler("mycode", mycode),
        CallbackQueryHandler(renewal, pattern=CodeRenewal.filter()),
        CallbackQueryHandler(station_choice, pattern=CodeStation.filter()),
    ]
