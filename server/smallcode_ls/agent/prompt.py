"""Prompt text for the agent, from the files in ``prompts/`` (stable parts first)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from smallcode_ls.agent.tasks import TaskKind, TaskRequest
from smallcode_ls.agent.test_writing import TestTarget

__all__ = ["feedback_prompt", "system_prompt", "task_prompt", "task_sentence", "tests_prompt"]


@cache
def _template(name: str) -> str:
    return (
        resources.files("smallcode_ls.agent").joinpath("prompts", f"{name}.md").read_text("utf-8")
    )


def system_prompt() -> str:
    """The fixed system prompt (identical across tasks: llama.cpp caches it)."""
    return _template("system").strip()


def task_sentence(request: TaskRequest, symbol: str) -> str:
    """The request in one or two sentences."""
    where = f"`{symbol}`" if symbol else "this file"
    if request.kind is TaskKind.IMPLEMENT_TODO:
        todo = f": {request.instruction}" if request.instruction else ""
        return f"Implement the TODO in {where}{todo}. Remove the TODO comment and any stub."
    if request.kind is TaskKind.FIX_DIAGNOSTIC:
        problems = "; ".join(request.diagnostics) or request.instruction
        return f"Fix this problem in {where}: {problems}"
    return f"In {where}: {request.instruction}"


def task_prompt(
    context: str,
    request: TaskRequest,
    symbol: str,
    path: str,
    language: str,
    long_file: bool = False,
) -> str:
    """The user message: context, then the request, then the answer format.

    The format: the whole symbol when the task sits in one, the whole file when it is
    short, SEARCH/REPLACE with a worked example otherwise.
    """
    template = _template("symbol" if symbol else "search_replace" if long_file else "file")
    return template.format(
        context=context,
        task=task_sentence(request, symbol),
        symbol=symbol,
        path=path,
        language=language,
    ).strip()


def feedback_prompt(problem: str) -> str:
    """The retry message after an unusable answer."""
    return _template("feedback").format(problem=problem).strip()


def tests_prompt(context: str, symbol: str, source: str, target: TestTarget) -> str:
    """The user message for writing tests (new file, or tests appended to an existing one)."""
    existing = (
        f"The file {target.path.name} exists (shown above): add new tests only."
        if target.exists
        else ""
    )
    answer = (
        "only the new test functions and the imports they need"
        if target.exists
        else f"the complete new file {target.path.name}"
    )
    return _template("tests").format(
        context=context, symbol=symbol, source=source, module=target.module,
        existing=existing, answer=answer,
    ).strip()  # fmt: skip
