"""B2 perturbation operators: documented small-model failure modes applied to real hunks.

FROZEN. These operators were written before our applier was tuned against them and must not be
changed to suit it; the report records this module's sha256 so a change is visible. One family
(`HELD_OUT`) is kept out of the applier's tuning set: do not look at its failures while tuning.

Every operator is deterministic given (seed, hunk id). An operator returns None when it does not
apply to a hunk (e.g. no indentation to drop); such a hunk is left out of that cell only, so a
no-op perturbation never counts as a noisy success.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from .render import (
    Entry,
    body,
    clean_header,
    header,
    search_replace,
    sides,
    unified_diff,
)
from .workload import Hunk

SR = "search_replace"
UDIFF = "unified_diff"

SR_FAMILIES: tuple[str, ...] = (
    "clean",
    "indent_dropped",
    "trailing_ws",
    "blank_line_dropped",
    "elision",
    "drifted_context",
    "fenced_prose",
    "absent",
)
UDIFF_FAMILIES: tuple[str, ...] = (
    "clean",
    "wrong_line_numbers",
    "wrong_counts",
    "no_numbers",
    "blank_ctx_no_space",
    "trailing_ws",
    "trailing_ctx_cut",
    "absent",
)
FAMILIES: dict[str, tuple[str, ...]] = {SR: SR_FAMILIES, UDIFF: UDIFF_FAMILIES}
HELD_OUT: tuple[str, str] = (SR, "drifted_context")
NOT_NOISY = ("clean", "absent")

DESCRIPTIONS: dict[str, str] = {
    f"{SR}:clean": "the hunk's old lines as SEARCH, new lines as REPLACE",
    f"{SR}:indent_dropped": "common leading indent of SEARCH+REPLACE removed (needs indent > 0)",
    f"{SR}:trailing_ws": "a space appended to SEARCH lines, each with p = 1/3, at least one "
    "(REPLACE untouched)",
    f"{SR}:blank_line_dropped": "one interior blank old-side line dropped (from both sides if "
    "it is context, from SEARCH if it is removed)",
    f"{SR}:elision": "the middle of a run of >= 3 unchanged lines replaced by an indented `...` "
    "line in both SEARCH and REPLACE (interior run preferred; needs >= 6 unchanged lines)",
    f"{SR}:drifted_context": "one unchanged non-blank line drifted in both sides: quote style "
    "swapped, else spacing around `=` / `,` / `(` changed, else one space doubled",
    f"{SR}:fenced_prose": "the clean block with a sentence of prose before and after",
    f"{SR}:absent": "a block from another file's hunk (its whitespace-normalised old side does not "
    "occur in the target) under the target's file name: must be refused",
    f"{UDIFF}:clean": "---/+++ a/ b/ headers, exact @@ -l,c +l,c @@, in a ```diff fence",
    f"{UDIFF}:wrong_line_numbers": "both starts shifted by the same 5..40 lines",
    f"{UDIFF}:wrong_counts": "old and new counts each off by 1 or 2",
    f"{UDIFF}:no_numbers": "`@@ ... @@` instead of the numbered header",
    f"{UDIFF}:blank_ctx_no_space": "blank context lines written without their leading space",
    f"{UDIFF}:trailing_ws": "a space appended to context and `-` lines, each with p = 1/3, at "
    "least one",
    f"{UDIFF}:trailing_ctx_cut": "the trailing context lines cut, header counts left as they were",
    f"{UDIFF}:absent": "another file's hunk (numbers and all) under the target's headers: must be "
    "refused",
}

_PROSE_BEFORE = "Sure! Here is the change to `{path}` that you asked for:\n\n"
_PROSE_AFTER = "\nThis keeps the rest of the file as it was. Let me know if you need more.\n"


@dataclass(frozen=True)
class Case:
    id: str
    hunk_id: str
    rendering: str
    family: str
    path: str
    text: str  # the file as it is before the edit
    output: str  # the model output handed to every applier
    gold: str  # expected file; for `absent` the file unchanged
    absent: bool
    held_out: bool


def _rng(seed: int, hunk: Hunk, family: str) -> random.Random:
    return random.Random(f"{seed}:{hunk.id}:{family}")


def _norm_seq(lines: list[str]) -> str:
    return "\x00" + "\x00".join(s.strip() for s in lines if s.strip()) + "\x00"


def pick_donor(hunk: Hunk, pool: list[Hunk], seed: int) -> Hunk | None:
    """A hunk of another file whose old side does not occur in the target, even loosely."""
    rng = _rng(seed, hunk, "absent")
    target = _norm_seq(hunk.old_text.split("\n"))
    order = list(range(len(pool)))
    rng.shuffle(order)
    for i in order[:200]:
        donor = pool[i]
        if (donor.project, donor.path) == (hunk.project, hunk.path):
            continue
        old, _ = sides(donor.lines)
        if _norm_seq(old) not in target:
            return donor
    return None


# ---------------------------------------------------------------- SEARCH/REPLACE operators


def _sr(hunk: Hunk, entries: list[Entry] | tuple[Entry, ...]) -> str:
    search, replace = sides(entries)
    return search_replace(hunk.path, search, replace)


def sr_clean(hunk: Hunk, rng: random.Random) -> str | None:
    return _sr(hunk, hunk.lines)


def _indent(s: str) -> str:
    return s[: len(s) - len(s.lstrip(" \t"))]


def sr_indent_dropped(hunk: Hunk, rng: random.Random) -> str | None:
    indents = [_indent(s) for _, s in hunk.lines if s.strip()]
    if not indents:
        return None
    common = indents[0]
    for ind in indents[1:]:
        while not ind.startswith(common):
            common = common[:-1]
    if not common:
        return None
    entries = [
        (op, s[len(common) :] if s.startswith(common) else s.lstrip(" \t")) for op, s in hunk.lines
    ]
    return _sr(hunk, entries)


def _ws_lines(n: int, rng: random.Random) -> set[int]:
    """Which of n old-side lines get a trailing space: each with p = 1/3, at least one."""
    picked = {i for i in range(n) if rng.random() < 1 / 3}
    return picked or {rng.randrange(n)}


def sr_trailing_ws(hunk: Hunk, rng: random.Random) -> str | None:
    search, replace = sides(hunk.lines)
    ws = _ws_lines(len(search), rng)
    search = [s[:-1] + " \n" if i in ws else s for i, s in enumerate(search)]
    return search_replace(hunk.path, search, replace)


def sr_blank_line_dropped(hunk: Hunk, rng: random.Random) -> str | None:
    old_positions = [i for i, (op, _) in enumerate(hunk.lines) if op != "+"]
    interior = old_positions[1:-1]
    blanks = [i for i in interior if not hunk.lines[i][1].strip()]
    if not blanks:
        return None
    drop = rng.choice(blanks)
    return _sr(hunk, [e for i, e in enumerate(hunk.lines) if i != drop])


def _context_runs(entries: tuple[Entry, ...]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for i, (op, _) in enumerate(entries):
        if op == " " and start is None:
            start = i
        elif op != " " and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(entries)))
    return runs


def sr_elision(hunk: Hunk, rng: random.Random) -> str | None:
    entries = hunk.lines
    if sum(1 for op, _ in entries if op == " ") < 6:
        return None
    runs = [(a, b) for a, b in _context_runs(entries) if b - a >= 3]
    if not runs:
        return None
    interior = [(a, b) for a, b in runs if a > 0 and b < len(entries)]
    a, b = max(interior or runs, key=lambda r: (r[1] - r[0], -r[0]))
    elided = [s for _, s in entries[a + 1 : b - 1]]
    ref = next((s for s in elided if s.strip()), entries[a][1])
    dots: Entry = ("=", _indent(ref) + "...\n")
    return _sr(hunk, [*entries[: a + 1], dots, *entries[b - 1 :]])


_KWARG = re.compile(r"(\w)=(\w)")


def _double_inner_space(text: str) -> str:
    body = text.strip(" \t")
    if " " not in body:
        return text
    i = text.index(body)
    return text[:i] + body.replace(" ", "  ", 1) + text[i + len(body) :]


_DRIFTS: tuple[Callable[[str], str], ...] = (
    lambda t: t.replace("'", '"') if '"' not in t else t,
    lambda t: t.replace('"', "'") if "'" not in t and '"""' not in t else t,
    lambda t: t.replace(" = ", "=", 1),
    lambda t: _KWARG.sub(r"\1 = \2", t, count=1),
    lambda t: t.replace(", ", ",", 1),
    lambda t: t if "()" in t else t.replace("(", "( ", 1),
    _double_inner_space,
)


