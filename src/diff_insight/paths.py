"""Output paths: the ``out`` template, safe path components and atomic writes.

An output template is a relative POSIX path made of literal text, ``strftime`` codes and two
placeholders::

    reports/{locale}/%Y%m/report-%Y%m%d-{category}.md

* ``{category}`` and ``{locale}`` are replaced by the report's category and locale. Both are
  required, so that every (category x locale) report gets its own file. ``{{`` and ``}}`` are
  literal braces; any other ``{name}`` (or a lone brace) is an error.
* ``%`` codes are replaced using the report day. Only codes that depend on the date and never
  produce a ``/`` are accepted (see :data:`STRFTIME_CODES`); ``%%`` is a literal ``%``.
* The template must be relative, must not contain ``..`` components, backslashes or NUL, and must
  end in a file name (not ``/``).

Everything is substituted in one pass over the template, so a value can never be re-interpreted
as a code or a placeholder.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from diff_insight.errors import ConfigError, RenderError

SAFE_COMPONENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A name that is safe as one path component on every common file system: starts with a letter
or digit (so never ``.``, ``..`` or a hidden file), then up to 63 letters, digits, ``.``, ``_``
or ``-`` (so no ``/``, ``\\``, NUL, spaces or other surprises)."""

PLACEHOLDERS: tuple[str, ...] = ("category", "locale")
"""The ``{name}`` placeholders an output template may (and must) contain."""

STRFTIME_CODES = frozenset("aAbBdGjmuUVwWyY")
"""The ``%`` codes an output template may contain (plus ``%%``): date-only codes that never
produce a ``/``. ``%a``/``%A``/``%b``/``%B`` are names in the process locale."""


def is_safe_component(name: str) -> bool:
    """Whether ``name`` matches :data:`SAFE_COMPONENT_RE` in full."""
    return SAFE_COMPONENT_RE.fullmatch(name) is not None


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


# --------------------------------------------------------------------------- template parsing


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["text", "code", "field"]
    value: str


class _TemplateProblem(Exception):
    """Why a template is unusable (internal; turned into ConfigError or RenderError)."""


_TOKEN_RE = re.compile(r"%(.?)|\{\{|\}\}|\{([^{}]*)\}|[{}]", re.DOTALL)


def _parse(template: str) -> list[_Token]:
    """Split a template into literal text, strftime codes and placeholders; check its shape."""
    if not template:
        raise _TemplateProblem("empty template")
    if "\0" in template:
        raise _TemplateProblem("contains a NUL character")
    if "\\" in template:
        raise _TemplateProblem("contains a backslash; use / to separate directories")
    if template.startswith("/") or re.match(r"[A-Za-z]:", template):
        raise _TemplateProblem("must be a relative path, not an absolute one")
    if template.endswith("/"):
        raise _TemplateProblem("must end in a file name, not in '/'")
    if ".." in template.split("/"):
        raise _TemplateProblem("must not contain '..' components")

    tokens: list[_Token] = []
    pos = 0
    for m in _TOKEN_RE.finditer(template):
        if m.start() > pos:
            tokens.append(_Token("text", template[pos : m.start()]))
        pos = m.end()
        whole = m.group(0)
        if whole.startswith("%"):
            code = m.group(1)
            if code == "%":
                tokens.append(_Token("text", "%"))
            elif code == "":
                raise _TemplateProblem("ends with a lone '%' (write %% for a literal percent sign)")
            elif code in STRFTIME_CODES:
                tokens.append(_Token("code", code))
            else:
                allowed = " ".join("%" + c for c in sorted(STRFTIME_CODES, key=str.lower))
                raise _TemplateProblem(f"unsupported date code %{code} (use one of {allowed}, or %%)")
        elif whole == "{{":
            tokens.append(_Token("text", "{"))
        elif whole == "}}":
            tokens.append(_Token("text", "}"))
        elif whole in ("{", "}"):
            raise _TemplateProblem(f"lone '{whole}' (write {whole}{whole} for a literal brace)")
        else:
            name = m.group(2)
            if name not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                raise _TemplateProblem(f"unknown placeholder {{{name}}} (known: {known})")
            tokens.append(_Token("field", name))
    if pos < len(template):
        tokens.append(_Token("text", template[pos:]))

    present = {t.value for t in tokens if t.kind == "field"}
    missing = [p for p in PLACEHOLDERS if p not in present]
    if missing:
        names = " and ".join("{" + p + "}" for p in missing)
        raise _TemplateProblem(f"must contain {names}, so that every report gets its own file")
    return tokens


def validate_template(template: str) -> None:
    """Check an output template; raise :class:`ConfigError` (one line) naming the problem."""
    try:
        _parse(template)
    except _TemplateProblem as exc:
        raise ConfigError(f"output template {_one_line(repr(template))}: {exc}") from None


