"""Workspace indexing: in the background, with progress, cancellable, warm on restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import write_tree
from tests.e2e.conftest import INDEX_TITLE, start_client, wait_for_index

MANY = 1500


def big_workspace(root: Path) -> Path:
    files = {
        f"pkg{i % 30}/mod{i}.py": f"class Thing{i}:\n    def run(self):\n        return {i}\n"
        for i in range(MANY)
    }
    files["main.py"] = "def entry():\n    pass\n"
    return write_tree(root, files)


def index_token(client: LanguageClient) -> str | int | None:
    for token, reports in client.progress_reports.items():
        if any(
            isinstance(r, types.WorkDoneProgressBegin) and r.title == INDEX_TITLE for r in reports
        ):
            return token
    return None


def index_ended(client: LanguageClient) -> bool:
    token = index_token(client)
    return token is not None and any(
        isinstance(r, types.WorkDoneProgressEnd) for r in client.progress_reports[token]
    )


async def test_requests_are_answered_while_the_workspace_is_being_indexed(
    tmp_path: Path,
) -> None:
    root = big_workspace(tmp_path / "ws")
    client = await start_client("visual-studio-code", root, tmp_path / "cache")
    while index_token(client) is None:
        await client.wait_for_notification("$/progress")
    uri = (root / "main.py").resolve().as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="def entry():\n    pass\n"
            )
        )
    )
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    answered_before_end = not index_ended(client)
    assert [s.name for s in symbols or []] == ["entry"]
    end = await wait_for_index(client)
    assert answered_before_end, "the request waited for indexing to finish"
    assert end.message and end.message.startswith(f"{MANY + 1} files")
    reports = client.progress_reports[index_token(client)]  # type: ignore[index]
    assert any(isinstance(r, types.WorkDoneProgressReport) for r in reports)
    await client.shutdown_session()


async def test_cancelling_the_progress_stops_indexing(tmp_path: Path) -> None:
    root = big_workspace(tmp_path / "ws")
    client = await start_client("neovim", root, tmp_path / "cache")
    while (token := index_token(client)) is None:
        await client.wait_for_notification("$/progress")
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    end = await asyncio.wait_for(wait_for_index(client), 60)
    assert end.message and end.message.startswith("cancelled:")
    await client.shutdown_session()


async def test_a_restart_is_answered_from_the_cache(sample_workspace: Path, tmp_path: Path) -> None:
    for expected in ("(0 from cache)", "(5 from cache)"):
        client = await start_client("neovim", sample_workspace, tmp_path / "cache")
        end = await wait_for_index(client)
        assert end.message and end.message.endswith(expected)
        await client.shutdown_session()
