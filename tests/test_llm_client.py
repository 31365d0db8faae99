"""The LLM client against the real loopback server (tests/llm_server.py): no mocks, no network."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import pytest
from pydantic import BaseModel, SecretStr
from tests.conftest_llm import TEST_KEY
from tests.llm_server import FakeLLMServer, FakeTime, Fault, RecordedRequest, schema_instance

from diff_insight.llm.client import CallInfo, LLMClient, strict_json_schema
from diff_insight.llm.errors import (
    LLMAuthError,
    LLMCallCapExceeded,
    LLMConfigError,
    LLMError,
    LLMInvalidOutput,
    LLMRateLimited,
)
from diff_insight.llm.settings import LLMSettings
from diff_insight.llm.tokens import count_message_tokens, estimate_tokens, fallback_estimate_tokens

T = TypeVar("T")

MESSAGES = [
    {"role": "system", "content": "You summarise documentation changes as JSON."},
    {"role": "user", "content": "File articles/a.md: a new section about quotas was added."},
]


class Change(BaseModel):
    what: str
    kind: Literal["added", "removed", "changed"]


class FileSummary(BaseModel):
    title: str
    changes: list[Change]
    impact: Literal["low", "medium", "high"]
    note: str | None = None


VALID = json.dumps(schema_instance(strict_json_schema(FileSummary)))


def valid_responder(request: RecordedRequest) -> str:
    """A valid answer whatever the response format (for JSON mode, where the schema is in a message)."""
    return VALID


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def settings_for(server: FakeLLMServer, **overrides: Any) -> LLMSettings:
    values: dict[str, Any] = dict(
        provider="openai",
        base_url=server.base_url,
        api_key=SecretStr(TEST_KEY),
        models={"file": "gpt-4o-mini", "report": "gpt-4o"},
        timeout=5.0,
    )
    values.update(overrides)
    return LLMSettings(**values)


async def ask(client: LLMClient, **overrides: Any) -> tuple[FileSummary, CallInfo]:
    kwargs: dict[str, Any] = dict(
        role="file", messages=MESSAGES, schema=FileSummary, schema_name="file_summary", prompt_version="v1"
    )
    kwargs.update(overrides)
    return await client.complete_json(**kwargs)


def one_call(
    server: FakeLLMServer, fake_time: FakeTime, **settings: Any
) -> tuple[FileSummary, CallInfo, LLMClient]:
    async def scenario() -> tuple[FileSummary, CallInfo, LLMClient]:
        async with LLMClient(
            settings_for(server, **settings),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            rng=random.Random(1),
        ) as client:
            value, info = await ask(client)
            return value, info, client

    return run(scenario())


def failing_call(server: FakeLLMServer, fake_time: FakeTime, **settings: Any) -> tuple[LLMError, LLMClient]:
    async def scenario() -> tuple[LLMError, LLMClient]:
        async with LLMClient(
            settings_for(server, **settings),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            rng=random.Random(1),
        ) as client:
            try:
                await ask(client)
            except LLMError as exc:
                return exc, client
            raise AssertionError("the call did not fail")

    return run(scenario())


@dataclass
class Cached:
    content: str
    input_tokens: int | None
    output_tokens: int | None


class DictCache:
    """The cache interface over a dict, recording every row."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []

    @staticmethod
    def key(
        *,
        provider: str,
        model: str,
        prompt_version: str,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
    ) -> str:
        blob = json.dumps([provider, model, prompt_version, messages, params], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> Cached | None:
        row = self.rows.get(key)
        return None if row is None else Cached(row["content"], row["input_tokens"], row["output_tokens"])

    def put(self, key: str, **row: Any) -> None:
        self.rows[key] = row

    def log_call(self, **row: Any) -> None:
        self.calls.append(row)


# ------------------------------------------------------------------------------------- shapes and formats


def test_openai_shape_with_json_schema(llm_server: FakeLLMServer, fake_time: FakeTime) -> None:
    value, info, client = one_call(llm_server, fake_time)
    assert value == FileSummary.model_validate_json(VALID)
    (request,) = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert request.model == "gpt-4o-mini"
    assert request.body["temperature"] == 0.0
    fmt = request.response_format
    assert fmt is not None and fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "file_summary" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == strict_json_schema(FileSummary)
    assert request.messages == MESSAGES
    assert info == CallInfo(
        cached=False,
        attempts=1,
        input_tokens=request.usage["prompt_tokens"],  # type: ignore[index]
        output_tokens=request.usage["completion_tokens"],  # type: ignore[index]
        model="gpt-4o-mini",
    )
    assert client.usage.calls == 1 and client.usage.requests == 1 and client.usage.retries == 0
    assert fake_time.waits == []


def test_max_tokens_parameter_per_provider(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(api_key=None)

    async def scenario(provider: str) -> None:
        async with LLMClient(settings_for(server, provider=provider), sleep=fake_time.sleep) as client:
            await ask(client, max_tokens=123)

    run(scenario("openai"))
    run(scenario("compatible"))
    assert (
        server.requests[0].body["max_completion_tokens"] == 123
        and "max_tokens" not in server.requests[0].body
    )
    assert (
        server.requests[1].body["max_tokens"] == 123
        and "max_completion_tokens" not in server.requests[1].body
    )


def test_azure_shape(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(models={"my-gpt4o-mini"})
    value, info, _ = one_call(
        server,
        fake_time,
        provider="azure",
        base_url=server.origin,
        api_version="2024-10-21",
        models={"file": "my-gpt4o-mini", "report": "my-gpt4o"},
    )
    (request,) = server.requests
    assert request.path == "/openai/deployments/my-gpt4o-mini/chat/completions"
    assert request.query["api-version"] == "2024-10-21"
    assert request.headers["api-key"] == TEST_KEY
    assert "authorization" not in request.headers
    assert info.model == "my-gpt4o-mini" and value.impact == "low"


def test_compatible_server_without_a_key(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(api_key=None)
    value, info, _ = one_call(server, fake_time, provider="compatible", api_key=None)
    assert info.attempts == 1
    assert server.requests[0].headers["authorization"] == "Bearer not-needed"


def test_falls_back_to_json_object_for_the_rest_of_the_run(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(supports_json_schema=False, responder=valid_responder)

    async def scenario() -> LLMClient:
        async with LLMClient(settings_for(server), sleep=fake_time.sleep) as client:
            _, first = await ask(client)
            _, second = await ask(client, prompt_version="v2")
            assert first.attempts == 2 and second.attempts == 1
            return client

    client = run(scenario())
    assert client.response_mode == "json_object"
    assert [r.status for r in server.requests] == [400, 200, 200]
    kinds = [(r.response_format or {}).get("type") for r in server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    messages = server.requests[1].messages
    assert [m["role"] for m in messages] == ["system", "system", "user"]
    assert (
        "file_summary" in messages[1]["content"] and '"additionalProperties":false' in messages[1]["content"]
    )
    assert client.usage.retries == 0 and fake_time.waits == []


def test_fallback_with_concurrent_calls_in_flight(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(supports_json_schema=False, responder=valid_responder, latency=0.05)

    async def scenario() -> None:
        async with LLMClient(settings_for(server, concurrency=4), sleep=fake_time.sleep) as client:
            await asyncio.gather(*(ask(client, prompt_version=str(i)) for i in range(4)))

    run(scenario())
    assert server.max_in_flight == 4
    assert [r.status for r in server.requests].count(400) == 4  # all four were sent before the switch
    assert len(server.completions) == 4


def test_code_fences_around_the_json_are_tolerated(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(responder=lambda request: f"```json\n{VALID}\n```")
    value, info, client = one_call(server, fake_time)
    assert value.title == "x" and info.attempts == 1 and client.usage.reasks == 0


# ------------------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("fault", "expected_wait"),
    [
        (Fault("429", retry_after=7), 7.0),
        (Fault("429", retry_after_ms=1500), 1.5),
        (Fault("503", retry_after=2), 2.0),
        ("429", 1.0),  # the server's default Retry-After
        ("500", None),
        ("502", None),
        ("503", None),
        ("504", None),
        ("drop", None),
        ("slow", None),
    ],
)
def test_transient_fault_then_success(
    make_llm_server: Any, fake_time: FakeTime, fault: Any, expected_wait: float | None
) -> None:
    server = make_llm_server(faults=[fault], slow_seconds=1.5)
    value, info, client = one_call(server, fake_time, timeout=0.5)
    assert value.title == "x"
    assert info.attempts == 2 and len(server.requests) == 2
    assert client.usage.retries == 1 and client.usage.failures == 0
    assert len(fake_time.waits) == 1
    if expected_wait is not None:
        assert fake_time.waits == [expected_wait]
    else:
        assert 0.0 <= fake_time.waits[0] <= 1.0  # full jitter on the first backoff step


def test_retry_after_is_capped(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(faults=[Fault("429", retry_after=3600)])
    one_call(server, fake_time)
    assert fake_time.waits == [60.0]


def test_backoff_grows_exponentially_with_full_jitter(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(faults=["500"] * 5)
    _, info, _ = one_call(server, fake_time, max_attempts=6)
    assert info.attempts == 6
    bounds = [1, 2, 4, 8, 16]
    assert all(0 <= wait <= bound for wait, bound in zip(fake_time.waits, bounds, strict=True))
    assert len(set(fake_time.waits)) == 5  # jittered


def test_rate_limited_after_every_attempt(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(faults=[Fault("429", retry_after=3)] * 3)
    exc, client = failing_call(server, fake_time, max_attempts=3)
    assert isinstance(exc, LLMRateLimited)
    assert "3 attempts" in str(exc) and "\n" not in str(exc)
    assert len(server.requests) == 3 and fake_time.waits == [3.0, 3.0]
    assert client.usage.failures == 1 and client.usage.retries == 2


def test_server_errors_exhausted_is_llm_error_with_redacted_text(
    make_llm_server: Any, fake_time: FakeTime
) -> None:
    server = make_llm_server(faults=["500"] * 2, echo_key_in_errors=True)
    exc, _ = failing_call(server, fake_time, max_attempts=2)
    assert type(exc) is LLMError
    assert "HTTP 500" in str(exc) and "[redacted]" in str(exc) and TEST_KEY not in str(exc)


def test_other_client_errors_are_not_retried(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(faults=["400"])
    exc, _ = failing_call(server, fake_time)
    assert type(exc) is LLMError and "HTTP 400" in str(exc)
    assert len(server.requests) == 1 and fake_time.waits == []


@pytest.mark.parametrize("fault", ["malformed", "invalid", "refusal"])
def test_invalid_answer_is_asked_again_once(make_llm_server: Any, fake_time: FakeTime, fault: str) -> None:
    server = make_llm_server(faults=[fault])
    value, info, client = one_call(server, fake_time)
    assert value.title == "x"
    assert info.attempts == 2 and client.usage.reasks == 1 and client.usage.retries == 0
    first, second = server.requests
    assert second.messages[: len(MESSAGES)] == MESSAGES
    assistant, correction = second.messages[len(MESSAGES) :]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == (
        first.content if fault != "refusal" else "I'm sorry, but I can't help with that request."
    )
    assert correction["role"] == "user" and correction["content"].startswith("Your answer is not valid: ")
    assert info.input_tokens == first.usage["prompt_tokens"] + second.usage["prompt_tokens"]


@pytest.mark.parametrize(
    "faults", [["malformed", "invalid"], ["refusal", "refusal"], ["invalid", "malformed"]]
)
def test_invalid_twice_raises(make_llm_server: Any, fake_time: FakeTime, faults: list[str]) -> None:
    server = make_llm_server(faults=faults)
    exc, client = failing_call(server, fake_time)
    assert isinstance(exc, LLMInvalidOutput)
    assert "file_summary" in str(exc) and "\n" not in str(exc)
    assert len(server.requests) == 2 and client.usage.reasks == 1 and client.usage.failures == 1


def test_transient_faults_during_a_reask_are_retried(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(faults=["invalid", "503", "drop", "ok"])
    _, info, client = one_call(server, fake_time)
    assert info.attempts == 4 and client.usage.reasks == 1 and client.usage.retries == 2


# ------------------------------------------------------------------------------------------ auth, model


def test_wrong_key_is_an_auth_error_without_the_key(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(api_key="sk-the-right-one", echo_key_in_errors=True)
    exc, _ = failing_call(server, fake_time)
    assert isinstance(exc, LLMAuthError)
    message = str(exc)
    assert message.startswith("the provider rejected the API key") and "OPENAI_API_KEY" in message
    assert "\n" not in message and TEST_KEY not in message and "sk-the-right-one" not in message
    assert len(server.requests) == 1  # never retried


def test_unknown_model_names_it(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(models={"gpt-4o"})
    exc, _ = failing_call(server, fake_time)
    assert isinstance(exc, LLMAuthError) and "'gpt-4o-mini'" in str(exc)
    assert len(server.requests) == 1


def test_unknown_azure_deployment_names_it(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(models={"other"})
    exc, _ = failing_call(
        server, fake_time, provider="azure", base_url=server.origin, api_version="2024-10-21"
    )
    assert isinstance(exc, LLMAuthError) and "deployment named 'gpt-4o-mini'" in str(exc)


def test_missing_configuration_is_a_config_error() -> None:
    with pytest.raises(LLMConfigError, match="AZURE_OPENAI_ENDPOINT"):
        LLMClient(LLMSettings(provider="azure", api_key=SecretStr(TEST_KEY)))
    with pytest.raises(LLMConfigError, match="OPENAI_API_KEY"):
        LLMClient(LLMSettings(provider="openai"))


# -------------------------------------------------------------------------------------------- cache, cap


def test_cache_hit_costs_no_call_and_is_logged_once(llm_server: FakeLLMServer, fake_time: FakeTime) -> None:
    cache = DictCache()

    async def scenario() -> tuple[list[CallInfo], LLMClient]:
        async with LLMClient(settings_for(llm_server), cache, sleep=fake_time.sleep) as client:
            infos = [(await ask(client))[1], (await ask(client))[1], (await ask(client, temperature=0.5))[1]]
            return infos, client

    (miss, hit, other), client = run(scenario())
    assert not miss.cached and hit.cached and not other.cached
    assert hit.attempts == 0 and (hit.input_tokens, hit.output_tokens) == (
        miss.input_tokens,
        miss.output_tokens,
    )
    assert len(llm_server.requests) == 2
    assert client.usage.cache_hits == 1 and client.usage.calls == 2
    assert len(cache.rows) == 2 and [c["status"] for c in cache.calls] == ["ok", "ok"]
    row = next(iter(cache.rows.values()))
    assert row["content"] == VALID and row["model"] == "gpt-4o-mini" and row["prompt_version"] == "v1"
    assert cache.calls[0]["attempts"] == 1 and cache.calls[0]["error"] is None


def test_a_cached_answer_that_no_longer_validates_is_a_miss(
    llm_server: FakeLLMServer, fake_time: FakeTime
) -> None:
    cache = DictCache()

    async def scenario() -> CallInfo:
        async with LLMClient(settings_for(llm_server), cache, sleep=fake_time.sleep) as client:
            await ask(client)
            for row in cache.rows.values():
                row["content"] = '{"title": "old shape"}'
            return (await ask(client))[1]

    assert not run(scenario()).cached
    assert len(llm_server.requests) == 2


def test_call_cap(llm_server: FakeLLMServer, fake_time: FakeTime) -> None:
    cache = DictCache()

    async def scenario() -> LLMClient:
        async with LLMClient(settings_for(llm_server, max_calls=2), cache, sleep=fake_time.sleep) as client:
            await ask(client, prompt_version="a")
            await ask(client, prompt_version="b")
            with pytest.raises(LLMCallCapExceeded, match="cap of 2 model calls"):
                await ask(client, prompt_version="c")
            _, info = await ask(client, prompt_version="a")  # a cache hit is free
            assert info.cached
            return client

    client = run(scenario())
    assert len(llm_server.requests) == 2 and client.usage.calls == 2


def test_failed_calls_are_logged_as_errors(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(faults=["500", "500"], echo_key_in_errors=True)
    cache = DictCache()

    async def scenario() -> None:
        async with LLMClient(settings_for(server, max_attempts=2), cache, sleep=fake_time.sleep) as client:
            with pytest.raises(LLMError):
                await ask(client)

    run(scenario())
    assert cache.rows == {}
    (logged,) = cache.calls
    assert logged["status"] == "error" and logged["attempts"] == 2 and "HTTP 500" in logged["error"]
    assert TEST_KEY not in json.dumps(logged)


# --------------------------------------------------------------------------------------------- budgets


def test_concurrency_limit_is_observed_by_the_server(make_llm_server: Any) -> None:
    server = make_llm_server(latency=0.1)

    async def scenario() -> None:
        async with LLMClient(settings_for(server, concurrency=3)) as client:
            await asyncio.gather(*(ask(client, prompt_version=str(i)) for i in range(9)))

    run(scenario())
    assert len(server.completions) == 9
    assert server.max_in_flight == 3


def test_requests_per_minute_budget_waits(llm_server: FakeLLMServer, fake_time: FakeTime) -> None:
    async def scenario() -> list[float]:
        settings = settings_for(llm_server, requests_per_minute=2)
        async with LLMClient(settings, sleep=fake_time.sleep, clock=fake_time.clock) as client:
            stamps = []
            for i in range(3):
                await ask(client, prompt_version=str(i))
                stamps.append(fake_time.now)
            return stamps

    stamps = run(scenario())
    assert fake_time.waits == [pytest.approx(60.0)]
    assert stamps[1] - stamps[0] == 0 and stamps[2] - stamps[0] == pytest.approx(60.0)
    assert len(llm_server.requests) == 3


def test_tokens_per_minute_budget_uses_the_reported_usage(make_llm_server: Any, fake_time: FakeTime) -> None:
    big = json.dumps({**json.loads(VALID), "note": "y" * 4000})
    answers = iter([VALID, VALID, big, VALID])
    server = make_llm_server(responder=lambda request: next(answers))

    async def scenario() -> None:
        settings = settings_for(server, tokens_per_minute=1000)
        async with LLMClient(settings, sleep=fake_time.sleep, clock=fake_time.clock) as client:
            # estimates of ~700 each: the second fits only because the first was corrected to its usage
            await ask(client, prompt_version="1", max_tokens=650)
            await ask(client, prompt_version="2", max_tokens=650)
            assert fake_time.waits == []
            await ask(client, prompt_version="3", max_tokens=650)  # reports > 1000 tokens
            await ask(client, prompt_version="4", max_tokens=650)

    run(scenario())
    assert fake_time.waits == [pytest.approx(60.0)]


# ------------------------------------------------------------------------------------- usage and secrets


def test_usage_equals_what_the_server_reported(make_llm_server: Any, fake_time: FakeTime) -> None:
    server = make_llm_server(faults=["429", "ok", "malformed", "ok", "500", "refusal", "invalid"])

    async def scenario() -> tuple[LLMClient, list[CallInfo]]:
        async with LLMClient(settings_for(server), sleep=fake_time.sleep) as client:
            infos = [(await ask(client, prompt_version=str(i)))[1] for i in range(2)]
            with pytest.raises(LLMInvalidOutput):
                await ask(client, prompt_version="2")
            return client, infos

    client, infos = run(scenario())
    prompt, completion = server.usage_totals()
    usage = client.usage
    assert (usage.input_tokens, usage.output_tokens) == (prompt, completion)
    assert usage.requests == len(server.requests) == 7
    assert (usage.calls, usage.retries, usage.reasks, usage.failures) == (3, 2, 2, 1)
    assert sum(i.attempts for i in infos) == 4
    assert sum(i.input_tokens or 0 for i in infos) == sum(
        r.usage["prompt_tokens"] for r in server.requests[:4] if r.usage
    )


def test_the_key_never_leaks(
    make_llm_server: Any, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = make_llm_server(faults=["429", "ok", "invalid", "500", "500", "500"], echo_key_in_errors=True)
    cache = DictCache()
    errors: list[str] = []

    async def scenario() -> str:
        async with LLMClient(settings_for(server, max_attempts=3), cache, sleep=fake_time.sleep) as client:
            await ask(client, prompt_version="ok")
            try:
                await ask(client, prompt_version="fails")
            except LLMError as exc:
                errors.append(str(exc))
                errors.append(repr(exc))
            return repr(client)

    shown = run(scenario())
    wrong = make_llm_server(api_key="sk-another", echo_key_in_errors=True)
    exc, _ = failing_call(wrong, fake_time)
    errors += [str(exc), repr(exc)]
    assert len(errors) == 4
    assert any("llm file model=gpt-4o-mini" in r.getMessage() for r in caplog.records)
    texts = [shown, *errors, json.dumps(cache.rows), json.dumps(cache.calls)]
    texts += [record.getMessage() for record in caplog.records]
    assert all(TEST_KEY not in text for text in texts)
    server.assert_secret_absent(TEST_KEY)
    wrong.assert_secret_absent(TEST_KEY)


# --------------------------------------------------------------------------------------- schema, tokens


def test_strict_schema_requires_everything_and_forbids_extras() -> None:
    schema = strict_json_schema(FileSummary)

    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found += objects(value)
        elif isinstance(node, list):
            for value in node:
                found += objects(value)
        return found

    assert len(objects(schema)) == 2
    for node in objects(schema):
        assert node["additionalProperties"] is False
        assert node["required"] == list(node["properties"])
    assert "default" not in json.dumps(schema)


def test_token_estimates() -> None:
    texts = [
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog. " * 20,
        "a b c d e f g",
        "def f(x):\n    return {'k': [1, 2, 3]}\n",
        "1234567890" * 5,
        "料金とクォータに関する新しいセクション",
        "新增了关于配额的章节",
    ]
    for text in texts:
        assert estimate_tokens(text) > 0
        assert estimate_tokens(text + " more words") >= estimate_tokens(text)
    assert estimate_tokens("") == 0
    # references from the o200k/cl100k encodings, which the estimate must not undercount
    assert fallback_estimate_tokens("Hello, world!") >= 4
    assert fallback_estimate_tokens("a b c d e f g") >= 7
    assert fallback_estimate_tokens("1234567890" * 5) >= 17
    cjk = "料金とクォータに関する新しいセクション"
    assert fallback_estimate_tokens(cjk) >= len(cjk)
    assert fallback_estimate_tokens("x" * 300) == 100
    assert count_message_tokens(MESSAGES) > sum(estimate_tokens(m["content"]) for m in MESSAGES)
