"""Map domain errors to JSON-RPC errors, once, at the handler boundary."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from pygls.exceptions import (
    JsonRpcContentModified,
    JsonRpcException,
    JsonRpcInvalidParams,
)

from smallcode_ls.errors import (
    DocumentNotOpen,
    DocumentOutOfSync,
    InvalidChange,
    InvalidRequest,
    SmallCodeError,
)

__all__ = ["REQUEST_FAILED", "handle_errors", "to_jsonrpc_error"]

logger = logging.getLogger(__name__)

REQUEST_FAILED = -32803

P = ParamSpec("P")
R = TypeVar("R")


class JsonRpcRequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): the request was valid but could not be done."""

    CODE = REQUEST_FAILED


def to_jsonrpc_error(error: SmallCodeError) -> JsonRpcException:
    """The JSON-RPC error for a domain error, carrying its user-facing message."""
    message = str(error) or type(error).__name__
    if isinstance(error, InvalidRequest | InvalidChange | DocumentNotOpen):
        return JsonRpcInvalidParams(message)
    if isinstance(error, DocumentOutOfSync):
        return JsonRpcContentModified(message)
    return JsonRpcRequestFailed(message)


def handle_errors(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Wrap a request handler so every failure becomes exactly one JSON-RPC error."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await handler(*args, **kwargs)
        except JsonRpcException:
            raise
        except SmallCodeError as exc:
            raise to_jsonrpc_error(exc) from exc
        except Exception as exc:
            logger.exception("%s failed", handler.__name__)
            # The detail (text, traceback, paths) stays in the log; the client gets none of it.
            raise JsonRpcRequestFailed("internal error (see the server log)") from exc

    return wrapper
