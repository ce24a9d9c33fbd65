"""Telling deputies of the opinions that wait for them: when an opinion is sent to their
station (or released back to it) each deputy is told at once, or, if they chose it, in one
digest a day. Quiet hours hold what would be sent at night until their end.

A notice carries what a deputy does next (bot.services.inbox.notice_buttons, the same under
the 3-day unclaimed reminder): Claim and Answer (Answer claims it if need be and opens the
answer step), Open, and Play for a voice opinion, which shows its length instead of an
excerpt. An opinion the voter addressed to one deputy (still at its station and
reachable) is told to that deputy alone, in words of its own; the station's other deputies
see it in /inbox and in the unclaimed reminders, not in a notice or their digest. Released,
it is the whole station's again.

Everything goes through the outbox inside the caller's transaction (or the digest's own).
A deputy is told of an opinion once per unclaimed period: reminders_sent records it
(subject 'opinion', kind NEW + the opinion's unclaimed_since, recipient the deputy), so an
opinion is never in two digests, and one already told at once is not in a digest either.
Each day's digest is recorded too (subject 'digest'), so it goes once, across restarts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.access import Action, allowed, ensure
from bot.clock import Clock
from bot.errors import AccessDenied
from bot.i18n import Texts
from bot.services.inbox import SUBJECT, notice_buttons
from bot.services.opinions import CATEGORY_LABELS
from bot.services.outbox import NoticeButtons, Outbox
from bot.settings import Settings
from storage import Database, Tx
from storage.models import Deputy, NoticeMode, Opinion, User
from storage.repos.calendar import CalendarRepo
from storage.repos.opinions import OpinionRepo
from storage.repos.stations import StationRepo

NEW = "new@"  # + the opinion's unclaimed_since: this deputy was told of this unclaimed period
DIGEST_SUBJECT = "digest"  # subject id and recipient: the deputy
DIGEST = "digest@"  # + the local date of the digest
DAY = timedelta(days=1)
EXCERPT_CHARS = 100
DIGEST_EXCERPT_CHARS = 40
DIGEST_MAX_ITEMS = 20  # the rest are counted, not listed (Telegram's 4,096 characters)

# the notices' message ids (their parameters are filled where they are queued); a voice
# opinion's notice shows its length where the others show an excerpt
NEW_OPINION = "deputy_notices.new"
RELEASED_OPINION = "deputy_notices.released"
ADDRESSED_OPINION = "deputy_notices.addressed"  # to the one deputy the voter addressed
NEW_VOICE = "deputy_notices.new_voice"
RELEASED_VOICE = "deputy_notices.released_voice"
ADDRESSED_VOICE = "deputy_notices.addressed_voice"
VOICE_OF = {
    NEW_OPINION: NEW_VOICE,
    RELEASED_OPINION: RELEASED_VOICE,
    ADDRESSED_OPINION: ADDRESSED_VOICE,
}
# "an opinion waits for a deputy": withdrawn once someone takes it (or it is forgotten)
WAITING_NOTICES = (*VOICE_OF, *VOICE_OF.values())
DIGEST_MESSAGE = "deputy_notices.digest"
DIGEST_MESSAGE_LONG = "deputy_notices.digest_long"


def excerpt(text: str, limit: int) -> str:
    """The start of an opinion's text on one line, an ellipsis marking a cut (not escaped:
    the dispatcher escapes every string parameter)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def untranscribed_voice(opinion: Opinion) -> bool:
    """A voice opinion nobody has transcribed yet: its length stands for its excerpt."""
    return opinion.voice_seconds is not None and not opinion.text


def voice_length(opinion: Opinion) -> str:
    """A voice opinion's length as its player shows it, the same in every language (a
    notice carries it ready-made: the outbox renders no lengths): 0:45."""
    return Texts.length(opinion.voice_seconds or 0)


def digest_line(opinion: Opinion) -> str:
    """One opinion of a digest: its number and the start of its text, or 🎤 and the length
    of a voice (the digest is one string for every language: the microphone says it)."""
    body = (
        "🎤 " + voice_length(opinion)
        if untranscribed_voice(opinion)
        else excerpt(opinion.text, DIGEST_EXCERPT_CHARS)
    )
    return f"{opinion.tracking_no} · {body}"


