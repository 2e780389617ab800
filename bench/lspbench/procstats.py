"""Linux /proc readers: peak RSS (VmHWM) and CPU time of a process tree."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class StatLine:
    """The fields of /proc/<pid>/stat this bench needs."""

    ppid: int
    utime_s: float
    stime_s: float
    cutime_s: float
    cstime_s: float


def read_stat(pid: int) -> StatLine | None:
    """Parse /proc/<pid>/stat (None if the process is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm may contain spaces/parens: split after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    # fields[0] is state (field 3); field N is fields[N - 3].
    ticks = [int(fields[i]) / CLK_TCK for i in (11, 12, 13, 14)]
    return StatLine(int(fields[1]), *ticks)


def vmhwm_kb(pid: int) -> int | None:
    """VmHWM (peak resident set) of a process in kB, None if unavailable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def descendants(pid: int) -> list[int]:
    """All live descendant pids of ``pid`` (walks /proc/*/stat ppid links)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = read_stat(int(entry))
        if stat is not None:
            children.setdefault(stat.ppid, []).append(int(entry))
    out: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


@dataclass
class TreeTracker:
    """Remembers the last VmHWM seen for the server and every descendant.

    Sampling during start-up/indexing catches short-lived worker processes
    that are gone by the time the final snapshot is taken before shutdown.
    """

    pid: int
    hwm_kb: dict[int, int] = field(default_factory=dict)
    samples: int = 0

    def sample(self) -> None:
        """Record current VmHWM of the server and its live descendants."""
        self.samples += 1
        for pid in [self.pid, *descendants(self.pid)]:
            value = vmhwm_kb(pid)
            if value is not None:
                self.hwm_kb[pid] = max(value, self.hwm_kb.get(pid, 0))

    def snapshot(self) -> dict[str, Any]:
        """Final numbers; call just before shutdown."""
        self.sample()
        live = descendants(self.pid)
        own = read_stat(self.pid)
        cpu_self = (own.utime_s + own.stime_s) if own else None
        cpu_reaped = (own.cutime_s + own.cstime_s) if own else 0.0
        cpu_live = 0.0
        for child in live:
            stat = read_stat(child)
            if stat is not None:
                cpu_live += stat.utime_s + stat.stime_s
        server_kb = self.hwm_kb.get(self.pid)
        return {
            "server_vmhwm_mb": None if server_kb is None else round(server_kb / 1024, 1),
            "server_plus_children_vmhwm_mb": round(sum(self.hwm_kb.values()) / 1024, 1),
            "children_seen": len(self.hwm_kb) - (1 if server_kb is not None else 0),
            "children_live_at_end": len(live),
            "cpu_server_s": None if cpu_self is None else round(cpu_self, 2),
            "cpu_server_plus_children_s": None
            if cpu_self is None
            else round(cpu_self + cpu_reaped + cpu_live, 2),
            "rss_samples": self.samples,
        }
