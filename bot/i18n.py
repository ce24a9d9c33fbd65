"""Locales: gettext catalogs read from `locales/*/LC_MESSAGES/*.po` through Babel, and the one
place that formats dates and numbers for a locale in the configured time zone."""

from __future__ import annotations

import datetime as dt
import io
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

# the `locales` package's folder: the catalogs ship as its package data
LOCALES_DIR = Path(str(resources.files("locales")))
SUPPORTED = ("zh_CN", "en")


def N_(key: str) -> str:
    """Mark a message id for extraction where it is translated later."""
    return key


def locale_for_language_code(code: str | None, default: str = "zh_CN") -> str:
    """Telegram's language_code → our locale: any zh… is zh_CN, anything else en."""
    if not code:
        return default
    return "zh_CN" if code.lower().startswith("zh") else "en"


@cache
def load_catalog(directory: Path) -> Translations:
    """Merge every .po file of one locale into one Translations object, compiled in memory;
    once per process (the catalogs are read-only while it runs: every Application of it, the
    demo's and the tests' many, shares them)."""
    merged = Translations()
    for po_file in sorted(directory.glob("*.po")):
        with po_file.open("rb") as fh:
            catalog = read_po(fh)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        merged.merge(Translations(fp=buffer))
    return merged


class Texts:
    """Everything a handler needs to speak one locale: messages, dates, numbers."""

    def __init__(self, locale: str, translations: Translations, zone: ZoneInfo) -> None:
        self.locale = locale
        self._translations = translations
        self.zone = zone

    @cached_property
    def _babel_locale(self) -> Locale:
        return Locale.parse(self.locale)

    def __call__(self, key: str, /, **params: object) -> str:
        text = self._translations.gettext(key)
        return text.format(**params) if params else text

    def datetime(self, moment: dt.datetime) -> str:
        return f"{self.date(moment)} {self.time(moment)}"

    def date(self, moment: dt.datetime | dt.date) -> str:
        """An instant's local day, or a calendar day as it is (noon of it is that day in any
        zone; babel would read a bare date as UTC midnight)."""
        if not isinstance(moment, dt.datetime):
            moment = dt.datetime.combine(moment, dt.time(12), tzinfo=self.zone)
        return format_skeleton("yMMMd", moment, tzinfo=self.zone, locale=self._babel_locale)

    def time(self, moment: dt.datetime) -> str:
        return format_skeleton("Hm", moment, tzinfo=self.zone, locale=self._babel_locale)

    def duration(self, seconds: float) -> str:
        return format_timedelta(
            dt.timedelta(seconds=seconds), threshold=1.5, locale=self._babel_locale
        )

    @staticmethod
    def length(seconds: int) -> str:
        """A recording's length as a player shows it, the same in every language: 0:45, 2:00."""
        minutes, rest = divmod(max(0, seconds), 60)
        return f"{minutes}:{rest:02d}"

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self._babel_locale)


class I18n:
    """All catalogs, loaded once at start."""

    def __init__(
        self, zone: ZoneInfo, default_locale: str = "zh_CN", directory: Path = LOCALES_DIR
    ) -> None:
        self.default_locale = default_locale
        self.zone = zone
        self._texts = {
            locale: Texts(locale, load_catalog(directory / locale / "LC_MESSAGES"), zone)
            for locale in SUPPORTED
        }

    def texts(self, locale: str | None) -> Texts:
        return self._texts.get(locale or self.default_locale) or self._texts[self.default_locale]

    @property
    def locales(self) -> tuple[str, ...]:
        return SUPPORTED
