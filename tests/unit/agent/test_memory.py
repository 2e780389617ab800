"""Memory: tasks and notes survive restarts, untrusted notes stay marked, damage is survived."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from smallcode_ls.agent.memory import Memory, memory_path


def test_notes_are_recalled_by_words_same_file_first_and_survive_a_restart(tmp_path: Path) -> None:
    path = memory_path(tmp_path, tmp_path / "ws")
    memory = Memory(path)
    memory.record("implementTodo", "/ws/a.py", "failed", "tiny", 3,
                  [("implementTodo in a.py: rejected answer: syntax error", False)])  # fmt: skip
    memory.record("implementTodo", "/ws/b.py", "succeeded", "tiny", 1,
                  [("task text in b.py: parse the config", True)])  # fmt: skip
    memory.close()
    again = Memory(path)
    notes = again.recall("implementTodo syntax config", "/ws/b.py")
    assert [n.file for n in notes] == ["/ws/b.py", "/ws/a.py"]
    assert notes[0].untrusted and not notes[1].untrusted
    assert again.recall("nothing-like-this", "/ws/a.py") == []
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def test_a_damaged_database_is_moved_aside_and_a_fresh_one_started(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    memory = Memory(path)
    memory.record("runTask", "/ws/a.py", "succeeded", "m", 1, [("worked fine", False)])
    assert [n.text for n in memory.recall("worked", "/ws/a.py")] == ["worked fine"]
    assert list(tmp_path.glob("memory.corrupt-*"))
    memory.close()
