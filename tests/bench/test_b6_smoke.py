"""B6 smoke: a PLUMBING CHECK, not a quality figure.

Three tasks drawn by the real generator from a tiny checked-in sdist, run through the real
arms, proxy, runner and report against a replay model (answers keyed by the task named in
the prompt). It proves the pieces fit; it measures nothing about any model.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.scripted_llm import Reply, ScriptedLLM, json_reply, stream_reply

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from e2e_lib.arms import Endpoint  # noqa: E402
from e2e_lib.projects import Project, pristine, register  # noqa: E402
from e2e_lib.proxy import UsageProxy  # noqa: E402
from e2e_lib.report import build_report, load_rows  # noqa: E402
from e2e_lib.runner import run_suite  # noqa: E402
from e2e_lib.suite import Task, generate  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "b6demo-0.1.tar.gz"
AIDER_VENV = BENCH / ".cache" / "venvs" / "aider"


class ReplayLLM(ScriptedLLM):
    """Answers each chat call with the fix of the task its prompt names, in the arm's format."""

    def __init__(self, tasks: list[Task], pristine_root: Path) -> None:
        super().__init__()
        self.tasks = tasks
        self.root = pristine_root

    def answer(self, body: dict[str, Any]) -> Reply:
        messages = body.get("messages") or []
        prompt = "\n".join(str(m.get("content")) for m in messages)
        task = max((t for t in self.tasks if f"`{t.symbol}`" in prompt),
                   key=lambda t: len(t.symbol))  # fmt: skip
        whole = (self.root / task.file).read_text()
        system = str(messages[0].get("content")) if messages else ""
        if body.get("stream"):  # SmallCode-LS: the whole function
            text = f"```python\n{task.find}```\n"
        elif "JSON object" in system:  # the naive harness
            text = json.dumps({"path": task.file, "content": whole})
        elif "SEARCH/REPLACE" in system:  # aider diff
            text = (f"{task.file}\n```python\n<<<<<<< SEARCH\n{task.replace}=======\n"
                    f"{task.find}>>>>>>> REPLACE\n```\n")  # fmt: skip
        else:  # aider whole
            text = f"{task.file}\n```python\n{whole}```\n"
        usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4}
        if body.get("stream"):
            return stream_reply([text], usage=usage)
        message = {"role": "assistant", "content": text}
        return json_reply({"id": "r", "model": "replay", "usage": usage,
                           "choices": [{"index": 0, "message": message,
                                        "finish_reason": "stop"}]})  # fmt: skip

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await self._read_request(reader)
            self.requests.append(request)
            reply = self.answer(request.body or {})
            await self._respond(reply, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.disconnects += 1
        finally:
            writer.close()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    (tmp_path / "sdists").mkdir()
    shutil.copy(FIXTURE, tmp_path / "sdists" / FIXTURE.name)
    register(Project("b6demo", "0.1", ("b6demo",)))
    return tmp_path


@pytest.fixture
def tasks(cache: Path) -> list[Task]:
    drawn = generate(1, cache, per_project=2, projects=["b6demo"], log=lambda _: None)
    assert {t.kind for t in drawn} == {"mutation", "mask"}
    return drawn[:3]


@pytest.fixture
def replay(tasks: list[Task], cache: Path) -> Iterator[ReplayLLM]:
    root, _ = pristine(Project("b6demo", "0.1", ("b6demo",)), cache)
    llm = ReplayLLM(tasks, root)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(llm.__aenter__(), loop).result(10)
    yield llm
    asyncio.run_coroutine_threadsafe(llm.__aexit__(None, None, None), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def run_arms(arms: list[str], tasks: list[Task], llm: ReplayLLM, cache: Path) -> Path:
    proxy = UsageProxy(llm.base_url, turn_cap=3)
    url = proxy.start()
    out = cache / "rows.jsonl"
    endpoint = Endpoint(base_url=url, model="replay", aider_venv=AIDER_VENV, timeout=170)
    try:
        for _ in range(2):  # the second pass finds every row done: resumable
            run_suite(tasks, arms, endpoint, proxy, out, cache, sys.executable, log=lambda _: None)
    finally:
        proxy.close()
    return out


def test_generator_draws_verified_tasks(tasks: list[Task], cache: Path) -> None:
    assert len(tasks) == 3
    assert all(t.failing and t.tests and t.find != t.replace for t in tasks)
    assert any("TODO" in t.replace for t in tasks if t.kind == "mask")


def test_smallcode_and_naive_plumbing(tasks: list[Task], replay: ReplayLLM, cache: Path) -> None:
    rows = load_rows(run_arms(["smallcode", "naive"], tasks, replay, cache))
    assert len(rows) == 6  # one line per task x arm, not repeated by the second pass
    for row in rows:
        assert row["passed"], row  # the replayed fix makes the task's tests pass
        assert row["turns"] >= 1 and row["prompt_tokens"] > 0 and row["completion_tokens"] > 0
        assert row["format_failures"] == 0
    report = build_report(rows, {"model": "replay"}, suite_size=3)
    assert report["status"] == "complete: 3 tasks"
    assert report["arms_paired"]["smallcode"]["pass_at_1"] == 1.0
    assert report["mcnemar_vs_ours"]["naive"]["p_value"] == 1.0


@pytest.mark.skipif(
    not (AIDER_VENV / "bin" / "aider").exists(),
    reason="aider's venv (bench/.cache/venvs/aider, built by bench/edits.py) is not here",
)
def test_aider_plumbing(tasks: list[Task], replay: ReplayLLM, cache: Path) -> None:
    rows = load_rows(run_arms(["aider-whole", "aider-diff"], tasks[:1], replay, cache))
    assert len(rows) == 2
    for row in rows:
        assert row["edited"] and row["passed"], row
        assert row["turns"] >= 1 and row["prompt_tokens"] > 0
