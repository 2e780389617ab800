"""Run the tests the graph links to the changed code, in a temporary copy of the project.

Never in the user's folder: the project is copied (without VCS folders, virtual
environments, caches and secret files), the candidate text written into the copy, and
pytest run there through the process gate (trust, confirmation, sandbox, limits). A
failure counts against the edit only when it is new: tests that already failed the
same way before the edit do not block it. "The same way" compares the whole summary
line (pytest runs with a wide terminal so the message is not cut to ``...``; object
addresses are masked), so a stub's ``NotImplementedError`` that turns into a wrong
answer's ``AssertionError`` counts as new.

Test files are found by name first (``test_<module>.py``), then by use of the changed
function, of its class, and of its module: tests often reach a method only through
the public API (click's ``test_formatting.py`` never names ``HelpFormatter.section``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.scan import SKIPPED_DIRS
from smallcode_ls.security.execution import Command, ExecutionRefused, ProcessGate
from smallcode_ls.security.paths import is_secret_file

__all__ = ["LinkedTests", "linked_tests", "named_failures"]

_MAX_TEST_FILES = 5
_MAX_PROJECT_FILES = 5000
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+(?: - .*)?)$", re.MULTILINE)
_OUTPUT_LINES = 15
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
# A wide terminal pads progress lines and separators; neither padding is worth a token.
_PROGRESS_PAD = re.compile(r" {2,}(\[ *\d+%\])")
_RULE = re.compile(r"([=_!-])\1{8,}")
_NAMED = re.compile(r"(?:FAILED|ERROR) (\S+\.py::\S+)")


@dataclass(frozen=True, slots=True)
class LinkedTests:
    """The test files that exercise a change, and how to run them."""

    root: Path
    files: tuple[str, ...]  # relative to root
    timeout: float = 60.0
    required: frozenset[str] = frozenset()  # test ids the task says fail: they must pass

    def requiring(self, ids: set[str]) -> LinkedTests:
        """These tests (named by the task as failing) run too, and must pass after the edit."""
        extra = [i.split("::")[0] for i in sorted(ids)]
        files = tuple(dict.fromkeys([*self.files, *extra]))
        return LinkedTests(self.root, files, self.timeout, self.required | ids)

    async def problem(
        self, gate: ProcessGate | None, path: str, old_text: str, new_text: str
    ) -> str | None:
        """Why the edit breaks the linked tests, or None (pass, only old failures, or not run)."""
        if gate is None:
            return None
        try:
            after, output = await self._run(gate, path, new_text)
            if not after:
                return None
            still = sorted(f for f in after if f.split(" - ")[0] in self.required)
            before = set() if still else (await self._run(gate, path, old_text))[0]
        except ExecutionRefused:
            return None
        tail = "\n".join(output.strip().splitlines()[-_OUTPUT_LINES:])
        if still:
            return f"the failing tests of the task still fail: {', '.join(still[:5])}\n{tail}"
        new = sorted(after - before)
        if not new:
            return None
        return f"these tests fail with your change: {', '.join(new[:5])}\n{tail}"

    async def _run(self, gate: ProcessGate, path: str, text: str) -> tuple[set[str], str]:
        with tempfile.TemporaryDirectory(prefix="smallcode-tests-") as folder:
            copy = Path(folder) / "project"
            await asyncio.to_thread(_copy_project, self.root, copy)
            (copy / Path(path).relative_to(self.root)).write_text(text, encoding="utf-8")
            pytest = (sys.executable, "-m", "pytest", "-q", "-rfE", "--no-header",
                      "-p", "no:cacheprovider", "--continue-on-collection-errors")  # fmt: skip
            result = await gate.run(
                Command(
                    (*pytest, *self.files),
                    copy,
                    name="tests",
                    template=(*pytest, "<linked test files>"),
                    env={
                        "PATH": "/usr/bin:/bin",
                        "PYTHONDONTWRITEBYTECODE": "1",
                        "COLUMNS": "400",
                    },  # fmt: skip
                    timeout_s=self.timeout,
                )
            )
        output = _RULE.sub(r"\1" * 8, _PROGRESS_PAD.sub(r" \1", result.output))
        # "test_x.py::test_y - AssertionError: ...": a test that failed before the edit
        # for another reason (a NotImplementedError stub) still counts if it fails now.
        failed = {_ADDRESS.sub("0x?", match.group(1)) for match in _FAILED.finditer(output)}
        if result.returncode not in (0, 1) and not failed:  # collection or usage error
            failed = {"(the test run itself failed)"}
        return failed, output


def _ignored(folder: str, names: list[str]) -> set[str]:
    """Skipped folders, bytecode and secret files (``.env*``, keys) never reach the copy."""
    skip = shutil.ignore_patterns(*SKIPPED_DIRS, "*.pyc", "*.egg-info")(folder, names)
    return set(skip) | {name for name in names if is_secret_file(name)}


def _copy_project(root: Path, target: Path) -> None:
    shutil.copytree(root, target, ignore=_ignored, symlinks=True)


def named_failures(instruction: str, root: Path) -> set[str]:
    """Test ids the task's text reports as failing (``FAILED tests/x.py::test_y``), if present."""
    ids = set()
    for match in _NAMED.finditer(instruction):
        file = Path(match.group(1).split("::")[0])
        if not file.is_absolute() and ".." not in file.parts and (root / file).is_file():
            ids.add(match.group(1))
    return ids


def linked_tests(index: WorkspaceIndex, path: str, symbol: str) -> LinkedTests | None:
    """Test files for a change to ``symbol`` (``Class.method`` or ``function``) in ``path``.

    Ranked: named after the module, using the function, using its class, importing the
    module; the first ``_MAX_TEST_FILES`` run. None when none is found or pytest is missing.
    """
    root = index.root
    if root is None or importlib.util.find_spec("pytest") is None:
        return None
    files = index.all_files()
    if len(files) > _MAX_PROJECT_FILES:
        return None
    module = Path(path).stem
    *outer, name = symbol.split(".")
    container = outer[-1] if outer else module
    by_name = {f"test_{module}.py", f"{module}_test.py"}
    ranked: list[tuple[int, str]] = []
    for file in files:
        base = Path(file.path).name
        if not (base.startswith("test_") or base.endswith("_test.py")) or file.path == path:
            continue
        hits = (base in by_name, bool(name) and file.uses(name), file.uses(container),
                file.uses(module))  # fmt: skip
        rank = next((rank for rank, hit in enumerate(hits) if hit), None)
        if rank is not None:
            ranked.append((rank, str(Path(file.path).relative_to(root))))
    chosen = tuple(rel for _, rel in sorted(ranked)[:_MAX_TEST_FILES])
    return LinkedTests(root, chosen) if chosen else None
