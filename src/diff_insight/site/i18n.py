"""The site's UI strings in en_US, ja_JP and zh_CN (other locales use en_US), kept with the writers'
messages in one catalog file per locale, and localized dates (Babel)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

from diff_insight.writers.i18n import FALLBACK, SUPPORTED, site_strings

LANGUAGE_NAMES: dict[str, str] = {"en_US": "English", "ja_JP": "日本語", "zh_CN": "简体中文"}


@lru_cache(maxsize=16)
def _strings(locale: str) -> dict[str, str]:
    return site_strings(locale if locale in SUPPORTED else FALLBACK)


def strings(locale: str) -> dict[str, str]:
    """The UI strings of ``locale`` (en_US for locales without their own): the ``[site]`` table of
    the locale's message catalog (``diff_insight/writers/i18n/<locale>.toml``). A copy."""
    return dict(_strings(locale))


def language_name(locale: str) -> str:
    if locale in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[locale]
    try:
        name = Locale.parse(locale).get_display_name()
    except (UnknownLocaleError, ValueError):
        name = None
    return name or locale


def bcp47(locale: str) -> str:
    """``ja_JP`` → ``ja-JP``."""
    return locale.replace("_", "-")


@lru_cache(maxsize=4096)
def long_date(day: date, locale: str) -> str:
    try:
        return format_date(day, "long", locale=locale)
    except (UnknownLocaleError, ValueError):
        return format_date(day, "long", locale="en_US")


@lru_cache(maxsize=1024)
def month_name(day: date, locale: str) -> str:
    try:
        return format_skeleton("yMMMM", day, locale=locale)
    except (UnknownLocaleError, ValueError):
        return format_skeleton("yMMMM", day, locale="en_US")
