"""Find the source files of a workspace worth indexing.

Respects ``.gitignore`` files (each applies to its own folder and below), skips
VCS folders, virtual environments, ``node_modules``, caches and build outputs,
binary files and files over the size cap.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.security.paths import is_secret_file

__all__ = ["ScannedFile", "is_indexable_source", "scan_workspace"]

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".eggs",
        "build",
        "dist",
        "target",
        "site-packages",
        ".idea",
        ".vscode",
        ".cache",
    }
)


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """A candidate file with the stat facts the cache is keyed by."""

    path: str
    mtime_ns: int
    size: int


def is_indexable_source(head: bytes) -> bool:
    """Text files only: a NUL byte in the first block marks a binary file."""
    return b"\x00" not in head


def _gitignore(directory: Path) -> pathspec.GitIgnoreSpec | None:
    ignore = directory / ".gitignore"
    try:
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(rules: list[tuple[Path, pathspec.GitIgnoreSpec]], path: Path, is_dir: bool) -> bool:
    for base, spec in rules:
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(relative):
            return True
    return False


def scan_workspace(root: Path, max_file_bytes: int) -> Iterator[ScannedFile]:
    """Yield indexable files under ``root`` in a stable order."""
    root = root.resolve()
    stack: list[tuple[Path, list[tuple[Path, pathspec.GitIgnoreSpec]]]] = [(root, [])]
    while stack:
        directory, inherited = stack.pop()
        rules = inherited
        if (own := _gitignore(directory)) is not None:
            rules = [*inherited, (directory, own)]
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            continue
        subdirs: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIPPED_DIRS or entry.name.endswith(".egg-info"):
                    continue
                if (path / "pyvenv.cfg").exists() or _ignored(rules, path, is_dir=True):
                    continue
                subdirs.append(path)
            elif (
                entry.is_file(follow_symlinks=False)
                and language_for_path(entry.name)
                and not is_secret_file(entry.name)  # never index what holds secrets
            ):
                stat = entry.stat()
                if stat.st_size > max_file_bytes or _ignored(rules, path, is_dir=False):
                    continue
                yield ScannedFile(entry.path, stat.st_mtime_ns, stat.st_size)
        stack.extend((subdir, rules) for subdir in reversed(subdirs))
