"""An opinion's one card, whoever looks at it: a deputy or staff from /inbox, staff from
/opinions (the button's `side` names the list, and Back goes there). The service says what
the viewer may do with the opinion now (bot.services.inbox.permitted) and the card shows a
button for exactly those actions; every tap goes back to the service, which refuses
anything else, forged or stale. The voter's /my and the rating messages show the voter's
actions the same way (`action_rows`). A voice opinion shows its length and transcript
(`opinion_body`) and, above the rest, the buttons to play it and to type its transcript
(`voice_rows`, handled by handlers.voice). An opinion the voter wrote to one deputy by name
says so (`addressee_line`, on /my too)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.i18n import N_, Texts
from bot.runtime.buttons import CallbackData
from bot.runtime.buttons.inbox import (
    Accept,
    AssignTo,
    Claim,
    Compose,
    InboxList,
    InboxOpen,
    LookAgain,
    OpinionCard,
    PickDeputy,
    RateSatisfaction,
    RateSolved,
    Release,
    Side,
    StaffList,
    StatusFilter,
)
from bot.runtime.buttons.voice import PlayVoice, Transcribe
from bot.runtime.context import BotContext
from bot.services.inbox import InboxCard, OpinionAction
from bot.services.opinions import (
    CATEGORY_LABELS,
    EVENT_LABELS,
    SATISFACTION_CHOICES,
    SATISFACTION_LABELS,
    SOLVED_LABELS,
    STATUS_LABELS,
)
from bot.services.voice_opinions import VoiceAction, is_voice, voice_kept
from handlers.common import answer_tap, clip, guarded, respond
from handlers.desk import visitor_line
from handlers.keyboards import button
from storage.models import Deputy, Opinion, OpinionEvent

Rows = list[list[InlineKeyboardButton]]

# A card holds the opinion (up to 2,000 characters) and its history, whose notes (answers,
# questions, replies) may be as long; these bounds keep it under Telegram's 4,096.
CARD_TEXT_CHARS = 1500
NOTE_CHARS = 200
HISTORY_EVENTS = 8

# The label of each action that is one button (each rating question is one per answer).
LABELS: dict[OpinionAction, str] = {
    OpinionAction.CLAIM: N_("inbox.claim_button"),
    OpinionAction.ACCEPT: N_("handling.accept"),
    OpinionAction.ANSWER: N_("handling.answer"),
    OpinionAction.DECLINE: N_("handling.decline"),
    OpinionAction.ASK: N_("inbox.ask_button"),
    OpinionAction.RELEASE: N_("inbox.release_button"),
    OpinionAction.ASSIGN: N_("inbox.assign_button"),  # "reassign" once someone holds it
    OpinionAction.LOOK_AGAIN: N_("rate.look_again_button"),
}
# How they are laid out: a row per group, in this order, below the rating questions.
ROWS = (
    (OpinionAction.CLAIM, OpinionAction.ACCEPT),
    (OpinionAction.ANSWER, OpinionAction.DECLINE),
    (OpinionAction.ASK, OpinionAction.RELEASE),
    (OpinionAction.ASSIGN,),
    (OpinionAction.LOOK_AGAIN,),
)
RATING = {OpinionAction.RATE_SOLVED, OpinionAction.RATE_SATISFACTION}
# Where Back leads from a card of each side.
BACK: dict[Side, CallbackData] = {
    Side.INBOX: InboxList(view="all", page=0),
    Side.STAFF: StaffList(status=StatusFilter.ALL, street=0, page=0),
}

if set(LABELS) != {a for row in ROWS for a in row}:
    raise TypeError("every one-button action has its place in ROWS")
# every action the service may offer has its button (the typed reply and comment are opened
# by a question's notice and by a rating, never from a card)
if set(LABELS) | RATING != set(OpinionAction) - {OpinionAction.REPLY, OpinionAction.COMMENT}:
    raise TypeError("an action the service offers has no button")


def _tap(action: OpinionAction, opinion_id: int, side: Side) -> CallbackData:
    """The button of a one-button action; the card's taps come back to `side`."""
    match action:
        case OpinionAction.CLAIM:
            return Claim(opinion=opinion_id)
        case OpinionAction.ACCEPT:
            return Accept(side=side, opinion=opinion_id)
        case OpinionAction.ANSWER:
            return Compose(step="answer", opinion=opinion_id)
        case OpinionAction.DECLINE:
            return Compose(step="decline", opinion=opinion_id)
        case OpinionAction.ASK:
            return Compose(step="ask", opinion=opinion_id)
        case OpinionAction.RELEASE:
            return Release(side=side, opinion=opinion_id)
        case OpinionAction.ASSIGN:
            return PickDeputy(side=side, opinion=opinion_id)
        case OpinionAction.LOOK_AGAIN:
            return LookAgain(opinion=opinion_id)
    raise ValueError(f"{action} is no one-button action")


