"""One call from a model reply to a new file text: parse, pick this file's edits, apply.

This is the single-file entry point used by the B2 benchmark and by callers that already know the
target file. It never raises on model output: anything it cannot place becomes a refusal with a
reason written for the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from smallcode_ls.parse.edit_types import (
    EditBlock,
    EditFormat,
    EditKind,
    EditParse,
    EditProblem,
    EditProblemCode,
)
from smallcode_ls.parse.edits import parse_edits
from smallcode_ls.patch.apply import apply_blocks
from smallcode_ls.patch.lines import is_strong_marker
from smallcode_ls.patch.whole import read_symbol_block, replace_symbol, replace_whole_file

__all__ = ["ApplyResult", "apply_model_output", "apply_parsed", "edits_for_path", "same_file"]

_SNIPPET_MIN_LINES = 30


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The outcome for one file.

    ``format`` is one of ``search-replace``, ``unified-diff``, ``whole-file``, ``whole-symbol``,
    ``unknown``; ``rungs`` holds the matching rung of each applied block (``exact``,
    ``whitespace``, ``indent``, ``elision``, ``fuzzy``, ``already-applied``; empty for whole-file).
    """

    new_text: str | None
    refused: bool
    reason: str
    format: str
    rungs: tuple[str, ...]
    scores: tuple[float, ...] = ()
    problems: tuple[EditProblem, ...] = ()


def apply_model_output(
    text: str, output: str, path: str = "file.py", anchor_line: int | None = None
) -> ApplyResult:
    """Parse a model's edit output (any supported format) for ONE file and apply it to `text`.

    ``anchor_line`` (0-based) is the line the task is about: it picks the meant definition
    when a whole-symbol answer names one defined more than once.
    """
    return apply_parsed(text, parse_edits(output), path, anchor_line)


def _refuse(kind: EditFormat | str, problems: Sequence[EditProblem]) -> ApplyResult:
    reason = "\n".join(problem.message for problem in problems) or "The edit was refused."
    return ApplyResult(None, True, reason, str(kind), (), (), tuple(problems))


def same_file(named: str, path: str) -> bool:
    """Whether a file name from the model denotes ``path`` (same path, suffix or base name)."""
    a = PurePosixPath(named.replace("\\", "/").lstrip("./"))
    b = PurePosixPath(path.replace("\\", "/").lstrip("./"))
    if a == b:
        return True
    shorter, longer = (a.parts, b.parts) if len(a.parts) <= len(b.parts) else (b.parts, a.parts)
    return bool(shorter) and longer[-len(shorter) :] == shorter


def edits_for_path(parsed: EditParse, path: str) -> tuple[EditBlock, ...] | EditProblem:
    """The edits meant for ``path``: unnamed ones, ones naming it, or all when one file is named."""
    mine = tuple(e for e in parsed.edits if e.path is None or same_file(e.path, path))
    if mine:
        return mine
    if len(parsed.paths) == 1:
        return parsed.edits  # one file, named differently by the model: it can only mean this one
    return EditProblem(
        EditProblemCode.SEVERAL_FILES,
        f"The edits name {', '.join(parsed.paths)}, but none is {path}.",
        path=path,
    )


def apply_parsed(
    text: str, parsed: EditParse, path: str, anchor_line: int | None = None
) -> ApplyResult:
    """Apply an already parsed reply to one file."""
    if parsed.problems or not parsed.edits:
        return _refuse(parsed.format, parsed.problems)
    edits = edits_for_path(parsed, path)
    if isinstance(edits, EditProblem):
        return _refuse(parsed.format, (edits,))
    kinds = {edit.kind for edit in edits}
    if EditKind.DELETE in kinds:
        return _refuse(
            parsed.format,
            (EditProblem(EditProblemCode.DELETE_NOT_ALLOWED, f"Deleting {path} is not allowed."),),
        )
    if kinds & {EditKind.WHOLE, EditKind.CREATE}:
        return _whole(text, edits[-1], path, parsed.format, anchor_line)
    result = apply_blocks(text, edits, path)
    if result.new_text is None:
        return _refuse(parsed.format, result.problems)
    return ApplyResult(
        result.new_text,
        False,
        "",
        str(parsed.format),
        tuple(str(r) for r in result.rungs),
        tuple(b.score for b in result.blocks),
    )


def _whole(
    text: str, edit: EditBlock, path: str, kind: EditFormat, anchor_line: int | None = None
) -> ApplyResult:
    if edit.kind is EditKind.CREATE and text.strip():
        problem = EditProblem(
            EditProblemCode.FILE_EXISTS,
            f"{path} already exists; edit it instead of creating it.",
            path=path,
        )
        return _refuse(kind, (problem,))
    if edit.kind is EditKind.WHOLE and text.strip():
        block = read_symbol_block(edit.after, path)
        if block is not None:
            replaced = replace_symbol(text, block, path, anchor_line)
            if isinstance(replaced, EditProblem):
                return _refuse(EditFormat.WHOLE_SYMBOL, (replaced,))
            return ApplyResult(replaced, False, "", str(EditFormat.WHOLE_SYMBOL), ("exact",))
    if text.strip():
        lazy = _lazy_whole_file(text, edit.after, path)
        if lazy is not None:
            return _refuse(kind, (lazy,))
    return ApplyResult(replace_whole_file(text, edit.after), False, "", str(kind), ())


def _lazy_whole_file(text: str, lines: Sequence[str], path: str) -> EditProblem | None:
    """A "whole file" that elides code, or keeps under a third of it, is a snippet, not a file."""
    if any(is_strong_marker(line) for line in lines):
        return EditProblem(
            EditProblemCode.ELISION,
            f"The new {path} contains an elision comment (`# ... existing code ...`); "
            "a whole-file edit must contain the complete file.",
            path=path,
        )
    old = sum(1 for line in text.splitlines() if line.strip())
    new = sum(1 for line in lines if line.strip())
    if old >= _SNIPPET_MIN_LINES and new * 3 < old:
        return EditProblem(
            EditProblemCode.NOT_FOUND,
            f"The code block has {new} lines but {path} has {old}: it looks like a snippet, "
            "not the whole file. Send SEARCH/REPLACE blocks for the change, or the complete file.",
            path=path,
        )
    return None
