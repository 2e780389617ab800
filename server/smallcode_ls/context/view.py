"""Tables derived from the code graph, rebuilt only when the index changes."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from smallcode_ls.context.modules import ModuleMap
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.symbols import FileSymbols

__all__ = ["GraphView", "GraphViews"]


@dataclass(frozen=True, slots=True)
class GraphView:
    """Module map and top-level names of one index version."""

    version: int
    modules: ModuleMap
    top_level: dict[str, list[str]]  # definition name -> files defining it at top level
    files: dict[str, FileSymbols]
    members: dict[str, list[tuple[str, str]]]  # member name -> (file, top-level class)

    def unique_definition(self, name: str) -> str | None:
        """The one file defining ``name`` at top level, if exactly one does."""
        paths = self.top_level.get(name)
        return paths[0] if paths and len(paths) == 1 else None


class GraphViews:
    """Cache of the latest :class:`GraphView` of an index (thread-safe)."""

    def __init__(self, index: WorkspaceIndex) -> None:
        self._index = index
        self._lock = threading.Lock()
        self._view: GraphView | None = None

    def current(self) -> GraphView:
        """The view of the index as it is now (built on first use after a change)."""
        with self._lock:
            version = self._index.version
            if self._view is None or self._view.version != version:
                files = self._index.all_files()
                top: dict[str, list[str]] = {}
                members: dict[str, list[tuple[str, str]]] = {}
                for file in files:
                    for symbol in file.symbols:
                        if symbol.parent == -1:
                            top.setdefault(symbol.name, []).append(file.path)
                        elif file.symbols[symbol.parent].parent == -1:
                            owner = file.symbols[symbol.parent].name
                            members.setdefault(symbol.name, []).append((file.path, owner))
                self._view = GraphView(
                    version, ModuleMap(files), top, {file.path: file for file in files}, members
                )
            return self._view
