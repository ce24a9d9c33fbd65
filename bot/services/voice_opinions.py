"""Voice opinions: a voter's voice message kept by Telegram's file_id with its length, played
to the deputies and staff who may see the opinion (and to its author), and the transcript
staff type later, which becomes the opinion's text.

A voice opinion is one with a length (`voice_seconds`); its file_id goes when its author's
data is erased (/forget, retention), the length stays, so it is still known as a voice."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from bot.access import Action, allowed, ensure
from bot.clock import Clock
from bot.errors import DomainError
from bot.services.conversations import Conversation, DraftStore
from bot.services.inbox import LISTING_NEEDS, Listing, opinion_of, seen_opinion
from bot.services.outbox import Outbox
from bot.services.text import typed
from bot.settings import Settings
from storage import Database
from storage.models import Opinion, User
from storage.repos.opinions import OpinionRepo
from storage.repos.voice import VoiceRepo

# A transcript's bounds: the opinion's own text may hold up to 2,000 characters.
TRANSCRIPT_MIN = 2
TRANSCRIPT_MAX = 2000
TRANSCRIBED = "transcribed"  # the opinion event (bot.services.opinions.EVENT_LABELS)


def is_voice(opinion: Opinion) -> bool:
    """A voice opinion, its recording kept or erased."""
    return opinion.voice_seconds is not None


def voice_kept(opinion: Opinion) -> bool:
    """A voice opinion whose recording may still be played."""
    return opinion.voice_file_id is not None


class VoiceAction(StrEnum):
    """What a viewer of a voice opinion's card may do with the voice."""

    PLAY = "play"  # send the recording to the viewer
    TRANSCRIBE = "transcribe"  # staff: type the transcript, or a new one


@dataclass(frozen=True)
class Recording:
    """A voice to send to the one who asked for it."""

    file_id: str
    seconds: int
    tracking_no: str


# --- the one-step conversation: the transcript typed ----------------------------------------


class TranscriptStep(StrEnum):
    """Its step, as stored (the string must not change)."""

    TYPING = "typing"


class TranscriptDraft(BaseModel):
    """Which opinion, and the list its card was opened from (shown again there)."""

    opinion_id: int
    listing: Listing


TRANSCRIPT = Conversation(
    "voice_transcript",
    steps=TranscriptStep,
    draft=TranscriptDraft,
    needs=Action.TRANSCRIBE_VOICE,
)

# Refusals after which there is nothing left to type for: the conversation is over.
ENDS_TYPING = frozenset({"voice.no_draft", "voice.gone"})


def transcript_text(raw: str | None) -> str:
    """A transcript as typed: cleaned by the one cleaner, 2 to 2,000 characters."""
    return typed(
        raw,
        minimum=TRANSCRIPT_MIN,
        maximum=TRANSCRIPT_MAX,
        empty="voice.transcript_empty",
        too_short="voice.transcript_too_short",
        too_long="voice.transcript_too_long",
    )


class VoiceOpinions:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.opinions = OpinionRepo(db)
        self.repo = VoiceRepo(db)
        self.drafts = DraftStore(db, TRANSCRIPT)

    # --- what a card offers ---------------------------------------------------------------

    @staticmethod
    def offered(actor: User, opinion: Opinion) -> frozenset[VoiceAction]:
        """What the viewer of the opinion's card (someone the card's own rule let see it)
        may do with its voice now: nothing once the recording is erased."""
        if not voice_kept(opinion):
            return frozenset()
        if allowed(actor, Action.TRANSCRIBE_VOICE):
            return frozenset({VoiceAction.PLAY, VoiceAction.TRANSCRIBE})
        return frozenset({VoiceAction.PLAY})

    # --- playing --------------------------------------------------------------------------

    async def recording(self, actor: User, opinion_id: int) -> Recording:
        """The voice of `opinion_id`, for someone who may see the opinion: its author, staff,
        a deputy of its station or its holder (bot.services.inbox's one rule). Refused
        otherwise, and for a typed opinion or an erased recording."""
        opinion = await seen_opinion(self.opinions, actor, opinion_id)
        if not is_voice(opinion):
            raise DomainError("voice.not_voice", tracking_no=opinion.tracking_no)
        if opinion.voice_file_id is None or opinion.voice_seconds is None:
            raise DomainError("voice.erased", tracking_no=opinion.tracking_no)
        return Recording(opinion.voice_file_id, opinion.voice_seconds, opinion.tracking_no)

    # --- the transcript -------------------------------------------------------------------

    async def begin_transcript(
        self, actor: User, chat_id: int, opinion_id: int, listing: Listing
    ) -> Opinion:
        """Staff start typing the transcript of a voice opinion whose recording is kept;
        returned, to ask for it (a first transcript or a new one)."""
        ensure(actor, Action.TRANSCRIBE_VOICE)
        ensure(actor, LISTING_NEEDS[listing])
        opinion = await opinion_of(self.opinions, opinion_id)
        self._ensure_transcribable(opinion)
        await self.drafts.ensure_alone(chat_id, actor.telegram_id, "conversation.busy")
        draft = TranscriptDraft(opinion_id=opinion.id, listing=listing)
        await self.drafts.keep(
            chat_id, actor.telegram_id, draft, TranscriptStep.TYPING, self.clock.now()
        )
        return opinion

    @staticmethod
    def _ensure_transcribable(opinion: Opinion) -> None:
        if not is_voice(opinion):
            raise DomainError("voice.not_voice", tracking_no=opinion.tracking_no)
        if not voice_kept(opinion):
            raise DomainError("voice.erased", tracking_no=opinion.tracking_no)

    async def save_transcript(
        self, actor: User, chat_id: int, raw: str | None
    ) -> tuple[Opinion, Listing]:
        """The typed transcript becomes the opinion's text, with a 'transcribed' event, and
        the conversation ends; bad text is refused and the step stays. A recording erased
        while staff typed ends it with nothing written ("voice.gone"). Returns the opinion
        as it is now and the list its card came from."""
        draft = await self.drafts.required(actor, "voice.no_draft")
        text = transcript_text(raw)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            written = await self.repo.set_transcript(tx, draft.opinion_id, text)
            if written:
                await self.opinions.add_event(
                    tx, draft.opinion_id, now, actor.telegram_id, TRANSCRIBED
                )
            await self.drafts.put(tx, chat_id, actor.telegram_id, None, None, now)
        opinion = await self.opinions.get(draft.opinion_id)
        if not written or opinion is None:
            shown = opinion.tracking_no if opinion is not None else "—"
            raise DomainError("voice.gone", tracking_no=shown)
        return opinion, draft.listing

    async def discard_transcript(self, actor: User, chat_id: int) -> None:
        """/cancel: the old transcript (or none) stays as it was."""
        ensure(actor, Action.TRANSCRIBE_VOICE)
        await self.drafts.keep(chat_id, actor.telegram_id, None, None, self.clock.now())
