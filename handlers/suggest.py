"""/suggest: a deputy drafts a suggestion (代表建议), from scratch or from inbox opinions:
source → (own opinions → similar ones of the same 街镇) → title → reason → proposals →
category → consent to publish → preview → Submit.

The conversation is declared once (bot.services.suggestions.SUGGEST). Every step stores the
typed draft and the next step before answering, so a restart resumes where the deputy was.
Buttons: bot.runtime.buttons.suggestions."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import any_of
from bot.runtime.buttons.suggestions import (
    SUGGEST_BUTTONS,
    SuggestAttach,
    SuggestCancel,
    SuggestCategory,
    SuggestEdit,
    SuggestionOpen,
    SuggestMore,
    SuggestOpinionsDone,
    SuggestOpinionsPage,
    SuggestPick,
    SuggestPublish,
    SuggestSimilarPage,
    SuggestSource,
    SuggestSubmit,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.opinions import CATEGORIES, CATEGORY_LABELS
from bot.services.suggestions import (
    BODY_MAX,
    BODY_MIN,
    SUGGEST,
    TITLE_MAX,
    EditField,
    SuggestDraft,
    SuggestStep,
)
from bot.services.voice_opinions import is_voice
from handlers.common import (
    Callback,
    Handler,
    alerting,
    answer_tap,
    chat_id_of,
    clip,
    guarded,
    message_of,
    respond,
    saying,
    show_error,
)
from handlers.keyboards import button, paged, rows_of
from storage.models import Opinion

Step = SuggestStep
END = DeclaredConversation.END
PER_PAGE = 6
SUMMARY_CHARS = 18  # of an opinion's text on its button
NUMBERS_SHOWN = 10  # tracking numbers listed in the preview; the rest are counted

PUBLISH_LABELS = {True: "suggest.publish_yes", False: "suggest.publish_no"}
EDIT_LABELS: dict[EditField, str] = {
    "title": "suggest.edit_title",
    "reason": "suggest.edit_reason",
    "proposals": "suggest.edit_proposals",
    "category": "suggest.edit_category",
    "publish": "suggest.edit_publish",
}


def _cancel_row(texts: Texts) -> list[InlineKeyboardButton]:
    return [button(texts("suggest.cancel_button"), SuggestCancel())]


def category_label(texts: Texts, code: str) -> str:
    """An opinion category's label; a category stored as words shows as it is."""
    label = CATEGORY_LABELS.get(code)
    return texts(label) if label else escape(code)


def _opinion_label(texts: Texts, opinion: Opinion, chosen: bool, station: str = "") -> str:
    summary = clip(" ".join(opinion.text.split()), SUMMARY_CHARS)
    if is_voice(opinion):  # its transcript, if staff typed one, after the mark
        mark = texts("voice.summary", length=texts.length(opinion.voice_seconds or 0))
        summary = f"{mark} {summary}" if summary else mark
    key = "suggest.similar_item" if station else "suggest.opinion_item"
    return texts(
        key,
        mark="✅ " if chosen else "",
        tracking_no=opinion.tracking_no,
        station=station,
        summary=summary,
    )


# --- prompts -------------------------------------------------------------------------------


async def ask_source(update: Update, context: BotContext) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [button(texts("suggest.from_opinions"), SuggestSource(source="opinions"))],
            [button(texts("suggest.from_scratch"), SuggestSource(source="scratch"))],
            _cancel_row(texts),
        ]
    )
    await respond(update, context, texts("suggest.ask_source"), markup)


