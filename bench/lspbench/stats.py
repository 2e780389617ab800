"""Small latency statistics helpers (milliseconds in, summary dicts out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear-interpolated percentile (like numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    frac = rank - low
    return ordered[low] + (ordered[high] - ordered[low]) * frac


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def summarize(values_ms: Sequence[float]) -> dict[str, Any]:
    """Return n / p50 / p95 / max / mean of a list of millisecond samples."""
    mean = sum(values_ms) / len(values_ms) if values_ms else None
    return {
        "n": len(values_ms),
        "p50_ms": _round(percentile(values_ms, 50)),
        "p95_ms": _round(percentile(values_ms, 95)),
        "max_ms": _round(max(values_ms) if values_ms else None),
        "mean_ms": _round(mean),
    }


def ratio(ours: float | None, peer: float | None) -> float | None:
    """ours / peer, or None when either side is missing or the peer is 0."""
    if ours is None or peer is None or peer == 0:
        return None
    return round(ours / peer, 4)
