"""What may cross to the client, and how much a bad message may cost in the log.

Errors reach the client as a code and a generic message (plus a reference to find the
detail in the server log); deliberate, user-facing messages (invalid params, a domain
error) pass, with secrets masked. Log records caused by client input are cut short and
rate-limited so that a flood of malformed messages cannot flood stderr.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets as tokens
import time
import traceback
from collections.abc import Iterable, Mapping

from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcException

from smallcode_ls.errors import SmallCodeError
from smallcode_ls.security import secrets
from smallcode_ls.security.secrets import PROMPT_SHAPES, secret_values_from_env

__all__ = [
    "GENERIC_MESSAGES",
    "LogBudget",
    "Redactor",
    "internal_error",
    "public_error",
]

logger = logging.getLogger("smallcode_ls.internal")

GENERIC_MESSAGES = {
    -32700: "parse error",
    -32600: "invalid request",
    -32601: "method not found",
    -32602: "invalid params",
    -32603: "internal error",
    -32002: "server not initialized",
    -32800: "request cancelled",
    -32801: "content modified",
    -32803: "request failed",
}
_MAX_MESSAGE = 500
_SECRET_SHAPES = re.compile(
    r"\b(?:sk|pk|rk|ghp|gho|ghs|xox[abp])[-_][A-Za-z0-9_-]{8,}|Bearer\s+[A-Za-z0-9._~+/=-]{8,}"
)


class Redactor(secrets.Redactor):
    """The protocol's redactor: own secrets and key shapes become ``***``.

    The server's secrets come from its environment; errors and logs get both, outgoing
    frames only the exact values.
    """

    def __init__(self, env: Mapping[str, str] = {}) -> None:  # noqa: B006 - read only
        super().__init__(
            secret_values_from_env(env),
            mask="***",
            shapes=(_SECRET_SHAPES, *PROMPT_SHAPES),
            assignments=False,
        )


def _deliberate(error: JsonRpcException) -> bool:
    """Whether ``error`` was raised on purpose with a message meant for the user."""
    cause = error.__cause__
    return cause is None or isinstance(cause, SmallCodeError | JsonRpcException)


def public_error(error: BaseException, redact: Redactor) -> ResponseError:
    """The JSON-RPC error the client may see for ``error`` (never a traceback)."""
    if isinstance(error, JsonRpcException) and error.code != -32603 and _deliberate(error):
        message = redact(str(error.message or ""))[:_MAX_MESSAGE]
        return ResponseError(code=error.code, message=message or _generic(error.code))
    code = error.code if isinstance(error, JsonRpcException) else -32603
    return ResponseError(code=code, message=f"{_generic(code)} (ref {internal_error(error)})")


def _generic(code: int) -> str:
    return GENERIC_MESSAGES.get(code, "request failed")


class _Bucket:
    """A token bucket: ``burst`` events at once, ``rate`` per second after that."""

    def __init__(self, burst: float, rate: float) -> None:
        self.burst, self.rate = burst, rate
        self.tokens = burst
        self.stamp = time.monotonic()
        self.dropped = 0

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.dropped += 1
        return False


_tracebacks = _Bucket(burst=10, rate=0.2)


def internal_error(error: BaseException) -> str:
    """Log ``error`` with its traceback (rate-limited); return a reference for the client."""
    ref = tokens.token_hex(4)
    if _tracebacks.take():
        logger.error("internal error ref %s", ref, exc_info=error)
    else:
        logger.error("internal error ref %s: %s", ref, type(error).__name__)
    return ref


class LogBudget(logging.Filter):
    """Masks secrets in every record; bounds what input-driven records cost.

    Records from pygls and the protocol layer's ``noisy`` loggers describe client
    input: they are cut to one short line without traceback and, past a burst,
    dropped (the next record that passes says how many were dropped).
    """

    def __init__(
        self,
        redact: Redactor | None = None,
        noisy: Iterable[str] = ("pygls", "smallcode_ls.protocol", "smallcode_ls.documents"),
    ) -> None:
        super().__init__()
        self.redact = redact or Redactor()
        self.noisy = tuple(noisy)
        self._bucket = _Bucket(burst=50, rate=5)
        self._limit = 300

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask, shorten or drop a record; True when it should be emitted."""
        verdict = getattr(record, "budgeted", None)
        if verdict is not None:  # already judged by the filter of another handler
            return bool(verdict)
        if not record.name.startswith(self.noisy):
            record.budgeted = True
            with contextlib.suppress(Exception):  # a broken record is logging's to report
                _mask(record, self.redact)
            return True
        dropped = self._bucket.dropped
        passed = self._bucket.take()
        record.budgeted = passed
        if not passed:
            return False
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}]"
        if len(text) > self._limit:
            text = text[: self._limit] + f"... ({len(text)} chars)"
        if dropped:
            self._bucket.dropped = 0
            text += f" ({dropped} similar records suppressed)"
        record.msg, record.args = self.redact(text), None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def _mask(record: logging.LogRecord, redactor: Redactor) -> None:
    """Replace the server's secrets in a record's message and traceback."""
    record.msg, record.args = redactor(record.getMessage()), None
    if record.exc_info and record.exc_info[1] is not None:
        formatted = "".join(traceback.format_exception(*record.exc_info))
        record.exc_text = redactor(formatted.rstrip("\n"))
        record.exc_info = None
