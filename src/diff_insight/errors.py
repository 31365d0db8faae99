"""The exception hierarchy. The CLI turns each of these into one line on stderr."""

from __future__ import annotations


class DiffInsightError(Exception):
    """Base of every error the library raises on purpose.

    ``exit_code`` is what the CLI exits with: 2 for bad input or usage, 1 for a failure.
    """

    exit_code = 1


class InputError(DiffInsightError):
    """The user gave something unusable (bad path, unknown commit, malformed file)."""

    exit_code = 2


class ConfigError(InputError):
    """The configuration file is missing, malformed or invalid."""


class SourceError(InputError):
    """A source (git repository, compare JSON, patch file) cannot be read."""


class AnalysisError(DiffInsightError):
    """The analysis of a change failed in a way that is our fault."""


class RenderError(DiffInsightError):
    """A report could not be rendered or written."""


class SiteError(DiffInsightError):
    """The website could not be built or served (unreadable reports, unwritable output)."""


def first_line(exc: BaseException, *, empty: str | None = None) -> str:
    """The first line of ``str(exc)``; when that is empty, ``empty`` if given, else the exception's
    class name (for one-line error messages)."""
    text = str(exc)
    if text:
        return text.splitlines()[0]
    return type(exc).__name__ if empty is None else empty
