"""The only mapping between domain values and LSP types.

Domain spans carry UTF-8 byte columns; ``line_texts`` holds the text of the
non-ASCII lines, which is all that is needed to re-count a column in the
negotiated encoding (ASCII columns are the same in every encoding).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from smallcode_ls.documents import TextChange
from smallcode_ls.graph.index import SymbolHit
from smallcode_ls.graph.symbols import Span, SymbolKind
from smallcode_ls.navigation import OutlineNode, TextLocation
from smallcode_ls.patch.changes import ChangeKind, FileChange
from smallcode_ls.patch.minimal import OffsetEdit, minimal_edits
from smallcode_ls.positions import (
    PositionEncoding,
    TextPosition,
    index_to_column,
    line_starts,
    position_at,
)

__all__ = [
    "from_lsp_change",
    "from_lsp_encoding",
    "from_lsp_position",
    "to_lsp_document_symbols",
    "to_lsp_location",
    "to_lsp_range",
    "to_lsp_symbol_information",
    "to_lsp_text_edits",
    "to_lsp_workspace_edit",
    "to_lsp_workspace_symbol",
    "to_uri",
]

_KINDS = {
    SymbolKind.CLASS: types.SymbolKind.Class,
    SymbolKind.FUNCTION: types.SymbolKind.Function,
    SymbolKind.METHOD: types.SymbolKind.Method,
    SymbolKind.VARIABLE: types.SymbolKind.Variable,
    SymbolKind.FIELD: types.SymbolKind.Field,
    SymbolKind.INTERFACE: types.SymbolKind.Interface,
    SymbolKind.TYPE: types.SymbolKind.TypeParameter,
    SymbolKind.ENUM: types.SymbolKind.Enum,
    SymbolKind.STRUCT: types.SymbolKind.Struct,
    SymbolKind.CONSTANT: types.SymbolKind.Constant,
    SymbolKind.MODULE: types.SymbolKind.Module,
}


def from_lsp_encoding(value: str | None) -> PositionEncoding:
    """The negotiated position encoding (UTF-16 when none was negotiated)."""
    try:
        return PositionEncoding(value) if value else PositionEncoding.UTF16
    except ValueError:
        return PositionEncoding.UTF16


def from_lsp_position(position: types.Position) -> TextPosition:
    """An LSP position as a domain position (same units)."""
    return TextPosition(position.line, position.character)


def from_lsp_change(change: types.TextDocumentContentChangeEvent) -> TextChange:
    """A content change event as a domain change."""
    if isinstance(change, types.TextDocumentContentChangePartial):
        return TextChange(
            change.text, from_lsp_position(change.range.start), from_lsp_position(change.range.end)
        )
    return TextChange(change.text)


def to_uri(path: str) -> str:
    """A file path (or an already-URI key for unsaved buffers) as a URI."""
    if "://" in path or path.startswith("untitled:"):
        return path
    return Path(path).as_uri()


def _column(
    line: int, byte_col: int, line_texts: dict[int, str], encoding: PositionEncoding
) -> int:
    text = line_texts.get(line)
    if text is None or encoding is PositionEncoding.UTF8:
        return byte_col
    index = len(text.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "ignore"))
    return index_to_column(text, index, encoding)


def to_lsp_range(span: Span, line_texts: dict[int, str], encoding: PositionEncoding) -> types.Range:
    """A byte-column span as an LSP range in ``encoding``."""
    return types.Range(
        start=types.Position(
            span.start_line, _column(span.start_line, span.start_col, line_texts, encoding)
        ),
        end=types.Position(
            span.end_line, _column(span.end_line, span.end_col, line_texts, encoding)
        ),
    )


def to_lsp_location(location: TextLocation, encoding: PositionEncoding) -> types.Location:
    """A domain location as an LSP location."""
    return types.Location(
        uri=to_uri(location.path), range=to_lsp_range(location.span, location.line_texts, encoding)
    )


def to_lsp_document_symbols(
    nodes: list[OutlineNode], line_texts: dict[int, str], encoding: PositionEncoding
) -> list[types.DocumentSymbol]:
    """A hierarchical outline as LSP DocumentSymbols."""
    return [
        types.DocumentSymbol(
            name=node.name,
            kind=_KINDS[node.kind],
            range=to_lsp_range(node.span, line_texts, encoding),
            selection_range=to_lsp_range(node.name_span, line_texts, encoding),
            detail=node.detail,
            children=to_lsp_document_symbols(list(node.children), line_texts, encoding),
        )
        for node in nodes
    ]


def to_lsp_symbol_information(
    uri: str,
    nodes: list[OutlineNode],
    line_texts: dict[int, str],
    encoding: PositionEncoding,
    container: str | None = None,
) -> list[types.SymbolInformation]:
    """A flat outline, for clients without hierarchical document symbols."""
    flat: list[types.SymbolInformation] = []
    for node in nodes:
        flat.append(
            types.SymbolInformation(
                name=node.name,
                kind=_KINDS[node.kind],
                location=types.Location(uri, to_lsp_range(node.span, line_texts, encoding)),
                container_name=container,
            )
        )
        flat.extend(
            to_lsp_symbol_information(uri, list(node.children), line_texts, encoding, node.name)
        )
    return flat


def to_lsp_workspace_symbol(hit: SymbolHit, encoding: PositionEncoding) -> types.WorkspaceSymbol:
    """A graph hit as an LSP WorkspaceSymbol."""
    symbol = hit.symbol
    return types.WorkspaceSymbol(
        name=symbol.name,
        kind=_KINDS[symbol.kind],
        location=types.Location(
            uri=to_uri(hit.file.path),
            range=to_lsp_range(symbol.name_span, hit.file.non_ascii_lines, encoding),
        ),
        container_name=hit.container or None,
    )


TASK_ANNOTATION = "smallcode.task"


def to_lsp_text_edits(
    old_text: str,
    edits: Sequence[OffsetEdit],
    encoding: PositionEncoding,
    annotation_id: str | None = None,
) -> list[types.TextEdit | types.AnnotatedTextEdit]:
    """Offset edits on ``old_text`` as LSP text edits in ``encoding`` (annotated when asked)."""
    starts = line_starts(old_text)
    out: list[types.TextEdit | types.AnnotatedTextEdit] = []
    for edit in edits:
        start = position_at(old_text, starts, edit.start, encoding)
        end = position_at(old_text, starts, edit.end, encoding)
        span = types.Range(
            start=types.Position(start.line, start.character),
            end=types.Position(end.line, end.character),
        )
        if annotation_id is None:
            out.append(types.TextEdit(range=span, new_text=edit.text))
        else:
            out.append(
                types.AnnotatedTextEdit(annotation_id=annotation_id, range=span, new_text=edit.text)
            )
    return out


def to_lsp_workspace_edit(
    changes: Sequence[FileChange],
    label: str,
    supports_annotations: bool,
    encoding: PositionEncoding,
    *,
    description: str | None = None,
    annotation_id: str = TASK_ANNOTATION,
) -> types.WorkspaceEdit:
    """One task's changes as a versioned ``WorkspaceEdit`` with ``documentChanges``.

    Open files carry their base version, closed files ``version: null`` (check them first with
    ``patch.changes.stale_on_disk``). New files become ``CreateFile`` plus an insert, deletions
    ``DeleteFile``. With annotation support every edit points at one change annotation labelled
    with the task and ``needsConfirmation`` set, so the client previews the edit.
    """
    note = annotation_id if supports_annotations else None
    document_changes: list[
        types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile
    ] = []
    for change in changes:
        identifier = types.OptionalVersionedTextDocumentIdentifier(
            uri=change.uri, version=change.base_version
        )
        if change.kind is ChangeKind.DELETE:
            document_changes.append(
                types.DeleteFile(
                    uri=change.uri,
                    options=types.DeleteFileOptions(ignore_if_not_exists=False),
                    annotation_id=note,
                )
            )
            continue
        if change.kind is ChangeKind.CREATE:
            document_changes.append(
                types.CreateFile(
                    uri=change.uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                    annotation_id=note,
                )
            )
            identifier = types.OptionalVersionedTextDocumentIdentifier(uri=change.uri, version=None)
            edits = [OffsetEdit(0, 0, change.new_text)] if change.new_text else []
            old_text = ""
        else:
            edits = list(minimal_edits(change.old_text, change.new_text))
            old_text = change.old_text
        if edits:
            document_changes.append(
                types.TextDocumentEdit(
                    text_document=identifier,
                    edits=to_lsp_text_edits(old_text, edits, encoding, note),
                )
            )
    annotations = (
        {
            annotation_id: types.ChangeAnnotation(
                label, needs_confirmation=True, description=description
            )
        }
        if supports_annotations
        else None
    )
    return types.WorkspaceEdit(document_changes=document_changes, change_annotations=annotations)
