"""Definitions: plain names from the graph when unambiguous, jedi otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from smallcode_ls.context.view import GraphViews
from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.python_semantics import JediResolver, ResolvedName
from smallcode_ls.navigation import find_definitions


class RecordingResolver(JediResolver):
    """jedi, but counting how often it is asked."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls = 0

    def definitions(
        self, text: str, path: Path | None, line: int, column: int
    ) -> list[ResolvedName]:
        self.calls += 1
        return super().definitions(text, path, line, column)


@pytest.fixture
def index(sample_workspace: Path) -> WorkspaceIndex:
    workspace = WorkspaceIndex(sample_workspace, workers=1)
    workspace.build()
    return workspace


def at(text: str, needle: str, shift: int = 1) -> int:
    return text.index(needle) + shift


def snapshot_of(path: Path, text: str | None = None) -> DocumentSnapshot:
    return DocumentSnapshot(path.resolve().as_uri(), 1, text or path.read_text(), "python")


def test_an_imported_name_resolves_from_the_graph_without_jedi(
    index: WorkspaceIndex, sample_workspace: Path
) -> None:
    resolver = RecordingResolver(sample_workspace)
    snapshot = snapshot_of(sample_workspace / "pkg/util.py")
    found = find_definitions(
        index, GraphViews(index), resolver, snapshot, at(snapshot.text, "-> Widget", 4)
    )
    assert [(Path(f.path).name, f.span.start_line, f.span.start_col) for f in found] == [
        ("models.py", 5, 6)
    ]
    assert resolver.calls == 0


def test_a_name_the_function_rebinds_is_left_to_jedi(
    index: WorkspaceIndex, sample_workspace: Path
) -> None:
    resolver = RecordingResolver(sample_workspace)
    path = sample_workspace / "pkg/util.py"
    text = path.read_text() + "\n\ndef shadow(Widget):\n    return Widget\n"
    snapshot = snapshot_of(path, text)
    found = find_definitions(
        index, GraphViews(index), resolver, snapshot, at(text, "return Widget", 8)
    )
    assert resolver.calls == 1
    assert [f.span.start_line for f in found] == [text[: text.index("def shadow")].count("\n")]


def test_an_attribute_defined_once_in_the_workspace_comes_from_the_graph(
    index: WorkspaceIndex, sample_workspace: Path
) -> None:
    resolver = RecordingResolver(sample_workspace)
    snapshot = snapshot_of(sample_workspace / "pkg/models.py")
    found = find_definitions(
        index, GraphViews(index), resolver, snapshot, at(snapshot.text, "self.size", 6)
    )
    assert resolver.calls == 0
    assert [(f.span.start_line, f.span.start_col) for f in found] == [(8, 4)]


def test_an_attribute_defined_twice_or_shared_with_builtins_goes_to_jedi(
    sample_workspace: Path,
) -> None:
    extra = sample_workspace / "pkg/other.py"
    extra.write_text("class Gadget:\n    size = 2\n\n    def append(self):\n        pass\n")
    index = WorkspaceIndex(sample_workspace, workers=1)
    index.build()
    resolver = RecordingResolver(sample_workspace)
    snapshot = snapshot_of(sample_workspace / "pkg/models.py")
    found = find_definitions(
        index, GraphViews(index), resolver, snapshot, at(snapshot.text, "self.size", 6)
    )
    assert resolver.calls == 1  # two `size` definitions: jedi decides
    assert [(Path(f.path).name, f.span.start_line) for f in found] == [("models.py", 8)]
    text = "items = []\nitems.append(1)\n"
    snapshot = snapshot_of(extra, text)
    find_definitions(index, GraphViews(index), resolver, snapshot, at(text, "append", 1))
    assert resolver.calls == 2  # `append` is a list method too
