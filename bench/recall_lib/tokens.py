"""ONE token counter for every retriever: cl100k (aider venv's tiktoken + litellm's bundled
file, offline) when available, else the fixed chars/3.6 proxy."""

from __future__ import annotations

import math
from pathlib import Path

from .workers_client import Worker


class Counter:
    def __init__(self, aider_python: Path | None, log: Path, force_proxy: bool = False) -> None:
        self.name = "chars/3.6"
        self.version = ""
        self._worker: Worker | None = None
        self._cache: dict[str, int] = {}
        if aider_python is not None and aider_python.exists() and not force_proxy:
            try:
                w = Worker(aider_python, "count_worker.py", log)
                self.version = "tiktoken " + str(w.call(op="version")["tiktoken"])
                if w.call(texts=["def foo(self, x): return 1"])["counts"] != [9]:
                    raise RuntimeError("unexpected cl100k count")
                self._worker = w
                self.name = "cl100k_base"
            except (RuntimeError, OSError):
                self._worker = None

    def prime(self, texts: list[str]) -> None:
        """Count many strings in batches (cached), so later lookups are local."""
        todo = list({t: None for t in texts if t not in self._cache})
        if self._worker is None:
            for t in todo:
                self._cache[t] = math.ceil(len(t) / 3.6)
            return
        for i in range(0, len(todo), 5000):
            batch = todo[i : i + 5000]
            counts = self._worker.call(texts=batch)["counts"]
            self._cache.update(zip(batch, counts, strict=True))

    def count(self, text: str) -> int:
        n = self._cache.get(text)
        if n is None:
            self.prime([text])
            n = self._cache[text]
        if len(self._cache) > 400_000:
            self._cache.clear()
        return n

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
