"""Helpers every benchmark shares: file hashes and the machine facts recorded in reports."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["machine_facts", "sha256_file"]


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _proc_value(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_facts() -> dict[str, Any]:
    """Cores, CPU, memory, kernel and interpreter of the machine running a benchmark."""
    memory = _proc_value("/proc/meminfo", "MemTotal")
    return {
        "nproc": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)),
        "cpu_model": _proc_value("/proc/cpuinfo", "model name") or platform.processor(),
        "mem_gib": round(int(memory.split()[0]) / 2**20, 1) if memory else None,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "interpreter": sys.executable,
    }
