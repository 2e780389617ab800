"""Fenced code blocks and file-name lines in model replies.

Models name the file of an edit in many ways: in the fence (```python src/app.py``), on the line
before it (``src/app.py``, ``**src/app.py**``, ``File: src/app.py``, ``# src/app.py``), or not at
all. These helpers find the name without guessing from prose sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Fence", "find_fences", "path_from_info", "path_from_line", "split_lines"]

_FENCE = re.compile(r"^[ \t]{0,3}(?P<run>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
_NAME_PREFIX = re.compile(r"^(?:file(?:name)?|path|in|update|edit|create|new file)\s*[:=]\s*", re.I)
_PATH = re.compile(r"^(?:[A-Za-z]:)?[\w.~@+\-]*(?:[\\/][\w.@+\-]+)*\.[A-Za-z0-9_]{1,8}$")
_BARE_NAMES = frozenset({"Makefile", "Dockerfile", "Containerfile", "Justfile", "Gemfile"})
_TITLE = re.compile(r"""(?:title|file(?:name)?|path)\s*=\s*["']?([^"'\s]+)""", re.I)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Fence:
    """A fenced block: ``lines`` between the fence lines (``start``/``end`` index them).

    ``closed`` is False when the reply ended inside the block (truncated output).
    """

    info: str
    lines: tuple[str, ...]
    start: int
    end: int
    closed: bool


def split_lines(text: str) -> list[str]:
    """Split at CRLF, CR or LF; a final line break adds no empty line."""
    parts = _LINE_BREAK.split(text)
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def path_from_line(line: str) -> str | None:
    """The file name a short line names (``**a/b.py**``, ``File: a.py``, ``# a.py:``), if any."""
    candidate = line.strip().strip("*`'\"").strip()
    candidate = candidate.lstrip("#").strip().strip("*`'\"")
    candidate = _NAME_PREFIX.sub("", candidate).strip().strip("*`'\"").rstrip(":").strip("*`")
    if not candidate or len(candidate) > 200 or " " in candidate:
        return None
    if candidate in _BARE_NAMES or _PATH.match(candidate):
        return candidate
    return None


def path_from_info(info: str) -> str | None:
    """The file name in a fence info string (```python app.py``, ```app.py``, ``title="x"``)."""
    titled = _TITLE.search(info)
    if titled:
        return path_from_line(titled.group(1))
    for word in info.replace(":", " ").split():
        path = path_from_line(word)
        if path is not None and "." in path.strip("."):
            return path
    return None


def find_fences(lines: list[str]) -> list[Fence]:
    """Every fenced block, outermost only; an unclosed block runs to the end of the reply."""
    fences: list[Fence] = []
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        run = opened.group("run")
        close = index + 1
        while close < len(lines):
            closing = _FENCE.match(lines[close])
            if (
                closing
                and closing.group("info") == ""
                and closing.group("run")[0] == run[0]
                and len(closing.group("run")) >= len(run)
            ):
                break
            close += 1
        closed = close < len(lines)
        fences.append(
            Fence(opened.group("info"), tuple(lines[index + 1 : close]), index, close, closed)
        )
        index = close + 1
    return fences
