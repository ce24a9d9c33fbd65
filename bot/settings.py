"""Settings from the environment and `.env`, each documented in `.env.example`."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
SUPPORTED_LOCALES = ("zh_CN", "en")
ENV_PREFIX = "JIAZHAN_"


class Settings(BaseSettings):
    """Everything an operator can set; names are prefixed with JIAZHAN_ in the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )

    bot_token: str | None = None
    database_path: Path = Path("data/jiazhan.sqlite3")
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    timezone: str = "Asia/Shanghai"
    bot_api_base_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    wire_log: bool = False
    daily_opinion_limit: int = Field(default=5, ge=1, le=1000)
    tracking_prefix: str = Field(default="HD", pattern=r"^[A-Z]{1,6}$")
    invitation_ttl_days: int = Field(default=7, ge=1, le=365)
    flood_max_updates: int = Field(default=20, ge=1)
    flood_window_seconds: float = Field(default=10.0, gt=0)
    persistence_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    max_concurrent_updates: int = Field(default=128, ge=1)
    outbox_rate: float = Field(default=25.0, gt=0, le=1000)
    outbox_per_chat_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    outbox_max_attempts: int = Field(default=6, ge=1, le=50)
    broadcast_progress_seconds: float = Field(default=3.0, gt=0, le=600)
    unclaimed_remind_days: int = Field(default=3, ge=1, le=90)
    unclaimed_alert_days: int = Field(default=7, ge=1, le=90)
    unanswered_days: int = Field(default=15, ge=1, le=180)
    rating_remind_days: int = Field(default=7, ge=1, le=90)
    rating_close_days: int = Field(default=14, ge=2, le=180)
    conversation_timeout_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    unconsented_days: int = Field(default=30, ge=1, le=3650)
    # local times in `timezone`: deputies' notices made within quiet hours wait for their end
    # (equal start and end: no quiet hours); a deputy who chose the digest gets it daily
    quiet_hours_start: time = time(22, 0)
    quiet_hours_end: time = time(7, 0)
    digest_time: time = time(8, 0)
    # draft-law consultations: the largest draft document taken (Telegram lets bots fetch
    # up to 20 MB), and the days before the deadline when deputies who have not commented
    # are reminded
    draft_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)
    consultation_reminder_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [3, 1]
    )
    # year-end rating of livelihood projects (测评): a project is 满意 when more than
    # `rating_verdict_share` of the base rate it 满意, else 基本满意 when more than that share
    # rate 满意 or 基本满意, else 不满意; the base is everyone entitled, or those who voted
    rating_verdict_base: Literal["entitled", "voted"] = "entitled"
    rating_verdict_share: float = Field(default=0.5, ge=0, lt=1)
    # deputies' suggestions (代表法 art. 51): answered within `suggestion_due_months` of 交办,
    # extendable once to `suggestion_extended_months` with staff consent; re-handling
    # (重新办理) answered within `rehandle_due_months`; reminders to the department
    # `suggestion_reminder_days` before the deadline; 退办 within `suggestion_return_days`
    # working days; the lead deputy rates within `suggestion_rating_days` working days; a
    # class-B commitment whose date passed with no progress update alerts staff after
    # `commitment_grace_days` days
    suggestion_number_prefix: str = Field(default="JY", pattern=r"^[A-Z]{1,6}$")
    suggestion_due_months: int = Field(default=3, ge=1, le=12)
    suggestion_extended_months: int = Field(default=6, ge=1, le=24)
    rehandle_due_months: int = Field(default=2, ge=1, le=12)
    suggestion_reminder_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [30, 7]
    )
    suggestion_return_days: int = Field(default=7, ge=1, le=60)
    suggestion_rating_days: int = Field(default=15, ge=1, le=60)
    commitment_grace_days: int = Field(default=7, ge=1, le=90)
    # 建议公开: answered suggestions the lead deputy agreed to publish are posted to this
    # public channel (its numeric id, -100…: the bot must be an admin there); none: nothing
    # is published
    publication_channel_id: int | None = None
    # operations (issue 11). The nightly work runs at `nightly_time` local time: a backup
    # into `backup_dir` keeping the newest `backup_keep` (0: no nightly backups), and the
    # erasure of personal data from opinions closed more than `retention_months` ago
    nightly_time: time = time(3, 0)
    backup_dir: Path = Path("data/backups")
    backup_keep: int = Field(default=7, ge=0, le=366)
    retention_months: int = Field(default=24, ge=1, le=240)
    # logs as one JSON object a line (for a log collector), or as plain text lines
    log_format: Literal["text", "json"] = "text"
    # webhook mode also serves GET /healthz on this port of `webhook_listen`; unhealthy when
    # the oldest message waiting in the outbox is older than `health_outbox_max_minutes`
    health_port: int = Field(default=8444, ge=1, le=65535)
    health_outbox_max_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # a reception-desk claim link (start=claim_…) works this many days
    claim_ttl_days: int = Field(default=90, ge=1, le=3650)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not TOKEN_PATTERN.match(value):
            raise ValueError("is not a bot token of the form 123456:ABC… from @BotFather")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return [int(p) for p in parts]
            except ValueError as exc:
                raise ValueError("must be Telegram user ids separated by commas") from exc
        return value

    @field_validator("consultation_reminder_days", "suggestion_reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                days = [int(p) for p in parts]
            except ValueError as exc:
                raise ValueError("must be whole days separated by commas") from exc
            if any(day < 1 or day > 60 for day in days):
                raise ValueError("each must be between 1 and 60 days")
            return sorted(set(days), reverse=True)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a known time zone") from exc
        return value

    @field_validator("quiet_hours_start", "quiet_hours_end", "digest_time", "nightly_time")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("must be a local time like 22:00, without a zone")
        return value.replace(second=0, microsecond=0)

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must start with https://")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def load_settings(*, need_token: bool = True, **overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one line that names the setting."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ENV_PREFIX + str(first["loc"][0]).upper() if first["loc"] else "settings"
        reason = "is missing" if first["type"] == "missing" else first["msg"]
        reason = reason.removeprefix("Value error, ")
        raise SettingsError(f"setting {name} {reason}") from None
    except UnicodeDecodeError:
        raise SettingsError("the .env file is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise SettingsError(f"the .env file cannot be read: {exc.strerror}") from None
    if need_token and not settings.bot_token:
        raise SettingsError(
            f"setting {ENV_PREFIX}BOT_TOKEN is missing; to try the bot without one,"
            " run `python -m bot demo`"
        )
    if settings.rating_close_days <= settings.rating_remind_days:
        raise SettingsError(
            f"setting {ENV_PREFIX}RATING_CLOSE_DAYS must be more than "
            f"{ENV_PREFIX}RATING_REMIND_DAYS"
        )
    if settings.unclaimed_alert_days <= settings.unclaimed_remind_days:
        raise SettingsError(
            f"setting {ENV_PREFIX}UNCLAIMED_ALERT_DAYS must be more than "
            f"{ENV_PREFIX}UNCLAIMED_REMIND_DAYS"
        )
    if settings.mode == "webhook" and not settings.webhook_url:
        raise SettingsError(f"setting {ENV_PREFIX}WEBHOOK_URL is missing (needed in webhook mode)")
    return settings
