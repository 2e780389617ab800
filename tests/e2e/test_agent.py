"""Agent tasks through a real client: code actions, versioned edits, stale and cancelled runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient

from smallcode_ls.documents import TextChange, apply_change
from smallcode_ls.positions import PositionEncoding, TextPosition
from tests.conftest import write_tree
from tests.e2e.conftest import start_client, wait_for_index
from tests.support.editor import EditorBuffers
from tests.support.samples import ANSWER, SOURCE
from tests.support.scripted_llm import ScriptedLLM, stream_reply


@pytest_asyncio.fixture
async def llm() -> AsyncIterator[ScriptedLLM]:
    async with ScriptedLLM() as server:
        yield server


@pytest_asyncio.fixture
async def session(
    client_name: str, tmp_path: Path, llm: ScriptedLLM
) -> AsyncIterator[tuple[LanguageClient, str, list[types.ApplyWorkspaceEditParams]]]:
    root = write_tree(tmp_path / "ws", {"geo.py": SOURCE}).resolve()
    options = {"smallcode": {"model": {"baseUrl": llm.base_url, "name": "scripted"}}}
    client = await start_client(
        client_name, root, tmp_path / "cache", initialization_options=options
    )
    editor = EditorBuffers(client, "neovim" if client_name == "neovim" else "vscode")
    _read_code_actions_properly(client)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return editor.apply(params)

    await wait_for_index(client)
    uri = (root / "geo.py").as_uri()
    editor.open(uri, SOURCE)
    client.editor = editor  # type: ignore[attr-defined]
    yield client, uri, editor.received
    await client.shutdown_session()


def _read_code_actions_properly(client: LanguageClient) -> None:
    """lsprotocol reads any object with a "command" key as a Command, but a CodeAction
    has one too; tell a CodeAction by its command being an object, as editors do."""
    converter = client.protocol._converter

    def hook(data: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(data.get("command"), str):
            return converter.structure(data, types.Command)
        return converter.structure(data, types.CodeAction)

    converter.register_structure_hook(types.Command | types.CodeAction, hook)  # type: ignore[arg-type]
    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007


async def model_asked(client: LanguageClient) -> None:
    """Wait for the task's progress to say the model was asked (no sleeping)."""
    while not any(
        isinstance(report, types.WorkDoneProgressReport)
        and (report.message or "").startswith("asking the model")
        for reports in client.progress_reports.values()
        for report in reports
    ):
        await client.wait_for_notification("$/progress")


async def actions_at(client: LanguageClient, uri: str, line: int) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=line, character=0),
                end=types.Position(line=line, character=0),
            ),  # fmt: skip
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def run_command(client: LanguageClient, action: types.CodeAction) -> dict[str, Any]:
    assert action.command is not None
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    assert isinstance(result, dict)
    return result


async def test_implement_todo_is_offered_on_the_todo_and_not_elsewhere(session) -> None:  # type: ignore[no-untyped-def]
    client, uri, _ = session
    titles = [a.title for a in await actions_at(client, uri, 5)]
    assert "SmallCode: implement TODO" in titles
    assert "SmallCode: implement TODO" not in [a.title for a in await actions_at(client, uri, 9)]


async def test_implement_todo_sends_one_versioned_previewable_edit(
    session, llm, client_name
) -> None:  # type: ignore[no-untyped-def]
    client, uri, edits = session
    llm.enqueue(stream_reply([ANSWER]))
    action = next(a for a in await actions_at(client, uri, 5) if "TODO" in a.title)
    result = await run_command(client, action)
    assert result["outcome"] == "applied", result
    assert len(edits) == 1
    change = edits[0].edit.document_changes[0]  # type: ignore[index]
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri and change.text_document.version == 1
    new_text = SOURCE
    for edit in sorted(change.edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):  # fmt: skip
        new_text = apply_change(
            new_text,
            TextChange(
                edit.new_text,
                TextPosition(edit.range.start.line, edit.range.start.character),
                TextPosition(edit.range.end.line, edit.range.end.character),
            ),
            PositionEncoding.UTF16,
        )
    assert new_text == SOURCE.replace(
        "    # TODO: use math.pi\n    raise NotImplementedError\n", "    return math.pi * r * r\n"
    )
    if client_name == "visual-studio-code":  # supports change annotations: preview first
        annotations = edits[0].edit.change_annotations or {}
        assert any(a.needs_confirmation for a in annotations.values())


async def test_an_edit_the_editor_skips_silently_is_reported_as_not_landed(session, llm) -> None:  # type: ignore[no-untyped-def]
    client, uri, edits = session
    client.editor.profile = "skip-silently"  # Neovim: "applied: true", nothing changed
    llm.enqueue(stream_reply([ANSWER]))
    action = next(a for a in await actions_at(client, uri, 5) if "TODO" in a.title)
    result = await run_command(client, action)
    assert result["outcome"] == "not-landed", result
    assert "did not change" in result["message"] and len(edits) == 1


async def test_the_user_typing_during_the_task_makes_it_stale_and_nothing_is_applied(
    session,
    llm,  # type: ignore[no-untyped-def]
) -> None:
    client, uri, edits = session
    slow = stream_reply([ANSWER])
    assert slow.chunks is not None
    slow.chunks.insert(0, 1.0)
    llm.enqueue(slow)
    action = next(a for a in await actions_at(client, uri, 5) if "TODO" in a.title)
    pending = asyncio.ensure_future(run_command(client, action))
    await model_asked(client)
    await llm.wait_request(timeout=30)  # the model is now "thinking"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangeWholeDocument(text=SOURCE + "# typed\n")
            ],
        )
    )
    result = await pending
    assert result["outcome"] == "stale" and edits == []


