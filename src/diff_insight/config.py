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

Unknown keys are rejected, and values are type-checked strictly (``enabled = "yes"`` is an error,
not ``True``). Every problem becomes a one-line :class:`~diff_insight.errors.ConfigError` naming
the file, the key and the reason.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from diff_insight.categories import compile_pattern
from diff_insight.errors import ConfigError
from diff_insight.mirror import is_github_slug
from diff_insight.paths import is_safe_component, validate_template

CONFIG_FILE_NAME = "diff-insight.toml"
"""The file :func:`load_config` looks for in the current directory when given no path."""

DEFAULT_OUT = "reports/{locale}/%Y%m/report-%Y%m%d-{category}.md"
"""The default output path template."""

LOCALE_RE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")

Engine = Literal["facts", "llm"]


# --------------------------------------------------------------------------- item validators


def _check_locale(value: str) -> str:
    if LOCALE_RE.fullmatch(value) is None:
        raise ValueError(
            f"invalid locale {value!r} (expected a language code with an optional territory, "
            f"like 'en' or 'en_US')"
        )
    return value


def _check_category_name(value: str) -> str:
    if not is_safe_component(value):
        raise ValueError(
            f"invalid category name {value!r}: it is used in file names, so it must be 1-64 "
            f"letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def _check_pattern(value: str) -> str:
    compile_pattern(value)  # raises ValueError with the reason
    return value


def _check_patterns(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("empty pattern list; give at least one path prefix or glob")
    return value


Locale = Annotated[str, AfterValidator(_check_locale)]
CategoryName = Annotated[str, AfterValidator(_check_category_name)]
Pattern = Annotated[str, AfterValidator(_check_pattern)]
Patterns = Annotated[list[Pattern], AfterValidator(_check_patterns)]


# --------------------------------------------------------------------------- models


class CatchAll(BaseModel):
    """Where files that match no category go."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    enabled: bool = Field(
        default=True,
        description="Put files that match no category into the catch-all category. When false "
        "they are left out of every report (and counted as left out).",
    )
    name: CategoryName = Field(
        default="other",
        description="The catch-all category's name. If it equals a configured category's name, "
        "unmatched files are merged into that category (which keeps its place in the order).",
    )


class LLMModels(BaseModel):
    """Model (or Azure deployment) names per role."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    file: str = Field(default="gpt-4o-mini", min_length=1, description="Writes the per-file notes.")
    report: str = Field(default="gpt-4o", min_length=1, description="Writes each report's overview.")


class LLMConfig(BaseModel):
    """The LLM engine's settings (secrets come from the environment, never from this file)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    provider: Literal["openai", "azure", "compatible"] | None = Field(
        default=None,
        description="Force a provider; default: Azure when AZURE_OPENAI_ENDPOINT is set, else OpenAI when "
        "OPENAI_API_KEY is set, else an OpenAI-compatible server at OPENAI_BASE_URL.",
    )
    models: LLMModels = Field(default_factory=LLMModels, description="Model names per role.")
    api_key_file: Path | None = Field(
        default=None, description="Read the API key from this file instead of the environment."
    )
    concurrency: int = Field(default=8, ge=1, le=256, description="Model calls in flight at once.")
    requests_per_minute: int | None = Field(default=None, ge=1, description="Optional request budget.")
    tokens_per_minute: int | None = Field(default=None, ge=1, description="Optional token budget.")
    max_calls: int | None = Field(default=None, ge=0, description="Cap on model calls per run.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds per request.")
    budget_tokens: int = Field(
        default=8000, ge=500, description="Input tokens per call; longer patches are explained in parts."
    )
    cache: str = Field(
        default=".diff-insight/llm-cache.sqlite",
        description="SQLite file of cached answers and the call log, relative to the output root.",
    )


class SourceConfig(BaseModel):
    """The repository that ``diff-insight run`` and ``backfill`` read."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    path: str | None = Field(
        default=None,
        description="Local git repository (relative paths are relative to the config file's folder), "
        "a git URL (`https://…`, `ssh://…`, `git@host:owner/name.git`, `file://…`) or a GitHub "
        "`owner/name`; URLs and `owner/name` are read through a local bare mirror.",
    )
    branch: str = Field(default="main", min_length=1, description="The branch whose history is reported.")
    mirror_dir: str = Field(
        default=".diff-insight/mirrors",
        min_length=1,
        description="Where the mirrors of remote sources live (relative paths: under the output root).",
    )


class RepositoryConfig(BaseModel):
    """One ``[[repositories]]`` entry: a source and branch, plus optional per-repository overrides
    of the top-level settings."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    source: str = Field(min_length=1, description="Local path, git URL or GitHub `owner/name`.")
    branch: str = Field(default="main", min_length=1, description="The branch whose history is reported.")
    categories: dict[CategoryName, Patterns] | None = Field(
        default=None, description="Overrides `categories`."
    )
    locales: list[Locale] | None = Field(default=None, description="Overrides `locales`.")
    out: str | None = Field(default=None, description="Overrides `out`.")
    engine: Engine | None = Field(default=None, description="Overrides `engine`.")
    timezone: str | None = Field(default=None, description="Overrides `timezone`.")
    repository: str | None = Field(default=None, description="Overrides `repository` (permalinks).")
    catch_all: CatchAll | None = Field(default=None, description="Overrides `catch_all`.")


@dataclass(frozen=True, slots=True)
class Target:
    """One repository to run: its source, branch and effective configuration."""

    source: str | None
    """As configured (local path, URL or ``owner/name``); ``None``: not configured."""
    branch: str
    config: Config


_URL_RE = re.compile(r"https?://[^\s<>\"'`]+")


class SiteConfig(BaseModel):
    """The static website (``diff-insight site build|serve``), ``[site]`` in the config file."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    reports_dir: str | None = Field(
        default=None,
        min_length=1,
        description="Where the reports are read from; default: the directory part of `out` before its "
        "first `{locale}`, `{category}` or date code (`reports` for the default `out`).",
    )
    out_dir: str = Field(default="site", min_length=1, description="Where the website is written.")
    title: str = Field(
        default="Diff Insight Reports", min_length=1, max_length=200, description="The site's title."
    )
    index_days: int = Field(default=5, ge=1, le=366, description="Days shown on each locale's index page.")
    base_url: str | None = Field(
        default=None,
        description="Absolute http(s) URL the site is published at; makes the feeds' links absolute.",
    )
    notice: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="Replaces the notice on every report page; `{repository}` becomes the linked source "
        "repository.",
    )
    license: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Name of the source repository's license (e.g. `CC-BY-4.0`); default: a link to "
        "its LICENSE file.",
    )
    license_url: str | None = Field(default=None, description="Link for the license (http or https).")

    @field_validator("base_url", "license_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and _URL_RE.fullmatch(value) is None:
            raise ValueError(f"invalid URL {value!r} (expected an http:// or https:// URL)")
        return value

    @field_validator("notice")
    @classmethod
    def _notice(cls, value: str | None) -> str | None:
        if value is None:
            return value
        rest = value.replace("{repository}", "")
        if "{" in rest or "}" in rest:
            raise ValueError("only the placeholder {repository} is allowed in the notice")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if _CONTROL_CHARS.search(value):
            raise ValueError("the title must be one line without control characters")
        return value


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class Config(BaseModel):
    """The validated configuration. Build it with :func:`load_config` or :meth:`with_overrides`."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    locales: list[Locale] = Field(
        default_factory=lambda: ["en_US"],
        description="The locales to write reports in, one report per category and locale, in this "
        "order. Each is a language code with an optional territory (`en`, `ja_JP`); no duplicates.",
    )
    out: str = Field(
        default=DEFAULT_OUT,
        description="Output path template, relative to the output root. `{category}` and "
        "`{locale}` are required placeholders, date codes (`%Y`, `%m`, `%d`, `%j`, ...) use the "
        "report date; `{{`, `}}` and `%%` are literals. See `diff_insight.paths`.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone name (e.g. `Asia/Tokyo`) in which report dates are computed.",
    )
    engine: Engine = Field(
        default="facts",
        description="Which engine writes the prose: `facts` (deterministic) or `llm`.",
    )
    repository: str | None = Field(
        default=None,
        description="`owner/name` of the GitHub repository used for permalinks, overriding the one "
        "detected from the source.",
    )
    categories: dict[CategoryName, Patterns] = Field(
        default_factory=dict,
        description="Category name -> path prefixes or globs, in file order; the first category "
        "with a matching pattern wins. No categories: every file goes to one category named `all`.",
    )
    catch_all: CatchAll = Field(
        default_factory=CatchAll,
        description="What happens to files that match no category.",
    )
    llm: LLMConfig = Field(default_factory=LLMConfig, description="The LLM engine's settings.")
    source: SourceConfig = Field(default_factory=SourceConfig, description="What `run` and `backfill` read.")
    repositories: list[RepositoryConfig] = Field(
        default_factory=list,
        description="Several repositories for `run` and `backfill` (`[[repositories]]` tables), "
        "run in order; replaces `source.path` and `source.branch`.",
    )
    site: SiteConfig = Field(default_factory=SiteConfig, description="The static website.")
    source_path: Path | None = Field(
        default=None,
        description="The file this configuration was loaded from (not a TOML key).",
    )

    @field_validator("locales")
    @classmethod
    def _locales(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one locale is required")
        seen: set[str] = set()
        for locale in value:
            if locale in seen:
                raise ValueError(f"duplicate locale {locale!r}")
            seen.add(locale)
        return value

    @field_validator("out")
    @classmethod
    def _out(cls, value: str) -> str:
        try:
            validate_template(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        _zone(value)
        return value

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not is_github_slug(value):
            raise ValueError(f"invalid repository {value!r} (expected 'owner/name')")
        return value

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        _check_case_collisions(list(value))
        return value

    @model_validator(mode="after")
    def _catch_all_name(self) -> Config:
        name = self.catch_all.name
        if self.categories and name not in self.categories:
            for category in self.categories:
                if category.lower() == name.lower():
                    raise ValueError(
                        f"catch_all.name: {name!r} and category {category!r} differ only in case, "
                        f"so their reports would collide on case-insensitive file systems "
                        f"(use the same spelling to merge them)"
                    )
        return self

    @model_validator(mode="after")
    def _repositories(self) -> Config:
        if self.repositories and ({"path", "branch"} & self.source.model_fields_set):
            raise ValueError("source: give either [source] path/branch or [[repositories]] tables, not both")
        for i, repo in enumerate(self.repositories):
            try:
                self._apply(repo)
            except ConfigError as exc:
                raise ValueError(f"repositories[{i}].{exc}") from None
        return self

    def _apply(self, repo: RepositoryConfig) -> Config:
        return self.model_copy(update={"repositories": []}).with_overrides(
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
        data: dict[str, Any] = {
            "locales": list(self.locales),
            "out": self.out,
            "timezone": self.timezone,
            "engine": self.engine,
            "repository": self.repository,
            "categories": {k: list(v) for k, v in self.categories.items()},
            "catch_all": self.catch_all,
            "llm": self.llm,
            "source": self.source,
            "site": self.site,
            "repositories": list(self.repositories),
        }
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
            data["catch_all"] = catch_all
        try:
            config = Config.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc)) from None
        return config.model_copy(update={"source_path": self.source_path})


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if name == "UTC":  # no tz database installed: UTC still works
            return UTC
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as 'UTC' or 'Europe/Berlin')"
        ) from None


def _check_case_collisions(names: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in names:
        other = seen.get(name.lower())
        if other is not None:
            raise ValueError(
                f"categories {other!r} and {name!r} differ only in case, so their reports would "
                f"collide on case-insensitive file systems"
            )
        seen[name.lower()] = name


# --------------------------------------------------------------------------- errors


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _format_loc(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if item == "[key]":  # pydantic marks errors in a dict key this way
            continue
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
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_error(error: ErrorDetails) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "value_error":
        ctx = error.get("ctx") or {}
        message = str(ctx.get("error", error["msg"]))
    elif kind == "extra_forbidden":
        message = "unknown key"
        known: list[str] = []
        if len(loc) == 1:
            known = [f for f in Config.model_fields if f != "source_path"]
        elif len(loc) == 2 and loc[0] in ("catch_all", "source", "site"):
            fields = {
                "catch_all": CatchAll.model_fields,
                "source": SourceConfig.model_fields,
                "site": SiteConfig.model_fields,
            }
            known = list(fields[str(loc[0])])
        elif len(loc) == 3 and loc[0] == "repositories":
            known = list(RepositoryConfig.model_fields)
        elif len(loc) == 4 and loc[0] == "repositories" and loc[2] == "catch_all":
            known = list(CatchAll.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    else:
        message = f"{error['msg']} (got {_short_repr(error['input'])})"
    where = _format_loc(loc)
    message = " ".join(_visible(line) for line in message.splitlines())
    return f"{where}: {message}" if where else message


def format_validation_error(exc: ValidationError) -> str:
    """One line for a pydantic error: the first problem, ``"<dotted.key>: <reason>"``, and
    ``"(+N more)"`` when there are several."""
    errors = exc.errors()
    if not errors:  # pragma: no cover - pydantic never raises without errors
        return str(exc).splitlines()[0]
    line = _format_error(errors[0])
    if len(errors) > 1:
        line += f" (+{len(errors) - 1} more)"
    return line


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
    ``"<file>: <dotted.key>: <reason>"`` for invalid values (the first one, plus ``"(+N more)"``).
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
            config = Config.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{path}: {format_validation_error(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a diff-insight configuration") from None
    return config.model_copy(update={"source_path": path})
