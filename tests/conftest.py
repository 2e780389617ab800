"""Shared fixtures: a small sample workspace on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE_FILES = {
    "pkg/__init__.py": "",
    "pkg/models.py": (
        '"""Models."""\n'
        "\n"
        "LIMIT = 10\n"
        "\n"
        "\n"
        "class Widget:\n"
        '    """A widget."""\n'
        "\n"
        "    size = 1\n"
        "\n"
        "    def grow(self, by: int) -> int:\n"
        "        return self.size + by\n"
        "\n"
        "\n"
        "def make_widget() -> Widget:\n"
        "    return Widget()\n"
    ),
    "pkg/util.py": (
        "from pkg.models import Widget, make_widget\n"
        "\n"
        "\n"
        "def build() -> Widget:\n"
        "    # a Widget in a comment is not a reference\n"
        "    return make_widget()\n"
    ),
    "pkg/emoji.py": 'GREETING = "😀"; FAREWELL = 1\n\n\ndef wave():\n    return GREETING\n',
    "web/app.ts": (
        "export class Server {\n  start(): void {}\n}\n"
        "export function boot(): Server {\n  return new Server();\n}\n"
    ),
    "ignored/hidden.py": "class HiddenThing:\n    pass\n",
    "node_modules/lib/index.js": "function fromNodeModules() {}\n",
    ".venv/lib/site.py": "class FromVenv:\n    pass\n",
    ".gitignore": "ignored/\n",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def sample_workspace(tmp_path: Path) -> Path:
    """A small mixed-language workspace with ignored and vendored folders."""
    return write_tree(tmp_path / "ws", SAMPLE_FILES)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Graph caches and memory go to a per-test folder, never the user's cache."""
    folder = tmp_path / "smallcode-cache"
    monkeypatch.setenv("SMALLCODE_CACHE_DIR", str(folder))
    return folder