async def test_cancel_task_stops_the_model_stream_and_applies_nothing(session, llm) -> None:  # type: ignore[no-untyped-def]
    client, uri, edits = session
    slow = stream_reply([ANSWER])
    assert slow.chunks is not None
    slow.chunks[0:0] = [0.5] * 20
    llm.enqueue(slow)
    action = next(a for a in await actions_at(client, uri, 5) if "TODO" in a.title)
    pending = asyncio.ensure_future(run_command(client, action))
    await model_asked(client)
    await llm.wait_request(timeout=30)  # the stream is open
    cancelled = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="smallcode.cancelTask", arguments=[])
    )
    assert cancelled == {"cancelled": 1}
    result = await pending
    assert result["outcome"] == "cancelled" and edits == []
    await llm.wait_disconnect(timeout=5)


async def test_garbage_answers_end_in_a_clear_failure_without_an_edit(session, llm) -> None:  # type: ignore[no-untyped-def]
    client, uri, edits = session
    for word in ("No.", "Maybe later.", "I am a language model."):
        llm.enqueue(stream_reply([word]))
    action = next(a for a in await actions_at(client, uri, 5) if "TODO" in a.title)
    result = await run_command(client, action)
    assert result["outcome"] == "failed" and result["turns"] == 3 and edits == []
    assert result["message"].startswith("no usable edit after 3 turn(s)")


async def test_write_tests_creates_the_test_file_through_the_editor(session, llm) -> None:  # type: ignore[no-untyped-def]
    client, uri, edits = session
    answer = (
        "```python\nimport math\n\nfrom geo import area\n\n\n"
        "def test_area_raises_until_implemented() -> None:\n"
        "    assert math.pi > 3\n    assert callable(area)\n```"
    )
    llm.enqueue(stream_reply([answer]))
    actions = await actions_at(client, uri, 3)
    action = next(a for a in actions if a.title == "SmallCode: write tests for area")
    result = await run_command(client, action)
    assert result["outcome"] == "applied", result
    changes = edits[0].edit.document_changes or []
    create = changes[0]
    assert isinstance(create, types.CreateFile) and create.uri.endswith("/test_geo.py")
    insert = changes[1]
    assert isinstance(insert, types.TextDocumentEdit) and insert.text_document.version is None
    assert "def test_area_raises_until_implemented" in insert.edits[0].new_text


async def test_fix_diagnostic_is_a_quickfix_for_the_diagnostic_and_fixes_it_on_turn_two(
    session,
    llm,  # type: ignore[no-untyped-def]
) -> None:
    client, uri, edits = session
    diagnostic = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=6, character=4), end=types.Position(line=6, character=30)
        ),  # fmt: skip
        message="area() always raises NotImplementedError",
        source="checker",
    )
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    fixes = [a for a in result or [] if isinstance(a, types.CodeAction)
             and a.kind == types.CodeActionKind.QuickFix]  # fmt: skip
    assert len(fixes) == 1 and list(fixes[0].diagnostics or []) == [diagnostic]
    broken = ANSWER.replace("math.pi * r * r", "math.pi * r * (r")
    llm.enqueue(stream_reply([broken]), stream_reply([ANSWER]))
    outcome = await run_command(client, fixes[0])
    assert outcome["outcome"] == "applied" and outcome["turns"] == 2
    assert outcome["attempts"][0].startswith("the result has a syntax error")
    assert (
        "Fix this problem in `area`: area() always raises"
        in (llm.requests[0].body["messages"][1]["content"])
    )
    assert len(edits) == 1


async def test_edit_selection_runs_the_instruction_the_client_supplies(session, llm) -> None:  # type: ignore[no-untyped-def]
    client, uri, edits = session
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=3, character=0), end=types.Position(line=6, character=10)
            ),  # fmt: skip
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    action = next(a for a in result or [] if a.title == "SmallCode: edit selection...")
    assert isinstance(action, types.CodeAction) and action.command is not None
    arguments = dict(action.command.arguments[0])  # type: ignore[index]
    arguments["instruction"] = "use math.pi"  # what the client asked the user for
    llm.enqueue(stream_reply([ANSWER]))
    outcome = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="smallcode.runTask", arguments=[arguments])
    )
    assert outcome["outcome"] == "applied" and len(edits) == 1
    assert "In `area`: use math.pi" in llm.requests[0].body["messages"][1]["content"]


async def test_cancel_request_stops_a_running_task_with_exactly_one_answer(session, llm) -> None:  # type: ignore[no-untyped-def]
    from pygls.exceptions import JsonRpcException

    client, uri, edits = session
    slow = stream_reply([ANSWER])
    assert slow.chunks is not None
    slow.chunks[0:0] = [0.5] * 20
    llm.enqueue(slow)
    action = next(a for a in await actions_at(client, uri, 5) if "TODO" in a.title)
    assert action.command is not None
    pending = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(
                command=action.command.command, arguments=action.command.arguments
            ),
            msg_id="task-to-cancel",
        )
    )
    await model_asked(client)
    await llm.wait_request(timeout=30)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="task-to-cancel"))
    with pytest.raises(JsonRpcException) as error:
        await pending
    assert error.value.code == types.LSPErrorCodes.RequestCancelled
    await llm.wait_disconnect(timeout=10)  # the model stream was closed
    assert edits == []
