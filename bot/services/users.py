"""Users: first contact, consent, language, station, roles and reachability."""

from __future__ import annotations

from datetime import timedelta

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError
from bot.i18n import locale_for_language_code
from bot.services import privacy
from bot.services.outbox import Outbox
from storage import Database
from storage.db import Tx
from storage.models import Role, User
from storage.repos.stations import StationRepo
from storage.repos.users import UserRepo

FORGET_BATCH = 500  # users deleted per transaction by forget_unconsented


class UserService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        admin_ids: list[int],
        default_locale: str,
        outbox: Outbox,
    ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.admin_ids = frozenset(admin_ids)
        self.default_locale = default_locale
        self.users = UserRepo(db)
        self.stations = StationRepo(db)

    def _effective(self, user: User) -> User:
        """Admins come from settings, whatever the stored role says, both ways: one on the
        list is an admin, a stored admin no longer on it a voter (as `touch` records at
        their next update). The one place of this rule; the start-up menu check
        (storage.repos.menus) repeats it in SQL."""
        if user.telegram_id in self.admin_ids:
            role = Role.ADMIN
        else:
            role = Role.VOTER if user.role == Role.ADMIN else user.role
        return user if role == user.role else user.model_copy(update={"role": role})

    def _role_out_of_date(self, user: User) -> bool:
        """The stored role disagrees with the admin list in settings (either way)."""
        return (user.telegram_id in self.admin_ids) != (user.role == Role.ADMIN)

    def _asked_again(self, user: User) -> User:
        """A consent to an older privacy notice counts as none until the person agrees to the
        current one (their data is kept meanwhile): they are handled without a consent time,
        and with the version they agreed to, which tells the gate to ask again."""
        if user.consent_at is None or privacy.consent_is_current(user):
            return user
        return user.model_copy(
            update={"consent_at": None, "consent_version": privacy.version_agreed(user)}
        )

    async def get(self, telegram_id: int) -> User | None:
        user = await self.users.get(telegram_id)
        return None if user is None else self._asked_again(self._effective(user))

    async def touch(
        self, telegram_id: int, language_code: str | None, full_name: str, username: str | None
    ) -> User:
        """The user behind an update, created on first contact. Before consent only the id
        and the default locale are stored (PIPL): the name is ignored and the language is
        taken from this update each time. After consent the name is refreshed when it
        changes. Writes nothing when nothing changed."""
        user = await self.users.get(telegram_id)
        stale = (
            user is None
            or not user.active
            or self._role_out_of_date(user)
            or (user.consented and (user.full_name, user.username) != (full_name, username))
        )
        if stale or user is None:
            async with self.db.transaction() as tx:
                await self.users.ensure(tx, telegram_id, self.default_locale, self.clock.now())
                await self.users.set_active(tx, telegram_id, True)
                await self.users.refresh_seen(tx, telegram_id, full_name, username)
                # the stored role follows the admin list, so audiences never count admins
                if telegram_id in self.admin_ids:
                    await self.users.set_role(tx, telegram_id, Role.ADMIN)
                elif user is not None and user.role == Role.ADMIN:
                    await self.users.set_role(tx, telegram_id, Role.VOTER)
                # an admin's menu, or a former admin's back to a voter's; and the menu of
                # someone back after blocking the bot (a change meanwhile was skipped). A
                # new person has no menu before agreeing (`consent` queues it).
                if user is not None and (self._role_out_of_date(user) or not user.active):
                    await self.outbox.refresh_menu(tx, telegram_id)
            user = await self.users.get(telegram_id)
            if user is None:
                raise RuntimeError(f"user {telegram_id} vanished inside its own transaction")
        return self._asked_again(self._speaking(self._effective(user), language_code))

    def _speaking(self, user: User, language_code: str | None) -> User:
        """Someone who has neither consented nor picked a language is spoken to in the
        language of their Telegram client, worked out now and never stored."""
        if user.consented or user.locale_chosen:
            return user
        locale = locale_for_language_code(language_code, self.default_locale)
        return user if locale == user.locale else user.model_copy(update={"locale": locale})

    async def notice_shown(self, user: User) -> User:
        """Record that the privacy notice was shown (the first time only; no write after)."""
        if user.notice_shown_at is not None:
            return user
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self.users.set_notice_shown(tx, user.telegram_id, now)
        return user.model_copy(update={"notice_shown_at": now})

    async def consent(
        self,
        telegram_id: int,
        full_name: str = "",
        username: str | None = None,
        locale: str | None = None,
    ) -> User:
        """The person agreed to the privacy notice: store the consent, with the notice's
        current version, together with the name, username and locale (from the update) that
        it now allows us to keep. A language they picked with /language is kept, and so is
        a role given before they agreed: either now earns them a command menu of their own."""
        before = await self.users.get(telegram_id)
        async with self.db.transaction() as tx:
            await self.users.set_consent(
                tx,
                telegram_id,
                self.clock.now(),
                privacy.NOTICE_VERSION,
                full_name,
                username,
                locale or self.default_locale,
            )
            own_menu = telegram_id in self.admin_ids or (
                before is not None and (before.role != Role.VOTER or before.locale_chosen)
            )
            if own_menu:  # a plain voter's is the default menu: nothing to set
                await self.outbox.refresh_menu(tx, telegram_id)
        return await self._require(telegram_id)

    async def forget_unconsented(self, older_than_days: int) -> int:
        """Delete voters who never consented and first wrote more than `older_than_days`
        ago, unless another table refers to them; returns how many were deleted. Runs in
        short batches so other writers are not held up."""
        cutoff = self.clock.now() - timedelta(days=older_than_days)
        deleted = 0
        while True:
            async with self.db.transaction() as tx:
                batch = await self.users.delete_unconsented(tx, cutoff, FORGET_BATCH)
            deleted += batch
            if batch < FORGET_BATCH:
                return deleted

    async def set_locale(self, telegram_id: int, locale: str) -> User:
        async with self.db.transaction() as tx:
            await self.users.set_locale(tx, telegram_id, locale)
            await self.outbox.refresh_menu(tx, telegram_id)
        return await self._require(telegram_id)

    async def choose_station(self, actor: User, station_id: int) -> User:
        """The person's station is `station_id` from now on (see `choose_station_in`)."""
        async with self.db.transaction() as tx:
            await self.choose_station_in(tx, actor, station_id)
        return await self._require(actor.telegram_id)

    async def choose_station_in(self, tx: Tx, actor: User, station_id: int) -> None:
        """The one way a station is chosen, inside the caller's transaction (/station, a
        station's link, a deputy's code): who may, and a station that exists."""
        ensure(actor, Action.CHOOSE_STATION)
        if await self.stations.get(station_id) is None:
            raise DomainError("station.unknown")
        await self.users.set_station(tx, actor.telegram_id, station_id)

    async def set_staff(self, actor: User, target_id: int, grant: bool) -> User:
        """An admin grants or revokes staff. Deputies and admins keep their role."""
        ensure(actor, Action.MANAGE_STAFF)
        if target_id in self.admin_ids:
            raise DomainError("staff.target_is_admin")
        async with self.db.transaction() as tx:
            await self.users.ensure(tx, target_id, self.default_locale, self.clock.now())
            current = await self.users.role_in(tx, target_id)
            if grant and current == Role.DEPUTY:
                raise DomainError("staff.target_is_deputy")
            if not grant and current != Role.STAFF:
                raise DomainError("staff.target_not_staff")
            await self.users.set_role(tx, target_id, Role.STAFF if grant else Role.VOTER)
            await self.outbox.refresh_menu(tx, target_id)
        return await self._require(target_id)

    async def set_notices(self, actor: User, on: bool) -> User:
        """Voters may stop broadcast notices; news about their own opinions still comes."""
        ensure(actor, Action.SET_NOTICES)
        async with self.db.transaction() as tx:
            await self.users.set_notices(tx, actor.telegram_id, on)
        return await self._require(actor.telegram_id)

    async def mark_unreachable(self, telegram_id: int) -> None:
        """The user blocked the bot: stop counting them as reachable."""
        async with self.db.transaction() as tx:
            await self.users.set_active(tx, telegram_id, False)

    async def _require(self, telegram_id: int) -> User:
        user = await self.get(telegram_id)
        if user is None:
            raise DomainError("error.unknown_user")
        return user
