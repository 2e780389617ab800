"""A deliberately simple stand-in for `smallcode_ls.patch.apply_model_output`.

Used only while the real applier is not importable, so the harness can be exercised end to end.
It reads one SEARCH/REPLACE block or one unified-diff hunk, then matches exactly, then ignoring
trailing whitespace; anything else (no match, two matches) is refused. Its numbers are NOT ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SR = re.compile(
    r"^<{5,9} SEARCH[^\n]*\n(.*?)^={5,9}[ \t]*\n(.*?)^>{5,9} REPLACE[ \t]*$", re.S | re.M
)
_HUNK = re.compile(r"^@@[^\n]*@@[^\n]*\n(.*?)(?=^@@|^```|\Z)", re.S | re.M)


@dataclass(frozen=True)
class ApplyResult:
    new_text: str | None
    refused: bool
    reason: str
    format: str
    rungs: tuple[str, ...]


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _parse(output: str) -> tuple[str, list[str], list[str]] | None:
    m = _SR.search(output)
    if m:
        return "search_replace", _lines(m.group(1)), _lines(m.group(2))
    h = _HUNK.search(output)
    if h:
        old: list[str] = []
        new: list[str] = []
        for line in _lines(h.group(1)):
            op, rest = (line[0], line[1:]) if line[0] in " -+" else (" ", line)
            if op != "+":
                old.append(rest)
            if op != "-":
                new.append(rest)
        return "unified_diff", old, new
    return None


def _find(hay: list[str], needle: list[str]) -> list[int]:
    n = len(needle)
    return [i for i in range(len(hay) - n + 1) if hay[i : i + n] == needle] if n else []


def apply_model_output(text: str, output: str, path: str = "file.py") -> ApplyResult:
    parsed = _parse(output)
    if parsed is None:
        return ApplyResult(None, True, "no edit found", "none", ())
    fmt, old, new = parsed
    lines = _lines(text)
    for rung, strip in (("exact", False), ("rstrip", True)):
        hay = [s.rstrip() for s in lines] if strip else lines
        hits = _find(hay, [s.rstrip() for s in old] if strip else old)
        if len(hits) == 1:
            i = hits[0]
            return ApplyResult("".join(lines[:i] + new + lines[i + len(old) :]), False, "", fmt,
                               (rung,))  # fmt: skip
        if len(hits) > 1:
            return ApplyResult(None, True, f"ambiguous: {len(hits)} places", fmt, (rung,))
    return ApplyResult(None, True, "search text not found", fmt, ("rstrip",))
