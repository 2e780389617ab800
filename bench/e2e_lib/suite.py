"""The B6 task suite: seeded generation from real sdists, verification, workspace rebuild.

A task is a JSON object (one per line in ``bench/suites/*.jsonl``): the project and its
sdist hash, the file and function, and the exact ``find``/``replace`` texts that turn the
pristine workspace into the task's workspace; ``tests`` is the focused test selection that
fails on the task workspace and passes on the pristine one (checked when generated).
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from e2e_lib.mutate import Change, functions, mask, mutations
from e2e_lib.projects import PROJECTS, Project, copy_workspace, pristine, run_tests

__all__ = ["Task", "build_workspace", "generate", "load_suite", "save_suite"]

_MAX_TEXT_LINES = 30


@dataclass(frozen=True)
class Task:
    """One verified task."""

    id: str
    kind: str  # "mutation" (procedural bug) or "mask" (implement TODO)
    project: str
    version: str
    sdist_sha256: str
    file: str  # relative to the workspace root
    symbol: str
    line: int  # 1-based: the def line (mutation) or the TODO line (mask)
    label: str
    find: str
    replace: str
    tests: list[str]
    failing: list[str] = field(default_factory=list)
    instruction: str = ""

    @property
    def target(self) -> str:
        return f"{self.file}:{self.line}"


def load_suite(path: Path) -> list[Task]:
    """Tasks from a JSONL file."""
    return [Task(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def save_suite(tasks: list[Task], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(t), sort_keys=True) + "\n" for t in tasks))


def apply_change(text: str, find: str, replace: str) -> str:
    """``text`` with the one occurrence of ``find`` replaced (anything else is an error)."""
    if text.count(find) != 1:
        raise ValueError("the task's function text is not unique in its file")
    return text.replace(find, replace, 1)


def build_workspace(task: Task, cache: Path, target: Path) -> Path:
    """A fresh copy of the task's project with the task's change made; returns ``target``."""
    root, digest = pristine(PROJECTS[task.project], cache)
    if digest != task.sdist_sha256:
        raise ValueError(f"{task.project} sdist sha256 {digest} != task's {task.sdist_sha256}")
    copy_workspace(root, target)
    path = target / task.file
    path.write_text(apply_change(path.read_text(encoding="utf-8"), task.find, task.replace))
    return target


def failure_text(output: str) -> str:
    """The first failure's short traceback and the summary lines, trimmed for a prompt."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("____")), 0)
    end = next((i for i, line in enumerate(lines) if "short test summary" in line), len(lines))
    body = [line for line in lines[start:end] if line.strip()][:_MAX_TEXT_LINES]
    summary = [line for line in lines[end:] if line.startswith(("FAILED", "ERROR"))][:5]
    return "\n".join(body + summary)


def instruction_for(kind: str, symbol: str, file: str, output: str) -> str:
    """The task text every arm receives."""
    if kind == "mask":
        return f"implement TODO in `{symbol}` in {file}"
    return (
        f"Fix the bug in `{symbol}` in {file} so that the failing tests pass.\n"
        f"pytest output:\n{failure_text(output)}"
    )


def _test_file(root: Path, module: Path) -> str | None:
    stem = module.stem.lstrip("_")
    found = sorted((root / "tests").rglob(f"test_{stem}.py"))
    return str(found[0].relative_to(root)) if found else None


def _pairs(project: Project, root: Path, max_lines: int) -> list[tuple[str, str]]:
    pairs = []
    for package in project.packages:
        for module in sorted((root / package).glob("*.py")):
            lines = module.read_text(encoding="utf-8").count("\n")
            test = _test_file(root, module)
            if test and 20 <= lines <= max_lines:
                pairs.append((str(module.relative_to(root)), test))
    return pairs


def _baseline(root: Path, test: str, python: str) -> list[str]:
    """The test selection for ``test`` (a few known failures deselected), or [] if unusable."""
    result = run_tests(root, [test], python, timeout=60)
    if result.passed:
        return [test]
    if result.rc != 1 or not 0 < len(result.failed) <= 3 or "ERROR" in result.output:
        return []
    selection = [test] + [arg for failed in result.failed for arg in ("--deselect", failed)]
    return selection if run_tests(root, selection, python, timeout=60).passed else []


