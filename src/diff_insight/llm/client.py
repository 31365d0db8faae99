"""The LLM client: structured JSON answers from OpenAI, Azure OpenAI or an OpenAI-compatible server.

One :class:`LLMClient` per run. :meth:`LLMClient.complete_json` asks for an answer matching a pydantic
model and returns the validated instance. Around the official ``openai`` SDK (its own retries off) it adds:

- the cache (a hit costs no call) and the call log;
- structured output with a strict JSON schema, falling back for the rest of the run to JSON mode with the
  schema in a system line when the server rejects ``json_schema``;
- validation with pydantic and one re-ask quoting the validation error;
- retries with exponential backoff and full jitter on 429, 5xx, timeouts and connection errors,
  honouring ``Retry-After`` / ``retry-after-ms``;
- a concurrency limit, optional requests-per-minute and tokens-per-minute budgets, a per-run call cap;
- usage accounting.

The API key never appears in exceptions, logs, cache rows or reprs: error texts from the server or the
SDK are redacted and made one line.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast

import openai
from pydantic import BaseModel, ValidationError

from diff_insight.llm.errors import (
    LLMAuthError,
    LLMCallCapExceeded,
    LLMConfigError,
    LLMError,
    LLMInvalidOutput,
    LLMRateLimited,
)
from diff_insight.llm.settings import DEFAULT_AZURE_API_VERSION, LLMSettings, Role
from diff_insight.llm.tokens import count_message_tokens

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam
    from openai.types.chat.completion_create_params import ResponseFormat

__all__ = [
    "CacheBackend",
    "CallInfo",
    "LLMClient",
    "LLMUsage",
    "strict_json_schema",
]

logger = logging.getLogger("diff_insight.llm")

M = TypeVar("M", bound=BaseModel)
ResponseMode = Literal["json_schema", "json_object"]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

OPENAI_BASE_URL = "https://api.openai.com/v1"
NO_KEY_PLACEHOLDER = "not-needed"
"""Sent as the key to compatible servers configured without one (the SDK insists on a key)."""
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_AFTER_CAP = 60.0
"""Longest wait a ``Retry-After`` header can impose, in seconds."""
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
WINDOW_SECONDS = 60.0
OUTPUT_TOKENS_GUESS = 512
"""Output tokens assumed by the tokens-per-minute budget when ``max_tokens`` is not given."""
ERROR_TEXT_LIMIT = 300
REASK_ERROR_LIMIT = 800
REASK_ANSWER_LIMIT = 20_000
REDACTED = "[redacted]"


# ------------------------------------------------------------------------------------ public data types


class CachedAnswer(Protocol):
    """What :meth:`CacheBackend.get` returns (``CachedResponse`` of the cache module)."""

    @property
    def content(self) -> str: ...
    @property
    def input_tokens(self) -> int | None: ...
    @property
    def output_tokens(self) -> int | None: ...


class CacheBackend(Protocol):
    """The part of ``diff_insight.llm.cache.LLMCache`` the client uses."""

    def key(
        self,
        *,
        provider: str,
        model: str,
        prompt_version: str,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
    ) -> str: ...

    def get(self, key: str) -> CachedAnswer | None: ...

    def put(
        self,
        key: str,
        *,
        provider: str,
        model: str,
        prompt_version: str,
        content: str,
        input_tokens: int | None,
        output_tokens: int | None,
    ) -> None: ...

    def log_call(
        self,
        *,
        provider: str,
        model: str,
        prompt_version: str,
        key: str,
        status: str,
        attempts: int,
        input_tokens: int | None,
        output_tokens: int | None,
        duration_ms: int,
        error: str | None,
    ) -> None: ...


@dataclass(frozen=True)
class CallInfo:
    """How one :meth:`LLMClient.complete_json` was answered."""

    cached: bool
    attempts: int
    """HTTP requests sent for this call (retries, re-ask and format fallback included); 0 for a cache hit."""
    input_tokens: int | None
    """Prompt tokens the server reported, summed over the attempts (for a hit: those of the cached call)."""
    output_tokens: int | None
    model: str
    """The model, or the Azure deployment."""


@dataclass
class LLMUsage:
    """Running totals of one client."""

    calls: int = 0
    """Calls that went to the model (cache misses); what ``max_calls`` caps."""
    requests: int = 0
    """HTTP requests sent: every attempt, re-ask and format fallback included."""
    cache_hits: int = 0
    retries: int = 0
    """Requests repeated after a transient failure (429, 5xx, timeout, connection error)."""
    reasks: int = 0
    failures: int = 0
    """Calls that ended in an error."""
    input_tokens: int = 0
    """Prompt tokens reported by the server, over every attempt."""
    output_tokens: int = 0


# ---------------------------------------------------------------------------------------- JSON schema


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of ``model`` in the form OpenAI's strict structured outputs accept.

    Every object lists all its properties as required and forbids others (optional fields stay nullable
    through their ``anyOf … null``), ``default``s and discriminators go, ``oneOf`` becomes ``anyOf`` and
    a ``$ref`` with sibling keywords is inlined.
    """
    root = model.model_json_schema()
    result = _strictify(root, root, 0)
    if not isinstance(result, dict):  # pragma: no cover - a model's schema is an object
        raise TypeError("unexpected schema")
    return result


