"""Check a candidate text before anyone sees it: syntax (tree-sitter), then the linter.

The linter runs on a temporary copy, never on the user's files, with a time limit.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_tree

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
    """Ruff (pyflakes rules only) when it is installed, else None."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        return [ruff, "check", "--isolated", "--no-cache", "--select", "F",
                "--output-format", "concise", "--quiet"]  # fmt: skip
    return None


async def _lint(command: list[str], name: str, text: str) -> Counter[str] | None:
    with tempfile.TemporaryDirectory(prefix="smallcode-lint-") as folder:
        target = Path(folder) / name
        target.write_text(text, encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            *command, str(target), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), _LINT_TIMEOUT_S)
        except (TimeoutError, asyncio.CancelledError):
            process.kill()
            await process.wait()
            raise
    found: Counter[str] = Counter()
    for line in out.decode("utf-8", "replace").splitlines():
        match = _LINT_LINE.match(line)
        if match:
            found[f"{match.group('code')} {match.group('message')}"] += 1
    return found


async def lint_problem(path: str, old_text: str, new_text: str) -> str | None:
    """Problems the edit introduces by the linter's judgement (run on a temporary copy).

    Only new findings count (the file may already have some); None when clean, when
    no linter is installed, or for languages without one.
    """
    if language_for_path(path) is None or not path.endswith((".py", ".pyi")):
        return None
    command = _linter()
    if command is None:
        return None
    name = Path(path).name
    try:
        before = await _lint(command, name, old_text)
        after = await _lint(command, name, new_text)
    except (OSError, TimeoutError):
        return None
    if before is None or after is None:
        return None
    introduced = after - before
    if not introduced:
        return None
    listed = "; ".join(sorted(introduced)[:3])
    return f"the result has new lint errors: {listed}"
