"""Versioned file changes, and applying one reply to several snapshots all or nothing.

Every :class:`FileChange` names the version it was computed from; files that are not open
(``version`` None) carry the SHA-256 of the text read from disk, which :func:`stale_on_disk`
re-checks right before the edit is sent. New files become create operations; deletions happen
only when the caller allows them. One refused file refuses the whole reply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.parse.edit_types import (
    EditBlock,
    EditFormat,
    EditKind,
    EditParse,
    EditProblem,
    EditProblemCode,
)
from smallcode_ls.patch.api import apply_parsed, same_file
from smallcode_ls.patch.whole import replace_whole_file

__all__ = [
    "ChangeKind",
    "FileChange",
    "PatchPlan",
    "apply_to_snapshots",
    "content_sha256",
    "stale_on_disk",
]


class ChangeKind(StrEnum):
    """What a change does to its file."""

    MODIFY = "modify"
    CREATE = "create"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file's change from ``old_text`` (at ``base_version``) to ``new_text``."""

    uri: str
    base_version: int | None
    old_text: str
    new_text: str
    kind: ChangeKind = ChangeKind.MODIFY
    base_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class PatchPlan:
    """All changes of one reply, or none with the problems (all or nothing)."""

    changes: tuple[FileChange, ...]
    problems: tuple[EditProblem, ...]
    format: EditFormat
    rungs: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        """Whether nothing may be applied."""
        return bool(self.problems)


def content_sha256(text: str) -> str:
    """The hash a closed file's text is checked against (its UTF-8 bytes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def stale_on_disk(
    changes: Sequence[FileChange], read_text: Callable[[str], str | None]
) -> tuple[str, ...]:
    """URIs of closed-file changes whose disk content moved on since the change was computed.

    ``read_text(uri)`` returns the current disk text, or None when the file does not exist. A
    create is stale when the file now exists; a modify or delete when its hash differs.
    """
    stale: list[str] = []
    for change in changes:
        if change.base_version is not None:
            continue
        current = read_text(change.uri)
        if change.kind is ChangeKind.CREATE:
            if current is not None:
                stale.append(change.uri)
        elif current is None or content_sha256(current) != change.base_sha256:
            stale.append(change.uri)
    return tuple(stale)


def _snapshot_path(snapshot: DocumentSnapshot) -> str:
    path = snapshot.path
    return path.as_posix() if path is not None else snapshot.uri


def _resolve(
    name: str | None, snapshots: Sequence[DocumentSnapshot]
) -> DocumentSnapshot | None | EditProblem:
    if name is None:
        if len(snapshots) == 1:
            return snapshots[0]
        return EditProblem(
            EditProblemCode.UNKNOWN_FILE,
            "An edit names no file; put the file's path on the line before each block.",
        )
    hits = [s for s in snapshots if same_file(name, _snapshot_path(s))]
    if len(hits) > 1:
        exact = [s for s in hits if _snapshot_path(s).endswith("/" + name.lstrip("./"))]
        hits = exact if len(exact) == 1 else hits
    if len(hits) > 1:
        return EditProblem(
            EditProblemCode.UNKNOWN_FILE,
            f"{name} could be any of {', '.join(_snapshot_path(s) for s in hits)}; "
            "give its full path.",
            path=name,
        )
    return hits[0] if hits else None


def _new_uri(root: str | None, name: str) -> str | EditProblem:
    rel = PurePosixPath(name.replace("\\", "/"))
    if root is None or rel.is_absolute() or ".." in rel.parts or not rel.parts:
        return EditProblem(
            EditProblemCode.UNKNOWN_FILE,
            f"{name} is not one of the files given, and a new file must be a relative path "
            "inside the workspace.",
            path=name,
        )
    return (PurePosixPath(root) / rel).as_uri()


def apply_to_snapshots(
    parsed: EditParse,
    snapshots: Sequence[DocumentSnapshot],
    *,
    root: str | None = None,
    allow_create: bool = True,
    allow_delete: bool = False,
) -> PatchPlan:
    """Apply a parsed reply to the given snapshots; new files go under ``root`` (absolute)."""
    if parsed.problems or not parsed.edits:
        return PatchPlan((), parsed.problems, parsed.format)
    groups: dict[str, tuple[DocumentSnapshot | None, str, list[EditBlock]]] = {}
    for edit in parsed.edits:
        target = _resolve(edit.path, snapshots)
        if isinstance(target, EditProblem):
            return PatchPlan((), (target,), parsed.format)
        key = target.uri if target is not None else f"new:{edit.path}"
        groups.setdefault(key, (target, edit.path or "", []))[2].append(edit)
    changes: list[FileChange] = []
    rungs: list[str] = []
    for target, name, edits in groups.values():
        made = _change_for(target, name, edits, parsed, root, allow_create, allow_delete)
        if isinstance(made, EditProblem):
            return PatchPlan((), (made,), parsed.format)
        change, used = made
        rungs.extend(used)
        if change.kind is not ChangeKind.MODIFY or change.new_text != change.old_text:
            changes.append(change)
    return PatchPlan(tuple(changes), (), parsed.format, tuple(rungs))


def _change_for(
    target: DocumentSnapshot | None,
    name: str,
    edits: list[EditBlock],
    parsed: EditParse,
    root: str | None,
    allow_create: bool,
    allow_delete: bool,
) -> tuple[FileChange, tuple[str, ...]] | EditProblem:
    if target is None:
        creatable = all(
            e.kind in (EditKind.CREATE, EditKind.WHOLE) or not any(s.strip() for s in e.before)
            for e in edits
        )
        if not creatable:
            return EditProblem(
                EditProblemCode.UNKNOWN_FILE, f"{name} is not one of the files given.", path=name
            )
        if not allow_create:
            return EditProblem(
                EditProblemCode.UNKNOWN_FILE, f"Creating {name} is not allowed here.", path=name
            )
        uri = _new_uri(root, name)
        if isinstance(uri, EditProblem):
            return uri
        body = replace_whole_file("", [line for e in edits for line in e.after])
        return FileChange(uri, None, "", body, ChangeKind.CREATE), ()
    sha = content_sha256(target.text) if target.version is None else None
    if any(e.kind is EditKind.DELETE for e in edits):
        if not allow_delete:
            return EditProblem(
                EditProblemCode.DELETE_NOT_ALLOWED,
                f"Deleting {name or target.uri} is not allowed in this task.",
                path=name,
            )
        change = FileChange(target.uri, target.version, target.text, "", ChangeKind.DELETE, sha)
        return change, ()
    sub = EditParse(parsed.format, tuple(edits))
    result = apply_parsed(target.text, sub, _snapshot_path(target))
    if result.new_text is None:
        return (
            result.problems[0]
            if result.problems
            else EditProblem(EditProblemCode.NOT_FOUND, result.reason)
        )
    change = FileChange(target.uri, target.version, target.text, result.new_text, base_sha256=sha)
    return change, result.rungs
