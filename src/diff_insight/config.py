"""The configuration: one typed object, validated once, loaded from ``diff-insight.toml``.

Every key is optional::

    locales = ["ja_JP", "zh_CN", "en_US"]
    out = "reports/{locale}/%Y%m/report-%Y%m%d-{category}.md"
    timezone = "UTC"
    engine = "facts"
    repository = "MicrosoftDocs/azure-ai-docs"

    [categories]            # ordered; the first category with a matching pattern wins
    openai = ["articles/ai-services/openai"]
    search = ["articles/search"]

    [catch_all]
    enabled = true
    name = "other"

    [source]                # what `run` and `backfill` read: a local path, a git URL or owner/name
    path = "MicrosoftDocs/azure-ai-docs"
    branch = "main"

Instead of ``[source]``, several ``[[repositories]]`` tables (``source``, ``branch`` and optional
per-repository ``categories``, ``locales``, ``out``, ``engine``, ``timezone``, ``repository``,
``catch_all``) make ``run`` and ``backfill`` process each in turn (:meth:`Config.targets`).

The tables are frozen :mod:`msgspec` structs: types are checked strictly on decoding (``enabled =
"yes"`` is an error, not ``True``), unknown keys are rejected, and each struct's
``__post_init__`` checks what a type cannot say (a locale's form, a pattern, a time zone). Every
problem becomes a one-line :class:`~diff_insight.errors.ConfigError` naming the file, the key and
the reason. msgspec, rather than a heavier validation library, because the configuration is
loaded at the start of every command, before any work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from diff_insight.categories import compile_pattern
from diff_insight.errors import ConfigError
from diff_insight.paths import is_safe_component, validate_template

if TYPE_CHECKING:
    import tomllib

CONFIG_FILE_NAME = "diff-insight.toml"
"""The file :func:`load_config` looks for in the current directory when given no path."""

DEFAULT_OUT = "reports/{locale}/%Y%m/report-%Y%m%d-{category}.md"
"""The default output path template."""

LOCALE_RE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")

Engine = Literal["facts", "llm"]

Key = tuple[str | int, ...]
"""Where a value sits: table keys and array indexes, e.g. ``("categories", "openai", 0)``."""


class _Invalid(ValueError):
    """A value that fails a check of a struct's ``__post_init__``: ``key`` is its place below
    that struct (msgspec adds where the struct itself sits)."""

    def __init__(self, key: Key, reason: str) -> None:
        super().__init__(f"{_format_key(key)}: {reason}" if key else reason)
        self.key = key
        self.reason = reason


class _Conflict(_Invalid):
    """Values of several keys that do not go together (every other check is of one key)."""


# --------------------------------------------------------------------------- checks


def _check_locales(locales: Sequence[str], at: Key = ("locales",)) -> None:
    if not locales:
        raise _Invalid(at, "at least one locale is required")
    seen: set[str] = set()
    for i, locale in enumerate(locales):
        if LOCALE_RE.fullmatch(locale) is None:
            raise _Invalid(
                (*at, i),
                f"invalid locale {locale!r} (expected a language code with an optional territory, "
                f"like 'en' or 'en_US')",
            )
        if locale in seen:
            raise _Invalid(at, f"duplicate locale {locale!r}")
        seen.add(locale)


def _check_category_name(name: str, at: Key) -> None:
    if not is_safe_component(name):
        raise _Invalid(
            at,
            f"invalid category name {name!r}: it is used in file names, so it must be 1-64 "
            f"letters, digits, '.', '_' or '-', starting with a letter or digit",
        )


def _check_categories(categories: Mapping[str, Sequence[str]], at: Key = ("categories",)) -> None:
    seen: dict[str, str] = {}
    for name, patterns in categories.items():
        _check_category_name(name, (*at, name))
        if not patterns:
            raise _Invalid((*at, name), "empty pattern list; give at least one path prefix or glob")
        for i, pattern in enumerate(patterns):
            try:
                compile_pattern(pattern)
            except ValueError as exc:
                raise _Invalid((*at, name, i), str(exc)) from None
        other = seen.get(name.lower())
        if other is not None:
            raise _Invalid(
                at,
                f"categories {other!r} and {name!r} differ only in case, so their reports would "
                f"collide on case-insensitive file systems",
            )
        seen[name.lower()] = name


def _check_out(template: str, at: Key = ("out",)) -> None:
    try:
        validate_template(template)
    except ConfigError as exc:
        raise _Invalid(at, str(exc)) from None


def _check_timezone(name: str, at: Key = ("timezone",)) -> None:
    try:
        _zone(name)
    except ValueError as exc:
        raise _Invalid(at, str(exc)) from None


def _check_repository(slug: str, at: Key = ("repository",)) -> None:
    from diff_insight.mirror import is_github_slug

    if not is_github_slug(slug):
        raise _Invalid(at, f"invalid repository {slug!r} (expected 'owner/name')")


def _check_catch_all(categories: Mapping[str, object], catch_all: CatchAll, at: Key = ()) -> None:
    """The catch-all name may equal a category's (files merge into it), not differ only in case."""
    name = catch_all.name
    if categories and name not in categories:
        for category in categories:
            if category.lower() == name.lower():
                raise _Conflict(
                    (*at, "catch_all", "name"),
                    f"{name!r} and category {category!r} differ only in case, so their reports "
                    f"would collide on case-insensitive file systems (use the same spelling to "
                    f"merge them)",
                )


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if name == "UTC":  # no tz database installed: UTC still works
            return UTC
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as 'UTC' or 'Europe/Berlin')"
        ) from None


