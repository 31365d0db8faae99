"""Token estimates for budgets (tokens per minute) and prompt sizing.

``tiktoken`` is used when it is importable and its encoding loads without the network (it downloads
the encoding at first use, which fails or hangs offline; the load runs in a thread with a deadline and
any failure falls back). It is not a dependency. The fallback is a conservative estimate that rarely
undercounts: every CJK (or other ideographic / syllabic) character counts as one token, and the rest
as the larger of a third of its UTF-8 bytes and its number of word pieces and symbols.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

ENCODING_NAME = "o200k_base"
"""The encoding of the gpt-4o and later families."""
_LOAD_DEADLINE = 3.0

MESSAGE_OVERHEAD = 4
"""Tokens a chat message costs beyond its content (role, separators)."""
REPLY_PRIMING = 3
"""Tokens every reply is primed with."""

# Ranges counted one token per character: CJK ideographs and punctuation, kana, hangul, fullwidth forms.
_WIDE_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Hangul compatibility Jamo, Katakana extensions
    (0x3200, 0x4DBF),  # enclosed CJK, compatibility, extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def _is_wide(code: int) -> bool:
    if code < 0x1100:
        return False
    return any(low <= code <= high for low, high in _WIDE_RANGES)


def fallback_estimate_tokens(text: str) -> int:
    """The tiktoken-free estimate: wide characters one each; for the rest, the larger of
    ``ceil(utf8 bytes / 3)`` and the number of alphanumeric runs plus symbols."""
    wide = 0
    other_bytes = 0
    pieces = 0
    in_word = False
    for char in text:
        code = ord(char)
        if _is_wide(code):
            wide += 1
            in_word = False
            continue
        other_bytes += 1 if code < 0x80 else len(char.encode("utf-8"))
        if char.isalnum():
            if not in_word:
                pieces += 1
                in_word = True
        else:
            in_word = False
            if not char.isspace():
                pieces += 1
    return wide + max(math.ceil(other_bytes / 3), pieces)


def _load_tiktoken() -> Callable[[str], int] | None:
    """``encode`` of the tiktoken encoding when it loads within the deadline, else None."""
    result: list[Callable[[str], int]] = []

    def load() -> None:
        try:
            import tiktoken  # type: ignore[import-not-found,unused-ignore]

            encoding = tiktoken.get_encoding(ENCODING_NAME)
            encoding.encode("probe")

            def count(text: str) -> int:
                return len(encoding.encode(text, disallowed_special=()))

            result.append(count)
        except BaseException:  # noqa: BLE001 - any failure (missing, offline, broken) means fallback
            return

    thread = threading.Thread(target=load, name="tiktoken-load", daemon=True)
    thread.start()
    thread.join(_LOAD_DEADLINE)
    return result[0] if result else None


@functools.cache
def _counter() -> Callable[[str], int]:
    return _load_tiktoken() or fallback_estimate_tokens


def uses_tiktoken() -> bool:
    """Whether the estimates come from tiktoken."""
    return _counter() is not fallback_estimate_tokens


def estimate_tokens(text: str) -> int:
    """Tokens of ``text``: exact with tiktoken, else a conservative estimate. 0 for an empty text."""
    if not text:
        return 0
    try:
        return _counter()(text)
    except Exception:  # noqa: BLE001 - an encoder failure must not break a run
        return fallback_estimate_tokens(text)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable) and not isinstance(content, (bytes, Mapping)):
        texts = []
        for part in content:
            if isinstance(part, Mapping):
                texts.append(str(part.get("text", "")))
            else:
                texts.append(str(part))
        return "\n".join(texts)
    return str(content)


def count_message_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """Prompt tokens of chat messages: contents, roles and names, plus the per-message overhead."""
    total = REPLY_PRIMING
    for message in messages:
        total += MESSAGE_OVERHEAD
        total += estimate_tokens(_content_text(message.get("content")))
        total += estimate_tokens(str(message.get("role", "")))
        name = message.get("name")
        if name:
            total += estimate_tokens(str(name)) + 1
    return total
