"""The demo's running bot: the real Application, services and SQLite file over the in-process
Bot API, on a clock of its own, and the cast members the console speaks as. Every action is
carried through to its end (the update handled, the outbox drained) before the next, so a
scripted run always prints the same transcript."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import Job

from bot.clock import Clock, FixedClock, SystemClock
from bot.demo.botapi import FakeBotAPI, Output
from bot.demo.cast import ADMIN_ID, CAST, Role, language_code
from bot.demo.deployment import Deployment, stop
from bot.demo.people import Sender
from bot.demo.seed import seed
from bot.runtime.scheduler import EXPIRY_EVERY, HORIZON_EVERY, PLAN_AHEAD
from bot.settings import Settings, load_settings
from storage.repos.demo import DemoMarkRepo

# Token-shaped, so the settings take it; it never leaves this process.
DEMO_TOKEN = "1000000001:DEMO_in-process_no-network_no-token"
BOT_USERNAME = "jiazhan_demo_bot"
START_AT = time(10, 0)  # the demo's day begins at 10:00, local time, whenever it is run
THINK = timedelta(seconds=1)  # the demo's clock moves this much with each thing a person does
# The only variables the demo's settings could be read from: none is set for it, so a
# JIAZHAN_* environment meant for a real bot (a zone, a mode, an address) never reaches it.
ENV_PREFIX = "JIAZHAN_DEMO_"


def demo_settings(database: Path, locale: str) -> Settings:
    """Settings made here, none read from `.env` or JIAZHAN_* variables: the demo's own file,
    its admin, a token that is never sent anywhere, and sends not spaced out (nobody is
    rate-limited here); its nightly backups go beside its database."""
    return load_settings(
        _env_file=None,
        _env_prefix=ENV_PREFIX,
        need_token=False,
        bot_token=DEMO_TOKEN,
        database_path=database,
        admin_ids=[ADMIN_ID],
        default_locale=locale,
        mode="polling",
        bot_api_base_url=None,
        webhook_url=None,
        log_level="WARNING",
        backup_dir=database.parent / f"{database.stem}-backups",
        outbox_per_chat_interval_seconds=0,
        outbox_rate=1000,
    )


@dataclass
class Buttons:
    """What a number typed in a chat taps: the inline buttons under one message, or the
    labels of the chat's reply keyboard (issue 12's request-location keyboard is one)."""

    message_id: int | None = None  # inline buttons under this message
    keyboard: list[str] = field(default_factory=list)  # else a reply keyboard


@dataclass(frozen=True)
class Tap:
    """A number typed: the button's callback data (tapped), or the reply-keyboard text it
    sends; `None` in both when there is no such button."""

    data: str | None = None
    text: str | None = None


@dataclass
class Periodic:
    """A repeating job of the scheduler (by its name), played on the demo's clock: PTB's
    job queue would run it on the wall clock. `after` gives the next run after one."""

    name: str
    due: datetime
    after: Callable[[datetime], datetime]


class Demo:
    """The running demo: the deployment, its clock and Bot API, the cast's senders, and the
    buttons each chat showed last."""

    def __init__(self, settings: Settings, clock: FixedClock, api: FakeBotAPI) -> None:
        self.settings = settings
        self.clock = clock
        self.api = api
        self.deployment: Deployment
        self.people: dict[Role, Sender] = {}
        self.buttons: dict[int, Buttons] = {}  # by chat
        self.periodic: list[Periodic] = []
        self._update_ids = 0
        api.watch(self._track)

    @classmethod
    async def open(cls, settings: Settings, today: Clock | None = None) -> tuple[Demo, bool]:
        """Start the bot on the settings' database (marked as the demo's and seeded when
        empty); returns the demo and whether it was seeded now. Its clock starts at 10:00
        `today` (the wall clock's day), or where a resumed demo left it if that is later:
        the demo's time never goes back."""
        locale = settings.default_locale
        zone = settings.zone
        day = (today or SystemClock()).now().astimezone(zone).date()
        start = datetime.combine(day, START_AT, tzinfo=zone)
        demo = cls(settings, FixedClock(start), FakeBotAPI(username=BOT_USERNAME))
        demo.deployment = await Deployment.start(settings, demo.clock, demo.api)
        try:
            # PTB's job queue keeps the wall clock, the demo its own: the due work runs when
            # the demo's clock is moved (`advance`), never on its own between two lines
            job_queue = demo.deployment.app.job_queue
            if job_queue is not None:
                job_queue.scheduler.pause()
            services = demo.deployment.services
            saved = await demo.marks.clock()
            if saved is not None and saved > start:
                start = saved
                demo.clock.set(start)
            seeded = not await services.stations.any()
            if seeded:
                await demo.marks.save(start)  # first: a seed cut short is still the demo's
                await seed(services, demo.clock, locale)
                demo.clock.set(start)
                await demo.deployment.scheduler.sweep()
            await demo.settle()
            demo.buttons.clear()  # what was sent before the console opened is not shown
        except BaseException:
            await stop([demo.deployment])
            raise
        demo.periodic = demo._periodic()
        demo.people = {
            role: Sender(demo, member.user_id, member.name, language_code(locale))
            for role, member in CAST.items()
        }
        return demo, seeded

    @property
    def marks(self) -> DemoMarkRepo:
        return DemoMarkRepo(self.deployment.db)

    async def close(self) -> None:
        """Save the demo's clock, let the outbox finish, then shut the Application down and
        close the database."""
        try:
            await self.marks.save(self.clock.now())
        finally:
            await stop([self.deployment])

    def next_update_id(self) -> int:
        self._update_ids += 1
        return self._update_ids

    # --- what a person does ----------------------------------------------------------------

    async def _feed(self, update: dict[str, Any]) -> None:
        await self.deployment.feed(update)
        await self.settle()

    def _sender(self, role: Role) -> Sender:
        self.clock.set(self.clock.now() + THINK)
        return self.people[role]

    async def send_text(self, role: Role, text: str) -> None:
        await self._feed(self._sender(role).text_update(text))

    async def send_photo(self, role: Role, image: bytes) -> None:
        file_id = self.api.add_file(image)
        await self._feed(self._sender(role).photo_update(file_id))

    async def send_location(self, role: Role, latitude: float, longitude: float) -> None:
        await self._feed(self._sender(role).location_update(latitude, longitude))

    async def send_file(self, role: Role, name: str, content: bytes) -> None:
        """A document the bot can fetch (getFile, then the download)."""
        file_id = self.api.add_file(content)
        mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        update = self._sender(role).document_update(file_id, name, mime_type, len(content))
        await self._feed(update)

    def button(self, role: Role, number: int) -> Tap:
        """What button `number` (from 1) of the role's chat is, as shown last."""
        chat_id = CAST[role].user_id
        shown = self.buttons.get(chat_id, Buttons())
        if shown.message_id is None:
            labels = shown.keyboard
            return Tap(text=labels[number - 1]) if 0 < number <= len(labels) else Tap()
        message = self.api.messages.get((chat_id, shown.message_id), {})
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        buttons = [button for row in rows for button in row]
        if not 0 < number <= len(buttons):
            return Tap()
        return Tap(data=buttons[number - 1].get("callback_data"))

    async def tap(self, role: Role, number: int) -> Tap:
        """Tap button `number` of the role's chat: its callback is sent, or a reply
        keyboard's text."""
        tap = self.button(role, number)
        chat_id = CAST[role].user_id
        message_id = self.buttons.get(chat_id, Buttons()).message_id
        if tap.data is not None and message_id is not None:
            message = self.api.messages[(chat_id, message_id)]
            await self._feed(self._sender(role).tap_update(tap.data, message))
        elif tap.text is not None:
            await self.send_text(role, tap.text)
        return tap

    # --- time ------------------------------------------------------------------------------

    def _periodic(self) -> list[Periodic]:
        """The scheduler's repeating jobs that do work of their own, first due as after a
        start of the bot now: the nightly backup and retention at the nightly time, the
        expiry of abandoned conversations and the calendar's horizon daily."""
        now, settings = self.clock.now(), self.settings

        def nightly(after: datetime) -> datetime:
            local = after.astimezone(settings.zone)
            at = datetime.combine(local.date(), settings.nightly_time, tzinfo=settings.zone)
            return (
                at
                if at > local
                else datetime.combine(
                    local.date() + timedelta(days=1), settings.nightly_time, tzinfo=settings.zone
                )
            )

        return [
            Periodic("nightly", nightly(now), nightly),
            Periodic("expiry", now + timedelta(minutes=10), lambda at: at + EXPIRY_EVERY),
            Periodic("horizon", now + timedelta(hours=1), lambda at: at + HORIZON_EVERY),
        ]

    async def advance(self, until: datetime) -> None:
        """Play the bot's timed work up to `until` on the demo's clock, as the job queue would
        have on the wall clock: each job the scheduler plans (a turn's reminder, a
        consultation's or ballot's closing, the digest) and each repeating job of its own
        (the nightly backup and retention, expiry, the calendar's horizon) runs at its own
        time, and the scheduler's sweep (opinion deadlines, ratings, suggestions …) at least
        every PLAN_AHEAD; the outbox sends after each step. The clock is saved at the end."""
        scheduler, done = self.deployment.scheduler, set[str]()
        while True:
            await scheduler.plan()
            now = self.clock.now()
            step = min(until, now + PLAN_AHEAD)
            job = self._next_job(step, done)
            due = [p for p in self.periodic if p.due <= step]
            periodic = min(due, key=lambda p: p.due, default=None)
            if periodic is not None and (job is None or periodic.due < (job.next_t or step)):
                self.clock.set(max(now, periodic.due))
                periodic.due = periodic.after(periodic.due)
                await self._run_repeating(periodic.name)
            elif job is not None:
                done.add(job.name or "")
                self.clock.set(max(now, job.next_t or now))
                job.schedule_removal()
                await job.run(self.deployment.app)
            else:
                self.clock.set(step)
                await scheduler.sweep()
            await self.settle()
            if job is None and periodic is None and step >= until:
                break
        await self.marks.save(self.clock.now())

    async def _run_repeating(self, name: str) -> None:
        """Run the scheduler's repeating job `name` once now (it stays scheduled)."""
        job_queue = self.deployment.app.job_queue
        for job in job_queue.get_jobs_by_name(name) if job_queue is not None else ():
            await job.run(self.deployment.app)

    def _next_job(self, until: datetime, done: set[str]) -> Job[Any] | None:
        """The first job planned for a moment (named what@moment) up to `until`."""
        job_queue = self.deployment.app.job_queue
        planned = [
            job
            for job in (job_queue.jobs() if job_queue is not None else ())
            if job.name and "@" in job.name and job.name not in done
            if job.next_t is not None and job.next_t <= until
        ]
        return min(planned, key=lambda job: job.next_t or until, default=None)

    async def settle(self) -> None:
        """Wait until the outbox has sent everything that is due."""
        await self.deployment.outbox.drain()

    # --- which buttons a number taps -------------------------------------------------------

    def _track(self, output: Output) -> None:
        """Keep, per chat, the buttons shown last: a number typed there taps one of them."""
        markup = output.markup or {}
        shown = self.buttons.setdefault(output.chat_id, Buttons())
        if markup.get("inline_keyboard") and output.message_id is not None:
            self.buttons[output.chat_id] = Buttons(message_id=output.message_id)
        elif "keyboard" in markup:
            labels = [
                b if isinstance(b, str) else str(b.get("text", ""))
                for row in markup["keyboard"]
                for b in row
            ]
            self.buttons[output.chat_id] = Buttons(keyboard=labels)
        elif markup.get("remove_keyboard") and shown.message_id is None:
            self.buttons[output.chat_id] = Buttons()
