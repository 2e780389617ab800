"""Find tasks in a document without any model call (code actions must be fast)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from smallcode_ls.agent.tasks import TaskKind, TaskSpot
from smallcode_ls.graph.symbols import FileSymbols, SymbolKind

__all__ = ["find_tasks", "plan_steps"]

_TODO = re.compile(r"(?:#|//|/\*|\*)\s*(TODO|FIXME)\b[:\s]*(?P<text>.*)", re.IGNORECASE)
_STUB = re.compile(r"^\s*(raise\s+NotImplementedError\b.*|pass|\.\.\.)\s*$")
_TESTABLE = {SymbolKind.FUNCTION, SymbolKind.METHOD, SymbolKind.CLASS}


def _innermost(file: FileSymbols | None, line: int, kinds: set[SymbolKind]) -> str:
    best = ""
    if file is None:
        return best
    for symbol in file.symbols:
        if symbol.kind in kinds and symbol.span.start_line <= line <= symbol.span.end_line:
            best = symbol.name
    return best


def _todo_in(lines: Sequence[str], start: int, end: int) -> tuple[int, str] | None:
    for number in range(max(0, start), min(len(lines), end + 1)):
        match = _TODO.search(lines[number])
        if match:
            return number, match.group("text").strip()
    return None


def find_tasks(
    text: str,
    file: FileSymbols | None,
    start_line: int,
    end_line: int,
    diagnostics: Sequence[tuple[int, str]] = (),
    has_selection: bool = False,
) -> list[TaskSpot]:
    """Tasks offered for the range ``start_line..end_line`` (0-based, inclusive)."""
    lines = text.splitlines()
    spots: list[TaskSpot] = []
    todo = _todo_in(lines, start_line, end_line)
    symbol = _innermost(file, start_line, {SymbolKind.FUNCTION, SymbolKind.METHOD})
    if todo is not None:
        line, what = todo
        owner = _innermost(file, line, {SymbolKind.FUNCTION, SymbolKind.METHOD}) or symbol
        spots.append(
            TaskSpot(TaskKind.IMPLEMENT_TODO, "SmallCode: implement TODO", line, owner, what)
        )
    elif start_line < len(lines) and _STUB.match(lines[start_line]) and symbol:
        near = _todo_in(lines, start_line - 3, start_line + 1)
        if near is not None or "NotImplementedError" in lines[start_line]:
            what = near[1] if near else ""
            spots.append(
                TaskSpot(
                    TaskKind.IMPLEMENT_TODO, "SmallCode: implement TODO", start_line, symbol, what
                )
            )
    for line, message in diagnostics:
        spots.append(
            TaskSpot(
                TaskKind.FIX_DIAGNOSTIC,
                f"SmallCode: fix diagnostic: {message[:60]}",
                line,
                _innermost(file, line, _TESTABLE),
                message,
            )  # fmt: skip
        )
    testable = _innermost(file, start_line, _TESTABLE)
    if testable and not testable.startswith("test"):
        spots.append(
            TaskSpot(
                TaskKind.WRITE_TESTS, f"SmallCode: write tests for {testable}", start_line, testable
            )
        )
    if has_selection:
        spots.append(
            TaskSpot(TaskKind.EDIT_SELECTION, "SmallCode: edit selection...", start_line, symbol)
        )
    return spots


_STEP = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+(?P<step>\S.*)$")


def plan_steps(instruction: str) -> list[str]:
    """The steps of a multi-step instruction (a list of "-" or "1." items), else []."""
    steps = [match.group("step").strip() for line in instruction.splitlines()
             if (match := _STEP.match(line))]  # fmt: skip
    return steps if len(steps) >= 2 else []