async def ask_opinions(update: Update, context: BotContext, page: int = 0) -> None:
    """The deputy's own open opinions, each a toggle; Continue once one is taken."""
    texts = context.texts
    found = await context.services.suggestions.takeable(context.user, page, PER_PAGE)
    result = found.page
    done = [[_done_button(texts, len(found.chosen))]] if found.chosen else []
    if not result.items:
        scratch = button(texts("suggest.from_scratch"), SuggestSource(source="scratch"))
        markup = InlineKeyboardMarkup([[scratch], *done, _cancel_row(texts)])
        await respond(update, context, texts("suggest.no_opinions"), markup)
        return
    buttons = [
        button(
            _opinion_label(texts, o, o.id in found.chosen),
            SuggestPick(opinion=o.id, page=result.page),
        )
        for o in result.items
    ]
    listed = paged(buttons, result.page, result.pages, lambda p: SuggestOpinionsPage(page=p), texts)
    markup = InlineKeyboardMarkup([*listed.inline_keyboard, *done, _cancel_row(texts)])
    text = texts("suggest.ask_opinions", chosen=texts.number(len(found.chosen)))
    await respond(update, context, text, markup)


def _done_button(texts: Texts, count: int) -> InlineKeyboardButton:
    return button(texts("suggest.opinions_done", count=texts.number(count)), SuggestOpinionsDone())


async def ask_similar(update: Update, context: BotContext, page: int = 0) -> None:
    """'12 similar opinions from 3 stations', each with its ✓ toggle, paged."""
    texts = context.texts
    services = context.services
    found = await services.suggestions.similar(
        context.user, chat_id_of(update), services.similar_opinions, page, PER_PAGE
    )
    draft = await services.suggestions.draft(context.user)
    matches = found.matches
    if matches.matches:
        line = texts(
            "suggest.similar_found",
            count=texts.number(len(matches.matches)),
            stations=texts.number(matches.station_count),
        )
    else:
        line = texts("suggest.similar_none")
    text = texts("suggest.similar_head", chosen=texts.number(len(draft.opinion_ids))) + "\n"
    text += line
    buttons = [
        button(
            _opinion_label(texts, o, o.id in found.attached, found.stations.get(o.station_id, "—")),
            SuggestAttach(opinion=o.id, page=found.page.page),
        )
        for o in found.page.items
    ]
    markup = paged(
        buttons, found.page.page, found.page.pages, lambda p: SuggestSimilarPage(page=p), texts
    )
    rows = [
        *markup.inline_keyboard,
        [button(texts("suggest.more_opinions"), SuggestMore())],
        [_done_button(texts, len(draft.opinion_ids))],
        _cancel_row(texts),
    ]
    await respond(update, context, text, InlineKeyboardMarkup(rows))


def _current(texts: Texts, draft: SuggestDraft, value: str | None) -> str:
    """While a field is being changed from the preview, what it holds now."""
    if not draft.editing or value is None:
        return ""
    return "\n\n" + texts("suggest.current_value", value=escape(value))


async def ask_text(update: Update, context: BotContext, draft: SuggestDraft, step: Step) -> None:
    texts = context.texts
    if step == Step.TITLE:
        text = texts("suggest.ask_title", maximum=TITLE_MAX)
        if draft.opinion_ids and not draft.editing:
            taken = texts("suggest.taken_count", count=texts.number(len(draft.opinion_ids)))
            text = taken + "\n" + text
        text += _current(texts, draft, draft.title)
    elif step == Step.REASON:
        text = texts("suggest.ask_reason", minimum=BODY_MIN, maximum=BODY_MAX)
        text += _current(texts, draft, clip(draft.reason or "", 300) or None)
    else:
        text = texts("suggest.ask_proposals", minimum=BODY_MIN, maximum=BODY_MAX)
        text += _current(texts, draft, clip(draft.proposals or "", 300) or None)
    await respond(update, context, text, InlineKeyboardMarkup([_cancel_row(texts)]))


async def ask_category(update: Update, context: BotContext, draft: SuggestDraft) -> None:
    texts = context.texts
    buttons = [
        button(texts(label), SuggestCategory.model_validate({"code": code}))
        for code, label in CATEGORIES
    ]
    markup = InlineKeyboardMarkup([*rows_of(buttons, 2), _cancel_row(texts)])
    current = category_label(texts, draft.category) if draft.category else None
    text = texts("suggest.ask_category") + (
        "\n\n" + texts("suggest.current_value", value=current) if draft.editing and current else ""
    )
    await respond(update, context, text, markup)


