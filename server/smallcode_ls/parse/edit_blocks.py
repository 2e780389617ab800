"""SEARCH/REPLACE blocks: aider's markers and the common variants.

Accepted: ``<<<<<<< SEARCH`` / ``=======`` / ``>>>>>>> REPLACE`` with 5 to 9 marker characters,
``ORIGINAL``/``UPDATED`` and ``FIND`` wording, a file name on a line before the block or in the
fence around it (the last name seen carries over to the next block), fenced or not. The text
between the markers is kept literally. A block the reply ends inside is reported, never used.
"""

from __future__ import annotations

import re

from smallcode_ls.parse.edit_fences import path_from_info, path_from_line
from smallcode_ls.parse.edit_types import EditBlock, EditKind, EditProblem, EditProblemCode

__all__ = ["has_search_replace", "read_search_replace"]

_HEAD = re.compile(r"^[ \t]*<{5,9}[ \t]*(?:SEARCH|ORIGINAL|FIND|HEAD)?[ \t]*:?[ \t]*$", re.I)
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$")
_TAIL = re.compile(r"^[ \t]*>{5,9}[ \t]*(?:REPLACE|UPDATED?)?[ \t]*:?[ \t]*$", re.I)
_FENCE = re.compile(r"^[ \t]{0,3}(?:`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
_ANY_HEAD = re.compile(r"^[ \t]*<{5,9}[ \t]*(?:SEARCH|ORIGINAL|FIND)\b", re.I | re.M)
_LOOKBACK = 3


def has_search_replace(output: str) -> bool:
    """Whether the reply contains at least one SEARCH marker."""
    return _ANY_HEAD.search(output) is not None


def _name_before(lines: list[str], head: int, floor: int) -> str | None:
    """The file name on one of the few non-blank lines above a SEARCH marker."""
    looked = 0
    index = head - 1
    while index >= floor and looked < _LOOKBACK:
        line = lines[index]
        index -= 1
        if not line.strip():
            continue
        looked += 1
        fence = _FENCE.match(line)
        if fence is not None:
            named = path_from_info(fence.group("info"))
            if named is not None:
                return named
            continue
        named = path_from_line(line)
        if named is not None:
            return named
    return None


def read_search_replace(lines: list[str]) -> tuple[list[EditBlock], list[EditProblem]]:
    """Every SEARCH/REPLACE block in the reply, with problems for broken ones."""
    edits: list[EditBlock] = []
    problems: list[EditProblem] = []
    path: str | None = None
    floor = 0
    index = 0
    while index < len(lines):
        if _HEAD.match(lines[index]) is None or not _looks_like_head(lines[index]):
            index += 1
            continue
        path = _name_before(lines, index, floor) or path
        divider = _find(lines, index + 1, _DIVIDER, stop=_HEAD)
        if divider is None:
            problems.append(_unclosed(len(edits), path, "=======", "the SEARCH part"))
            break
        tail = _find(lines, divider + 1, _TAIL, stop=_HEAD)
        if tail is None:
            problems.append(_unclosed(len(edits), path, ">>>>>>> REPLACE", "the REPLACE part"))
            break
        before = tuple(lines[index + 1 : divider])
        after = tuple(lines[divider + 1 : tail])
        edits.append(EditBlock(path, before, after, EditKind.REPLACE))
        index = tail + 1
        floor = index
    return edits, problems


def _looks_like_head(line: str) -> bool:
    # A bare run of "<" is accepted only with aider's 7 characters (conflict-marker shape).
    stripped = line.strip().rstrip(":").strip()
    return any(c.isalpha() for c in stripped) or stripped == "<" * 7


def _find(
    lines: list[str], start: int, pattern: re.Pattern[str], stop: re.Pattern[str]
) -> int | None:
    for index in range(start, len(lines)):
        if pattern.match(lines[index]):
            return index
        if stop.match(lines[index]) and _looks_like_head(lines[index]):
            return None
    return None


def _unclosed(block: int, path: str | None, marker: str, part: str) -> EditProblem:
    return EditProblem(
        EditProblemCode.UNCLOSED_BLOCK,
        f"SEARCH/REPLACE block {block + 1} is not finished: {part} has no closing "
        f"`{marker}` line. Send the whole block again.",
        block,
        path,
    )
