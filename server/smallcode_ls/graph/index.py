"""The workspace code graph: symbols of every source file, open buffers first.

Files on disk are indexed once (warm from the on-disk cache when possible);
open buffers are re-parsed incrementally on every change and override the disk
copy of the same path. Readers may query while indexing is under way: they see
the files indexed so far. All mutation happens under one lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Tree

from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.graph.build import parse_files, parse_path
from smallcode_ls.graph.cache import CacheEntry, SymbolCache
from smallcode_ls.graph.extract import extend_words, extract_file_symbols
from smallcode_ls.graph.languages import language_for_id
from smallcode_ls.graph.parser import IncrementalParse
from smallcode_ls.graph.scan import scan_workspace
from smallcode_ls.graph.symbols import FileSymbols, Symbol

__all__ = ["IndexStats", "SymbolHit", "WorkspaceIndex"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
_SMALL_EDIT_BYTES = 4096


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What one workspace indexing run did."""

    files: int
    symbols: int
    from_cache: int
    parsed: int
    seconds: float
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class SymbolHit:
    """A symbol found in the graph, with the file facts needed to locate it."""

    file: FileSymbols
    index: int

    @property
    def symbol(self) -> Symbol:
        """The symbol itself."""
        return self.file.symbols[self.index]

    @property
    def container(self) -> str:
        """Dotted name of the enclosing symbol ('' at top level)."""
        parent = self.symbol.parent
        return self.file.qualified_name(parent) if parent >= 0 else ""


def _document_key(snapshot: DocumentSnapshot) -> str:
    path = snapshot.path
    return str(path) if path is not None else snapshot.uri


@dataclass(slots=True)
class _OpenBuffer:
    parse: IncrementalParse
    version: int | None
    symbols: FileSymbols


