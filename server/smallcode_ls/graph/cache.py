"""On-disk cache of extracted symbols, keyed by path + mtime + size.

One pickle file per workspace root under the user cache directory. A corrupt or
foreign-version file is ignored (and rebuilt), never trusted partially.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from smallcode_ls.graph.symbols import FileSymbols

__all__ = ["CacheEntry", "SymbolCache", "default_cache_dir"]

logger = logging.getLogger(__name__)

_FORMAT = 2
CacheEntry = tuple[int, int, FileSymbols]  # (mtime_ns, size, symbols)


def default_cache_dir() -> Path:
    """``$SMALLCODE_CACHE_DIR``, else ``$XDG_CACHE_HOME/smallcode-ls``, else ``~/.cache``."""
    if explicit := os.environ.get("SMALLCODE_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smallcode-ls"


class SymbolCache:
    """Load and save the symbols of one workspace root."""

    def __init__(self, directory: Path, root: Path) -> None:
        digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        self.path = directory / f"graph-{digest}.pickle"

    def load(self) -> dict[str, CacheEntry]:
        """Return the cached entries, or an empty dict if there is no usable cache."""
        try:
            with self.path.open("rb") as handle:
                stored = pickle.load(handle)
        except FileNotFoundError:
            return {}
        except Exception as exc:  # a damaged cache is rebuilt, never fatal
            logger.warning("ignoring unreadable graph cache %s: %s", self.path, exc)
            return {}
        if not isinstance(stored, tuple) or stored[:2] != (_FORMAT, _package_version()):
            return {}
        entries: dict[str, CacheEntry] = stored[2]
        return entries

    def save(self, entries: dict[str, CacheEntry]) -> None:
        """Write atomically (temp file + rename) so a crash leaves the old cache intact."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump((_FORMAT, _package_version(), entries), handle, protocol=5)
            os.replace(temp, self.path)
        except OSError as exc:
            logger.warning("could not write graph cache %s: %s", self.path, exc)
            Path(temp).unlink(missing_ok=True)


def _package_version() -> str:
    from smallcode_ls import __version__

    return __version__
