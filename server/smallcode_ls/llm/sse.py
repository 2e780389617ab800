"""Server-sent events as OpenAI-compatible servers send them: ``data:`` lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["SseEvent", "parse_sse_line"]


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One decoded ``data:`` payload; ``done`` for ``[DONE]``; ``error`` for error payloads."""

    data: dict[str, Any] | None
    done: bool = False
    error: str | None = None


def parse_sse_line(line: str, event_name: str | None = None) -> SseEvent | None:
    """Decode one line; None for comments, blank lines and fields we do not use.

    Raises ValueError when a ``data:`` line is not JSON (a malformed stream).
    """
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if payload == "[DONE]":
        return SseEvent(None, done=True)
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError(f"SSE data is not an object: {payload[:80]}")
    if event_name == "error" or "error" in data and "choices" not in data:
        error = data.get("error", data)
        message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
        return SseEvent(data, error=message)
    return SseEvent(data)
