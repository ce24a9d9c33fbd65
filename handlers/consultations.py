"""/consultations: read a draft law article by article and comment on it.

The list of open consultations → one consultation (title, deadline, table of contents) →
one article per message, ◀ ▶ through the articles and the parts of a long one, always in the
same message. From a page: comment on the article or the whole draft (the COMMENT
conversation: the text, then for a voter whether to show their name), the key questions, and
one's own comments (edit, withdraw). After the deadline everything stays readable and nothing
is taken. Buttons: bot.runtime.buttons.consultations; rules: bot.services.consultation_comments."""

from __future__ import annotations

import functools
from datetime import datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons.consultations import (
    CommentArticle,
    CommentCancel,
    CommentEdit,
    CommentNamed,
    CommentWhole,
    CommentWithdraw,
    CommentWithdrawConfirmed,
    MyComments,
    QuestionAnswer,
    QuestionChoose,
    QuestionOpen,
    ReadArticle,
    ReadContents,
    ReadList,
    ReadOpen,
    ReadQuestions,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.consultation_comments import (
    COMMENT,
    COMMENT_MAX,
    COMMENT_MIN,
    Aim,
    ArticlePage,
    CommentStep,
    Entry,
    Overview,
    Saved,
    Target,
)
from bot.services.draft_split import article_label
from bot.services.paging import clamp_page
from handlers.common import (
    Callback,
    Handler,
    answer_tap,
    chat_id_of,
    clip,
    guarded,
    message_of,
    respond,
    show_error,
    tap_of,
)
from handlers.keyboards import button, paged, rows_of
from storage.models import Consultation

Step = CommentStep
END = DeclaredConversation.END
LIST_PER_PAGE = 5
CONTENTS_PER_PAGE = 10
MINE_PER_PAGE = 5
LAST_PART = 99_999  # a part past the end is the last part: where ◀ from the next article lands
TARGETS_SHOWN = 8  # what the list names of one's comments on a consultation, at most
# What a page shows around the article's text stays well within the rest of Telegram's 4096
# (bot.services.consultation_comments.PAGE_BUDGET is the text's share).
TITLE_ON_PAGE = 60
HEADING_ON_PAGE = 40
# Errors after which the comment cannot go on: the conversation ends with them.
ENDING = frozenset(
    {
        "consultations.closed",
        "consultations.no_draft",
        "consultations.no_such_article",
        "consultations.comment_withdrawn",
        "error.not_your_record",
        "error.forbidden",
        "error.stale_button",
    }
)


# --- names ----------------------------------------------------------------------------------


def target_name(
    texts: Texts, position: int | None, number: int | None, sub: int, question: int | None
) -> str:
    """What a comment is about: 第五条 (第五条之一 with `sub`), 问题1, or 总体."""
    if position is not None:
        return article_label(number, texts, sub)
    if question is not None:
        return texts("consultations.question_n", number=question)
    return texts("consultations.whole")


def aim_name(texts: Texts, aim: Aim) -> str:
    target = aim.target
    return target_name(
        texts, target.article_position, aim.article_number, aim.article_sub, aim.question_ordinal
    )


def _closed_line(texts: Texts, closed: datetime) -> str:
    return texts("consultations.closed_notice", closed_at=texts.datetime(closed))


# --- /consultations -------------------------------------------------------------------------


async def show_list(update: Update, context: BotContext, page: int) -> None:
    texts = context.texts
    listed = await context.services.comments.open_ones(context.user)
    if not listed:
        await respond(update, context, texts("consultations.none_open"))
        return
    page, pages = clamp_page(page, len(listed), LIST_PER_PAGE)
    start = page * LIST_PER_PAGE
    blocks, buttons = [texts("consultations.list_title")], []
    for n, item in enumerate(listed[start : start + LIST_PER_PAGE], start=start + 1):
        c = item.consultation
        block = texts(
            "consultations.list_item",
            n=n,
            title=escape(clip(c.title, 100)),
            deadline=texts.datetime(c.deadline),
        )
        if item.comments:
            names = [
                target_name(
                    texts, t.article_position, t.article_number, t.article_sub, t.question_ordinal
                )
                for t in item.targets
            ]
            shown = texts("consultations.separator").join(names[:TARGETS_SHOWN])
            if len(names) > TARGETS_SHOWN:
                shown += texts("consultations.and_more")
            block += "\n" + texts(
                "consultations.list_commented", count=item.comments, targets=shown
            )
        else:
            block += "\n" + texts("consultations.list_not_commented")
        blocks.append(block)
        label = texts("consultations.list_button", n=n, title=clip(c.title, 40))
        buttons.append(button(label, ReadOpen(consultation=c.id)))
    markup = paged(buttons, page, pages, lambda p: ReadList(page=p), texts)
    await respond(update, context, "\n\n".join(blocks), markup)


@guarded(Action.COMMENT_CONSULTATION)
async def consultations_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, 0)