def drift(line: str) -> str | None:
    """The first drift rule (quote style, then spacing) that changes more than trailing space."""
    text, nl = line[:-1], line[-1:]
    for rule in _DRIFTS:
        out = rule(text)
        if out.rstrip() != text.rstrip():
            return out + nl
    return None


def sr_drifted_context(hunk: Hunk, rng: random.Random) -> str | None:
    eligible = [
        i
        for i, (op, s) in enumerate(hunk.lines)
        if op == " " and s.strip() and drift(s) is not None
    ]
    if not eligible:
        return None
    pick = rng.choice(eligible)
    entries = list(hunk.lines)
    drifted = drift(entries[pick][1])
    assert drifted is not None
    entries[pick] = (" ", drifted)
    return _sr(hunk, entries)


def sr_fenced_prose(hunk: Hunk, rng: random.Random) -> str | None:
    return _PROSE_BEFORE.format(path=hunk.path) + _sr(hunk, hunk.lines) + _PROSE_AFTER


# ---------------------------------------------------------------- unified diff operators


def _ud(hunk: Hunk, hunk_header: str, lines: list[str]) -> str:
    return unified_diff(hunk.path, hunk_header, lines)


def ud_clean(hunk: Hunk, rng: random.Random) -> str | None:
    return _ud(hunk, clean_header(hunk.start, hunk.lines), body(hunk.lines))


