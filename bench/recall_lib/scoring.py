"""ONE scorer: which (file, name) definitions a retriever's context shows.

A GT definition counts as recalled when its `def name`/`async def name`/`class name` line
appears inside the block of the right file. Each retriever's file-header convention is mapped
to repo-relative paths: `### path` (ours, BM25, imports-first) or aider's `path:` lines.
"""

from __future__ import annotations

import re

DEF_RE = re.compile(r"^\s*(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)")
AIDER_PREFIX = "│⋮|"


def shown_defs(text: str, style: str, known_paths: set[str]) -> dict[str, set[str]]:
    """{rel path: names of def/class lines shown in that file's block(s)}."""
    out: dict[str, set[str]] = {}
    cur: str | None = None
    for raw in text.splitlines():
        header = _header(raw, style, known_paths)
        if header is not None:
            cur = header
            continue
        if cur is None:
            continue
        line = raw.lstrip(AIDER_PREFIX) if style == "aider" else raw
        m = DEF_RE.match(line)
        if m:
            out.setdefault(cur, set()).add(m.group(1))
    return out


def _header(raw: str, style: str, known_paths: set[str]) -> str | None:
    if style == "aider":
        if raw and raw[0] not in AIDER_PREFIX and not raw[0].isspace() and raw.endswith(":"):
            cand = raw[:-1].strip()
            return cand if cand in known_paths else None
        if raw.strip() in known_paths and not raw[0].isspace():  # files listed without tags
            return raw.strip()
        return None
    if raw.startswith("### "):
        cand = raw[4:].strip()
        if cand.endswith(":"):
            cand = cand[:-1]
        return cand if cand in known_paths else _strip_suffix(cand, known_paths)
    return None


def _strip_suffix(cand: str, known_paths: set[str]) -> str | None:
    # tolerate annotations after the path, e.g. "### pkg/mod.py (outline)"
    head = cand.split(" ", 1)[0]
    return head if head in known_paths else ("?" + cand)


def recalled(
    gt: set[tuple[str, str, str, int]], shown: dict[str, set[str]]
) -> set[tuple[str, str, str, int]]:
    return {g for g in gt if g[1] in shown.get(g[0], ())}
