"""The three arms, each run on a fresh task workspace against the same (proxied) endpoint.

1. ``smallcode``: the headless ``smallcode-ls run INSTRUCTION FILE:LINE --apply --json``;
2. ``naive``: ``naive.run_naive`` (whole file + imports, strict JSON, no validation);
3. ``aider-whole`` / ``aider-diff``: aider in its own venv with that edit format.
Each returns an ``ArmOutcome``; the runner scores it with the task's tests afterwards.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e_lib.naive import estimate_tokens, output_cap, run_naive

__all__ = ["ARMS", "ArmOutcome", "Endpoint", "run_arm", "smallcode_format_failures"]

ARMS = ("smallcode", "naive", "aider-whole", "aider-diff")
REPO = Path(__file__).resolve().parents[2]
# aider's messages when an answer could not be read or applied (counted as format failures)
AIDER_FORMAT_MARKERS = (
    "did not conform to the edit format",
    "SearchReplaceNoExactMatch",
    "Failed to apply edit",
    "malformed",
    "No filename provided",
    "Unable to find a filename",
)


@dataclass(frozen=True)
class Endpoint:
    """Where every arm sends its chat calls (the usage proxy) and the shared settings."""

    base_url: str
    model: str
    turn_cap: int = 3
    window: int = 8192
    agent_python: str = sys.executable
    aider_venv: Path | None = None
    timeout: float = 1800.0
    harness: str = ""  # the SmallCode-LS commit, recorded in every row


@dataclass
class ArmOutcome:
    """What an arm did, before scoring."""

    edited: bool = False
    format_failures: int = 0
    own_turns: int = 0
    error: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def smallcode_format_failures(attempts: list[str]) -> int:
    """Rejected answers that could not be read or applied (not lint, tests or no-ops)."""
    benign = ("ok", "these tests fail", "the failing tests of the task still fail",
              "the result has new lint errors", "the answer changes",
              "the edit does not change")  # fmt: skip
    return sum(1 for a in attempts if not a.startswith(benign) and "syntax error" not in a)


def _smallcode(root: Path, task: Any, endpoint: Endpoint) -> ArmOutcome:
    with tempfile.TemporaryDirectory(prefix="b6-smallcode-") as cache:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": cache,
            "SMALLCODE_BASE_URL": endpoint.base_url,
            "SMALLCODE_MODEL": endpoint.model,
            "SMALLCODE_API_KEY": "none",
            "SMALLCODE_CACHE_DIR": cache,
            "SMALLCODE_DATA_DIR": cache,  # the user-level trust store: empty, per run
            "PYTHONPATH": str(REPO / "server"),
        }
        command = [endpoint.agent_python, "-m", "smallcode_ls", "run", task.instruction,
                   f"{root / task.file}:{task.line}", "--apply", "--json"]  # fmt: skip
        if "--trust" in _help(endpoint.agent_python):
            command.append("--trust")
        try:
            done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                                  timeout=endpoint.timeout)  # fmt: skip
        except subprocess.TimeoutExpired:
            return ArmOutcome(error=f"timed out after {endpoint.timeout:.0f} s")
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        return ArmOutcome(error=f"exit {done.returncode}: {done.stderr.strip()[-600:]}")
    attempts = list(result.get("attempts") or [])
    return ArmOutcome(
        edited=result.get("outcome") == "applied",
        format_failures=smallcode_format_failures(attempts),
        own_turns=int(result.get("turns") or 0),
        detail={"outcome": result.get("outcome"), "message": result.get("message", "")[:500],
                "attempts": [a[:300] for a in attempts],
                "agent_prompt_tokens": result.get("prompt_tokens"),
                "agent_completion_tokens": result.get("completion_tokens")},
    )  # fmt: skip


_HELP: dict[str, str] = {}


def _help(python: str) -> str:
    if python not in _HELP:
        done = subprocess.run([python, "-m", "smallcode_ls", "run", "--help"],
                              capture_output=True, text=True, env={**os.environ,
                              "PYTHONPATH": str(REPO / "server")})  # fmt: skip
        _HELP[python] = done.stdout
    return _HELP[python]


def _naive(root: Path, task: Any, endpoint: Endpoint) -> ArmOutcome:
    result = run_naive(root, task.file, task.instruction, endpoint.base_url, endpoint.model,
                       window=endpoint.window, turn_cap=endpoint.turn_cap)  # fmt: skip
    return ArmOutcome(
        edited=result.written,
        format_failures=result.format_failures,
        own_turns=result.turns,
        detail={"problems": [p[:300] for p in result.problems]},
    )


def aider_tokenizers(venv: Path) -> str:
    """litellm's bundled tiktoken files in the aider venv (so nothing is downloaded)."""
    found = glob.glob(str(venv / "lib" / "python*" / "site-packages" / "litellm"
                          / "litellm_core_utils" / "tokenizers"))  # fmt: skip
    return found[0] if found else ""


