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
from smallcode_ls.lsp.errors import handle_errors
from smallcode_ls.lsp.landing import deliver
from smallcode_ls.lsp.progress import WorkDoneProgress
from smallcode_ls.lsp.server import SmallCodeServer

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
        label = f"SmallCode: {kind.value} ({finished.result.model})"
        outcome, message = await deliver(server, change, label, session.root or path.parent)
        progress.end(outcome.value)
        return {**result, "outcome": outcome, **({"message": message} if message else {})}

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
