"""aider RepoMap worker (aider's own venv). Built without git, a model or network."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proto import bundled_tokenizers as _bundled_tokenizers  # noqa: E402
from _proto import serve  # noqa: E402


class _IO:
    def read_text(self, filename: str, silent: bool = False) -> str | None:
        try:
            with open(filename, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            return None

    def tool_output(self, *args: Any, **kwargs: Any) -> None:
        pass

    def tool_warning(self, *args: Any, **kwargs: Any) -> None:
        pass

    def tool_error(self, *args: Any, **kwargs: Any) -> None:
        pass


class _Model:
    def __init__(self) -> None:
        os.environ["TIKTOKEN_CACHE_DIR"] = _bundled_tokenizers()
        import tiktoken

        self.enc = tiktoken.get_encoding("cl100k_base")

    def token_count(self, text: str) -> int:
        return len(self.enc.encode_ordinary(text))


def main() -> None:
    os.environ.setdefault("TQDM_DISABLE", "1")
    import aider
    from aider.repomap import RepoMap

    state: dict[str, Any] = {}
    model = _Model()

    def handle(req: dict[str, Any]) -> dict[str, Any]:
        op = req["op"]
        if op == "version":
            return {"aider": aider.__version__}
        if op == "init":
            os.chdir(req["root"])
            state["rm"] = RepoMap(
                map_tokens=1024, root=req["root"], main_model=model, io=_IO(), refresh="always"
            )
            state["files"] = list(req["files"])
            return {"ok": True}
        if op == "map":
            rm = state["rm"]
            rm.max_map_tokens = int(req["budget"])
            chat = req["chat"]
            others = [f for f in state["files"] if f != chat]
            t0 = time.perf_counter()
            text = rm.get_repo_map(
                [chat], others, mentioned_fnames=set(), mentioned_idents=set(req["idents"]),
                force_refresh=True,
            )  # fmt: skip
            return {"text": text or "", "seconds": time.perf_counter() - t0}
        raise ValueError(f"unknown op {op}")

    serve(handle)


if __name__ == "__main__":
    main()
