"""Check a candidate text before anyone sees it: syntax (tree-sitter), then the linter.

The linter runs on a temporary copy, never on the user's files, through the process
gate (trust, confirmation, sandbox, time limit).
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_tree
from smallcode_ls.security.execution import Command, ExecutionRefused, ProcessGate

__all__ = ["lint_problem", "syntax_problem"]


def syntax_problem(path: str, old_text: str, new_text: str) -> str | None:
    """A model-readable syntax complaint about ``new_text``, or None when it parses.

    A file that already had errors is not held to a higher standard than before.
    """
    spec = language_for_path(path)
    if spec is None:
        return None
    tree = parse_tree(spec, new_text.encode("utf-8", "surrogatepass"))
    if not tree.root_node.has_error:
        return None
    if parse_tree(spec, old_text.encode("utf-8", "surrogatepass")).root_node.has_error:
        return None
    node = tree.root_node
    line = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "ERROR" or current.is_missing:
            line = current.start_point[0]
            break
        stack.extend(reversed(current.children))
    lines = new_text.splitlines()
    shown = lines[line].strip() if line < len(lines) else ""
    return f"the result has a syntax error at line {line + 1}: `{shown}`"


_LINT_TIMEOUT_S = 20.0
_LINT_LINE = re.compile(r"^[^:]+:\d+:\d+: (?P<code>[A-Z]+\d+) (?P<message>.*)$")


def _linter() -> list[str] | None:
    """Ruff (pyflakes rules only) when installed beside the server's Python, else None.

    Only the server's own environment: a ``ruff`` found on PATH could be the
    workspace's, and the sandbox binds only the server's Python prefix.
    """
    ruff = str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        # Pyflakes' error rules only: an unused import or variable, or an import the
        # answer repeated (F401/F841/F811), is harmless, and refusing it made small models
        # loop on otherwise correct answers (seen in B6).
        return [ruff, "check", "--isolated", "--no-cache", "--select", "F",
                "--ignore", "F401,F811,F841",
                "--output-format", "concise", "--quiet"]  # fmt: skip
    return None


async def _lint(gate: ProcessGate, command: list[str], name: str, text: str) -> Counter[str]:
    with tempfile.TemporaryDirectory(prefix="smallcode-lint-") as folder:
        target = Path(folder) / name
        target.write_text(text, encoding="utf-8")
        result = await gate.run(
            Command(
                (*command, name),
                Path(folder),
                name="lint",
                template=(*command, "<file>"),
                timeout_s=_LINT_TIMEOUT_S,
            )
        )
    if result.timed_out:
        raise TimeoutError
    found: Counter[str] = Counter()
    for line in result.output.splitlines():
        match = _LINT_LINE.match(line)
        if match:
            found[f"{match.group('code')} {match.group('message')}"] += 1
    return found


async def lint_problem(
    gate: ProcessGate | None, path: str, old_text: str, new_text: str
) -> str | None:
    """Problems the edit introduces by the linter's judgement (run on a temporary copy).

    Only new findings count (the file may already have some); None when clean, when
    no linter is installed, for languages without one, or when no process may run
    (``gate`` None, or the gate refuses: untrusted, denied, no sandbox).
    """
    if gate is None:
        return None
    if language_for_path(path) is None or not path.endswith((".py", ".pyi")):
        return None
    command = _linter()
    if command is None:
        return None
    name = Path(path).name
    try:
        before = await _lint(gate, command, name, old_text)
        after = await _lint(gate, command, name, new_text)
    except (OSError, TimeoutError, ExecutionRefused):
        return None
    introduced = after - before
    if not introduced:
        return None
    listed = "; ".join(sorted(introduced)[:3])
    return f"the result has new lint errors: {listed}"
