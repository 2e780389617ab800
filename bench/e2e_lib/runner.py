"""The resumable runner: one JSONL line per (task, arm), appended as each finishes.

Tasks run in suite order and every arm of a task runs before the next task (one after
the other, never at the same time), so a partial file still holds paired results. Lines
already in the file are skipped, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e_lib.arms import Endpoint, run_arm
from e2e_lib.projects import run_tests
from e2e_lib.proxy import UsageProxy
from e2e_lib.suite import Task, build_workspace

__all__ = ["RUNS", "done_keys", "run_suite"]

# Task workspaces live outside any git repository: aider looks for a git root above its
# working directory even with --no-git, and reads in-chat file names relative to it.
RUNS = Path(tempfile.gettempdir()) / "smallcode-b6-runs"


def harness_version(repo: Path) -> str:
    """The SmallCode-LS commit the rows were made with (``+dirty`` when the tree differs)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=True)  # fmt: skip
        return done.stdout.strip()

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--", "server")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def merge_meta(path: Path, run: dict[str, Any]) -> dict[str, Any]:
    """Add one run's settings to ``path``: arms accumulate, each run is listed.

    A resumed or subset run (``--arms smallcode``) must not hide the arms that earlier
    runs wrote into the same results file.
    """
    old = json.loads(path.read_text()) if path.exists() else {}
    merged = {**old, **{k: v for k, v in run.items() if k not in ("arms", "started_at")}}
    merged["arms"] = list(dict.fromkeys([*old.get("arms", []), *run.get("arms", [])]))
    merged["started_at"] = old.get("started_at", run.get("started_at"))
    merged["runs"] = [*old.get("runs", []), {k: run.get(k) for k in
                      ("started_at", "arms", "threads", "harness")}]  # fmt: skip
    path.write_text(json.dumps(merged, indent=2) + "\n")
    return merged


def done_keys(path: Path) -> set[tuple[str, str]]:
    """(task, arm) pairs already recorded in ``path``."""
    if not path.exists():
        return set()
    keys = set()
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            keys.add((row["task"], row["arm"]))
    return keys


def run_one(
    task: Task, arm: str, endpoint: Endpoint, proxy: UsageProxy, cache: Path, test_python: str
) -> dict[str, Any]:
    """Build the workspace, run the arm, score it with the task's tests; one result row."""
    root = build_workspace(task, cache, RUNS / task.id / arm)
    before = (root / task.file).read_text(encoding="utf-8")
    key = f"{task.id}/{arm}"
    proxy.begin(key)
    started = time.monotonic()
    outcome = run_arm(arm, root, task, endpoint)
    wall = time.monotonic() - started
    calls, refused = proxy.calls(key)
    started = time.monotonic()
    score = run_tests(root, task.tests, test_python, timeout=180)
    after = (root / task.file).read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        f"a/{task.file}", f"b/{task.file}"))  # fmt: skip
    row = {
        "task": task.id, "kind": task.kind, "project": task.project, "arm": arm,
        "model": endpoint.model, "turn_cap": endpoint.turn_cap, "passed": score.passed,
        "edited": outcome.edited, "format_failures": outcome.format_failures,
        "turns": len(calls), "own_turns": outcome.own_turns, "refused_calls": refused,
        "prompt_tokens": sum(c.prompt_tokens for c in calls),
        "completion_tokens": sum(c.completion_tokens for c in calls),
        "cached_prompt_tokens": sum(c.cached_tokens for c in calls),
        "model_seconds": round(sum(c.seconds for c in calls), 2),
        "wall_s": round(wall, 2), "score_s": round(time.monotonic() - started, 2),
        "tests_failed": list(score.failed[:5]), "error": outcome.error,
        "finish_reasons": [c.finish_reason for c in calls], "detail": outcome.detail,
        "harness": endpoint.harness, "diff": diff[:6000],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)
    return row


def run_suite(
    tasks: list[Task],
    arms: list[str],
    endpoint: Endpoint,
    proxy: UsageProxy,
    out: Path,
    cache: Path,
    test_python: str,
    log: Callable[[str], None] = print,
    deadline: float | None = None,
) -> int:
    """Run every missing (task, arm) pair, appending rows to ``out``; returns rows written."""
    done = done_keys(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    for number, task in enumerate(tasks, 1):
        for arm in arms:
            if (task.id, arm) in done:
                continue
            if deadline is not None and time.time() > deadline:
                log("deadline reached; stopping (the run resumes from here)")
                return written
            row = run_one(task, arm, endpoint, proxy, cache, test_python)
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            written += 1
            log(f"[{number}/{len(tasks)}] {task.id} {arm}: {'PASS' if row['passed'] else 'fail'}"
                f" turns={row['turns']} fmt={row['format_failures']} "
                f"prompt={row['prompt_tokens']} wall={row['wall_s']}s {row['error']}")  # fmt: skip
    return written
