"""Put an edit block's changes into the file at a located place.

The block is read as a line diff from ``before`` to ``after`` (for unified-diff hunks, the hunk's
own ``' '``/``'-'``/``'+'`` marks; otherwise difflib on the lines). Unchanged lines keep the
*file's* version, so a drifted context line, a dropped blank line or an elided middle never
leaks into the result; only the changed lines are written, shifted by the match's indentation.
An insertion whose place the model's lines do not pin down is refused, not guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from smallcode_ls.parse.edit_types import EditProblemCode
from smallcode_ls.patch.lines import is_marker, is_strong_marker, reindent
from smallcode_ls.patch.match import Match, Rung

__all__ = ["Spliced", "SpliceConflict", "opcodes", "splice"]

Opcode = tuple[str, int, int, int, int]
_COUNTERPART = 0.6  # similarity at which a new line is read as the rewrite of an old one


@dataclass(frozen=True, slots=True)
class Spliced:
    """The new lines for the file's ``[match.start, match.end)``; a None break is the default."""

    contents: tuple[str, ...]
    breaks: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class SpliceConflict:
    """Why the located block could not be written."""

    code: EditProblemCode
    message: str


def opcodes(before: Sequence[str], after: Sequence[str], marks: str | None) -> list[Opcode]:
    """The line diff of a block: from the hunk marks when known, else from difflib."""
    if marks is None:
        left = ["\0..." if is_marker(line) else line.rstrip() for line in before]
        right = ["\0..." if is_marker(line) else line.rstrip() for line in after]
        return list(SequenceMatcher(None, left, right, autojunk=False).get_opcodes())
    ops: list[Opcode] = []
    i = j = k = 0
    while k < len(marks):
        i0, j0 = i, j
        if marks[k] == " ":
            while k < len(marks) and marks[k] == " ":
                i, j, k = i + 1, j + 1, k + 1
            ops.append(("equal", i0, i, j0, j))
            continue
        while k < len(marks) and marks[k] != " ":
            if marks[k] == "-":
                i += 1
            else:
                j += 1
            k += 1
        ops.append(("replace", i0, i, j0, j))
    return ops


def splice(
    contents: Sequence[str],
    breaks: Sequence[str | None],
    match: Match,
    before: Sequence[str],
    after: Sequence[str],
    marks: str | None,
) -> Spliced | SpliceConflict:
    """The replacement for the matched region, or why it cannot be written safely."""
    out: list[str] = []
    out_breaks: list[str | None] = []
    align = match.align
    pos = match.start

    def keep(upto: int) -> None:
        nonlocal pos
        if upto > pos:
            out.extend(contents[pos:upto])
            out_breaks.extend(breaks[pos:upto])
            pos = upto

    for tag, i1, i2, j1, j2 in opcodes(before, after, marks):
        placed = [a for a in align[i1:i2] if a is not None]
        if tag == "equal":
            if placed:
                keep(max(placed) + 1)
            continue
        elided = match.rung is Rung.ELISION and any(is_marker(line) for line in before[i1:i2])
        if elided or any(is_strong_marker(line) for line in after[j1:j2]):
            return SpliceConflict(
                EditProblemCode.ELISION,
                "An elision marker (`...` / `# ... existing code ...`) stands where lines change; "
                "write the changed lines in full and keep markers only for unchanged lines.",
            )
        if _near_loose_gap(before[i1:i2], after[j1:j2], i1, i2, match.loose):
            return SpliceConflict(
                EditProblemCode.AMBIGUOUS,
                "The changed lines sit next to blank lines that differ from the file's, so "
                "their exact place is unclear. Copy the blank lines exactly as in the file.",
            )
        if placed:
            keep(placed[0])
            pos = max(max(placed) + 1, pos)
        elif j2 > j1:
            target = _insertion_point(contents, align, before, i1, i2, pos, match.end)
            if target is None:
                return SpliceConflict(
                    EditProblemCode.AMBIGUOUS,
                    "The place of the added lines is unclear: lines of the file lie between the "
                    "lines around them in your edit. Copy the surrounding lines exactly.",
                )
            keep(target)
        new = reindent(after[j1:j2], match.delta, match.prefix)
        if match.noisy_trailing:
            new = [line.rstrip() for line in new]
        out.extend(new)
        out_breaks.extend([None] * len(new))
    keep(match.end)
    return Spliced(tuple(out), tuple(out_breaks))


def _near_loose_gap(
    old: Sequence[str], new: Sequence[str], i1: int, i2: int, loose: Sequence[tuple[int, int]]
) -> bool:
    """Whether a change cannot be placed exactly because of a blank-line gap next to it.

    Inside a gap nothing can be placed. At a gap's edge, lines the change adds on the
    gap's side could go before or after the file's extra (or missing) blank lines.
    """
    resizes = len(new) != len(old)
    for left, right in loose:
        if i1 == i2 and left < i1 <= right:
            return True
        if i1 != i2 and i1 < right and i2 > left + 1:
            return True
        if resizes and i1 != i2 and i1 == right and _added_before(old[0], new):
            return True
        if resizes and i1 != i2 and i2 == left + 1 and _added_before(old[-1], new[::-1]):
            return True
    return False


def _added_before(line: str, new: Sequence[str]) -> bool:
    """Whether ``new`` adds lines ahead of the rewrite of ``line`` that cling to it.

    Added lines that end in a blank line form their own paragraph: the file's blank
    lines go before them. Without a clear rewrite of ``line``, the new lines simply
    take its place.
    """
    target = line.strip()
    best, best_ratio = 0, 0.0
    for index, candidate in enumerate(new):
        ratio = SequenceMatcher(None, target, candidate.strip(), autojunk=False).ratio()
        if ratio > best_ratio:
            best, best_ratio = index, ratio
    return best > 0 and best_ratio >= _COUNTERPART and bool(new[best - 1].strip())


def _insertion_point(
    contents: Sequence[str],
    align: Sequence[int | None],
    before: Sequence[str],
    i1: int,
    i2: int,
    pos: int,
    end: int,
) -> int | None:
    """Where a pure insertion goes: right at ``pos`` unless unmatched file lines follow it.

    Next to an elided run, blank lines at the run's edge make the place ambiguous
    (before or after them?): refused.
    """
    following = next((a for a in align[i2:] if a is not None), end)
    if following <= pos:
        return pos
    if i1 > 0 and is_marker(before[i1 - 1]):
        # "... existing code ..." then new lines: after the elided run
        return None if not contents[following - 1].strip() else following
    if i2 < len(before) and is_marker(before[i2]):
        return None if pos < len(contents) and not contents[pos].strip() else pos
    return None
