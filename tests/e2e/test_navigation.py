"""documentSymbol, workspace/symbol, definition, references through a real client."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient


def open_file(client: LanguageClient, path: Path, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri=uri,
                language_id="python",
                version=version,
                text=path.read_text(encoding="utf-8"),
            )
        )
    )
    return uri


async def test_workspace_symbol_finds_a_class_in_a_file_never_opened(
    client: LanguageClient, sample_workspace: Path
) -> None:
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Widget"))
    assert result
    widget = [s for s in result if s.name == "Widget"]
    assert len(widget) == 1
    location = widget[0].location
    assert isinstance(location, types.Location)
    assert location.uri == (sample_workspace / "pkg/models.py").resolve().as_uri()
    assert location.range.start == types.Position(5, 6)


async def test_workspace_symbol_skips_gitignored_and_vendored_files(client: LanguageClient) -> None:
    for query in ("HiddenThing", "fromNodeModules", "FromVenv"):
        result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
        assert result == [], query


async def test_document_symbol_is_hierarchical_and_reflects_an_unsaved_change(
    client: LanguageClient, sample_workspace: Path
) -> None:
    path = sample_workspace / "pkg/models.py"
    uri = open_file(client, path)
    before = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
    )
    names = [s.name for s in before or []]
    assert names == ["LIMIT", "Widget", "make_widget"]
    widget = before[1]
    assert isinstance(widget, types.DocumentSymbol)
    assert [c.name for c in widget.children or []] == ["size", "grow"]
    assert widget.children[1].kind == types.SymbolKind.Method

    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(16, 0), types.Position(16, 0)),
                    text="\n\nclass Unsaved:\n    pass\n",
                )
            ],
        )
    )
    after = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
    )
    assert [s.name for s in after or []] == ["LIMIT", "Widget", "make_widget", "Unsaved"]
    assert "Unsaved" not in path.read_text(encoding="utf-8")


async def test_definition_resolves_an_imported_class_to_its_file(
    client: LanguageClient, sample_workspace: Path
) -> None:
    uri = open_file(client, sample_workspace / "pkg/util.py")
    result = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=3, character=16),
        )
    )
    assert isinstance(result, list) and result
    location = result[0]
    assert isinstance(location, types.Location)
    assert location.uri.endswith("pkg/models.py")
    assert location.range.start == types.Position(5, 6)


async def test_references_find_identifiers_across_files_but_not_comments(
    client: LanguageClient, sample_workspace: Path
) -> None:
    uri = open_file(client, sample_workspace / "pkg/util.py")
    result = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=3, character=16),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    found = sorted((r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in result or [])
    assert found == [
        ("models.py", 5),
        ("models.py", 14),
        ("models.py", 15),
        ("util.py", 0),
        ("util.py", 3),
    ]


async def test_a_file_changed_on_disk_is_reindexed_when_the_client_reports_it(
    client: LanguageClient, sample_workspace: Path
) -> None:
    added = sample_workspace / "pkg/added.py"
    added.write_text("class Arrived:\n    pass\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=added.resolve().as_uri(), type=types.FileChangeType.Created)
            ]
        )
    )
    for _ in range(50):
        result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Arrived"))
        if result:
            break
    assert result and result[0].name == "Arrived"
