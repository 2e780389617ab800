"""Headless use without an editor: ``smallcode-ls ask "..."`` talks to the configured model.

Uses the same settings (environment overrides) and the same model service as the
server, so it is also the quickest check that the embedded model works.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from smallcode_ls.errors import SmallCodeError
from smallcode_ls.llm.service import ModelService
from smallcode_ls.llm.types import ChatMessage, ChatRequest
from smallcode_ls.security.execution import Confirmation, Decision, ProcessGate, deny_all
from smallcode_ls.security.paths import PathRefused, guard_change, write_inside
from smallcode_ls.security.trust import TrustStore, WorkspaceTrust, default_store_path
from smallcode_ls.settings import parse_settings

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_TRUNCATED", "ask", "run"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_TRUNCATED = 3

_SYSTEM = "You are a concise coding assistant. Answer with code when code is asked for."


async def ask(
    prompt: str,
    env: Mapping[str, str],
    max_tokens: int | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Stream the model's answer to ``out``; report the model and any problem on ``err``."""
    result = parse_settings(None, env=env)
    for problem in result.problems:
        err.write(f"smallcode: invalid setting {problem}\n")
    settings = result.settings.model
    service = ModelService(settings, env)
    try:
        client = await service.client()
        status = service.status()
        err.write(f"smallcode: {status.model or '(default model)'} at {status.base_url}\n")
        request = ChatRequest(
            messages=(ChatMessage("system", _SYSTEM), ChatMessage("user", prompt)),
            max_tokens=max_tokens or settings.max_output_tokens,
        )

        def write(text: str) -> None:
            out.write(text)
            out.flush()

        response = await client.chat(request, on_text=write)
        out.write("\n")
        if not response.complete:
            err.write(
                f"smallcode: the answer is incomplete ({response.completion.value}); "
                "raise --max-tokens or model.maxOutputTokens\n"
            )
            return EXIT_TRUNCATED
        return EXIT_OK
    except SmallCodeError as exc:
        err.write(f"smallcode: {exc}\n")
        return EXIT_FAILED
    finally:
        await service.aclose()


async def _approve_named(question: Confirmation) -> Decision:
    """--trust: the named validation commands may run this time; nothing ad hoc."""
    return Decision.ONCE if question.name else Decision.DENY


def _split_target(target: str) -> tuple[str, str]:
    """``FILE[:LINE]`` -> (file, line or "")."""
    name, _, line = target.rpartition(":")
    return (name, line) if name and line.isdigit() else (target, "")


def _project_root(path: Path) -> Path:
    for folder in [path.parent, *path.parent.parents]:
        if any((folder / marker).exists() for marker in (".git", "pyproject.toml", "setup.py")):
            return folder
    return path.parent


async def run(
    instruction: str,
    target: str,
    env: Mapping[str, str],
    apply: bool = False,
    as_json: bool = False,
    trust: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run one agent task on FILE[:LINE]; print the validated edit as a diff (or JSON).

    Without ``trust`` (and no record in the user-level trust store) no process runs:
    the edit is checked in-process only. ``trust`` approves the named validation
    commands for this run; they still run in the sandbox.
    """
    import asyncio
    import json
    from dataclasses import asdict

    from smallcode_ls.agent.loop import AgentLoop
    from smallcode_ls.agent.memory import Memory, memory_path
    from smallcode_ls.agent.runner import request_for, run_task
    from smallcode_ls.agent.tasks import TaskOutcome
    from smallcode_ls.context.builder import ContextBuilder
    from smallcode_ls.context.tokens import TokenEstimator
    from smallcode_ls.graph.cache import default_cache_dir
    from smallcode_ls.graph.index import WorkspaceIndex
    from smallcode_ls.navigation import read_disk_text

    name, line_text = _split_target(target)
    path = Path(name).resolve()
    text = read_disk_text(str(path)) if path.is_file() else None
    if text is None:
        err.write(f"smallcode: cannot read {name}\n")
        return EXIT_FAILED
    line = int(line_text) - 1 if line_text else None
    settings = parse_settings(None, env=env).settings
    progress = err.isatty()

    def report(message: str) -> None:
        if progress:
            err.write(f"\rsmallcode: {message}\x1b[K")
            err.flush()

    root = _project_root(path)
    workspace_trust = WorkspaceTrust.resolve(root, TrustStore(default_store_path(env)), None)
    if trust:
        workspace_trust.grant(persist=False, source="--trust")
    gate = ProcessGate(workspace_trust, _approve_named if trust else deny_all,
                       allow_unsandboxed=settings.security.allow_unsandboxed)  # fmt: skip
    if not workspace_trust.trusted:
        err.write("smallcode: project not trusted: no linter or tests run (--trust to allow)\n")
    index = WorkspaceIndex(root, max_file_bytes=settings.index.max_file_bytes)
    report("indexing")
    await asyncio.to_thread(index.build)
    estimator = TokenEstimator()
    loop = AgentLoop(ContextBuilder(index, estimator.estimate, read_disk_text),
                     settings.context.budget_tokens, index=index, estimator=estimator,
                     gate=gate)  # fmt: skip
    models = ModelService(settings.model, env)
    request = request_for(path, text, instruction, line)
    memory = Memory(memory_path(default_cache_dir(), root))
    try:
        finished = await run_task(loop, models, settings, request, text, report, memory)
    except SmallCodeError as exc:
        err.write(f"\nsmallcode: {exc}\n")
        return EXIT_FAILED
    finally:
        await models.aclose()
        memory.close()
    if progress:
        err.write("\n")
    result = finished.result
    if finished.new_text is not None and apply:
        try:
            checked = guard_change(root, finished.path, finished.old_text, finished.new_text)
            write_inside(checked, finished.new_text)
        except (PathRefused, OSError) as exc:
            err.write(f"smallcode: not written: {exc}\n")
            return EXIT_FAILED
        result = type(result)(**{**asdict(result), "outcome": TaskOutcome.APPLIED})
    if as_json:
        out.write(json.dumps(asdict(result), indent=2) + "\n")
    elif result.diff:
        out.write(result.diff)
    err.write(
        f"smallcode: {result.message}; {result.model}, {result.prompt_tokens} prompt + "
        f"{result.completion_tokens} completion tokens\n"
    )
    return EXIT_OK if finished.new_text is not None else EXIT_FAILED
