"""The pygls server object and its feature registration."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from smallcode_ls import __version__
from smallcode_ls.app import Session

__all__ = ["SmallCodeServer", "build_server"]


_Dispatch = Generator[Any, Any, None]
_ANSWERED = object()  # a message already answered while it was being read


class SmallCodeProtocol(LanguageServerProtocol):
    """pygls's protocol minus its own copy of open documents.

    ``DocumentStore`` is the one mirror (it refuses bad changes instead of
    clamping them); keeping pygls's copy too would apply every change twice.
    It also lets ``$/cancelRequest`` reach work started by ``workspace/executeCommand``
    (pygls cancels only its own wrapper there): commands register a cancel hook.
    """

    def __init__(self, server: LanguageServer, converter: Any) -> None:
        super().__init__(server, converter)
        self.cancel_hooks: dict[str | int, Callable[[], object]] = {}

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Answer a request whose params do not fit its method (pygls drops it unanswered)."""
        try:
            return super().structure_message(data)
        except JsonRpcException:
            if not (isinstance(data, dict) and "id" in data and "method" in data):
                raise
            error = JsonRpcInvalidParams(f"invalid params for {data['method']}")
            self._send_response(data["id"], error=error.to_response_error())
            return _ANSWERED

    def handle_message(self, message: Any) -> None:
        """After ``shutdown`` only ``exit`` is valid: other requests get InvalidRequest."""
        if message is _ANSWERED:
            return
        method = getattr(message, "method", None)
        if self._shutdown and method not in (None, types.EXIT) and hasattr(message, "id"):
            error = JsonRpcInvalidRequest("the server is shutting down")
            self._send_response(message.id, error=error.to_response_error())
            return
        super().handle_message(message)

    def _handle_cancel_notification(self, msg_id: str | int) -> None:
        hook = self.cancel_hooks.pop(msg_id, None)
        super()._handle_cancel_notification(msg_id)
        if hook is not None:
            hook()

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> _Dispatch:
        """Hand didOpen to the registered feature only."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> _Dispatch:
        """Hand didChange to the registered feature only."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> _Dispatch:
        """Hand didClose to the registered feature only."""
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class SmallCodeServer(LanguageServer):
    """A pygls server holding one :class:`Session` (built at ``initialize``)."""

    def __init__(self, env: Mapping[str, str], cache_dir: Path | None = None) -> None:
        super().__init__(
            "smallcode-ls",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=SmallCodeProtocol,
        )
        self.env = dict(env)
        self.cache_dir = cache_dir
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The live session; requests before ``initialize`` get ServerNotInitialized."""
        if self._session is None:
            raise JsonRpcServerNotInitialized()
        return self._session

    def attach(self, session: Session) -> None:
        """Install the session built at ``initialize``."""
        if self._session is not None:
            self._session.close()
        self._session = session

    @property
    def cancel_hooks(self) -> dict[str | int, Callable[[], object]]:
        """Callbacks run when ``$/cancelRequest`` names a request (by id)."""
        protocol = self.protocol
        assert isinstance(protocol, SmallCodeProtocol)
        return protocol.cancel_hooks

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """Show a message to the user and log it to the client's output."""
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        self.window_log_message(types.LogMessageParams(type=kind, message=message))


def build_server(env: Mapping[str, str], cache_dir: Path | None = None) -> SmallCodeServer:
    """Create the server and register every feature module."""
    from smallcode_ls.lsp import commands, lifecycle, symbols, sync, tasks

    server = SmallCodeServer(env, cache_dir)
    lifecycle.register(server)
    commands.register(server)
    sync.register(server)
    symbols.register(server)
    tasks.register(server)
    return server
