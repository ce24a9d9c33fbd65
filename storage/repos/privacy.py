"""A person's data across every table that holds it (PIPL): what is stored about them, a
copy of it, its erasure in one transaction, and the nightly retention erasure.

Erasure must touch every table that holds a person's data in one transaction, so this
repository writes rows of other aggregates (opinions, comments, drafts, the outbox …): only
to anonymise or delete them, never to change what they mean to the rest of the bot."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.db import Database, Tx, stamp
from storage.models import Row
from storage.repos.drafts import conversation_key

# An opinion counts as answered once it has had an answer (answered, closed, or looked at
# again after one): staff keep its text with the answer. Columns of the `opinions` row in
# scope.
ANSWERED = "(answered_at IS NOT NULL OR status IN ('answered', 'closed'))"
# The retention rule, the one definition: closed or declined opinions still holding their
# author's personal data (storage.repos.desk imports it for the desk entries). Columns of the
# `opinions` row in scope; the nightly job reads them through opinions_status_created.
RETAINED_STATUSES = "('closed', 'declined')"
RETAINED = (
    f"status IN {RETAINED_STATUSES}"
    " AND (author_id IS NOT NULL OR latitude IS NOT NULL OR longitude IS NOT NULL"
    " OR photos <> '[]' OR show_name <> 0 OR voice_file_id IS NOT NULL)"
)
# Unanswered opinions still waiting for a deputy: withdrawn when their author is forgotten.
WAITING = "status IN ('submitted', 'accepted')"
NEEDLES_PER_QUERY = 100  # instr() terms per outbox scan, well below SQLite's limits


def _key(user_id: int) -> str:
    """The stored conversation key of a person's private chat (the only chat the bot talks
    to people in)."""
    return json.dumps(list(conversation_key(user_id, user_id)))


class Holdings(Row):
    """How much is stored about one person, table by table."""

    profile: bool  # a name, username, station, language choice or consent on the users row
    opinions: int
    comments: int  # comments on draft laws, withdrawn ones included
    named_comments: int  # of them, those that show the name
    drafts: int
    conversations: int
    notices: int  # messages still waiting to be sent to them
    follows: int  # livelihood projects followed
    reminders: int

    @property
    def anything(self) -> bool:
        """Whether erasure would change anything (comments shown without the name are kept
        as they are: they no longer say who wrote them)."""
        return bool(
            self.profile
            or self.opinions
            or self.named_comments
            or self.drafts
            or self.conversations
            or self.notices
            or self.follows
            or self.reminders
        )


class Authored(Row):
    """One of a person's opinions, as erasure needs it."""

    id: int
    tracking_no: str
    text: str
    answered: bool
    holder_id: int | None


class Withdrawn(Row):
    """An unanswered opinion taken out of the queues as its author was forgotten."""

    id: int
    tracking_no: str
    holder_id: int | None


class OpinionsErased(Row):
    anonymised: int
    texts_erased: int
    answered_kept: int


class PrivacyRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- what is stored ------------------------------------------------------------------

    async def profile(self, user_id: int) -> dict[str, Any] | None:
        """The users row, with the station's name."""
        row = await self.db.fetchone(
            "SELECT u.*, s.name AS station_name FROM users u"
            " LEFT JOIN stations s ON s.id = u.station_id WHERE u.telegram_id = ?",
            (user_id,),
        )
        return None if row is None else dict(row)

    async def holdings(self, user_id: int, tx: Tx | None = None) -> Holdings:
        source = tx if tx is not None else self.db
        row = await source.fetchone(
            "SELECT"
            " (SELECT full_name <> '' OR username IS NOT NULL OR station_id IS NOT NULL"
            "   OR consent_at IS NOT NULL OR consent_version IS NOT NULL OR locale_chosen <> 0"
            "   FROM users WHERE telegram_id = :id),"
            " (SELECT count(*) FROM opinions WHERE author_id = :id),"
            " (SELECT count(*) FROM consultation_comments WHERE author_id = :id),"
            " (SELECT count(*) FROM consultation_comments WHERE author_id = :id"
            "   AND show_name <> 0),"
            " (SELECT count(*) FROM drafts WHERE user_id = :id)"
            "   + (SELECT count(*) FROM opinion_drafts WHERE user_id = :id),"
            " (SELECT count(*) FROM conversation_states WHERE key = :key)"
            "   + (SELECT count(*) FROM conversation_expiries WHERE key = :key),"
            " (SELECT count(*) FROM outbox WHERE chat_id = :id AND state = 'queued'"
            " AND sets_menu = 0),"
            " (SELECT count(*) FROM project_followers WHERE user_id = :id),"
            " (SELECT count(*) FROM reminders_sent WHERE recipient_id = :id)",
            {"id": user_id, "key": _key(user_id)},
        )
        values = [0] * 9 if row is None else [int(v or 0) for v in row]
        return Holdings(
            profile=bool(values[0]),
            opinions=values[1],
            comments=values[2],
            named_comments=values[3],
            drafts=values[4],
            conversations=values[5],
            notices=values[6],
            follows=values[7],
            reminders=values[8],
        )

    async def role_rows(self, user_id: int) -> dict[str, dict[str, Any] | None]:
        """The person's deputy and liaison rows (None where there is none)."""
        deputy = await self.db.fetchone(
            "SELECT d.user_id, d.name, d.station_id, s.name AS station_name, d.joined_at,"
            " d.notice_mode FROM deputies d LEFT JOIN stations s ON s.id = d.station_id"
            " WHERE d.user_id = ?",
            (user_id,),
        )
        liaison = await self.db.fetchone(
            "SELECT l.user_id, l.name, l.department_id, p.name AS department_name, l.joined_at"
            " FROM department_liaisons l LEFT JOIN departments p ON p.id = l.department_id"
            " WHERE l.user_id = ?",
            (user_id,),
        )
        return {
            "deputy": None if deputy is None else dict(deputy),
            "liaison": None if liaison is None else dict(liaison),
        }

    async def opinions_of(self, user_id: int) -> list[dict[str, Any]]:
        """The person's opinions, oldest first, with their station's name and the name of
        the deputy they addressed one to (`addressed_to`; None: the station's deputies)."""
        rows = await self.db.fetchall(
            "SELECT o.id, o.tracking_no, o.station_id, s.name AS station_name, o.category,"
            " o.text, o.photos, o.latitude, o.longitude, o.show_name, o.status, o.created_at,"
            " o.updated_at, o.claimed_at, o.answered_at, o.solved, o.satisfaction,"
            " o.rating_comment, o.rated_at, o.looked_again, o.project_id, o.voice_seconds,"
            " o.voice_file_id IS NOT NULL AS voice_kept,"
            " CASE WHEN o.addressed_to IS NOT NULL"
            " THEN coalesce(d.name, nullif(u.full_name, ''), '—') END AS addressed_to"
            " FROM opinions o LEFT JOIN stations s ON s.id = o.station_id"
            " LEFT JOIN deputies d ON d.user_id = o.addressed_to"
            " LEFT JOIN users u ON u.telegram_id = o.addressed_to"
            " WHERE o.author_id = ? ORDER BY o.id",
            (user_id,),
        )
        return [dict(r) for r in rows]

    async def events_of(self, opinion_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The history of these opinions, with each actor's role and the name they go by
        (a deputy's name, else their Telegram name)."""
        if not opinion_ids:
            return []
        marks = ",".join("?" * len(opinion_ids))
        rows = await self.db.fetchall(
            "SELECT e.opinion_id, e.at, e.actor_id, e.kind, e.note, u.role AS actor_role,"
            " coalesce(d.name, nullif(u.full_name, '')) AS actor_name"
            " FROM opinion_events e LEFT JOIN users u ON u.telegram_id = e.actor_id"
            " LEFT JOIN deputies d ON d.user_id = e.actor_id"
            f" WHERE e.opinion_id IN ({marks}) ORDER BY e.opinion_id, e.id",
            list(opinion_ids),
        )
        return [dict(r) for r in rows]

    async def holders_of(self, opinion_ids: Sequence[int]) -> dict[int, str]:
        """The name each of these opinions' holder (the deputy handling it) goes by."""
        if not opinion_ids:
            return {}
        marks = ",".join("?" * len(opinion_ids))
        rows = await self.db.fetchall(
            "SELECT o.id, coalesce(d.name, nullif(u.full_name, ''), '') FROM opinions o"
            " JOIN users u ON u.telegram_id = o.holder_id"
            " LEFT JOIN deputies d ON d.user_id = o.holder_id"
            f" WHERE o.id IN ({marks})",
            list(opinion_ids),
        )
        return {int(r[0]): str(r[1]) for r in rows}

    async def suggestions_behind(self, opinion_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The deputies' suggestions these opinions were taken into: numbers and titles."""
        if not opinion_ids:
            return []
        marks = ",".join("?" * len(opinion_ids))
        rows = await self.db.fetchall(
            "SELECT so.opinion_id, s.number, s.title FROM suggestion_opinions so"
            f" JOIN suggestions s ON s.id = so.suggestion_id WHERE so.opinion_id IN ({marks})"
            " ORDER BY s.id",
            list(opinion_ids),
        )
        return [dict(r) for r in rows]

    async def comments_of(self, user_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT c.id, c.consultation_id, k.title AS consultation_title,"
            " c.article_position, a.number AS article_number, q.text AS question, c.choice,"
            " c.text, c.author_kind, s.name AS station_name, c.show_name, c.adopted,"
            " c.created_at, c.updated_at, c.withdrawn_at"
            " FROM consultation_comments c JOIN consultations k ON k.id = c.consultation_id"
            " LEFT JOIN consultation_articles a"
            "   ON a.consultation_id = c.consultation_id AND a.position = c.article_position"
            " LEFT JOIN consultation_questions q ON q.id = c.question_id"
            " LEFT JOIN stations s ON s.id = c.station_id"
            " WHERE c.author_id = ? ORDER BY c.id",
            (user_id,),
        )
        return [dict(r) for r in rows]

    async def consultations_invited(self, user_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT i.consultation_id, k.title, i.kind FROM consultation_invitees i"
            " JOIN consultations k ON k.id = i.consultation_id WHERE i.user_id = ?"
            " ORDER BY i.consultation_id",
            (user_id,),
        )
        return [dict(r) for r in rows]

    async def follows_of(self, user_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT p.id AS project_id, p.year, p.title FROM project_followers f"
            " JOIN projects p ON p.id = f.project_id WHERE f.user_id = ? ORDER BY p.id",
            (user_id,),
        )
        return [dict(r) for r in rows]

    async def project_updates_of(self, user_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT u.project_id, p.title, u.percent_done, u.note, u.photos, u.created_at"
            " FROM project_updates u JOIN projects p ON p.id = u.project_id"
            " WHERE u.author_id = ? ORDER BY u.id",
            (user_id,),
        )
        return [dict(r) for r in rows]

    async def drafts_of(self, user_id: int) -> list[dict[str, Any]]:
        """Every draft in progress: the opinion's own and each conversation's."""
        rows = await self.db.fetchall(
            "SELECT 'opinion' AS kind, data, updated_at FROM opinion_drafts WHERE user_id = ?"
            " UNION ALL"
            " SELECT kind, data, updated_at FROM drafts WHERE user_id = ? ORDER BY kind",
            (user_id, user_id),
        )
        return [dict(r) for r in rows]

    async def conversations_of(self, user_id: int) -> list[dict[str, Any]]:
        """Conversations under way (with their step) and those ended by the nightly sweep
        that the person has not yet been told about."""
        key = _key(user_id)
        rows = await self.db.fetchall(
            "SELECT name, state AS step, updated_at, NULL AS expired_at"
            " FROM conversation_states WHERE key = ?"
            " UNION ALL"
            " SELECT name, NULL, NULL, expired_at FROM conversation_expiries WHERE key = ?"
            " ORDER BY name",
            (key, key),
        )
        return [dict(r) for r in rows]

    async def queued_for(self, user_id: int) -> list[dict[str, Any]]:
        """Messages waiting to be sent to the person: which notice (its kind, not its
        parameters: a deputy's may name a voter), or which broadcast, and when."""
        rows = await self.db.fetchall(
            "SELECT id, message_key, broadcast_id, not_before, created_at FROM outbox"
            " WHERE chat_id = ? AND state = 'queued' AND sets_menu = 0 ORDER BY id",
            (user_id,),
        )
        return [dict(r) for r in rows]

    async def reminders_of(self, user_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT subject, subject_id, kind, outcome, at FROM reminders_sent"
            " WHERE recipient_id = ? ORDER BY at",
            (user_id,),
        )
        return [dict(r) for r in rows]

    async def ballots_of(self, user_id: int) -> list[dict[str, Any]]:
        """The secret ballots the person was entitled to and whether they voted; how they
        voted is stored with no link to anyone."""
        rows = await self.db.fetchall(
            "SELECT 'project_ballot' AS ballot, b.id, b.year, b.purpose AS about, v.voted"
            " FROM ballot_voters v JOIN ballots b ON b.id = v.ballot_id WHERE v.user_id = ?"
            " UNION ALL"
            " SELECT 'account_rating', r.id, r.year, coalesce(d.name, ''), v.voted"
            " FROM account_rating_voters v JOIN account_ratings r ON r.id = v.rating_id"
            " LEFT JOIN deputies d ON d.user_id = r.deputy_id WHERE v.voter_id = ?"
            " ORDER BY 1, 2",
            (user_id, user_id),
        )
        return [dict(r) for r in rows]

    # --- erasure (/forget), inside the caller's transaction ---------------------------------

    async def full_name(self, tx: Tx, user_id: int) -> str:
        row = await tx.fetchone("SELECT full_name FROM users WHERE telegram_id = ?", (user_id,))
        return "" if row is None else str(row[0])

    async def authored(self, tx: Tx, user_id: int) -> list[Authored]:
        rows = await tx.fetchall(
            f"SELECT id, tracking_no, text, {ANSWERED} AS answered, holder_id FROM opinions"
            " WHERE author_id = ? ORDER BY id",
            (user_id,),
        )
        return [Authored.model_validate(dict(r)) for r in rows]

    async def own_notes(self, tx: Tx, user_id: int, opinion_ids: Sequence[int]) -> list[str]:
        """What the person wrote in the history of these opinions (replies to a deputy)."""
        if not opinion_ids:
            return []
        marks = ",".join("?" * len(opinion_ids))
        rows = await tx.fetchall(
            f"SELECT note FROM opinion_events WHERE opinion_id IN ({marks})"
            " AND actor_id = ? AND note <> ''",
            (*opinion_ids, user_id),
        )
        return [str(r[0]) for r in rows]

    async def anonymise_opinions(self, tx: Tx, user_id: int, erased_text: str) -> OpinionsErased:
        """Detach the person from their opinions: no author, no name shown, no location, no
        photos, no voice (its length stays); the unanswered ones lose their text (a voice's
        transcript, and the person's notes in their history) too. The answered keep text
        and answer. Every opinion stays counted."""
        counts = await tx.fetchone(
            f"SELECT count(*), coalesce(sum(NOT {ANSWERED}), 0) FROM opinions WHERE author_id = ?",
            (user_id,),
        )
        total, unanswered = (int(counts[0]), int(counts[1])) if counts else (0, 0)
        tx.defer(
            "UPDATE opinion_events SET note = CASE WHEN opinion_id IN"
            f" (SELECT id FROM opinions WHERE author_id = :id AND NOT {ANSWERED})"
            " THEN '' ELSE note END, actor_id = NULL"
            " WHERE actor_id = :id"
            " AND opinion_id IN (SELECT id FROM opinions WHERE author_id = :id)",
            {"id": user_id},
        )
        tx.defer(
            f"UPDATE opinions SET text = CASE WHEN {ANSWERED} THEN text ELSE :erased END,"
            " author_id = NULL, show_name = 0, latitude = NULL, longitude = NULL,"
            " photos = '[]', voice_file_id = NULL, draft_token = NULL WHERE author_id = :id",
            {"id": user_id, "erased": erased_text},
        )
        return OpinionsErased(
            anonymised=total, texts_erased=unanswered, answered_kept=total - unanswered
        )

    async def anonymise_comments(self, tx: Tx, user_id: int) -> int:
        """Comments on draft laws keep their text but no longer show the name."""
        return await tx.execute_count(
            "UPDATE consultation_comments SET show_name = 0 WHERE author_id = ? AND show_name <> 0",
            (user_id,),
        )

    async def delete_drafts(self, tx: Tx, user_id: int) -> int:
        opinion = await tx.execute_count("DELETE FROM opinion_drafts WHERE user_id = ?", (user_id,))
        others = await tx.execute_count("DELETE FROM drafts WHERE user_id = ?", (user_id,))
        return opinion + others

    async def end_conversations(self, tx: Tx, user_id: int) -> list[str]:
        """Delete every conversation state of the person (and pending "your conversation
        expired" notes); the names of the conversations that were under way."""
        key = _key(user_id)
        rows = await tx.fetchall(
            "DELETE FROM conversation_states WHERE key = ? RETURNING name", (key,)
        )
        tx.defer("DELETE FROM conversation_expiries WHERE key = ?", (key,))
        return sorted(str(r[0]) for r in rows)

    async def drop_outbox_of(self, tx: Tx, user_id: int) -> int:
        """The person's own notices go, in any state: sent ones hold tracking numbers and
        answers, waiting ones are not sent. Their rows of a broadcast keep only the state
        (a waiting one is skipped), so its counts add up. Returns how many were waiting."""
        row = await tx.fetchone(
            "SELECT count(*) FROM outbox WHERE chat_id = ? AND state = 'queued' AND sets_menu = 0",
            (user_id,),
        )
        waiting = int(row[0]) if row else 0
        await tx.execute(
            "DELETE FROM outbox WHERE chat_id = ? AND broadcast_id IS NULL", (user_id,)
        )
        await tx.execute(
            "UPDATE outbox SET params = '{}', reason = CASE WHEN state = 'queued'"
            " THEN 'forgotten' ELSE reason END,"
            " state = CASE WHEN state = 'queued' THEN 'skipped' ELSE state END"
            " WHERE chat_id = ? AND broadcast_id IS NOT NULL",
            (user_id,),
        )
        return waiting

    async def withdraw_waiting(self, tx: Tx, user_id: int, at: datetime) -> list[Withdrawn]:
        """The person's opinions still waiting for a deputy leave every queue (status
        'withdrawn', event 'forgotten'); returns them with the deputy holding each, if any."""
        rows = await tx.fetchall(
            "UPDATE opinions SET status = 'withdrawn', updated_at = ?"
            f" WHERE author_id = ? AND {WAITING} AND NOT {ANSWERED}"
            " RETURNING id, tracking_no, holder_id",
            (stamp(at), user_id),
        )
        withdrawn = sorted((Withdrawn.model_validate(dict(r)) for r in rows), key=lambda w: w.id)
        await tx.executemany(
            "INSERT INTO opinion_events (opinion_id, at, actor_id, kind)"
            " VALUES (?, ?, NULL, 'forgotten')",
            [(w.id, stamp(at)) for w in withdrawn],
        )
        return withdrawn

    async def chats_told_about(
        self, tx: Tx, opinion_ids: Sequence[int], holders: Sequence[int]
    ) -> list[int]:
        """The chats that got a notice about these opinions, and their holders: where a
        copy of what the person wrote may be."""
        chats = set(holders)
        for start in range(0, len(opinion_ids), NEEDLES_PER_QUERY):
            chunk = list(opinion_ids[start : start + NEEDLES_PER_QUERY])
            marks = ",".join("?" * len(chunk))
            rows = await tx.fetchall(
                f"SELECT DISTINCT chat_id FROM outbox WHERE about_opinion IN ({marks})", chunk
            )
            chats.update(int(r[0]) for r in rows)
        return sorted(chats)

    async def erase_notices_to_authors(
        self, tx: Tx, retained: Sequence[tuple[int, str, int]]
    ) -> int:
        """Notices about retained opinions (id, tracking number, author) sent to their
        authors: they hold the tracking number and the answer next to the author's chat."""
        count = 0
        for opinion_id, tracking_no, author in retained:
            count += await tx.execute_count(
                "DELETE FROM outbox WHERE chat_id = ? AND broadcast_id IS NULL"
                " AND (about_opinion = ? OR instr(params, ?) > 0)",
                (author, opinion_id, tracking_no),
            )
        return count

    # --- the /forget question's token ------------------------------------------------------

    async def set_forget_token(self, tx: Tx, user_id: int, token: str | None) -> None:
        await tx.execute(
            "UPDATE users SET forget_token = ? WHERE telegram_id = ?", (token, user_id)
        )

    async def take_forget_token(self, tx: Tx, user_id: int, token: str) -> bool:
        """Whether `token` is the one of the person's last /forget question; it is used up."""
        count = await tx.execute_count(
            "UPDATE users SET forget_token = NULL WHERE telegram_id = ? AND forget_token = ?",
            (user_id, token),
        )
        return count > 0

    async def outbox_mentioning(
        self, tx: Tx, needles: Sequence[str], opinion_ids: Sequence[int], chats: Sequence[int]
    ) -> list[tuple[int, str]]:
        """Notices about these opinions or to these chats whose parameters contain any of
        `needles`: (id, params). Read through the about_opinion and chat indexes only, so
        the erasure's transaction never scans the whole outbox."""
        unique = sorted({n for n in needles if n})
        found: dict[int, str] = {}
        for column, values in (("about_opinion", opinion_ids), ("chat_id", chats)):
            for start in range(0, len(values), NEEDLES_PER_QUERY):
                within = list(values[start : start + NEEDLES_PER_QUERY])
                for first in range(0, len(unique), NEEDLES_PER_QUERY):
                    chunk = unique[first : first + NEEDLES_PER_QUERY]
                    terms = " OR ".join("instr(params, ?) > 0" for _ in chunk)
                    marks = ",".join("?" * len(within))
                    rows = await tx.fetchall(
                        f"SELECT id, params FROM outbox WHERE {column} IN ({marks})"
                        f" AND message_key IS NOT NULL AND ({terms})",
                        [*within, *chunk],
                    )
                    found.update((int(r[0]), str(r[1])) for r in rows)
        return sorted(found.items())

    async def rewrite_params(self, tx: Tx, rows: Sequence[tuple[int, str]]) -> None:
        await tx.executemany("UPDATE outbox SET params = ? WHERE id = ?", [(p, i) for i, p in rows])

    async def drop_follows(self, tx: Tx, user_id: int) -> int:
        return await tx.execute_count("DELETE FROM project_followers WHERE user_id = ?", (user_id,))

    async def drop_reminders(self, tx: Tx, user_id: int) -> int:
        return await tx.execute_count(
            "DELETE FROM reminders_sent WHERE recipient_id = ?", (user_id,)
        )

    async def ballots_kept(self, tx: Tx, user_id: int) -> int:
        """Secret ballots and ratings the person was entitled to: kept for the turnout."""
        row = await tx.fetchone(
            "SELECT (SELECT count(*) FROM ballot_voters WHERE user_id = :id)"
            " + (SELECT count(*) FROM account_rating_voters WHERE voter_id = :id)",
            {"id": user_id},
        )
        return int(row[0]) if row else 0

    # --- retention ------------------------------------------------------------------------

    async def erase_retained(self, tx: Tx, closed_before: datetime, limit: int) -> int:
        """Detach up to `limit` opinions closed or declined before `closed_before` from their
        authors (link, name shown, location, photos, voice, the author's own events, the
        notices about them in the author's chat); returns how many. Text (a voice's
        transcript) and answer stay: they were handled and are the office's record."""
        rows = await tx.fetchall(
            f"SELECT id, author_id, tracking_no FROM opinions WHERE {RETAINED}"
            " AND updated_at < ? ORDER BY updated_at LIMIT ?",
            (stamp(closed_before), limit),
        )
        if not rows:
            return 0
        await self.erase_notices_to_authors(
            tx, [(int(r[0]), str(r[2]), int(r[1])) for r in rows if r[1] is not None]
        )
        await tx.executemany(
            "UPDATE opinion_events SET actor_id = NULL WHERE opinion_id = ? AND actor_id = ?",
            [(int(r[0]), int(r[1])) for r in rows if r[1] is not None],
        )
        await tx.executemany(
            "UPDATE opinions SET author_id = NULL, show_name = 0, latitude = NULL,"
            " longitude = NULL, photos = '[]', voice_file_id = NULL, draft_token = NULL"
            " WHERE id = ?",
            [(int(r[0]),) for r in rows],
        )
        return len(rows)
