"""Secrets never leave: redaction of known values and of secret-looking text.

Applied at the points where text leaves the server: every model request body (local
or hosted: the prompt is built from repository text, and a key in source is no more
use to a local model than to a cloud one), log records, memory rows. Secret files
(``.env*``, keys, credentials) are never read into context at all: see
:func:`smallcode_ls.security.paths.is_secret_file`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

__all__ = ["REDACTED", "RedactingFilter", "Redactor", "restore", "secret_values_from_env"]

REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"),
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b"),  # OpenAI / Anthropic style keys
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),  # Hugging Face
]
# name = "value" where the name says secret: keep the name, drop the value.
_ASSIGNED = re.compile(
    r"""(?ix)
    (?P<name>\b[\w.-]*(?:secret|passw(?:or)?d|api[_-]?key|access[_-]?key|token|private[_-]?key)
       [\w.-]*)
    (?P<sep>["']?\s*[:=]\s*)
    (?P<quote>["'])(?P<value>[^"'\s]{8,})(?P=quote)
    """
)
_SECRET_ENV = re.compile(r"(?i)(key|secret|token|passw|credential|auth)")


def secret_values_from_env(env: Mapping[str, str], names: Iterable[str] = ()) -> list[str]:
    """Values to scrub: the named variables (API keys) and any secret-looking variable."""
    values = [env[name] for name in names if env.get(name)]
    values += [value for name, value in env.items() if _SECRET_ENV.search(name)]
    return sorted({value for value in values if len(value) >= 8}, key=len, reverse=True)


class Redactor:
    """Replaces known secret values and secret-looking text with ``[REDACTED]``."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._known = sorted({value for value in known if len(value) >= 8}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """The text with every secret replaced by ``[REDACTED]`` (logs, memory rows)."""
        return self.scrub(text, None)

    def scrub(self, text: str, table: dict[str, str] | None) -> str:
        """Replace secrets; with a ``table``, by numbered placeholders it records.

        The table maps each placeholder back to its secret, so :func:`restore` can put
        the secrets back into a model's answer before the answer becomes an edit (a
        function holding a key is not rewritten with the placeholder in its place).
        """

        def hide(secret: str) -> str:
            if table is None:
                return REDACTED
            for placeholder, known in table.items():
                if known == secret:
                    return placeholder
            placeholder = f"[REDACTED-SECRET-{len(table) + 1}]"
            table[placeholder] = secret
            return placeholder

        for value in self._known:
            if value in text:
                text = text.replace(value, hide(value))
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: hide(m[0]), text)
        return _ASSIGNED.sub(
            lambda m: f"{m['name']}{m['sep']}{m['quote']}{hide(m['value'])}{m['quote']}", text
        )


def restore(text: str, table: Mapping[str, str]) -> str:
    """Put the secrets recorded by :meth:`Redactor.scrub` back in place of their placeholders."""
    for placeholder, secret in table.items():
        text = text.replace(placeholder, secret)
    return text


class RedactingFilter(logging.Filter):
    """A log filter that scrubs secrets from every record's rendered message."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, scrubbed; never drops a record."""
        message = record.getMessage()
        cleaned = self._redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