@dataclass(frozen=True)
class QuietHours:
    """Local times in `zone`; `start` == `end` means none. The span may pass midnight."""

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def of(cls, settings: Settings) -> QuietHours:
        """The quiet hours the operator set."""
        return cls(settings.quiet_hours_start, settings.quiet_hours_end, settings.zone)

    def held_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours `now` falls in, or None outside them."""
        if self.start == self.end:
            return None
        local = now.astimezone(self.zone)
        moment, today = local.time(), local.date()
        if self.start < self.end:  # e.g. 01:00-06:00, within one day
            ends: date | None = today if self.start <= moment < self.end else None
        elif moment >= self.start:  # e.g. 22:00-07:00, late evening: ends tomorrow morning
            ends = today + DAY
        else:  # early morning: ends this morning
            ends = today if moment < self.end else None
        return None if ends is None else datetime.combine(ends, self.end, tzinfo=self.zone)


class DeputyNotices:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        zone: ZoneInfo,
        outbox: Outbox,
        quiet: QuietHours,
        digest_at: time,
    ) -> None:
        self.db = db
        self.clock = clock
        self.zone = zone
        self.outbox = outbox
        self.quiet = quiet
        self.digest_at = digest_at
        self.repo = OpinionRepo(db)
        self.marks = CalendarRepo(db)
        self.stations = StationRepo(db)

    # --- a new or released opinion -----------------------------------------------------------

    async def tell_unclaimed(
        self, tx: Tx, opinion: Opinion, *, released: bool = False, skip: Collection[int] = ()
    ) -> int:
        """Inside the transaction that made `opinion` unclaimed (its submission, a release):
        tell each deputy of its station who takes notices one by one, in their language,
        without the voter's identity. The author and `skip` (who released it, its former
        holder) are not told, nor left for a digest; nor are the others when a new opinion
        is addressed to one deputy of the station. Returns how many notices were queued."""
        now = self.clock.now()
        period = NEW + str(await self.repo.stamp_of(tx, opinion.id, "unclaimed_since"))
        deputies = await self.repo.deputies_to_tell(opinion.station_id, tx)
        if not deputies:
            return 0
        addressee = None if released else self._addressee(opinion, deputies)
        key = RELEASED_OPINION if released else NEW_OPINION
        if addressee is not None:
            key = ADDRESSED_OPINION
        station = await self.stations.get(opinion.station_id)
        params: dict[str, object] = {
            "tracking_no": opinion.tracking_no,
            "station": station.name if station else "—",
            "category_key": CATEGORY_LABELS.get(opinion.category, "category.other"),
        }
        if untranscribed_voice(opinion):
            key, params["length"] = VOICE_OF[key], voice_length(opinion)
        else:
            params["excerpt"] = excerpt(opinion.text, EXCERPT_CHARS)
        held = self.quiet.held_until(now)
        told = 0
        for deputy in deputies:
            passed_over = addressee is not None and deputy.user_id != addressee
            if deputy.user_id == opinion.author_id or deputy.user_id in skip or passed_over:
                await self.marks.mark_reminded(
                    tx, SUBJECT, opinion.id, deputy.user_id, period, "dropped", now
                )
            elif deputy.notice_mode == NoticeMode.EACH and await self.marks.mark_reminded(
                tx, SUBJECT, opinion.id, deputy.user_id, period, "sent", now
            ):
                await self.outbox.notify(
                    tx,
                    deputy.user_id,
                    key,
                    buttons=notice_buttons(opinion),
                    not_before=held,
                    about_opinion=opinion.id,
                    params=params,
                )
                told += 1
        return told

    @staticmethod
    def _addressee(opinion: Opinion, deputies: list[Deputy]) -> int | None:
        """The deputy the voter addressed, while still a reachable deputy of the opinion's
        station (else the whole station is told, as of any opinion)."""
        if opinion.addressed_to is None or opinion.addressed_to == opinion.author_id:
            return None
        reachable = any(d.user_id == opinion.addressed_to for d in deputies)
        return opinion.addressed_to if reachable else None

    async def taken(self, tx: Tx, opinion_id: int) -> int:
        """Inside the transaction where a deputy took the opinion (claimed, assigned): the
        notices that it waits for a deputy, still queued (held through the quiet hours),
        no longer go."""
        return await self.outbox.withdraw_about(tx, opinion_id, WAITING_NOTICES)

    async def _queue(
        self,
        tx: Tx,
        chat_id: int,
        key: str,
        held: datetime | None,
        buttons: NoticeButtons | None,
        **params: object,
    ) -> None:
        """Through the outbox, at once or at the end of the quiet hours."""
        await self.outbox.notify(tx, chat_id, key, buttons=buttons, not_before=held, params=params)

    # --- the deputy's choice -----------------------------------------------------------------

    async def mode(self, actor: User) -> NoticeMode | None:
        """How this deputy hears of new opinions; None for anyone who may not choose."""
        if not allowed(actor, Action.CHOOSE_NOTICE_MODE):
            return None
        deputy = await self.repo.deputy(actor.telegram_id)
        return deputy.notice_mode if deputy else None

    async def set_mode(self, actor: User, mode: NoticeMode) -> NoticeMode:
        """Each new opinion at once, or one digest a day from the next digest time on (the
        digest time already past today counts as done: no digest right away)."""
        ensure(actor, Action.CHOOSE_NOTICE_MODE)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if not await self.repo.set_notice_mode(tx, actor.telegram_id, mode):
                raise AccessDenied()
            if mode == NoticeMode.DIGEST:
                await self.marks.mark_reminded(
                    tx,
                    DIGEST_SUBJECT,
                    actor.telegram_id,
                    actor.telegram_id,
                    self._kind(self.last_digest(now)),
                    "dropped",
                    now,
                )
        return mode

    # --- the daily digest --------------------------------------------------------------------

    def _at(self, day: date) -> datetime:
        return datetime.combine(day, self.digest_at, tzinfo=self.zone)

    def _kind(self, moment: datetime) -> str:
        """What records the digest of `moment` (a digest time) in reminders_sent."""
        return DIGEST + moment.astimezone(self.zone).date().isoformat()

    def last_digest(self, now: datetime) -> datetime:
        """The latest digest moment at or before `now`."""
        today = now.astimezone(self.zone).date()
        moment = self._at(today)
        return moment if moment <= now else self._at(today - DAY)

    def next_digest(self, now: datetime) -> datetime:
        """The first digest moment after `now`, for the scheduler to wake up at."""
        return self._at(self.last_digest(now).astimezone(self.zone).date() + DAY)

    async def run_due(self) -> int:
        """The latest digest to every deputy who chose it and did not get it yet: their
        station's opinions unclaimed within the day before it (or since), that they were not
        told of; a day with none is recorded with nothing sent. A restart that missed the
        moment sends it late, once. Returns how many digests were queued."""
        now = self.clock.now()
        moment = self.last_digest(now)
        kind = self._kind(moment)
        sent = 0
        for deputy in await self.repo.digest_deputies(kind):
            sent += await self._digest(deputy, kind, moment, now)
        return sent

    async def _digest(self, deputy: Deputy, kind: str, moment: datetime, now: datetime) -> int:
        async with self.db.transaction() as tx:
            waiting = await self.repo.untold(tx, deputy, moment - DAY, now, NEW)
            outcome = "sent" if waiting else "dropped"
            if not await self.marks.mark_reminded(
                tx, DIGEST_SUBJECT, deputy.user_id, deputy.user_id, kind, outcome, now
            ):
                return 0  # another run got there first
            if not waiting:
                return 0
            for opinion, period in waiting:
                await self.marks.mark_reminded(
                    tx, SUBJECT, opinion.id, deputy.user_id, period, "sent", now
                )
            listed = waiting[:DIGEST_MAX_ITEMS]
            station = await self.stations.get(deputy.station_id)
            await self._queue(
                tx,
                deputy.user_id,
                DIGEST_MESSAGE if len(waiting) == len(listed) else DIGEST_MESSAGE_LONG,
                self.quiet.held_until(now),
                None,
                count=len(waiting),
                shown=len(listed),
                station=station.name if station else "—",
                items="\n".join(digest_line(o) for o, _ in listed),
            )
            return 1
