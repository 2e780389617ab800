"""The two renderings of a hunk as a model would write it: SEARCH/REPLACE and unified diff."""

from __future__ import annotations

import re

Entry = tuple[str, str]  # (op, text): op in ' ', '-', '+'; text ends with \n

_DIFF_FENCE = re.compile(r"^```diff[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def sides(entries: list[Entry] | tuple[Entry, ...]) -> tuple[list[str], list[str]]:
    """Old side (search) and new side (replace) lines of a hunk."""
    return [s for op, s in entries if op != "+"], [s for op, s in entries if op != "-"]


def search_replace(path: str, search: list[str], replace: list[str]) -> str:
    """aider style: file name line, ```python fence, SEARCH / ======= / REPLACE markers."""
    return (
        f"{path}\n```python\n<<<<<<< SEARCH\n{''.join(search)}=======\n"
        f"{''.join(replace)}>>>>>>> REPLACE\n```\n"
    )


def header(old_start: int, old_count: int, new_start: int, new_count: int) -> str:
    return f"@@ -{old_start},{old_count} +{new_start},{new_count} @@\n"


def clean_header(start0: int, entries: list[Entry] | tuple[Entry, ...]) -> str:
    """Header of a single-hunk diff: +start = -start, counts from the body."""
    old, new = sides(entries)
    return header(start0 + 1, len(old), start0 + 1, len(new))


def body(entries: list[Entry] | tuple[Entry, ...]) -> list[str]:
    return [op + s for op, s in entries]


def unified_diff(path: str, hunk_header: str, body_lines: list[str]) -> str:
    """A ```diff fenced unified diff with git-style a/ b/ headers."""
    return f"```diff\n--- a/{path}\n+++ b/{path}\n{hunk_header}{''.join(body_lines)}```\n"


def extract_diff(output: str) -> str:
    """What a harness feeds `git apply` / `patch`: the ```diff fence's content, else all."""
    m = _DIFF_FENCE.search(output)
    return m.group(1) if m else output