@guarded(Action.COMMENT_CONSULTATION)
async def list_page(update: Update, context: BotContext) -> None:
    page = ReadList.of(update).page
    await answer_tap(update)
    await show_list(update, context, page)


# --- a consultation and its table of contents -----------------------------------------------


def overview_text(texts: Texts, overview: Overview) -> str:
    c = overview.consultation
    lines = [
        texts(
            "consultations.overview",
            title=escape(clip(c.title, 200)),
            deadline=texts.datetime(c.deadline),
            articles=overview.articles,
            questions=overview.questions,
        )
    ]
    if c.source:
        lines.append(texts("consultations.source", source=escape(clip(c.source, 100))))
    if c.summary:
        lines.append("\n" + escape(clip(c.summary, 1500)))
    if overview.closed_at is not None:
        lines.append("\n" + _closed_line(texts, overview.closed_at))
    return "\n".join(lines)


def _extra_rows(
    texts: Texts, c: Consultation, at: int, questions: int, open_: bool
) -> list[list[InlineKeyboardButton]]:
    """Commenting on the whole draft, the key questions, one's own comments."""
    rows = []
    if open_:
        rows.append(
            [button(texts("consultations.comment_whole"), CommentWhole(consultation=c.id, at=at))]
        )
    row = []
    if questions:
        label = texts("consultations.questions_button", count=questions)
        row.append(button(label, ReadQuestions(consultation=c.id, at=at)))
    row.append(
        button(texts("consultations.mine_button"), MyComments(consultation=c.id, at=at, page=0))
    )
    rows.append(row)
    return rows


def _entry_label(texts: Texts, entry: Entry) -> str:
    if entry.heading is not None:
        return clip(entry.heading, 60)
    return article_label(entry.first_number, texts, entry.first_sub)


async def show_contents(
    update: Update, context: BotContext, overview: Overview, volume: int, page: int
) -> None:
    """The overview with the table of contents (`volume` 0), or the chapters of one 编."""
    texts = context.texts
    c = overview.consultation
    first = overview.first or 0
    extra = _extra_rows(texts, c, first, overview.questions, overview.closed_at is None)
    if volume == 0:
        entries = overview.contents
        head = overview_text(texts, overview)
    elif volume <= len(overview.contents) and overview.contents[volume - 1].children:
        part = overview.contents[volume - 1]
        entries = list(part.children)
        head = texts("consultations.contents_of", volume=escape(_entry_label(texts, part)))
        extra = [
            [
                button(
                    texts("consultations.back_contents"),
                    ReadContents(consultation=c.id, volume=0, page=0),
                )
            ]
        ]
    else:
        raise DomainError("consultations.no_such_article")
    if not entries:  # no chapters: the text is read from its start
        start = ReadArticle(consultation=c.id, position=first, part=0)
        rows = [[button(texts("consultations.read_start"), start)], *extra]
        await respond(update, context, head, InlineKeyboardMarkup(rows))
        return
    page, pages = clamp_page(page, len(entries), CONTENTS_PER_PAGE)
    buttons = []
    for index, entry in enumerate(entries[page * CONTENTS_PER_PAGE :][:CONTENTS_PER_PAGE]):
        number = page * CONTENTS_PER_PAGE + index + 1
        target = (
            ReadContents(consultation=c.id, volume=number, page=0)
            if volume == 0 and entry.children
            else ReadArticle(consultation=c.id, position=entry.first, part=0)
        )
        buttons.append(button(_entry_label(texts, entry), target))
    markup = paged(
        buttons,
        page,
        pages,
        lambda p: ReadContents(consultation=c.id, volume=volume, page=p),
        texts,
    )
    rows = [*map(list, markup.inline_keyboard), *extra]
    text = head + "\n\n" + texts("consultations.contents_prompt")
    await respond(update, context, text, InlineKeyboardMarkup(rows))


