"""Someone writing to the bot: the updates Telegram would deliver for their messages, photos,
locations, documents and taps. The demo console and the tests' simulated people build their
updates here, so both speak to the bot exactly alike."""

from __future__ import annotations

import itertools
from typing import Any, Protocol

from bot.clock import Clock

# A tap's callback query id starts with its chat, so the in-process Bot API can tell which
# chat an answer to it is for (bot/demo/botapi.py).
_query_ids = itertools.count(1)


class UpdateSource(Protocol):
    """Where updates come from: the clock that dates them and the counter that numbers them."""

    @property
    def clock(self) -> Clock: ...

    def next_update_id(self) -> int: ...


class Sender:
    """A Telegram user in a private chat with the bot; builds, never feeds, their updates."""

    def __init__(
        self, source: UpdateSource, user_id: int, first_name: str, language_code: str
    ) -> None:
        self.source = source
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self._message_ids = itertools.count(1)

    def _from(self) -> dict[str, Any]:
        """The `from` of their messages and taps (a subclass may add a last name …)."""
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def _chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    def message_update(self, **content: Any) -> dict[str, Any]:
        """An update carrying a new message from this person, built but not fed (a burst of
        them may be fed at once)."""
        message = {
            "message_id": next(self._message_ids),
            "date": int(self.source.clock.now().timestamp()),
            "chat": self._chat(),
            "from": self._from(),
            **content,
        }
        return {"update_id": self.source.next_update_id(), "message": message}

    def text_update(self, text: str) -> dict[str, Any]:
        """A text message, a command marked as Telegram marks it."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.message_update(**content)

    def photo_update(self, file_id: str = "photo-1") -> dict[str, Any]:
        """A photo in two sizes, `file_id` the larger."""
        sizes = [
            {
                "file_id": f"{file_id}-small",
                "file_unique_id": f"{file_id}-s",
                "width": 90,
                "height": 90,
            },
            {"file_id": file_id, "file_unique_id": f"{file_id}-l", "width": 1280, "height": 960},
        ]
        return self.message_update(photo=sizes)

    def location_update(self, latitude: float, longitude: float) -> dict[str, Any]:
        return self.message_update(location={"latitude": latitude, "longitude": longitude})

    def voice_update(self, file_id: str, seconds: int) -> dict[str, Any]:
        """A voice message (recorded in the app, held to talk) of `seconds`."""
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "duration": seconds,
            "mime_type": "audio/ogg",
            "file_size": 1600 * max(1, seconds),
        }
        return self.message_update(voice=voice)

    def video_note_update(self, seconds: int = 10) -> dict[str, Any]:
        """A round video message."""
        note = {"file_id": "video-note", "file_unique_id": "vn", "length": 240, "duration": seconds}
        return self.message_update(video_note=note)

    def audio_update(self, seconds: int = 180) -> dict[str, Any]:
        """A music or audio file (an .mp3 picked from the phone), not a voice message."""
        audio = {
            "file_id": "audio",
            "file_unique_id": "au",
            "duration": seconds,
            "mime_type": "audio/mpeg",
            "file_name": "录音.mp3",
        }
        return self.message_update(audio=audio)

    def document_update(
        self, file_id: str, file_name: str, mime_type: str, size: int
    ) -> dict[str, Any]:
        """A document announced with its name, type and size, as Telegram does."""
        document = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": size,
        }
        return self.message_update(document=document)

    def tap_update(self, data: str, message: dict[str, Any]) -> dict[str, Any]:
        """A tap on a button with callback `data` under `message` (as the chat holds it now)."""
        query = {
            "id": f"{self.id}-{next(_query_ids)}",
            "from": self._from(),
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return {"update_id": self.source.next_update_id(), "callback_query": query}
