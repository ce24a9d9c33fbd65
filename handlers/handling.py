"""/opinions for staff: every opinion, filtered by status and street, newest first; from an
opinion's card accept it, decline it with a reason, answer it, ask the voter, release it, or
give it to a deputy of its station."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.access import Action
from bot.runtime.buttons import Picker, StreetPage, StreetStations
from bot.runtime.buttons.inbox import (
    Accept,
    AssignTo,
    Compose,
    OpinionCard,
    PickDeputy,
    Release,
    Side,
    StaffList,
    StatusFilter,
)
from bot.runtime.context import BotContext
from bot.services.opinions import CATEGORY_LABELS, STATUS_LABELS
from handlers.common import answer_tap, clip, guarded, respond
from handlers.inbox import (
    CARD_TEXT_CHARS,
    acted,
    assign_to,
    deputy_picker,
    opinion_button,
    render_history,
    render_rating,
)
from handlers.keyboards import button, paged, rows_of, street_picker
from storage.models import OpinionStatus

PER_PAGE = 6
PREVIEW_CHARS = 20
PURPOSE = Picker.OPINION_FILTER
ALL = StatusFilter.ALL


async def show_list(
    update: Update, context: BotContext, status_filter: StatusFilter, street_id: int, page: int
) -> None:
    """A page of every opinion with this status (or any) in this street (0: any)."""
    texts = context.texts
    services = context.services
    status = status_filter.status
    result = await services.opinions.all(context.user, status, street_id or None, page, PER_PAGE)
    street_name = (
        (await services.stations.street(street_id)).name
        if street_id
        else texts("handling.all_streets")
    )
    title = texts(
        "handling.list_title",
        status=texts(STATUS_LABELS[status]) if status else texts("handling.all_statuses"),
        street=escape(street_name),
    )
    items = [
        opinion_button(
            texts,
            "handling.item",
            opinion,
            PREVIEW_CHARS,
            OpinionCard(side=Side.STAFF, opinion=opinion.id),
        )
        for opinion in result.items
    ]
    filters_row = [
        button(
            texts(STATUS_LABELS[f.value]) if f.status else texts("handling.all_statuses"),
            StaffList(status=f, street=street_id, page=0),
        )
        for f in StatusFilter
    ]
    markup = paged(
        items,
        result.page,
        result.pages,
        lambda p: StaffList(status=status_filter, street=street_id, page=p),
        texts,
    )
    keyboard = [
        *markup.inline_keyboard,
        *rows_of(filters_row, 3),
        [button(texts("handling.filter_street"), StreetPage(purpose=PURPOSE, page=0))],
    ]
    body = title if result.items else title + "\n" + texts("handling.empty")
    await respond(update, context, body, InlineKeyboardMarkup(keyboard))


@guarded(Action.VIEW_ALL_OPINIONS)
async def opinions_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, ALL, 0, 0)


@guarded(Action.VIEW_ALL_OPINIONS)
async def list_page(update: Update, context: BotContext) -> None:
    """Another page, status or street of the list."""
    tapped = StaffList.of(update)
    if tapped.street:  # a street that no longer exists is refused before anything is shown
        await context.services.stations.street(tapped.street)
    await answer_tap(update)
    await show_list(update, context, tapped.status, tapped.street, tapped.page)


@guarded(Action.VIEW_ALL_OPINIONS)
async def street_filter_page(update: Update, context: BotContext) -> None:
    """A page of the streets to filter by (the shared picker)."""
    page = StreetPage.of(update).page
    await answer_tap(update)
    markup = await street_picker(context.services, context.texts, PURPOSE, page)
    await respond(update, context, context.texts("broadcast.pick_street"), markup)


@guarded(Action.VIEW_ALL_OPINIONS)
async def street_filter_chosen(update: Update, context: BotContext) -> None:
    """A street tapped: every opinion of it (its stations are not asked for)."""
    street_id = StreetStations.of(update).street
    await context.services.stations.street(street_id)
    await answer_tap(update)
    await show_list(update, context, ALL, street_id, 0)


async def show_card(update: Update, context: BotContext, opinion_id: int) -> None:
    """An opinion's card with what staff may do about it now."""
    services = context.services
    texts = context.texts
    detail = await services.opinions.detail(context.user, opinion_id)
    opinion = detail.opinion
    author = await services.users.get(opinion.author_id)
    station = await services.stations.find(opinion.station_id)
    holder = await services.inbox.holder_name(opinion)
    text = texts(
        "handling.card",
        tracking_no=opinion.tracking_no,
        status=texts(STATUS_LABELS[opinion.status]),
        category=texts(CATEGORY_LABELS.get(opinion.category, "category.other")),
        station=escape(station.name if station else "—"),
        author=escape(author.full_name if author else str(opinion.author_id)),
        anonymous="" if opinion.show_name else texts("handling.anonymous_mark"),
        created=texts.datetime(opinion.created_at),
        photos=texts.number(len(opinion.photos)),
        text=escape(clip(opinion.text, CARD_TEXT_CHARS)),
        history=render_history(texts, detail.events),
    )
    text += "\n" + texts(
        "inbox.holder_line", holder=escape(holder) if holder else texts("inbox.unclaimed")
    )
    text += render_rating(texts, opinion)
    rows = []
    actions = []
    if opinion.status == OpinionStatus.SUBMITTED:
        actions.append(button(texts("handling.accept"), Accept(opinion=opinion.id)))
    if opinion.status in (OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED):
        actions.append(button(texts("handling.answer"), Compose(step="answer", opinion=opinion.id)))
        actions.append(
            button(texts("handling.decline"), Compose(step="decline", opinion=opinion.id))
        )
    if actions:
        rows.append(actions)
    # staff act as the holder would, and give the opinion to a deputy of its station
    if opinion.status == OpinionStatus.ACCEPTED:
        rows.append(
            [
                button(texts("inbox.ask_button"), Compose(step="ask", opinion=opinion.id)),
                button(texts("inbox.release_button"), Release(side=Side.STAFF, opinion=opinion.id)),
            ]
        )
    if opinion.status in (OpinionStatus.SUBMITTED, OpinionStatus.ACCEPTED):
        label = "inbox.reassign_button" if opinion.holder_id else "inbox.assign_button"
        rows.append([button(texts(label), PickDeputy(side=Side.STAFF, opinion=opinion.id))])
    rows.append([button(texts("nav.back"), StaffList(status=ALL, street=0, page=0))])
    await respond(update, context, text, InlineKeyboardMarkup(rows))


