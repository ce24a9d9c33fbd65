"""/mycode: a deputy's own link and QR code (代表码), and a new one in its place. The
`dep_<code>` deep link a voter opens is followed by handlers.start, which calls `open_code`
here: the deputy's card, the voter's station set to the deputy's (asked first when they
have another one). A location key left under the input field (by /station, say) goes with
the card: the station is settled, or about to be. The deputy is never told who opened it."""

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
from handlers.location_key import settle_tap, take_location_key_away

# What opening a code did, as the person who opened it is told.
OUTCOMES = {
    Meeting.BOUND: "mycode.bound",
    Meeting.SAME: "mycode.same",
    Meeting.ASK: "mycode.ask",
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


def card_text(context: BotContext, met: Met) -> str:
    """The deputy's card: name, station, street."""
    station = met.station
    return context.texts(
        "mycode.card",
        name=escape(met.deputy.name),
        station=escape(station.name),
        street=escape(station.street_name),
    )


def outcome_text(context: BotContext, met: Met) -> str:
    """What opening the deputy's code did (or the question it asks)."""
    own = escape(met.own.name) if met.own is not None else ""
    return context.texts(
        OUTCOMES[met.meeting],
        name=escape(met.deputy.name),
        station=escape(met.station.name),
        own=own,
    )


def met_text(context: BotContext, met: Met) -> str:
    """The deputy's card, then what opening their code did."""
    return f"{card_text(context, met)}\n\n{outcome_text(context, met)}"


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
    """The deputy's link, after the consent (refusals are the caller's to show). The card
    takes the location key away; a question (switch or keep) follows as a message of its
    own, since a message with inline buttons cannot remove a reply keyboard."""
    met = await context.services.deputy_codes.open(context.user, code)
    if met.meeting == Meeting.BOUND:
        context.account = await context.services.users.get(context.user.telegram_id)
    markup = met_markup(context, met)
    if markup is None:
        await take_location_key_away(update, context, met_text(context, met))
        return
    await take_location_key_away(update, context, card_text(context, met))
    await respond(update, context, outcome_text(context, met), markup, edit=False)


@guarded(Action.CHOOSE_STATION)
async def station_choice(update: Update, context: BotContext) -> None:
    """The voter asked: the deputy's station instead of theirs (the card again, with what
    changed), or keep theirs (said so: the card is just above). The question loses its
    buttons; the answer is a new message that takes any location key away."""
    tapped = CodeStation.of(update)
    codes = context.services.deputy_codes
    if tapped.switch:
        met = await codes.switch(context.user, tapped.code)
        context.account = await context.services.users.get(context.user.telegram_id)
        text = met_text(context, met)
    else:
        own = await codes.keep(context.user)
        text = context.texts("mycode.kept", own=escape(own.name))
    await answer_tap(update)
    await settle_tap(update)
    await take_location_key_away(update, context, text)


def handlers() -> list[Handler]:
    return [
        CommandHandler("mycode", mycode),
        CallbackQueryHandler(renewal, pattern=CodeRenewal.filter()),
        CallbackQueryHandler(station_choice, pattern=CodeStation.filter()),
    ]