class WorkspaceIndex:
    """Symbols by file for one workspace root (or none: open buffers only)."""

    def __init__(
        self,
        root: Path | None,
        *,
        max_file_bytes: int = 1_000_000,
        cache: SymbolCache | None = None,
        workers: int | None = None,
    ) -> None:
        self.root = root.resolve() if root is not None else None
        self.max_file_bytes = max_file_bytes
        self._cache = cache
        self._workers = workers
        self._lock = threading.Lock()
        self._disk: dict[str, CacheEntry] = {}
        self._open: dict[str, _OpenBuffer] = {}
        self.ready = threading.Event()
        self.version = 0  # bumped on every change: lets readers cache derived tables

    # -- workspace on disk ---------------------------------------------------------------

    def build(
        self, progress: ProgressCallback | None = None, cancelled: Callable[[], bool] = bool
    ) -> IndexStats:
        """Index every source file under the root; reuse cached entries that are unchanged."""
        started = time.perf_counter()
        if self.root is None:
            self.ready.set()
            return IndexStats(0, 0, 0, 0, 0.0)
        scanned = list(scan_workspace(self.root, self.max_file_bytes))
        cached = self._cache.load() if self._cache else {}
        fresh: dict[str, CacheEntry] = {}
        to_parse: dict[str, tuple[int, int]] = {}
        for item in scanned:
            hit = cached.get(item.path)
            if hit is not None and hit[0] == item.mtime_ns and hit[1] == item.size:
                fresh[item.path] = hit
            else:
                to_parse[item.path] = (item.mtime_ns, item.size)
        with self._lock:
            self._disk = dict(fresh)
            self.version += 1
        done = len(fresh)
        total = len(scanned)
        if progress:
            progress(done, total)

        def on_batch(batch: list[tuple[str, FileSymbols | None]]) -> None:
            nonlocal done
            entries = {
                path: (*to_parse[path], symbols) for path, symbols in batch if symbols is not None
            }
            with self._lock:
                self._disk.update(entries)
                self.version += 1
            done += len(batch)
            if progress:
                progress(done, total)

        parse_files(list(to_parse), on_batch, cancelled, self._workers)
        if to_parse and self._cache and not cancelled():
            with self._lock:
                snapshot = dict(self._disk)
            self._cache.save(snapshot)
        self.ready.set()
        with self._lock:
            files = len(self._disk)
            symbols = sum(len(entry[2].symbols) for entry in self._disk.values())
        return IndexStats(
            files,
            symbols,
            len(fresh),
            len(to_parse),
            time.perf_counter() - started,
            cancelled=cancelled(),
        )

    def refresh_path(self, path: str) -> None:
        """Re-read one file from disk (after a save or a watched-file event)."""
        try:
            stat = Path(path).stat()
        except OSError:
            with self._lock:
                self._disk.pop(path, None)
                self.version += 1
            return
        symbols = parse_path(path) if stat.st_size <= self.max_file_bytes else None
        with self._lock:
            self.version += 1
            if symbols is None:
                self._disk.pop(path, None)
            else:
                self._disk[path] = (stat.st_mtime_ns, stat.st_size, symbols)

    # -- open buffers ------------------------------------------------------------------------

    def update_document(self, snapshot: DocumentSnapshot) -> FileSymbols | None:
        """Re-parse an open buffer (incrementally) and let it override the disk copy."""
        key = _document_key(snapshot)
        buffer = self._open.get(key)
        if buffer is None:
            spec = language_for_id(snapshot.language_id, key)
            if spec is None:
                return None
            empty = FileSymbols(key, spec.name, (), (), " ")
            buffer = _OpenBuffer(IncrementalParse(spec), None, empty)
        source = snapshot.text.encode("utf-8", "surrogatepass")
        tree = buffer.parse.update(source)
        words = None
        changed = buffer.parse.changed
        if changed is not None and changed[1] - changed[0] <= _SMALL_EDIT_BYTES:
            # Typing: extend the previous words with the edited region's (a superset).
            region = source[max(0, changed[0] - 64) : changed[1] + 64]
            words = extend_words(buffer.symbols.words, region)
        buffer.symbols = extract_file_symbols(tree, source, buffer.parse.spec, key, words)
        buffer.version = snapshot.version
        with self._lock:
            self._open[key] = buffer
            self.version += 1
        return buffer.symbols

    def buffer_tree(self, snapshot: DocumentSnapshot) -> tuple[Tree, bytes] | None:
        """The live syntax tree of an open buffer, if it is at ``snapshot``'s version."""
        with self._lock:
            buffer = self._open.get(_document_key(snapshot))
        if buffer is None or buffer.version != snapshot.version or buffer.parse.tree is None:
            return None
        return buffer.parse.tree, buffer.parse.source

    def close_document(self, snapshot: DocumentSnapshot) -> None:
        """Drop an open buffer; the disk copy (re-read now) takes over again."""
        key = _document_key(snapshot)
        with self._lock:
            self._open.pop(key, None)
            self.version += 1
        if snapshot.path is not None and key in self._disk:
            self.refresh_path(key)

    # -- queries -------------------------------------------------------------------------------

    def file_symbols(self, path: str) -> FileSymbols | None:
        """Symbols of one file; an open buffer wins over the disk copy."""
        with self._lock:
            if (buffer := self._open.get(path)) is not None:
                return buffer.symbols
            entry = self._disk.get(path)
        return entry[2] if entry else None

    def all_files(self) -> list[FileSymbols]:
        """Every indexed file, open buffers overriding disk."""
        with self._lock:
            files = {path: entry[2] for path, entry in self._disk.items()}
            files.update((path, buffer.symbols) for path, buffer in self._open.items())
        return list(files.values())

    def search(self, query: str, limit: int = 200) -> list[SymbolHit]:
        """Symbols whose name contains ``query`` (case-insensitive); exact and prefix first."""
        needle = query.lower()
        ranked: list[tuple[int, str, SymbolHit]] = []
        for file in self.all_files():
            for index, symbol in enumerate(file.symbols):
                lowered = symbol.name.lower()
                if needle not in lowered:
                    continue
                rank = 0 if lowered == needle else 1 if lowered.startswith(needle) else 2
                ranked.append((rank, symbol.name, SymbolHit(file, index)))
        ranked.sort(key=lambda item: (item[0], len(item[1]), item[1], item[2].file.path))
        return [hit for _, _, hit in ranked[:limit]]

    def definitions_named(self, name: str) -> list[SymbolHit]:
        """Every definition whose name is exactly ``name``."""
        return [
            SymbolHit(file, index)
            for file in self.all_files()
            for index, symbol in enumerate(file.symbols)
            if symbol.name == name
        ]

    def files_using(self, name: str) -> list[str]:
        """Reverse references: the files that mention ``name``."""
        return sorted(file.path for file in self.all_files() if file.uses(name))
