"""Users: first contact, consent, language, station, roles and reachability."""

from __future__ import annotations

from bot.access import Action, ensure
from bot.clock import Clock
from bot.errors import DomainError
from bot.i18n import locale_for_language_code
from storage import Database
from storage.models import Role, User
from storage.repos.drafts import ConversationRepo
from storage.repos.stations import StationRepo
from storage.repos.users import UserRepo


class UserService:
    def __init__(
        self, db: Database, clock: Clock, admin_ids: list[int], default_locale: str
    ) -> None:
        self.db = db
        self.clock = clock
        self.admin_ids = frozenset(admin_ids)
        self.default_locale = default_locale
        self.users = UserRepo(db)
        self.stations = StationRepo(db)
        self.conversations = ConversationRepo(db)

    def _effective(self, user: User) -> User:
        """Admins come from settings, whatever the stored role says."""
        if user.telegram_id in self.admin_ids and user.role != Role.ADMIN:
            return user.model_copy(update={"role": Role.ADMIN})
        return user

    def _role_out_of_date(self, user: User) -> bool:
        """The stored role disagrees with the admin list in settings (either way)."""
        return (user.telegram_id in self.admin_ids) != (user.role == Role.ADMIN)

    async def get(self, telegram_id: int) -> User | None:
        user = await self.users.get(telegram_id)
        return None if user is None else self._effective(user)

    async def touch(
        self, telegram_id: int, language_code: str | None, full_name: str, username: str | None
    ) -> User:
        """The user behind an update: created on first contact, refreshed only when changed."""
        user = await self.users.get(telegram_id)
        if (
            user is None
            or not user.active
            or user.full_name != full_name
            or user.username != username
            or self._role_out_of_date(user)
        ):
            locale = locale_for_language_code(language_code, self.default_locale)
            async with self.db.transaction() as tx:
                await self.users.upsert_seen(
                    tx, telegram_id, locale, full_name, username, self.clock.now()
                )
                # the stored role follows the admin list, so audiences never count admins
                if telegram_id in self.admin_ids:
                    await self.users.set_role(tx, telegram_id, Role.ADMIN)
                elif user is not None and user.role == Role.ADMIN:
                    await self.users.set_role(tx, telegram_id, Role.VOTER)
            user = await self.users.get(telegram_id)
            assert user is not None
        return self._effective(user)

    async def consent(self, telegram_id: int) -> User:
        async with self.db.transaction() as tx:
            await self.users.set_consent(tx, telegram_id, self.clock.now())
        return await self._require(telegram_id)

    async def set_locale(self, telegram_id: int, locale: str) -> User:
        async with self.db.transaction() as tx:
            await self.users.set_locale(tx, telegram_id, locale)
        return await self._require(telegram_id)

    async def choose_station(self, actor: User, station_id: int) -> User:
        ensure(actor, Action.CHOOSE_STATION)
        if await self.stations.get(station_id) is None:
            raise DomainError("station.unknown")
        async with self.db.transaction() as tx:
            await self.users.set_station(tx, actor.telegram_id, station_id)
        return await self._require(actor.telegram_id)

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
        return await self._require(target_id)

    async def set_notices(self, actor: User, on: bool) -> User:
        """Voters may stop broadcast notices; news about their own opinions still comes."""
        ensure(actor, Action.SET_NOTICES)
        async with self.db.transaction() as tx:
            await self.users.set_notices(tx, actor.telegram_id, on)
        return await self._require(actor.telegram_id)

    async def conversations_of(self, chat_id: int, telegram_id: int) -> set[str]:
        """The multi-step conversations this person is in the middle of."""
        return await self.conversations.active_names((chat_id, telegram_id))

    async def mark_unreachable(self, telegram_id: int) -> None:
        """The user blocked the bot: stop counting them as reachable."""
        async with self.db.transaction() as tx:
            await self.users.set_active(tx, telegram_id, False)

    async def _require(self, telegram_id: int) -> User:
        user = await self.get(telegram_id)
        if user is None:
            raise DomainError("error.unknown_user")
        return user
