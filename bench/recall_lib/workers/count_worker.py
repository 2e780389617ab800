"""Token counter worker (aider's venv): cl100k via tiktoken with litellm's bundled file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proto import bundled_tokenizers as _bundled_tokenizers  # noqa: E402
from _proto import serve  # noqa: E402


def main() -> None:
    os.environ["TIKTOKEN_CACHE_DIR"] = _bundled_tokenizers()
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base")

    def handle(req: dict[str, Any]) -> dict[str, Any]:
        if req.get("op") == "version":
            return {"tiktoken": tiktoken.__version__}
        texts = req["texts"]
        return {"counts": [len(t) for t in enc.encode_ordinary_batch(texts)]}

    serve(handle)


if __name__ == "__main__":
    main()
