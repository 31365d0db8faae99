"""A real chat-completions server on 127.0.0.1, for tests and benchmarks of the LLM engine.

It speaks enough of the OpenAI protocol for the official SDK to talk to it unmodified:

- OpenAI shape: ``POST /v1/chat/completions`` (``base_url`` is ``http://127.0.0.1:PORT/v1``),
  key in ``Authorization: Bearer KEY``;
- Azure shape: ``POST /openai/deployments/{deployment}/chat/completions?api-version=…``
  (``azure_endpoint`` is ``http://127.0.0.1:PORT``), key in ``api-key: KEY``.

Answers are real ``chat.completion`` objects. The message content comes from a pluggable
``responder(request) -> str``; the default builds a minimal valid instance of the requested JSON schema.
Faults are injected deterministically, from a script (one entry per request) or at a seeded rate.
Every request is recorded (``srv.requests``) with what the server answered.

Also here: :class:`FakeTime`, a fake clock and sleep for the client's backoff and budgets.

Usage::

    with FakeLLMServer(api_key="sk-test", faults=["429", "ok"]) as srv:
        settings = LLMSettings(provider="openai", base_url=srv.base_url, api_key=SecretStr("sk-test"))
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import random
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Fault names. Any other all-digit name (e.g. "502", "504", "400") answers that HTTP status.
FAULT_KINDS = ("429", "500", "503", "slow", "malformed", "invalid", "refusal", "drop")
NO_FAULT = ("ok", "", None)

REFUSAL_TEXT = "I'm sorry, but I can't help with that request."


@dataclass(frozen=True)
class Fault:
    """One injected fault. ``retry_after`` / ``retry_after_ms`` set the headers of a 429 (or 5xx);
    when both are None a 429 gets the server's default ``Retry-After``."""

    kind: str
    retry_after: float | None = None
    retry_after_ms: int | None = None


FaultSpec = str | Fault | None


@dataclass
class RecordedRequest:
    """One request as the server saw it, plus what it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-cased names."""
    raw_body: bytes
    body: Any
    """The parsed JSON body, or None when it was not JSON."""
    time: float
    """``time.monotonic()`` at arrival."""
    shape: str = "unknown"
    """``openai``, ``azure`` or ``unknown``."""
    model: str | None = None
    """The model (OpenAI shape) or the deployment (Azure shape)."""
    status: int | None = None
    """The HTTP status answered; None for a dropped connection."""
    fault: str | None = None
    content: str | None = None
    """The message content answered (200 only)."""
    usage: dict[str, int] | None = None
    """The ``usage`` answered (200 only)."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return list(self.body["messages"])
        return []

    @property
    def response_format(self) -> dict[str, Any] | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("response_format"), dict):
            return dict(self.body["response_format"])
        return None

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The schema of a ``json_schema`` response format, else None."""
        fmt = self.response_format
        if fmt and fmt.get("type") == "json_schema":
            inner = fmt.get("json_schema") or {}
            schema = inner.get("schema")
            return schema if isinstance(schema, dict) else None
        return None

    @property
    def schema_name(self) -> str | None:
        fmt = self.response_format
        if fmt and fmt.get("type") == "json_schema":
            name = (fmt.get("json_schema") or {}).get("name")
            return name if isinstance(name, str) else None
        return None

    @property
    def text(self) -> str:
        """All message contents joined, for assertions."""
        parts = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return "\n".join(parts)


Responder = Callable[[RecordedRequest], str]


# ----------------------------------------------------------------------------------------------- schemas


