"""JSON-lines loop shared by the workers. Stdout is reserved for replies."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any


def bundled_tokenizers() -> str:
    """litellm's bundled cl100k file (found without importing litellm, which is slow)."""
    import importlib.util

    spec = importlib.util.find_spec("litellm")
    if spec is None or spec.origin is None:
        raise RuntimeError("litellm not installed")
    return os.path.join(os.path.dirname(spec.origin), "litellm_core_utils", "tokenizers")


def serve(handle: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Answer one JSON request per stdin line; library prints are sent to stderr."""
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr
    out = os.fdopen(reply_fd, "w", encoding="utf-8", buffering=1)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = handle(json.loads(line))
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            reply = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        out.write(json.dumps(reply) + "\n")
        out.flush()
