"""Turn a tree-sitter tree into :class:`FileSymbols` with the language's query."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node, QueryCursor

from smallcode_ls.graph.languages import LanguageSpec, load_query
from smallcode_ls.graph.symbols import FileSymbols, ImportRef, Span, Symbol, SymbolKind

if TYPE_CHECKING:
    from tree_sitter import Tree

__all__ = ["extend_words", "extract_file_symbols", "used_names"]

_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_NON_ASCII_LINE = re.compile(rb"^.*[\x80-\xff].*$", re.MULTILINE)
_SIGNATURE_CHARS = 200
_KINDS = {f"definition.{kind.value}": kind for kind in SymbolKind}
_CONTAINERS = {SymbolKind.CLASS, SymbolKind.INTERFACE, SymbolKind.STRUCT, SymbolKind.ENUM}


def used_names(source: bytes) -> str:
    """Every identifier-like word of the file, space-framed: the reverse-reference key."""
    words = b" ".join(sorted(set(_WORD.findall(source))))
    return f" {words.decode('ascii')} "


def _span(node: Node) -> Span:
    start, end = node.start_point, node.end_point
    return Span(start[0], start[1], end[0], end[1])


def _signature(source: bytes, node: Node) -> str:
    end = source.find(b"\n", node.start_byte, node.start_byte + _SIGNATURE_CHARS)
    if end < 0:
        end = min(node.end_byte, node.start_byte + _SIGNATURE_CHARS)
    return source[node.start_byte : end].decode("utf-8", "replace").rstrip()


def _non_ascii_lines(source: bytes) -> dict[int, str]:
    if source.isascii():
        return {}
    lines: dict[int, str] = {}
    for match in _NON_ASCII_LINE.finditer(source):
        line = source.count(b"\n", 0, match.start())
        lines[line] = match.group().decode("utf-8", "replace").rstrip("\r")
    return lines


def _nest(
    raw: list[tuple[int, int, str, SymbolKind, Node, Node]], source: bytes
) -> tuple[Symbol, ...]:
    """Order definitions by position and link each to its innermost container."""
    raw.sort(key=lambda item: (item[0], -item[1]))
    symbols: list[Symbol] = []
    stack: list[tuple[int, int]] = []  # (end_byte, symbol index)
    for start, end, name, kind, node, name_node in raw:
        while stack and stack[-1][0] < end:
            stack.pop()
        while stack and stack[-1][0] <= start:
            stack.pop()
        parent = stack[-1][1] if stack else -1
        if kind is SymbolKind.FUNCTION and parent >= 0 and symbols[parent].kind in _CONTAINERS:
            kind = SymbolKind.METHOD
        symbols.append(
            Symbol(name, kind, _span(node), _span(name_node), parent, _signature(source, node))
        )
        stack.append((end, len(symbols) - 1))
    return tuple(symbols)


def extract_file_symbols(
    tree: Tree, source: bytes, spec: LanguageSpec, path: str, words: str | None = None
) -> FileSymbols:
    """Extract definitions, imports and used names from a parsed file.

    ``words`` may be passed in when the caller already knows them (an open buffer
    extends its previous words with those of the edited region).
    """
    raw: list[tuple[int, int, str, SymbolKind, Node, Node]] = []
    imports: list[ImportRef] = []
    seen: set[tuple[int, int]] = set()
    kinds = _KINDS
    for _, captures in QueryCursor(load_query(spec)).matches(tree.root_node):
        name_nodes = captures.get("name")
        if not name_nodes:
            if "import" in captures:
                imports.extend(_imports(spec, captures["import"][0]))
            continue
        name_node = name_nodes[0]
        for capture, nodes in captures.items():
            kind = kinds.get(capture)
            if kind is None:
                continue
            node = nodes[0]
            start = node.start_byte
            key = (start, name_node.start_byte)
            if key in seen:
                continue
            seen.add(key)
            name = source[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace")
            raw.append((start, node.end_byte, name, kind, node, name_node))
    return FileSymbols(
        path=path,
        language=spec.name,
        symbols=_nest(raw, source),
        imports=tuple(imports),
        words=used_names(source) if words is None else words,
        non_ascii_lines=_non_ascii_lines(source),
        has_errors=tree.root_node.has_error,
    )


def extend_words(words: str, region: bytes) -> str:
    """Add the words of an edited region to a file's words (a superset is fine: it is a filter)."""
    new = [w for w in set(_WORD.findall(region)) if f" {w.decode('ascii')} " not in words]
    if not new:
        return words
    return words + " ".join(sorted(w.decode("ascii") for w in new)) + " "


_PY_FROM = re.compile(r"^from\s+(\.*)([\w.]*)\s+import\s+(.*)$", re.DOTALL)
_PY_IMPORT = re.compile(r"^import\s+(.*)$", re.DOTALL)
_QUOTED = re.compile(r"""["'`]([^"'`]+)["'`]""")


def _imports(spec: LanguageSpec, node: Node) -> list[ImportRef]:
    text = (node.text or b"").decode("utf-8", "replace")
    line = node.start_point[0]
    if spec.name == "python":
        return _python_imports(text, line)
    quoted = _QUOTED.search(text)
    module = quoted.group(1) if quoted else " ".join(text.split())
    return [ImportRef(module=module, name=None, alias=None, line=line)]


def _split_names(clause: str) -> list[tuple[str, str | None]]:
    clause = clause.replace("\\\n", " ").replace("(", " ").replace(")", " ")
    clause = re.sub(r"#[^\n]*", " ", clause)
    pairs: list[tuple[str, str | None]] = []
    for part in clause.split(","):
        words = part.split()
        if not words:
            continue
        alias = words[2] if len(words) == 3 and words[1] == "as" else None
        pairs.append((words[0], alias))
    return pairs


def _python_imports(text: str, line: int) -> list[ImportRef]:
    if match := _PY_FROM.match(text):
        dots, module, clause = match.groups()
        return [
            ImportRef(module=module, name=name, alias=alias, line=line, level=len(dots))
            for name, alias in _split_names(clause)
        ]
    if match := _PY_IMPORT.match(text):
        return [
            ImportRef(module=name, name=None, alias=alias, line=line)
            for name, alias in _split_names(match.group(1))
        ]
    return []
