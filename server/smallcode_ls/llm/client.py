"""Chat completions over httpx: streaming, bounded timeouts and retries, classified errors.

Timeouts: connect; first token (scaled with the prompt for local servers, whose
prompt processing runs at tens of tokens per second); idle between chunks;
total. Retries happen only before the first token, at most ``attempts`` times,
with exponential backoff and jitter; ``Retry-After`` is honoured up to a cap and
a longer wait fails fast. A response is ``complete`` only with a terminal
``finish_reason``. The API key goes only to the configured origin and is
redacted from every error message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from smallcode_ls.errors import ModelError, ModelErrorKind
from smallcode_ls.llm.endpoints import Endpoint, origin
from smallcode_ls.llm.sse import parse_sse_line
from smallcode_ls.llm.types import ChatRequest, ChatResponse, Usage
from smallcode_ls.security.secrets import Redactor, restore, secret_values_from_env

__all__ = ["ChatClient", "RetryPolicy", "Timeouts"]

logger = logging.getLogger(__name__)

_ERROR_BODY_LIMIT = 4096
_CONTEXT_HINTS = ("context", "n_ctx", "too long", "maximum", "exceed", "tokens")
_RETRYABLE = {ModelErrorKind.CONNECT, ModelErrorKind.SERVER_ERROR, ModelErrorKind.RATE_LIMITED}
_TRUNCATION_RATIO = 0.9
_CHARS_PER_TOKEN_UPPER = 5.0  # a lower-bound token estimate: few false truncation alarms


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed for each phase of a call."""

    connect: float = 5.0
    first_token: float = 30.0
    first_token_per_1k_prompt_tokens: float = 15.0
    idle: float = 30.0
    total: float = 600.0

    def first_token_for(self, prompt_tokens: int, slow_prompt: bool) -> float:
        """First-token budget for a prompt of this size."""
        if not slow_prompt:
            return self.first_token
        return self.first_token + self.first_token_per_1k_prompt_tokens * prompt_tokens / 1000


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries before the first token only."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    retry_after_cap: float = 60.0


@dataclass(slots=True)
class _Attempt:
    text: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    started: bool = False  # first token seen: no more retries
    choices_seen: bool = False


