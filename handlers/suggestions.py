"""/suggestions: a deputy's suggestions (as lead or co-signer), paged, and each one's card:
what it says, its co-signers, the opinions it grew from and its trail, with what the viewer
may do now (the lead invites co-signers and withdraws before 交办; an invited deputy confirms
or declines). The same card, without internal details or anyone's name but the deputies',
is the voter's view of a suggestion their opinion fed (a notice's "open", or /my).
Buttons: bot.runtime.buttons.suggestions."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.access import Action
from bot.errors import DomainError
from bot.i18n import N_, Texts
from bot.runtime.buttons.opinion import MyOpinion
from bot.runtime.buttons.suggestions import (
    CosignAnswer,
    CosignInvite,
    CosignPick,
    CosignSearch,
    CosignSearchCancel,
    MySuggestion,
    SuggestionList,
    SuggestionOpen,
    SuggestionText,
    SuggestionWithdraw,
    SuggestionWithdrawConfirmed,
)
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.broadcasts import shown_text
from bot.services.suggestion_trail import EVENT_LABELS
from bot.services.suggestions import (
    COSIGN_SEARCH,
    COSIGNER_STATES,
    Card,
    CardAction,
    CosignChoice,
    SearchStep,
    TrailEntry,
    Viewer,
)
from bot.services.text import clip_units, telegram_length
from handlers.common import (
    Handler,
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
from handlers.suggest import category_label
from handlers.suggestion_card import suggestion_head
from storage.models import CosignerState, Deputy, Suggestion

END = DeclaredConversation.END
PER_PAGE = 5
MESSAGE_MAX = 4096  # Telegram's limit: UTF-16 code units of the text as shown
# The most a card shows of each longer part (the full texts are one tap away). The reason,
# the proposals and the trail then share what room the rest of the card leaves (render_card).
BODY_CHARS = 700
ANSWER_CHARS = 800
NOTE_CHARS = 100
TRAIL_CHARS = 1200
NAMES_SHOWN = 20

DEPARTMENT_ROLES = {True: "suggestion.department_lead", False: "suggestion.department_co"}
PUBLISH_LABELS = {True: N_("suggestion.card_publish_yes"), False: N_("suggestion.card_publish_no")}


# --- rendering -----------------------------------------------------------------------------


def shown_length(markup: str) -> int:
    """The length Telegram counts of an HTML text: as shown, in UTF-16 code units."""
    return telegram_length(shown_text(markup))


def shares(wanted: list[int], room: int) -> list[int]:
    """`room` split among parts wanting these sizes: whoever wants less than an even share
    gets all of it, and the others share the rest evenly."""
    given = [0] * len(wanted)
    left = max(room, 0)
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    for n, i in enumerate(order):
        given[i] = min(wanted[i], left // (len(order) - n))
        left -= given[i]
    return given


def event_line(texts: Texts, entry: TrailEntry) -> str:
    """One step of the trail: when, what, and its note (a rating: its label)."""
    at, event = texts.datetime(entry.at), texts(EVENT_LABELS[entry.kind])
    if entry.rating is not None:
        note = texts(f"suggestion.rating.{entry.rating}")
    elif entry.note:
        note = escape(clip(entry.note, NOTE_CHARS))
    else:
        return texts("suggestion.event_line", at=at, event=event)
    return texts("suggestion.event_line_note", at=at, event=event, note=note)


def render_trail(texts: Texts, entries: list[TrailEntry], room: int) -> str:
    """The newest steps that fit in `room` (as shown), oldest first, after a line counting
    the earlier ones left out; '' when not even one fits."""
    lines = [event_line(texts, e) for e in entries]
    if shown_length("\n".join(lines)) <= room:
        return "\n".join(lines)

    def earlier(count: int) -> str:
        return texts("suggestion.trail_earlier", count=texts.number(count))

    # not all of them: the newest that fit after a line counting the others
    shown: list[str] = []
    used = 0  # the lines shown, each with the newline before it
    for line in reversed(lines[1:]):
        used += shown_length(line) + 1
        if used + shown_length(earlier(len(lines) - len(shown) - 1)) > room:
            break
        shown.append(line)
    if not shown:
        return ""
    return "\n".join([earlier(len(lines) - len(shown)), *reversed(shown)])


def _cosigner_line(texts: Texts, card: Card) -> str | None:
    if card.viewer in (Viewer.LEAD, Viewer.STAFF):
        shown = [
            texts(
                "suggestion.cosigner_with_state",
                name=escape(c.name),
                state=texts(COSIGNER_STATES[c.state]),
            )
            for c in card.cosigners
        ]
    else:
        shown = [escape(c.name) for c in card.cosigners if c.state == CosignerState.CONFIRMED]
    if not shown:
        return None
    names = texts("suggestion.list_separator").join(shown[:NAMES_SHOWN])
    if len(shown) > NAMES_SHOWN:
        names += texts("suggestion.and_more", count=texts.number(len(shown) - NAMES_SHOWN))
    return texts("suggestion.card_cosigners", names=names)


def _fixed_lines(texts: Texts, card: Card) -> list[str]:
    """Every line of the card but the reason, the proposals and the trail: each bounded."""
    suggestion = card.suggestion
    voter = card.viewer == Viewer.VOTER
    lines = [
        suggestion_head(texts, suggestion),
        texts("suggestion.card_lead", name=escape(card.lead_name)),
    ]
    cosigners = _cosigner_line(texts, card)
    if cosigners:
        lines.append(cosigners)
    lines.append(
        texts(
            "suggestion.card_category",
            category=category_label(texts, suggestion.category),
            created=texts.date(suggestion.created_at),
        )
    )
    if not voter:
        source = (
            texts("suggestion.card_from_opinions", count=texts.number(card.opinion_count))
            if card.opinion_count
            else texts("suggestion.card_from_scratch")
        )
        lines.append(source)
        lines.append(texts(PUBLISH_LABELS[suggestion.publish]))
    if card.departments:
        separator = texts("suggestion.list_separator")
        names = separator.join(
            texts(DEPARTMENT_ROLES[lead], name=escape(name)) for name, lead in card.departments
        )
        lines.append(texts("suggestion.card_departments", names=names))
    if suggestion.due_at is not None and suggestion.answered_at is None:
        lines.append(texts("suggestion.card_due", due=texts.date(suggestion.due_at)))
    if suggestion.decline_reason and not voter:
        lines.append(
            texts("suggestion.card_decline_reason", reason=escape(suggestion.decline_reason))
        )
    if card.answer is not None:
        answer = card.answer
        lines.append(
            texts(
                "suggestion.card_answer",
                department=escape(answer.department),
                code=escape(answer.answer.outcome_class),
                label=escape(answer.class_label),
                at=texts.date(answer.answer.answered_at),
                summary=escape(clip(answer.answer.summary, ANSWER_CHARS)),
            )
        )
    if suggestion.rating is not None:
        lines.append(
            texts(
                "suggestion.card_rating",
                rating=texts(f"suggestion.rating.{suggestion.rating}"),
            )
        )
    return lines


# A part of the card that takes what room it is given: its size wanted, and its text for a
# given room (as shown; '' when nothing of it fits).
Section = tuple[int, Callable[[int], str]]


def _body(texts: Texts, key: str, name: str, raw: str) -> Section:
    """The reason or the proposals, clipped to the room before being escaped."""
    frame = shown_length("\n\n" + texts(key, **{name: ""}))
    body = clip(raw, BODY_CHARS)

    def render(room: int) -> str:
        fitted = clip_units(body, room - frame)
        return "\n\n" + texts(key, **{name: escape(fitted)}) if fitted else ""

    return frame + telegram_length(body), render


def _trail(texts: Texts, entries: list[TrailEntry]) -> Section:
    frame = shown_length("\n\n" + texts("suggestion.card_trail", trail=""))

    def render(room: int) -> str:
        trail = render_trail(texts, entries, room - frame)
        return "\n\n" + texts("suggestion.card_trail", trail=trail) if trail else ""

    return frame + shown_length(render_trail(texts, entries, TRAIL_CHARS)), render


def render_card(texts: Texts, card: Card, room: int = MESSAGE_MAX) -> str:
    """The card as its viewer may read it, within `room` (as Telegram counts it): the fixed
    lines first; the reason (not for voters), the proposals and the trail share what room is
    left, each clipped before it is escaped, the trail to its newest steps."""
    suggestion = card.suggestion
    text = "\n".join(_fixed_lines(texts, card))
    sections = []
    if card.viewer != Viewer.VOTER:  # what the deputy wrote of the matter is internal
        sections.append(_body(texts, "suggestion.card_reason", "reason", suggestion.reason))
    sections.append(_body(texts, "suggestion.card_proposals", "proposals", suggestion.proposals))
    if card.events:
        sections.append(_trail(texts, card.events))
    given = shares([wanted for wanted, _ in sections], room - shown_length(text))
    return text + "".join(render(share) for (_, render), share in zip(sections, given, strict=True))


def card_rows(texts: Texts, card: Card, page: int) -> list[list[InlineKeyboardButton]]:
    """The buttons of what the service lets the viewer do now, and nothing else."""
    sid = card.suggestion.id
    rows: list[list[InlineKeyboardButton]] = []
    if CardAction.CONFIRM in card.actions:
        rows.append(
            [
                button(
                    texts("suggestion.cosign_confirm_button"),
                    CosignAnswer(suggestion=sid, choice=CosignChoice.CONFIRM),
                ),
                button(
                    texts("suggestion.cosign_decline_button"),
                    CosignAnswer(suggestion=sid, choice=CosignChoice.DECLINE),
                ),
            ]
        )
    if CardAction.INVITE in card.actions:
        rows.append([button(texts("suggestion.invite_button"), CosignPick(suggestion=sid, page=0))])
    if CardAction.WITHDRAW in card.actions:
        rows.append(
            [
                button(
                    texts("suggestion.withdraw_button"),
                    SuggestionWithdraw(suggestion=sid, page=page),
                )
            ]
        )
    if card.viewer != Viewer.VOTER:
        rows.append([button(texts("suggestion.full_text_button"), SuggestionText(suggestion=sid))])
    return rows


async def show_card(
    update: Update, context: BotContext, card: Card, page: int, *, edit: bool, head: str = ""
) -> None:
    texts = context.texts
    rows = card_rows(texts, card, page)
    if edit and card.viewer in (Viewer.LEAD, Viewer.COSIGNER):
        rows.append([button(texts("nav.back"), SuggestionList(page=page))])
    prefix = head + "\n\n" if head else ""
    text = prefix + render_card(texts, card, MESSAGE_MAX - shown_length(prefix))
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=edit)


# --- /suggestions ----------------------------------------------------------------------------


def _item(texts: Texts, suggestion: Suggestion, deputy_id: int) -> str:
    role = "" if suggestion.lead_deputy_id == deputy_id else texts("suggestion.item_cosigned")
    return texts(
        "suggestion.item",
        number=suggestion.number,
        state=texts(f"suggestion.state.{suggestion.state}"),
        title=clip(suggestion.title, 20),
        role=role,
    )


async def show_page(update: Update, context: BotContext, page: int, head: str = "") -> None:
    texts = context.texts
    result = await context.services.suggestions.mine(context.user, page, PER_PAGE)
    prefix = head + "\n\n" if head else ""
    if not result.items:
        await respond(update, context, prefix + texts("suggestion.list_empty"))
        return
    buttons = [
        button(
            _item(texts, s, context.user.telegram_id),
            SuggestionOpen(suggestion=s.id, page=result.page),
        )
        for s in result.items
    ]
    markup = paged(buttons, result.page, result.pages, lambda p: SuggestionList(page=p), texts)
    await respond(update, context, prefix + texts("suggestion.list_title"), markup)


@guarded()
async def suggestions_command(update: Update, context: BotContext) -> None:
    await show_page(update, context, 0)


@guarded()
async def list_page(update: Update, context: BotContext) -> None:
    page = SuggestionList.of(update).page
    await answer_tap(update)
    await show_page(update, context, page)


@guarded()
async def open_card(update: Update, context: BotContext) -> None:
    """A card from the list (in its place) or from a notice (below it, the notice stays)."""
    tapped = SuggestionOpen.of(update)
    card = await context.services.suggestions.card(context.user, tapped.suggestion)
    await answer_tap(update)
    await show_card(update, context, card, tapped.page, edit=not tapped.fresh)


@guarded()
async def full_text(update: Update, context: BotContext) -> None:
    card = await context.services.suggestions.card(
        context.user, SuggestionText.of(update).suggestion
    )
    await answer_tap(update)
    if card.viewer == Viewer.VOTER:  # the voter's view has no more to it
        await show_card(update, context, card, 0, edit=False)
        return
    texts = context.texts
    suggestion = card.suggestion
    text = texts(
        "suggestion.full_text",
        head=suggestion_head(texts, suggestion),
        reason=escape(suggestion.reason),
        proposals=escape(suggestion.proposals),
    )
    await respond(update, context, text, edit=False)


# --- co-signing ------------------------------------------------------------------------------


@guarded()
async def answer_invitation(update: Update, context: BotContext) -> None:
    tapped = CosignAnswer.of(update)
    suggestions = context.services.suggestions
    suggestion = await suggestions.answer(context.user, tapped.suggestion, tapped.choice)
    await answer_tap(update)
    texts = context.texts
    key = (
        "suggestion.cosign_confirmed"
        if tapped.choice == CosignChoice.CONFIRM
        else "suggestion.cosign_declined"
    )
    head = texts(key, number=suggestion.number)
    card = await suggestions.card(context.user, suggestion.id)
    await show_card(update, context, card, 0, edit=False, head=head)


async def show_candidates(
    update: Update, context: BotContext, suggestion_id: int, page: int, head: str = ""
) -> None:
    """Deputies the lead may invite, paged, two a row; the tap is answered once they are
    found (a refusal is its alert)."""
    texts = context.texts
    suggestion, result = await context.services.suggestions.candidates(
        context.user, suggestion_id, page, PER_PAGE
    )
    await answer_tap(update)
    buttons = [
        button(d.name, CosignInvite(suggestion=suggestion.id, deputy=d.user_id, page=result.page))
        for d in result.items
    ]
    extra = [
        button(texts("suggestion.search_button"), CosignSearch(suggestion=suggestion.id)),
        button(texts("nav.back"), SuggestionOpen(suggestion=suggestion.id, page=0)),
    ]
    markup = paged(
        buttons,
        result.page,
        result.pages,
        lambda p: CosignPick(suggestion=suggestion.id, page=p),
        texts,
        columns=2,
        extra=extra,
    )
    key = "suggestion.cosign_pick" if result.items else "suggestion.cosign_none_left"
    text = (head + "\n\n" if head else "") + texts(key, number=suggestion.number)
    await respond(update, context, text, markup)


@guarded(Action.DRAFT_SUGGESTION)
async def pick_cosigners(update: Update, context: BotContext) -> None:
    tapped = CosignPick.of(update)
    await show_candidates(update, context, tapped.suggestion, tapped.page)


@guarded(Action.DRAFT_SUGGESTION)
async def invite(update: Update, context: BotContext) -> None:
    """Invite one deputy; the list is shown again without them. After the invitation is
    made, the list cannot refuse any more (the lead's own, before 交办)."""
    tapped = CosignInvite.of(update)
    invitee = await context.services.suggestions.invite(
        context.user, tapped.suggestion, tapped.deputy
    )
    head = context.texts("suggestion.invited", name=escape(invitee.name))
    await show_candidates(update, context, tapped.suggestion, tapped.page, head)


# --- looking a co-signer up by name: one optional typed step ----------------------------------


@guarded(Action.DRAFT_SUGGESTION)
async def begin_search(update: Update, context: BotContext) -> SearchStep:
    suggestion = await context.services.suggestions.begin_search(
        context.user, chat_id_of(update), CosignSearch.of(update).suggestion
    )
    await answer_tap(update)
    texts = context.texts
    cancel = CosignSearchCancel(suggestion=suggestion.id)
    markup = InlineKeyboardMarkup([[button(texts("suggestion.search_cancel"), cancel)]])
    await respond(update, context, texts("suggestion.search_ask"), markup)
    return SearchStep.TYPING


def _found_markup(
    texts: Texts, suggestion: Suggestion, found: list[Deputy]
) -> InlineKeyboardMarkup:
    rows = [
        [button(d.name, CosignInvite(suggestion=suggestion.id, deputy=d.user_id, page=0))]
        for d in found
    ]
    rows.append(
        [
            button(texts("suggestion.search_button"), CosignSearch(suggestion=suggestion.id)),
            button(texts("nav.back"), CosignPick(suggestion=suggestion.id, page=0)),
        ]
    )
    return InlineKeyboardMarkup(rows)


@guarded(Action.DRAFT_SUGGESTION)
async def receive_name(update: Update, context: BotContext) -> SearchStep | int:
    """The deputies whose names hold what was typed, each one tap from an invitation.
    Nothing typed keeps the step; any other refusal ended the search."""
    try:
        suggestion, found = await context.services.suggestions.search(
            context.user, chat_id_of(update), message_of(update).text
        )
    except DomainError as error:
        await show_error(update, context, error)
        return SearchStep.TYPING if error.key == "suggest.search_empty" else END
    texts = context.texts
    key = "suggestion.search_found" if found else "suggestion.search_nothing"
    text = texts(key, count=texts.number(len(found)))
    await respond(update, context, text, _found_markup(texts, suggestion, found), edit=False)
    return END


async def end_search(update: Update, context: BotContext) -> int:
    await context.services.suggestions.end_search(context.user, chat_id_of(update))
    await answer_tap(update)
    await respond(update, context, context.texts("suggestion.search_ended"), edit=False)
    return END


@guarded()
async def cancel_search(update: Update, context: BotContext) -> int:
    suggestion_id = CosignSearchCancel.of(update).suggestion
    await context.services.suggestions.end_search(context.user, chat_id_of(update))
    card = await context.services.suggestions.card(context.user, suggestion_id)
    await answer_tap(update)
    await show_card(update, context, card, 0, edit=True)
    return END


search_send_text = saying("suggestion.search_send_text")


# --- withdrawal --------------------------------------------------------------------------------


@guarded(Action.DRAFT_SUGGESTION)
async def ask_withdraw(update: Update, context: BotContext) -> None:
    tapped = SuggestionWithdraw.of(update)
    suggestion = await context.services.suggestions.withdrawable(context.user, tapped.suggestion)
    await answer_tap(update)
    texts = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    texts("suggestion.withdraw_yes"),
                    SuggestionWithdrawConfirmed(suggestion=suggestion.id, page=tapped.page),
                ),
                button(
                    texts("suggestion.withdraw_no"),
                    SuggestionOpen(suggestion=suggestion.id, page=tapped.page),
                ),
            ]
        ]
    )
    text = texts("suggestion.withdraw_confirm", head=suggestion_head(texts, suggestion))
    await respond(update, context, text, markup)


