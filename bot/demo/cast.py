"""Who is who in the demo: the four people the console can be, and the voters the seed makes
write opinions before the console opens."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.i18n import N_


class Role(StrEnum):
    """The person the console speaks as (`:as voter|deputy|staff|admin`)."""

    VOTER = "voter"
    DEPUTY = "deputy"
    STAFF = "staff"
    ADMIN = "admin"


@dataclass(frozen=True)
class Member:
    """One person of the cast: their Telegram id and first name, and the label the console
    shows for them."""

    role: Role
    user_id: int
    name: str
    label: str  # message id


CAST: dict[Role, Member] = {
    Role.VOTER: Member(Role.VOTER, 700001, "刘洋", N_("demo.role_voter")),
    Role.DEPUTY: Member(Role.DEPUTY, 700002, "张伟", N_("demo.role_deputy")),
    Role.STAFF: Member(Role.STAFF, 700003, "李娜", N_("demo.role_staff")),
    Role.ADMIN: Member(Role.ADMIN, 700004, "王强", N_("demo.role_admin")),
}
ADMIN_ID = CAST[Role.ADMIN].user_id

# The deputy's station, where the seeded opinions were left (a station of samples/stations.csv).
HOME_STATION = "学院路街道代表之家"

# Voters of the seed who wrote the opinions already in the database; never shown.
NEIGHBOURS = {710001: "陈静", 710002: "赵磊", 710003: "孙丽", 710004: "周杰", 710005: "吴敏"}


def member_of(chat_id: int) -> Member | None:
    """The cast member whose private chat this is, if any."""
    return next((m for m in CAST.values() if m.user_id == chat_id), None)


def language_code(locale: str) -> str:
    """The Telegram language_code of a person whose client speaks `locale`."""
    return "zh-hans" if locale == "zh_CN" else "en"
