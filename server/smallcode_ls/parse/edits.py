"""Read a model's edit reply: SEARCH/REPLACE blocks, unified diffs, or whole files and symbols.

The format is recognised from the reply itself, in this order: SEARCH markers, then diff shapes
(hunk headers, ``---``/``+++`` pairs, a ```diff fence), then fenced code blocks (a whole file, or
one whole function/class that the applier places by name through the code graph). The result says
which format it saw; nothing here raises on model output.
"""

from __future__ import annotations

from smallcode_ls.parse.edit_blocks import has_search_replace, read_search_replace
from smallcode_ls.parse.edit_diff import looks_like_diff, read_unified_diff
from smallcode_ls.parse.edit_fences import find_fences, path_from_info, path_from_line, split_lines
from smallcode_ls.parse.edit_types import (
    EditBlock,
    EditFormat,
    EditKind,
    EditParse,
    EditProblem,
    EditProblemCode,
)
from smallcode_ls.parse.thinking import strip_thinking

__all__ = ["parse_edits"]

_THINKING_CHARS = 0


def parse_edits(output: str) -> EditParse:
    """Parse one model reply into edit blocks for one or more files."""
    if output.lstrip().startswith("<think") or "</think>" in output:
        output = strip_thinking(output, _THINKING_CHARS).visible
    lines = split_lines(output)
    if has_search_replace(output):
        edits, problems = read_search_replace(lines)
        return EditParse(EditFormat.SEARCH_REPLACE, tuple(edits), tuple(problems))
    if looks_like_diff(lines):
        edits, problems = read_unified_diff(lines)
        if edits or problems:
            return _finish(EditFormat.UNIFIED_DIFF, edits, problems)
    edits, problems = _read_whole_files(lines)
    if edits or problems:
        return _finish(EditFormat.WHOLE_FILE, edits, problems)
    return EditParse(
        EditFormat.UNKNOWN,
        (),
        (
            EditProblem(
                EditProblemCode.NO_EDIT,
                "No edit was found in the reply. Use SEARCH/REPLACE blocks "
                "(<<<<<<< SEARCH / ======= / >>>>>>> REPLACE) or a fenced code block.",
            ),
        ),
    )


def _finish(kind: EditFormat, edits: list[EditBlock], problems: list[EditProblem]) -> EditParse:
    if not edits and not problems:
        problems.append(EditProblem(EditProblemCode.NO_EDIT, "The reply holds no usable edit."))
    return EditParse(kind, tuple(edits), tuple(problems))


def _read_whole_files(lines: list[str]) -> tuple[list[EditBlock], list[EditProblem]]:
    """Fenced blocks as whole files; the last block wins per name (and among unnamed ones)."""
    named: dict[str | None, EditBlock] = {}
    problems: list[EditProblem] = []
    for fence in find_fences(lines):
        path = path_from_info(fence.info) or _name_above(lines, fence.start)
        if not fence.closed:
            problems.append(
                EditProblem(
                    EditProblemCode.UNCLOSED_BLOCK,
                    "The code block is not closed with ``` (the reply was cut off?). "
                    "Send the complete block again.",
                    len(named),
                    path,
                )
            )
            continue
        if not any(line.strip() for line in fence.lines):
            continue
        named.pop(path, None)
        named[path] = EditBlock(path, (), fence.lines, EditKind.WHOLE)
    if problems:
        return [], problems
    if None in named and len(named) > 1:
        named.pop(None)  # prose snippets next to named files
    return list(named.values()), problems


def _name_above(lines: list[str], start: int) -> str | None:
    index = start - 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    if index < 0 or start - index > 2:
        return None
    return path_from_line(lines[index])
