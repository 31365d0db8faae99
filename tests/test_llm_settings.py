"""Provider settings from the environment: which provider, which error, no secret in reprs."""

from __future__ import annotations

from pathlib import Path

import pytest

from diff_insight.llm.errors import LLMConfigError
from diff_insight.llm.settings import DEFAULT_AZURE_API_VERSION, settings_from_env

SECRET = "sk-test-SECRET-1234"


def test_no_provider_names_the_variables() -> None:
    with pytest.raises(LLMConfigError) as exc:
        settings_from_env({})
    msg = str(exc.value)
    assert "OPENAI_API_KEY" in msg and "AZURE_OPENAI_ENDPOINT" in msg and "OPENAI_BASE_URL" in msg
    assert "\n" not in msg


def test_openai() -> None:
    s = settings_from_env({"OPENAI_API_KEY": SECRET})
    assert s.provider == "openai" and s.base_url is None
    assert s.api_key is not None and s.api_key.get_secret_value() == SECRET
    assert s.models == {"file": "gpt-4o-mini", "report": "gpt-4o"}
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in s.name


def test_azure_wins_and_needs_key() -> None:
    env = {
        "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com",
        "AZURE_OPENAI_API_KEY": SECRET,
        "OPENAI_API_KEY": "other",
    }
    s = settings_from_env(env, models={"file": "small-deploy"})
    assert s.provider == "azure" and s.api_version == DEFAULT_AZURE_API_VERSION
    assert s.models["file"] == "small-deploy" and s.models["report"] == "gpt-4o"
    with pytest.raises(LLMConfigError, match="AZURE_OPENAI_API_KEY"):
        settings_from_env({"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"})


def test_compatible_server_without_key() -> None:
    s = settings_from_env({"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"})
    assert s.provider == "compatible" and s.api_key is None


def test_key_file_and_bad_values(tmp_path: Path) -> None:
    f = tmp_path / "key"
    f.write_text(SECRET + "\n", encoding="utf-8")
    s = settings_from_env({}, api_key_file=f)
    assert s.provider == "openai" and s.api_key is not None and s.api_key.get_secret_value() == SECRET
    with pytest.raises(LLMConfigError, match="cannot read"):
        settings_from_env({}, api_key_file=tmp_path / "missing")
    with pytest.raises(LLMConfigError) as exc:
        settings_from_env({"OPENAI_API_KEY": SECRET}, concurrency=0)
    assert SECRET not in str(exc.value)
