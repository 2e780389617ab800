"""Apply parsed edit blocks to one file's text, all or nothing.

Blocks apply in order, each to the text the previous ones produced (a hunk's line hint is moved
by the lines earlier blocks added or removed above it). A block whose target is absent or
ambiguous stops the whole file: the result is a refusal naming the block and the closest lines.
A block whose replacement is already there (and whose search text is not) counts as applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smallcode_ls.parse.edit_types import EditBlock, EditProblem, EditProblemCode
from smallcode_ls.patch.lines import FileLines, is_marker, is_significant
from smallcode_ls.patch.match import Match, Miss, Rung, find_runs, locate
from smallcode_ls.patch.splice import SpliceConflict, splice

__all__ = ["BlockResult", "TextPatch", "apply_blocks"]

_MAX_SHOWN = 12


@dataclass(frozen=True, slots=True)
class BlockResult:
    """How one block was placed: the rung and its score (1.0 for every rung but fuzzy)."""

    rung: Rung
    score: float
    start_line: int


@dataclass(frozen=True, slots=True)
class TextPatch:
    """The new text (None when refused), per-block results and the problems."""

    new_text: str | None
    blocks: tuple[BlockResult, ...]
    problems: tuple[EditProblem, ...]

    @property
    def rungs(self) -> tuple[Rung, ...]:
        """The rung used by each applied block."""
        return tuple(block.rung for block in self.blocks)


@dataclass(slots=True)
class _State:
    contents: list[str]
    breaks: list[str | None]
    shifts: list[tuple[int, int]]  # (line, lines added) of applied blocks, for hint moves

    def moved(self, hint: int | None) -> int | None:
        if hint is None:
            return None
        return hint + sum(added for line, added in self.shifts if line <= hint)


def apply_blocks(text: str, blocks: Sequence[EditBlock], path: str) -> TextPatch:
    """Apply REPLACE blocks to ``text``; any failing block refuses the whole file."""
    file = FileLines.split(text)
    state = _State(list(file.contents), list(file.breaks), [])
    results: list[BlockResult] = []
    for number, block in enumerate(blocks):
        outcome = _apply_one(state, block, number, path, len(blocks))
        if isinstance(outcome, EditProblem):
            return TextPatch(None, tuple(results), (outcome,))
        results.append(outcome)
    return TextPatch(file.join(state.contents, state.breaks), tuple(results), ())


def _apply_one(
    state: _State, block: EditBlock, number: int, path: str, total: int
) -> BlockResult | EditProblem:
    before, after = list(block.before), list(block.after)
    if block.marks is None:
        before, after = _trim_outer_elision(before, after)
    label = _label(block, number, total)
    if not any(line.strip() for line in before):
        if any(line.strip() for line in state.contents):
            if block.marks is not None or before:
                return _problem(
                    EditProblemCode.NOT_FOUND,
                    f"{label} has no unchanged or removed lines to place it by. "
                    "Include a few lines around the change exactly as they are in the file.",
                    number,
                    path,
                )
            at = len(state.contents)  # an empty SEARCH appends, as in aider
        else:
            at = 0
            state.contents, state.breaks = [], []
        state.contents[at:at] = after
        state.breaks[at:at] = [None] * len(after)
        return BlockResult(Rung.EXACT, 1.0, at)
    found = locate(state.contents, before, state.moved(block.hint_line))
    if isinstance(found, Miss):
        done = _already_applied(state.contents, before, after)
        if done is not None:
            return BlockResult(Rung.ALREADY_APPLIED, 1.0, done)
        return _miss_problem(found, state.contents, label, number, path)
    if found.rung is Rung.EXACT:
        done = _inserted_already(state.contents, found, before, after)
        if done:
            return BlockResult(Rung.ALREADY_APPLIED, 1.0, found.start)
    spliced = splice(state.contents, state.breaks, found, before, after, block.marks)
    if isinstance(spliced, SpliceConflict):
        return _problem(spliced.code, f"{label}: {spliced.message}", number, path)
    if found.rung is Rung.ELISION and not _blank_lines_kept(after, spliced.contents):
        return _problem(
            EditProblemCode.AMBIGUOUS,
            f"{label}: the blank lines of your REPLACE text cannot be kept where the file's "
            "lines differ from your SEARCH text. Copy the lines around the change exactly.",
            number,
            path,
        )
    state.contents[found.start : found.end] = spliced.contents
    state.breaks[found.start : found.end] = spliced.breaks
    state.shifts.append((found.start, len(spliced.contents) - (found.end - found.start)))
    return BlockResult(found.rung, found.score, found.start)


def _blank_lines_kept(after: Sequence[str], result: Sequence[str]) -> bool:
    """Whether neighbouring REPLACE lines keep their blank-line spacing in the result.

    Around an elided run the change may land on either side of the file's blank lines;
    when the result spaces two consecutive REPLACE lines differently than the model
    wrote them, the placement was a guess.
    """
    stripped = [line.strip() for line in result]
    cursor = 0
    previous: int | None = None  # where the last placed REPLACE line landed
    gap = 0  # blank lines the model wrote since that line
    for line in after:
        text = line.strip()
        if not text:
            gap += 1
            continue
        if is_marker(line):
            previous, gap = None, 0
            continue
        try:
            where = stripped.index(text, cursor)
        except ValueError:  # a drifted line keeps the file's text: no anchor here
            previous, gap = None, 0
            continue
        if previous is not None and where - previous - 1 != gap:
            return False
        previous, gap, cursor = where, 0, where + 1
    return True


def _trim_outer_elision(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """Drop a leading or trailing elision (blank lines and a marker) shared by both sides.

    ``...`` as the first or last real line of a SEARCH block says "the code goes on"; it
    anchors nothing, and leaving it in makes the block unplaceable.
    """
    first = next((i for i, line in enumerate(before) if line.strip()), None)
    if (
        first is not None
        and is_marker(before[first])
        and before[: first + 1] == after[: first + 1]
        and any(line.strip() for line in before[first + 1 :])
    ):
        before, after = before[first + 1 :], after[first + 1 :]
    last = next((i for i in range(len(before) - 1, -1, -1) if before[i].strip()), None)
    if last is not None and is_marker(before[last]):
        tail = len(before) - last
        if (
            len(after) >= tail
            and before[last:] == after[len(after) - tail :]
            and any(line.strip() for line in before[:last])
        ):
            before, after = before[:last], after[: len(after) - tail]
    return before, after


def _label(block: EditBlock, number: int, total: int) -> str:
    kind = "Hunk" if block.marks is not None else "SEARCH block"
    return f"{kind} {number + 1}" if total > 1 else kind


def _already_applied(
    contents: Sequence[str], before: Sequence[str], after: Sequence[str]
) -> int | None:
    """The replacement is present (and the search text was not found): nothing to do."""
    new_lines = {line.strip() for line in after} - {line.strip() for line in before}
    if not any(is_significant(t) for t in new_lines):
        return None
    if sum(1 for line in after if is_significant(line.strip())) < 2:
        return None
    found = locate(contents, after)
    if isinstance(found, Match) and found.rung in (Rung.EXACT, Rung.WHITESPACE, Rung.INDENT):
        return found.start
    return None


def _inserted_already(
    contents: Sequence[str], found: Match, before: Sequence[str], after: Sequence[str]
) -> bool:
    """An insertion whose result already surrounds the search text (applied twice)."""
    if len(after) <= len(before) or not find_runs(list(after), list(before)):
        return False
    hits = find_runs(list(contents), list(after))
    return len(hits) == 1 and hits[0] <= found.start and found.end <= hits[0] + len(after)


def _problem(code: EditProblemCode, message: str, number: int, path: str) -> EditProblem:
    return EditProblem(code, message, number, path)


def _miss_problem(
    miss: Miss, contents: Sequence[str], label: str, number: int, path: str
) -> EditProblem:
    if miss.code is EditProblemCode.AMBIGUOUS:
        places = " and ".join(f"lines {a + 1}-{b}" for a, b in miss.places[:4])
        return _problem(
            miss.code,
            f"{label} matches {len(miss.places)} places in {path} ({places}). "
            "Add more unchanged lines around the change so that it matches exactly one place.",
            number,
            path,
        )
    message = f"{label} was not found in {path}."
    if miss.places:
        start, end = miss.places[0]
        end = min(end, start + _MAX_SHOWN)
        shown = "\n".join(contents[start:end])
        message += (
            f" Did you mean these lines ({start + 1}-{end})?\n```\n{shown}\n```\n"
            "The SEARCH text must copy the file's lines exactly."
        )
    else:
        message += " Nothing similar is in the file; check that the edit is meant for this file."
    return _problem(miss.code, message, number, path)
