"""The matching ladder: where in a file the model's "before" text sits.

Rungs, most literal first: exact lines; trailing-whitespace- and blank-line-insensitive; relative
indentation (one consistent shift of every line); elision-aware (``...`` / ``# ... existing code
...`` lines stand for any run of lines); a bounded fuzzy match (see :mod:`.fuzzy`). Every rung
counts all places; two places are ambiguous (a hunk's header line may break the tie only when
exactly one place lies within a line of it), and a rung that finds several places stops the
ladder: a looser rung would only find more. The result records the rung and a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from smallcode_ls.parse.edit_types import EditProblemCode
from smallcode_ls.patch.lines import indent_of, is_marker

__all__ = [
    "FileView",
    "Match",
    "Miss",
    "Rung",
    "build_match",
    "consistent_shift",
    "find_runs",
    "locate",
]

HINT_TOLERANCE = 1


class Rung(StrEnum):
    """Which rung of the ladder placed an edit block."""

    EXACT = "exact"
    WHITESPACE = "whitespace"
    INDENT = "indent"
    ELISION = "elision"
    FUZZY = "fuzzy"
    ALREADY_APPLIED = "already-applied"


@dataclass(frozen=True, slots=True)
class Match:
    """A unique place: file lines ``[start, end)``.

    ``align[i]`` is the file line of before-line ``i`` (None: no counterpart, e.g. an elision
    marker or a blank line the file lacks). Replacement lines shift by ``delta`` columns
    (``prefix`` is what is added when positive). ``noisy_trailing`` says the model's lines carried
    trailing whitespace the file does not have, so inserted lines are stripped too. ``loose``
    lists (left, right) before-line anchors between which the file has a different number of
    blank lines than the model: changes inside such a gap cannot be placed exactly.
    """

    start: int
    end: int
    rung: Rung
    score: float
    align: tuple[int | None, ...]
    delta: int = 0
    prefix: str = ""
    noisy_trailing: bool = False
    loose: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Miss:
    """No unique place: ``places`` are the candidate spans, or the closest lines when absent."""

    code: EditProblemCode
    places: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class FileView:
    """Derived views of a file's lines, built once per located block (only when needed)."""

    lines: Sequence[str]
    _nb: list[int] | None = None
    _rs: list[str] | None = None
    _st: list[str] | None = None

    def _build(self) -> None:
        nb = [i for i, line in enumerate(self.lines) if line.strip()]
        self._nb = nb
        self._rs = [self.lines[i].rstrip() for i in nb]
        self._st = [text.lstrip() for text in self._rs]

    @property
    def nonblank(self) -> list[int]:
        """Indexes of the non-blank lines."""
        if self._nb is None:
            self._build()
        assert self._nb is not None
        return self._nb

    @property
    def rstripped(self) -> list[str]:
        """The non-blank lines without trailing whitespace."""
        if self._rs is None:
            self._build()
        assert self._rs is not None
        return self._rs

    @property
    def stripped(self) -> list[str]:
        """The non-blank lines without leading or trailing whitespace."""
        if self._st is None:
            self._build()
        assert self._st is not None
        return self._st


def find_runs(haystack: Sequence[str], needle: Sequence[str], start: int = 0) -> list[int]:
    """Every index where ``needle`` occurs as a contiguous run (C-speed first-line scan)."""
    if not needle:
        return []
    hits: list[int] = []
    first, size = needle[0], len(needle)
    index = start - 1
    as_list = haystack if isinstance(haystack, list) else list(haystack)
    while True:
        try:
            index = as_list.index(first, index + 1)
        except ValueError:
            return hits
        if as_list[index : index + size] == needle:
            hits.append(index)


def _pick(
    spans: list[tuple[int, int]], hint: int | None
) -> tuple[int | None, tuple[tuple[int, int], ...]]:
    """The one span to use (by position in ``spans``), or None with the candidates."""
    if len(spans) == 1:
        return 0, tuple(spans)
    if hint is not None:
        near = [i for i, (start, _) in enumerate(spans) if abs(start - hint) <= HINT_TOLERANCE]
        if len(near) == 1:
            return near[0], tuple(spans)
    return None, tuple(spans)


def locate(lines: Sequence[str], before: Sequence[str], hint: int | None = None) -> Match | Miss:
    """Find the unique place of ``before`` in ``lines``, trying the rungs in order."""
    from smallcode_ls.patch.fuzzy import closest_place, fuzzy_locate

    size = len(before)
    exact = find_runs(lines if isinstance(lines, list) else list(lines), list(before))
    if exact:
        spans = [(start, start + size) for start in exact]
        chosen, places = _pick(spans, hint)
        if chosen is None:
            return Miss(EditProblemCode.AMBIGUOUS, places)
        start = exact[chosen]
        return Match(start, start + size, Rung.EXACT, 1.0, tuple(range(start, start + size)))
    view = FileView(lines)
    search = [i for i, line in enumerate(before) if line.strip()]
    if not search:
        return Miss(EditProblemCode.NOT_FOUND, ())
    for rung in (Rung.WHITESPACE, Rung.INDENT):
        found = _nonblank_rung(view, before, search, hint, rung)
        if found is not None:
            return found
    if any(is_marker(before[i]) for i in search):
        found = _elision(view, before, search, hint)
        if found is not None:
            return found
    fuzzy = fuzzy_locate(view, before, search)
    if fuzzy is not None:
        return fuzzy
    return Miss(EditProblemCode.NOT_FOUND, closest_place(view, before, search))


