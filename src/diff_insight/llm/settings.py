"""Provider settings for the LLM engine, from the environment (secrets) and the config (the rest).

Secrets come only from the environment or from a file the config names; they are held as
``SecretStr`` so they never appear in reprs, logs or exceptions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from diff_insight.llm.errors import LLMConfigError

ProviderKind = Literal["openai", "azure", "compatible"]
Role = Literal["file", "report"]

DEFAULT_MODELS: dict[Role, str] = {"file": "gpt-4o-mini", "report": "gpt-4o"}
DEFAULT_AZURE_API_VERSION = "2024-10-21"


class LLMSettings(BaseModel):
    """Everything the client needs to reach a chat-completions endpoint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderKind
    base_url: str | None = None
    """OpenAI-compatible base URL (``…/v1``), or the Azure endpoint (``https://x.openai.azure.com``)."""
    api_key: SecretStr | None = None
    api_version: str | None = None
    """Azure only."""
    models: dict[Role, str] = Field(default_factory=lambda: dict(DEFAULT_MODELS))
    """Model names (OpenAI, compatible) or deployment names (Azure), per role."""
    timeout: float = 60.0
    """Seconds per request."""
    concurrency: int = Field(default=8, ge=1, le=256)
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    max_calls: int | None = Field(default=None, ge=0)
    """Cap on model calls per run (cache hits do not count)."""
    max_attempts: int = Field(default=6, ge=1, le=20)
    """Attempts per call, the first included, on 429, 5xx, timeouts and connection errors."""

    @property
    def name(self) -> str:
        """A stable, secret-free name of the provider for cache keys and logs."""
        return f"{self.provider}:{self.base_url or 'default'}"


def settings_from_env(
    env: Mapping[str, str] | None = None,
    *,
    provider: ProviderKind | None = None,
    models: Mapping[Role, str] | None = None,
    api_key_file: Path | None = None,
    **overrides: object,
) -> LLMSettings:
    """Build settings from environment variables.

    - Azure OpenAI when ``AZURE_OPENAI_ENDPOINT`` is set (with ``AZURE_OPENAI_API_KEY``,
      optional ``AZURE_OPENAI_API_VERSION``);
    - else OpenAI when ``OPENAI_API_KEY`` is set (optional ``OPENAI_BASE_URL``);
    - else an OpenAI-compatible server when ``OPENAI_BASE_URL`` is set without a key (Ollama, vLLM, …).
    ``provider`` forces one of them. Raises :class:`LLMConfigError` naming the variables to set.
    """
    env = os.environ if env is None else env
    key_from_file = None
    if api_key_file is not None:
        try:
            key_from_file = api_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise LLMConfigError(f"cannot read the API key file {api_key_file}: {exc.strerror}") from None
    chosen = provider
    if chosen is None:
        if env.get("AZURE_OPENAI_ENDPOINT"):
            chosen = "azure"
        elif env.get("OPENAI_API_KEY") or key_from_file:
            chosen = "openai"
        elif env.get("OPENAI_BASE_URL"):
            chosen = "compatible"
        else:
            raise LLMConfigError(
                "the llm engine needs a provider: set OPENAI_API_KEY (OpenAI), or AZURE_OPENAI_ENDPOINT and "
                "AZURE_OPENAI_API_KEY (Azure OpenAI), or OPENAI_BASE_URL (an OpenAI-compatible server)"
            )
    merged_models: dict[Role, str] = dict(DEFAULT_MODELS)
    if models:
        merged_models.update(models)
    if chosen == "azure":
        endpoint = env.get("AZURE_OPENAI_ENDPOINT")
        key = key_from_file or env.get("AZURE_OPENAI_API_KEY")
        if not endpoint or not key:
            raise LLMConfigError("Azure OpenAI needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY")
        values: dict[str, object] = dict(
            provider="azure",
            base_url=endpoint,
            api_key=SecretStr(key),
            api_version=env.get("AZURE_OPENAI_API_VERSION") or DEFAULT_AZURE_API_VERSION,
            models=merged_models,
        )
    elif chosen == "openai":
        key = key_from_file or env.get("OPENAI_API_KEY")
        if not key:
            raise LLMConfigError("OpenAI needs OPENAI_API_KEY (and optionally OPENAI_BASE_URL)")
        values = dict(
            provider="openai",
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=SecretStr(key),
            models=merged_models,
        )
    else:
        base = env.get("OPENAI_BASE_URL")
        if not base:
            raise LLMConfigError(
                "an OpenAI-compatible server needs OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1)"
            )
        key = key_from_file or env.get("OPENAI_API_KEY")
        values = dict(
            provider="compatible",
            base_url=base,
            api_key=SecretStr(key) if key else None,
            models=merged_models,
        )
    values.update(overrides)
    try:
        return LLMSettings.model_validate(values)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise LLMConfigError(f"invalid LLM settings: {first[1] if len(first) > 1 else first[0]}") from None
