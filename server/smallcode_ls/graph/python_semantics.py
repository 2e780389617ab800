"""Python name resolution with jedi, for cases tree-sitter alone cannot decide.

Runs in a worker thread (jedi is slow on first use of a module); positions are
1-based lines and code-point columns, as jedi wants them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import jedi

__all__ = ["JediResolver", "ResolvedName"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResolvedName:
    """Where jedi says a name is defined (0-based line, code-point column)."""

    path: str
    line: int
    column: int
    name: str
    line_text: str


class JediResolver:
    """One jedi project per workspace root; resolves names in snapshot text."""

    def __init__(self, root: Path | None) -> None:
        self._project = jedi.Project(str(root)) if root is not None else None
        # The server's own interpreter, in-process: jedi's default would start a
        # subprocess, of a workspace virtualenv's python if VIRTUAL_ENV names one
        # (repository code, before any trust). Compiled extensions inside the workspace
        # are not loaded (jedi's load_unsafe_extensions stays False).
        self._environment = jedi.InterpreterEnvironment()

    def warm(self, text: str, path: Path | None) -> None:
        """Parse a freshly opened module ahead of the first request (jedi caches the tree)."""
        try:
            jedi.Script(code=text, path=path, project=self._project, environment=self._environment)
        except Exception:  # warming is best effort
            logger.debug("jedi could not parse %s", path, exc_info=True)

    def definitions(
        self, text: str, path: Path | None, line: int, column: int
    ) -> list[ResolvedName]:
        """Resolve the name at (0-based line, code-point column) to its definitions."""
        try:
            script = jedi.Script(
                code=text, path=path, project=self._project, environment=self._environment
            )
            names = script.goto(line + 1, column, follow_imports=True)
        except Exception:  # jedi raises assorted errors on odd code; never fatal
            logger.debug("jedi could not resolve %s:%s:%s", path, line, column, exc_info=True)
            return []
        resolved = []
        for name in names:
            if name.module_path is None or name.line is None or name.column is None:
                continue
            resolved.append(
                ResolvedName(
                    str(name.module_path),
                    name.line - 1,
                    name.column,
                    name.name,
                    name.get_line_code().rstrip("\r\n"),
                )
            )
        return resolved
