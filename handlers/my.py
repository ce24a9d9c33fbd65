"""/my: the voter's own opinions, newest first, paged; tap one for its text, its history, its
holder and rating, and the buttons to rate an answer or ask the deputy to look again. An
opinion a deputy took into a suggestion (代表建议) says so, and opens the voter's view of it
(handlers.suggestions), to follow it to its answer."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.access import Action
from bot.runtime.buttons.opinion import MyOpinion, MyPage
from bot.runtime.buttons.suggestions import MySuggestion
from bot.runtime.context import BotContext
from bot.services.opinions import CATEGORY_LABELS, STATUS_LABELS
from bot.services.voice_opinions import VoiceAction
from handlers.common import answer_tap, guarded, respond
from handlers.keyboards import button, paged
from handlers.opinion_card import (
    action_rows,
    addressee_line,
    opinion_body,
    opinion_button,
    render_history,
    render_rating,
    voice_rows,
)

PER_PAGE = 5
PREVIEW_CHARS = 24


async def show_page(update: Update, context: BotContext, page: int) -> None:
    """One page of the voter's opinions (a page past the end shows the last one)."""
    texts = context.texts
    result = await context.services.opinions.mine(context.user, page, PER_PAGE)
    if not result.items:
        await respond(update, context, texts("my.empty"))
        return
    fed = await context.services.suggestions.of_opinions(
        context.user, [opinion.id for opinion in result.items]
    )
    buttons = []
    for opinion in result.items:
        data = MyOpinion(opinion=opinion.id, page=result.page)
        suggestion = fed.get(opinion.id)
        if suggestion is None:
            buttons.append(opinion_button(texts, "my.item", opinion, PREVIEW_CHARS, data))
            continue
        label = texts(
            "suggestion.my_item",
            tracking_no=opinion.tracking_no,
            number=suggestion.number,
            state=texts(f"suggestion.state.{suggestion.state}"),
        )
        buttons.append(button(label, data))
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
    await answer_tap(update)
    await show_page(update, context, page)


@guarded(Action.VIEW_OWN_OPINIONS)
async def my_opinion(update: Update, context: BotContext) -> None:
    """One of the voter's opinions: its text, status, history and rating buttons."""
    tapped = MyOpinion.of(update)
    detail = await context.services.opinions.detail(context.user, tapped.opinion)
    await answer_tap(update)
    texts = context.texts
    opinion = detail.opinion
    text = texts(
        "my.detail",
        tracking_no=opinion.tracking_no,
        category=texts(CATEGORY_LABELS.get(opinion.category, "category.other")),
        status=texts(STATUS_LABELS[opinion.status]),
        created=texts.datetime(opinion.created_at),
        text=opinion_body(texts, opinion),
        photos=texts.number(len(opinion.photos)),
        history=render_history(texts, detail.events),
    )
    inbox = context.services.inbox
    addressee = await inbox.addressee_name(opinion)
    if addressee is not None:
        text += "\n" + addressee_line(texts, addressee)
    holder = await inbox.holder_name(opinion)
    if holder:
        text += "\n" + texts("inbox.holder_line", holder=escape(holder))
    text += render_rating(texts, opinion)
    # the buttons of what the service lets the voter do now (rate, ask to look again);
    # their own recording plays back to them, as on the deputies' cards, but nothing more:
    # staff who wrote it transcribe it from /opinions, whose card this is not
    offered = context.services.voice_opinions.offered(context.user, opinion)
    rows = voice_rows(texts, opinion, offered & {VoiceAction.PLAY})
    rows += action_rows(texts, opinion, await inbox.actions(context.user, opinion))
    fed = await context.services.suggestions.of_opinions(context.user, [opinion.id])
    suggestion = fed.get(opinion.id)
    if suggestion is not None:
        text += "\n\n" + texts(
            "suggestion.my_line",
            number=suggestion.number,
            state=texts(f"suggestion.state.{suggestion.state}"),
        )
        follow = MySuggestion(opinion=opinion.id, page=tapped.page)
        rows.append([button(texts("suggestion.my_follow_button"), follow)])
    rows.append([button(texts("nav.back"), MyPage(page=tapped.page))])
    await respond(update, context, text, InlineKeyboardMarkup(rows))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/my and its two buttons."""
    return [
        CommandHandler("my", my_command),
        CallbackQueryHandler(my_page, pattern=MyPage.filter()),
        CallbackQueryHandler(my_opinion, pattern=MyOpinion.filter()),
    ]
