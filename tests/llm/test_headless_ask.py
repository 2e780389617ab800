"""``smallcode-ls ask``: streams an answer from the configured endpoint, exit codes by outcome."""

from __future__ import annotations

import asyncio
import io
import os
import sys

from smallcode_ls.headless import EXIT_FAILED, EXIT_OK, EXIT_TRUNCATED, ask
from tests.support.scripted_llm import ScriptedLLM, stream_reply


async def run_ask(base_url: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {"SMALLCODE_BASE_URL": base_url, "SMALLCODE_MODEL": "scripted-coder"}
    code = await ask("reverse a string", env, max_tokens=50, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_ask_streams_the_answer_and_names_the_model() -> None:
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply(["s[::", "-1]"]))
        code, out, err = await run_ask(llm.base_url)
    assert (code, out) == (EXIT_OK, "s[::-1]\n")
    assert f"scripted-coder at {llm.base_url}" in err
    body = llm.requests[0].body
    assert body["model"] == "scripted-coder" and body["max_tokens"] == 50
    assert body["messages"][-1] == {"role": "user", "content": "reverse a string"}


async def test_a_truncated_answer_exits_3_and_says_so() -> None:
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply(["def f(", "x"], finish="length"))
        code, out, err = await run_ask(llm.base_url)
    assert code == EXIT_TRUNCATED and out == "def f(x\n" and "incomplete (length)" in err


async def test_a_dead_endpoint_exits_1_with_a_clear_message() -> None:
    async with ScriptedLLM() as llm:
        dead = llm.base_url
    code, out, err = await run_ask(dead)
    assert code == EXIT_FAILED and out == ""
    assert "cannot reach the model endpoint" in err


async def test_the_console_command_runs_as_a_process() -> None:
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply(["hello"]))
        env = {**os.environ, "SMALLCODE_BASE_URL": llm.base_url, "SMALLCODE_MODEL": "m"}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "smallcode_ls",
            "ask",
            "hi",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err
    assert out == b"hello\n"
