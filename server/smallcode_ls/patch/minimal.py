r"""Minimal edits from an old text to a new one, as string offsets into the old text.

A line diff (difflib on lines with their breaks) finds the changed regions; each region is then
trimmed to the characters that really differ. No edit boundary ever falls between the ``\r`` and
``\n`` of a CRLF pair, which an LSP position cannot address. Edits are sorted, do not overlap,
and applied together to the old text give the new text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from smallcode_ls.common_affix import common_prefix, common_suffix

__all__ = ["OffsetEdit", "apply_offset_edits", "minimal_edits"]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass(frozen=True, slots=True)
class OffsetEdit:
    """Replace ``old[start:end]`` with ``text``."""

    start: int
    end: int
    text: str


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def minimal_edits(old: str, new: str) -> tuple[OffsetEdit, ...]:
    """The few small edits that turn ``old`` into ``new``."""
    if old == new:
        return ()
    prefix = common_prefix(old, new)
    suffix = common_suffix(old, new, min(len(old), len(new)) - prefix)
    old_mid, new_mid = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    old_lines, new_lines = _lines(old_mid), _lines(new_mid)
    old_starts = _starts(old_lines, prefix)
    new_starts = _starts(new_lines, prefix)
    edits: list[OffsetEdit] = []
    if len(old_lines) * len(new_lines) > 4_000_000:  # pathological sizes: one edit
        ops = [("replace", 0, len(old_lines), 0, len(new_lines))]
    else:
        matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    for _, i1, i2, j1, j2 in ops:
        a, b = old_starts[i1], old_starts[i2]
        c, d = new_starts[j1], new_starts[j2]
        edits.append(_trimmed(old, new, a, b, c, d))
    return _merged(old, [edit for edit in edits if edit.start != edit.end or edit.text])


def _merged(old: str, edits: list[OffsetEdit]) -> tuple[OffsetEdit, ...]:
    """Join edits that touch (an insert where a replacement starts, say).

    Clients order same-position edits differently, so no two edits share a boundary.
    """
    merged: list[OffsetEdit] = []
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if merged and edit.start <= merged[-1].end:
            last = merged[-1]
            text = last.text + old[last.end : edit.start] + edit.text
            merged[-1] = OffsetEdit(last.start, max(last.end, edit.end), text)
        else:
            merged.append(edit)
    return tuple(merged)


def _starts(lines: Sequence[str], base: int) -> list[int]:
    starts = [base]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _trimmed(old: str, new: str, a: int, b: int, c: int, d: int) -> OffsetEdit:
    """Shrink old[a:b] -> new[c:d] to the differing characters, off CRLF middles."""
    head = common_prefix(old[a:b], new[c:d])
    tail = common_suffix(old[a + head : b], new[c + head : d], min(b - a, d - c) - head)
    start, end = a + head, b - tail
    text_start, text_end = c + head, d - tail
    if 0 < start < len(old) and old[start - 1] == "\r" and old[start] == "\n":
        start -= 1
        text_start -= 1
    if 0 < end < len(old) and old[end - 1] == "\r" and old[end] == "\n":
        end += 1
        text_end += 1
    return OffsetEdit(start, end, new[text_start:text_end])


def apply_offset_edits(old: str, edits: Sequence[OffsetEdit]) -> str:
    """Apply sorted, non-overlapping edits to ``old`` (the inverse of :func:`minimal_edits`)."""
    out: list[str] = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(old[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(old[pos:])
    return "".join(out)