_URL_RE = re.compile(r"https?://[^\s<>\"'`]+")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

# --------------------------------------------------------------------------- tables

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class _Table(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A TOML table: frozen, no unknown keys, fields given by name."""


class CatchAll(_Table, frozen=True, kw_only=True):
    """Where files that match no category go."""

    enabled: bool = True
    """Put files that match no category into the catch-all category. When false they are left out
    of every report (and counted as left out)."""
    name: str = "other"
    """The catch-all category's name. If it equals a configured category's name, unmatched files
    are merged into that category (which keeps its place in the order)."""

    def __post_init__(self) -> None:
        _check_category_name(self.name, ("name",))


class LLMModels(_Table, frozen=True, kw_only=True):
    """Model (or Azure deployment) names per role."""

    file: NonEmpty = "gpt-4o-mini"
    """Writes the per-file notes."""
    report: NonEmpty = "gpt-4o"
    """Writes each report's overview."""


class LLMConfig(_Table, frozen=True, kw_only=True):
    """The LLM engine's settings (secrets come from the environment, never from this file)."""

    provider: Literal["openai", "azure", "compatible"] | None = None
    """Force a provider; default: Azure when AZURE_OPENAI_ENDPOINT is set, else OpenAI when
    OPENAI_API_KEY is set, else an OpenAI-compatible server at OPENAI_BASE_URL."""
    models: LLMModels = msgspec.field(default_factory=LLMModels)
    """Model names per role."""
    api_key_file: Path | None = None
    """Read the API key from this file instead of the environment."""
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=256)] = 8
    """Model calls in flight at once."""
    requests_per_minute: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Optional request budget."""
    tokens_per_minute: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Optional token budget."""
    max_calls: Annotated[int, msgspec.Meta(ge=0)] | None = None
    """Cap on model calls per run."""
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    """Seconds per request."""
    budget_tokens: Annotated[int, msgspec.Meta(ge=500)] = 8000
    """Input tokens per call; longer patches are explained in parts."""
    cache: str = ".diff-insight/llm-cache.sqlite"
    """SQLite file of cached answers and the call log, relative to the output root."""


class SourceConfig(_Table, frozen=True, kw_only=True):
    """The repository that ``diff-insight run`` and ``backfill`` read."""

    path: str | None = None
    """Local git repository (relative paths are relative to the config file's folder), a git URL
    (``https://…``, ``ssh://…``, ``git@host:owner/name.git``, ``file://…``) or a GitHub
    ``owner/name``; URLs and ``owner/name`` are read through a local bare mirror."""
    branch: NonEmpty = "main"
    """The branch whose history is reported."""
    mirror_dir: NonEmpty = ".diff-insight/mirrors"
    """Where the mirrors of remote sources live (relative paths: under the output root)."""


