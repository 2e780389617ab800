"""Keep open buffers' graph entries current without blocking the event loop.

Every change submits the newest snapshot; one worker thread re-parses buffers
in order, always jumping to the newest snapshot of a document (intermediate
versions are skipped). Readers ``await current(uri)`` to get symbols that match
the latest submitted version.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.symbols import FileSymbols

__all__ = ["LiveGraph"]

logger = logging.getLogger(__name__)


class LiveGraph:
    """Per-document update queue in front of a :class:`WorkspaceIndex`."""

    def __init__(self, index: WorkspaceIndex) -> None:
        self.index = index
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-update")
        self._latest: dict[str, DocumentSnapshot] = {}
        self._done: dict[str, tuple[int | None, FileSymbols | None]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def submit(self, snapshot: DocumentSnapshot) -> None:
        """Schedule a re-parse of ``snapshot`` (cheap; returns at once)."""
        self._latest[snapshot.uri] = snapshot
        task = self._tasks.get(snapshot.uri)
        if task is None or task.done():
            self._tasks[snapshot.uri] = asyncio.get_running_loop().create_task(
                self._drain(snapshot.uri)
            )

    async def _drain(self, uri: str) -> None:
        loop = asyncio.get_running_loop()
        while (snapshot := self._latest.get(uri)) is not None:
            done = self._done.get(uri)
            if done is not None and done[0] == snapshot.version and snapshot.version is not None:
                return
            try:
                symbols = await loop.run_in_executor(
                    self._executor, self.index.update_document, snapshot
                )
            except Exception:
                logger.exception("graph update of %s failed", uri)
                symbols = None
            self._done[uri] = (snapshot.version, symbols)
            if self._latest.get(uri) is snapshot:
                return

    async def current(self, uri: str) -> FileSymbols | None:
        """Symbols of the newest submitted version of ``uri`` (waits for its re-parse)."""
        task = self._tasks.get(uri)
        if task is not None and not task.done():
            await asyncio.shield(task)
        done = self._done.get(uri)
        return done[1] if done else None

    def forget(self, snapshot: DocumentSnapshot) -> None:
        """Drop a closed document; the index falls back to the disk copy."""
        self._latest.pop(snapshot.uri, None)
        self._done.pop(snapshot.uri, None)
        task = self._tasks.pop(snapshot.uri, None)
        if task is not None:
            task.cancel()
        self._executor.submit(self.index.close_document, snapshot)

    def shutdown(self) -> None:
        """Stop the worker thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
