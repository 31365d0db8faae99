"""Locale support for the writers: locale resolution and the message catalogs.

Every sentence a writer produces comes from one TOML catalog per locale (``en_US.toml``,
``ja_JP.toml``, ``zh_CN.toml`` next to this module). Keys are dotted paths into the TOML tables. A
table whose keys are all CLDR plural categories (``one``, ``other``, …) is a plural message: the
variant is chosen with Babel's plural rules for the ``count`` value. A plain string serves every
count. Numbers, lists, dates and sizes are formatted with Babel for the locale.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

SUPPORTED: tuple[str, ...] = ("en_US", "ja_JP", "zh_CN")
FALLBACK = "en_US"
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})


@lru_cache(maxsize=256)
def _babel_locale(name: str) -> Locale:
    """``Locale.parse`` once per name (it scans Babel's data directory at every call)."""
    return Locale.parse(name)


_BY_LANGUAGE = {s.partition("_")[0]: s for s in SUPPORTED}
"""The supported locale of each language (Babel's ``language`` of each name, without loading
Babel's data at import: a test checks they agree)."""


def _parse(locale: str) -> Locale | None:
    """Parse ``ja``, ``zh-CN``, ``ZH_hans_cn`` … into a Babel locale, or None when unusable."""
    parts = [p for p in locale.strip().replace("-", "_").split("_") if p]
    if not parts:
        return None
    norm = [parts[0].lower()]
    for p in parts[1:]:
        norm.append(p.title() if len(p) == 4 else p.upper())
    try:
        return _babel_locale("_".join(norm))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@lru_cache(maxsize=256)
def resolve_locale(locale: str) -> tuple[str, str | None]:
    """The supported locale to write in for ``locale``, and a warning when it is not an exact match.

    ``ja``, ``ja-JP``, ``zh``, ``zh-CN``, ``zh_Hans``, ``en`` map to the supported locale silently;
    another region or script of a supported language (``zh_TW``, ``en_GB``) maps to that language's
    supported locale with a warning; anything else falls back to ``en_US`` with a warning.
    """
    if locale in SUPPORTED:  # the common case, answered without loading Babel's data
        return locale, None
    return _resolve_with_babel(locale)


def _resolve_with_babel(locale: str) -> tuple[str, str | None]:
    parsed = _parse(locale)
    if parsed is None or parsed.language not in _BY_LANGUAGE:
        return FALLBACK, f"locale {locale!r} is not supported; writing {FALLBACK} instead"
    target = _BY_LANGUAGE[parsed.language]
    want = _babel_locale(target)
    region_ok = parsed.territory in (None, want.territory)
    script_ok = parsed.script in (None, want.script)
    if region_ok and script_ok:
        return target, None
    return target, f"locale {locale!r} is not supported; writing {target} instead"


Message = str | dict[str, str]
"""A catalog entry: one template, or templates by plural category."""


def _flatten(table: Mapping[str, Any], prefix: str, out: dict[str, Message], source: str) -> None:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, dict) and value and set(value) <= PLURAL_CATEGORIES and "other" in value:
            if not all(isinstance(v, str) for v in value.values()):
                raise ValueError(f"{source}: plural message {key!r} must hold strings only")
            out[key] = dict(value)
        elif isinstance(value, dict):
            _flatten(value, key + ".", out, source)
        else:
            raise ValueError(f"{source}: {key!r} must be a string or a table")


SITE_TABLE = "site"
"""The table of a catalog file that holds the website's interface strings (see :func:`site_strings`);
the writers' messages are all the other tables."""


@cache
def _data(locale: str) -> dict[str, Any]:
    # the catalogs are files next to this module (importlib.resources would cost more to import
    # than the three catalogs of a run take to read)
    return tomllib.loads(Path(__file__).with_name(f"{locale}.toml").read_text(encoding="utf-8"))


@cache
def _load(locale: str) -> dict[str, Message]:
    data = {k: v for k, v in _data(locale).items() if k != SITE_TABLE}
    out: dict[str, Message] = {}
    _flatten(data, "", out, f"{locale}.toml")
    return out


@cache
def _fixed_texts(locale: str) -> dict[str, str]:
    """The messages without placeholders or braces: their text is the template itself."""
    return {k: v for k, v in _load(locale).items() if isinstance(v, str) and "{" not in v and "}" not in v}


