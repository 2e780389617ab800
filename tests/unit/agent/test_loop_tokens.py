"""The loop calibrates the token estimate from what the endpoint reports."""

from __future__ import annotations

from pathlib import Path

from smallcode_ls.agent.loop import AgentLoop
from smallcode_ls.agent.tasks import TaskKind, TaskRequest
from smallcode_ls.context.builder import ContextBuilder
from smallcode_ls.context.tokens import TokenEstimator
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.llm.client import ChatClient
from smallcode_ls.llm.endpoints import Endpoint, EndpointKind
from smallcode_ls.navigation import read_disk_text
from tests.support.scripted_llm import ScriptedLLM, stream_reply

TEXT = "def f():\n    # TODO: return one\n    raise NotImplementedError\n"
ANSWER = "```python\ndef f():\n    return 1\n```"


async def test_reported_prompt_tokens_calibrate_the_estimate(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(TEXT)
    index = WorkspaceIndex(tmp_path, workers=1)
    index.build()
    estimator = TokenEstimator()
    loop = AgentLoop(ContextBuilder(index, estimator.estimate, read_disk_text), 2000,
                     estimator=estimator)  # fmt: skip
    request = TaskRequest(TaskKind.IMPLEMENT_TODO, str(tmp_path / "m.py"),
                          (tmp_path / "m.py").as_uri(), 1, 1, "return one")  # fmt: skip
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([ANSWER], usage={"prompt_tokens": 200, "completion_tokens": 9}))
        client = ChatClient(Endpoint(llm.base_url, "m", EndpointKind.LLAMA_CPP))
        outcome = await loop.run(client, request, TEXT, lambda _: None, 64)
        await client.aclose()
    assert outcome.new_text is not None and outcome.prompt_tokens == 200
    prompt_chars = sum(len(m["content"]) for m in llm.requests[0].body["messages"])
    assert estimator.samples == 1
    assert estimator.chars_per_token == (3.6 + prompt_chars / 200) / 2