@guarded(Action.COMMENT_CONSULTATION)
async def open_consultation(update: Update, context: BotContext) -> None:
    """ReadOpen (the list's buttons and the prompt's "read and comment"): a draft with
    chapters opens at its table of contents, one without at its first article."""
    tapped = ReadOpen.of(update)
    overview = await context.services.comments.overview(context.user, tapped.consultation)
    await answer_tap(update)
    if overview.contents or overview.first is None:
        await show_contents(update, context, overview, 0, 0)
        return
    await respond(update, context, overview_text(context.texts, overview))
    await show_page(update, context, tapped.consultation, overview.first, 0, edit=False)


@guarded(Action.COMMENT_CONSULTATION)
async def contents_page(update: Update, context: BotContext) -> None:
    tapped = ReadContents.of(update)
    overview = await context.services.comments.overview(context.user, tapped.consultation)
    await show_contents(update, context, overview, tapped.volume, tapped.page)
    await answer_tap(update)


# --- one article per page -------------------------------------------------------------------


def page_text(texts: Texts, page: ArticlePage) -> str:
    article = page.article
    lines = [f"<b>{escape(clip(page.consultation.title, TITLE_ON_PAGE))}</b>"]
    if article.heading_path:
        path = texts("consultations.heading_separator").join(
            escape(clip(h, HEADING_ON_PAGE)) for h in article.heading_path[-3:]
        )
        lines.append(f"<i>{path}</i>")
    lines.append("")
    lines.append(escape(page.text.strip("\n"), quote=False))
    lines.append("")
    if page.parts > 1:
        lines.append(texts("consultations.part", part=page.part + 1, parts=page.parts))
    lines.append(texts("consultations.page_comments", count=article.comments))
    if page.closed_at is not None:
        lines.append(_closed_line(texts, page.closed_at))
    return "\n".join(lines)


def page_markup(texts: Texts, page: ArticlePage) -> InlineKeyboardMarkup:
    c, article = page.consultation, page.article
    position = article.position
    nav = []
    if page.has_prev:
        back = (
            ReadArticle(consultation=c.id, position=position, part=page.part - 1)
            if page.part > 0
            else ReadArticle(consultation=c.id, position=position - 1, part=LAST_PART)
        )
        nav.append(button(texts("consultations.prev"), back))
    if page.has_next:
        forward = (
            ReadArticle(consultation=c.id, position=position, part=page.part + 1)
            if page.part < page.parts - 1
            else ReadArticle(consultation=c.id, position=position + 1, part=0)
        )
        nav.append(button(texts("consultations.next"), forward))
    rows = [nav] if nav else []
    open_ = page.closed_at is None
    if open_ and article.number is not None:
        comment = CommentArticle(consultation=c.id, position=position)
        rows.append([button(texts("consultations.comment_article"), comment)])
    rows += _extra_rows(texts, c, position, article.questions, open_)
    contents = ReadContents(consultation=c.id, volume=0, page=0)
    rows.append([button(texts("consultations.contents_button"), contents)])
    return InlineKeyboardMarkup(rows)


async def show_page(
    update: Update,
    context: BotContext,
    consultation_id: int,
    position: int,
    part: int,
    *,
    edit: bool = True,
) -> None:
    texts = context.texts
    page = await context.services.comments.page(context.user, consultation_id, position, part)
    await respond(update, context, page_text(texts, page), page_markup(texts, page), edit=edit)


@guarded(Action.COMMENT_CONSULTATION)
async def article_page(update: Update, context: BotContext) -> None:
    tapped = ReadArticle.of(update)
    await show_page(update, context, tapped.consultation, tapped.position, tapped.part)
    await answer_tap(update)


# --- key questions --------------------------------------------------------------------------


@guarded(Action.COMMENT_CONSULTATION)
async def questions_view(update: Update, context: BotContext) -> None:
    tapped = ReadQuestions.of(update)
    texts = context.texts
    view = await context.services.comments.questions(context.user, tapped.consultation)
    await answer_tap(update)
    back = ReadArticle(consultation=view.consultation.id, position=tapped.at, part=0)
    back_row = [button(texts("consultations.back_reading"), back)]
    if not view.questions:
        markup = InlineKeyboardMarkup([back_row])
        await respond(update, context, texts("consultations.questions_none"), markup)
        return
    lines = [texts("consultations.questions_title")]
    buttons = []
    for n, question in enumerate(view.questions, start=1):
        chosen = view.choices.get(question.id)
        if not question.choices:
            state = texts("consultations.free_text_question")
        elif chosen is not None:
            state = texts("consultations.your_choice", choice=escape(clip(chosen, 100)))
        else:
            state = texts("consultations.not_answered")
        line = texts("consultations.question_line", n=n, text=escape(clip(question.text, 300)))
        lines.append(f"{line}\n{state}")
        label = texts("consultations.question_button", number=n)
        buttons.append(button(label, QuestionOpen(question=question.id, at=tapped.at)))
    if view.closed_at is not None:
        lines.append(_closed_line(texts, view.closed_at))
    rows = [*rows_of(buttons, 3), back_row]
    await respond(update, context, "\n\n".join(lines), InlineKeyboardMarkup(rows))