def site_strings(locale: str) -> dict[str, str]:
    """The website's interface strings in ``locale`` (a supported locale), from the ``[site]`` table
    of its catalog file: plain templates with ``str.format`` placeholders."""
    if locale not in SUPPORTED:
        raise ValueError(f"unsupported locale {locale!r}")
    table = _data(locale).get(SITE_TABLE, {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ValueError(f"{locale}.toml: [{SITE_TABLE}] must hold strings only")
    return dict(table)


_BACKTICKS = re.compile("`+")


def _collapse(text: str) -> str:
    return " ".join(text.split())


class Catalog:
    """The messages and formatting conventions of one supported locale."""

    def __init__(self, locale: str) -> None:
        if locale not in SUPPORTED:
            raise ValueError(f"unsupported locale {locale!r} (resolve it with resolve_locale first)")
        self.locale = locale
        self._babel = _babel_locale(locale)
        self._messages = _load(locale)
        self._fixed = _fixed_texts(locale)

    # --- messages ------------------------------------------------------------------------------

    def keys(self) -> frozenset[str]:
        """The message keys (a plural message counts once, without its category suffix)."""
        return frozenset(self._messages)

    def plural_keys(self) -> dict[str, frozenset[str]]:
        """The plural messages and the categories each defines."""
        return {k: frozenset(v) for k, v in self._messages.items() if isinstance(v, dict)}

    @property
    def plural_categories(self) -> frozenset[str]:
        """The plural categories this locale's numbers use (always including ``other``)."""
        return frozenset(self._babel.plural_form.tags) | {"other"}

    def plural(self, count: int | float) -> str:
        """The CLDR plural category of ``count`` in this locale."""
        return _plural(self.locale, count)

    def msg(self, key: str, /, **values: Any) -> str:
        """The message ``key`` with ``values`` filled in.

        Integers are formatted as locale numbers. A plural message picks its variant by ``count``.
        Raises KeyError naming the key and the locale when the key or a placeholder is missing.
        """
        if not values:
            fixed = self._fixed.get(key)
            if fixed is not None:
                return fixed
        entry = self._messages.get(key)
        if entry is None:
            raise KeyError(f"message {key!r} is missing from the {self.locale} catalog")
        if isinstance(entry, str):
            template = entry
        else:
            count = values.get("count")
            if not isinstance(count, int | float):
                raise KeyError(f"plural message {key!r} ({self.locale}) needs a numeric 'count'")
            template = entry.get(_plural(self.locale, count), entry["other"])
        # ``values`` is this call's own dict: numbers are replaced by their text in place (most
        # values are text already, checked first as the cheap case)
        for name, value in values.items():
            if type(value) is not str and isinstance(value, int | float) and not isinstance(value, bool):
                values[name] = _format_number(self.locale, value)
        try:
            return template.format_map(values)
        except KeyError as exc:
            raise KeyError(f"message {key!r} ({self.locale}) needs the value {exc.args[0]!r}") from None

    # --- document text -------------------------------------------------------------------------

    def quote(self, text: str) -> str:
        """Document text (a heading, a phrase) in the locale's quotation marks."""
        return self.msg("fmt.quote", text=_collapse(text))

    def doc_title(self, text: str) -> str:
        """A document's title in the locale's title marks (zh 《…》, ja 『…』, en “…”)."""
        return self.msg("fmt.doc_title", text=_collapse(text))

    @staticmethod
    def code(text: str) -> str:
        """Inline code: backticks, with a longer fence when ``text`` holds backticks itself."""
        return _code(text)

    # --- numbers, lists, dates -----------------------------------------------------------------

    def join(self, items: Iterable[str]) -> str:
        """``A、B和C`` (zh), ``A、B、C`` (ja), ``A, B, and C`` (en)."""
        listed = list(items)
        if len(listed) < 2:  # what format_list returns for these, without its look-ups
            return str(listed[0]) if listed else ""
        return str(format_list(listed, locale=self._babel))

    def number(self, n: int | float) -> str:
        """A locale-formatted number (at most one decimal place for fractions)."""
        return _format_number(self.locale, n)

    def percent(self, ratio: float) -> str:
        """A ratio as a whole percentage (``0.714`` → ``71%``)."""
        return str(format_percent(ratio, locale=self._babel))

    def date(self, d: date) -> str:
        """A date in the locale's long format (``April 23, 2025``, ``2025年4月23日``)."""
        return _format_date(self.locale, d)

    def size(self, n: int) -> str:
        """A byte count for people: ``512 bytes``, ``12.3 KB``, ``4.1 MB`` (units of 1024)."""
        if n < 1024:
            return self.msg("size.bytes", count=n)
        value = float(n)
        for unit in ("kb", "mb", "gb"):
            value /= 1024
            if value < 1024 or unit == "gb":
                break
        return self.msg(f"size.{unit}", value=self.number(round(value, 1)))


@lru_cache(maxsize=4096)
def _code(text: str) -> str:
    """:meth:`Catalog.code` (the same in every locale, so cached once for all)."""
    text = _collapse(text)
    longest = max(map(len, _BACKTICKS.findall(text)), default=0) if "`" in text else 0
    fence = "`" * (longest + 1)
    pad = " " if longest or text.startswith(" ") or text.endswith(" ") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


@lru_cache(maxsize=4096, typed=True)
def _plural(locale: str, count: int | float) -> str:
    """The CLDR plural category of ``count`` (typed: ``1`` and ``1.0`` may differ)."""
    return str(_babel_locale(locale).plural_form(count))


@lru_cache(maxsize=1024)
def _format_date(locale: str, d: date) -> str:
    return str(format_date(d, format="long", locale=_babel_locale(locale)))


@lru_cache(maxsize=4096)
def _format_number(locale: str, n: int | float) -> str:
    babel = _babel_locale(locale)
    if isinstance(n, float) and not n.is_integer():
        return str(format_decimal(n, format="#,##0.#", locale=babel))
    return str(format_decimal(n, locale=babel))


@cache
def catalog(locale: str) -> Catalog:
    """The (shared, immutable) catalog of a supported locale."""
    return Catalog(locale)


def preload(locales: Iterable[str]) -> None:
    """Load the catalogs of ``locales`` and the Babel data their formatting reads (dates, numbers,
    percentages, lists, plural rules), which Babel loads on first use. Processes forked afterwards
    inherit it instead of each loading it again."""
    sample = date(2000, 1, 2)
    for locale in locales:
        c = catalog(locale)
        c.date(sample)
        c.number(1234)
        c.number(1.5)
        c.percent(0.5)
        c.join(["a", "b", "c"])
        c.plural(2)


__all__ = ["FALLBACK", "PLURAL_CATEGORIES", "SUPPORTED", "Catalog", "catalog", "preload", "resolve_locale"]
