"""Typed results of the edit parser: formats, edit blocks and problems.

An edit is kept as lines without their line breaks; the applier gives inserted lines the line
break of the file they land in, so CRLF files stay CRLF whatever the model wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "EditBlock",
    "EditFormat",
    "EditKind",
    "EditParse",
    "EditProblem",
    "EditProblemCode",
]


class EditFormat(StrEnum):
    """Which edit format a model reply was written in."""

    SEARCH_REPLACE = "search-replace"
    UNIFIED_DIFF = "unified-diff"
    WHOLE_FILE = "whole-file"
    WHOLE_SYMBOL = "whole-symbol"
    UNKNOWN = "unknown"


class EditKind(StrEnum):
    """What one edit block asks for."""

    REPLACE = "replace"
    """Find ``before`` in the file and put ``after`` in its place."""
    WHOLE = "whole"
    """``after`` is the complete new file, or one complete symbol (decided against the file)."""
    CREATE = "create"
    """A new file whose content is ``after``."""
    DELETE = "delete"
    """Remove the file."""


class EditProblemCode(StrEnum):
    """Why (part of) a reply could not become an edit, or an edit could not be placed."""

    NO_EDIT = "no_edit"
    UNCLOSED_BLOCK = "unclosed_block"
    EMPTY_HUNK = "empty_hunk"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    OVERLAP = "overlap"
    ELISION = "elision"
    UNKNOWN_FILE = "unknown_file"
    FILE_EXISTS = "file_exists"
    DELETE_NOT_ALLOWED = "delete_not_allowed"
    SEVERAL_FILES = "several_files"
    SYMBOL_AMBIGUOUS = "symbol_ambiguous"


@dataclass(frozen=True, slots=True)
class EditBlock:
    """One edit for one file.

    ``marks`` is set for unified-diff hunks: one character per hunk line in order (``' '``
    context, ``'-'`` removed, ``'+'`` added), so the applier knows exactly which lines are
    context. ``hint_line`` is the 0-based old start line from a hunk header: a tiebreaker only,
    never trusted on its own.
    """

    path: str | None
    before: tuple[str, ...]
    after: tuple[str, ...]
    kind: EditKind = EditKind.REPLACE
    marks: str | None = None
    hint_line: int | None = None
    final_newline: bool = True


@dataclass(frozen=True, slots=True)
class EditProblem:
    """Something that could not be used; ``message`` is written for the model."""

    code: EditProblemCode
    message: str
    block: int | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class EditParse:
    """Everything read from one reply: the format seen, the edits and the problems."""

    format: EditFormat
    edits: tuple[EditBlock, ...]
    problems: tuple[EditProblem, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """The distinct file names the edits mention, in order of appearance."""
        seen: dict[str, None] = {}
        for edit in self.edits:
            if edit.path is not None:
                seen.setdefault(edit.path, None)
        return tuple(seen)