async def show_question(update: Update, context: BotContext, question_id: int, at: int) -> None:
    texts = context.texts
    view = await context.services.comments.question(context.user, question_id)
    question = view.question
    lines = [
        texts(
            "consultations.question_title",
            number=view.ordinal,
            text=escape(clip(question.text, 3000)),
        ),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    open_ = view.closed_at is None
    if question.choices:
        if view.choice is not None:
            lines.append(texts("consultations.your_choice", choice=escape(clip(view.choice, 200))))
        else:
            lines.append(texts("consultations.not_answered"))
        if open_:
            lines.append(texts("consultations.choose_prompt"))
            for option, choice in enumerate(question.choices):
                label = clip(choice, 60)
                if choice == view.choice:
                    label = texts("consultations.chosen_mark", option=label)
                data = QuestionChoose(question=question.id, option=option, at=at)
                rows.append([button(label, data)])
    elif open_:
        lines.append(texts("consultations.answer_prompt"))
        answer = QuestionAnswer(question=question.id, at=at)
        rows.append([button(texts("consultations.answer_button"), answer)])
    if view.closed_at is not None:
        lines.append(_closed_line(texts, view.closed_at))
    back = ReadQuestions(consultation=view.consultation.id, at=at)
    rows.append([button(texts("consultations.back_questions"), back)])
    await respond(update, context, "\n".join(lines), InlineKeyboardMarkup(rows))


@guarded(Action.COMMENT_CONSULTATION)
async def question_view(update: Update, context: BotContext) -> None:
    tapped = QuestionOpen.of(update)
    await show_question(update, context, tapped.question, tapped.at)
    await answer_tap(update)


@guarded(Action.COMMENT_CONSULTATION)
async def choose_option(update: Update, context: BotContext) -> None:
    tapped = QuestionChoose.of(update)
    await context.services.comments.choose(context.user, tapped.question, tapped.option)
    await tap_of(update).answer(context.texts("consultations.choice_saved"))
    await show_question(update, context, tapped.question, tapped.at)


# --- one's own comments ---------------------------------------------------------------------


async def show_mine(
    update: Update, context: BotContext, consultation_id: int, at: int, page: int, head: str = ""
) -> None:
    texts = context.texts
    mine = await context.services.comments.mine(context.user, consultation_id, page, MINE_PER_PAGE)
    c = mine.consultation
    back_row = [
        button(
            texts("consultations.back_reading"),
            ReadArticle(consultation=c.id, position=at, part=0),
        )
    ]
    prefix = head + "\n\n" if head else ""
    if not mine.page.items:
        text = prefix + texts("consultations.mine_empty")
        await respond(update, context, text, InlineKeyboardMarkup([back_row]))
        return
    open_ = mine.closed_at is None
    lines = [texts("consultations.mine_title", title=escape(clip(c.title, 100)), count=mine.total)]
    rows: list[list[InlineKeyboardButton]] = []
    first = mine.page.page * MINE_PER_PAGE + 1
    for n, comment in enumerate(mine.page.items, start=first):
        target = target_name(
            texts,
            comment.article_position,
            comment.article_number,
            comment.article_sub,
            comment.question_ordinal,
        )
        when = texts.datetime(comment.updated_at)
        if comment.choice is not None:
            item = texts(
                "consultations.mine_choice",
                n=n,
                target=target,
                time=when,
                choice=escape(clip(comment.choice, 200)),
            )
        else:
            item = texts(
                "consultations.mine_item",
                n=n,
                target=target,
                time=when,
                text=escape(clip(comment.text, 300)),
            )
        if comment.author_kind == "voter" and not comment.show_name:
            item += texts("consultations.anonymous_mark")
        lines.append(item)
        if open_:
            row = []
            if comment.choice is None:
                edit = CommentEdit(comment=comment.id, at=at)
                row.append(button(texts("consultations.edit_button", n=n), edit))
            withdraw = CommentWithdraw(comment=comment.id, at=at, page=mine.page.page)
            row.append(button(texts("consultations.withdraw_button", n=n), withdraw))
            rows.append(row)
    if mine.closed_at is not None:
        lines.append(_closed_line(texts, mine.closed_at))
    markup = paged(
        [],
        mine.page.page,
        mine.page.pages,
        lambda p: MyComments(consultation=c.id, at=at, page=p),
        texts,
    )
    rows += [*map(list, markup.inline_keyboard), back_row]
    await respond(update, context, prefix + "\n\n".join(lines), InlineKeyboardMarkup(rows))


@guarded(Action.COMMENT_CONSULTATION)
async def mine_view(update: Update, context: BotContext) -> None:
    tapped = MyComments.of(update)
    await show_mine(update, context, tapped.consultation, tapped.at, tapped.page)
    await answer_tap(update)


@guarded(Action.COMMENT_CONSULTATION)
async def ask_withdraw(update: Update, context: BotContext) -> None:
    tapped = CommentWithdraw.of(update)
    texts = context.texts
    comment = await context.services.comments.own(context.user, tapped.comment)
    await answer_tap(update)
    target = target_name(
        texts,
        comment.article_position,
        comment.article_number,
        comment.article_sub,
        comment.question_ordinal,
    )
    shown = comment.choice if comment.choice is not None else comment.text
    text = texts("consultations.confirm_withdraw", target=target, text=escape(clip(shown, 1500)))
    back = MyComments(consultation=comment.consultation_id, at=tapped.at, page=tapped.page)
    yes = CommentWithdrawConfirmed(comment=comment.id, at=tapped.at, page=tapped.page)
    markup = InlineKeyboardMarkup(
        [[button(texts("consultations.withdraw_yes"), yes), button(texts("nav.back"), back)]]
    )
    await respond(update, context, text, markup)


@guarded(Action.COMMENT_CONSULTATION)
async def confirm_withdraw(update: Update, context: BotContext) -> None:
    tapped = CommentWithdrawConfirmed.of(update)
    comment = await context.services.comments.withdraw(context.user, tapped.comment)
    await answer_tap(update)
    head = context.texts("consultations.withdrawn")
    await show_mine(update, context, comment.consultation_id, tapped.at, tapped.page, head)


# --- the comment conversation ---------------------------------------------------------------


async def _end(update: Update, context: BotContext, error: DomainError) -> None:
    """Drop the comment being written, say why, and leave the conversation (in PTB's memory
    too: the state END travels with the stop)."""
    await context.services.comments.discard(context.user, chat_id_of(update))
    await show_error(update, context, error)
    raise ApplicationHandlerStop(END) from error


def ending(func: Callback[Step | int]) -> Callback[Step | int | None]:
    """A step of the conversation: a refusal that stops the comment ends it."""

    @functools.wraps(func)
    async def step(update: Update, context: BotContext) -> Step | int:
        try:
            return await func(update, context)
        except DomainError as error:
            if error.key in ENDING:
                await _end(update, context, error)
            raise

    return guarded(Action.COMMENT_CONSULTATION)(step)


def _cancel_markup(context: BotContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(context.texts("consultations.cancel_button"), CommentCancel())]]
    )


