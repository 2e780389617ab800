"""Ground truth: cross-file function/class definitions the original body references.

Primary engine: jedi `Script.goto(follow_imports=True)` (project venv). Independent engine:
pyrefly's LSP `textDocument/definition` over stdio (its own venv). Both engines' answers are
mapped through the same `ast` index (a location on a def/class header line of an in-repo
`.py` file other than the target's) so they are directly comparable.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jedi

from .lsp import LspClient
from .pysrc import FileFacts, Target, body_references

GtItem = tuple[str, str, str, int]  # (rel path, name, kind, def line)


class DefIndex:
    """Lazily parsed def/class facts of every repo file, keyed by relative path."""

    def __init__(self, root: Path, load: Callable[[str], FileFacts | None]) -> None:
        self.root = root.resolve()
        self._load = load

    def rel(self, path: str | Path) -> str | None:
        try:
            rel = Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None
        return rel if rel.endswith(".py") else None

    def lookup(self, path: str | Path, line: int, ref: str = "") -> GtItem | None:
        """The def/class whose header holds `line`. A constructor reached from a reference
        to another name (`Cls(...)` landing on `Cls.__init__`) counts as its class, so both
        engines' conventions agree."""
        rel = self.rel(path)
        if rel is None:
            return None
        ff = self._load(rel)
        if ff is None:
            return None
        d = ff.by_line.get(line)
        if d is None:
            return None
        if d.name in ("__init__", "__new__") and ref != d.name and d.parent:
            # `Cls(...)` resolved to a constructor (maybe an inherited one): count the class
            # the code named, when this file defines it; otherwise the constructor's class
            named = [c for c in ff.defs if c.kind == "class" and c.name == ref]
            owner = [c for c in ff.defs if c.kind == "class" and c.line < d.line <= c.end_line
                     and c.name == d.parent.rsplit(".", 1)[-1]]  # fmt: skip
            if named or owner:
                d = (named or owner)[0]
        # one identity per (name, kind) in a file, e.g. for conditional or overloaded defs
        d = next(c for c in ff.defs if c.name == d.name and c.kind == d.kind)
        return (rel, d.name, d.kind, d.line)


class JediGT:
    def __init__(self, root: Path, index: DefIndex) -> None:
        self.project = jedi.Project(path=str(root))
        self.root = root
        self.index = index
        self.seconds = 0.0
        self._script: tuple[str, jedi.Script] | None = None

    def _get_script(self, rel: str, text: str) -> jedi.Script:
        if self._script is None or self._script[0] != rel:
            path = self.root / rel
            self._script = (rel, jedi.Script(code=text, path=str(path), project=self.project))
        return self._script[1]

    def defs(self, text: str, t: Target) -> set[GtItem]:
        t0 = time.perf_counter()
        script = self._get_script(t.rel, text)
        out: set[GtItem] = set()
        for line, col, ref in body_references(text, t):
            try:
                names = script.goto(line, col, follow_imports=True)
            except Exception:  # noqa: BLE001 - jedi internal errors on odd code
                continue
            for n in names:
                if (
                    n.module_path is None
                    or n.line is None
                    or n.type not in ("function", "class", "property")
                ):
                    continue
                item = self.index.lookup(n.module_path, n.line, ref)
                if item is not None and item[0] != t.rel:
                    out.add(item)
        self.seconds += time.perf_counter() - t0
        return out


def _utf16(line: str, col: int) -> int:
    return len(line[:col].encode("utf-16-le")) // 2


class PyreflyGT:
    """pyrefly `lsp` driven over stdio; one server per project, files opened as needed."""

    def __init__(self, exe: Path, root: Path, index: DefIndex, log: Path) -> None:
        self.root = root.resolve()
        self.index = index
        self.seconds = 0.0
        self.errors = 0
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("wb")
        self.client = LspClient([str(exe.resolve()), "lsp"], cwd=self.root, stderr=self._log)
        uri = self.root.as_uri()
        caps: dict[str, Any] = {
            "textDocument": {"definition": {"linkSupport": True}},
            "workspace": {"configuration": True, "workspaceFolders": True},
        }
        self.client.request(
            "initialize",
            {"processId": None, "rootUri": uri, "capabilities": caps,
             "workspaceFolders": [{"uri": uri, "name": self.root.name}]},
            timeout=120,
        )  # fmt: skip
        self.client.notify("initialized", {})
        self._open: set[str] = set()

    def defs(self, text: str, t: Target) -> set[GtItem]:
        t0 = time.perf_counter()
        uri = (self.root / t.rel).as_uri()
        if t.rel not in self._open:
            self._open.add(t.rel)
            self.client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
            )
        lines = text.splitlines()
        out: set[GtItem] = set()
        for line, col, ref in body_references(text, t):
            pos = {"line": line - 1, "character": _utf16(lines[line - 1], col)}
            try:
                res = self.client.request(
                    "textDocument/definition", {"textDocument": {"uri": uri}, "position": pos}
                )
            except (RuntimeError, TimeoutError, Exception):  # noqa: BLE001
                self.errors += 1
                continue
            if res is None:
                continue
            for loc in res if isinstance(res, list) else [res]:
                if not isinstance(loc, dict):
                    continue
                target_uri = loc.get("targetUri") or loc.get("uri")
                rng = loc.get("targetSelectionRange") or loc.get("range")
                if not target_uri or not target_uri.startswith("file://") or rng is None:
                    continue
                path = unquote(urlparse(target_uri).path)
                item = self.index.lookup(path, int(rng["start"]["line"]) + 1, ref)
                if item is not None and item[0] != t.rel:
                    out.add(item)
        self.seconds += time.perf_counter() - t0
        return out

    def close(self) -> None:
        self.client.close()
        self._log.close()


def pyrefly_version(exe: Path) -> str:
    res = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    return res.stdout.strip() or res.stderr.strip()
