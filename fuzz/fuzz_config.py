"""Fuzz the configuration loader: any file content gives a Config or a one-line ConfigError naming
the file."""

from __future__ import annotations

import _common
import atheris

with atheris.instrument_imports(include=["diff_insight", "tomllib"]):
    import tomllib  # noqa: F401  (guides the fuzzer through TOML syntax)

    import diff_insight.config  # noqa: F401

from tests.test_prop_config import load  # noqa: E402


def test_one_input(data: bytes) -> None:
    load(_common.WORKDIR, data)


# load returns the ConfigError of bad input after checking it is one line naming the file, and a
# loaded Config's derived values must not raise (tests/test_prop_config.py): nothing else is allowed
if __name__ == "__main__":
    _common.main(test_one_input, allowed=())