class _Retry(Exception):
    def __init__(self, error: ModelError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class ChatClient:
    """One endpoint's chat client; owns an ``httpx.AsyncClient`` unless given one."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        env: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._key = endpoint.api_key(env)
        known = secret_values_from_env(env or {})
        self._secrets = Redactor([*known, self._key] if self._key else known)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeouts.idle, connect=self.timeouts.connect),
            follow_redirects=False,  # never carry the key to another origin
            transport=transport,
            trust_env=False,
        )

    async def aclose(self) -> None:
        """Close connections."""
        await self._http.aclose()

    # -- public calls ----------------------------------------------------------------------

    async def chat(
        self, request: ChatRequest, on_text: Callable[[str], None] | None = None
    ) -> ChatResponse:
        """Run one chat completion; raise ModelError with a classified kind on failure.

        Secrets in the prompt (known key values, secret-looking text) are replaced by
        placeholders before it leaves, and put back into the answer.
        """
        table: dict[str, str] = {}
        messages = tuple(
            replace(m, content=self._secrets.scrub(m.content, table)) for m in request.messages
        )
        try:
            async with asyncio.timeout(self.timeouts.total):
                response = await self._with_retries(replace(request, messages=messages), on_text)
                if not table:
                    return response
                return replace(response, text=restore(response.text, table))
        except TimeoutError as exc:
            raise ModelError(
                ModelErrorKind.TIMEOUT_TOTAL,
                f"the model took longer than {self.timeouts.total:.0f} s in total",
            ) from exc

    async def list_models(self) -> list[str]:
        """Model ids the endpoint serves (``/v1/models``)."""
        response = await self._request("GET", self.endpoint.models_url)
        data = _json_or_error(response)
        models = data.get("data") if isinstance(data, dict) else None
        if not isinstance(models, list):
            raise ModelError(ModelErrorKind.BAD_RESPONSE, "the model list had no 'data' array")
        return [str(item.get("id")) for item in models if isinstance(item, dict)]

    async def tokenize(self, text: str) -> int | None:
        """Exact token count from llama.cpp's ``/tokenize``; None where not offered."""
        url = self.endpoint.tokenize_url
        if url is None:
            return None
        try:
            response = await self._request("POST", url, json={"content": text})
            data = _json_or_error(response)
        except ModelError:
            return None
        tokens = data.get("tokens") if isinstance(data, dict) else None
        return len(tokens) if isinstance(tokens, list) else None

    # -- internals -------------------------------------------------------------------------

    def _headers(self, url: str) -> dict[str, str]:
        headers = {"Accept": "text/event-stream, application/json"}
        if self._key and origin(url) == origin(self.endpoint.base_url):
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, headers=self._headers(url), **kwargs)
        except httpx.TransportError as exc:
            raise _transport_error(exc, self._redact) from exc

    async def _with_retries(
        self, request: ChatRequest, on_text: Callable[[str], None] | None
    ) -> ChatResponse:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._attempt(request, on_text)
            except _Retry as retry:
                if attempt >= self.retry.attempts:
                    raise retry.error from None
                delay = self._delay(attempt, retry.retry_after, retry.error)
                logger.info(
                    "model call failed (%s); retry %d in %.1f s", retry.error, attempt, delay
                )
                await self._sleep(delay)
                continue
            return _with_attempts(response, attempt)

    def _delay(self, attempt: int, retry_after: float | None, error: ModelError) -> float:
        if retry_after is not None:
            if retry_after > self.retry.retry_after_cap:
                raise ModelError(
                    error.kind,
                    f"{error} (the server asks to wait {retry_after:.0f} s; giving up)",
                ) from None
            return retry_after
        backoff = min(self.retry.max_delay, self.retry.base_delay * 2.0 ** (attempt - 1))
        return backoff * (0.5 + self._rng.random() / 2)

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": [message.to_json() for message in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": request.stream,
        }
        if request.stream:
            body["stream_options"] = {"include_usage": True}
        if request.stop:
            body["stop"] = list(request.stop)
        if request.tools:
            body["tools"] = [dict(tool) for tool in request.tools]
        body.update(self.endpoint.body_options())
        body.update(request.extra)
        return body

    async def _attempt(
        self, request: ChatRequest, on_text: Callable[[str], None] | None
    ) -> ChatResponse:
        state = _Attempt()
        prompt_tokens = int(request.prompt_chars / 3.6)
        first_token = self.timeouts.first_token_for(prompt_tokens, self.endpoint.prompt_is_slow)
        deadline = time.monotonic() + first_token
        url = self.endpoint.chat_url
        stream = self._http.stream(
            "POST", url, json=self._body(request), headers=self._headers(url)
        )
        try:
            async with asyncio.timeout(first_token):
                response = await stream.__aenter__()
        except TimeoutError as exc:
            raise _first_token_timeout(first_token) from exc
        except httpx.TransportError as exc:
            raise _Retry(_transport_error(exc, self._redact), None) from exc
        try:
            await self._check_status(response)
            if "text/event-stream" in response.headers.get("content-type", ""):
                await self._read_stream(response, state, on_text, deadline)
            else:
                await self._read_json(response, state, on_text, deadline)
        except TimeoutError as exc:
            if state.started:
                raise ModelError(
                    ModelErrorKind.TIMEOUT_IDLE,
                    f"the model stopped sending for {self.timeouts.idle:.0f} s",
                    partial="".join(state.text),
                ) from exc
            raise _first_token_timeout(first_token) from exc
        except httpx.TransportError as exc:
            error = _transport_error(exc, self._redact)
            if state.started:
                raise ModelError(
                    ModelErrorKind.INTERRUPTED,
                    f"the stream broke off after {len(''.join(state.text))} characters ({exc})",
                    partial="".join(state.text),
                ) from exc
            raise _Retry(error, None) from exc
        finally:
            await stream.__aexit__(None, None, None)
        return self._finish(request, state)

    async def _check_status(self, response: httpx.Response) -> None:
        if response.status_code == 200:
            return
        body = await _read_limited(response)
        text = self._redact(_error_text(body))
        status = response.status_code
        if status == 429:
            error = ModelError(ModelErrorKind.RATE_LIMITED, f"rate limited (HTTP 429): {text}")
            raise _Retry(error, _retry_after(response))
        if status >= 500:
            error = ModelError(ModelErrorKind.SERVER_ERROR, f"server error (HTTP {status}): {text}")
            raise _Retry(error, _retry_after(response))
        if status in (401, 403):
            raise ModelError(
                ModelErrorKind.AUTH,
                f"the endpoint refused the API key (HTTP {status}); "
                f"check ${self.endpoint.api_key_env}",
            )
        lowered = text.lower()
        if status in (400, 413) and any(hint in lowered for hint in _CONTEXT_HINTS):
            raise ModelError(
                ModelErrorKind.CONTEXT_LENGTH,
                f"the prompt does not fit the model's context: {text}",
            )
        raise ModelError(
            ModelErrorKind.BAD_REQUEST, f"the endpoint rejected the request (HTTP {status}): {text}"
        )

    async def _next_line(self, lines: Any, state: _Attempt, deadline: float) -> str | None:
        budget = self.timeouts.idle if state.started else max(0.0, deadline - time.monotonic())
        async with asyncio.timeout(budget):
            try:
                line: str = await lines.__anext__()
            except StopAsyncIteration:
                return None
        return line

    async def _read_stream(
        self,
        response: httpx.Response,
        state: _Attempt,
        on_text: Callable[[str], None] | None,
        deadline: float,
    ) -> None:
        lines = response.aiter_lines()
        event_name: str | None = None
        while (line := await self._next_line(lines, state, deadline)) is not None:
            if line.startswith("event:"):
                event_name = line[6:].strip()
                continue
            try:
                event = parse_sse_line(line, event_name)
            except ValueError as exc:
                raise ModelError(
                    ModelErrorKind.BAD_RESPONSE,
                    f"malformed stream from the endpoint: {self._redact(line[:120])!r}",
                    partial="".join(state.text),
                ) from exc
            event_name = None
            if event is None:
                continue
            if event.done:
                return
            if event.error is not None:
                error = ModelError(
                    ModelErrorKind.SERVER_ERROR,
                    f"the endpoint reported an error: {self._redact(event.error)}",
                    partial="".join(state.text),
                )
                if state.started:
                    raise error
                raise _Retry(error, None)
            assert event.data is not None
            _absorb(event.data, state, on_text, delta_key="delta")

    async def _read_json(
        self,
        response: httpx.Response,
        state: _Attempt,
        on_text: Callable[[str], None] | None,
        deadline: float,
    ) -> None:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic()) + self.timeouts.idle):
            raw = await response.aread()
        try:
            data = json.loads(raw)
        except ValueError as exc:
            snippet = self._redact(raw[:120].decode("utf-8", "replace"))
            raise ModelError(
                ModelErrorKind.BAD_RESPONSE, f"the endpoint did not answer JSON: {snippet!r}"
            ) from exc
        if not isinstance(data, dict):
            raise ModelError(ModelErrorKind.BAD_RESPONSE, "the endpoint answered a non-object")
        _absorb(data, state, on_text, delta_key="message")

    def _finish(self, request: ChatRequest, state: _Attempt) -> ChatResponse:
        if not state.choices_seen:
            raise ModelError(ModelErrorKind.BAD_RESPONSE, "the endpoint answered with no choices")
        suspected = False
        if state.usage is not None and state.usage.prompt_tokens > 0:
            floor = request.prompt_chars / _CHARS_PER_TOKEN_UPPER
            suspected = state.usage.prompt_tokens < _TRUNCATION_RATIO * floor
            if suspected:
                logger.warning(
                    "the endpoint reports %d prompt tokens for ~%d expected: "
                    "the prompt was probably truncated (raise num_ctx / the context window)",
                    state.usage.prompt_tokens,
                    int(floor),
                )
        tool_calls = tuple(state.tool_calls[index] for index in sorted(state.tool_calls))
        return ChatResponse(
            text="".join(state.text),
            finish_reason=state.finish_reason,
            model=state.model,
            tool_calls=tool_calls,
            usage=state.usage,
            prompt_truncated_suspected=suspected,
        )


