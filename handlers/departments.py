"""/departments: staff keep the handling departments (承办单位): a paged list, each one's card
with its liaisons (each may be removed), a new department or a new name typed in chat,
deactivating (refused while suggestions are still assigned to it) and reactivating. Liaisons
are invited with `/invite liaison NAME` (handlers.invite). Rules: bot.services.departments."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import Texts
from bot.runtime.buttons import any_of
from bot.runtime.buttons.departments import (
    DepartmentActive,
    DepartmentAdd,
    DepartmentCancel,
    DepartmentList,
    DepartmentOpen,
    DepartmentRename,
    LiaisonRemove,
    LiaisonRemoveConfirm,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.departments import NAME_MAX, NAMING, DepartmentCard, NameStep
from handlers.common import (
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
from handlers.keyboards import button, paged

END = DeclaredConversation.END
PER_PAGE = 8
NAME_ON_BUTTON = 30


def _state(texts: Texts, active: bool) -> str:
    key = "department.active" if active else "department.inactive_mark"
    return texts(key)


async def show_list(
    update: Update, context: BotContext, page: int, head: str = "", *, edit: bool = True
) -> None:
    """A page of the departments, the active first: each with its liaisons and how many
    suggestions it handles now; "add" below."""
    texts = context.texts
    result = await context.services.departments.page(context.user, page, PER_PAGE)
    lines = [texts("department.list_title")]
    buttons = []
    first = result.page * PER_PAGE + 1
    for number, line in enumerate(result.items, start=first):
        department = line.department
        lines.append(
            texts(
                "department.list_item",
                number=number,
                name=escape(department.name),
                state=_state(texts, department.active),
                liaisons=line.liaisons,
                assignments=line.assignments,
            )
        )
        label = texts(
            "department.item_button", number=number, name=clip(department.name, NAME_ON_BUTTON)
        )
        buttons.append(button(label, DepartmentOpen(department=department.id, page=result.page)))
    if not result.items:
        lines.append(texts("department.list_empty"))
    markup = paged(
        buttons,
        result.page,
        result.pages,
        lambda p: DepartmentList(page=p),
        texts,
        extra=[button(texts("department.add"), DepartmentAdd())],
    )
    body = (head + "\n\n" if head else "") + "\n\n".join(lines)
    await respond(update, context, body, markup, edit=edit)


def render_card(texts: Texts, card: DepartmentCard) -> str:
    department = card.department
    text = texts(
        "department.card",
        name=escape(department.name),
        state=_state(texts, department.active),
        assignments=card.assignments,
        since=texts.date(department.created_at),
    )
    text += "\n\n" + texts("department.liaisons_title")
    if not card.liaisons:
        text += "\n" + texts("department.no_liaisons")
    for liaison in card.liaisons:
        text += "\n" + texts(
            "department.liaison_item",
            name=escape(liaison.name),
            joined=texts.date(liaison.joined_at),
        )
    if department.active:
        text += "\n\n" + texts("department.invite_hint")
    return text


async def show_card(
    update: Update,
    context: BotContext,
    department_id: int,
    page: int,
    head: str = "",
    *,
    edit: bool = True,
) -> None:
    texts = context.texts
    card = await context.services.departments.card(context.user, department_id)
    department = card.department
    toggle = (
        button(
            texts("department.deactivate"),
            DepartmentActive(department=department.id, page=page, on=False),
        )
        if department.active
        else button(
            texts("department.reactivate"),
            DepartmentActive(department=department.id, page=page, on=True),
        )
    )
    rows: list[list[InlineKeyboardButton]] = [
        [button(texts("department.rename"), DepartmentRename(department=department.id)), toggle],
    ]
    for liaison in card.liaisons:
        label = texts("department.remove_liaison", name=clip(liaison.name, NAME_ON_BUTTON))
        remove = LiaisonRemove(department=department.id, liaison=liaison.user_id, page=page)
        rows.append([button(label, remove)])
    rows.append([button(texts("department.back_to_list"), DepartmentList(page=page))])
    body = (head + "\n\n" if head else "") + render_card(texts, card)
    await respond(update, context, body, InlineKeyboardMarkup(rows), edit=edit)


# --- the list and the card ----------------------------------------------------------------


@guarded(Action.MANAGE_DEPARTMENTS)
async def departments_command(update: Update, context: BotContext) -> None:
    await show_list(update, context, 0, edit=False)


@guarded(Action.MANAGE_DEPARTMENTS)
async def list_page(update: Update, context: BotContext) -> None:
    tapped = DepartmentList.of(update)
    await answer_tap(update)
    await show_list(update, context, tapped.page)


@guarded(Action.MANAGE_DEPARTMENTS)
async def open_department(update: Update, context: BotContext) -> None:
    tapped = DepartmentOpen.of(update)
    await context.services.departments.get(tapped.department)
    await answer_tap(update)
    await show_card(update, context, tapped.department, tapped.page)


@guarded(Action.MANAGE_DEPARTMENTS)
async def set_active(update: Update, context: BotContext) -> None:
    tapped = DepartmentActive.of(update)
    department = await context.services.departments.set_active(
        context.user, tapped.department, tapped.on
    )
    await answer_tap(update)
    said = "department.reactivated" if tapped.on else "department.deactivated"
    head = context.texts(said, name=escape(department.name))
    await show_card(update, context, department.id, tapped.page, head)


@guarded(Action.MANAGE_DEPARTMENTS)
async def ask_remove_liaison(update: Update, context: BotContext) -> None:
    """What removing the liaison does, to confirm."""
    tapped = LiaisonRemove.of(update)
    departments = context.services.departments
    liaison = await departments.liaison(context.user, tapped.department, tapped.liaison)
    department = await departments.get(tapped.department)
    await answer_tap(update)
    texts = context.texts
    text = texts(
        "department.confirm_remove_liaison",
        name=escape(liaison.name),
        department=escape(department.name),
    )
    confirm = LiaisonRemoveConfirm(
        department=tapped.department, liaison=tapped.liaison, page=tapped.page
    )
    markup = InlineKeyboardMarkup(
        [
            [button(texts("department.remove_liaison_yes"), confirm)],
            [button(texts("nav.back"), DepartmentOpen(department=department.id, page=tapped.page))],
        ]
    )
    await respond(update, context, text, markup)


@guarded(Action.MANAGE_DEPARTMENTS)
async def remove_liaison(update: Update, context: BotContext) -> None:
    tapped = LiaisonRemoveConfirm.of(update)
    liaison = await context.services.departments.remove_liaison(
        context.user, tapped.department, tapped.liaison
    )
    await answer_tap(update)
    head = context.texts("department.liaison_removed", name=escape(liaison.name))
    await show_card(update, context, tapped.department, tapped.page, head)


# --- a name typed: a new department or a new name -------------------------------------------


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [button(context.texts("department.cancel"), DepartmentCancel())]


@guarded(Action.MANAGE_DEPARTMENTS)
async def begin_add(update: Update, context: BotContext) -> NameStep:
    await context.services.departments.begin_naming(context.user, chat_id_of(update), None)
    await answer_tap(update)
    text = context.texts("department.ask_name", maximum=NAME_MAX)
    await respond(update, context, text, InlineKeyboardMarkup([_cancel_row(context)]), edit=False)
    return NameStep.NAME


@guarded(Action.MANAGE_DEPARTMENTS)
async def begin_rename(update: Update, context: BotContext) -> NameStep:
    tapped = DepartmentRename.of(update)
    department = await context.services.departments.begin_naming(
        context.user, chat_id_of(update), tapped.department
    )
    await answer_tap(update)
    name = escape(department.name) if department else ""
    text = context.texts("department.ask_rename", name=name, maximum=NAME_MAX)
    await respond(update, context, text, InlineKeyboardMarkup([_cancel_row(context)]), edit=False)
    return NameStep.NAME


@guarded(Action.MANAGE_DEPARTMENTS)
async def receive_name(update: Update, context: BotContext) -> int | None:
    """The typed name saved; a refusal (empty, too long, taken) leaves the step as it is."""
    departments = context.services.departments
    try:
        department, created = await departments.save_name(
            context.user, chat_id_of(update), message_of(update).text
        )
    except DomainError as error:
        if error.key == "department.no_draft":
            await show_error(update, context, error)
            return END
        raise
    said = "department.added" if created else "department.renamed"
    head = context.texts(said, name=escape(department.name))
    await show_card(update, context, department.id, 0, head, edit=False)
    return END


@guarded()
async def cancel(update: Update, context: BotContext) -> int:
    await context.services.departments.discard_naming(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("department.cancelled"))
    return END


in_progress = saying("department.in_progress")
busy = alerting("department.in_progress")
bad_name = saying("department.bad_name")


def handlers() -> list[Handler]:
    naming = DeclaredConversation(
        NAMING,
        entry_points=[
            CallbackQueryHandler(begin_add, pattern=DepartmentAdd.filter()),
            CallbackQueryHandler(begin_rename, pattern=DepartmentRename.filter()),
        ],
        states={
            NameStep.NAME: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, receive_name),
                MessageHandler(~filters.COMMAND, bad_name),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=DepartmentCancel.filter()),
            MessageHandler(filters.COMMAND, in_progress),
            CallbackQueryHandler(busy, pattern=any_of(DepartmentAdd, DepartmentRename)),
        ],
    )
    return [
        naming,
        CommandHandler("departments", departments_command),
        CallbackQueryHandler(list_page, pattern=DepartmentList.filter()),
        CallbackQueryHandler(open_department, pattern=DepartmentOpen.filter()),
        CallbackQueryHandler(set_active, pattern=DepartmentActive.filter()),
        CallbackQueryHandler(ask_remove_liaison, pattern=LiaisonRemove.filter()),
        CallbackQueryHandler(remove_liaison, pattern=LiaisonRemoveConfirm.filter()),
    ]
