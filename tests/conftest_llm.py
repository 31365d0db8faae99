"""Fixtures for the LLM engine: the loopback chat-completions server and fake time.

Loaded from ``tests/conftest.py`` through ``pytest_plugins``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.llm_server import FakeLLMServer, FakeTime

TEST_KEY = "sk-test-SECRET-1234"
"""A recognisable API key: tests assert it never leaks."""


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    """A running server that requires :data:`TEST_KEY` and accepts any model."""
    with FakeLLMServer(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture
def make_llm_server() -> Iterator[Callable[..., FakeLLMServer]]:
    """A factory of running servers (``make_llm_server(faults=[...], models={...})``); all stop at teardown.
    The key defaults to :data:`TEST_KEY`."""
    servers: list[FakeLLMServer] = []

    def make(**kwargs: Any) -> FakeLLMServer:
        kwargs.setdefault("api_key", TEST_KEY)
        server = FakeLLMServer(**kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    """A fake clock and sleep: ``LLMClient(..., clock=fake_time.clock, sleep=fake_time.sleep)``."""
    return FakeTime()
