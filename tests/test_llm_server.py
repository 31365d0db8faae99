"""The loopback chat-completions server, spoken to with plain httpx."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel, ValidationError
from tests.conftest_llm import TEST_KEY
from tests.llm_server import REFUSAL_TEXT, FakeLLMServer, Fault, schema_instance

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
HTTP = httpx.Client(timeout=5.0)  # one client: building one costs ~40 ms (TLS context)


class Item(BaseModel):
    name: str
    kind: Literal["added", "removed"]


class Summary(BaseModel):
    title: str
    items: list[Item]
    score: int
    ratio: float
    ok: bool
    note: str | None = None


def schema_format(model: type[BaseModel] = Summary) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "summary", "schema": model.model_json_schema()}}


def body(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Reply in JSON."}], **extra}


def post(
    server: FakeLLMServer, payload: Any, headers: dict[str, str] | None = None, **kw: Any
) -> httpx.Response:
    return HTTP.post(
        f"{server.base_url}/chat/completions",
        json=payload,
        headers=AUTH if headers is None else headers,
        **kw,
    )


def test_openai_shape_answers_a_real_chat_completion(llm_server: FakeLLMServer) -> None:
    response = post(llm_server, body(response_format=schema_format()))
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["id"].startswith("chatcmpl-")
    assert isinstance(data["created"], int)
    assert data["model"] == "gpt-4o-mini"
    choice = data["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["refusal"] is None
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    # the default responder builds a valid instance of the schema
    summary = Summary.model_validate_json(choice["message"]["content"])
    assert summary.items[0].kind == "added" and summary.title == "x"
    recorded = llm_server.requests[0]
    assert recorded.shape == "openai" and recorded.model == "gpt-4o-mini" and recorded.status == 200
    assert recorded.schema_name == "summary"
    assert recorded.usage == usage and recorded.content == choice["message"]["content"]


def test_default_responder_without_schema_says_ok(llm_server: FakeLLMServer) -> None:
    response = post(llm_server, body(response_format={"type": "json_object"}))
    assert json.loads(response.json()["choices"][0]["message"]["content"]) == {"ok": True}


def test_json_object_needs_the_word_json_like_openai(llm_server: FakeLLMServer) -> None:
    payload = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_object"},
    }
    response = post(llm_server, payload)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages"


def test_azure_shape_uses_the_api_key_header_and_the_deployment(make_llm_server: Any) -> None:
    server = make_llm_server(models={"my-deployment"})
    url = f"{server.origin}/openai/deployments/my-deployment/chat/completions"
    ok = HTTP.post(url, params={"api-version": "2024-10-21"}, json=body(), headers={"api-key": TEST_KEY})
    assert ok.status_code == 200
    assert server.requests[-1].shape == "azure"
    assert server.requests[-1].model == "my-deployment"
    assert server.requests[-1].query == {"api-version": "2024-10-21"}
    bearer = HTTP.post(url, params={"api-version": "2024-10-21"}, json=body(), headers=AUTH)
    assert bearer.status_code == 401
    no_version = HTTP.post(url, json=body(), headers={"api-key": TEST_KEY})
    assert no_version.status_code == 404
    other = f"{server.origin}/openai/deployments/nope/chat/completions"
    missing = HTTP.post(other, params={"api-version": "x"}, json=body(), headers={"api-key": TEST_KEY})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"
    assert "nope" in missing.json()["error"]["message"]


def test_wrong_or_missing_key_is_401_and_keyless_server_accepts_anything(make_llm_server: Any) -> None:
    server = make_llm_server()
    wrong = post(server, body(), headers={"Authorization": "Bearer sk-wrong-key-0000"})
    assert wrong.status_code == 401
    error = wrong.json()["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert "sk-wrong-key-0000" not in error["message"]  # masked, like OpenAI
    assert post(server, body(), headers={}).status_code == 401
    open_server = make_llm_server(api_key=None)
    assert post(open_server, body(), headers={}).status_code == 200
    assert post(open_server, body(), headers={"Authorization": "Bearer anything"}).status_code == 200


def test_unknown_model_is_404_model_not_found(make_llm_server: Any) -> None:
    server = make_llm_server(models={"gpt-4o"})
    response = post(server, body())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert "gpt-4o-mini" in response.json()["error"]["message"]


def test_server_without_json_schema_support_answers_400(make_llm_server: Any) -> None:
    server = make_llm_server(supports_json_schema=False)
    response = post(server, body(response_format=schema_format()))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "response_format"
    assert post(server, body(response_format={"type": "json_object"})).status_code == 200


def test_scripted_faults_in_order(make_llm_server: Any) -> None:
    server = make_llm_server(
        faults=[
            "429",
            Fault("429", retry_after_ms=1500),
            "500",
            "503",
            "malformed",
            "invalid",
            "refusal",
            "ok",
            "502",
        ],
        retry_after=7,
    )
    fmt = schema_format()
    r429 = post(server, body(response_format=fmt))
    assert r429.status_code == 429 and r429.headers["retry-after"] == "7"
    assert r429.json()["error"]["code"] == "rate_limit_exceeded"
    r429ms = post(server, body(response_format=fmt))
    assert r429ms.status_code == 429 and r429ms.headers["retry-after-ms"] == "1500"
    assert "retry-after" not in r429ms.headers
    assert post(server, body(response_format=fmt)).status_code == 500
    assert post(server, body(response_format=fmt)).status_code == 503
    malformed = post(server, body(response_format=fmt)).json()["choices"][0]["message"]["content"]
    with pytest.raises(ValueError):
        json.loads(malformed)
    invalid = post(server, body(response_format=fmt)).json()["choices"][0]["message"]["content"]
    json.loads(invalid)
    with pytest.raises(ValidationError):
        Summary.model_validate_json(invalid)
    refusal = post(server, body(response_format=fmt)).json()["choices"][0]["message"]
    assert refusal["content"] is None and refusal["refusal"] == REFUSAL_TEXT
    assert post(server, body(response_format=fmt)).status_code == 200
    assert post(server, body(response_format=fmt)).status_code == 502
    assert post(server, body(response_format=fmt)).status_code == 200  # script exhausted
    faults = [r.fault for r in server.requests]
    assert faults == ["429", "429", "500", "503", "malformed", "invalid", "refusal", None, "502", None]


def test_drop_and_slow_faults(make_llm_server: Any) -> None:
    server = make_llm_server(faults=["drop", "slow"], slow_seconds=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        post(server, body())
    with pytest.raises(httpx.ReadTimeout):
        post(server, body(), timeout=0.2)
    assert post(server, body()).status_code == 200
    assert [r.status for r in server.requests] == [None, None, 200]


def test_fault_rate_is_deterministic_for_a_seed(make_llm_server: Any) -> None:
    kinds = ("500", "503", "429")
    sequences = []
    for _ in range(2):
        server = make_llm_server(fault_rate=0.5, fault_kinds=kinds, seed=42)
        for _ in range(30):
            post(server, body())
        sequences.append([r.fault for r in server.requests])
    assert sequences[0] == sequences[1]
    faults = [f for f in sequences[0] if f]
    assert 5 < len(faults) < 25 and set(faults) <= set(kinds)
    other = make_llm_server(fault_rate=0.5, fault_kinds=kinds, seed=7)
    for _ in range(30):
        post(other, body())
    assert [r.fault for r in other.requests] != sequences[0]


def test_records_requests_and_finds_secrets(llm_server: FakeLLMServer) -> None:
    post(llm_server, body(temperature=0.0))
    recorded = llm_server.requests[0]
    assert recorded.method == "POST" and recorded.path == "/v1/chat/completions"
    assert recorded.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert recorded.body["temperature"] == 0.0
    assert recorded.messages == [{"role": "user", "content": "Reply in JSON."}]
    assert recorded.time > 0
    llm_server.assert_secret_absent(TEST_KEY)  # only in the header
    post(llm_server, body(user=TEST_KEY))
    with pytest.raises(AssertionError, match="carries the secret"):
        llm_server.assert_secret_absent(TEST_KEY)


def test_latency_and_concurrency_high_water_mark(make_llm_server: Any) -> None:
    server = make_llm_server(latency=0.2)
    threads = [threading.Thread(target=post, args=(server, body())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.completions) == 4
    assert server.max_in_flight >= 2
    # the server lowers its count just after the answer is sent: give its threads a moment
    deadline = time.monotonic() + 5
    while server.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.in_flight == 0


def test_echo_key_in_errors_makes_a_careless_server(make_llm_server: Any) -> None:
    server = make_llm_server(faults=["500"], echo_key_in_errors=True)
    assert TEST_KEY in post(server, body()).json()["error"]["message"]


def test_schema_instance_follows_refs_anyof_and_min_items() -> None:
    class Inner(BaseModel):
        tags: list[str]

    class Outer(BaseModel):
        inner: Inner
        maybe: Inner | None = None
        level: Literal["low", "high"]

    instance = schema_instance(Outer.model_json_schema())
    assert Outer.model_validate(instance).inner.tags == ["x"]
    assert schema_instance({"type": "array", "items": {"type": "integer"}, "minItems": 3}) == [0, 0, 0]
    assert schema_instance({"const": 5}) == 5


def test_fault_rate_draws_do_not_depend_on_arrival_order(make_llm_server: Any) -> None:
    payloads = [body(seed=i) for i in range(20)] * 2  # each body twice: a request and its retry
    outcomes = []
    for order in (payloads, payloads[::-1]):
        server = make_llm_server(fault_rate=0.5, fault_kinds=("500", "503"), seed=3)
        for payload in order:
            post(server, payload)
        per_body: dict[int, list[str | None]] = {}
        for request in server.requests:
            per_body.setdefault(request.body["seed"], []).append(request.fault)
        outcomes.append(per_body)
    assert outcomes[0] == outcomes[1]
    assert any(None in faults and len(set(faults)) > 1 for faults in outcomes[0].values())
