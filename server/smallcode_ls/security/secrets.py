"""Secrets never leave: redaction of known values and of secret-looking text.

Applied at the points where text leaves the server: every model request body (local
or hosted: the prompt is built from repository text, and a key in source is no more
use to a local model than to a cloud one), log records, memory rows. Secret files
(``.env*``, keys, credentials) are never read into context at all: see
:func:`smallcode_ls.security.paths.is_secret_file`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["PROMPT_SHAPES", "REDACTED", "Redactor", "restore", "secret_values_from_env"]

REDACTED = "[REDACTED]"

# Shapes of real credentials, for prompts (narrow: an identifier in code must survive).
PROMPT_SHAPES = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"),
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b"),  # OpenAI / Anthropic style keys
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),  # Hugging Face
    re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"),
)
# name = "value" where the name says secret: keep the name, drop the value.
_ASSIGNED = re.compile(
    r"""(?ix)
    (?P<name>\b[\w.-]*(?:secret|passw(?:or)?d|api[_-]?key|access[_-]?key|token|private[_-]?key)
       [\w.-]*)
    (?P<sep>["']?\s*[:=]\s*)
    (?P<quote>["'])(?P<value>[^"'\s]{8,})(?P=quote)
    """
)
# A variable whose name has a segment like KEY, TOKEN or PASSWORD (not KEYBOARD_LAYOUT).
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)(?:$|_)", re.IGNORECASE
)


def _secret_like(value: str) -> bool:
    """Long enough to be a credential and not a path (``SSH_AUTH_SOCK``-style values)."""
    return len(value) >= 8 and not value.startswith(("/", "~", "."))


def secret_values_from_env(env: Mapping[str, str], names: Iterable[str] = ()) -> list[str]:
    """Values to scrub: the named variables (API keys) and any secret-named variable."""
    values = [env[name] for name in names if env.get(name)]
    values += [value for name, value in env.items() if _SECRET_NAME.search(name)]
    return sorted({v for v in values if _secret_like(v)}, key=len, reverse=True)


class Redactor:
    """Replaces known secret values and secret-shaped text with a mask.

    The one redactor of the server: prompts (``[REDACTED-SECRET-n]`` placeholders,
    see :meth:`scrub`), memory notes, and, with the protocol's ``***`` mask and shapes,
    log records, error messages and outgoing frames (``lsp/sanitize.py``).
    """

    def __init__(
        self,
        known: Iterable[str] = (),
        mask: str = REDACTED,
        shapes: Iterable[re.Pattern[str]] = PROMPT_SHAPES,
        assignments: bool = True,
    ) -> None:
        self.values = sorted({value for value in known if len(value) >= 8}, key=len, reverse=True)
        self._mask = mask
        self._shapes = tuple(shapes)
        self._assignments = assignments

    def __call__(self, text: str, shapes: bool = True) -> str:
        """The text with every secret masked; ``shapes=False``: only the known values.

        ``shapes=False`` is for content such as an edit, where a key-shaped identifier
        in the user's code must pass unchanged.
        """
        if not shapes:
            for value in self.values:
                text = text.replace(value, self._mask)
            return text
        return self.scrub(text, None)

    def scrub(self, text: str, table: dict[str, str] | None) -> str:
        """Replace secrets; with a ``table``, by numbered placeholders it records.

        The table maps each placeholder back to its secret, so :func:`restore` can put
        the secrets back into a model's answer before the answer becomes an edit (a
        function holding a key is not rewritten with the placeholder in its place).
        """

        def hide(secret: str) -> str:
            if table is None:
                return self._mask
            for placeholder, known in table.items():
                if known == secret:
                    return placeholder
            placeholder = f"[REDACTED-SECRET-{len(table) + 1}]"
            table[placeholder] = secret
            return placeholder

        for value in self.values:
            if value in text:
                text = text.replace(value, hide(value))
        for pattern in self._shapes:
            text = pattern.sub(lambda m: hide(m[0]), text)
        if not self._assignments:
            return text
        return _ASSIGNED.sub(
            lambda m: f"{m['name']}{m['sep']}{m['quote']}{hide(m['value'])}{m['quote']}", text
        )


def restore(text: str, table: Mapping[str, str]) -> str:
    """Put the secrets recorded by :meth:`Redactor.scrub` back in place of their placeholders."""
    for placeholder, secret in table.items():
        text = text.replace(placeholder, secret)
    return text
