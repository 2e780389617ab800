"""T2/G3: the message loop keeps answering while an agent task waits on a paused model.

Each cheap request sent during the task must be answered; the latency figures are
measured by ``bench/fuzz_lsp.py`` (report: bench/reports/fuzz-lsp.json), not asserted here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types

from tests.e2e.test_agent import ANSWER, actions_at, llm, model_asked, run_command, session
from tests.support.scripted_llm import stream_reply

__all__ = ["llm", "session"]  # fixtures used below


@pytest.fixture
def client_name() -> str:
    return "visual-studio-code"


async def test_requests_are_answered_while_the_model_is_paused_mid_answer(
    session: Any,
    llm: Any,
) -> None:
    client, uri, edits = session
    half = len(ANSWER) // 2
    slow = stream_reply([ANSWER[:half], ANSWER[half:]])
    assert slow.chunks is not None
    slow.chunks[1:1] = [0.1] * 25  # the model stops for 2.5 s after its first words
    llm.enqueue(slow)
    action = next(a for a in await actions_at(client, uri, 5) if "TODO" in a.title)
    task = asyncio.ensure_future(run_command(client, action))
    await model_asked(client)
    await llm.wait_request(timeout=30)
    answered = 0
    while not task.done():
        status, symbols = await asyncio.gather(
            client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="smallcode.status", arguments=[])
            ),
            client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
            ),
        )
        assert isinstance(status, dict) and symbols
        answered += 1
        await asyncio.sleep(0.02)
    assert answered >= 20  # all of them while the task was still waiting on the model
    assert (await task)["outcome"] == "applied" and len(edits) == 1
