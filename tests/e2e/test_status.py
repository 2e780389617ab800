"""``smallcode.status``: what model is in use and where, and the graph's state."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import start_client, wait_for_index


async def status(client: LanguageClient) -> dict:  # type: ignore[type-arg]
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="smallcode.status", arguments=[])
    )
    assert isinstance(result, dict)
    return result


async def test_status_reports_the_embedded_model_when_no_endpoint_is_set(
    client: LanguageClient, sample_workspace: Path
) -> None:
    result = await status(client)
    assert result["model"]["source"] == "embedded"
    assert result["model"]["model"] == "qwen2.5-coder-1.5b-instruct"
    assert result["model"]["state"] in {"stopped", "not_installed"}  # lazy: not started yet
    assert result["index"] == {"ready": True, "files": 5, "symbols": 12}
    assert result["root"] == str(sample_workspace.resolve())


async def test_status_reports_a_configured_endpoint(sample_workspace: Path, tmp_path: Path) -> None:
    client = await start_client(
        "neovim",
        sample_workspace,
        tmp_path / "cache",
        initialization_options={
            "smallcode": {
                "model": {"baseUrl": "http://127.0.0.1:11434/v1", "name": "qwen2.5-coder"}
            }
        },
    )
    await wait_for_index(client)
    result = await status(client)
    assert result["model"] == {
        "source": "endpoint",
        "kind": "ollama",
        "base_url": "http://127.0.0.1:11434/v1",
        "model": "qwen2.5-coder",
        "state": "configured",
        "message": "",
    }
    await client.shutdown_session()
