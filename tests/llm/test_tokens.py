"""Token counting: the endpoint's tokenizer first, a calibrated estimate otherwise."""

from __future__ import annotations

from smallcode_ls.context.tokens import TokenCounter, TokenEstimator
from smallcode_ls.llm.client import ChatClient
from smallcode_ls.llm.endpoints import Endpoint, EndpointKind
from tests.support.scripted_llm import ScriptedLLM, json_reply


def test_the_estimate_starts_at_the_prior_and_moves_towards_observations() -> None:
    estimator = TokenEstimator()
    assert estimator.estimate("x" * 360) == 100
    assert estimator.estimate("") == 0
    for _ in range(20):
        estimator.calibrate(chars=3000, tokens=1000)  # this model: 3 chars per token
    assert 3.0 <= estimator.chars_per_token < 3.05
    assert estimator.estimate("x" * 300) == 100


def test_tiny_or_absurd_observations_do_not_skew_the_estimate() -> None:
    estimator = TokenEstimator()
    estimator.calibrate(chars=10, tokens=1)  # too small to say anything
    estimator.calibrate(chars=5000, tokens=0)
    assert estimator.chars_per_token == 3.6
    estimator.calibrate(chars=100_000, tokens=1)  # clamped
    assert estimator.chars_per_token <= 8.0


async def test_a_llama_cpp_endpoint_counts_exactly_and_calibrates_the_estimate() -> None:
    async with ScriptedLLM() as llm:
        llm.enqueue(json_reply({"tokens": list(range(250))}))
        client = ChatClient(Endpoint(llm.base_url, "m", EndpointKind.LLAMA_CPP))
        counter = TokenCounter(client)
        count = await counter.count("y" * 1000)
        await client.aclose()
    assert (count.tokens, count.exact) == (250, True)
    assert llm.requests[0].path == "/tokenize" and llm.requests[0].body == {"content": "y" * 1000}
    assert counter.estimator.chars_per_token == (3.6 + 1000 / 250) / 2  # prior + one sample
    assert counter.estimator.samples == 1


async def test_an_endpoint_without_a_tokenizer_falls_back_to_the_estimate_once() -> None:
    async with ScriptedLLM() as llm:
        llm.enqueue(json_reply({"error": "not found"}, status=404))
        client = ChatClient(Endpoint(llm.base_url, "m", EndpointKind.LLAMA_CPP))
        counter = TokenCounter(client)
        first = await counter.count("z" * 360)
        second = await counter.count("z" * 360)
        await client.aclose()
    assert (first.exact, first.tokens) == (False, 100)
    assert second.exact is False and len(llm.requests) == 1  # not asked again


async def test_hosted_endpoints_are_never_asked_to_tokenize() -> None:
    client = ChatClient(Endpoint("https://api.example.invalid/v1", "m", EndpointKind.HOSTED))
    count = await TokenCounter(client).count("w" * 36)
    await client.aclose()
    assert (count.tokens, count.exact) == (10, False)