class RepositoryConfig(_Table, frozen=True, kw_only=True):
    """One ``[[repositories]]`` entry: a source and branch, plus optional per-repository overrides
    of the top-level settings (``None``: the top-level value)."""

    source: NonEmpty
    """Local path, git URL or GitHub ``owner/name``."""
    branch: NonEmpty = "main"
    """The branch whose history is reported."""
    categories: dict[str, list[str]] | None = None
    locales: list[str] | None = None
    out: str | None = None
    engine: Engine | None = None
    timezone: str | None = None
    repository: str | None = None
    catch_all: CatchAll | None = None

    def __post_init__(self) -> None:
        if self.categories is not None:
            _check_categories(self.categories)
        if self.locales is not None:
            _check_locales(self.locales)
        if self.out is not None:
            _check_out(self.out)
        if self.timezone is not None:
            _check_timezone(self.timezone)
        if self.repository is not None:
            _check_repository(self.repository)


@dataclass(frozen=True, slots=True)
class Target:
    """One repository to run: its source, branch and effective configuration."""

    source: str | None
    """As configured (local path, URL or ``owner/name``); ``None``: not configured."""
    branch: str
    config: Config


class SiteConfig(_Table, frozen=True, kw_only=True):
    """The static website (``diff-insight site build|serve``), ``[site]`` in the config file."""

    reports_dir: NonEmpty | None = None
    """Where the reports are read from; default: the directory part of ``out`` before its first
    ``{locale}``, ``{category}`` or date code (``reports`` for the default ``out``)."""
    out_dir: NonEmpty = "site"
    """Where the website is written."""
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "Diff Insight Reports"
    """The site's title."""
    index_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 5
    """Days shown on each locale's index page."""
    base_url: str | None = None
    """Absolute http(s) URL the site is published at; makes the feeds' links absolute."""
    notice: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    """Replaces the notice on every report page; ``{repository}`` becomes the linked source
    repository."""
    license: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    """Name of the source repository's license (e.g. ``CC-BY-4.0``); default: a link to its LICENSE
    file."""
    license_url: str | None = None
    """Link for the license (http or https)."""

    def __post_init__(self) -> None:
        for key in ("base_url", "license_url"):
            value = getattr(self, key)
            if value is not None and _URL_RE.fullmatch(value) is None:
                raise _Invalid((key,), f"invalid URL {value!r} (expected an http:// or https:// URL)")
        if self.notice is not None:
            rest = self.notice.replace("{repository}", "")
            if "{" in rest or "}" in rest:
                raise _Invalid(("notice",), "only the placeholder {repository} is allowed in the notice")
        if _CONTROL_CHARS.search(self.title):
            raise _Invalid(("title",), "the title must be one line without control characters")

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (for hashing and templates)."""
        return msgspec.structs.asdict(self)


class Config(_Table, frozen=True, kw_only=True):
    """The validated configuration. Build it with :func:`load_config`, :meth:`from_dict` or
    :meth:`with_overrides`."""

    locales: list[str] = msgspec.field(default_factory=lambda: ["en_US"])
    """The locales to write reports in, one report per category and locale, in this order. Each is
    a language code with an optional territory (``en``, ``ja_JP``); no duplicates."""
    out: str = DEFAULT_OUT
    """Output path template, relative to the output root. ``{category}`` and ``{locale}`` are
    required placeholders, date codes (``%Y``, ``%m``, ``%d``, ``%j``, ...) use the report date;
    ``{{``, ``}}`` and ``%%`` are literals. See :mod:`diff_insight.paths`."""
    timezone: str = "UTC"
    """IANA time zone name (e.g. ``Asia/Tokyo``) in which report dates are computed."""
    engine: Engine = "facts"
    """Which engine writes the prose: ``facts`` (deterministic) or ``llm``."""
    repository: str | None = None
    """``owner/name`` of the GitHub repository used for permalinks, overriding the one detected
    from the source."""
    categories: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """Category name -> path prefixes or globs, in file order; the first category with a matching
    pattern wins. No categories: every file goes to one category named ``all``."""
    catch_all: CatchAll = msgspec.field(default_factory=CatchAll)
    """What happens to files that match no category."""
    llm: LLMConfig = msgspec.field(default_factory=LLMConfig)
    """The LLM engine's settings."""
    source: SourceConfig = msgspec.field(default_factory=SourceConfig)
    """What ``run`` and ``backfill`` read."""
    repositories: list[RepositoryConfig] = msgspec.field(default_factory=list)
    """Several repositories for ``run`` and ``backfill`` (``[[repositories]]`` tables), run in
    order; replaces ``source.path`` and ``source.branch``."""
    site: SiteConfig = msgspec.field(default_factory=SiteConfig)
    """The static website."""
    source_path: Path | None = None
    """The file this configuration was loaded from (not a TOML key)."""

    def __post_init__(self) -> None:
        _check_locales(self.locales)
        _check_out(self.out)
        _check_timezone(self.timezone)
        if self.repository is not None:
            _check_repository(self.repository)
        _check_categories(self.categories)
        _check_catch_all(self.categories, self.catch_all)
        for i, repo in enumerate(self.repositories):
            categories = self.categories if repo.categories is None else repo.categories
            _check_catch_all(categories, repo.catch_all or self.catch_all, ("repositories", i))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """Validate ``data`` (a decoded TOML document). Raises :class:`ConfigError`
        ``"<dotted.key>: <reason>"``."""
        return _validate(data)

    def replaced(self, **changes: Any) -> Config:
        """A copy with ``changes`` applied *without validation*: for values taken from a valid
        configuration (use :meth:`with_overrides` for new values)."""
        return msgspec.structs.replace(self, **changes)

    def _apply(self, repo: RepositoryConfig) -> Config:
        return self.replaced(repositories=[]).with_overrides(
            locales=repo.locales,
            out=repo.out,
            timezone=repo.timezone,
            engine=repo.engine,
            repository=repo.repository,
            categories=repo.categories,
            catch_all=repo.catch_all,
        )

    def targets(self) -> list[Target]:
        """The repositories ``run`` and ``backfill`` process, in order: one per
        ``[[repositories]]`` table (with its overrides applied and no ``repositories`` of its
        own), else one from ``[source]``."""
        if not self.repositories:
            return [Target(source=self.source.path, branch=self.source.branch, config=self)]
        return [Target(source=r.source, branch=r.branch, config=self._apply(r)) for r in self.repositories]

    @property
    def tzinfo(self) -> tzinfo:
        """The :attr:`timezone` as a ``tzinfo``."""
        return _zone(self.timezone)

    def with_overrides(
        self,
        *,
        locales: Sequence[str] | None = None,
        out: str | None = None,
        timezone: str | None = None,
        engine: str | None = None,
        repository: str | None = None,
        categories: Mapping[str, Sequence[str]] | None = None,
        catch_all: CatchAll | None = None,
    ) -> Config:
        """A validated copy with the given values replaced (``None`` = keep the current value).

        Raises :class:`ConfigError` ``"<key>: <reason>"`` for an invalid value.
        """
        data: dict[str, Any] = _plain(self)
        del data["source_path"]
        if locales is not None:
            data["locales"] = list(locales)
        if out is not None:
            data["out"] = out
        if timezone is not None:
            data["timezone"] = timezone
        if engine is not None:
            data["engine"] = engine
        if repository is not None:
            data["repository"] = repository
        if categories is not None:
            data["categories"] = {k: list(v) for k, v in categories.items()}
        if catch_all is not None:
            data["catch_all"] = _plain(catch_all)
        return _convert(data).replaced(source_path=self.source_path)


