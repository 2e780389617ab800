"""In-process: didChange -> graph updated, with the whole workspace indexed (B5's metric).

Applies the same typing replay as the LSP session to our document mirror and
workspace index directly, so the number is the server's own work per keystroke
(mirror splice + incremental re-parse + symbol extraction), without JSON-RPC, the
documentSymbol answer, or the client's overhead.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

from . import ts
from .session import TYPED_CHARS
from .stats import summarize


def measure(root: Path, typing_file: str, events: int) -> dict[str, Any]:
    """p50/p95 of one keystroke's mirror + graph update (ms)."""
    from smallcode_ls.documents import DocumentStore, TextChange
    from smallcode_ls.graph.index import WorkspaceIndex
    from smallcode_ls.positions import TextPosition

    index = WorkspaceIndex(root)
    index.build()
    gc.collect()
    gc.freeze()  # as the server does once the index is built
    path = (root / typing_file).resolve()
    text = path.read_text(encoding="utf-8")
    anchor = ts.typing_anchor(text.encode())
    if anchor is None:
        return {"error": f"no function body in {typing_file}"}
    line, indent = anchor
    prefix = f"{indent}# bench "
    store = DocumentStore()
    uri = path.as_uri()
    index.update_document(store.open(uri, 1, text, "python"))
    start = TextPosition(line, 0)
    index.update_document(store.change(uri, 2, [TextChange(prefix + "\n", start, start)]))
    latencies = []
    for i in range(events):
        at = TextPosition(line, len(prefix) + i)
        began = time.perf_counter()
        snapshot = store.change(uri, 3 + i, [TextChange(TYPED_CHARS[i % len(TYPED_CHARS)], at, at)])
        index.update_document(snapshot)
        latencies.append((time.perf_counter() - began) * 1000.0)
    return {**summarize(latencies), "file": typing_file, "workspace_files": len(index.all_files())}