def _absorb(
    data: dict[str, Any],
    state: _Attempt,
    on_text: Callable[[str], None] | None,
    delta_key: str,
) -> None:
    """Fold one chunk (or a whole non-streamed answer) into the attempt's state."""
    state.model = str(data.get("model") or state.model)
    usage = data.get("usage")
    if isinstance(usage, dict):
        state.usage = Usage(
            int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        )
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        return
    choice = choices[0]
    if not isinstance(choice, dict):
        raise ModelError(ModelErrorKind.BAD_RESPONSE, "a choice was not an object")
    state.choices_seen = True
    delta = choice.get(delta_key) or {}
    content = delta.get("content") if isinstance(delta, dict) else None
    if isinstance(content, str) and content:
        state.started = True
        state.text.append(content)
        if on_text is not None:
            on_text(content)
    for call in (delta.get("tool_calls") or []) if isinstance(delta, dict) else []:
        if isinstance(call, dict):
            state.started = True
            _merge_tool_call(state.tool_calls, call)
    if choice.get("finish_reason"):
        state.finish_reason = str(choice["finish_reason"])


def _merge_tool_call(calls: dict[int, dict[str, Any]], call: dict[str, Any]) -> None:
    index = int(call.get("index", len(calls)))
    merged = calls.setdefault(index, {"id": "", "type": "function", "function": {}})
    if call.get("id"):
        merged["id"] = call["id"]
    function = call.get("function") or {}
    if function.get("name"):
        merged["function"]["name"] = function["name"]
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        merged["function"]["arguments"] = merged["function"].get("arguments", "") + arguments
    elif arguments is not None:
        merged["function"]["arguments"] = arguments


