"""B6 pieces without a model: mutations, masks, imports, McNemar, the proxy's cap and count."""

from __future__ import annotations

import ast
import asyncio
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.scripted_llm import ScriptedLLM, json_reply

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from e2e_lib.mutate import functions, mask, mutations  # noqa: E402
from e2e_lib.naive import imported_files  # noqa: E402
from e2e_lib.proxy import UsageProxy  # noqa: E402
from e2e_lib.report import mcnemar  # noqa: E402

SOURCE = '''"""Module."""


def pick(items, low):
    """Items at least ``low``."""
    out = []
    for item in items:
        if item >= low and item != 7:
            out.append(item)
    return out
'''


def test_mutations_change_one_line_and_still_parse() -> None:
    function = functions(SOURCE)[0]
    changes = mutations(SOURCE, function)
    labels = {c.label for c in changes}
    assert {"flip comparison", "swap and/or", "negate condition", "return None"} <= labels
    original = function.text(SOURCE.splitlines(keepends=True))
    for change in changes:
        ast.parse(change.replace)
        before, after = original.splitlines(), change.replace.splitlines()
        assert len(before) == len(after)
        assert sum(1 for a, b in zip(before, after, strict=True) if a != b) == 1
    assert any("item < low" in c.replace for c in changes)


def test_mask_keeps_signature_and_docstring() -> None:
    change = mask(SOURCE, functions(SOURCE)[0])
    assert change is not None
    assert change.replace == (
        "def pick(items, low):\n"
        '    """Items at least ``low``."""\n'
        "    # TODO: implement pick\n"
        "    raise NotImplementedError\n"
    )
    assert change.line == 6  # the TODO line in the file


def test_imported_files_resolves_project_modules(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    for name in ("__init__", "a", "b", "c"):
        (tmp_path / "pkg" / f"{name}.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text(
        "import os\nfrom . import b\nfrom .c import thing\nimport pkg.b\n"
    )
    assert imported_files(tmp_path, "pkg/a.py") == ["pkg/__init__.py", "pkg/b.py", "pkg/c.py"]


def test_mcnemar_exact() -> None:
    ours = {f"t{i}": i < 8 for i in range(10)}
    peer = {f"t{i}": i < 2 for i in range(10)}
    result = mcnemar(ours, peer)
    assert (result["only_ours"], result["only_peer"]) == (6, 0)
    assert result["p_value"] == round(2 / 2**6, 4)


@pytest.fixture
def scripted() -> Iterator[ScriptedLLM]:
    llm = ScriptedLLM()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(llm.__aenter__(), loop).result(10)
    yield llm
    asyncio.run_coroutine_threadsafe(llm.__aexit__(None, None, None), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def post(url: str) -> dict[str, object]:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    request = urllib.request.Request(
        url + "/chat/completions", data=body.encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def test_proxy_counts_usage_and_refuses_calls_past_the_cap(scripted: ScriptedLLM) -> None:
    usage = {"prompt_tokens": 120, "completion_tokens": 7}
    message = {"role": "assistant", "content": "ok"}
    scripted.enqueue(json_reply({"choices": [{"message": message, "finish_reason": "stop"}],
                                 "usage": usage}))  # fmt: skip
    proxy = UsageProxy(scripted.base_url, turn_cap=1)
    url = proxy.start()
    try:
        proxy.begin("task/arm")
        assert post(url)["usage"] == usage
        with pytest.raises(urllib.error.HTTPError) as refused:
            post(url)
        assert refused.value.code == 400
        refused.value.close()
        calls, count = proxy.calls("task/arm")
    finally:
        proxy.close()
    assert [(c.prompt_tokens, c.completion_tokens, c.finish_reason) for c in calls] == [
        (120, 7, "stop")
    ]
    assert count == 1
    assert len(scripted.requests) == 1  # the refused call never reached the model


def test_a_subset_run_adds_its_arms_to_the_results_meta(tmp_path: Path) -> None:
    from e2e_lib.runner import merge_meta

    meta = tmp_path / "b6-x.meta.json"
    first = {"arms": ["smallcode", "naive"], "started_at": "t1", "threads": 2, "harness": "a"}
    merge_meta(meta, {**first, "model": "m"})
    merged = merge_meta(meta, {"arms": ["naive", "aider-diff"], "started_at": "t2",
                               "threads": 2, "harness": "b", "model": "m"})  # fmt: skip
    assert merged["arms"] == ["smallcode", "naive", "aider-diff"]
    assert merged["started_at"] == "t1" and [r["started_at"] for r in merged["runs"]] == [
        "t1",
        "t2",
    ]
    assert json.loads(meta.read_text()) == merged


def test_the_harness_version_names_the_commit() -> None:
    from e2e_lib.runner import harness_version

    version = harness_version(Path(__file__).resolve().parents[2])
    assert version == "unknown" or len(version.split("+")[0]) == 12


def test_the_report_orders_arms_and_compares_with_both_aider_formats() -> None:
    from e2e_lib.report import build_report

    def row(task: str, arm: str, passed: bool) -> dict[str, object]:
        return {"task": task, "kind": "mask", "arm": arm, "passed": passed, "format_failures": 0,
                "turns": 1, "prompt_tokens": 10, "completion_tokens": 1, "edited": True,
                "error": "", "refused_calls": 0, "cached_prompt_tokens": 0, "wall_s": 1.0,
                "model_seconds": 1.0}  # fmt: skip

    arrival = ("aider-diff", "naive", "aider-whole", "smallcode")
    rows = [row(t, arm, arm == "smallcode" or (arm == "aider-diff" and t == "a"))
            for arm in arrival for t in "abc"]  # fmt: skip
    report = build_report(rows, {}, suite_size=3)
    assert list(report["arms_paired"]) == ["smallcode", "naive", "aider-whole", "aider-diff"]
    assert report["ratios"]["pass_at_1_vs_aider_diff"] == 3.0
    assert report["targets"]["pass_at_1_vs_aider_whole"]["value"] == "inf"
    assert report["arms_paired"]["naive"]["wrong_edits"] == 3  # written, tests still fail
    assert report["arms_paired"]["smallcode"]["wrong_edits"] == 0