@guarded(Action.DRAFT_SUGGESTION)
async def withdraw(update: Update, context: BotContext) -> None:
    tapped = SuggestionWithdrawConfirmed.of(update)
    suggestion = await context.services.suggestions.withdraw(context.user, tapped.suggestion)
    await answer_tap(update)
    head = context.texts("suggestion.withdrawn", number=suggestion.number)
    card = await context.services.suggestions.card(context.user, suggestion.id)
    await show_card(update, context, card, tapped.page, edit=True, head=head)


# --- the voter's view from /my ----------------------------------------------------------------


@guarded(Action.VIEW_OWN_OPINIONS)
async def my_suggestion(update: Update, context: BotContext) -> None:
    tapped = MySuggestion.of(update)
    card = await context.services.suggestions.for_opinion(context.user, tapped.opinion)
    await answer_tap(update)
    texts = context.texts
    back = MyOpinion(opinion=tapped.opinion, page=tapped.page)
    markup = InlineKeyboardMarkup([[button(texts("nav.back"), back)]])
    await respond(update, context, render_card(texts, card), markup)


def handlers() -> list[Handler]:
    search = DeclaredConversation(
        COSIGN_SEARCH,
        entry_points=[CallbackQueryHandler(begin_search, pattern=CosignSearch.filter())],
        states={
            SearchStep.TYPING: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, receive_name),
                MessageHandler(~filters.COMMAND, search_send_text),
            ]
        },
        fallbacks=[
            CallbackQueryHandler(cancel_search, pattern=CosignSearchCancel.filter()),
            MessageHandler(filters.COMMAND, end_search),
        ],
    )
    found: list[Handler] = [
        search,
        CommandHandler("suggestions", suggestions_command),
        CallbackQueryHandler(list_page, pattern=SuggestionList.filter()),
        CallbackQueryHandler(open_card, pattern=SuggestionOpen.filter()),
        CallbackQueryHandler(full_text, pattern=SuggestionText.filter()),
        CallbackQueryHandler(answer_invitation, pattern=CosignAnswer.filter()),
        CallbackQueryHandler(pick_cosigners, pattern=CosignPick.filter()),
        CallbackQueryHandler(invite, pattern=CosignInvite.filter()),
        CallbackQueryHandler(cancel_search, pattern=CosignSearchCancel.filter()),
        CallbackQueryHandler(ask_withdraw, pattern=SuggestionWithdraw.filter()),
        CallbackQueryHandler(withdraw, pattern=SuggestionWithdrawConfirmed.filter()),
        CallbackQueryHandler(my_suggestion, pattern=MySuggestion.filter()),
    ]
    return found
