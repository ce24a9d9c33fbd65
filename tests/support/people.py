"""Simulated people: they send text, photos and locations and tap buttons by their label."""

from __future__ import annotations

import itertools
from typing import Any

from tests.support.botapi import Output
from tests.support.world import World

_query_ids = itertools.count(1)


class Person:
    def __init__(
        self, world: World, user_id: int, first_name: str = "张三", language_code: str = "zh-hans"
    ) -> None:
        self.world = world
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self._message_ids = itertools.count(1)
        self.seen: list[Output] = []

    # --- what the bot showed -------------------------------------------------------------

    @property
    def last(self) -> str:
        return self.seen[-1].text if self.seen else ""

    def saw(self, fragment: str) -> bool:
        return any(fragment in o.text for o in self.seen)

    def _from(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def _chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    async def _feed(self, update: dict[str, Any], think: float) -> list[Output]:
        if think:
            self.world.clock.advance(seconds=think)
        before = len(self.world.api.outputs)
        await self.world.feed(update)
        new = [o for o in self.world.api.outputs[before:] if o.chat_id == self.id]
        self.seen.extend(new)
        return new

    # --- messages ------------------------------------------------------------------------

    def message_update(self, **content: Any) -> dict[str, Any]:
        """An update carrying a new message from this person, built but not fed (a burst of
        them may be fed at once)."""
        message = {
            "message_id": next(self._message_ids),
            "date": int(self.world.clock.now().timestamp()),
            "chat": self._chat(),
            "from": self._from(),
            **content,
        }
        return {"update_id": self.world.next_update_id(), "message": message}

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

    async def _message(self, think: float = 1.0, **content: Any) -> list[Output]:
        return await self._feed(self.message_update(**content), think)

    async def send(self, text: str, think: float = 1.0) -> list[Output]:
        return await self._feed(self.text_update(text), think)

    async def send_photo(self, file_id: str = "photo-1") -> list[Output]:
        return await self._feed(self.photo_update(file_id), 1.0)

    async def send_location(self, latitude: float, longitude: float) -> list[Output]:
        return await self._message(location={"latitude": latitude, "longitude": longitude})

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

    async def send_voice(self) -> list[Output]:
        return await self._message(voice={"file_id": "voice", "file_unique_id": "v", "duration": 3})

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
        document = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return await self._message(document=document)

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
        """Send a callback with any data, as a forged or replayed button would."""
        if message is None:
            messages = self.world.api.chat_messages(self.id)
            assert messages, "the bot has not written to this chat yet"
            message = messages[-1]
        query = {
            "id": f"{self.id}-{next(_query_ids)}",
            "from": self._from(),
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return await self._feed(
            {"update_id": self.world.next_update_id(), "callback_query": query}, think
        )
