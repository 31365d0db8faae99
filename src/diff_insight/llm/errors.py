"""Errors of the LLM engine. Messages never contain secrets."""

from __future__ import annotations

from diff_insight.errors import DiffInsightError, InputError


class LLMError(DiffInsightError):
    """A call to the model failed for good (after retries)."""


class LLMConfigError(InputError):
    """The LLM engine is selected but not configured (missing variables, bad values)."""


class LLMAuthError(LLMError):
    """The provider rejected the key, the deployment or the model name."""


class LLMRateLimited(LLMError):
    """Still rate-limited after every retry."""


class LLMCallCapExceeded(LLMError):
    """The per-run cap on model calls was reached."""


class LLMInvalidOutput(LLMError):
    """The model's answer did not validate, even after one re-ask."""
