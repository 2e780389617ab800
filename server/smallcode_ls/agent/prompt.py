"""Prompt text for the agent, from the files in ``prompts/`` (stable parts first)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import PurePath

from smallcode_ls.agent.tasks import TaskKind, TaskRequest
from smallcode_ls.agent.test_writing import TestTarget

__all__ = [
    "error_lines",
    "feedback_prompt",
    "system_prompt",
    "task_prompt",
    "task_sentence",
    "tests_prompt",
]

_MAX_ERROR_LINES = 3


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


def error_lines(instruction: str, path: str, text: str) -> str:
    """The lines of ``path`` that error output in the instruction points at, numbered.

    Tracebacks name ``file.py:17`` or ``File "file.py", line 17``; a small model finds
    the bug far more often when the line is put in front of it than when it has to match
    the traceback to the code itself. Empty when the instruction names no such line.
    """
    name = re.escape(PurePath(path).name)
    found: list[int] = []
    for match in re.finditer(rf'{name}"?(?::|, line )(\d+)', instruction):
        number = int(match.group(1))
        if number not in found:
            found.append(number)
    lines = text.splitlines()
    shown = [f"{n:>5} | {lines[n - 1].strip()}" for n in found[:_MAX_ERROR_LINES]
             if 0 < n <= len(lines)]  # fmt: skip
    if not shown:
        return ""
    return f"The error output points at these lines of {PurePath(path).name}:\n" + "\n".join(shown)


def task_prompt(
    context: str,
    request: TaskRequest,
    symbol: str,
    path: str,
    language: str,
    long_file: bool = False,
    text: str = "",
) -> str:
    """The user message: context, then the request, then the answer format.

    The format: the whole symbol when the task sits in one, the whole file when it is
    short, SEARCH/REPLACE with a worked example otherwise.
    """
    template = _template("symbol" if symbol else "search_replace" if long_file else "file")
    task = task_sentence(request, symbol)
    pointed = error_lines(request.instruction, path, text) if text else ""
    return template.format(
        context=context,
        task=f"{task}\n\n{pointed}" if pointed else task,
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
