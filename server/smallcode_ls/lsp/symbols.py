"""Graph-backed navigation requests: documentSymbol, workspace/symbol, definition, references."""

from __future__ import annotations

import asyncio
from functools import partial

from lsprotocol import types

from smallcode_ls import navigation
from smallcode_ls.documents import DocumentSnapshot, uri_to_path
from smallcode_ls.errors import DocumentNotOpen, InvalidRequest
from smallcode_ls.lsp.convert import (
    from_lsp_position,
    to_lsp_document_symbols,
    to_lsp_location,
    to_lsp_symbol_information,
    to_lsp_workspace_symbol,
)
from smallcode_ls.lsp.errors import handle_errors
from smallcode_ls.lsp.server import SmallCodeServer
from smallcode_ls.positions import line_starts, offset_at

__all__ = ["register"]

_WORKSPACE_SYMBOL_LIMIT = 200


def _hierarchical(server: SmallCodeServer) -> bool:
    text_document = server.client_capabilities.text_document
    symbols = text_document.document_symbol if text_document else None
    return bool(symbols and symbols.hierarchical_document_symbol_support)


def _cursor(
    server: SmallCodeServer, uri: str, position: types.Position
) -> tuple[DocumentSnapshot, int]:
    session = server.session
    snapshot = session.documents.require(uri)
    offset = offset_at(
        snapshot.text,
        line_starts(snapshot.text),
        from_lsp_position(position),
        session.documents.encoding,
    )
    return snapshot, offset


def register(server: SmallCodeServer) -> None:
    """Register the navigation handlers."""

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @handle_errors
    async def document_symbol(
        params: types.DocumentSymbolParams,
    ) -> list[types.DocumentSymbol] | list[types.SymbolInformation] | None:
        session = server.session
        uri = params.text_document.uri
        if session.documents.get(uri) is not None:
            session.documents.require(uri)
            file = await session.live.current(uri)
        else:
            path = uri_to_path(uri)
            file = session.index.file_symbols(str(path)) if path else None
            if file is None:
                raise DocumentNotOpen(f"{uri} is neither open nor indexed")
        if file is None:
            return None
        nodes = navigation.outline(file)
        encoding = session.documents.encoding
        if _hierarchical(server):
            return to_lsp_document_symbols(nodes, file.non_ascii_lines, encoding)
        return to_lsp_symbol_information(uri, nodes, file.non_ascii_lines, encoding)

    @server.feature(types.WORKSPACE_SYMBOL)
    @handle_errors
    async def workspace_symbol(params: types.WorkspaceSymbolParams) -> list[types.WorkspaceSymbol]:
        session = server.session
        hits = await asyncio.to_thread(session.index.search, params.query, _WORKSPACE_SYMBOL_LIMIT)
        return [to_lsp_workspace_symbol(hit, session.documents.encoding) for hit in hits]

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @handle_errors
    async def definition(params: types.DefinitionParams) -> list[types.Location]:
        session = server.session
        snapshot, offset = _cursor(server, params.text_document.uri, params.position)
        await session.live.current(snapshot.uri)
        locations = await asyncio.get_running_loop().run_in_executor(
            session.jedi_executor,
            partial(
                navigation.find_definitions,
                session.index,
                session.views,
                session.resolver,
                snapshot,
                offset,
            ),
        )
        return [to_lsp_location(location, session.documents.encoding) for location in locations]

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @handle_errors
    async def references(params: types.ReferenceParams) -> list[types.Location]:
        session = server.session
        if params.context is None:
            raise InvalidRequest("references needs a context")
        snapshot, offset = _cursor(server, params.text_document.uri, params.position)
        await session.live.current(snapshot.uri)
        locations = await asyncio.to_thread(
            navigation.find_references,
            session.index,
            snapshot,
            offset,
            params.context.include_declaration,
            session.text_of,
        )
        return [to_lsp_location(location, session.documents.encoding) for location in locations]
