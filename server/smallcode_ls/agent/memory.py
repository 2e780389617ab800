"""Per-workspace memory: an evidence log of tasks, attempts, failures and what worked.

SQLite in WAL mode with an FTS5 index of notes. Notes that quote the repository
(a TODO's text, a diagnostic) are stored as untrusted and shown to the model as
such; they never change a setting or a permission. A damaged database is moved
aside and a fresh one started: memory is a help, never a reason to fail.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smallcode_ls.security.secrets import Redactor

__all__ = ["Memory", "Note", "memory_path"]

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
  id INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, file TEXT NOT NULL,
  outcome TEXT NOT NULL, model TEXT NOT NULL, turns INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS notes USING fts5(
  text, file UNINDEXED, untrusted UNINDEXED, task UNINDEXED, at UNINDEXED
);
"""
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


@dataclass(frozen=True, slots=True)
class Note:
    """One remembered fact; ``untrusted`` when it quotes the repository."""

    text: str
    file: str
    untrusted: bool


def memory_path(cache_dir: Path, root: Path) -> Path:
    """Where a workspace's memory lives (beside the graph cache)."""
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"memory-{digest}.sqlite3"


class Memory:
    """The evidence log of one workspace (thread-safe; one connection, one lock)."""

    def __init__(self, path: Path, redact: Callable[[str], str] | None = None) -> None:
        self.path = path
        self._redact = redact or Redactor()  # no secret is ever stored in a note
        self._lock = threading.Lock()
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_suffix(f".corrupt-{int(time.time())}")
            logger.warning("memory database %s is damaged (%s); moved to %s", self.path, exc, aside)
            self.path.replace(aside)
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=5.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(_SCHEMA)
        db.execute("SELECT count(*) FROM tasks").fetchone()  # fails on a damaged file
        return db

    def record(
        self,
        kind: str,
        file: str,
        outcome: str,
        model: str,
        turns: int,
        notes: list[tuple[str, bool]],
    ) -> None:
        """Log one finished task and its notes (text, untrusted)."""
        now = time.time()
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO tasks (at, kind, file, outcome, model, turns) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (now, kind, file, outcome, model, turns),
            )
            self._db.executemany(
                "INSERT INTO notes (text, file, untrusted, task, at) VALUES (?, ?, ?, ?, ?)",
                [
                    (self._redact(text), file, int(untrusted), cursor.lastrowid, now)
                    for text, untrusted in notes
                ],
            )

    def recall(self, query: str, file: str, limit: int = 5) -> list[Note]:
        """Notes matching the words of ``query``, from ``file`` first, newest first."""
        words = list(dict.fromkeys(_WORD.findall(query)))[:12]
        if not words:
            return []
        match = " OR ".join(f'"{word}"' for word in words)
        with self._lock:
            rows = self._db.execute(
                "SELECT text, file, untrusted FROM notes WHERE notes MATCH ? "
                "ORDER BY (file = ?) DESC, at DESC LIMIT ?",
                (match, file, limit),
            ).fetchall()
        return [Note(text, path, bool(untrusted)) for text, path, untrusted in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
