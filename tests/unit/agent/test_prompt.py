"""The task prompt points a small model at the lines an error names."""

from __future__ import annotations

from smallcode_ls.agent.prompt import error_lines, task_prompt
from smallcode_ls.agent.tasks import TaskKind, TaskRequest

TEXT = "def f(x):\n    y = 1\n    return isinstance(int, x)\n"
OUTPUT = (
    "Fix the bug in `f` in pkg/mod.py so that the failing tests pass.\n"
    "pkg/mod.py:3: in f\n    return isinstance(int, x)\nE   TypeError: ...\n"
    'File "/tmp/x/pkg/mod.py", line 3, in f\n'
    'File "/tmp/x/other.py", line 2, in g\n'
)


def test_lines_named_by_a_traceback_are_shown_once_with_their_numbers() -> None:
    shown = error_lines(OUTPUT, "mod.py", TEXT)
    assert shown.splitlines() == [
        "The error output points at these lines of mod.py:",
        "    3 | return isinstance(int, x)",
    ]


def test_no_reference_no_section() -> None:
    assert error_lines("make it faster", "mod.py", TEXT) == ""
    assert error_lines("mod.py:99: out of range", "mod.py", TEXT) == ""


def test_the_section_is_part_of_the_task_prompt() -> None:
    request = TaskRequest(TaskKind.EDIT_SELECTION, "/w/pkg/mod.py", "file:///w/pkg/mod.py",
                          1, 0, OUTPUT)  # fmt: skip
    prompt = task_prompt("context", request, "f", "mod.py", "python", text=TEXT)
    assert "points at these lines of mod.py:\n    3 | return isinstance(int, x)" in prompt
    assert "points at" not in task_prompt("context", request, "f", "mod.py", "python")
