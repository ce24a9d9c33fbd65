"""Voice opinions: the transcript staff type for a voice kept by its file_id. The voice itself
is written with the opinion (storage.repos.opinions) and erased with its author's data
(storage.repos.privacy)."""

from __future__ import annotations

from storage.db import Database, Tx


class VoiceRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_transcript(self, tx: Tx, opinion_id: int, text: str) -> bool:
        """The transcript becomes the opinion's text, only while its voice is still kept (a
        voice erased meanwhile is not described again); whether it was written. The
        opinion's handling is unchanged, so its last change (updated_at) is too."""
        count = await tx.execute_count(
            "UPDATE opinions SET text = ? WHERE id = ? AND voice_file_id IS NOT NULL",
            (text, opinion_id),
        )
        return count > 0
