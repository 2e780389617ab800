"""Document sync: didOpen / didChange / didClose / didSave feed the mirror and the graph."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from smallcode_ls.documents import uri_to_path
from smallcode_ls.errors import SmallCodeError
from smallcode_ls.lsp.convert import from_lsp_change
from smallcode_ls.lsp.server import SmallCodeServer

__all__ = ["register"]

logger = logging.getLogger(__name__)


def register(server: SmallCodeServer) -> None:
    """Register the sync handlers (plain ``def``: constant-time work on the loop)."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        session = server.session
        snapshot = session.documents.open(item.uri, item.version, item.text, item.language_id)
        session.live.submit(snapshot)
        if item.language_id == "python":  # so the first go-to-definition is not a cold one
            asyncio.get_running_loop().run_in_executor(
                session.jedi_executor, session.resolver.warm, item.text, snapshot.path
            )

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        session = server.session
        uri = params.text_document.uri
        changes = [from_lsp_change(change) for change in params.content_changes]
        try:
            snapshot = session.documents.change(uri, params.text_document.version, changes)
        except SmallCodeError as exc:
            server.show(f"SmallCode: {exc}")
            return
        session.live.submit(snapshot)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        session = server.session
        snapshot = session.documents.get(params.text_document.uri)
        session.documents.close(params.text_document.uri)
        if snapshot is not None:
            session.live.forget(snapshot)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(params: types.DidSaveTextDocumentParams) -> None:
        await _refresh_closed(server, [params.text_document.uri])

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        await _refresh_closed(server, [event.uri for event in params.changes])


async def _refresh_closed(server: SmallCodeServer, uris: list[str]) -> None:
    """Re-read files changed on disk (off the loop); open buffers stay authoritative."""
    session = server.session
    paths = [
        str(local)
        for uri in uris
        if (local := uri_to_path(uri)) is not None and session.documents.get(uri) is None
    ]
    for path in paths:
        await asyncio.to_thread(session.index.refresh_path, path)
