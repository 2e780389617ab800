"""BM25 worker (its own venv with bm25s). Documents arrive pre-tokenized."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proto import serve  # noqa: E402


def main() -> None:
    import bm25s
    import numpy as np

    state: dict[str, Any] = {}

    def handle(req: dict[str, Any]) -> dict[str, Any]:
        op = req["op"]
        if op == "version":
            return {"bm25s": bm25s.__version__}
        if op == "index":
            t0 = time.perf_counter()
            docs: list[list[str]] = req["docs"]
            vocab: dict[str, int] = {}
            ids = [[vocab.setdefault(tok, len(vocab)) for tok in doc] for doc in docs]
            retriever = bm25s.BM25()
            retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
            state.update(retriever=retriever, vocab=vocab, n=len(docs))
            return {"ok": True, "seconds": time.perf_counter() - t0}
        if op == "query":
            t0 = time.perf_counter()
            vocab = state["vocab"]
            qids = sorted({vocab[t] for t in req["tokens"] if t in vocab})
            if not qids:
                return {"ids": [], "seconds": time.perf_counter() - t0}
            scores = state["retriever"].get_scores(qids)
            k = min(int(req["k"]), state["n"])
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            top = [int(i) for i in top if scores[i] > 0]
            return {"ids": top, "seconds": time.perf_counter() - t0}
        raise ValueError(f"unknown op {op}")

    serve(handle)


if __name__ == "__main__":
    main()