async def ask_text(update: Update, context: BotContext, aim: Aim) -> Step:
    texts = context.texts
    limits = {"minimum": COMMENT_MIN, "maximum": COMMENT_MAX}
    if aim.current:
        text = texts("consultations.ask_edit", current=escape(aim.current), **limits)
    elif aim.question_ordinal is not None:
        text = texts(
            "consultations.ask_answer",
            number=aim.question_ordinal,
            question=escape(clip(aim.question_text, 1500)),
            **limits,
        )
    else:
        text = texts("consultations.ask_text", target=aim_name(texts, aim), **limits)
    await answer_tap(update)
    await respond(update, context, text, _cancel_markup(context), edit=False)
    return Step.TEXT


@ending
async def comment_article(update: Update, context: BotContext) -> Step:
    tapped = CommentArticle.of(update)
    target = Target(article_position=tapped.position)
    aim = await context.services.comments.begin(
        context.user, chat_id_of(update), tapped.consultation, target, tapped.position
    )
    return await ask_text(update, context, aim)


@ending
async def comment_whole(update: Update, context: BotContext) -> Step:
    tapped = CommentWhole.of(update)
    aim = await context.services.comments.begin(
        context.user, chat_id_of(update), tapped.consultation, Target(), tapped.at
    )
    return await ask_text(update, context, aim)


