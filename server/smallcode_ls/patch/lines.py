"""A file as lines: contents without line breaks plus each line's own break.

Matching works on contents only; joining puts every kept line back with its own break and gives
inserted lines the file's dominant break, so CRLF (and mixed) files keep their line endings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "FileLines",
    "indent_of",
    "is_marker",
    "is_strong_marker",
    "is_significant",
    "reindent",
]

_SPLIT = re.compile(r"(\r\n|\r|\n)")
_COMMENT = re.compile(r"^(?:#+|//+|--|;+|/\*+|<!--|\*)\s*(?P<body>.*?)\s*(?:\*/|-->)?$")
_DOTS = re.compile(r"^[.…\s\[\]()]*$")
_KEYWORD = re.compile(
    r"\b(?:existing|rest of|unchanged|remaining|omitted|same as before|previous code"
    r"|other (?:code|methods|lines|functions))\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class FileLines:
    """``contents[i]`` is line i without its break; ``breaks[i]`` is its break ('' at EOF)."""

    contents: tuple[str, ...]
    breaks: tuple[str, ...]
    newline: str

    @classmethod
    def split(cls, text: str) -> FileLines:
        """Split ``text`` at CRLF, CR and LF; the dominant break becomes ``newline``."""
        if "\r" not in text:
            contents = text.split("\n")
            breaks = ["\n"] * (len(contents) - 1)
            counts = {"\n": len(breaks), "\r\n": 0, "\r": 0}
        else:
            parts = _SPLIT.split(text)
            contents, breaks = parts[0::2], parts[1::2]
            counts = {key: breaks.count(key) for key in ("\n", "\r\n", "\r")}
        if contents[-1]:
            breaks.append("")
        else:
            contents.pop()
        newline = max(counts, key=lambda key: (counts[key], key == "\n"))
        return cls(tuple(contents), tuple(breaks), newline)

    @property
    def final_newline(self) -> bool:
        """Whether the text ends with a line break (an empty text counts as ending with one)."""
        return not self.breaks or self.breaks[-1] != ""

    def join(self, contents: Sequence[str], breaks: Sequence[str | None]) -> str:
        """Join lines; a None break (an inserted line) becomes the file's ``newline``.

        The last line ends the way the original text ended (with or without a break).
        """
        out: list[str] = []
        last = len(contents) - 1
        for index, (content, brk) in enumerate(zip(contents, breaks, strict=True)):
            if index == last:
                end = (brk or self.newline) if self.final_newline else ""
            else:
                end = brk or self.newline
            out.append(content)
            out.append(end)
        return "".join(out)


def indent_of(line: str) -> str:
    """The leading whitespace of a line."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def is_marker(line: str) -> bool:
    """Whether a line is an elision marker (``...``, ``# ... existing code ...``, ``// ...``)."""
    stripped = line.strip()
    if stripped in ("...", "…"):
        return True
    return is_strong_marker(line)


def is_strong_marker(line: str) -> bool:
    """A comment-style elision marker: never real code, unlike a bare ``...``."""
    stripped = line.strip()
    if "..." not in stripped and "…" not in stripped and _KEYWORD.search(stripped) is None:
        return False
    comment = _COMMENT.match(stripped)
    if comment is None:
        return False
    body = comment.group("body")
    if body and _DOTS.match(body):
        return True
    has_dots = "..." in body or "…" in body
    return _KEYWORD.search(body) is not None and (has_dots or len(body) < 40)


def is_significant(stripped: str) -> bool:
    """Whether a stripped line carries enough text to count as evidence of a place."""
    return sum(ch.isalnum() for ch in stripped) >= 3


def reindent(lines: Sequence[str], delta: int, prefix: str) -> list[str]:
    """Shift non-blank lines: add ``prefix`` (delta > 0) or remove ``-delta`` columns."""
    if delta == 0:
        return list(lines)
    out: list[str] = []
    for line in lines:
        if not line.strip():
            out.append(line)
        elif delta > 0:
            out.append(prefix + line)
        else:
            cut = min(-delta, len(indent_of(line)))
            out.append(line[cut:])
    return out
