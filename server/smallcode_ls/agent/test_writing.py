"""Where tests for a symbol go, and how a model's answer becomes the test file's new text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from smallcode_ls.graph.index import WorkspaceIndex

__all__ = ["TestTarget", "merge_tests", "test_target"]

_FENCE = re.compile(r"```[\w+-]*[ \t]*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TestTarget:
    """The test file to write: its path, current text ("" when new) and module to import."""

    path: Path
    text: str
    module: str

    @property
    def exists(self) -> bool:
        """Whether the test file is already there (then tests are appended)."""
        return bool(self.text)


def _module_name(source: Path, root: Path) -> str:
    relative = source.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    while len(parts) > 1 and not (root.joinpath(*parts[:1]) / "__init__.py").exists():
        parts = parts[1:]  # src/ layouts and plain folders: import from the package root
    return ".".join(parts)


def test_target(index: WorkspaceIndex, source: Path) -> TestTarget:
    """An existing ``test_<module>.py`` (tests/ or beside the module), else a new one."""
    root = index.root or source.parent
    name = f"test_{source.stem}.py"
    candidates = [root / "tests" / name, source.parent / name, source.parent / "tests" / name]
    for candidate in candidates:
        if candidate.is_file():
            return TestTarget(
                candidate, candidate.read_text(encoding="utf-8"), _module_name(source, root)
            )
    folder = root / "tests" if (root / "tests").is_dir() else source.parent
    return TestTarget(folder / name, "", _module_name(source, root))


def merge_tests(existing: str, answer: str) -> str | None:
    """The test file after the answer: the new file, or the old one with the new tests appended."""
    blocks = _FENCE.findall(answer)
    code = blocks[-1] if blocks else ""
    if "def test" not in code:
        return None
    if not existing.strip():
        return code if code.endswith("\n") else code + "\n"
    return existing.rstrip("\n") + "\n\n\n" + code.strip("\n") + "\n"
