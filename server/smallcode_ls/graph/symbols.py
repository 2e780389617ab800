"""Typed facts extracted from one file: definitions, imports and used names.

Columns are UTF-8 byte columns (tree-sitter's own unit); ``lsp/convert.py``
turns them into the negotiated encoding with the help of ``non_ascii_lines``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

__all__ = ["FileSymbols", "ImportRef", "Span", "Symbol", "SymbolKind"]


class SymbolKind(StrEnum):
    """What a definition is."""

    CLASS = "class"
    FUNCTION = "function"
    METHOD = "method"
    VARIABLE = "variable"
    FIELD = "field"
    INTERFACE = "interface"
    TYPE = "type"
    ENUM = "enum"
    STRUCT = "struct"
    CONSTANT = "constant"
    MODULE = "module"


class Span(NamedTuple):
    """A zero-based line/byte-column range (a tuple: cheap to build, pickle and compare)."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def contains(self, line: int, col: int) -> bool:
        """Whether (line, byte column) lies inside the span (end inclusive)."""
        if line < self.start_line or line > self.end_line:
            return False
        if line == self.start_line and col < self.start_col:
            return False
        return not (line == self.end_line and col > self.end_col)


class Symbol(NamedTuple):
    """One definition. ``parent`` indexes the enclosing symbol in the same file (-1: none)."""

    name: str
    kind: SymbolKind
    span: Span
    name_span: Span
    parent: int
    signature: str

    @property
    def line(self) -> int:
        """Line of the definition's name."""
        return self.name_span.start_line


@dataclass(frozen=True, slots=True)
class ImportRef:
    """One imported module or name (``from module import name as alias``)."""

    module: str
    name: str | None
    alias: str | None
    line: int
    level: int = 0


@dataclass(frozen=True, slots=True)
class FileSymbols:
    """Everything the graph keeps about one file (never the syntax tree itself).

    ``words`` holds every identifier-like word of the file, space-separated and
    space-framed: one string pickles and loads far faster than a set of strings.
    """

    path: str
    language: str
    symbols: tuple[Symbol, ...]
    imports: tuple[ImportRef, ...]
    words: str
    non_ascii_lines: dict[int, str] = field(default_factory=dict)
    has_errors: bool = False

    def uses(self, name: str) -> bool:
        """Whether the file mentions ``name`` anywhere (identifiers, strings, comments)."""
        return f" {name} " in self.words

    def children(self, parent: int) -> list[int]:
        """Indexes of the symbols directly inside symbol ``parent`` (-1: top level)."""
        return [i for i, symbol in enumerate(self.symbols) if symbol.parent == parent]

    def qualified_name(self, index: int) -> str:
        """``Outer.inner`` dotted name of a symbol."""
        parts: list[str] = []
        while index >= 0:
            symbol = self.symbols[index]
            parts.append(symbol.name)
            index = symbol.parent
        return ".".join(reversed(parts))
