"""Agent tasks in the editor: code actions (no model call) and the task commands.

A task command runs the agent loop with progress, then sends one versioned,
annotated ``WorkspaceEdit`` through ``workspace/applyEdit`` - unless the document
changed meanwhile (stale: never applied) - and answers with a ``TaskResult``.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from lsprotocol import types
from pydantic import Field

from smallcode_ls.agent.planning import find_tasks
from smallcode_ls.agent.runner import change_to_send, run_task
from smallcode_ls.agent.tasks import TaskKind, TaskOutcome, TaskRequest, TaskResult
from smallcode_ls.documents import uri_to_path
from smallcode_ls.errors import InvalidRequest
from smallcode_ls.lsp.commands import CommandArgs, parse_command_args
from smallcode_ls.lsp.convert import to_lsp_workspace_edit
from smallcode_ls.lsp.errors import handle_errors
from smallcode_ls.lsp.landing import confirm_protected, landed
from smallcode_ls.lsp.progress import WorkDoneProgress
from smallcode_ls.lsp.server import SmallCodeServer
from smallcode_ls.security.paths import PathRefused, TargetClass, guard_change

__all__ = ["COMMANDS", "register"]

COMMANDS = {
    TaskKind.IMPLEMENT_TODO: "smallcode.implementTodo",
    TaskKind.FIX_DIAGNOSTIC: "smallcode.fixDiagnostic",
    TaskKind.WRITE_TESTS: "smallcode.writeTests",
    TaskKind.EDIT_SELECTION: "smallcode.runTask",
}
COMMAND_CANCEL = "smallcode.cancelTask"
_KIND = {
    TaskKind.WRITE_TESTS: types.CodeActionKind.Refactor,
    TaskKind.IMPLEMENT_TODO: types.CodeActionKind.RefactorRewrite,
    TaskKind.FIX_DIAGNOSTIC: types.CodeActionKind.QuickFix,
    TaskKind.EDIT_SELECTION: types.CodeActionKind.RefactorRewrite,
}


class TaskArgs(CommandArgs):
    """Arguments of the task commands (what the code actions put in their command)."""

    uri: str
    version: int | None = None
    line: int = Field(default=0, ge=0)
    instruction: str = ""
    diagnostics: list[str] = []


def _result(outcome: TaskOutcome, message: str, **extra: Any) -> dict[str, Any]:
    return asdict(TaskResult(outcome, message, **extra))


def register(server: SmallCodeServer) -> None:
    """Register code actions and the task commands."""
    running: set[asyncio.Task[Any]] = set()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=list(set(_KIND.values()))),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        session = server.session
        snapshot = session.documents.get(params.text_document.uri)
        path = uri_to_path(params.text_document.uri)
        if snapshot is None or path is None:
            return None
        start, end = params.range.start, params.range.end
        diagnostics = {d.message: d for d in params.context.diagnostics}
        spots = find_tasks(
            snapshot.text,
            session.index.file_symbols(str(path)),
            start.line,
            end.line,
            [(d.range.start.line, d.message) for d in params.context.diagnostics],
            has_selection=start != end,
        )
        actions = []
        for spot in spots:
            if spot.kind not in COMMANDS:
                continue
            arguments = {
                "uri": snapshot.uri, "version": snapshot.version, "line": spot.line,
                "instruction": spot.detail,
                "diagnostics": [spot.detail] if spot.kind is TaskKind.FIX_DIAGNOSTIC else [],
            }  # fmt: skip
            diagnostic = (
                diagnostics.get(spot.detail) if spot.kind is TaskKind.FIX_DIAGNOSTIC else None
            )
            actions.append(
                types.CodeAction(
                    title=spot.title,
                    kind=_KIND[spot.kind],
                    diagnostics=[diagnostic] if diagnostic else None,
                    command=types.Command(
                        title=spot.title, command=COMMANDS[spot.kind], arguments=[arguments]
                    ),
                )
            )
        return actions or None

    async def run(kind: TaskKind, args: tuple[Any, ...]) -> dict[str, Any]:
        parsed = parse_command_args(TaskArgs, args)
        assert isinstance(parsed, TaskArgs)
        if kind is TaskKind.EDIT_SELECTION and not parsed.instruction.strip():
            raise InvalidRequest("smallcode.runTask needs an instruction")
        session = server.session
        snapshot = session.documents.require(parsed.uri)
        path = uri_to_path(parsed.uri)
        if path is None:
            raise InvalidRequest(f"{parsed.uri} is not a file")
        if parsed.version is not None and snapshot.version != parsed.version:
            return _result(TaskOutcome.STALE, "the document changed before the task started")
        request = TaskRequest(kind, str(path), parsed.uri, snapshot.version, parsed.line,
                              parsed.instruction, tuple(parsed.diagnostics))  # fmt: skip
        title = f"SmallCode: {kind.value}"
        progress = WorkDoneProgress(server, title)
        await progress.begin(path.name)
        task = asyncio.current_task()
        assert task is not None
        running.add(task)
        progress.on_cancel(task.cancel)
        request_id = server.protocol.msg_id
        if request_id is not None:
            server.cancel_hooks[request_id] = task.cancel
        try:
            finished = await run_task(
                session.agent_loop(), session.models, session.settings, request, snapshot.text,
                lambda message: progress.report_message(message), session.memory,
            )  # fmt: skip
        except asyncio.CancelledError:
            progress.end("cancelled")
            return _result(TaskOutcome.CANCELLED, "the task was cancelled; nothing was changed")
        finally:
            running.discard(task)
            if request_id is not None:
                server.cancel_hooks.pop(request_id, None)
        result = asdict(finished.result)
        if finished.new_text is None:
            progress.end(finished.result.message)
            return {**result, "outcome": TaskOutcome.FAILED}
        change = change_to_send(session.documents, finished, parsed.uri, snapshot.version)
        if isinstance(change, str):
            progress.end(f"stale: {change}")
            return {**result, "outcome": TaskOutcome.STALE, "message": change}
        root = session.root or path.parent
        try:
            target = guard_change(root, change.uri, change.old_text, change.new_text)
        except PathRefused as exc:
            progress.end(f"refused: {exc}")
            return {**result, "outcome": TaskOutcome.REFUSED, "message": str(exc)}
        label = f"SmallCode: {kind.value} ({finished.result.model})"
        if target.kind is TargetClass.PROTECTED:
            if not await confirm_protected(server, str(target.relative)):
                progress.end("not applied")
                message = f"{target.relative} is protected and the change was not confirmed"
                return {**result, "outcome": TaskOutcome.REJECTED, "message": message}
            label = f"SmallCode: PROTECTED FILE {target.relative}: {kind.value}"
        workspace = server.client_capabilities.workspace
        edit_caps = workspace.workspace_edit if workspace else None
        annotations = bool(edit_caps and edit_caps.change_annotation_support)
        edit = to_lsp_workspace_edit([change], label, annotations, session.documents.encoding)
        applied = await server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
        if not applied.applied:
            progress.end("not applied")
            reason = applied.failure_reason or "the editor declined the edit"
            # Editors refuse an edit for a changed buffer with a reason; the Neovim
            # plugin's starts with "stale" (VS Code's names the version).
            stale = reason.lower().startswith("stale") or "version" in reason.lower()
            outcome = TaskOutcome.STALE if stale else TaskOutcome.REJECTED
            return {**result, "outcome": outcome, "message": reason}
        if change.base_version is not None and not await landed(
            session.documents, change.uri, change.base_version, change.new_text
        ):
            progress.end("not applied")
            message = (
                "the editor reported the edit as applied, but the document did not change "
                "to the edited text (a skipped stale edit?); nothing else was changed"
            )
            server.show(f"SmallCode: {message}", types.MessageType.Warning)
            return {**result, "outcome": TaskOutcome.NOT_LANDED, "message": message}
        progress.end("applied")
        return {**result, "outcome": TaskOutcome.APPLIED}

    for kind, name in COMMANDS.items():

        def make(kind: TaskKind) -> Any:
            @handle_errors
            async def command(*args: Any) -> dict[str, Any]:
                return await run(kind, args)

            return command

        server.command(name)(make(kind))

    @server.command(COMMAND_CANCEL)
    @handle_errors
    async def cancel(*_args: Any) -> dict[str, int]:
        """Cancel every running task (their commands answer "cancelled")."""
        tasks = list(running)
        for task in tasks:
            task.cancel()
        return {"cancelled": len(tasks)}