# --- rendering (also used by /my and /opinions) -------------------------------------------


def opinion_body(texts: Texts, opinion: Opinion) -> str:
    """An opinion's text as a card shows it; a voice opinion as its length, then staff's
    transcript once typed; a text erased at its author's request (/forget) says so rather
    than showing nothing."""
    if is_voice(opinion):
        return _voice_body(texts, opinion)
    if not opinion.text:
        return texts("privacy.erased_text")
    return escape(clip(opinion.text, CARD_TEXT_CHARS))


def _voice_body(texts: Texts, opinion: Opinion) -> str:
    """A voice opinion's length ("🎤 语音 0:45", or that its recording was erased) and its
    transcript, clipped as a typed text is."""
    length = texts.length(opinion.voice_seconds or 0)
    key = "voice.body" if voice_kept(opinion) else "voice.body_erased"
    body = texts(key, length=length)
    if opinion.text:
        body += "\n" + texts("voice.transcript", text=escape(clip(opinion.text, CARD_TEXT_CHARS)))
    return body


def opinion_summary(texts: Texts, opinion: Opinion, preview_chars: int) -> str:
    """The start of an opinion's text for a list: "🎤 0:45" first for a voice (then its
    transcript, if any); a text erased on request (/forget) says so. Plain text, as a
    button label is."""
    preview = opinion.text[:preview_chars] + ("…" if len(opinion.text) > preview_chars else "")
    if is_voice(opinion):
        mark = texts("voice.summary", length=texts.length(opinion.voice_seconds or 0))
        return f"{mark} {preview}" if preview else mark
    return preview or texts("privacy.erased_text")


def opinion_button(
    texts: Texts, key: str, opinion: Opinion, preview_chars: int, data: CallbackData
) -> InlineKeyboardButton:
    """One opinion in a list: tracking number, status and the start of its text."""
    label = texts(
        key,
        tracking_no=opinion.tracking_no,
        status=texts(STATUS_LABELS[opinion.status]),
        summary=opinion_summary(texts, opinion, preview_chars),
    )
    return button(label, data)


def render_history(texts: Texts, events: list[OpinionEvent]) -> str:
    """The latest events, each note clipped, so a card stays within Telegram's length."""
    shown = events[-HISTORY_EVENTS:]
    lines = (
        [texts("history.earlier", count=len(events) - len(shown))]
        if events[:-HISTORY_EVENTS]
        else []
    )
    lines += [
        texts(
            "my.event",
            at=texts.datetime(e.at),
            event=texts(EVENT_LABELS.get(e.kind, "event.other")),
            note=(": " + escape(clip(e.note, NOTE_CHARS))) if e.note else "",
        )
        for e in shown
    ]
    return "\n".join(lines)


def render_rating(texts: Texts, opinion: Opinion) -> str:
    """The rating lines of a card ('' while there is none)."""
    if opinion.satisfaction is None:
        return ""
    text = "\n\n" + texts(
        "rate.summary",
        solved=texts(SOLVED_LABELS[opinion.solved]) if opinion.solved else "—",
        satisfaction=texts(SATISFACTION_LABELS[opinion.satisfaction]),
    )
    if opinion.rating_comment:
        text += "\n" + texts("rate.summary_comment", comment=escape(opinion.rating_comment))
    return text


def _label(texts: Texts, opinion: Opinion, action: OpinionAction) -> str:
    if action is OpinionAction.ASSIGN and opinion.holder_id:
        return texts("inbox.reassign_button")
    return texts(LABELS[action])


