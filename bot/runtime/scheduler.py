"""Timed work on PTB's JobQueue. Jobs live in memory, so each start rebuilds them from the
database: it sends reminders missed while the bot was down, then plans a job at each
reminder time of the next hours, at each consultation's deadline and reminder times, at each
ballot's closing time, and at the deputies' daily digest; periodic sweeps cover deadlines, a
digest missed while down, and the rule horizon."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram.ext import CallbackContext, JobQueue

from bot.runtime.context import AnyApplication
from bot.runtime.conversation import KEEPER_KEY, ConversationKeeper
from bot.services import Services

log = logging.getLogger(__name__)

PLAN_AHEAD = timedelta(hours=2)
PLAN_EVERY = timedelta(minutes=30)
SWEEP_EVERY = timedelta(minutes=5)
HORIZON_EVERY = timedelta(hours=24)
EXPIRY_EVERY = timedelta(hours=24)
HEARTBEAT_EVERY = timedelta(minutes=1)
BACKUP_CATCH_UP = timedelta(minutes=15)  # after a start, once the bot has settled


class Scheduler:
    def __init__(self, application: AnyApplication, services: Services) -> None:
        if application.job_queue is None:
            raise RuntimeError("the job-queue extra of python-telegram-bot is needed")
        self.jobs: JobQueue[Any] = application.job_queue
        self.services = services
        self.keeper: ConversationKeeper = application.bot_data[KEEPER_KEY]

    async def start(self) -> int:
        """Rebuild: send what was missed, plan what is coming; returns the jobs planned."""
        await self.services.reminders.run_due()
        planned = await self.plan()
        self.jobs.run_repeating(self._plan, interval=PLAN_EVERY, first=PLAN_EVERY, name="plan")
        # opinion deadlines and a digest missed while down may be many: caught up by the
        # first sweep, soon after start, so they never hold up the start itself
        self.jobs.run_repeating(self._sweep, interval=SWEEP_EVERY, first=5, name="sweep")
        self.jobs.run_repeating(
            self._extend, interval=HORIZON_EVERY, first=timedelta(hours=1), name="horizon"
        )
        # abandoned drafts and strangers who never consented: first soon after start, so a
        # bot restarted daily still sweeps
        self.jobs.run_repeating(
            self._expire, interval=EXPIRY_EVERY, first=timedelta(minutes=10), name="expiry"
        )
        # the nightly backup and retention erasure, at a quiet local hour
        settings = self.services.settings
        self.jobs.run_daily(
            self._nightly, time=settings.nightly_time.replace(tzinfo=settings.zone), name="nightly"
        )
        # a bot that is down every night (a machine switched off) still gets a backup a day:
        # one soon after start when the newest is more than a day old
        self.jobs.run_once(self._backup_catch_up, when=BACKUP_CATCH_UP, name="backup-catch-up")
        # another process (python -m bot health) reads the heartbeat from the database
        self.jobs.run_repeating(self._beat, interval=HEARTBEAT_EVERY, first=1, name="heartbeat")
        return planned

    async def plan(self) -> int:
        """One job per distinct reminder time within PLAN_AHEAD, never two for one time, one
        per consultation deadline or reminder time within it, one per ballot closing time
        within it, and one at the next digest time if it falls within PLAN_AHEAD."""
        now = self.services.clock.now()
        until = now + PLAN_AHEAD
        planned = 0
        for at in await self.services.reminders.upcoming(until):
            name = f"reminders@{at.isoformat()}"
            if not self.jobs.get_jobs_by_name(name):
                self.jobs.run_once(self._fire, when=at, name=name)
                planned += 1
        # a consultation closes at its deadline and reminds at its reminder times, not up
        # to a sweep later
        for at in await self.services.consultations.upcoming(until):
            name = f"consultations@{at.isoformat()}"
            if not self.jobs.get_jobs_by_name(name):
                self.jobs.run_once(self._consultations, when=at, name=name)
                planned += 1
        # a ballot closes at its closing time too, not up to a sweep later
        for at in await self.services.ballots.upcoming(until):
            name = f"ballots@{at.isoformat()}"
            if not self.jobs.get_jobs_by_name(name):
                self.jobs.run_once(self._ballots, when=at, name=name)
                planned += 1
        digest_at = self.services.deputy_notices.next_digest(now)
        name = f"digest@{digest_at.isoformat()}"
        if digest_at <= until and not self.jobs.get_jobs_by_name(name):
            self.jobs.run_once(self._digest, when=digest_at, name=name)
            planned += 1
        return planned

    async def _fire(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.services.reminders.run_due()

    async def _consultations(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.services.consultations.run_due()

    async def _ballots(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.services.ballots.run_due()

    async def _digest(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.services.deputy_notices.run_due()

    async def _plan(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.plan()

    async def _sweep(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.sweep()

    async def sweep(self) -> None:
        """A safety net for reminders, the opinion deadlines and the daily digest; the
        consultations' reminders and deadlines; ballots that close by themselves; the
        suggestions' deadlines, ratings and ledger, account ratings that close, and the
        similar opinions' change log trimmed."""
        await self.services.reminders.run_due()
        await self.services.inbox.run_due()
        await self.services.deputy_notices.run_due()
        await self.services.consultations.run_due()
        await self.services.ballots.run_due()
        await self.services.suggestion_handling.run_due()
        await self.services.suggestion_feedback.run_due()
        await self.services.ledger.run_due()
        await self.services.account_ratings.run_due()
        await self.services.similar_opinions.run_due()

    async def _extend(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        made = await self.services.calendar.extend_horizon()
        if made:
            log.info("calendar: %s turns added to reach the horizon", made)

    async def _expire(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.keeper.sweep()

    async def _nightly(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.nightly()

    async def nightly(self) -> None:
        """The retention erasure, then the night's backup (which so never holds what was
        erased that night)."""
        await self.services.privacy.run_retention()
        await self.services.backups.run_nightly()

    async def _backup_catch_up(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.services.backups.run_if_overdue()

    async def _beat(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.services.health.beat(self.job_names())

    def job_names(self) -> list[str]:
        """The names of the jobs scheduled now, each once."""
        return sorted({job.name for job in self.jobs.jobs() if job.name})
