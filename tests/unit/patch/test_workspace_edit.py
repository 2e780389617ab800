"""FileChanges from snapshots (all or nothing) and their WorkspaceEdit."""

from __future__ import annotations

from lsprotocol import types

from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.lsp.convert import to_lsp_workspace_edit
from smallcode_ls.parse.edits import parse_edits
from smallcode_ls.patch.changes import (
    ChangeKind,
    FileChange,
    apply_to_snapshots,
    content_sha256,
    stale_on_disk,
)
from smallcode_ls.positions import PositionEncoding

A = DocumentSnapshot("file:///ws/pkg/a.py", 4, "def a():\n    return '😀'\n", "python")
B = DocumentSnapshot("file:///ws/pkg/b.py", None, "def b():\n    return 2\n", "python")

TWO_FILES = """pkg/a.py
<<<<<<< SEARCH
    return '😀'
=======
    return '😀!'
>>>>>>> REPLACE

pkg/b.py
<<<<<<< SEARCH
    return 2
=======
    return 3
>>>>>>> REPLACE
"""


def test_a_reply_for_two_files_gives_two_versioned_changes() -> None:
    plan = apply_to_snapshots(parse_edits(TWO_FILES), [A, B], root="/ws")
    assert not plan.refused
    assert [(c.uri, c.base_version) for c in plan.changes] == [(A.uri, 4), (B.uri, None)]
    assert plan.changes[0].new_text == "def a():\n    return '😀!'\n"
    assert plan.changes[1].base_sha256 == content_sha256(B.text)
    assert plan.changes[0].base_sha256 is None


def test_one_failing_file_refuses_the_whole_reply() -> None:
    broken = TWO_FILES.replace("    return 2\n=", "    return 99\n=")
    plan = apply_to_snapshots(parse_edits(broken), [A, B], root="/ws")
    assert plan.refused and plan.changes == ()
    assert "not found" in plan.problems[0].message


def test_a_diff_for_a_new_file_becomes_a_create_change() -> None:
    reply = "--- /dev/null\n+++ b/pkg/c.py\n@@ -0,0 +1,2 @@\n+def c():\n+    return 3\n"
    plan = apply_to_snapshots(parse_edits(reply), [A], root="/ws")
    assert not plan.refused
    (change,) = plan.changes
    assert change.kind is ChangeKind.CREATE
    assert change.uri == "file:///ws/pkg/c.py"
    assert change.new_text == "def c():\n    return 3\n"


def test_a_new_file_outside_the_workspace_is_refused() -> None:
    reply = "--- /dev/null\n+++ b/../evil.py\n@@ -0,0 +1 @@\n+x = 1\n"
    plan = apply_to_snapshots(parse_edits(reply), [A], root="/ws")
    assert plan.refused


def test_deletion_needs_permission() -> None:
    reply = "--- a/pkg/b.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-def b():\n-    return 2\n"
    assert apply_to_snapshots(parse_edits(reply), [A, B], root="/ws").refused
    plan = apply_to_snapshots(parse_edits(reply), [A, B], root="/ws", allow_delete=True)
    assert [c.kind for c in plan.changes] == [ChangeKind.DELETE]


def test_closed_files_are_checked_against_the_disk_before_sending() -> None:
    change = FileChange(B.uri, None, B.text, "x\n", base_sha256=content_sha256(B.text))
    assert stale_on_disk([change], lambda uri: B.text) == ()
    assert stale_on_disk([change], lambda uri: B.text + "# edited\n") == (B.uri,)
    assert stale_on_disk([change], lambda uri: None) == (B.uri,)


def test_workspace_edit_is_versioned_annotated_and_utf16() -> None:
    plan = apply_to_snapshots(parse_edits(TWO_FILES), [A, B], root="/ws")
    edit = to_lsp_workspace_edit(plan.changes, "SmallCode: task", True, PositionEncoding.UTF16)
    assert edit.document_changes is not None
    first, second = edit.document_changes
    assert isinstance(first, types.TextDocumentEdit) and isinstance(second, types.TextDocumentEdit)
    assert first.text_document.version == 4 and second.text_document.version is None
    (insert,) = first.edits
    assert isinstance(insert, types.AnnotatedTextEdit)
    # "    return '😀" is 14 UTF-16 units: the emoji counts twice.
    assert insert.range.start == types.Position(1, 14) and insert.new_text == "!"
    assert edit.change_annotations is not None
    note = edit.change_annotations[insert.annotation_id]
    assert note.label == "SmallCode: task" and note.needs_confirmation is True


def test_without_annotation_support_edits_are_plain() -> None:
    plan = apply_to_snapshots(parse_edits(TWO_FILES), [A, B], root="/ws")
    edit = to_lsp_workspace_edit(plan.changes, "task", False, PositionEncoding.UTF8)
    assert edit.change_annotations is None
    assert edit.document_changes is not None
    first = edit.document_changes[0]
    assert isinstance(first, types.TextDocumentEdit)
    assert type(first.edits[0]) is types.TextEdit
    assert first.edits[0].range.start == types.Position(1, 16)  # UTF-8: the emoji is 4 bytes


def test_created_files_come_with_a_create_operation() -> None:
    change = FileChange("file:///ws/new.py", None, "", "x = 1\n", ChangeKind.CREATE)
    edit = to_lsp_workspace_edit([change], "task", True, PositionEncoding.UTF16)
    assert edit.document_changes is not None
    create, fill = edit.document_changes
    assert isinstance(create, types.CreateFile) and create.uri == "file:///ws/new.py"
    assert isinstance(fill, types.TextDocumentEdit) and fill.text_document.version is None
    (insert,) = fill.edits
    assert isinstance(insert, types.AnnotatedTextEdit) and insert.new_text == "x = 1\n"
