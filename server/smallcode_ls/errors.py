"""The SmallCodeError tree: domain errors with one user-facing sentence each.

The core raises these; only ``lsp/errors.py`` maps them to JSON-RPC error codes.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DocumentNotOpen",
    "DocumentOutOfSync",
    "InvalidChange",
    "InvalidRequest",
    "ModelError",
    "ModelErrorKind",
    "SmallCodeError",
]


class SmallCodeError(Exception):
    """Base of every error the server reports to a user."""


class InvalidRequest(SmallCodeError):
    """The request's parameters are malformed or name something that does not exist."""


class InvalidChange(SmallCodeError):
    """A document change cannot be applied (reversed range, position past the end)."""


class DocumentNotOpen(SmallCodeError):
    """A request named a document that the client never opened."""


class DocumentOutOfSync(SmallCodeError):
    """The mirror lost track of the client's text and must be re-sent in full."""


class ModelErrorKind(StrEnum):
    """Why a model call failed; each kind has its own user-facing wording and retry rule."""

    CONNECT = "connect"  # refused, DNS, TLS: the endpoint is not reachable
    TIMEOUT_FIRST_TOKEN = "timeout-first-token"
    TIMEOUT_IDLE = "timeout-idle"
    TIMEOUT_TOTAL = "timeout-total"
    RATE_LIMITED = "rate-limited"
    SERVER_ERROR = "server-error"  # 5xx
    AUTH = "auth"  # 401/403
    BAD_REQUEST = "bad-request"  # other 4xx
    CONTEXT_LENGTH = "context-length"  # the prompt does not fit: never retried as-is
    BAD_RESPONSE = "bad-response"  # HTML, malformed SSE, no choices, invalid JSON
    INTERRUPTED = "interrupted"  # the stream broke after the first token
    CANCELLED = "cancelled"


class ModelError(SmallCodeError):
    """A model call failed; ``kind`` classifies it, ``partial`` keeps any text received."""

    def __init__(self, kind: ModelErrorKind, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.partial = partial