@guarded(Action.VIEW_ALL_OPINIONS)
async def card(update: Update, context: BotContext) -> None:
    """An opinion's card in place of the list."""
    await show_card(update, context, OpinionCard.of(update).opinion)
    await answer_tap(update)


@guarded(Action.HANDLE_OPINIONS)
async def accept(update: Update, context: BotContext) -> None:
    """Staff accept a submitted opinion; the voter hears of it."""
    opinion_id = Accept.of(update).opinion
    opinion = await context.services.opinions.handle(context.user, opinion_id, "accept")
    await acted(update, context, "handling.done_accept", opinion, show_card)


@guarded(Action.HANDLE_OPINIONS)
async def release(update: Update, context: BotContext) -> None:
    """Staff give the opinion back to the station's deputies."""
    opinion = await context.services.inbox.release(context.user, Release.of(update).opinion)
    await acted(update, context, "inbox.released", opinion, show_card)


@guarded(Action.ASSIGN_OPINION)
async def pick_deputy(update: Update, context: BotContext) -> None:
    """Whom to give the opinion to: the deputies of its station."""
    await deputy_picker(update, context, PickDeputy.of(update).opinion, Side.STAFF)
    await answer_tap(update)


@guarded(Action.ASSIGN_OPINION)
async def assign(update: Update, context: BotContext) -> None:
    """Give the opinion to the deputy chosen, then show its card again."""
    opinion = await assign_to(update, context)
    await show_card(update, context, opinion.id)


def handlers() -> list[BaseHandler]:
    # Answering and declining are typed: that conversation lives in handlers.inbox, with
    # everything else typed about an opinion.
    return [
        CommandHandler("opinions", opinions_command),  # type: ignore[arg-type]
        CallbackQueryHandler(list_page, pattern=StaffList.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(card, pattern=OpinionCard.filter(side=Side.STAFF)),  # type: ignore[arg-type]
        CallbackQueryHandler(accept, pattern=Accept.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(release, pattern=Release.filter(side=Side.STAFF)),  # type: ignore[arg-type]
        CallbackQueryHandler(pick_deputy, pattern=PickDeputy.filter(side=Side.STAFF)),  # type: ignore[arg-type]
        CallbackQueryHandler(assign, pattern=AssignTo.filter(side=Side.STAFF)),  # type: ignore[arg-type]
        CallbackQueryHandler(street_filter_page, pattern=StreetPage.filter(purpose=PURPOSE)),  # type: ignore[arg-type]
        CallbackQueryHandler(
            street_filter_chosen,  # type: ignore[arg-type]
            pattern=StreetStations.filter(purpose=PURPOSE),
        ),
    ]
