"""Line and column arithmetic for the three LSP position encodings.

Core code works with Python string offsets; these helpers convert an LSP
``(line, character)`` pair in a negotiated encoding to and from an offset, and
refuse positions that do not exist instead of clamping them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate

from smallcode_ls.errors import InvalidChange

__all__ = [
    "PositionEncoding",
    "TextPosition",
    "column_to_index",
    "index_to_column",
    "line_starts",
    "offset_at",
    "position_at",
]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_OTHER_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


class PositionEncoding(StrEnum):
    """How the ``character`` of an LSP position counts."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


@dataclass(frozen=True, slots=True)
class TextPosition:
    """A zero-based line and a column counted in some :class:`PositionEncoding`."""

    line: int
    character: int


def line_starts(text: str) -> list[int]:
    """Return the offset where each line starts; LSP breaks lines at CRLF, CR and LF."""
    if _OTHER_BREAKS.search(text) is None:
        # str.splitlines breaks at exactly CRLF/CR/LF when the rarer separators are absent.
        return list(accumulate(map(len, text.splitlines(keepends=True)), initial=0))[
            : None if text.endswith(("\n", "\r")) or not text else -1
        ]
    return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]


def _line_text(text: str, starts: list[int], line: int) -> str:
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    return text[starts[line] : end].rstrip("\r\n")


def _units(char: str, encoding: PositionEncoding) -> int:
    code = ord(char)
    if encoding is PositionEncoding.UTF16:
        return 2 if code > 0xFFFF else 1
    if encoding is PositionEncoding.UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 1


def column_to_index(line_text: str, character: int, encoding: PositionEncoding) -> int:
    """Map a column in ``encoding`` units to an index into ``line_text``.

    Raises InvalidChange when the column is past the end of the line or falls
    inside one character (half a surrogate pair, part of a UTF-8 sequence).
    """
    if character < 0:
        raise InvalidChange(f"negative column {character}")
    if line_text.isascii() or encoding is PositionEncoding.UTF32:
        if character > len(line_text):
            raise InvalidChange(
                f"column {character} is past the end of a {len(line_text)}-long line"
            )
        return character
    units = 0
    for index, char in enumerate(line_text):
        if units == character:
            return index
        units += _units(char, encoding)
        if units > character:
            raise InvalidChange(f"column {character} falls inside a character")
    if units == character:
        return len(line_text)
    raise InvalidChange(f"column {character} is past the end of the line")


def index_to_column(line_text: str, index: int, encoding: PositionEncoding) -> int:
    """Map an index into ``line_text`` to a column in ``encoding`` units."""
    prefix = line_text[:index]
    if prefix.isascii() or encoding is PositionEncoding.UTF32:
        return len(prefix)
    return sum(_units(char, encoding) for char in prefix)


def offset_at(
    text: str, starts: list[int], position: TextPosition, encoding: PositionEncoding
) -> int:
    """Return the string offset of ``position``; refuse positions outside the text.

    The one position past the last line, ``(line_count, 0)``, means the end of the
    text: clients use it to address "everything up to the end".
    """
    if position.line < 0:
        raise InvalidChange(f"negative line {position.line}")
    if position.line >= len(starts):
        if position.line == len(starts) and position.character == 0:
            return len(text)
        raise InvalidChange(f"line {position.line} is past the end ({len(starts)} lines)")
    line_text = _line_text(text, starts, position.line)
    return starts[position.line] + column_to_index(line_text, position.character, encoding)


def position_at(
    text: str, starts: list[int], offset: int, encoding: PositionEncoding
) -> TextPosition:
    """Return the position of a string offset (the inverse of :func:`offset_at`)."""
    from bisect import bisect_right

    line = max(0, bisect_right(starts, offset) - 1)
    line_text = _line_text(text, starts, line)
    index = min(offset - starts[line], len(line_text))
    return TextPosition(line, index_to_column(line_text, index, encoding))