def literal_prefix(template: str) -> str:
    """The directory part of a template's leading literal text (before its first ``%`` code or
    placeholder, with ``%%``, ``{{`` and ``}}`` unescaped), without leading or trailing ``/``:
    ``reports/{locale}/%Y%m/…`` → ``reports``, ``out%%x/{locale}/{category}.md`` → ``out%x``;
    ``""`` when there is none. Raises :class:`ConfigError` for an invalid template."""
    try:
        tokens = _parse(template)
    except _TemplateProblem as exc:
        raise ConfigError(f"output template {_one_line(repr(template))}: {exc}") from None
    head: list[str] = []
    for token in tokens:
        if token.kind != "text":
            break
        head.append(token.value)
    text = "".join(head)
    return text.rsplit("/", 1)[0].strip("/") if "/" in text else ""


def render_out_path(template: str, *, category: str, locale: str, day: datetime.date, root: Path) -> Path:
    """The output file for one report: ``root`` joined with the substituted template.

    Raises :class:`RenderError` (one line) for a bad template, an unsafe category or locale, or a
    result that is absolute, contains ``..`` or NUL, or resolves outside ``root`` once the
    symlinks of its existing parents are resolved.
    """
    try:
        tokens = _parse(template)
    except _TemplateProblem as exc:
        raise RenderError(f"output template {_one_line(repr(template))}: {exc}") from None
    values = {"category": category, "locale": locale}
    for key, value in values.items():
        if not is_safe_component(value):
            raise RenderError(
                f"output path: {key} {_one_line(repr(value))} is not a safe file-name component "
                f"(letters, digits, '.', '_', '-'; starting with a letter or digit; at most 64)"
            )
    parts: list[str] = []
    for token in tokens:
        if token.kind == "text":
            parts.append(token.value)
        elif token.kind == "code":
            parts.append(day.strftime("%" + token.value))
        else:
            parts.append(values[token.value])
    relative = "".join(parts)

    shown = _one_line(repr(relative))
    if "\0" in relative:
        raise RenderError(f"output path {shown} contains a NUL character")
    if relative.startswith("/") or Path(relative).is_absolute():
        raise RenderError(f"output path {shown} is absolute")
    if ".." in relative.split("/"):
        raise RenderError(f"output path {shown} contains a '..' component")

    target = root / relative
    try:
        real_root = root.resolve()
        real_target = target.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop on older Pythons
        raise RenderError(f"output path {shown}: cannot resolve: {exc}") from None
    if real_target == real_root or not real_target.is_relative_to(real_root):
        raise RenderError(f"output path {shown} resolves to {real_target}, outside {real_root}")
    return target


# --------------------------------------------------------------------------- atomic writes


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Best effort: make the rename durable. Not every platform can open a directory."""
    with contextlib.suppress(OSError):
        _fsync(directory)


def fsync_files(paths: Sequence[Path]) -> None:
    """Flush ``paths`` to disk, several at once (each ``fsync`` waits for the disk, not for this
    process). Raises the first :class:`OSError`."""
    if len(paths) <= 1:
        for p in paths:
            _fsync(p)
        return
    with ThreadPoolExecutor(min(len(paths), 8), thread_name_prefix="fsync") as pool:
        for _ in pool.map(_fsync, paths):
            pass


def write_temp(
    directory: Path, text: str, *, target: Path, name: Callable[[str], str], sync: bool = True
) -> Path:
    """A new file in ``directory`` holding ``text`` (UTF-8, ``\n`` newlines), flushed and fsynced
    (unless ``sync`` is false: then the caller fsyncs it, see :func:`fsync_files`), to be renamed
    onto ``target`` by the caller. Its name is ``name(random_hex)``; it gets the umask's mode for
    a new ``target`` and keeps the mode of an existing one. Removed again when anything fails."""
    for _ in range(100):
        temp = directory / name(os.urandom(4).hex())
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(f"no free temporary file name in {directory}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            with contextlib.suppress(FileNotFoundError):  # a new target: the umask's mode
                os.fchmod(handle.fileno(), stat.S_IMODE(os.stat(target).st_mode))
            if sync:
                os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def atomic_write_text(path: Path, text: str, *, temp_dir: Path | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` newlines) atomically.

    Writes a temp file in the same directory (or in ``temp_dir``, which must be on the same file
    system; both are created when missing), flushes and fsyncs it, renames it
    onto ``path`` with :func:`os.replace` and fsyncs the directory (best effort). An existing file
    keeps its permission bits. On any error the temp file is removed, the previous file (if any)
    is left untouched, and :class:`RenderError` is raised with the path and the reason.
    """
    temp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if temp_dir is not None:
            temp_dir.mkdir(parents=True, exist_ok=True)
        directory = temp_dir if temp_dir is not None else path.parent
        temp = write_temp(directory, text, target=path, name=lambda token: f".{path.name}.{token}.tmp")
        os.replace(temp, path)
        temp = None
    except (OSError, UnicodeError) as exc:
        if isinstance(exc, UnicodeError):
            reason = f"text cannot be encoded as UTF-8: {exc}"
        else:
            reason = exc.strerror or str(exc)
        raise RenderError(f"cannot write {_one_line(str(path))}: {_one_line(reason)}") from exc
    finally:
        # Also on KeyboardInterrupt and the like: never leave a temp file behind.
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
    fsync_directory(path.parent)