async def ask_publish(update: Update, context: BotContext, draft: SuggestDraft) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(texts("suggest.publish_yes"), SuggestPublish(publish=True)),
                button(texts("suggest.publish_no"), SuggestPublish(publish=False)),
            ],
            _cancel_row(texts),
        ]
    )
    await respond(update, context, texts("suggest.ask_publish"), markup)


async def show_preview(update: Update, context: BotContext, *, edit: bool = True) -> None:
    texts = context.texts
    preview = await context.services.suggestions.preview(context.user)
    draft = preview.draft
    numbers = [o.tracking_no for o in preview.opinions]
    if numbers:
        listed = ", ".join(numbers[:NUMBERS_SHOWN])
        if len(numbers) > NUMBERS_SHOWN:
            listed += texts("suggest.and_more", count=texts.number(len(numbers) - NUMBERS_SHOWN))
        source = texts("suggest.source_opinions", count=texts.number(len(numbers)), numbers=listed)
    else:
        source = texts("suggest.source_scratch")
    text = texts(
        "suggest.preview",
        title=escape(draft.title or ""),
        category=category_label(texts, draft.category or "other"),
        deputy=escape(preview.deputy.name),
        source=source,
        publish=texts(PUBLISH_LABELS[bool(draft.publish)]),
        reason=escape(draft.reason or ""),
        proposals=escape(draft.proposals or ""),
    )
    edits = [button(texts(label), SuggestEdit(field=f)) for f, label in EDIT_LABELS.items()]
    markup = InlineKeyboardMarkup(
        [
            [button(texts("suggest.submit"), SuggestSubmit(draft=draft.token))],
            *rows_of(edits, 3),
            _cancel_row(texts),
        ]
    )
    await respond(update, context, text, markup, edit=edit)


async def prompt(update: Update, context: BotContext, draft: SuggestDraft, step: Step) -> None:
    if step == Step.SOURCE:
        await ask_source(update, context)
    elif step == Step.OPINIONS:
        await ask_opinions(update, context)
    elif step == Step.SIMILAR:
        await ask_similar(update, context)
    elif step in (Step.TITLE, Step.REASON, Step.PROPOSALS):
        await ask_text(update, context, draft, step)
    elif step == Step.CATEGORY:
        await ask_category(update, context, draft)
    elif step == Step.PUBLISH:
        await ask_publish(update, context, draft)
    else:
        await show_preview(update, context)


async def _go(update: Update, context: BotContext, draft: SuggestDraft, step: Step) -> Step:
    """The service has stored `draft` at `step`: answer the tap and ask for the next thing."""
    await answer_tap(update)
    await prompt(update, context, draft, step)
    return step


# --- entry and steps -----------------------------------------------------------------------


@guarded()
async def begin(update: Update, context: BotContext) -> Step:
    await context.services.suggestions.begin(context.user, chat_id_of(update))
    await ask_source(update, context)
    return Step.SOURCE


@guarded()
async def choose_source(update: Update, context: BotContext) -> Step:
    source = SuggestSource.of(update).source
    services = context.services
    draft, step = await services.suggestions.choose_source(
        context.user, chat_id_of(update), source == "opinions"
    )
    if source == "opinions":  # the street's similar opinions, ready by the time one is picked
        await services.suggestions.prepare_similar(context.user, services.similar_opinions)
    return await _go(update, context, draft, step)


@guarded()
async def opinions_page(update: Update, context: BotContext) -> None:
    page = SuggestOpinionsPage.of(update).page
    await answer_tap(update)
    await ask_opinions(update, context, page)


