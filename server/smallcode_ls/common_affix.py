"""Common prefix and suffix lengths of two strings, by binary search on slice equality.

Slice comparison is a memcmp, so this is O(n log n) in C rather than a Python loop
over characters: the one piece both the incremental parser and minimal edits need.
"""

from __future__ import annotations

from typing import AnyStr

__all__ = ["common_prefix", "common_suffix"]


def common_prefix(a: AnyStr, b: AnyStr) -> int:
    """Length of the longest common prefix."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def common_suffix(a: AnyStr, b: AnyStr, limit: int) -> int:
    """Length of the longest common suffix, at most ``limit``."""
    low, high = 0, max(limit, 0)
    while low < high:
        mid = (low + high + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            low = mid
        else:
            high = mid - 1
    return low