def ud_wrong_line_numbers(hunk: Hunk, rng: random.Random) -> str | None:
    old, new = sides(hunk.lines)
    offset = rng.choice((-1, 1)) * rng.randint(5, 40)
    start = hunk.start + 1 + offset
    if start < 1:
        start = hunk.start + 1 + abs(offset)
    return _ud(hunk, header(start, len(old), start, len(new)), body(hunk.lines))


def ud_wrong_counts(hunk: Hunk, rng: random.Random) -> str | None:
    old, new = sides(hunk.lines)
    counts = []
    for n in (len(old), len(new)):
        wrong = n + rng.choice((-2, -1, 1, 2))
        counts.append(wrong if wrong >= 1 else n + 1)
    start = hunk.start + 1
    return _ud(hunk, header(start, counts[0], start, counts[1]), body(hunk.lines))


def ud_no_numbers(hunk: Hunk, rng: random.Random) -> str | None:
    return _ud(hunk, "@@ ... @@\n", body(hunk.lines))


def ud_blank_ctx_no_space(hunk: Hunk, rng: random.Random) -> str | None:
    if not any(op == " " and s == "\n" for op, s in hunk.lines):
        return None
    lines = ["\n" if op == " " and s == "\n" else op + s for op, s in hunk.lines]
    return _ud(hunk, clean_header(hunk.start, hunk.lines), lines)


def ud_trailing_ws(hunk: Hunk, rng: random.Random) -> str | None:
    old_idx = [i for i, (op, _) in enumerate(hunk.lines) if op != "+"]
    ws = {old_idx[k] for k in _ws_lines(len(old_idx), rng)}
    lines = [op + (s[:-1] + " \n" if i in ws else s) for i, (op, s) in enumerate(hunk.lines)]
    return _ud(hunk, clean_header(hunk.start, hunk.lines), lines)


def ud_trailing_ctx_cut(hunk: Hunk, rng: random.Random) -> str | None:
    entries = list(hunk.lines)
    end = len(entries)
    while end > 0 and entries[end - 1][0] == " ":
        end -= 1
    if end == len(entries):
        return None
    return _ud(hunk, clean_header(hunk.start, hunk.lines), body(entries[:end]))


Operator = Callable[[Hunk, random.Random], "str | None"]

OPERATORS: dict[str, dict[str, Operator]] = {
    SR: {
        "clean": sr_clean,
        "indent_dropped": sr_indent_dropped,
        "trailing_ws": sr_trailing_ws,
        "blank_line_dropped": sr_blank_line_dropped,
        "elision": sr_elision,
        "drifted_context": sr_drifted_context,
        "fenced_prose": sr_fenced_prose,
    },
    UDIFF: {
        "clean": ud_clean,
        "wrong_line_numbers": ud_wrong_line_numbers,
        "wrong_counts": ud_wrong_counts,
        "no_numbers": ud_no_numbers,
        "blank_ctx_no_space": ud_blank_ctx_no_space,
        "trailing_ws": ud_trailing_ws,
        "trailing_ctx_cut": ud_trailing_ctx_cut,
    },
}


def _absent(rendering: str, hunk: Hunk, donor: Hunk) -> str:
    if rendering == SR:
        return _sr(hunk, donor.lines)
    return _ud(hunk, clean_header(donor.start, donor.lines), body(donor.lines))


def cases_for(hunk: Hunk, donor: Hunk | None, seed: int) -> tuple[list[Case], dict[str, int]]:
    """All cases of one hunk, and the number of (rendering:family) cells it was left out of."""
    cases: list[Case] = []
    skipped: dict[str, int] = {}
    for rendering, families in FAMILIES.items():
        for family in families:
            key = f"{rendering}:{family}"
            if family == "absent":
                output = None if donor is None else _absent(rendering, hunk, donor)
            else:
                output = OPERATORS[rendering][family](hunk, _rng(seed, hunk, key))
            if output is None:
                skipped[key] = skipped.get(key, 0) + 1
                continue
            absent = family == "absent"
            cases.append(
                Case(
                    id=f"{hunk.id}|{key}",
                    hunk_id=hunk.id,
                    rendering=rendering,
                    family=family,
                    path=hunk.path,
                    text=hunk.old_text,
                    output=output,
                    gold=hunk.old_text if absent else hunk.gold,
                    absent=absent,
                    held_out=(rendering, family) == HELD_OUT,
                )
            )
    return cases, skipped
