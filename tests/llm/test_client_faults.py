"""The chat client against a real scripted HTTP server: the endpoint fault matrix.

Every fault ends in a classified outcome within its time bound, retries follow the
policy (counted with a fake sleep), and truncated output is told from complete output.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest

from smallcode_ls.errors import ModelError, ModelErrorKind
from smallcode_ls.llm.client import ChatClient, RetryPolicy, Timeouts
from smallcode_ls.llm.endpoints import Endpoint, EndpointKind
from smallcode_ls.llm.types import ChatMessage, ChatRequest, Completion
from tests.support.scripted_llm import (
    Reply,
    ScriptedLLM,
    delta,
    json_reply,
    sse,
    stream_reply,
)

FAST = Timeouts(
    connect=1.0, first_token=0.5, first_token_per_1k_prompt_tokens=0.0, idle=0.5, total=5.0
)
REQUEST = ChatRequest(messages=(ChatMessage("user", "Say hi."),), max_tokens=32)
SECRET = "sk-test-0123456789abcdef"


class FakeSleep:
    """Records retry delays instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def llm() -> AsyncIterator[ScriptedLLM]:
    async with ScriptedLLM() as server:
        yield server


def make_client(
    base_url: str, sleep: FakeSleep | None = None, kind: EndpointKind = EndpointKind.LLAMA_CPP
) -> ChatClient:
    endpoint = Endpoint(base_url, "scripted", kind, context_window=4096, api_key_env="TEST_KEY")
    return ChatClient(
        endpoint,
        timeouts=FAST,
        retry=RetryPolicy(attempts=3),
        env={"TEST_KEY": SECRET},
        sleep=sleep or FakeSleep(),
    )


async def run(client: ChatClient, request: ChatRequest = REQUEST, bound: float = 3.0):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    try:
        return await client.chat(request)
    finally:
        assert time.monotonic() - started < bound, "the call outlived its time bound"
        await client.aclose()


async def failure(client: ChatClient, bound: float = 3.0) -> ModelError:
    with pytest.raises(ModelError) as error:
        await run(client, bound=bound)
    assert SECRET not in str(error.value)
    return error.value


async def test_a_streamed_answer_is_complete_and_streams_its_text(llm: ScriptedLLM) -> None:
    llm.enqueue(stream_reply(["Hel", "lo"], usage={"prompt_tokens": 9, "completion_tokens": 2}))
    seen: list[str] = []
    client = make_client(llm.base_url)
    response = await client.chat(REQUEST, on_text=seen.append)
    await client.aclose()
    assert (response.text, response.complete, seen) == ("Hello", True, ["Hel", "lo"])
    assert response.usage is not None and response.usage.prompt_tokens == 9
    body = llm.requests[0].body
    assert body["stream"] is True and body["cache_prompt"] is True  # llama.cpp profile
    assert body["messages"] == [{"role": "user", "content": "Say hi."}]


async def test_the_api_key_goes_to_the_configured_origin_only_and_never_into_errors(
    llm: ScriptedLLM,
) -> None:
    llm.enqueue(json_reply({"error": {"message": f"bad key {SECRET}"}}, status=401))
    error = await failure(make_client(llm.base_url))
    assert error.kind is ModelErrorKind.AUTH
    assert llm.requests[0].headers["authorization"] == f"Bearer {SECRET}"


async def test_connection_refused_is_retried_then_classified(unused_tcp_port: int) -> None:
    sleep = FakeSleep()
    error = await failure(make_client(f"http://127.0.0.1:{unused_tcp_port}/v1", sleep))
    assert error.kind is ModelErrorKind.CONNECT
    assert len(sleep.delays) == 2  # 3 attempts
    assert 0.25 <= sleep.delays[0] <= 0.5 and 0.5 <= sleep.delays[1] <= 1.0  # backoff + jitter


async def test_a_reset_after_the_first_token_is_interrupted_keeps_the_partial_and_is_not_retried(
    llm: ScriptedLLM,
) -> None:
    reply = stream_reply(["def f():", "\n    return 1"])
    reply.reset_after = 1
    llm.enqueue(reply)
    error = await failure(make_client(llm.base_url))
    assert error.kind is ModelErrorKind.INTERRUPTED
    assert error.partial == "def f():"
    assert len(llm.requests) == 1


async def test_a_reset_before_any_token_is_retried(llm: ScriptedLLM) -> None:
    broken = stream_reply(["x"])
    broken.reset_after = 0
    llm.enqueue(broken, stream_reply(["ok"]))
    response = await run(make_client(llm.base_url))
    assert response.text == "ok" and response.attempts == 2


