"""Graph-backed navigation: outline, workspace symbols, definition, references.

Pure domain code: takes snapshots and string offsets, returns typed locations
whose columns are UTF-8 bytes (``line_texts`` carries the non-ASCII lines that
``lsp/convert.py`` needs to re-count them in the negotiated encoding).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tree_sitter import Node, Query, QueryCursor

from smallcode_ls.context.modules import bindings_of
from smallcode_ls.context.view import GraphViews
from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.graph.extract import extract_file_symbols
from smallcode_ls.graph.index import SymbolHit, WorkspaceIndex
from smallcode_ls.graph.languages import language_for_id, language_for_path, load_language
from smallcode_ls.graph.occurrences import NameAtCursor, identifier_at, name_occurrences
from smallcode_ls.graph.parser import parse_tree
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


def name_at(index: WorkspaceIndex, snapshot: DocumentSnapshot, offset: int) -> NameAtCursor | None:
    """The identifier under the cursor, from the buffer's live tree when it is current."""
    spec = language_for_id(snapshot.language_id, snapshot.path or "")
    if spec is None:
        return None
    live = index.buffer_tree(snapshot)
    source = live[1] if live else snapshot.text.encode("utf-8", "surrogatepass")
    tree = live[0] if live else None
    return identifier_at(spec, source, _byte_offset(snapshot.text, offset), tree)


def find_definitions(
    index: WorkspaceIndex,
    views: GraphViews,
    resolver: JediResolver,
    snapshot: DocumentSnapshot,
    offset: int,
) -> list[TextLocation]:
    """Definitions of the name at ``offset``.

    Python: names bound by an import or defined at the top of the file, and not
    rebound in the enclosing function, come straight from the graph; everything
    else goes to jedi. Other languages, and names jedi cannot place, fall back to
    every graph definition of that name.
    """
    cursor = name_at(index, snapshot, offset)
    spec = language_for_id(snapshot.language_id, snapshot.path or "")
    if spec is not None and spec.name == "python":
        if cursor is not None and not cursor.attribute:
            direct = graph_definition(index, views, snapshot, cursor.name, offset)
            if direct is not None:
                return [direct]
        if cursor is not None and cursor.attribute:
            unique = unique_member(views, cursor.name)
            if unique is not None:
                return [unique]
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
    if cursor is None:
        return []
    return [hit_location(hit) for hit in index.definitions_named(cursor.name)]


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
    cursor = name_at(index, snapshot, offset)
    if cursor is None:
        return []
    name = cursor.name
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


# -- graph-only resolution of plain Python names ----------------------------------------

_BINDINGS = """
(assignment left: (identifier) @b)
(assignment left: (pattern_list (identifier) @b))
(assignment left: (tuple_pattern (identifier) @b))
(augmented_assignment left: (identifier) @b)
(for_statement left: (identifier) @b)
(for_statement left: (pattern_list (identifier) @b))
(for_in_clause left: (identifier) @b)
(parameters (identifier) @b)
(typed_parameter (identifier) @b)
(default_parameter name: (identifier) @b)
(typed_default_parameter name: (identifier) @b)
(list_splat_pattern (identifier) @b)
(dictionary_splat_pattern (identifier) @b)
(as_pattern_target (identifier) @b)
(named_expression name: (identifier) @b)
(global_statement (identifier) @b)
(nonlocal_statement (identifier) @b)
(lambda_parameters (identifier) @b)
(import_from_statement name: (dotted_name (identifier) @b))
(import_statement name: (dotted_name (identifier) @b))
(aliased_import alias: (identifier) @b)
(function_definition name: (identifier) @b)
(class_definition name: (identifier) @b)
"""


@cache
def _binding_query() -> Query:
    spec = language_for_path("x.py")
    assert spec is not None
    return Query(load_language(spec), _BINDINGS)


def _enclosing_function(node: Node | None) -> Node | None:
    while node is not None and node.type not in ("function_definition", "lambda"):
        node = node.parent
    return node


def _rebinds(function: Node, name: str) -> bool:
    """Whether ``function`` (or a scope inside it) binds ``name``."""
    cursor = QueryCursor(_binding_query())
    cursor.set_byte_range(function.start_byte, function.end_byte)
    function_name = function.child_by_field_name("name")
    for node in cursor.captures(function).get("b", []):
        if node.text == name.encode() and not (
            function_name is not None and node.start_byte == function_name.start_byte
        ):
            return True
    return False


_BUILTIN_MEMBERS = frozenset(
    name
    for kind in (str, bytes, list, dict, set, frozenset, tuple, int, float, object, BaseException)
    for name in dir(kind)
)


def unique_member(views: GraphViews, name: str) -> TextLocation | None:
    """The one definition of attribute ``name``, when the workspace has exactly one.

    Names that builtin types also have are left to jedi; for the rest, the graph
    answers in a millisecond where jedi's inference can take seconds.
    """
    if name in _BUILTIN_MEMBERS or name.startswith("__"):
        return None
    view = views.current()
    owners = view.members.get(name, [])
    top = view.top_level.get(name, [])
    if len(owners) + len(top) != 1 or not owners:
        return None
    path, owner = owners[0]
    file = view.files.get(path)
    if file is None:
        return None
    for symbol in file.symbols:
        parent = symbol.parent
        if symbol.name == name and parent >= 0 and file.symbols[parent].name == owner:
            return TextLocation(path, symbol.name_span, file.non_ascii_lines)
    return None


def graph_definition(
    index: WorkspaceIndex,
    views: GraphViews,
    snapshot: DocumentSnapshot,
    name: str,
    offset: int,
) -> TextLocation | None:
    """The definition of plain name ``name`` at ``offset``, or None to ask jedi.

    A name bound by one of the file's imports, or defined once at the top of the
    file (not a variable), resolves without jedi unless an enclosing function binds
    it again. Conservative: when in doubt, return None.
    """
    spec = language_for_path("x.py")
    assert spec is not None
    path = str(snapshot.path) if snapshot.path else snapshot.uri
    live = index.buffer_tree(snapshot)
    source = live[1] if live else snapshot.text.encode("utf-8", "surrogatepass")
    tree = live[0] if live else parse_tree(spec, source)
    byte_offset = _byte_offset(snapshot.text, offset)
    function = _enclosing_function(
        tree.root_node.descendant_for_byte_range(byte_offset, byte_offset)
    )
    while function is not None:
        if _rebinds(function, name):
            return None
        function = _enclosing_function(function.parent)
    file = index.file_symbols(path) if live else None
    if file is None:
        file = extract_file_symbols(tree, source, spec, path)
    view = views.current()
    for binding in bindings_of(view.modules, file):
        if binding.local != name:
            continue
        target = view.files.get(binding.path)
        if binding.name is None or target is None:
            return TextLocation(binding.path, Span(0, 0, 0, 0))
        for symbol in target.symbols:
            if symbol.parent == -1 and symbol.name == binding.name:
                return TextLocation(binding.path, symbol.name_span, target.non_ascii_lines)
        return None
    own = [s for s in file.symbols if s.parent == -1 and s.name == name]
    if len(own) == 1 and own[0].kind is not SymbolKind.VARIABLE:
        return TextLocation(path, own[0].name_span, file.non_ascii_lines)
    return None
