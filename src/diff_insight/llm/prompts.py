"""Versioned prompt templates (files beside this module, ``prompts/*.j2``).

A template's version is its declared version plus a digest of its text, so any edit to a prompt
changes the cache key and shows in the report's metadata.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2

_VERSION = re.compile(r"\{#-?\s*prompt:\s*(\w+),\s*version\s*(\d+)\s*-?#\}")

STYLE = {
    "en_US": "clear, neutral technical English",
    "ja_JP": "natural Japanese in the polite です/ます style of Microsoft Learn's Japanese documentation",
    "zh_CN": "natural Simplified Chinese in the style of Chinese technical documentation",
}


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    version: str
    template: jinja2.Template

    def render(self, **values: Any) -> str:
        return self.template.render(**values).strip() + "\n"


_env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@cache
def prompt(name: str) -> Prompt:
    text = resources.files("diff_insight.llm").joinpath("prompts", f"{name}.j2").read_text(encoding="utf-8")
    m = _VERSION.search(text)
    if not m or m.group(1) != name:
        raise ValueError(f"prompt template {name}.j2 lacks its '{{#- prompt: {name}, version N -#}}' header")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return Prompt(name, f"{name}@{m.group(2)}+{digest}", _env.from_string(text))


def prompt_versions() -> str:
    """All prompt versions, for the report metadata and the cache key."""
    return ",".join(prompt(n).version for n in ("system", "files", "part", "overview"))