def _with_attempts(response: ChatResponse, attempts: int) -> ChatResponse:
    from dataclasses import replace

    return replace(response, attempts=attempts)


def _first_token_timeout(seconds: float) -> ModelError:
    return ModelError(
        ModelErrorKind.TIMEOUT_FIRST_TOKEN,
        f"no answer from the model within {seconds:.0f} s (is the server busy or the prompt huge?)",
    )


def _transport_error(exc: httpx.TransportError, redact: Callable[[str], str]) -> ModelError:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return ModelError(
            ModelErrorKind.CONNECT, f"cannot reach the model endpoint: {redact(str(exc))}"
        )
    return ModelError(
        ModelErrorKind.SERVER_ERROR, f"connection failed: {redact(str(exc)) or type(exc).__name__}"
    )


async def _read_limited(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _ERROR_BODY_LIMIT:
            break
    return b"".join(chunks)[:_ERROR_BODY_LIMIT]


def _error_text(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        if text.lstrip().lower().startswith(("<!doctype", "<html")):
            return "an HTML error page"
        return text[:300]
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:300]
        return str(error)[:300]
    return text[:300]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _json_or_error(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise ModelError(
            ModelErrorKind.BAD_REQUEST
            if response.status_code < 500
            else ModelErrorKind.SERVER_ERROR,
            f"HTTP {response.status_code}: {_error_text(response.content)}",
        )
    try:
        return response.json()
    except ValueError as exc:
        raise ModelError(ModelErrorKind.BAD_RESPONSE, "the endpoint did not answer JSON") from exc
