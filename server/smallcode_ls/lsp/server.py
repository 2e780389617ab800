"""The pygls server object and its feature registration."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
    JsonRpcRequestCancelled,
    JsonRpcServerNotInitialized,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
)

from smallcode_ls import __version__
from smallcode_ls.app import Session
from smallcode_ls.lsp.sanitize import Redactor, internal_error, public_error

__all__ = ["SmallCodeProtocol", "SmallCodeServer", "build_server"]

logger = logging.getLogger("smallcode_ls.protocol")

_Dispatch = Generator[Any, Any, None]
_ANSWERED = object()  # a message already answered (or dropped) while it was being read
_NOT_INITIALIZED_OK = (types.INITIALIZE, types.EXIT)
_REPORT_INTERVAL_S = 30.0
_SHUTDOWN_GRACE_S = 1.0
_ERROR = types.MessageType.Error


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _valid_id(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _envelope_problem(data: object) -> str | None:
    """Why ``data`` is not a JSON-RPC 2.0 request, notification or response (None: it is)."""
    if not isinstance(data, dict):
        return f"a message must be a JSON object, not {type(data).__name__}"
    if data.get("jsonrpc") != "2.0":
        return 'a message must carry "jsonrpc": "2.0"'
    if "id" in data and not _valid_id(data["id"]):
        return "a message id must be a string or an integer"
    if "method" in data:
        if not isinstance(data["method"], str):
            return "a method name must be a string"
        if not isinstance(data.get("params", {}), dict | list | None):
            return "params must be an object or an array"
        return None
    if "id" not in data or ("result" in data) == ("error" in data):
        return "neither a request nor a response"
    return None


async def _settle(futures: list[Any], seconds: float) -> None:
    """Wait up to ``seconds`` for ``futures`` (asyncio or concurrent) to finish."""
    await asyncio.wait([asyncio.wrap_future(f) for f in futures], timeout=seconds)


class SmallCodeProtocol(LanguageServerProtocol):
    """pygls's protocol, hardened: every request id is answered exactly once.

    * Bodies come from :mod:`smallcode_ls.lsp.framing` through :meth:`receive`: a body
      that is not JSON gets ParseError (id null), a non-object or a broken envelope
      InvalidRequest, params that do not fit their method InvalidParams.
    * Before ``initialize`` requests get ServerNotInitialized and notifications are
      dropped; after ``shutdown`` requests get InvalidRequest.
    * Handler failures reach the client as a code and a generic message
      (:mod:`smallcode_ls.lsp.sanitize`); the detail goes to the server log.
    * A response from the client is matched only against requests the server sent
      (pygls kept one id map for both directions, so a client could resolve its own
      pending request).
    * ``DocumentStore`` is the one document mirror (it refuses bad changes instead of
      clamping them); pygls's copy is not kept.
    * ``$/cancelRequest`` reaches work started by ``workspace/executeCommand`` through
      the cancel hooks that commands register.
    """

    def __init__(self, server: LanguageServer, converter: Any) -> None:
        self.cancel_hooks: dict[str | int, Callable[[], object]] = {}
        self.redact = Redactor()
        self.exit_code: int | None = None
        self.on_stop: Callable[[], None] = lambda: sys.exit(self.exit_code or 0)
        self._initialize_seen = False
        self._shutdown_requested = False
        self._open_requests: Counter[str | int] = Counter()
        self._sent_requests: set[str | int] = set()
        self._lost = False
        super().__init__(server, converter)  # after: it reads every attribute

    @property
    def is_shut_down(self) -> bool:
        """Whether the client sent ``shutdown``."""
        return self._shutdown_requested

    def final_code(self) -> int:
        """The exit code: as ``exit`` set it, else 0 only after ``shutdown``."""
        if self.exit_code is not None:
            return self.exit_code
        return 0 if self._shutdown_requested else 1

    async def settle(self, seconds: float) -> None:
        """Give requests under way up to ``seconds`` to answer, then cancel the rest."""
        pending = [f for f in self._request_futures.values() if not f.done()]
        if pending:
            await _settle(pending, seconds)
        for future in list(self._request_futures.values()):
            future.cancel()

    def receive(self, body: bytes) -> None:
        """Handle one message body from the framing layer; never raises."""
        try:
            data = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            logger.warning("unparsable message body (%d bytes)", len(body))
            self._answer(None, error=JsonRpcParseError("parse error"))
            return
        problem = _envelope_problem(data)
        if problem is not None:
            logger.warning("invalid message: %s", problem)
            msg_id = data.get("id") if isinstance(data, dict) and "method" in data else None
            self._answer(msg_id if _valid_id(msg_id) else None, JsonRpcInvalidRequest(problem))
            return
        if "method" in data and "id" in data:
            self._open_requests[data["id"]] += 1
        try:
            self.handle_message(self.structure_message(data))
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - the loop must survive any handler
            ref = internal_error(exc)
            if "method" in data and "id" in data and self._open_requests[data["id"]]:
                error = JsonRpcException(message=f"internal error (ref {ref})")
                error.code = -32603
                self._send_response(data["id"], error=error.to_response_error())

    def framing_fault(self, reason: str) -> None:
        """Bytes on stdin that were not a frame: logged (budgeted), then skipped."""
        logger.warning("framing fault: %s; resynchronising", reason)

    def client_gone(self, why: str) -> None:
        """The client process died: leave as after end of input."""
        logger.warning("%s; exiting", why)
        self.on_stop()

    def _answer(self, msg_id: str | int | None, error: JsonRpcException) -> None:
        """Send an error answer for a message that never reached a handler."""
        if msg_id is not None:
            self._open_requests[msg_id] += 1
        self._send_response(msg_id, error=error.to_response_error())  # type: ignore[arg-type]

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Typed message for ``data``; ill-fitting params are answered, never dropped."""
        method = data.get("method")
        try:
            if method is not None:
                kind = JsonRPCRequestMessage if "id" in data else JsonRPCNotification
                return self._converter.structure(data, self.get_message_type(method) or kind)
            if "error" in data:
                return self._converter.structure(data, types.ResponseErrorMessage)
            result_type = self._result_types.pop(data["id"], None) or JsonRPCResponseMessage
            return self._converter.structure(data, result_type)
        except Exception as exc:  # cattrs' validation errors and anything odd inside them
            if method is not None and "id" in data:
                error = JsonRpcInvalidParams(f"invalid params for {method}")
                self._send_response(data["id"], error=error.to_response_error())
            elif method is not None:
                logger.warning("dropped %s notification with invalid params", method)
            else:
                self._fail_sent_request(data["id"], exc)
            return _ANSWERED

    def _fail_sent_request(self, msg_id: str | int, exc: Exception) -> None:
        """A client's response to our request did not fit: fail that request's future."""
        future = self._request_futures.pop(msg_id, None)
        self._sent_requests.discard(msg_id)
        logger.warning("invalid response to request %r: %s", msg_id, type(exc).__name__)
        if future is not None and not future.done():
            future.set_exception(JsonRpcInvalidParams("the client's response did not fit"))

    def handle_message(self, message: Any) -> None:
        """Dispatch with lifecycle gates and responses matched to our own requests.

        -32002 before initialize, -32600 after shutdown.
        """
        if message is _ANSWERED:
            return
        method = getattr(message, "method", None)
        is_request = method is not None and hasattr(message, "id")
        if method is None:
            if message.id not in self._sent_requests:
                logger.warning("response to unknown request %r ignored", message.id)
                return
            self._sent_requests.discard(message.id)
        elif not self._initialize_seen and method not in _NOT_INITIALIZED_OK:
            if is_request:
                self._send_response(
                    message.id, error=JsonRpcServerNotInitialized().to_response_error()
                )
            return
        elif self._shutdown_requested and method != types.EXIT and is_request:
            error = JsonRpcInvalidRequest("the server is shutting down")
            self._send_response(message.id, error=error.to_response_error())
            return
        if method == types.INITIALIZE:
            self._initialize_seen = True
        super().handle_message(message)

    def send_request(
        self,
        method: str,
        params: Any | None = None,
        callback: Callable[[Any], None] | None = None,
        msg_id: str | int | None = None,
    ) -> Future[Any]:
        """Send a request to the client, remembering its id for the response."""
        msg_id = msg_id if msg_id is not None else str(uuid.uuid4())
        self._sent_requests.add(msg_id)
        return super().send_request(method, params, callback, msg_id)

    def _send_response(
        self,
        msg_id: str | int,
        result: Any | None = None,
        error: types.ResponseError | None = None,
    ) -> None:
        """Answer a request, at most once per received id."""
        if msg_id is None and error is not None:  # lsprotocol would leave "id" out
            error_data = self._converter.unstructure(error)
            self._send_data({"jsonrpc": "2.0", "id": None, "error": error_data})
            return
        if msg_id is not None:
            if self._open_requests[msg_id] <= 0:
                logger.warning("second answer to request %r suppressed", msg_id)
                return
            self._open_requests[msg_id] -= 1
            if not self._open_requests[msg_id]:
                del self._open_requests[msg_id]
        super()._send_response(msg_id, result, error)

    def _send_handler_result(self, future: Future[Any], *, msg_id: str | int) -> None:
        """Send a handler's result, or its failure as a sanitized error."""
        self._request_futures.pop(msg_id, None)
        if future.cancelled():
            cancelled = JsonRpcRequestCancelled("request cancelled")
            self._send_response(msg_id, error=cancelled.to_response_error())
            return
        exc = future.exception()
        if exc is None:
            self._send_response(msg_id, result=future.result())
        else:
            self._send_response(msg_id, error=public_error(exc, self.redact))

    def _check_handler_result(self, future: Future[Any]) -> None:
        """A notification handler failed: log it, tell the user generically."""
        if future.cancelled() or (exc := future.exception()) is None:
            return
        if isinstance(exc, JsonRpcServerNotInitialized):
            return
        ref = internal_error(exc)
        server = self._server
        if isinstance(server, SmallCodeServer):
            server.report_internal(ref)

    def _send_data(self, data: Any) -> None:
        """Serialize, mask secrets, frame and write one message."""
        if not data or self.writer is None or self._lost:
            return
        try:
            body = json.dumps(data, default=self._serialize_message)
        except Exception as exc:
            ref = internal_error(exc)
            msg_id = getattr(data, "id", None)
            if not hasattr(data, "method") and msg_id is not None:  # a response: still answer
                error = {"code": -32603, "message": f"internal error (ref {ref})"}
                body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": error})
            else:
                return
        raw = self.redact(body, shapes=False).encode(self.CHARSET)
        if self._include_headers:
            header = f"Content-Length: {len(raw)}\r\n\r\n".encode("ascii")
            raw = header + raw
        try:
            self.writer.write(raw)
        except OSError:
            self._lost = True
            logger.warning("the client stopped reading; exiting")
            self.on_stop()

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> _Dispatch:
        """Let requests already under way finish (briefly), then shut down.

        Requests arriving after ``shutdown`` get InvalidRequest at once; what is still
        running after the grace period is cancelled (each gets RequestCancelled).
        """
        self._shutdown_requested = True
        current = self.msg_id
        pending = [f for i, f in self._request_futures.items() if i != current and not f.done()]
        if pending:
            yield _settle, (pending, _SHUTDOWN_GRACE_S), None
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> _Dispatch:
        """Leave the message loop: code 0 after ``shutdown``, 1 without."""
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        self.exit_code = 0 if self._shutdown_requested else 1
        self.on_stop()

    def _handle_cancel_notification(self, msg_id: str | int) -> None:
        if not _valid_id(msg_id):  # lsprotocol's CancelParams.id is typed loosely
            logger.warning("$/cancelRequest with an invalid id ignored")
            return
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
        self._last_report = -_REPORT_INTERVAL_S
        self.lsp.redact = Redactor(self.env)

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
    def lsp(self) -> SmallCodeProtocol:
        """The protocol object, typed."""
        protocol = self.protocol
        assert isinstance(protocol, SmallCodeProtocol)
        return protocol

    @property
    def cancel_hooks(self) -> dict[str | int, Callable[[], object]]:
        """Callbacks run when ``$/cancelRequest`` names a request (by id)."""
        return self.lsp.cancel_hooks

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """Show a message to the user and log it to the client's output (secrets masked)."""
        message = self.lsp.redact(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def report_internal(self, ref: str) -> None:
        """Tell the user, generically and at most every 30 s, that something failed."""
        now = time.monotonic()
        if now - self._last_report < _REPORT_INTERVAL_S:
            return
        self._last_report = now
        self.show(f"SmallCode: internal error (ref {ref}); see the server log", _ERROR)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Out-of-band errors from pygls: logged (budgeted) and reported generically."""
        if isinstance(error, JsonRpcException) and error.code != -32603:
            logger.warning("%s: %s", type(error).__name__, error.message)
            return
        self.report_internal(internal_error(error))

    def serve_stdio(self, in_fd: int, out_fd: int) -> int:
        """Serve one client over two file descriptors; return the exit code."""
        from smallcode_ls.lsp.transport import serve_stdio

        return serve_stdio(self, in_fd, out_fd)

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """The pygls entry point, routed through the hardened loop (exit code dropped)."""
        in_fd = (stdin or sys.stdin.buffer).fileno()
        out_fd = os.dup((stdout or sys.stdout.buffer).fileno())
        self.serve_stdio(in_fd, out_fd)

    def start_tcp(self, host: str, port: int) -> None:
        """The pygls entry point, routed through the hardened loop (exit code dropped)."""
        self.serve_tcp(host, port)

    def serve_tcp(self, host: str, port: int) -> int:
        """Serve the first client that connects to ``host:port``; return the exit code."""
        from smallcode_ls.lsp.transport import serve_tcp

        return serve_tcp(self, host, port)


def build_server(env: Mapping[str, str], cache_dir: Path | None = None) -> SmallCodeServer:
    """Create the server and register every feature module."""
    from smallcode_ls.lsp import commands, lifecycle, symbols, sync, tasks, trust

    server = SmallCodeServer(env, cache_dir)
    lifecycle.register(server)
    commands.register(server)
    sync.register(server)
    symbols.register(server)
    tasks.register(server)
    trust.register(server)
    return server
