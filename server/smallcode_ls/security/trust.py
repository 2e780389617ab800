"""Workspace trust: a user-level fact, never something a repository can claim.

Before a workspace is trusted SmallCode runs no repository code: no validation
command, no git, no interpreter from the workspace; and workspace-level settings that
name endpoints, keys, commands or permissions are ignored. Trust comes from the
editor (VS Code forwards ``workspace.isTrusted``), from the user-level store (Neovim
and headless: ``smallcode.trustWorkspace`` or ``--trust``), never from a file in the
repository. The store also keeps the standing approvals of named validation
commands, each bound to the digest of exactly what it runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TrustStore", "WorkspaceTrust", "default_store_path"]


def default_store_path(env: Mapping[str, str]) -> Path:
    """``trust.json`` in ``$SMALLCODE_DATA_DIR``, else ``$XDG_DATA_HOME/smallcode-ls``."""
    if env.get("SMALLCODE_DATA_DIR"):
        return Path(env["SMALLCODE_DATA_DIR"]) / "trust.json"
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "smallcode-ls" / "trust.json"


def _key(root: Path) -> str:
    return os.path.realpath(root)


class TrustStore:
    """The user-level JSON file of trusted roots and their approved commands."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        roots = data.get("roots") if isinstance(data, dict) else None
        return roots if isinstance(roots, dict) else {}

    def _write(self, roots: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".trust-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"version": 1, "roots": roots}, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def _entry(self, root: Path) -> dict[str, Any]:
        entry = self._read().get(_key(root))
        return entry if isinstance(entry, dict) else {}

    def is_trusted(self, root: Path) -> bool:
        """Whether the user trusted this root."""
        return self._entry(root).get("trusted") is True

    def trust(self, root: Path) -> None:
        """Record that the user trusts this root."""
        with self._lock:
            roots = self._read()
            entry = roots.setdefault(_key(root), {})
            entry["trusted"] = True
            self._write(roots)

    def is_approved(self, root: Path, name: str, digest: str) -> bool:
        """Whether the named command, exactly as digested, has a standing approval here."""
        approved = self._entry(root).get("approved")
        return isinstance(approved, dict) and approved.get(name) == digest

    def approve(self, root: Path, name: str, digest: str) -> None:
        """Store a standing approval of the named command (bound to its digest)."""
        with self._lock:
            roots = self._read()
            entry = roots.setdefault(_key(root), {})
            approved = entry.get("approved")
            entry["approved"] = {**(approved if isinstance(approved, dict) else {}), name: digest}
            self._write(roots)


@dataclass(slots=True)
class WorkspaceTrust:
    """One session's trust decision: who decided, and the store behind it."""

    root: Path | None
    store: TrustStore
    trusted: bool = False
    source: str = "default (untrusted)"
    once: set[str] = field(default_factory=set)  # approvals for this session only

    @classmethod
    def resolve(
        cls, root: Path | None, store: TrustStore, client_says: bool | None
    ) -> WorkspaceTrust:
        """The editor's word when it gives one, else the user-level store."""
        if root is None:
            return cls(root, store, False, "no workspace folder")
        if client_says is not None:
            return cls(root, store, client_says, "the editor's workspace trust")
        if store.is_trusted(root):
            return cls(root, store, True, f"the trust store ({store.path})")
        return cls(root, store)

    def grant(self, persist: bool, source: str) -> None:
        """Trust this workspace from now on (and remember it when ``persist``)."""
        if self.root is None:
            return
        self.trusted = True
        self.source = source
        if persist:
            self.store.trust(self.root)
