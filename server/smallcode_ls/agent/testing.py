"""Run the tests the graph links to the changed code, in a temporary copy of the project.

Never in the user's folder: the project is copied (without VCS folders, virtual
environments and caches), the candidate text written into the copy, and pytest run
there with a time limit. A failure counts against the edit only when it is new:
tests that already failed the same way before the edit do not block it.
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

__all__ = ["LinkedTests", "linked_tests"]

_MAX_TEST_FILES = 5
_MAX_PROJECT_FILES = 5000
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+(?: - .*)?)$", re.MULTILINE)
_OUTPUT_LINES = 15


@dataclass(frozen=True, slots=True)
class LinkedTests:
    """The test files that exercise a change, and how to run them."""

    root: Path
    files: tuple[str, ...]  # relative to root
    timeout: float = 60.0

    async def problem(self, path: str, old_text: str, new_text: str) -> str | None:
        """Why the edit breaks the linked tests, or None (pass, or only old failures)."""
        after, output = await self._run(path, new_text)
        if not after:
            return None
        before, _ = await self._run(path, old_text)
        new = sorted(after - before)
        if not new:
            return None
        tail = "\n".join(output.strip().splitlines()[-_OUTPUT_LINES:])
        return f"these tests fail with your change: {', '.join(new[:5])}\n{tail}"

    async def _run(self, path: str, text: str) -> tuple[set[str], str]:
        with tempfile.TemporaryDirectory(prefix="smallcode-tests-") as folder:
            copy = Path(folder) / "project"
            await asyncio.to_thread(_copy_project, self.root, copy)
            (copy / Path(path).relative_to(self.root)).write_text(text, encoding="utf-8")
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pytest", "-q", "-rfE", "--no-header",
                "-p", "no:cacheprovider", *self.files,
                cwd=copy, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
            )  # fmt: skip
            try:
                out, _ = await asyncio.wait_for(process.communicate(), self.timeout)
            except (TimeoutError, asyncio.CancelledError):
                process.kill()
                await process.wait()
                raise
        output = out.decode("utf-8", "replace")
        # "test_x.py::test_y - AssertionError: ...": a test that failed before the edit
        # for another reason (a NotImplementedError stub) still counts if it fails now.
        failed = {match.group(1) for match in _FAILED.finditer(output)}
        if process.returncode not in (0, 1) and not failed:  # collection or usage error
            failed = {"(the test run itself failed)"}
        return failed, output


def _copy_project(root: Path, target: Path) -> None:
    shutil.copytree(
        root,
        target,
        ignore=shutil.ignore_patterns(*SKIPPED_DIRS, "*.pyc", "*.egg-info"),
        symlinks=True,
    )


def linked_tests(index: WorkspaceIndex, path: str, symbol: str) -> LinkedTests | None:
    """Test files that use ``symbol`` (or import the changed module), if pytest can run them."""
    root = index.root
    if root is None or importlib.util.find_spec("pytest") is None:
        return None
    files = index.all_files()
    if len(files) > _MAX_PROJECT_FILES:
        return None
    module = Path(path).stem
    found = []
    for file in files:
        name = Path(file.path).name
        if not (name.startswith("test_") or name.endswith("_test.py")) or file.path == path:
            continue
        if (symbol and file.uses(symbol)) or file.uses(module):
            found.append(str(Path(file.path).relative_to(root)))
    return LinkedTests(root, tuple(sorted(found)[:_MAX_TEST_FILES])) if found else None
