"""Settings from every source, and the mirror's behaviour on bad changes, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.e2e.conftest import server_config, start_client, wait_for_index


async def wait_for_message(client: LanguageClient, needle: str) -> types.ShowMessageParams:
    while True:
        for message in client.messages:
            if needle in message.message:
                return message
        await client.wait_for_notification("window/showMessage")


def document_symbols(client: LanguageClient, uri: str):  # type: ignore[no-untyped-def]
    return client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


async def test_invalid_initialization_options_are_named_and_the_server_keeps_working(
    client_name: str, sample_workspace: Path, tmp_path: Path
) -> None:
    client = await start_client(
        client_name,
        sample_workspace,
        tmp_path / "cache",
        initialization_options={"smallcode": {"model": {"contextWindow": "lots"}}},
    )
    message = await wait_for_message(client, "smallcode.model.contextWindow")
    assert message.type == types.MessageType.Warning
    await wait_for_index(client)
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Widget"))
    assert result
    await client.shutdown_session()


async def test_pulled_and_pushed_configuration_are_validated(
    client_name: str, sample_workspace: Path, tmp_path: Path
) -> None:
    client = await start_client(
        client_name,
        sample_workspace,
        tmp_path / "cache",
        configuration={"smallcode": {"index": {"maxFileBytes": "tiny"}}},
    )
    await wait_for_message(client, "smallcode.index.maxFileBytes")
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"smallcode": {"context": {"budgetTokens": 1}}})
    )
    await wait_for_message(client, "smallcode.context.budgetTokens")
    await client.shutdown_session()


async def test_an_invalid_change_is_reported_and_requests_fail_until_the_file_is_reopened(
    client: LanguageClient, sample_workspace: Path
) -> None:
    path = sample_workspace / "pkg/models.py"
    uri = path.resolve().as_uri()
    text = path.read_text()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=90, character=0),
                        end=types.Position(line=90, character=0),
                    ),
                    text="lost",
                )
            ],
        )
    )
    message = await wait_for_message(client, "out of sync")
    assert "reopen" in message.message
    with pytest.raises(JsonRpcException) as error:
        await document_symbols(client, uri)
    assert error.value.code == types.LSPErrorCodes.ContentModified

    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=3, text=text
            )
        )
    )
    result = await document_symbols(client, uri)
    assert [s.name for s in result or []] == ["LIMIT", "Widget", "make_widget"]


async def test_columns_follow_the_position_encoding_each_client_negotiated(
    client: LanguageClient, client_name: str, sample_workspace: Path
) -> None:
    uri = (sample_workspace / "pkg/emoji.py").resolve().as_uri()
    result = await document_symbols(client, uri)  # not open: answered from the index
    farewell = [s for s in result or [] if s.name == "FAREWELL"][0]
    expected = {"visual-studio-code": 17, "neovim": 19}[client_name]  # utf-16 vs utf-8
    assert farewell.selection_range.start.character == expected


async def test_a_document_neither_open_nor_indexed_gets_invalid_params(
    client: LanguageClient, tmp_path: Path
) -> None:
    with pytest.raises(JsonRpcException) as error:
        await document_symbols(client, (tmp_path / "elsewhere.py").as_uri())
    assert error.value.code == types.ErrorCodes.InvalidParams
    assert "neither open nor indexed" in error.value.message


async def test_a_client_without_hierarchical_symbols_gets_a_flat_list(
    sample_workspace: Path, tmp_path: Path
) -> None:
    from pytest_lsp import client_capabilities

    capabilities = client_capabilities("visual-studio-code")
    assert capabilities.text_document and capabilities.text_document.document_symbol
    capabilities.text_document.document_symbol.hierarchical_document_symbol_support = False
    client = await server_config(tmp_path / "c").start()
    assert isinstance(client, LanguageClient)
    await client.initialize_session(
        types.InitializeParams(capabilities=capabilities, root_uri=sample_workspace.as_uri())
    )
    await wait_for_index(client)
    result = await document_symbols(client, (sample_workspace / "pkg/models.py").resolve().as_uri())
    assert all(isinstance(s, types.SymbolInformation) for s in result or [])
    grow = [s for s in result or [] if s.name == "grow"][0]
    assert grow.container_name == "Widget"
    await client.shutdown_session()