def _strictify(node: Any, root: dict[str, Any], depth: int) -> Any:
    if depth > 64:  # pragma: no cover - recursive models are referenced, not expanded
        return node
    if isinstance(node, list):
        return [_strictify(item, root, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: v for k, v in node.items() if k not in ("default", "discriminator")}
    if "$ref" in node and len(node) > 1:
        target = _resolve_ref(root, node.pop("$ref"))
        node = {**target, **node}
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    if isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
        only = node.pop("allOf")[0]
        node = {**only, **node} if "$ref" not in only else {**_resolve_ref(root, only["$ref"]), **node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _strictify(sub, root, depth + 1) for name, sub in value.items()}
        elif key in ("items", "anyOf", "allOf", "prefixItems", "additionalProperties", "not"):
            out[key] = _strictify(value, root, depth + 1)
        else:
            out[key] = value
    if out.get("type") == "object" or "properties" in out:
        props = out.get("properties", {})
        out["required"] = list(props)
        if "additionalProperties" not in out or out["additionalProperties"] is True:
            out["additionalProperties"] = False
    return out


def _resolve_ref(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"unsupported $ref {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return dict(node)


# -------------------------------------------------------------------------------------------- budgets


class _WindowBudget:
    """A sliding-window budget: at most ``limit`` units in any ``window`` seconds."""

    def __init__(self, name: str, limit: int, clock: Clock, sleep: Sleep, window: float = WINDOW_SECONDS):
        self.name = name
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._entries: deque[list[float]] = deque()

    def _prune(self, now: float) -> None:
        while self._entries and self._entries[0][0] <= now - self.window:
            self._entries.popleft()

    async def acquire(self, amount: float) -> list[float]:
        """Wait until ``amount`` fits in the window, record it and return its entry (for :meth:`correct`).
        An amount larger than the whole budget waits for an empty window."""
        amount = min(float(amount), float(self.limit))
        while True:
            now = self._clock()
            self._prune(now)
            used = sum(entry[1] for entry in self._entries)
            if used + amount <= self.limit:
                entry = [now, amount]
                self._entries.append(entry)
                return entry
            excess = used + amount - self.limit
            freed = 0.0
            wait = self.window
            for stamp, value in self._entries:
                freed += value
                if freed >= excess:
                    wait = stamp + self.window - now
                    break
            wait = max(wait, 0.001)
            logger.debug("llm %s budget: waiting %.2f s", self.name, wait)
            await self._sleep(wait)

    @staticmethod
    def correct(entry: list[float], amount: float) -> None:
        entry[1] = float(amount)


# --------------------------------------------------------------------------------------------- client


@dataclass
class _Call:
    """Bookkeeping of one complete_json call."""

    model: str
    attempts: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None

    def add_usage(self, prompt: int | None, completion: int | None) -> None:
        if prompt is not None:
            self.input_tokens = (self.input_tokens or 0) + prompt
        if completion is not None:
            self.output_tokens = (self.output_tokens or 0) + completion


class _InvalidAnswer(Exception):
    """The answer is not usable (refusal, empty); the message is shown to the model in the re-ask."""


@dataclass
class _Answer:
    content: str | None
    refusal: str | None
    finish_reason: str | None


class LLMClient:
    """Structured answers from a chat-completions endpoint, with retries, budgets, cache and usage.

    ``sleep`` and ``clock`` drive backoff waits and the per-minute budgets (tests inject fakes);
    ``rng`` draws the backoff jitter.
    """

    def __init__(
        self,
        settings: LLMSettings,
        cache: CacheBackend | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.usage = LLMUsage()
        self._cache = cache
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._secret = settings.api_key.get_secret_value() if settings.api_key is not None else ""
        self._mode: ResponseMode = "json_schema"
        self._calls_started = 0
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self._rpm = (
            _WindowBudget("requests-per-minute", settings.requests_per_minute, clock, sleep)
            if settings.requests_per_minute
            else None
        )
        self._tpm = (
            _WindowBudget("tokens-per-minute", settings.tokens_per_minute, clock, sleep)
            if settings.tokens_per_minute
            else None
        )
        self._sdk = self._make_sdk()

    def _make_sdk(self) -> openai.AsyncOpenAI:
        settings = self.settings
        if settings.provider == "azure":
            if not settings.base_url:
                raise LLMConfigError("Azure OpenAI needs its endpoint (AZURE_OPENAI_ENDPOINT)")
            if not self._secret:
                raise LLMConfigError("Azure OpenAI needs an API key (AZURE_OPENAI_API_KEY)")
            return openai.AsyncAzureOpenAI(
                azure_endpoint=settings.base_url,
                api_key=self._secret,
                api_version=settings.api_version or DEFAULT_AZURE_API_VERSION,
                max_retries=0,
                timeout=settings.timeout,
            )
        if settings.provider == "openai" and not self._secret:
            raise LLMConfigError("OpenAI needs an API key (OPENAI_API_KEY)")
        if settings.provider == "compatible" and not settings.base_url:
            raise LLMConfigError("an OpenAI-compatible server needs its base URL (OPENAI_BASE_URL)")
        return openai.AsyncOpenAI(
            api_key=self._secret or NO_KEY_PLACEHOLDER,
            base_url=settings.base_url or OPENAI_BASE_URL,
            max_retries=0,
            timeout=settings.timeout,
        )

    # -- lifecycle

    async def aclose(self) -> None:
        await self._sdk.close()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"LLMClient(provider={self.settings.name!r}, models={self.settings.models!r}, mode={self._mode!r})"

    @property
    def response_mode(self) -> ResponseMode:
        """``json_schema`` until the server rejected it, then ``json_object``."""
        return self._mode

    def model_for(self, role: Role) -> str:
        model = self.settings.models.get(role)
        if not model:
            raise LLMConfigError(f"no model configured for the {role!r} role")
        return model

    # -- the call

    async def complete_json(
        self,
        *,
        role: Role,
        messages: list[dict[str, Any]],
        schema: type[M],
        schema_name: str,
        prompt_version: str,
        max_tokens: int | None = None,
        temperature: float = 0.0,
    ) -> tuple[M, CallInfo]:
        """Ask the ``role``'s model for a JSON answer matching ``schema``; return it validated.

        Raises :class:`LLMAuthError` (key, model or deployment rejected), :class:`LLMRateLimited`,
        :class:`LLMCallCapExceeded`, :class:`LLMInvalidOutput` (still invalid after one re-ask) or
        :class:`LLMError` (other failures, after retries).
        """
        model = self.model_for(role)
        json_schema = strict_json_schema(schema)
        params: dict[str, Any] = {
            "schema_name": schema_name,
            "schema": json_schema,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        key = ""
        if self._cache is not None:
            key = self._cache.key(
                provider=self.settings.name,
                model=model,
                prompt_version=prompt_version,
                messages=messages,
                params=params,
            )
            hit = self._cache.get(key)
            if hit is not None:
                try:
                    value = self._validate(schema, hit.content)
                except ValidationError:
                    logger.debug("llm cache entry %s no longer validates; asking the model", key[:12])
                else:
                    self.usage.cache_hits += 1
                    logger.debug("llm %s model=%s cache hit", role, model)
                    info = CallInfo(True, 0, hit.input_tokens, hit.output_tokens, model)
                    return value, info

        cap = self.settings.max_calls
        if cap is not None and self._calls_started >= cap:
            raise LLMCallCapExceeded(
                f"the run reached its cap of {cap} model calls (max_calls); raise the cap, or run again "
                "to reuse the answers cached so far"
            )
        self._calls_started += 1
        self.usage.calls += 1
        call = _Call(model)
        started = self._clock()
        try:
            value, content = await self._ask_validated(
                call, messages, schema, schema_name, json_schema, max_tokens, temperature
            )
        except LLMError as exc:
            self.usage.failures += 1
            self._finish(call, role, key, prompt_version, started, error=str(exc))
            raise
        self._finish(call, role, key, prompt_version, started, error=None)
        if self._cache is not None:
            self._cache.put(
                key,
                provider=self.settings.name,
                model=model,
                prompt_version=prompt_version,
                content=content,
                input_tokens=call.input_tokens,
                output_tokens=call.output_tokens,
            )
        return value, CallInfo(False, call.attempts, call.input_tokens, call.output_tokens, model)

    def _finish(
        self, call: _Call, role: Role, key: str, prompt_version: str, started: float, *, error: str | None
    ) -> None:
        duration_ms = max(0, int(round((self._clock() - started) * 1000)))
        status = "ok" if error is None else "error"
        logger.debug(
            "llm %s model=%s status=%s attempts=%d input_tokens=%s output_tokens=%s duration_ms=%d%s",
            role,
            call.model,
            status,
            call.attempts,
            call.input_tokens,
            call.output_tokens,
            duration_ms,
            f" error={error}" if error else "",
        )
        if self._cache is not None:
            self._cache.log_call(
                provider=self.settings.name,
                model=call.model,
                prompt_version=prompt_version,
                key=key,
                status=status,
                attempts=call.attempts,
                input_tokens=call.input_tokens,
                output_tokens=call.output_tokens,
                duration_ms=duration_ms,
                error=error,
            )

    @staticmethod
    def _validate(schema: type[M], content: str) -> M:
        return schema.model_validate_json(_strip_fences(content))

    async def _ask_validated(
        self,
        call: _Call,
        messages: list[dict[str, Any]],
        schema: type[M],
        schema_name: str,
        json_schema: dict[str, Any],
        max_tokens: int | None,
        temperature: float,
    ) -> tuple[M, str]:
        conversation = list(messages)
        for round_ in (1, 2):
            answer = await self._request(
                call, conversation, schema_name, json_schema, max_tokens, temperature
            )
            try:
                if answer.refusal:
                    raise _InvalidAnswer(f"you refused to answer ({_one_line(answer.refusal, 200)})")
                if not answer.content or not answer.content.strip():
                    raise _InvalidAnswer(f"the answer was empty (finish_reason {answer.finish_reason})")
                content = _strip_fences(answer.content)
                return schema.model_validate_json(content), content
            except ValidationError as exc:
                problem = _describe_validation(exc)
                if answer.finish_reason == "length":
                    problem = f"the answer was cut off at the token limit; {problem}"
            except _InvalidAnswer as exc:
                problem = str(exc)
            problem = self._redact(problem)
            if round_ == 2:
                raise LLMInvalidOutput(
                    f"the model's answer does not match the {schema_name} schema, even after a re-ask: "
                    f"{_one_line(problem, ERROR_TEXT_LIMIT)}"
                )
            self.usage.reasks += 1
            logger.debug("llm model=%s invalid answer, asking again: %s", call.model, _one_line(problem, 200))
            said = answer.content if answer.content is not None else (answer.refusal or "")
            conversation = [
                *conversation,
                {"role": "assistant", "content": self._redact(said[:REASK_ANSWER_LIMIT])},
                {
                    "role": "user",
                    "content": (
                        "Your answer is not valid: "
                        f"{_truncate(problem, REASK_ERROR_LIMIT)}\n"
                        f"Answer again with only one JSON object that matches the {schema_name} schema."
                    ),
                },
            ]
        raise AssertionError("unreachable")  # pragma: no cover

    def _request_format(
        self, conversation: list[dict[str, Any]], schema_name: str, json_schema: dict[str, Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if self._mode == "json_schema":
            fmt = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": json_schema, "strict": True},
            }
            return fmt, conversation
        line = {
            "role": "system",
            "content": (
                f"Reply with one JSON object, and nothing else (no prose, no code fences), that validates "
                f"against this JSON schema named {schema_name}: "
                f"{json.dumps(json_schema, ensure_ascii=False, separators=(',', ':'))}"
            ),
        }
        leading = 0
        while leading < len(conversation) and conversation[leading].get("role") in ("system", "developer"):
            leading += 1
        return {"type": "json_object"}, [*conversation[:leading], line, *conversation[leading:]]

    async def _request(
        self,
        call: _Call,
        conversation: list[dict[str, Any]],
        schema_name: str,
        json_schema: dict[str, Any],
        max_tokens: int | None,
        temperature: float,
    ) -> _Answer:
        """One answer, with retries on transient failures and the switch to JSON mode."""
        settings = self.settings
        attempt = 0
        while True:
            attempt += 1
            fmt, sent = self._request_format(conversation, schema_name, json_schema)
            legacy_limit: int | openai.Omit = openai.omit
            new_limit: int | openai.Omit = openai.omit
            if max_tokens is not None:
                if settings.provider == "openai":
                    new_limit = max_tokens
                else:
                    legacy_limit = max_tokens
            if attempt > 1:
                self.usage.retries += 1
            try:
                async with self._semaphore:
                    tpm_entry = await self._take_budgets(sent, max_tokens)
                    call.attempts += 1
                    self.usage.requests += 1
                    completion = await self._sdk.chat.completions.create(
                        model=call.model,
                        messages=cast("list[ChatCompletionMessageParam]", sent),
                        response_format=cast("ResponseFormat", fmt),
                        temperature=temperature,
                        max_tokens=legacy_limit,
                        max_completion_tokens=new_limit,
                    )
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status == 400 and fmt["type"] == "json_schema" and _about_response_format(exc):
                    # (a concurrent call may have switched already: this one was sent before)
                    if self._mode == "json_schema":
                        self._mode = "json_object"
                        logger.info(
                            "llm: %s does not support json_schema response formats; using JSON mode for this run",
                            settings.name,
                        )
                    attempt -= 1
                    continue
                if status in (401, 403):
                    raise LLMAuthError(
                        f"the provider rejected the API key (HTTP {status}); check {self._key_variable()}"
                    ) from None
                if status == 404:
                    raise LLMAuthError(self._not_found_message(call.model)) from None
                if status not in RETRY_STATUSES:
                    raise LLMError(
                        f"the provider refused the request (HTTP {status}): {self._error_text(exc)}"
                    ) from None
                reason = f"HTTP {status}: {self._error_text(exc)}"
                wait = _retry_after(exc.response.headers)
                rate_limited = status == 429
            except openai.APITimeoutError:
                reason = f"no answer within {settings.timeout:g} s"
                wait = None
                rate_limited = False
            except openai.APIConnectionError as exc:
                reason = f"connection error: {self._error_text(exc)}"
                wait = None
                rate_limited = False
            except openai.OpenAIError as exc:  # e.g. an answer the SDK cannot read
                text = self._error_text(exc) if isinstance(exc, openai.APIError) else str(exc)
                raise LLMError(
                    f"the provider's answer could not be used: {_one_line(self._redact(text), ERROR_TEXT_LIMIT)}"
                ) from None
            else:
                usage = completion.usage
                prompt = usage.prompt_tokens if usage is not None else None
                produced = usage.completion_tokens if usage is not None else None
                call.add_usage(prompt, produced)
                self.usage.input_tokens += prompt or 0
                self.usage.output_tokens += produced or 0
                if tpm_entry is not None and usage is not None:
                    _WindowBudget.correct(tpm_entry, (prompt or 0) + (produced or 0))
                if not completion.choices:
                    return _Answer(None, None, None)
                choice = completion.choices[0]
                message = choice.message
                return _Answer(message.content, getattr(message, "refusal", None), choice.finish_reason)

            if attempt >= settings.max_attempts:
                if rate_limited:
                    raise LLMRateLimited(
                        f"still rate-limited by {settings.name} after {attempt} attempts ({reason})"
                    ) from None
                raise LLMError(f"the model call failed after {attempt} attempts: {reason}") from None
            if wait is None:
                wait = self._rng.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))
            logger.debug(
                "llm model=%s attempt %d/%d failed (%s); retrying in %.2f s",
                call.model,
                attempt,
                settings.max_attempts,
                reason,
                wait,
            )
            await self._sleep(wait)

    async def _take_budgets(self, sent: list[dict[str, Any]], max_tokens: int | None) -> list[float] | None:
        if self._rpm is not None:
            await self._rpm.acquire(1)
        if self._tpm is None:
            return None
        estimate = count_message_tokens(sent) + (
            max_tokens if max_tokens is not None else OUTPUT_TOKENS_GUESS
        )
        return await self._tpm.acquire(estimate)

    # -- messages

    def _key_variable(self) -> str:
        return "AZURE_OPENAI_API_KEY" if self.settings.provider == "azure" else "OPENAI_API_KEY"

    def _not_found_message(self, model: str) -> str:
        if self.settings.provider == "azure":
            return (
                f"the Azure OpenAI resource has no deployment named {model!r} (HTTP 404); "
                "check the deployment names and the endpoint"
            )
        where = self.settings.base_url or OPENAI_BASE_URL
        return f"the model {model!r} is unknown at {where} (HTTP 404); check the model name and the base URL"

    def _redact(self, text: str) -> str:
        if self._secret:
            text = text.replace(self._secret, REDACTED)
        return text

    def _error_text(self, exc: openai.APIError) -> str:
        message = exc.message
        if isinstance(exc.body, Mapping):
            inner = exc.body.get("message")
            if isinstance(inner, str) and inner:
                message = inner
        return _one_line(self._redact(str(message)), ERROR_TEXT_LIMIT)


# --------------------------------------------------------------------------------------------- helpers


def _about_response_format(exc: openai.APIStatusError) -> bool:
    text = f"{exc.param or ''} {exc.message}".lower()
    return "response_format" in text or "json_schema" in text


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait a 429/5xx asks for, capped at :data:`RETRY_AFTER_CAP`; None when it asks for none."""
    value: float | None = None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = None
    raw = headers.get("retry-after")
    if value is None and raw:
        try:
            value = float(raw)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                value = (when - datetime.now(UTC)).total_seconds()
    if value is None or value != value:  # NaN
        return None
    return min(max(value, 0.0), RETRY_AFTER_CAP)


def _strip_fences(text: str) -> str:
    """The JSON inside a Markdown code fence, which some models add in JSON mode; else the text."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```") and "\n" in stripped:
        return stripped[stripped.index("\n") + 1 : -3].strip()
    return text


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    errors = exc.errors(include_url=False, include_input=False)
    for error in errors[:5]:
        location = ".".join(str(part) for part in error.get("loc", ())) or "(root)"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more errors")
    return "; ".join(parts)


def _one_line(text: str, limit: int) -> str:
    return _truncate(" ".join(text.split()), limit)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