def _nonblank_rung(
    view: FileView, before: Sequence[str], search: list[int], hint: int | None, rung: Rung
) -> Match | Miss | None:
    if rung is Rung.WHITESPACE:
        needle = [before[i].rstrip() for i in search]
        hits = find_runs(view.rstripped, needle)
    else:
        needle = [before[i].strip() for i in search]
        hits = [k for k in find_runs(view.stripped, needle) if _shift(view, before, search, k)]
    if not hits:
        return None
    nb = view.nonblank
    spans = [(nb[k], nb[k + len(search) - 1] + 1) for k in hits]
    chosen, places = _pick(spans, hint)
    if chosen is None:
        return Miss(EditProblemCode.AMBIGUOUS, places)
    k = hits[chosen]
    pairs = {search[t]: nb[k + t] for t in range(len(search))}
    delta, prefix = _shift(view, before, search, k) or (0, "")
    return build_match(view, before, pairs, rung, 1.0, delta, prefix)


def _shift(
    view: FileView, before: Sequence[str], search: Sequence[int], k: int
) -> tuple[int, str] | None:
    """The one indentation shift mapping the model's lines onto file lines from ``k`` on."""
    nb = view.nonblank
    pairs = [(before[i], view.lines[nb[k + t]]) for t, i in enumerate(search)]
    return consistent_shift(pairs)


def consistent_shift(pairs: Sequence[tuple[str, str]]) -> tuple[int, str] | None:
    """(delta, prefix) when every (model line, file line) pair differs by the same indentation."""
    delta: int | None = None
    prefix = ""
    for model_line, file_line in pairs:
        mine, theirs = indent_of(model_line), indent_of(file_line)
        step = len(theirs) - len(mine)
        if delta is None:
            delta = step
            prefix = theirs[:step] if step > 0 else ""
        elif step != delta:
            return None
        if step >= 0 and (theirs[step:] != mine or theirs[:step] != prefix):
            return None
        if step < 0 and mine[-step:] != theirs:
            return None
    return (delta or 0, prefix)


def _elision(
    view: FileView, before: Sequence[str], search: list[int], hint: int | None
) -> Match | Miss | None:
    segments: list[list[int]] = [[]]
    for i in search:
        if is_marker(before[i]):
            segments.append([])
        else:
            segments[-1].append(i)
    segments = [segment for segment in segments if segment]
    if len(segments) < 2:
        return None
    stripped = view.stripped
    chains: list[list[int]] = []
    first = [before[i].strip() for i in segments[0]]
    for k in find_runs(stripped, first):
        chain = [k]
        pos = k + len(first)
        for segment in segments[1:]:
            following = find_runs(stripped, [before[i].strip() for i in segment], pos)
            if not following:
                break
            chain.append(following[0])
            pos = following[0] + len(segment)
        if len(chain) == len(segments):
            chains.append(chain)
    nb = view.nonblank
    valid: list[tuple[dict[int, int], tuple[int, str]]] = []
    for chain in chains:
        pairs = {
            i: nb[start + t]
            for start, segment in zip(chain, segments, strict=True)
            for t, i in enumerate(segment)
        }
        shift = consistent_shift([(before[i], view.lines[f]) for i, f in pairs.items()])
        if shift is not None:
            valid.append((pairs, shift))
    if not valid:
        return None
    spans = [(min(p.values()), max(p.values()) + 1) for p, _ in valid]
    chosen, places = _pick(spans, hint)
    if chosen is None:
        return Miss(EditProblemCode.AMBIGUOUS, places)
    pairs, (delta, prefix) = valid[chosen]
    return build_match(view, before, pairs, Rung.ELISION, 1.0, delta, prefix, fill_blanks=False)


def build_match(
    view: FileView,
    before: Sequence[str],
    pairs: dict[int, int],
    rung: Rung,
    score: float,
    delta: int,
    prefix: str,
    *,
    fill_blanks: bool = True,
) -> Match:
    """Build the alignment: blank model lines take blank file lines in the same gap, in order."""
    align: list[int | None] = [pairs.get(i) for i in range(len(before))]
    lines = view.lines
    loose = _fill_blank_lines(lines, before, align) if fill_blanks else ()
    placed = [a for a in align if a is not None]
    noisy = any(
        a is not None and before[i] != before[i].rstrip() and lines[a] == lines[a].rstrip()
        for i, a in enumerate(align)
    )
    return Match(
        min(placed), max(placed) + 1, rung, score, tuple(align), delta, prefix, noisy, loose
    )


def _fill_blank_lines(
    lines: Sequence[str], before: Sequence[str], align: list[int | None]
) -> tuple[tuple[int, int], ...]:
    anchors = [i for i, a in enumerate(align) if a is not None]
    loose: list[tuple[int, int]] = []
    if not anchors:
        return ()
    first, last = anchors[0], anchors[-1]
    # Leading and trailing blank model lines: adjacent blank file lines, walking outwards.
    cursor = align[first]
    assert cursor is not None
    for i in range(first - 1, -1, -1):
        if cursor - 1 >= 0 and not lines[cursor - 1].strip() and not before[i].strip():
            cursor -= 1
            align[i] = cursor
        else:
            break
    cursor = align[last]
    assert cursor is not None
    for i in range(last + 1, len(before)):
        if cursor + 1 < len(lines) and not lines[cursor + 1].strip() and not before[i].strip():
            cursor += 1
            align[i] = cursor
        else:
            break
    for left, right in zip(anchors, anchors[1:], strict=False):
        lo, hi = align[left], align[right]
        assert lo is not None and hi is not None
        free = [f for f in range(lo + 1, hi) if not lines[f].strip()]
        blanks = [i for i in range(left + 1, right) if not before[i].strip()]
        for i, f in zip(blanks, free, strict=False):
            align[i] = f
        if len(blanks) != len(free):
            loose.append((left, right))
    return tuple(loose)
