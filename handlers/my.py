"""/my: the voter's own opinions, newest first, paged; tap one for its text, its history, its
holder and rating, and the buttons to rate an answer or ask the deputy to look again."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.access import Action
from bot.runtime.buttons.opinion import MyOpinion, MyPage
from bot.runtime.context import BotContext
from bot.services.opinions import CATEGORY_LABELS, STATUS_LABELS
from handlers.common import clip, guarded, respond
from handlers.inbox import (
    CARD_TEXT_CHARS,
    opinion_button,
    rating_rows,
    render_history,
    render_rating,
)
from handlers.keyboards import button, paged

PER_PAGE = 5
PREVIEW_CHARS = 24


async def show_page(update: Update, context: BotContext, page: int) -> None:
    """One page of the voter's opinions (a page past the end shows the last one)."""
    texts = context.texts
    result = await context.services.opinions.mine(context.user, page, PER_PAGE)
    if not result.items:
        await respond(update, context, texts("my.empty"))
        return
    buttons = []
    for opinion in result.items:
        data = MyOpinion(opinion=opinion.id, page=result.page)
        buttons.append(opinion_button(texts, "my.item", opinion, PREVIEW_CHARS, data))
    markup = paged(buttons, result.page, result.pages, lambda p: MyPage(page=p), texts)
    await respond(update, context, texts("my.title"), markup)


@guarded(Action.VIEW_OWN_OPINIONS)
async def my_command(update: Update, context: BotContext) -> None:
    """/my: the first page."""
    await show_page(update, context, 0)


@guarded(Action.VIEW_OWN_OPINIONS)
async def my_page(update: Update, context: BotContext) -> None:
    """Another page of the list."""
    page = MyPage.of(update).page
    assert update.callback_query is not None
    await update.callback_query.answer()
    await show_page(update, context, page)


@guarded(Action.VIEW_OWN_OPINIONS)
async def my_opinion(update: Update, context: BotContext) -> None:
    """One of the voter's opinions: its text, status, history and rating buttons."""
    tapped = MyOpinion.of(update)
    detail = await context.services.opinions.detail(context.user, tapped.opinion)
    assert update.callback_query is not None
    await update.callback_query.answer()
    texts = context.texts
    opinion = detail.opinion
    text = texts(
        "my.detail",
        tracking_no=opinion.tracking_no,
        category=texts(CATEGORY_LABELS.get(opinion.category, "category.other")),
        status=texts(STATUS_LABELS[opinion.status]),
        created=texts.datetime(opinion.created_at),
        text=escape(clip(opinion.text, CARD_TEXT_CHARS)),
        photos=texts.number(len(opinion.photos)),
        history=render_history(texts, detail.events),
    )
    holder = await context.services.inbox.holder_name(opinion)
    if holder:
        text += "\n" + texts("inbox.holder_line", holder=escape(holder))
    text += render_rating(texts, opinion)
    rows = [*rating_rows(texts, opinion), [button(texts("nav.back"), MyPage(page=tapped.page))]]
    await respond(update, context, text, InlineKeyboardMarkup(rows))


def handlers() -> list[BaseHandler]:
    """/my and its two buttons."""
    return [
        CommandHandler("my", my_command),  # type: ignore[arg-type]
        CallbackQueryHandler(my_page, pattern=MyPage.filter()),  # type: ignore[arg-type]
        CallbackQueryHandler(my_opinion, pattern=MyOpinion.filter()),  # type: ignore[arg-type]
    ]