@ending
async def answer_in_words(update: Update, context: BotContext) -> Step:
    tapped = QuestionAnswer.of(update)
    view = await context.services.comments.question(context.user, tapped.question)
    target = Target(question_id=tapped.question)
    aim = await context.services.comments.begin(
        context.user, chat_id_of(update), view.consultation.id, target, tapped.at
    )
    return await ask_text(update, context, aim)


@ending
async def edit_comment(update: Update, context: BotContext) -> Step:
    tapped = CommentEdit.of(update)
    aim = await context.services.comments.begin_edit(
        context.user, chat_id_of(update), tapped.comment, tapped.at
    )
    return await ask_text(update, context, aim)


async def _saved(update: Update, context: BotContext, saved: Saved) -> int:
    texts = context.texts
    comment = saved.comment
    target = target_name(
        texts,
        comment.article_position,
        comment.article_number,
        comment.article_sub,
        comment.question_ordinal,
    )
    key = "consultations.edited" if saved.edited else "consultations.saved"
    c = comment.consultation_id
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    texts("consultations.back_reading"),
                    ReadArticle(consultation=c, position=saved.at, part=0),
                ),
                button(
                    texts("consultations.mine_button"),
                    MyComments(consultation=c, at=saved.at, page=0),
                ),
            ]
        ]
    )
    await answer_tap(update)
    await respond(update, context, texts(key, target=target), markup)  # a tap: its message
    return END


@ending
async def receive_text(update: Update, context: BotContext) -> Step | int:
    saved = await context.services.comments.take_text(
        context.user, chat_id_of(update), message_of(update).text
    )
    if saved is not None:
        return await _saved(update, context, saved)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(texts("consultations.named"), CommentNamed(named=True)),
                button(texts("consultations.anonymous"), CommentNamed(named=False)),
            ],
            [button(texts("consultations.cancel_button"), CommentCancel())],
        ]
    )
    await respond(update, context, texts("consultations.ask_name"), markup, edit=False)
    return Step.NAME


@ending
async def choose_name(update: Update, context: BotContext) -> int:
    named = CommentNamed.of(update).named
    saved = await context.services.comments.choose_name(context.user, chat_id_of(update), named)
    return await _saved(update, context, saved)


async def cancel(update: Update, context: BotContext) -> int:
    await context.services.comments.discard(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("consultations.cancelled"), edit=False)
    return END


def _says(key: str) -> Callback[None]:
    async def reply(update: Update, context: BotContext) -> None:
        await answer_tap(update)
        await respond(update, context, context.texts(key), edit=False)

    return reply


def handlers() -> list[Handler]:
    text = filters.TEXT & ~filters.COMMAND
    openers = [
        CallbackQueryHandler(comment_article, pattern=CommentArticle.filter()),
        CallbackQueryHandler(comment_whole, pattern=CommentWhole.filter()),
        CallbackQueryHandler(answer_in_words, pattern=QuestionAnswer.filter()),
        CallbackQueryHandler(edit_comment, pattern=CommentEdit.filter()),
    ]
    conversation = DeclaredConversation(
        COMMENT,
        entry_points=openers,
        states={
            Step.TEXT: [
                MessageHandler(text, receive_text),
                MessageHandler(~filters.COMMAND, _says("consultations.not_text")),
            ],
            Step.NAME: [
                CallbackQueryHandler(choose_name, pattern=CommentNamed.filter()),
                MessageHandler(~filters.COMMAND, _says("consultations.use_buttons")),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=CommentCancel.filter()),
            MessageHandler(filters.COMMAND, _says("consultations.in_progress")),
            *openers,  # another comment begun instead: the one being written is dropped
        ],
    )
    return [
        conversation,
        CommandHandler("consultations", consultations_command),
        CallbackQueryHandler(list_page, pattern=ReadList.filter()),
        CallbackQueryHandler(open_consultation, pattern=ReadOpen.filter()),
        CallbackQueryHandler(contents_page, pattern=ReadContents.filter()),
        CallbackQueryHandler(article_page, pattern=ReadArticle.filter()),
        CallbackQueryHandler(questions_view, pattern=ReadQuestions.filter()),
        CallbackQueryHandler(question_view, pattern=QuestionOpen.filter()),
        CallbackQueryHandler(choose_option, pattern=QuestionChoose.filter()),
        CallbackQueryHandler(mine_view, pattern=MyComments.filter()),
        CallbackQueryHandler(ask_withdraw, pattern=CommentWithdraw.filter()),
        CallbackQueryHandler(confirm_withdraw, pattern=CommentWithdrawConfirmed.filter()),
    ]
