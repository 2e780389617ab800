"""The last rung: a bounded fuzzy match on lines, and the "closest lines" for refusals.

Conservative by design, because a wrong placement is worse than a refusal: the model's block
needs at least four non-blank lines; all but one (two from twelve lines on) must equal file lines
exactly once stripped, three of them carrying real text; the differing lines must still be
similar (difflib ratio >= 0.75) and the indentation shift consistent. Candidate windows come from
votes of exactly equal lines, so the cost is proportional to the hits, not to the file. Two
passing windows are ambiguous and refused, whatever their scores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher, get_close_matches

from smallcode_ls.parse.edit_types import EditProblemCode
from smallcode_ls.patch.lines import is_significant
from smallcode_ls.patch.match import FileView, Match, Miss, Rung, build_match, consistent_shift

__all__ = ["closest_place", "fuzzy_locate"]

MIN_LINES = 4
MIN_ANCHORS = 3
MIN_RATIO = 0.75
_CLOSE_SCAN_LIMIT = 600
_MAX_FUZZY_LINE = 300


def _votes(view: FileView, needle: Sequence[str]) -> Counter[int]:
    wanted = set(needle)
    where: dict[str, list[int]] = {}
    for k, text in enumerate(view.stripped):
        if text in wanted:
            where.setdefault(text, []).append(k)
    votes: Counter[int] = Counter()
    for t, text in enumerate(needle):
        for k in where.get(text, ()):
            votes[k - t] += 1
    return votes


def fuzzy_locate(view: FileView, before: Sequence[str], search: list[int]) -> Match | Miss | None:
    """A unique window where all but one or two lines match exactly and the rest nearly."""
    size = len(search)
    if size < MIN_LINES:
        return None
    allowed = 1 if size < 12 else 2
    needle = [before[i].strip() for i in search]
    stripped = view.stripped
    passing: list[tuple[float, int, tuple[int, str]]] = []
    for start, count in _votes(view, needle).items():
        if count < size - allowed or start < 0 or start + size > len(stripped):
            continue
        scored = _score(needle, stripped, start, allowed)
        if scored is None:
            continue
        score, exact = scored
        pairs = [(before[search[t]], view.lines[view.nonblank[start + t]]) for t in exact]
        shift = consistent_shift(pairs)
        if shift is not None:
            passing.append((score, start, shift))
    if not passing:
        return None
    nb = view.nonblank
    if len(passing) > 1:
        spans = tuple((nb[start], nb[start + size - 1] + 1) for _, start, _ in passing)
        return Miss(EditProblemCode.AMBIGUOUS, spans)
    score, start, (delta, prefix) = passing[0]
    pairs_map = {search[t]: nb[start + t] for t in range(size)}
    return build_match(view, before, pairs_map, Rung.FUZZY, score, delta, prefix)


def _score(
    needle: Sequence[str], stripped: Sequence[str], start: int, allowed: int
) -> tuple[float, list[int]] | None:
    total = 0.0
    exact: list[int] = []
    anchors = 0
    misses = 0
    for t, text in enumerate(needle):
        theirs = stripped[start + t]
        if text == theirs:
            total += 1.0
            exact.append(t)
            anchors += is_significant(text)
            continue
        misses += 1
        if misses > allowed:
            return None
        if max(len(text), len(theirs)) > _MAX_FUZZY_LINE:
            return None  # difflib is quadratic on long lines; such a line must match exactly
        matcher = SequenceMatcher(None, text, theirs, autojunk=False)
        if matcher.real_quick_ratio() < MIN_RATIO or matcher.quick_ratio() < MIN_RATIO:
            return None
        ratio = matcher.ratio()
        if ratio < MIN_RATIO:
            return None
        total += ratio
    if misses == 0 or anchors < MIN_ANCHORS:
        return None
    return total / len(needle), exact


def closest_place(
    view: FileView, before: Sequence[str], search: list[int]
) -> tuple[tuple[int, int], ...]:
    """The file lines most like the model's block, to show in a refusal (may be empty)."""
    if not search or not view.nonblank:
        return ()
    needle = [before[i].strip() for i in search]
    nb = view.nonblank
    size = len(needle)
    votes = _votes(view, [t if is_significant(t) else "\0" for t in needle])
    best = [(count, -start) for start, count in votes.items()]
    if best:
        _, neg = max(best)
        start = max(-neg, 0)
        end = min(start + size, len(nb)) - 1
        return ((nb[start], nb[max(end, start)] + 1),)
    if len(view.stripped) > _CLOSE_SCAN_LIMIT:
        return ()
    text = next((t for t in needle if is_significant(t)), None)
    if text is None:
        return ()
    close = get_close_matches(text[:_MAX_FUZZY_LINE], view.stripped, n=1, cutoff=0.6)
    if not close:
        return ()
    k = view.stripped.index(close[0])
    return ((nb[k], nb[min(k + size, len(nb)) - 1] + 1),)
