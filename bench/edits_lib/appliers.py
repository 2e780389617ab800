"""The appliers compared in B2. Each takes a case and returns the new file text or None (refused).

In-process (timed with perf_counter_ns around parse + apply): ours, exact `str.replace`.
aider runs in its own venv as a long-lived worker; it times itself in-process the same way.
`git apply` and GNU `patch` run once per case on a temp file; their time is the wall time of
the subprocess, so it includes process start.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .perturb import SR, UDIFF, Case
from .render import extract_diff

SUBPROCESS_TIMEOUT_S = 30


@dataclass
class Outcome:
    new_text: str | None
    ns: int
    error: str = ""  # a crash or a tool error message (refusals are not errors)
    info: str = ""  # ours: "format:rung+rung"


class Applier(Protocol):
    name: str
    renderings: tuple[str, ...]
    timing: str

    def apply(self, case: Case) -> Outcome: ...

    def close(self) -> None: ...


ApplyFn = Callable[[str, str, str], Any]


def load_ours(mode: str) -> tuple[ApplyFn, str]:
    """Returns (apply_model_output, description); mode is auto, real or standin."""
    if mode in ("auto", "real"):
        try:
            from smallcode_ls.patch import apply_model_output

            return apply_model_output, "smallcode_ls.patch.apply_model_output"
        except ImportError:
            if mode == "real":
                raise
    from .standin import apply_model_output as standin

    return standin, "STAND-IN (bench/edits_lib/standin.py): smallcode_ls.patch not importable"


class Ours:
    renderings: tuple[str, ...] = (SR, UDIFF)
    timing = "in-process"

    def __init__(self, fn: ApplyFn, name: str = "ours") -> None:
        self.fn = fn
        self.name = name

    def apply(self, case: Case) -> Outcome:
        t0 = time.perf_counter_ns()
        try:
            res = self.fn(case.text, case.output, case.path)
        except Exception as exc:  # a crash is recorded as a refusal with an error
            return Outcome(None, time.perf_counter_ns() - t0, f"{type(exc).__name__}: {exc}"[:300])
        ns = time.perf_counter_ns() - t0
        refused = bool(getattr(res, "refused", False)) or res.new_text is None
        rungs = "+".join(getattr(res, "rungs", ()) or ())
        info = f"{getattr(res, 'format', '?')}:{rungs}"
        reason = str(getattr(res, "reason", ""))[:300]
        if refused:
            return Outcome(None, ns, "", f"{info} | {reason}")
        return Outcome(res.new_text, ns, "", info)

    def close(self) -> None:
        pass


_STRICT_SR = re.compile(r"^<<<<<<< SEARCH\n(.*?)^=======\n(.*?)^>>>>>>> REPLACE$", re.S | re.M)


class ExactReplace:
    """Strict markers, then `str.replace` only when the SEARCH text occurs exactly once."""

    name = "exact_replace"
    renderings: tuple[str, ...] = (SR,)
    timing = "in-process"

    def apply(self, case: Case) -> Outcome:
        t0 = time.perf_counter_ns()
        blocks = _STRICT_SR.findall(case.output)
        new: str | None = None
        if len(blocks) == 1:
            search, replace = blocks[0]
            if search and case.text.count(search) == 1:
                new = case.text.replace(search, replace, 1)
        return Outcome(new, time.perf_counter_ns() - t0)

    def close(self) -> None:
        pass


class AiderWorker:
    """Client of aider_worker.py running in aider's venv (one process, requests in sequence)."""

    def __init__(self, python: Path) -> None:
        worker = Path(__file__).with_name("aider_worker.py")
        self.proc = subprocess.Popen(
            [str(python), str(worker)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        self.hello = self.call({"kind": "hello"})

    def call(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("aider worker died")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Aider:
    timing = "in-process (aider venv worker)"

    def __init__(self, worker: AiderWorker, kind: str) -> None:
        self.worker = worker
        self.kind = kind
        self.name = f"aider_{kind}"
        self.renderings: tuple[str, ...] = (SR,) if kind == "editblock" else (UDIFF,)

    def apply(self, case: Case) -> Outcome:
        req = {"kind": self.kind, "path": case.path, "text": case.text, "output": case.output}
        resp = self.worker.call(req)
        return Outcome(resp["new_text"], int(resp["ns"]), resp.get("error", ""))

    def close(self) -> None:
        pass


class Tool:
    """`git apply` or GNU `patch` on a temp copy of the file; exit 0 means applied."""

    renderings: tuple[str, ...] = (UDIFF,)
    timing = "subprocess (includes process start)"

    def __init__(self, name: str, argv: list[str]) -> None:
        self.name = name
        self.argv = argv
        self.root = Path(tempfile.mkdtemp(prefix=f"b2-{name}-"))
        self.env = dict(os.environ)
        self.env.update(
            {
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_CEILING_DIRECTORIES": str(self.root.parent),
                "HOME": str(self.root),
                "LC_ALL": "C",
            }
        )
        self.patch_file = self.root / "edit.patch"

    def apply(self, case: Case) -> Outcome:
        work = self.root / "w"
        if work.exists():
            shutil.rmtree(work)
        target = work / case.path
        target.parent.mkdir(parents=True)
        target.write_bytes(case.text.encode("utf-8"))
        self.patch_file.write_bytes(extract_diff(case.output).encode("utf-8"))
        argv = [a.replace("{patch}", str(self.patch_file)) for a in self.argv]
        t0 = time.perf_counter_ns()
        try:
            proc = subprocess.run(
                argv, cwd=work, env=self.env, capture_output=True, timeout=SUBPROCESS_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            return Outcome(None, time.perf_counter_ns() - t0, "timeout")
        ns = time.perf_counter_ns() - t0
        if proc.returncode != 0:
            return Outcome(None, ns)
        try:
            new = target.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return Outcome(None, ns, f"read back failed: {exc}")
        return Outcome(new, ns)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


GIT_PLAIN = ["git", "apply", "{patch}"]
GIT_RECOUNT = ["git", "apply", "--recount", "--ignore-whitespace", "-C1", "{patch}"]
# --batch/--forward/--reject-file=- only keep patch non-interactive and tidy; matching is default.
_PATCH_BASE = ["patch", "-p1", "--batch", "--forward", "--no-backup-if-mismatch",
               "--reject-file=-", "-i", "{patch}"]  # fmt: skip
PATCH_PLAIN = list(_PATCH_BASE)
PATCH_LOOSE = [*_PATCH_BASE, "-l", "-F3"]


def tool_appliers() -> list[Tool]:
    return [
        Tool("git_apply", GIT_PLAIN),
        Tool("git_apply_recount", GIT_RECOUNT),
        Tool("patch", PATCH_PLAIN),
        Tool("patch_l_F3", PATCH_LOOSE),
    ]


def tool_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    return out.splitlines()[0].strip() if out else "unknown"
