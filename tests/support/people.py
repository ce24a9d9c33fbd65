"""Simulated people: they send text, photos and locations and tap buttons by their label.
Their updates are built as the demo console builds them (`bot.demo.people.Sender`)."""

from __future__ import annotations

from typing import Any

from bot.demo.botapi import Output
from bot.demo.people import Sender
from tests.support.world import World


class Person(Sender):
    def __init__(
        self, world: World, user_id: int, first_name: str = "张三", language_code: str = "zh-hans"
    ) -> None:
        super().__init__(world, user_id, first_name, language_code)
        self.world = world
        self.seen: list[Output] = []

    # --- what the bot showed -------------------------------------------------------------

    @property
    def last(self) -> str:
        return self.seen[-1].text if self.seen else ""

    def saw(self, fragment: str) -> bool:
        return any(fragment in o.text for o in self.seen)

    async def _feed(self, update: dict[str, Any], think: float) -> list[Output]:
        if think:
            self.world.clock.advance(seconds=think)
        before = len(self.world.api.outputs)
        await self.world.feed(update)
        new = [o for o in self.world.api.outputs[before:] if o.chat_id == self.id]
        self.seen.extend(new)
        return new

    # --- messages ------------------------------------------------------------------------

    async def _message(self, think: float = 1.0, **content: Any) -> list[Output]:
        return await self._feed(self.message_update(**content), think)

    async def send(self, text: str, think: float = 1.0) -> list[Output]:
        return await self._feed(self.text_update(text), think)

    async def send_photo(self, file_id: str = "photo-1") -> list[Output]:
        return await self._feed(self.photo_update(file_id), 1.0)

    async def send_location(self, latitude: float, longitude: float) -> list[Output]:
        return await self._feed(self.location_update(latitude, longitude), 1.0)

    async def send_sticker(self) -> list[Output]:
        return await self._message(
            sticker={
                "file_id": "sticker",
                "file_unique_id": "st",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        )

    async def send_voice(self, seconds: int = 3) -> list[Output]:
        """A voice message of `seconds`, whose file_id the bot may send on (sendVoice)."""
        return await self._feed(self.voice_update(self.world.api.add_voice(seconds), seconds), 1.0)

    async def send_video_note(self, seconds: int = 10) -> list[Output]:
        return await self._feed(self.video_note_update(seconds), 1.0)

    async def send_audio(self, seconds: int = 180) -> list[Output]:
        return await self._feed(self.audio_update(seconds), 1.0)

    async def send_video(self) -> list[Output]:
        return await self._message(
            video={
                "file_id": "video",
                "file_unique_id": "vd",
                "width": 640,
                "height": 480,
                "duration": 5,
            }
        )

    async def send_document(
        self,
        content: bytes | None = None,
        file_name: str = "draft.txt",
        mime_type: str = "text/plain",
    ) -> list[Output]:
        """A document; with `content`, a real file the bot can fetch (getFile, then the
        download), announced with its name, type and size as Telegram does. Without, a
        document nobody fetches."""
        if content is None:
            return await self._message(document={"file_id": "doc", "file_unique_id": "d"})
        file_id = self.world.api.add_file(content)
        return await self._feed(
            self.document_update(file_id, file_name, mime_type, len(content)), 1.0
        )

    # --- the reply keyboard under the input field -----------------------------------------

    def keyboard(self) -> list[str]:
        """The labels of the reply keyboard the chat shows now ([] when none)."""
        return [b["text"] for b in self.world.api.reply_keyboard(self.id)]

    async def press(
        self, label: str, location: tuple[float, float] = (39.99, 116.33)
    ) -> list[Output]:
        """Press a key of the reply keyboard by its label: a location key shares `location`
        (as the phone would), any other sends its label as text."""
        for key in self.world.api.reply_keyboard(self.id):
            if key["text"] == label:
                if key.get("request_location"):
                    return await self.send_location(*location)
                return await self.send(label)
        raise AssertionError(f"no key {label!r}; the keyboard shows: {self.keyboard()}")

    # --- buttons -------------------------------------------------------------------------

    def buttons(self) -> list[str]:
        """Every button label currently visible in this chat, newest message first."""
        labels: list[str] = []
        for message in reversed(self.world.api.chat_messages(self.id)):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                labels.extend(b["text"] for b in row)
        return labels

    def _find(self, label: str) -> tuple[dict[str, Any], str]:
        for message in reversed(self.world.api.chat_messages(self.id)):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for b in row:
                    if b["text"] == label:
                        return message, b["callback_data"]
        raise AssertionError(f"no button {label!r}; visible: {self.buttons()}")

    async def tap(self, label: str, think: float = 1.0) -> list[Output]:
        message, data = self._find(label)
        return await self.tap_data(data, message, think)

    async def tap_data(
        self, data: str, message: dict[str, Any] | None = None, think: float = 1.0
    ) -> list[Output]:
        """Send a callback with any data, as a forged or replayed button would, from
        `message` or else the newest message a button may sit on (not one that carries a
        reply keyboard or its removal: those hold no inline buttons)."""
        if message is None:
            api = self.world.api
            messages = [
                m
                for m in api.chat_messages(self.id)
                if (self.id, m["message_id"]) not in api.uneditable
            ]
            assert messages, "the bot has not written to this chat yet"
            message = messages[-1]
        return await self._feed(self.tap_update(data, message), think)
