"""The naive harness (arm 2): whole file plus imported files, strict JSON, no validation.

One prompt: the task, the target file and the project files it imports, dumped in that
order until the context window is full (no budget, no ranking); the model must answer with
``{"path": ..., "content": ...}`` holding the whole new file, read with ``json.loads``. The
only retry is on a JSON failure (same turn cap as every arm); the file is written as is.
"""

from __future__ import annotations

import ast
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["NaiveResult", "estimate_tokens", "imported_files", "output_cap", "run_naive"]

SYSTEM = (
    "You are a coding assistant that edits one file. Reply with only a JSON object "
    '{"path": "<the file path>", "content": "<the whole new file>"} and nothing else.'
)
CHARS_PER_TOKEN = 3.6  # the fixed proxy counter of BENCHMARKS.md


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


@dataclass
class NaiveResult:
    """What happened: turns used, JSON failures, whether a file was written, and why not."""

    turns: int = 0
    format_failures: int = 0
    written: bool = False
    problems: list[str] = field(default_factory=list)


def output_cap(file_tokens: int, window: int) -> int:
    """Room for the whole file once more (at least 1024 tokens, at most half the window)."""
    return min(max(1024, int(file_tokens * 1.3) + 64), window // 2)


def imported_files(root: Path, rel: str) -> list[str]:
    """Project files (relative paths) imported by ``rel``, in import order."""
    path = root / rel
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        return []
    package = Path(rel).parent
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[Path] = []
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.parent
            module = Path(*node.module.split(".")) if node.module else Path()
            start = base / module if node.level else module
            names = [start] + [start / alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [Path(*alias.name.split(".")) for alias in node.names]
        for name in names:
            for candidate in (name.with_suffix(".py"), name / "__init__.py"):
                text = str(candidate)
                if text != rel and text not in found and (root / candidate).is_file():
                    found.append(text)
    return found


def _prompt(root: Path, rel: str, instruction: str, room: int) -> str:
    parts = [f"Task: {instruction}\n", f"File to edit: {rel}\n```python\n"
             f"{(root / rel).read_text(encoding='utf-8')}```\n"]  # fmt: skip
    used = estimate_tokens("".join(parts))
    for other in imported_files(root, rel):
        block = f"\nImported file {other}:\n```python\n{(root / other).read_text('utf-8')}```\n"
        cost = estimate_tokens(block)
        if used + cost > room:
            break
        parts.append(block)
        used += cost
    parts.append(f'\nAnswer with the JSON object {{"path": "{rel}", "content": ...}} only.')
    return "".join(parts)


def _chat(base_url: str, model: str, messages: list[dict[str, str]], max_tokens: int) -> str:
    body = {"model": model, "messages": messages, "temperature": 0, "max_tokens": max_tokens,
            "stream": False}  # fmt: skip
    request = urllib.request.Request(
        base_url.rstrip("/") + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer none"},
    )
    with urllib.request.urlopen(request, timeout=900) as response:
        data = json.loads(response.read())
    return str(data["choices"][0]["message"].get("content") or "")


def run_naive(
    root: Path,
    rel: str,
    instruction: str,
    base_url: str,
    model: str,
    window: int = 8192,
    turn_cap: int = 3,
) -> NaiveResult:
    """Ask for the whole file as strict JSON; write it; re-ask only when JSON fails."""
    result = NaiveResult()
    max_tokens = output_cap(estimate_tokens((root / rel).read_text(encoding="utf-8")), window)
    prompt = _prompt(root, rel, instruction, window - max_tokens)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
    for _ in range(turn_cap):
        result.turns += 1
        try:
            answer = _chat(base_url, model, messages, max_tokens)
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            result.problems.append(f"model call failed: {exc}")
            return result
        try:
            data = json.loads(answer)
            content = data["content"]
            if not isinstance(content, str):
                raise TypeError("content is not a string")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            result.format_failures += 1
            result.problems.append(f"invalid JSON answer: {exc}; begins {answer[:120]!r}")
            messages += [{"role": "assistant", "content": answer},
                         {"role": "user", "content": f"That was not valid JSON ({exc}). Reply "
                          "with only the JSON object."}]  # fmt: skip
            continue
        (root / rel).write_text(content, encoding="utf-8")
        result.written = True
        return result
    return result