async def test_a_clean_end_without_finish_reason_is_reported_as_truncated(llm: ScriptedLLM) -> None:
    llm.enqueue(stream_reply(["half an ans"], finish=None, done=False))
    response = await run(make_client(llm.base_url))
    assert response.text == "half an ans"
    assert not response.complete and response.completion is Completion.NO_FINISH_REASON


async def test_finish_reason_length_is_truncated(llm: ScriptedLLM) -> None:
    llm.enqueue(stream_reply(["cut"], finish="length"))
    response = await run(make_client(llm.base_url))
    assert not response.complete and response.completion is Completion.LENGTH


async def test_malformed_sse_is_a_bad_response(llm: ScriptedLLM) -> None:
    llm.enqueue(
        Reply(
            headers={"content-type": "text/event-stream"}, chunks=[delta("a"), b"data: {oops\n\n"]
        )
    )
    error = await failure(make_client(llm.base_url))
    assert error.kind is ModelErrorKind.BAD_RESPONSE and error.partial == "a"


async def test_an_error_event_in_the_stream_is_classified(llm: ScriptedLLM) -> None:
    chunks: list[bytes | float] = [delta("a"), sse({"error": {"message": "slot crashed"}})]
    llm.enqueue(Reply(headers={"content-type": "text/event-stream"}, chunks=chunks))
    error = await failure(make_client(llm.base_url))
    assert error.kind is ModelErrorKind.SERVER_ERROR and "slot crashed" in str(error)


async def test_a_stall_before_the_first_token_times_out_within_the_budget(llm: ScriptedLLM) -> None:
    llm.enqueue(Reply(stall=3.0, headers={"content-type": "text/event-stream"}, chunks=[]))
    started = time.monotonic()
    error = await failure(make_client(llm.base_url), bound=1.5)
    assert error.kind is ModelErrorKind.TIMEOUT_FIRST_TOKEN
    assert time.monotonic() - started >= 0.4


async def test_a_stall_after_the_first_token_times_out_as_idle_with_the_partial(
    llm: ScriptedLLM,
) -> None:
    reply = stream_reply(["par", "tial"])
    assert reply.chunks is not None
    reply.chunks.insert(1, 3.0)
    llm.enqueue(reply)
    error = await failure(make_client(llm.base_url), bound=1.5)
    assert error.kind is ModelErrorKind.TIMEOUT_IDLE and error.partial == "par"


async def test_a_slow_drip_is_bounded_by_the_total_budget(llm: ScriptedLLM) -> None:
    chunks: list[bytes | float] = []
    for _ in range(20):
        chunks += [delta("x"), 0.3]
    llm.enqueue(Reply(headers={"content-type": "text/event-stream"}, chunks=chunks))
    client = make_client(llm.base_url)
    client.timeouts = Timeouts(first_token=1.0, idle=1.0, total=1.5)
    error = await failure(client, bound=2.5)
    assert error.kind is ModelErrorKind.TIMEOUT_TOTAL


async def test_429_with_a_short_retry_after_is_honoured(llm: ScriptedLLM) -> None:
    sleep = FakeSleep()
    llm.enqueue(json_reply({"error": "busy"}, 429, {"retry-after": "1"}), stream_reply(["ok"]))
    response = await run(make_client(llm.base_url, sleep))
    assert response.text == "ok" and sleep.delays == [1.0]


async def test_429_with_a_day_long_retry_after_fails_fast(llm: ScriptedLLM) -> None:
    sleep = FakeSleep()
    llm.enqueue(json_reply({"error": "quota"}, 429, {"retry-after": "86400"}))
    error = await failure(make_client(llm.base_url, sleep))
    assert error.kind is ModelErrorKind.RATE_LIMITED and "86400" in str(error)
    assert sleep.delays == [] and len(llm.requests) == 1


async def test_a_502_html_page_is_retried_then_reported_without_the_html(llm: ScriptedLLM) -> None:
    page = Reply(
        status=502,
        headers={"content-type": "text/html"},
        body=b"<html><body>Bad Gateway</body></html>",
    )
    llm.enqueue(page, page, page)
    error = await failure(make_client(llm.base_url))
    assert error.kind is ModelErrorKind.SERVER_ERROR and "HTML error page" in str(error)
    assert len(llm.requests) == 3


async def test_a_200_html_page_is_a_bad_response(llm: ScriptedLLM) -> None:
    llm.enqueue(
        Reply(headers={"content-type": "text/html"}, body=b"<!doctype html><p>captive portal")
    )
    error = await failure(make_client(llm.base_url))
    assert error.kind is ModelErrorKind.BAD_RESPONSE


