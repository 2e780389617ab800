"""Delivering an agent's edit: path check, consent, ``applyEdit``, and did it land.

Neovim answers ``applied: true`` even when it skipped an edit whose version no longer
matched; so for an open document the server waits for the ``didChange`` the edit
causes and compares the mirrored text with the text it predicted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from smallcode_ls.agent.tasks import TaskOutcome
from smallcode_ls.documents import DocumentStore
from smallcode_ls.lsp.convert import to_lsp_workspace_edit
from smallcode_ls.lsp.server import SmallCodeServer
from smallcode_ls.lsp.trust import ask_user
from smallcode_ls.patch.changes import FileChange
from smallcode_ls.security.paths import PathRefused, TargetClass, guard_change

__all__ = ["CHANGE_PROTECTED", "confirm_protected", "deliver", "landed", "landing_verdict"]

CHANGE_PROTECTED = "Change it"
_LANDING_WAIT_S = 3.0
_POLL_S = 0.02


async def landed(documents: DocumentStore, uri: str, base_version: int, predicted: str) -> bool:
    """Whether the document moved past ``base_version`` to the predicted text.

    The first version after ``base_version`` must be the edit's. If the user typed
    right after it, the mirror may already be further on (several versions ahead):
    then the landing cannot be told apart from the typing, and it counts as landed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _LANDING_WAIT_S
    while loop.time() < deadline:
        current = documents.get(uri)
        if current is None:
            return False  # closed meanwhile: nothing to compare with
        decided = landing_verdict(current.version, current.text, base_version, predicted)
        if decided is not None:
            return decided
        await asyncio.sleep(_POLL_S)
    return False


def landing_verdict(
    version: int | None, text: str, base_version: int, predicted: str
) -> bool | None:
    """Landed (True), not landed (False), or not yet known (None: still the base version)."""
    if version == base_version:
        return None
    moved = (version or 0) - base_version
    return text == predicted or moved > 1


async def confirm_protected(server: SmallCodeServer, relative: str) -> bool:
    """Ask, apart from the edit preview, before a protected file (``.git/``, CI, ...) changes."""
    title = await ask_user(
        server,
        f"SmallCode wants to change the protected file {relative} (repository, editor, CI "
        "or secret configuration). Allow this change?",
        [CHANGE_PROTECTED, "Cancel"],
    )
    return title == CHANGE_PROTECTED


async def deliver(
    server: SmallCodeServer, change: FileChange, label: str, root: Path
) -> tuple[TaskOutcome, str]:
    """Send one validated change to the editor; the outcome and, unless applied, why."""
    try:
        target = guard_change(root, change.uri, change.old_text, change.new_text)
    except PathRefused as exc:
        return TaskOutcome.REFUSED, str(exc)
    if target.kind is TargetClass.PROTECTED:
        if not await confirm_protected(server, str(target.relative)):
            return TaskOutcome.REJECTED, (
                f"{target.relative} is protected and the change was not confirmed"
            )
        label = f"SmallCode: PROTECTED FILE {target.relative}: {label}"
    workspace = server.client_capabilities.workspace
    edit_caps = workspace.workspace_edit if workspace else None
    annotations = bool(edit_caps and edit_caps.change_annotation_support)
    documents = server.session.documents
    edit = to_lsp_workspace_edit([change], label, annotations, documents.encoding)
    applied = await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=label)
    )
    if not applied.applied:
        reason = applied.failure_reason or "the editor declined the edit"
        # Editors refuse an edit for a changed buffer with a reason; the Neovim
        # plugin's starts with "stale" (VS Code's names the version).
        stale = reason.lower().startswith("stale") or "version" in reason.lower()
        return (TaskOutcome.STALE if stale else TaskOutcome.REJECTED), reason
    if change.base_version is not None and not await landed(
        documents, change.uri, change.base_version, change.new_text
    ):
        message = (
            "the editor reported the edit as applied, but the document did not change "
            "to the edited text (a skipped stale edit?); nothing else was changed"
        )
        server.show(f"SmallCode: {message}", types.MessageType.Warning)
        return TaskOutcome.NOT_LANDED, message
    return TaskOutcome.APPLIED, ""