def _plain(table: _Table) -> dict[str, Any]:
    """``table`` as builtin values (paths as strings), as decoded from TOML."""
    data: dict[str, Any] = msgspec.to_builtins(table, enc_hook=_encode)
    return data


def _encode(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


def _decode(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise TypeError(f"Expected `str`, got `{_toml_type(value)}`")  # msgspec adds where


def _convert(data: Mapping[str, Any]) -> Config:
    """``data`` converted to a Config; a ConfigError names the first problem."""
    try:
        return msgspec.convert(data, Config, dec_hook=_decode)
    except msgspec.ValidationError as exc:
        raise ConfigError(_first_problem(data, exc)) from None


def _validate(data: Mapping[str, Any]) -> Config:
    config = _convert(data)
    source = data.get("source")
    if config.repositories and isinstance(source, Mapping) and ({"path", "branch"} & source.keys()):
        raise ConfigError("source: give either [source] path/branch or [[repositories]] tables, not both")
    return config


# --------------------------------------------------------------------------- errors


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _format_key(key: Key) -> str:
    """``categories."a b"[0]``: dotted keys (quoted as in TOML when not bare) and indexes."""
    import json

    parts: list[str] = []
    for item in key:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif _BARE_KEY.fullmatch(item):
            parts.append(("." if parts else "") + item)
        else:
            parts.append(("." if parts else "") + _visible(json.dumps(item, ensure_ascii=False)))
    return "".join(parts)


def _visible(text: str) -> str:
    """``text`` with every character that ends a line or is invisible control shown as ``\\uXXXX``
    (``str.splitlines`` splits at U+2028, U+0085 and others, not only at newlines)."""
    return "".join(c if c.isprintable() or c == " " else f"\\u{ord(c):04x}" for c in text)


def _short_repr(value: object) -> str:
    import datetime

    text = value.isoformat() if isinstance(value, datetime.date | datetime.time) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_AT = re.compile(r"(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?", re.DOTALL)
_PATH_PART = re.compile(r"\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<index>[0-9]+)\]|(?P<any>\[\.\.\.\])")
_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "array": "an array",
    "object": "a table",
    "datetime": "a date-time",
    "date": "a date",
    "time": "a time",
}
_EXPECTED = re.compile(r"Expected `(?P<types>[^`]*)`(?P<rest>.*)", re.DOTALL)
_GOT = re.compile(r", got `(?P<type>[^`]*)`$")


def _toml_type(value: object) -> str:
    """msgspec's name of a decoded TOML value's type."""
    import datetime

    for kind, name in (
        (bool, "bool"),
        (int, "int"),
        (float, "float"),
        (str, "str"),
        (list, "array"),
        (dict, "object"),
        (datetime.datetime, "datetime"),
        (datetime.date, "date"),
        (datetime.time, "time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _first_problem(data: Mapping[str, Any], exc: msgspec.ValidationError) -> str:
    """One line for the first problem in ``data`` in file order, ``"<dotted.key>: <reason>"``,
    and ``"(+N more)"`` when N other top-level keys have problems of their own.

    The keys are checked one by one, each alone with the defaults of the rest, so that the first
    key of the file with a problem is named (msgspec stops at its first problem, which may be a
    later key's). A conflict between keys (a catch-all name against the categories) is not a
    problem of one key alone: it is named when no key has a problem of its own."""
    problems: list[str] = []
    for name, value in data.items():
        try:
            msgspec.convert({name: value}, Config, dec_hook=_decode)
        except msgspec.ValidationError as alone:
            if not isinstance(alone.__cause__, _Conflict):
                problems.append(_describe(data, alone))
    if not problems:
        return _describe(data, exc)
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def _describe(data: Mapping[str, Any], exc: msgspec.ValidationError) -> str:
    m = _AT.fullmatch(str(exc))
    assert m is not None  # the pattern matches any text
    message = m.group("message")
    key, kind, value = _resolve(data, m.group("path") or "")
    cause = exc.__cause__
    if isinstance(cause, _Invalid):
        key, reason = (*key, *cause.key), cause.reason
    else:
        key, reason = _explain(message, key, kind, value)
    reason = " ".join(_visible(line) for line in reason.splitlines())
    where = _format_key(key)
    return f"{where}: {reason}" if where else reason


def _resolve(data: Mapping[str, Any], path: str) -> tuple[Key, Any, object]:
    """The key of msgspec's ``path`` (``.a[0][...]``), the msgspec type info and the value at it.
    A ``[...]`` (a table's value) becomes the first key of that table whose value is invalid."""
    from msgspec import inspect as mi

    key: list[str | int] = []
    kind: Any = mi.type_info(Config)
    node: Any = data
    for part in _PATH_PART.finditer(path):
        kind = _unwrap(kind)
        if part.group("name") is not None:
            name = part.group("name")
            kind = next((f.type for f in getattr(kind, "fields", ()) if f.name == name), None)
            node = node.get(name) if isinstance(node, Mapping) else None
            key.append(name)
        elif part.group("index") is not None:
            index = int(part.group("index"))
            kind = getattr(kind, "item_type", None)
            node = node[index] if isinstance(node, list) and index < len(node) else None
            key.append(index)
        else:
            kind = getattr(kind, "value_type", None)
            name = _first_invalid(node, kind)
            if name is None:
                break
            node = node[name]
            key.append(name)
    return tuple(key), _unwrap(kind), node


def _unwrap(kind: Any) -> Any:
    """The one member of an optional type other than None (TOML has no null)."""
    from msgspec import inspect as mi

    if isinstance(kind, mi.UnionType):
        members = [t for t in kind.types if not isinstance(t, mi.NoneType)]
        if len(members) == 1:
            return members[0]
    return kind


def _first_invalid(node: object, kind: Any) -> str | None:
    """The first key of table ``node`` whose value does not convert to ``kind``."""
    if not isinstance(node, Mapping) or kind is None:
        return None
    for name, value in node.items():
        try:
            msgspec.convert(value, _python_type(kind), dec_hook=_decode)
        except msgspec.ValidationError:
            return str(name)
    return None


def _python_type(kind: Any) -> Any:
    """The Python type of a msgspec type info that a table's values can have here."""
    from msgspec import inspect as mi

    if isinstance(kind, mi.ListType):
        return list[_python_type(kind.item_type)]  # type: ignore[misc]
    if isinstance(kind, mi.StrType):
        return str
    return Any


def _explain(message: str, key: Key, kind: Any, got: object) -> tuple[Key, str]:
    """Our wording of a msgspec message about the value ``got`` at ``key``."""
    from msgspec import inspect as mi

    if message.startswith("Object contains unknown field `"):
        name = message.split("`")[1]
        known = [f.name for f in getattr(kind, "fields", ()) if f.name != "source_path"]
        reason = "unknown key"
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        if close:
            reason += f" (did you mean {close[0]!r}?)"
        return (*key, name), reason
    if message.startswith("Object missing required field `"):
        return (*key, message.split("`")[1]), "required key is missing"
    if message.startswith("Invalid enum value") and isinstance(kind, mi.LiteralType):
        return key, f"expected {_one_of([repr(v) for v in kind.values])} (got {_short_repr(got)})"
    m = _EXPECTED.fullmatch(message)
    if m is not None:
        names = [_TYPE_NAMES.get(t.strip(), t.strip()) for t in m.group("types").split("|")]
        names = [n for n in names if n != "null"] or names
        rest = _GOT.sub("", m.group("rest"))
        return key, f"expected {_one_of(names)}{rest} (got {_short_repr(got)})"
    return key, f"{message[:1].lower()}{message[1:]} (got {_short_repr(got)})"


def _one_of(options: list[str]) -> str:
    return " or ".join(options) if len(options) < 3 else "one of " + ", ".join(options)


_TOML_POSITION = re.compile(
    r"^(?P<reason>.*?) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


def _toml_error(file: Path, text: str, exc: tomllib.TOMLDecodeError) -> ConfigError:
    message = str(exc)
    m = _TOML_POSITION.match(message)
    if m is None:
        return ConfigError(f"{file}: {message}")
    reason = m.group("reason")
    if m.group("line") is not None:
        return ConfigError(f"{file}: line {m.group('line')}: {reason} (column {m.group('col')})")
    last_line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    return ConfigError(f"{file}: line {last_line}: {reason} (at the end of the file)")


# --------------------------------------------------------------------------- loading


def load_config(path: Path | None, *, required: bool) -> Config:
    """Load and validate a configuration file.

    ``path=None`` looks for ``./diff-insight.toml`` in the current directory; when it is absent,
    the default :class:`Config` is returned unless ``required`` is true (then ConfigError). An
    explicitly given ``path`` that does not exist is always a ConfigError.

    Errors are one-line ConfigErrors: ``"<file>: line N: <reason>"`` for malformed TOML,
    ``"<file>: <dotted.key>: <reason>"`` for invalid values (the first one in the file, plus
    ``"(+N more)"`` when other top-level keys have problems too).
    """
    if path is None:
        candidate = Path(CONFIG_FILE_NAME)
        if not candidate.exists():
            if required:
                raise ConfigError(f"no {CONFIG_FILE_NAME} in {Path.cwd()}")
            return Config()
        path = candidate
    elif not path.exists():
        raise ConfigError(f"{path}: no such file")

    import tomllib

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not valid UTF-8") from None
    text = text.removeprefix("\ufeff")
    try:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _toml_error(path, text, exc) from None
        if "source_path" in data:
            raise ConfigError(f"{path}: source_path: unknown key")
        try:
            config = _validate(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a diff-insight configuration") from None
    return config.replaced(source_path=path)