@guarded()
async def pick(update: Update, context: BotContext) -> Step:
    tapped = SuggestPick.of(update)
    draft, step = await context.services.suggestions.pick_opinion(
        context.user, chat_id_of(update), tapped.opinion
    )
    await answer_tap(update)
    if step == Step.OPINIONS:
        await ask_opinions(update, context, tapped.page)
    else:
        await prompt(update, context, draft, step)
    return step


@guarded()
async def similar_page(update: Update, context: BotContext) -> None:
    page = SuggestSimilarPage.of(update).page
    await answer_tap(update)
    await ask_similar(update, context, page)


@guarded()
async def attach(update: Update, context: BotContext) -> None:
    tapped = SuggestAttach.of(update)
    await context.services.suggestions.toggle_similar(
        context.user, chat_id_of(update), tapped.opinion
    )
    await answer_tap(update)
    await ask_similar(update, context, tapped.page)


@guarded()
async def more(update: Update, context: BotContext) -> Step:
    step = await context.services.suggestions.more_opinions(context.user, chat_id_of(update))
    await answer_tap(update)
    await ask_opinions(update, context)
    return step


@guarded()
async def opinions_done(update: Update, context: BotContext) -> Step:
    draft, step = await context.services.suggestions.opinions_done(context.user, chat_id_of(update))
    return await _go(update, context, draft, step)


@guarded()
async def receive_title(update: Update, context: BotContext) -> Step:
    draft, step = await context.services.suggestions.set_title(
        context.user, chat_id_of(update), message_of(update).text
    )
    return await _go(update, context, draft, step)


@guarded()
async def receive_reason(update: Update, context: BotContext) -> Step:
    draft, step = await context.services.suggestions.set_reason(
        context.user, chat_id_of(update), message_of(update).text
    )
    return await _go(update, context, draft, step)


@guarded()
async def receive_proposals(update: Update, context: BotContext) -> Step:
    draft, step = await context.services.suggestions.set_proposals(
        context.user, chat_id_of(update), message_of(update).text
    )
    return await _go(update, context, draft, step)


@guarded()
async def choose_category(update: Update, context: BotContext) -> Step:
    code = SuggestCategory.of(update).code
    draft, step = await context.services.suggestions.set_category(
        context.user, chat_id_of(update), code
    )
    return await _go(update, context, draft, step)


@guarded()
async def choose_publish(update: Update, context: BotContext) -> Step:
    publish = SuggestPublish.of(update).publish
    draft, step = await context.services.suggestions.set_publish(
        context.user, chat_id_of(update), publish
    )
    return await _go(update, context, draft, step)


@guarded()
async def edit(update: Update, context: BotContext) -> Step:
    field = SuggestEdit.of(update).field
    draft, step = await context.services.suggestions.edit(context.user, chat_id_of(update), field)
    return await _go(update, context, draft, step)


async def _submitted(update: Update, context: BotContext, number: str, suggestion: int) -> None:
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [[button(texts("suggestion.open_button"), SuggestionOpen(suggestion=suggestion, page=0))]]
    )
    await respond(update, context, texts("suggest.submitted", number=number), markup)


@guarded()
async def submit(update: Update, context: BotContext) -> Step | int:
    """Send it, once. Opinions that may no longer be taken leave the draft, and a new preview
    without them is shown (or, with none of the deputy's own left, their list again)."""
    token = SuggestSubmit.of(update).draft
    try:
        sent = await context.services.suggestions.submit(context.user, chat_id_of(update), token)
    except DomainError as error:
        if error.key == "suggest.opinions_gone":
            await show_error(update, context, error)
            await show_preview(update, context, edit=False)
            return Step.PREVIEW
        if error.key == "suggest.own_opinions_gone":  # none of the deputy's own is left
            await show_error(update, context, error)
            await ask_opinions(update, context)
            return Step.OPINIONS
        raise
    await answer_tap(update)
    suggestion = sent.suggestion
    if sent.repeated:
        await respond(
            update,
            context,
            context.texts("suggest.submitted_before", number=suggestion.number),
            edit=False,
        )
        return END
    await _submitted(update, context, suggestion.number, suggestion.id)
    return END


