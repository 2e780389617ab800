"""LiveGraph: updates run off the loop, readers see the newest submitted version."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.live import LiveGraph


async def test_readers_get_symbols_of_the_newest_version_after_a_burst_of_changes(
    tmp_path: Path,
) -> None:
    index = WorkspaceIndex(None)
    live = LiveGraph(index)
    uri = (tmp_path / "a.py").as_uri()
    for version in range(1, 30):
        live.submit(DocumentSnapshot(uri, version, f"def f{version}():\n    pass\n", "python"))
    symbols = await live.current(uri)
    assert symbols is not None
    assert [s.name for s in symbols.symbols] == ["f29"]
    live.shutdown()


async def test_updates_do_not_run_on_the_event_loop_thread(tmp_path: Path) -> None:
    seen: list[str] = []

    class Recording(WorkspaceIndex):
        def update_document(self, snapshot: DocumentSnapshot):  # type: ignore[no-untyped-def]
            seen.append(threading.current_thread().name)
            return super().update_document(snapshot)

    live = LiveGraph(Recording(None))
    uri = (tmp_path / "a.py").as_uri()
    live.submit(DocumentSnapshot(uri, 1, "x = 1\n", "python"))
    await live.current(uri)
    assert seen and all(name.startswith("graph-update") for name in seen)
    assert threading.current_thread().name not in seen
    live.shutdown()


async def test_an_unknown_language_yields_no_symbols_and_no_error(tmp_path: Path) -> None:
    live = LiveGraph(WorkspaceIndex(None))
    uri = (tmp_path / "notes.txt").as_uri()
    live.submit(DocumentSnapshot(uri, 1, "hello", "plaintext"))
    assert await live.current(uri) is None
    live.shutdown()


async def test_forget_drops_the_buffer(tmp_path: Path) -> None:
    index = WorkspaceIndex(None)
    live = LiveGraph(index)
    snapshot = DocumentSnapshot((tmp_path / "a.py").as_uri(), 1, "class K:\n    pass\n", "python")
    live.submit(snapshot)
    await live.current(snapshot.uri)
    assert index.search("K")
    live.forget(snapshot)
    await asyncio.get_running_loop().run_in_executor(
        None, live._executor.submit(lambda: None).result
    )
    assert index.search("K") == []
    live.shutdown()
