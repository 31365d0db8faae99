"""Properties of the configuration loader: any file content gives either a Config or a one-line
ConfigError naming the file, never another exception."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from tests.strategies import config_data, hostile_text, prop, toml_document

from diff_insight.config import Config, load_config
from diff_insight.errors import ConfigError


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="prop-config-") as d:
        yield Path(d)


def load(workdir: Path, raw: bytes) -> Config | ConfigError:
    """Load ``raw`` as a config file; a ConfigError must be one line that names the file."""
    f = workdir / "diff-insight.toml"
    f.write_bytes(raw)
    try:
        config = load_config(f, required=True)
    except ConfigError as exc:
        msg = str(exc)
        assert len(msg.splitlines()) == 1, repr(msg)
        assert msg.startswith(f"{f}: "), msg
        return exc
    assert config.source_path == f
    # a loaded configuration is usable: its derived values do not raise either
    config.targets()
    _ = config.tzinfo
    return config


@prop(4)
@given(config_data())
@example({"locales": ["en_US", "ja_JP"], "categories": {"search": ["articles/search"]}})
@example({"repositories": [{"source": "a/b", "locales": []}]})
@example({"llm": {"concurrency": 2**70}})
@example({"timezone": "\x00"})
@example({"categories": {"a": ["[z-a]"]}})
def test_structured_documents(workdir: Path, data: dict[str, Any]) -> None:
    load(workdir, toml_document(data).encode("utf-8"))


_TOML_PIECES = st.sampled_from(
    [
        "locales = ",
        "[categories]\n",
        "[[repositories]]\n",
        "[catch_all]\n",
        "[llm.models]\n",
        "[site]\n",
        "a = ",
        '"',
        "'",
        '"""',
        "[",
        "]",
        "{",
        "}",
        ",",
        "=",
        "\n",
        "\r\n",
        "#",
        "1979-05-27T07:32:00Z",
        "1e400",
        "0x_1",
        "inf",
        "nan",
        "true",
        "\\u0000",
        "\\",
        "\ufeff",
        "\x00",
        "\u2028",
        "é",
    ]
)


@prop(3)
@given(st.lists(st.one_of(_TOML_PIECES, hostile_text(2)), max_size=30).map("".join))
@example("a = " + "[" * 3000 + "]" * 3000)
@example("a = " + "{b = " * 1500 + "1" + "}" * 1500)
@example('"\u2028" = 1')
@example('categories."a\x85" = ["x"]')
def test_any_text(workdir: Path, text: str) -> None:
    load(workdir, text.encode("utf-8"))


@prop(2)
@given(st.binary(max_size=200))
@example(b"\xff\xfe")
@example(b"locales = ['en_US']\n\xc3")
def test_any_bytes(workdir: Path, raw: bytes) -> None:
    load(workdir, raw)


def test_deep_nesting_is_a_config_error(workdir: Path) -> None:
    # tomllib parses nested arrays and inline tables recursively: deep nesting must still give a
    # ConfigError, not a RecursionError
    for text in ("a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 3000 + "1" + "}" * 3000):
        assert isinstance(load(workdir, text.encode()), ConfigError)


def test_key_with_a_line_separator_gives_one_line(workdir: Path) -> None:
    # U+2028, U+2029 and NEL (U+0085) are line breaks for str.splitlines and many log viewers
    for key in ("\u2028", "\u2029", "\x85"):
        result = load(workdir, f'"{key}x" = 1\n'.encode())
        assert isinstance(result, ConfigError)