def _aider(root: Path, task: Any, endpoint: Endpoint, edit_format: str) -> ArmOutcome:
    venv = endpoint.aider_venv
    if venv is None or not (venv / "bin" / "aider").exists():
        return ArmOutcome(error="aider venv missing")
    with tempfile.TemporaryDirectory(prefix="b6-aider-") as home:
        env = {
            "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": home,
            "OPENAI_API_KEY": "none",
            "OPENAI_API_BASE": endpoint.base_url,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "TIKTOKEN_CACHE_DIR": aider_tokenizers(venv),
            "AIDER_ANALYTICS": "false",
        }
        # the same output cap as the naive arm (aider sets none; a 1.5B model can ramble on)
        settings = Path(home) / "model-settings.yml"
        cap = output_cap(estimate_tokens((root / task.file).read_text(encoding="utf-8")),
                         endpoint.window)  # fmt: skip
        settings.write_text(f"- name: openai/{endpoint.model}\n  extra_params:\n"
                            f"    max_tokens: {cap}\n")  # fmt: skip
        command = [
            str(venv / "bin" / "aider"), "--model", f"openai/{endpoint.model}",
            "--openai-api-base", endpoint.base_url, "--edit-format", edit_format,
            "--yes-always", "--no-git", "--map-tokens", "1024", "--no-auto-commits",
            "--no-dirty-commits", "--no-check-update", "--analytics-disable", "--no-pretty",
            "--no-stream", "--no-show-model-warnings", "--no-suggest-shell-commands",
            "--no-detect-urls", "--no-fancy-input", "--no-restore-chat-history",
            "--chat-history-file", str(Path(home) / "chat.md"),
            "--input-history-file", str(Path(home) / "input"),
            "--timeout", str(int(endpoint.timeout)), "--encoding", "utf-8",
            "--model-settings-file", str(settings),
            "--message", task.instruction, task.file,
        ]  # fmt: skip
        before = (root / task.file).read_text(encoding="utf-8")
        try:
            done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                                  timeout=endpoint.timeout, stdin=subprocess.DEVNULL)  # fmt: skip
        except subprocess.TimeoutExpired:
            return ArmOutcome(error=f"timed out after {endpoint.timeout:.0f} s")
    output = done.stdout + done.stderr
    failures = sum(output.count(marker) for marker in AIDER_FORMAT_MARKERS)
    after = (root / task.file).read_text(encoding="utf-8")
    tokens = re.findall(r"Tokens: ([\d.,]+k?) sent, ([\d.,]+k?) received", output)
    return ArmOutcome(
        edited=after != before,
        format_failures=failures,
        own_turns=len(tokens),
        error="" if done.returncode == 0 else f"exit {done.returncode}",
        detail={"aider_tokens": tokens, "output_tail": output.strip()[-1200:]},
    )


def run_arm(arm: str, root: Path, task: Any, endpoint: Endpoint) -> ArmOutcome:
    """Run one arm on the task workspace ``root``."""
    if arm == "smallcode":
        return _smallcode(root, task, endpoint)
    if arm == "naive":
        return _naive(root, task, endpoint)
    if arm in ("aider-whole", "aider-diff"):
        return _aider(root, task, endpoint, arm.split("-", 1)[1])
    raise ValueError(f"unknown arm {arm}")
