"""Graph-backed navigation: outline, workspace symbols, definition, references.

Pure domain code: takes snapshots and string offsets, returns typed locations
whose columns are UTF-8 bytes (``line_texts`` carries the non-ASCII lines that
``lsp/convert.py`` needs to re-count them in the negotiated encoding).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.graph.index import SymbolHit, WorkspaceIndex
from smallcode_ls.graph.languages import language_for_id, language_for_path
from smallcode_ls.graph.occurrences import identifier_at, name_occurrences
from smallcode_ls.graph.python_semantics import JediResolver
from smallcode_ls.graph.symbols import FileSymbols, Span, SymbolKind

__all__ = [
    "OutlineNode",
    "TextLocation",
    "find_definitions",
    "find_references",
    "outline",
]

TextReader = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class TextLocation:
    """A span in a file; columns are UTF-8 bytes."""

    path: str
    span: Span
    line_texts: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutlineNode:
    """One entry of a hierarchical document outline."""

    name: str
    kind: SymbolKind
    span: Span
    name_span: Span
    detail: str
    children: tuple[OutlineNode, ...]


def outline(file: FileSymbols) -> list[OutlineNode]:
    """The file's definitions as a tree (classes containing their methods)."""
    children: dict[int, list[int]] = {}
    for index, symbol in enumerate(file.symbols):
        children.setdefault(symbol.parent, []).append(index)

    def node(index: int) -> OutlineNode:
        symbol = file.symbols[index]
        return OutlineNode(
            symbol.name,
            symbol.kind,
            symbol.span,
            symbol.name_span,
            symbol.signature,
            tuple(node(child) for child in children.get(index, ())),
        )

    return [node(index) for index in children.get(-1, [])]


def hit_location(hit: SymbolHit) -> TextLocation:
    """Where a graph symbol's name is."""
    return TextLocation(hit.file.path, hit.symbol.name_span, hit.file.non_ascii_lines)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def _byte_offset(text: str, offset: int) -> int:
    prefix = text[:offset]
    return offset if prefix.isascii() else len(prefix.encode("utf-8", "surrogatepass"))


def name_at(snapshot: DocumentSnapshot, offset: int) -> str | None:
    """The identifier under the cursor, by the language's syntax tree."""
    spec = language_for_id(snapshot.language_id, snapshot.path or "")
    if spec is None:
        return None
    source = snapshot.text.encode("utf-8", "surrogatepass")
    return identifier_at(spec, source, _byte_offset(snapshot.text, offset))


def find_definitions(
    index: WorkspaceIndex, resolver: JediResolver, snapshot: DocumentSnapshot, offset: int
) -> list[TextLocation]:
    """Definitions of the name at ``offset``: jedi for Python, else (or failing that) the graph."""
    spec = language_for_id(snapshot.language_id, snapshot.path or "")
    if spec is not None and spec.name == "python":
        line, column = _line_col(snapshot.text, offset)
        resolved = resolver.definitions(snapshot.text, snapshot.path, line, column)
        locations = []
        for item in resolved:
            start = len(item.line_text[: item.column].encode("utf-8", "surrogatepass"))
            end = start + len(item.name.encode("utf-8", "surrogatepass"))
            texts = {} if item.line_text.isascii() else {item.line: item.line_text}
            locations.append(TextLocation(item.path, Span(item.line, start, item.line, end), texts))
        if locations:
            return locations
    name = name_at(snapshot, offset)
    if name is None:
        return []
    return [hit_location(hit) for hit in index.definitions_named(name)]


def find_references(
    index: WorkspaceIndex,
    snapshot: DocumentSnapshot,
    offset: int,
    include_declaration: bool,
    read_text: TextReader,
) -> list[TextLocation]:
    """Name-based references: every identifier spelled like the one under the cursor.

    Candidate files come from the graph's reverse index (files that use the
    name); each candidate is parsed to keep identifiers and drop strings and
    comments. Declarations are filtered out unless asked for.
    """
    name = name_at(snapshot, offset)
    if name is None:
        return []
    declarations = {
        (hit.file.path, hit.symbol.name_span.start_line, hit.symbol.name_span.start_col)
        for hit in index.definitions_named(name)
    }
    locations: list[TextLocation] = []
    for path in index.files_using(name):
        spec = language_for_path(path)
        text = read_text(path)
        if spec is None or text is None:
            continue
        file = index.file_symbols(path)
        line_texts = file.non_ascii_lines if file else {}
        for span in name_occurrences(spec, text.encode("utf-8", "surrogatepass"), name):
            if not include_declaration and (path, span.start_line, span.start_col) in declarations:
                continue
            locations.append(TextLocation(path, span, line_texts))
    return locations


def read_disk_text(path: str) -> str | None:
    """Read a file from disk as text (None when it cannot be read)."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