def _verify(
    root: Path, work: Path, rel: str, change: Change, find: str, tests: list[str], python: str
) -> tuple[list[str], str] | None:
    """Failing tests and output when the change breaks the tests cleanly, else None."""
    copy_workspace(root, work)
    path = work / rel
    path.write_text(apply_change(path.read_text(encoding="utf-8"), find, change.replace))
    result = run_tests(work, tests, python, timeout=60)
    if result.passed or not result.failed or "<timeout>" in result.failed:
        return None
    if result.rc != 1 or "\nERROR " in result.output or "ERROR collecting" in result.output:
        return None
    return list(result.failed), result.output


def generate(
    seed: int,
    cache: Path,
    python: str = sys.executable,
    per_project: int = 4,
    projects: list[str] | None = None,
    max_lines: int = 400,
    per_file_cap: int = 4,
    log: Callable[[str], None] = print,
) -> list[Task]:
    """Draw ``per_project`` mutation and mask tasks from each project, verified by tests."""
    tasks: list[Task] = []
    rng = random.Random(seed)
    for name in projects or sorted(PROJECTS):
        project = PROJECTS[name]
        root, digest = pristine(project, cache)
        work = cache / "b6" / "gen" / name
        baseline: dict[str, list[str]] = {}
        candidates: dict[str, list[tuple[str, list[str], Change, str]]] = {
            "mutation": [],
            "mask": [],
        }
        for rel, test in _pairs(project, root, max_lines):
            if test not in baseline:
                baseline[test] = _baseline(root, test, python)
                shown = " ".join(baseline[test]) if baseline[test] else "FAIL (skipped)"
                log(f"  baseline {name}: {shown}")
            if not baseline[test]:
                continue
            selection = baseline[test]
            source = (root / rel).read_text(encoding="utf-8")
            lines = source.splitlines(keepends=True)
            for function in functions(source):
                find = function.text(lines)
                if source.count(find) != 1:
                    continue
                key = f"{rel}::{function.name}"
                candidates["mutation"] += [
                    (key, selection, c, find) for c in mutations(source, function)
                ]
                masked = mask(source, function)
                if masked is not None:
                    candidates["mask"].append((key, selection, masked, find))
        used: set[str] = set()
        for kind, pool in candidates.items():
            rng.shuffle(pool)
            kept = 0
            per_file: dict[str, int] = {}
            for key, test, change, find in pool:
                rel, symbol = key.split("::")
                if kept >= per_project or key in used or per_file.get(rel, 0) >= per_file_cap:
                    continue
                verdict = _verify(root, work, rel, change, find, test, python)
                log(f"  {kind} {key} ({change.label}): {'kept' if verdict else 'rejected'}")
                if verdict is None:
                    continue
                failing, output = verdict
                used.add(key)
                per_file[rel] = per_file.get(rel, 0) + 1
                kept += 1
                number = kept
                tasks.append(
                    Task(
                        id=f"{name}-{kind}-{number:02d}", kind=kind, project=name,
                        version=project.version, sdist_sha256=digest, file=rel, symbol=symbol,
                        line=change.line, label=change.label, find=find, replace=change.replace,
                        tests=test, failing=failing,
                        instruction=instruction_for(kind, symbol, rel, output),
                    )
                )  # fmt: skip
    return _interleave(tasks)


def _interleave(tasks: list[Task]) -> list[Task]:
    """Order tasks round-robin over (project, kind), so a partial run stays balanced."""
    groups: dict[tuple[str, str], list[Task]] = {}
    for task in tasks:
        groups.setdefault((task.project, task.kind), []).append(task)
    out: list[Task] = []
    while any(groups.values()):
        for key in sorted(groups):
            if groups[key]:
                out.append(groups[key].pop(0))
    return out


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")
