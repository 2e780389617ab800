r"""A tolerant unified-diff reader for model output.

Hunks are read by their line prefixes, not by the counts in the header: wrong counts, ``@@ ... @@``
with no numbers, a bare ``@@``, headerless hunks inside a ```diff fence, blank context lines that
lost their leading space and ``\ No newline at end of file`` all read. The header's old start
line is kept only as a hint. ``--- /dev/null`` makes a new file and ``+++ /dev/null`` a deletion.
(``unidiff`` is strict about counts, which is exactly what models get wrong, so it is not used.)
"""

from __future__ import annotations

import re

from smallcode_ls.parse.edit_fences import path_from_info, path_from_line
from smallcode_ls.parse.edit_types import EditBlock, EditKind, EditProblem, EditProblemCode

__all__ = ["looks_like_diff", "read_unified_diff"]

_HUNK = re.compile(
    r"^@@+[ \t]*(?:-(?P<old>\d+)(?:,\d+)?[ \t]*(?:\+\d+(?:,\d+)?)?)?[^@]*(?:@@+.*)?$"
)
_OLD = re.compile(r"^---(?:[ \t]+(?P<path>.*?))?[ \t]*$")
_NEW = re.compile(r"^\+\+\+(?:[ \t]+(?P<path>.*?))?[ \t]*$")
_GIT = re.compile(r"^diff --git a/(?P<a>\S+) b/(?P<b>\S+)")
# Unindented only: " ```python" inside a hunk is a context line of a Markdown or doc file.
_FENCE = re.compile(r"^(?:`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
_DEV_NULL = "/dev/null"
_NO_NEWLINE = "\\ No newline"


def looks_like_diff(lines: list[str]) -> bool:
    """Whether the reply holds a hunk header, a ---/+++ pair or a ```diff fence with +/- lines."""
    for index, line in enumerate(lines):
        if line.startswith("@@"):
            return True
        if (
            line.startswith("--- ")
            and index + 1 < len(lines)
            and lines[index + 1].startswith("+++")
        ):
            return True
        fence = _FENCE.match(line)
        if fence and fence.group("info").split(" ")[0].lower() in ("diff", "patch", "udiff"):
            return True
    return False


def _clean_path(raw: str | None) -> str | None:
    if raw is None:
        return None
    path = raw.split("\t")[0].strip().strip("\"'")
    if not path:
        return None
    if path == _DEV_NULL:
        return _DEV_NULL
    if path.startswith(("a/", "b/")):
        path = path[2:]
    return path_from_line(path) or path


def read_unified_diff(lines: list[str]) -> tuple[list[EditBlock], list[EditProblem]]:
    """Every hunk in the reply as an edit block (with ``marks``), plus problems."""
    reader = _Reader(lines)
    reader.run()
    return reader.edits, reader.problems


class _Reader:
    """Walks the reply once; the state is local to one call."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.edits: list[EditBlock] = []
        self.problems: list[EditProblem] = []
        self.old_path: str | None = None
        self.new_path: str | None = None
        self.fence_name: str | None = None

    @property
    def path(self) -> str | None:
        if self.new_path and self.new_path != _DEV_NULL:
            return self.new_path
        if self.old_path and self.old_path != _DEV_NULL:
            return self.old_path
        return self.fence_name

    def run(self) -> None:
        index = 0
        in_diff_fence = False
        while index < len(self.lines):
            line = self.lines[index]
            fence = _FENCE.match(line)
            if fence is not None:
                info = fence.group("info")
                if info:
                    self.fence_name = path_from_info(info) or self.fence_name
                    in_diff_fence = info.split(" ")[0].lower() in ("diff", "patch", "udiff")
                else:
                    in_diff_fence = False
                index += 1
                continue
            git = _GIT.match(line)
            if git is not None:
                self.old_path, self.new_path = _clean_path(git["a"]), _clean_path(git["b"])
                index += 1
                continue
            if self._file_header(index):
                index += 2
                index = self._maybe_delete(index)
                continue
            if line.startswith("@@"):
                header = _HUNK.match(line)
                old = header.group("old") if header else None
                hint = max(int(old) - 1, 0) if old is not None else None
                index = self._hunk(index + 1, hint)
                continue
            if in_diff_fence and line[:1] in ("+", "-", " ") and line.strip():
                index = self._hunk(index, None)
                continue
            if line.strip():
                named = path_from_line(line)
                if named is not None:
                    self.fence_name = named
            index += 1

    def _file_header(self, index: int) -> bool:
        old = _OLD.match(self.lines[index])
        if old is None or index + 1 >= len(self.lines):
            return False
        new = _NEW.match(self.lines[index + 1])
        if new is None:
            return False
        self.old_path = _clean_path(old.group("path"))
        self.new_path = _clean_path(new.group("path"))
        return True

    def _maybe_delete(self, index: int) -> int:
        if self.new_path != _DEV_NULL or self.old_path in (None, _DEV_NULL):
            return index
        self.edits.append(EditBlock(self.old_path, (), (), EditKind.DELETE))
        # Skip the body: its removed lines only repeat the file.
        while index < len(self.lines) and (
            self.lines[index][:1] in ("-", " ", "@") and not self.lines[index].startswith("--- ")
        ):
            index += 1
        return index

    def _hunk(self, index: int, hint: int | None) -> int:
        texts: list[str] = []
        marks: list[str] = []
        while index < len(self.lines):
            line = self.lines[index]
            if line.startswith("@@") or _GIT.match(line) or self._file_header(index):
                break
            if _FENCE.match(line):
                break
            head = line[:1]
            if line.startswith(_NO_NEWLINE):
                index += 1
                continue
            if head in (" ", "-", "+"):
                marks.append(head)
                texts.append(line[1:])
            elif line.strip() == "":
                marks.append(" ")
                texts.append("")
            else:
                break
            index += 1
        while marks and marks[-1] == " " and texts[-1] == "":
            marks.pop()  # blank lines after a hunk are separators as often as context
            texts.pop()
        self._emit(texts, marks, hint)
        return index

    def _emit(self, texts: list[str], marks: list[str], hint: int | None) -> None:
        if "+" not in marks and "-" not in marks:
            if texts:
                self.problems.append(
                    EditProblem(
                        EditProblemCode.EMPTY_HUNK,
                        "A diff hunk has no `+` or `-` lines, so it changes nothing.",
                        len(self.edits),
                        self.path,
                    )
                )
            return
        before = tuple(t for t, m in zip(texts, marks, strict=True) if m != "+")
        after = tuple(t for t, m in zip(texts, marks, strict=True) if m != "-")
        if self.old_path == _DEV_NULL:
            self.edits.append(EditBlock(self.path, (), after, EditKind.CREATE))
            return
        self.edits.append(
            EditBlock(self.path, before, after, EditKind.REPLACE, "".join(marks), hint)
        )