def action_rows(
    texts: Texts, opinion: Opinion, actions: frozenset[OpinionAction], side: Side = Side.INBOX
) -> Rows:
    """A button for each action in `actions` (the service's word on what the viewer may do),
    and nothing else; the rating questions offer one button per answer."""
    rows: Rows = []
    if OpinionAction.RATE_SOLVED in actions:
        rows += [
            [button(texts(label), RateSolved.model_validate({"opinion": opinion.id, "solved": c}))]
            for c, label in SOLVED_LABELS.items()
        ]
    if OpinionAction.RATE_SATISFACTION in actions:
        rows += [
            [
                button(
                    texts(SATISFACTION_LABELS[c]),
                    RateSatisfaction.model_validate({"opinion": opinion.id, "satisfaction": c}),
                )
            ]
            for c in SATISFACTION_CHOICES
        ]
    for group in ROWS:
        row = [
            button(_label(texts, opinion, a), _tap(a, opinion.id, side))
            for a in group
            if a in actions
        ]
        if row:
            rows.append(row)
    return rows


def voice_rows(
    texts: Texts, opinion: Opinion, offered: frozenset[VoiceAction], side: Side = Side.INBOX
) -> Rows:
    """Above a voice opinion's other buttons: play it, and for staff, type its transcript
    (`offered`: the service's word, bot.services.voice_opinions.VoiceOpinions.offered)."""
    row = []
    if VoiceAction.PLAY in offered:
        row.append(button(texts("voice.play_button"), PlayVoice(opinion=opinion.id)))
    if VoiceAction.TRANSCRIBE in offered:
        key = "voice.retranscribe_button" if opinion.text else "voice.transcribe_button"
        row.append(button(texts(key), Transcribe(side=side, opinion=opinion.id)))
    return [row] if row else []


def addressee_line(texts: Texts, addressee: str) -> str:
    """The line "写给：王芳代表": the one deputy the voter wrote the opinion to by name, in
    the words of the preview the voter saw before sending it."""
    deputy = texts("opinion.addressed_deputy", deputy=escape(addressee))
    return texts("opinion.preview_address", addressee=deputy)


def card_text(texts: Texts, card: InboxCard, addressee: str | None = None) -> str:
    """The opinion, whom the voter wrote it to, who sent it (as far as the viewer may know),
    who holds it, its history and its rating."""
    opinion = card.opinion
    if card.author_name is None:
        author = texts("inbox.anonymous_voter")
    else:
        author = escape(card.author_name)
        if not opinion.show_name:
            author += texts("handling.anonymous_mark")
    about = ""
    if card.project_title is not None:
        about = texts("inbox.about_project", project=escape(card.project_title)) + "\n"
    if addressee is not None:
        about += addressee_line(texts, addressee) + "\n"
    return (
        about
        + texts(
            "inbox.card",
            tracking_no=opinion.tracking_no,
            status=texts(STATUS_LABELS[opinion.status]),
            category=texts(CATEGORY_LABELS.get(opinion.category, "category.other")),
            station=escape(card.station_name),
            author=author,
            holder=escape(card.holder_name) if card.holder_name else texts("inbox.unclaimed"),
            created=texts.datetime(opinion.created_at),
            photos=texts.number(len(opinion.photos)),
            text=opinion_body(texts, opinion),
            history=render_history(texts, card.events),
        )
        + render_rating(texts, opinion)
    )


async def show_card(
    update: Update, context: BotContext, opinion_id: int, side: Side, *, edit: bool = True
) -> None:
    """The card replaces the list it was opened from (edit) or comes as a new message."""
    texts = context.texts
    inbox = context.services.inbox
    card = await inbox.card(context.user, opinion_id, side.listing)
    offered = context.services.voice_opinions.offered(context.user, card.opinion)
    rows = voice_rows(texts, card.opinion, offered, side)
    rows += action_rows(texts, card.opinion, card.actions, side)
    rows.append([button(texts("nav.back"), BACK[side])])
    addressee = await inbox.addressee_name(card.opinion)
    text = card_text(texts, card, addressee) + await visitor_line(context, card.opinion)
    await respond(update, context, text, InlineKeyboardMarkup(rows), edit=edit)


# --- the taps ---------------------------------------------------------------------------


def _listed(context: BotContext, side: Side) -> Side:
    """The side of a tap, once the service let the person use its list at all."""
    context.services.inbox.ensure_listing(context.user, side.listing)
    return side


