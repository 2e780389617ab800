"""The SmallCodeError tree: domain errors with one user-facing sentence each.

The core raises these; only ``lsp/errors.py`` maps them to JSON-RPC error codes.
"""

from __future__ import annotations

__all__ = [
    "DocumentNotOpen",
    "DocumentOutOfSync",
    "InvalidChange",
    "InvalidRequest",
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
