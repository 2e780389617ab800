"""Parse many files on disk into symbols, in worker processes for big workspaces.

Runs off the event loop: the caller hands it to a thread, and the thread fans the
files out to a process pool (tree-sitter parsing is CPU-bound and holds the GIL).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_file_symbols
from smallcode_ls.graph.scan import is_indexable_source
from smallcode_ls.graph.symbols import FileSymbols

__all__ = ["parse_files", "parse_path", "shutdown_pools"]

logger = logging.getLogger(__name__)

_BATCH = 48
_IN_PROCESS_LIMIT = 400
_live_pools: set[ProcessPoolExecutor] = set()


def parse_path(path: str) -> FileSymbols | None:
    """Read and parse one file; None when it is unreadable, binary or not a source file."""
    spec = language_for_path(path)
    if spec is None:
        return None
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError:
        return None
    if not is_indexable_source(source[:8192]):
        return None
    return parse_file_symbols(spec, source, path)


def _parse_batch(paths: Sequence[str]) -> list[tuple[str, FileSymbols | None]]:
    return [(path, parse_path(path)) for path in paths]


def _batches(paths: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(paths), _BATCH):
        yield paths[start : start + _BATCH]


def parse_files(
    paths: Sequence[str],
    on_batch: Callable[[list[tuple[str, FileSymbols | None]]], None],
    cancelled: Callable[[], bool],
    workers: int | None = None,
) -> None:
    """Parse ``paths``, handing each finished batch to ``on_batch`` (in completion order)."""
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if workers <= 1 or len(paths) <= _IN_PROCESS_LIMIT:
        for batch in _batches(paths):
            if cancelled():
                return
            on_batch(_parse_batch(batch))
        return
    done: set[str] = set()
    try:
        _parse_in_pool(paths, workers, on_batch, cancelled, done)
    except BrokenProcessPool:
        # Workers re-import __main__; a host program that cannot be re-imported (a script
        # fed on stdin, an embedded interpreter) breaks the pool: finish in-process.
        logger.warning("index workers failed to start; indexing in-process instead")
        parse_files([p for p in paths if p not in done], on_batch, cancelled, workers=1)


def _parse_in_pool(
    paths: Sequence[str],
    workers: int,
    on_batch: Callable[[list[tuple[str, FileSymbols | None]]], None],
    cancelled: Callable[[], bool],
    done: set[str],
) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        _live_pools.add(pool)
        try:
            _collect(pool, paths, on_batch, cancelled, done)
        finally:
            _live_pools.discard(pool)


def _collect(
    pool: ProcessPoolExecutor,
    paths: Sequence[str],
    on_batch: Callable[[list[tuple[str, FileSymbols | None]]], None],
    cancelled: Callable[[], bool],
    done: set[str],
) -> None:
    futures: list[Future[list[tuple[str, FileSymbols | None]]]] = [
        pool.submit(_parse_batch, batch) for batch in _batches(paths)
    ]
    for future in as_completed(futures):
        if cancelled():
            for pending in futures:
                pending.cancel()
            return
        batch = future.result()
        done.update(path for path, _ in batch)
        on_batch(batch)


def shutdown_pools() -> None:
    """At server exit: drop queued batches and terminate the index worker processes."""
    for pool in list(_live_pools):
        _live_pools.discard(pool)
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()