@guarded()
async def submitted_again(update: Update, context: BotContext) -> None:
    """A Submit tapped again once the draft was sent: what it became, nothing new."""
    token = SuggestSubmit.of(update).draft
    suggestion = await context.services.suggestions.sent_before(context.user, token)
    await answer_tap(update)
    text = context.texts("suggest.submitted_before", number=suggestion.number)
    await respond(update, context, text, edit=False)


async def cancel(update: Update, context: BotContext) -> int:
    await context.services.suggestions.discard(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("suggest.cancelled"))
    return END


# --- bad input -----------------------------------------------------------------------------

USE_BUTTONS = (Step.SOURCE, Step.OPINIONS, Step.SIMILAR, Step.CATEGORY, Step.PUBLISH, Step.PREVIEW)


def bad_input(step: Step) -> Callback[None]:
    """Anything but what the step takes (a sticker, a photo, text where a button is asked)."""
    key = "suggest.use_buttons" if step in USE_BUTTONS else "suggest.send_text"
    return saying(key)


command_in_middle = saying("suggest.in_progress")
stale_button = alerting("error.stale_button")


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND

    def others(step: Step) -> Handler:
        return MessageHandler(~filters.COMMAND, bad_input(step))

    opinion_buttons: list[Handler] = [
        CallbackQueryHandler(pick, pattern=SuggestPick.filter()),
        CallbackQueryHandler(opinions_page, pattern=SuggestOpinionsPage.filter()),
        CallbackQueryHandler(opinions_done, pattern=SuggestOpinionsDone.filter()),
    ]
    conversation = DeclaredConversation(
        SUGGEST,
        entry_points=[CommandHandler("suggest", begin)],
        states={
            Step.SOURCE: [
                CallbackQueryHandler(choose_source, pattern=SuggestSource.filter()),
                others(Step.SOURCE),
            ],
            Step.OPINIONS: [
                *opinion_buttons,
                CallbackQueryHandler(choose_source, pattern=SuggestSource.filter()),
                others(Step.OPINIONS),
            ],
            Step.SIMILAR: [
                CallbackQueryHandler(attach, pattern=SuggestAttach.filter()),
                CallbackQueryHandler(similar_page, pattern=SuggestSimilarPage.filter()),
                CallbackQueryHandler(more, pattern=SuggestMore.filter()),
                CallbackQueryHandler(opinions_done, pattern=SuggestOpinionsDone.filter()),
                others(Step.SIMILAR),
            ],
            Step.TITLE: [MessageHandler(text, receive_title), others(Step.TITLE)],
            Step.REASON: [MessageHandler(text, receive_reason), others(Step.REASON)],
            Step.PROPOSALS: [MessageHandler(text, receive_proposals), others(Step.PROPOSALS)],
            Step.CATEGORY: [
                CallbackQueryHandler(choose_category, pattern=SuggestCategory.filter()),
                others(Step.CATEGORY),
            ],
            Step.PUBLISH: [
                CallbackQueryHandler(choose_publish, pattern=SuggestPublish.filter()),
                others(Step.PUBLISH),
            ],
            Step.PREVIEW: [
                CallbackQueryHandler(submit, pattern=SuggestSubmit.filter()),
                CallbackQueryHandler(edit, pattern=SuggestEdit.filter()),
                others(Step.PREVIEW),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=SuggestCancel.filter()),
            MessageHandler(filters.COMMAND, command_in_middle),
            # a button of a step the deputy has left (or an older preview's Submit)
            CallbackQueryHandler(stale_button, pattern=any_of(*SUGGEST_BUTTONS, SuggestSubmit)),
        ],
    )
    again: Handler = CallbackQueryHandler(submitted_again, pattern=SuggestSubmit.filter())
    return [conversation, again]