async def test_empty_choices_are_a_bad_response(llm: ScriptedLLM) -> None:
    llm.enqueue(json_reply({"id": "x", "choices": []}))
    error = await failure(make_client(llm.base_url))
    assert error.kind is ModelErrorKind.BAD_RESPONSE and "no choices" in str(error)


async def test_a_context_length_error_is_classified_and_never_retried(llm: ScriptedLLM) -> None:
    message = "the request exceeds the available context size, try increasing it"
    llm.enqueue(
        json_reply(
            {"error": {"code": 400, "message": message, "type": "exceed_context_size_error"}}, 400
        )
    )
    error = await failure(make_client(llm.base_url))
    assert error.kind is ModelErrorKind.CONTEXT_LENGTH and len(llm.requests) == 1


async def test_ollama_gets_num_ctx_and_silent_prompt_truncation_is_detected(
    llm: ScriptedLLM,
) -> None:
    llm.enqueue(stream_reply(["ok"], usage={"prompt_tokens": 12, "completion_tokens": 1}))
    long_prompt = ChatRequest(messages=(ChatMessage("user", "word " * 2000),))
    response = await run(make_client(llm.base_url, kind=EndpointKind.OLLAMA), long_prompt)
    assert llm.requests[0].body["options"] == {"num_ctx": 4096}
    assert response.prompt_truncated_suspected


async def test_an_honest_usage_report_raises_no_truncation_alarm(llm: ScriptedLLM) -> None:
    llm.enqueue(stream_reply(["ok"], usage={"prompt_tokens": 2010, "completion_tokens": 1}))
    request = ChatRequest(messages=(ChatMessage("user", "word " * 2000),))
    response = await run(make_client(llm.base_url, kind=EndpointKind.OLLAMA), request)
    assert not response.prompt_truncated_suspected


async def test_invalid_utf8_in_the_stream_does_not_break_the_call(llm: ScriptedLLM) -> None:
    bad = (
        b'data: {"choices":[{"index":0,"delta":{"content":"caf\xe9"},"finish_reason":"stop"}]}\n\n'
    )
    llm.enqueue(Reply(headers={"content-type": "text/event-stream"}, chunks=[bad]))
    response = await run(make_client(llm.base_url))
    assert response.complete and response.text.startswith("caf")


async def test_a_non_streamed_answer_is_parsed(llm: ScriptedLLM) -> None:
    llm.enqueue(
        json_reply(
            {
                "model": "m",
                "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}],
            }
        )
    )
    request = ChatRequest(messages=REQUEST.messages, stream=False)
    response = await run(make_client(llm.base_url), request)
    assert (response.text, response.complete, response.model) == ("hi", True, "m")


async def test_native_tool_call_deltas_are_merged(llm: ScriptedLLM) -> None:
    def call(arguments: str, name: str | None = None) -> bytes:
        function = {"arguments": arguments, **({"name": name} if name else {})}
        choice = {
            "index": 0,
            "delta": {"tool_calls": [{"index": 0, "id": "t1", "function": function}]},
        }
        return sse({"choices": [choice]})

    chunks: list[bytes | float] = [
        call('{"path": ', "read_file"),
        call('"a.py"}'),
        delta("", "tool_calls"),
        sse("[DONE]"),
    ]
    llm.enqueue(Reply(headers={"content-type": "text/event-stream"}, chunks=chunks))
    response = await run(make_client(llm.base_url))
    assert response.complete
    assert response.tool_calls == (
        {
            "id": "t1",
            "type": "function",
            "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
        },
    )


async def test_cancelling_the_call_closes_the_stream(llm: ScriptedLLM) -> None:
    reply = stream_reply(["a"])
    assert reply.chunks is not None
    reply.chunks[1:1] = [0.2] * 25
    llm.enqueue(reply)
    client = make_client(llm.base_url)
    client.timeouts = Timeouts(idle=10.0, total=10.0)
    first = asyncio.Event()
    task = asyncio.create_task(client.chat(REQUEST, on_text=lambda _: first.set()))
    await asyncio.wait_for(first.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await llm.wait_disconnect(timeout=2.0)
    await client.aclose()


async def test_list_models_and_tokenize(llm: ScriptedLLM) -> None:
    llm.enqueue(
        json_reply({"data": [{"id": "qwen"}, {"id": "llama"}]}), json_reply({"tokens": [1, 2, 3]})
    )
    client = make_client(llm.base_url)
    assert await client.list_models() == ["qwen", "llama"]
    assert await client.tokenize("a b c") == 3
    assert llm.requests[1].path == "/tokenize"
    await client.aclose()


@pytest.fixture
def unused_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