def schema_instance(schema: dict[str, Any], root: dict[str, Any] | None = None, _depth: int = 0) -> Any:
    """A minimal instance of a JSON schema: strings "x", enums their first value, arrays with one item
    (or ``minItems``), objects with every property. Follows local ``$ref``s."""
    root = schema if root is None else root
    if _depth > 32:
        return None
    if "$ref" in schema:
        return schema_instance(_resolve_ref(root, schema["$ref"]), root, _depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            options = [o for o in schema[combinator] if o.get("type") != "null"] or schema[combinator]
            return schema_instance(options[0], root, _depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return schema_instance(merged, root, _depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties", {})
        return {name: schema_instance(sub, root, _depth + 1) for name, sub in props.items()}
    if kind == "array":
        items = schema.get("items", {"type": "string"})
        count = max(1, int(schema.get("minItems", 1)))
        return [schema_instance(items, root, _depth + 1) for _ in range(count)]
    if kind == "string":
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    return None


def _resolve_ref(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


def schema_violation(schema: dict[str, Any] | None) -> Any:
    """A JSON value that violates ``schema``: a valid instance missing its first required property, or,
    when nothing is required (or there is no schema), a list where an object is expected."""
    if schema:
        instance = schema_instance(schema)
        target = schema
        if "$ref" in target:
            target = _resolve_ref(schema, target["$ref"])
        required = target.get("required") or []
        if isinstance(instance, dict) and required:
            instance.pop(required[0], None)
            return instance
    return ["not", "an", "object"]


def default_responder(request: RecordedRequest) -> str:
    """A minimal valid instance of the requested json_schema, else ``{"ok": true}``."""
    schema = request.json_schema
    if schema is not None:
        return json.dumps(schema_instance(schema))
    return json.dumps({"ok": True})


def count_usage_tokens(text: str) -> int:
    """The server's deterministic token count: one per four characters, at least one."""
    return max(1, math.ceil(len(text) / 4))


# ------------------------------------------------------------------------------------------------ server


class FakeLLMServer:
    """A threaded HTTP server on 127.0.0.1 (port 0) speaking the chat-completions protocol.

    Parameters:
        api_key: the key requests must carry; None accepts any key or none.
        models: the allowed model / deployment names; None allows any.
        responder: produces the message content of a 200 answer.
        supports_json_schema: False answers ``json_schema`` response formats with HTTP 400.
        require_json_word: like OpenAI, a ``json_object`` request whose messages never say "json" gets a 400.
        faults: a script, one entry per request (``"ok"``/None for none); after it, ``fault_rate`` applies.
        fault_rate, fault_kinds, seed: a fault with probability ``fault_rate`` per request, chosen from
            ``fault_kinds``. The draw uses a ``random.Random`` seeded with ``seed``, the request body and
            how many times that same body came before, so a run gets the same faults whatever order
            concurrent requests arrive in.
        retry_after: the default ``Retry-After`` seconds of a 429.
        slow_seconds: how long a ``slow`` fault waits before answering.
        latency: seconds added to every request (benchmarks, concurrency tests).
        echo_key_in_errors: every error message quotes the key the request carried, unmasked (a careless
            server), to test that clients redact it.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: Collection[str] | None = None,
        responder: Responder | None = None,
        supports_json_schema: bool = True,
        require_json_word: bool = True,
        faults: Iterable[FaultSpec] | None = None,
        fault_rate: float = 0.0,
        fault_kinds: Sequence[str] = FAULT_KINDS,
        seed: int = 0,
        retry_after: float = 1.0,
        slow_seconds: float = 2.0,
        latency: float = 0.0,
        echo_key_in_errors: bool = False,
    ) -> None:
        self.api_key = api_key
        self.models = None if models is None else set(models)
        self.responder: Responder = responder or default_responder
        self.supports_json_schema = supports_json_schema
        self.require_json_word = require_json_word
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.latency = latency
        self.echo_key_in_errors = echo_key_in_errors
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._script: list[FaultSpec] = list(faults or [])
        self.seed = seed
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeLLMServer:
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"server_state": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="fake-llm-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        return int(self._httpd.server_address[1])

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``: the Azure endpoint."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the OpenAI-compatible base URL."""
        return f"{self.origin}/v1"

    # -- configuration while running

    def script(self, faults: Iterable[FaultSpec]) -> None:
        """Replace the fault script."""
        with self._lock:
            self._script = list(faults)

    def reset(self) -> None:
        """Forget the recorded requests and the concurrency high-water mark."""
        with self._lock:
            self.requests.clear()
            self.max_in_flight = self.in_flight

    # -- inspection

    @property
    def completions(self) -> list[RecordedRequest]:
        """The requests that got a 200."""
        return [r for r in self.requests if r.status == 200]

    def usage_totals(self) -> tuple[int, int]:
        """Sum of ``prompt_tokens`` and ``completion_tokens`` over every answer that reported usage."""
        prompt = sum(r.usage["prompt_tokens"] for r in self.requests if r.usage)
        completion = sum(r.usage["completion_tokens"] for r in self.requests if r.usage)
        return prompt, completion

    def assert_secret_absent(self, secret: str) -> None:
        """Fail when ``secret`` appears in the body, path or query of any recorded request."""
        for index, request in enumerate(self.requests):
            where = [request.raw_body.decode("utf-8", "replace"), request.path, json.dumps(request.query)]
            for text in where:
                assert secret not in text, f"request #{index} ({request.path}) carries the secret"

    # -- internals used by the handler

    def _next_fault(self, request: RecordedRequest) -> Fault | None:
        spec: FaultSpec = None
        with self._lock:
            if self._script:
                spec = self._script.pop(0)
            elif self.fault_rate > 0:
                digest = hashlib.sha256(request.raw_body).hexdigest()
                occurrence = self._seen.get(digest, 0)
                self._seen[digest] = occurrence + 1
                rng = random.Random(f"{self.seed}|{digest}|{occurrence}")
                if rng.random() < self.fault_rate:
                    spec = rng.choice(self.fault_kinds)
        if spec in NO_FAULT:
            return None
        return spec if isinstance(spec, Fault) else Fault(str(spec))

    def _enter(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


def _error_body(message: str, *, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _mask(key: str) -> str:
    return f"{key[:3]}****{key[-4:]}" if len(key) > 8 else "****"


class _Handler(BaseHTTPRequestHandler):
    server_state: FakeLLMServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # answers go out in two writes (headers, body): without this, Nagle + delayed ACK add 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    # -- plumbing

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _peer_gone(self) -> bool:
        """True when the client closed the connection (e.g. it timed out while we were slow)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._read_body()
        self._send_json(404, _error_body("Not found", type_="invalid_request_error", code="not_found"))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- the endpoint

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        state = self.server_state
        raw = self._read_body()
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = RecordedRequest(
            method="POST",
            path=split.path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            raw_body=raw,
            body=body,
            time=time.monotonic(),
        )
        state._enter(request)
        try:
            self._handle(state, request)
        finally:
            state._leave()

    def _handle(self, state: FakeLLMServer, request: RecordedRequest) -> None:
        def answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            request.status = status
            if status >= 400 and state.echo_key_in_errors:
                payload["error"]["message"] += f" (request key: {given})"
            self._send_json(status, payload, headers)

        given: str | None = None
        parts = request.path.strip("/").split("/")
        if parts == ["v1", "chat", "completions"]:
            request.shape = "openai"
            auth = request.headers.get("authorization", "")
            given = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
            request.model = request.body.get("model") if isinstance(request.body, dict) else None
        elif (
            len(parts) == 5
            and parts[:2] == ["openai", "deployments"]
            and parts[3:] == ["chat", "completions"]
        ):
            request.shape = "azure"
            given = request.headers.get("api-key")
            request.model = parts[2]
            if "api-version" not in request.query:
                answer(404, _error_body("Resource not found", type_="invalid_request_error", code="404"))
                return
        else:
            answer(
                404,
                _error_body(f"Unknown path {request.path}", type_="invalid_request_error", code="not_found"),
            )
            return

        state._wait(state.latency)

        if state.api_key is not None and given != state.api_key:
            shown = (given if state.echo_key_in_errors else _mask(given)) if given else "none"
            message = (
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            answer(401, _error_body(message, type_="invalid_request_error", code="invalid_api_key"))
            return
        if not isinstance(request.body, dict) or not isinstance(request.body.get("messages"), list):
            answer(
                400,
                _error_body(
                    "We could not parse the JSON body of your request.",
                    type_="invalid_request_error",
                    code=None,
                ),
            )
            return
        if state.models is not None and request.model not in state.models:
            what = "deployment" if request.shape == "azure" else "model"
            message = f"The {what} `{request.model}` does not exist or you do not have access to it."
            answer(404, _error_body(message, type_="invalid_request_error", code="model_not_found"))
            return

        fmt = request.response_format
        if fmt is not None:
            kind = fmt.get("type")
            if kind == "json_schema" and not state.supports_json_schema:
                message = "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model."
                answer(
                    400,
                    _error_body(message, type_="invalid_request_error", code=None, param="response_format"),
                )
                return
            if kind == "json_schema" and request.json_schema is None:
                message = "Missing required parameter: 'response_format.json_schema.schema'."
                answer(
                    400,
                    _error_body(message, type_="invalid_request_error", code=None, param="response_format"),
                )
                return
            if kind == "json_object" and state.require_json_word and "json" not in request.text.lower():
                message = "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."
                answer(400, _error_body(message, type_="invalid_request_error", code=None, param="messages"))
                return
            if kind not in ("json_schema", "json_object", "text"):
                message = f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', and 'text'."
                answer(
                    400,
                    _error_body(message, type_="invalid_request_error", code=None, param="response_format"),
                )
                return

        fault = state._next_fault(request)
        request.fault = fault.kind if fault else None
        content: str | None
        refusal: str | None = None
        if fault is None:
            content = state.responder(request)
        elif fault.kind == "drop":
            self._drop()
            return
        elif fault.kind == "slow":
            state._wait(state.slow_seconds)
            if self._peer_gone():
                self.close_connection = True
                return
            content = state.responder(request)
        elif fault.kind == "malformed":
            content = '{"summary": "this answer stops in the middle of a stri'
        elif fault.kind == "invalid":
            content = json.dumps(schema_violation(request.json_schema))
        elif fault.kind == "refusal":
            content, refusal = None, REFUSAL_TEXT
        elif fault.kind.isdigit():
            status = int(fault.kind)
            headers: dict[str, str] = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = _seconds(fault.retry_after)
            if fault.retry_after_ms is not None:
                headers["retry-after-ms"] = str(fault.retry_after_ms)
            if status == 429:
                if not headers:
                    headers["Retry-After"] = _seconds(state.retry_after)
                message = "Rate limit reached for requests. Please try again later."
                payload = _error_body(message, type_="requests", code="rate_limit_exceeded")
            elif status >= 500:
                message = "The server had an error while processing your request. Sorry about that!"
                payload = _error_body(message, type_="server_error", code=None)
            else:
                payload = _error_body(f"Injected error {status}", type_="invalid_request_error", code=None)
            answer(status, payload, headers)
            return
        else:
            raise ValueError(f"unknown fault {fault.kind!r}")

        prompt_tokens = count_usage_tokens(json.dumps(request.messages, ensure_ascii=False))
        completion_tokens = count_usage_tokens(content if content is not None else refusal or "")
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        request.content = content
        request.usage = usage
        answer(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.model or "unknown",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
                "system_fingerprint": "fp_fake",
            },
        )


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# ------------------------------------------------------------------------------------------- fake time


@dataclass
class FakeTime:
    """A fake monotonic clock and an async ``sleep`` that advances it and records every wait.

    Pass ``clock=fake.clock, sleep=fake.sleep`` to the client.
    """

    now: float = 1000.0
    waits: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