async def acted(
    update: Update, context: BotContext, key: str, opinion: Opinion, side: Side
) -> None:
    """After a step on an opinion: stop the spinner, say what was done, show the card."""
    await answer_tap(update)
    await respond(update, context, context.texts(key, tracking_no=opinion.tracking_no), edit=False)
    await show_card(update, context, opinion.id, side)


@guarded()
async def card(update: Update, context: BotContext) -> None:
    """An opinion's card in place of the list."""
    tapped = OpinionCard.of(update)
    await show_card(update, context, tapped.opinion, tapped.side)
    await answer_tap(update)


@guarded()
async def view(update: Update, context: BotContext) -> None:
    """'Open' under a notice: the card comes below it, and the notice stays as it was."""
    await show_card(update, context, InboxOpen.of(update).opinion, Side.INBOX, edit=False)
    await answer_tap(update)


@guarded()
async def claim(update: Update, context: BotContext) -> None:
    """A deputy takes the opinion on (exactly one wins)."""
    opinion = await context.services.inbox.claim(context.user, Claim.of(update).opinion)
    await acted(update, context, "inbox.claimed", opinion, Side.INBOX)


@guarded()
async def accept(update: Update, context: BotContext) -> None:
    """Staff accept a submitted opinion; the voter hears of it."""
    tapped = Accept.of(update)
    side = _listed(context, tapped.side)
    opinion = await context.services.opinions.handle(context.user, tapped.opinion, "accept")
    await acted(update, context, "handling.done_accept", opinion, side)


@guarded()
async def release(update: Update, context: BotContext) -> None:
    """The holder (or staff) gives the opinion back to the station's deputies."""
    tapped = Release.of(update)
    side = _listed(context, tapped.side)
    opinion = await context.services.inbox.release(context.user, tapped.opinion)
    await acted(update, context, "inbox.released", opinion, side)


def deputy_rows(texts: Texts, opinion: Opinion, deputies: list[Deputy], side: Side) -> Rows:
    """The deputies of the opinion's station to give it to (its holder ticked), and Back to
    its card: from the card, and below a staff alert (handlers.inbox)."""
    rows: Rows = [
        [
            button(
                ("✓ " if d.user_id == opinion.holder_id else "") + d.name,
                AssignTo(side=side, opinion=opinion.id, deputy=d.user_id),
            )
        ]
        for d in deputies
    ]
    rows.append([button(texts("nav.back"), OpinionCard(side=side, opinion=opinion.id))])
    return rows


@guarded()
async def pick_deputy(update: Update, context: BotContext) -> None:
    """Staff pick the deputy of the opinion's station to give it to; Back is the card."""
    tapped = PickDeputy.of(update)
    side = _listed(context, tapped.side)
    texts = context.texts
    opinion, deputies = await context.services.inbox.assignable(context.user, tapped.opinion)
    rows = deputy_rows(texts, opinion, deputies, side)
    key = "inbox.pick_deputy" if deputies else "inbox.no_deputies"
    await respond(
        update, context, texts(key, tracking_no=opinion.tracking_no), InlineKeyboardMarkup(rows)
    )
    await answer_tap(update)


@guarded()
async def assign(update: Update, context: BotContext) -> None:
    """Staff give the opinion to the deputy tapped, say so, and show the card again."""
    tapped = AssignTo.of(update)
    side = _listed(context, tapped.side)
    inbox = context.services.inbox
    opinion = await inbox.assign(context.user, tapped.opinion, tapped.deputy)
    await answer_tap(update)
    name = await inbox.holder_name(opinion)
    await respond(
        update,
        context,
        context.texts("inbox.assigned", tracking_no=opinion.tracking_no, name=escape(name or "")),
        edit=False,
    )
    await show_card(update, context, opinion.id, side)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The card and its taps, from either side (registered by handlers.inbox)."""
    taps: dict[Callable[[Update, BotContext], Any], type[CallbackData]] = {
        card: OpinionCard,
        view: InboxOpen,
        claim: Claim,
        accept: Accept,
        release: Release,
        pick_deputy: PickDeputy,
        assign: AssignTo,
    }
    return [
        CallbackQueryHandler(callback, pattern=kind.filter()) for callback, kind in taps.items()
    ]
