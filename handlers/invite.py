"""/invite: staff make one-time deep links. `/invite 张三` invites a deputy: staff pick the
station with the one station picker (purpose Picker.INVITE). `/invite liaison 王五` (or
`/invite 联络员 王五`) invites a department's liaison: staff pick the department from the
active ones. The name waits in the database meanwhile."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.access import Action, ensure
from bot.errors import DomainError
from bot.runtime.buttons import Picker
from bot.runtime.buttons.departments import LiaisonDepartment, LiaisonDepartments
from bot.runtime.buttons.start import invite_link, liaison_link
from bot.runtime.context import BotContext
from bot.services.invitations import InvitedRole, invited_role
from handlers.common import answer_tap, clip, guarded, respond
from handlers.keyboards import button, paged
from handlers.station_picker import StationPicker

PER_PAGE = 8
NAME_ON_BUTTON = 40
# who may invite whom
ROLE_ACTION = {
    InvitedRole.DEPUTY: Action.INVITE_DEPUTY,
    InvitedRole.LIAISON: Action.MANAGE_DEPARTMENTS,
}


async def _pending_name(context: BotContext) -> Mapping[str, object]:
    """The name typed with /invite, waiting for its station (the prompt's {name})."""
    return {"name": escape(await context.services.invitations.pending_name(context.user))}


async def picked(update: Update, context: BotContext, station_id: int) -> None:
    """The station is chosen: make the invitation and show its one-time link."""
    name = await context.services.invitations.pending_name(context.user)
    invitation = await context.services.invitations.create(context.user, name, station_id)
    station = await context.services.stations.get(invitation.station_id)
    link = invite_link(context.bot.username, invitation.code)
    texts = context.texts
    await respond(
        update,
        context,
        texts(
            "invite.created",
            name=escape(invitation.deputy_name),
            station=escape(station.name),
            link=link,
            expires=texts.datetime(invitation.expires_at),
        ),
    )


# /invite takes the deputy's name as its argument, so no search by name is offered here
PICKER = StationPicker(
    purpose=Picker.INVITE,
    action=Action.INVITE_DEPUTY,
    on_picked=picked,
    prompt="invite.choose_station",
    params=_pending_name,
)


@guarded()
async def invite_command(update: Update, context: BotContext) -> None:
    """Remember the name (cleaned by the service) and show the streets, or for a liaison
    the departments; each role asks the right of its own (inviting deputies, keeping the
    departments)."""
    words = list(context.args or [])
    role, name = invited_role(words)
    ensure(context.user, ROLE_ACTION[role])
    if not words:
        raise DomainError("invite.usage")
    if role == InvitedRole.LIAISON:
        await context.services.invitations.start_liaison(context.user, name)
        await show_departments(update, context, 0, edit=False)
        return
    if not name:
        raise DomainError("invite.usage")
    await context.services.invitations.start(context.user, name)
    await PICKER.show(update, context, edit=False)


# --- a liaison's department ------------------------------------------------------------------


async def show_departments(
    update: Update, context: BotContext, page: int, *, edit: bool = True
) -> None:
    """A page of the active departments to invite the liaison named with /invite to."""
    texts = context.texts
    name = await context.services.invitations.pending_liaison_name(context.user)
    result = await context.services.departments.choices(context.user, page, PER_PAGE)
    if not result.items:
        await respond(update, context, texts("liaison.no_departments"), edit=edit)
        return
    buttons = [
        button(clip(d.name, NAME_ON_BUTTON), LiaisonDepartment(department=d.id))
        for d in result.items
    ]
    markup = paged(buttons, result.page, result.pages, lambda p: LiaisonDepartments(page=p), texts)
    text = texts("liaison.choose_department", name=escape(name))
    await respond(update, context, text, markup, edit=edit)


@guarded(Action.MANAGE_DEPARTMENTS)
async def departments_page(update: Update, context: BotContext) -> None:
    tapped = LiaisonDepartments.of(update)
    await context.services.invitations.pending_liaison_name(context.user)
    await answer_tap(update)
    await show_departments(update, context, tapped.page)


@guarded(Action.MANAGE_DEPARTMENTS)
async def department_picked(update: Update, context: BotContext) -> None:
    """The department is chosen: make the invitation and show its one-time link."""
    tapped = LiaisonDepartment.of(update)
    invitations = context.services.invitations
    name = await invitations.pending_liaison_name(context.user)
    invitation = await invitations.create_liaison(context.user, name, tapped.department)
    department = await context.services.departments.get(invitation.department_id)
    await answer_tap(update)
    link = liaison_link(context.bot.username, invitation.code)
    texts = context.texts
    await respond(
        update,
        context,
        texts(
            "liaison.created",
            name=escape(invitation.name),
            department=escape(department.name),
            link=link,
            expires=texts.datetime(invitation.expires_at),
        ),
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/invite, its station picker (purpose INVITE) and the liaison's department."""
    return [
        CommandHandler("invite", invite_command),
        *PICKER.handlers(),
        CallbackQueryHandler(departments_page, pattern=LiaisonDepartments.filter()),
        CallbackQueryHandler(department_picked, pattern=LiaisonDepartment.filter()),
    ]
