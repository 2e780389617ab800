"""Leaving on time: watch the client's process, end our children, bound the exit.

The LSP ``initialize`` request names the client's ``processId``; when that process
dies the server must go too (G7), even if nobody closes its stdin. At exit every
child process (index workers, validation runs) is terminated, and a deadline turns a
stuck clean-up into a hard exit rather than an orphaned server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["child_pids", "exit_deadline", "pid_alive", "terminate_children", "watch_client"]

logger = logging.getLogger(__name__)

POLL_S = 0.5
PARENT_AT_START = os.getppid()  # imported early by the CLI, before the slow imports


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def watch_client(
    process_id: Callable[[], int | None], on_gone: Callable[[str], None]
) -> threading.Thread:
    """Call ``on_gone`` once the client's process (or, lacking one, our parent) is gone.

    A thread, not a task: it must fire even while a handler blocks the event loop.
    """
    parent = PARENT_AT_START

    def watch() -> None:
        while True:
            time.sleep(POLL_S)
            pid = process_id()
            if pid is not None and pid > 0 and not pid_alive(pid):
                on_gone(f"the client process {pid} exited")
                return
            if os.getppid() != parent:
                on_gone("the parent process exited")
                return

    thread = threading.Thread(target=watch, name="client-watchdog", daemon=True)
    thread.start()
    return thread


def child_pids(pid: int | None = None) -> list[int]:
    """The direct children of ``pid`` (default: this process), from /proc."""
    pid = os.getpid() if pid is None else pid
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            children.extend(int(c) for c in task.read_text().split())
    return sorted(set(children))


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(OSError):
        if os.getpgid(pid) == pid:  # a group leader: its whole group goes
            os.killpg(pid, sig)
    with contextlib.suppress(OSError):
        os.kill(pid, sig)


def terminate_children(grace_s: float = 1.0) -> list[int]:
    """SIGTERM every child (and its group), SIGKILL what is left after ``grace_s``; reap."""
    children = child_pids()
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in children):
        _reap(children)
        time.sleep(0.02)
    for pid in children:
        if pid_alive(pid):
            _signal(pid, signal.SIGKILL)
    _reap(children)
    if children:
        logger.info("terminated %d child process(es) at exit", len(children))
    return children


def _reap(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def exit_deadline(code: int | Callable[[], int], seconds: float) -> threading.Timer:
    """Start a timer that ends the process if it is still here in ``seconds``."""

    def hard_exit() -> None:
        status = code() if callable(code) else code
        logger.warning("clean exit took over %.1f s; leaving now", seconds)
        with contextlib.suppress(Exception):
            terminate_children(grace_s=0.2)
        with contextlib.suppress(Exception):
            logging.shutdown()
            sys.stderr.flush()
        os._exit(status)

    timer = threading.Timer(seconds, hard_exit)
    timer.daemon = True
    timer.start()
    return timer
