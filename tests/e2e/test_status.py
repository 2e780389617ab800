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


async def test_show_context_returns_what_the_model_would_see_with_token_counts(
    client: LanguageClient, sample_workspace: Path
) -> None:
    uri = (sample_workspace / "pkg/util.py").resolve().as_uri()
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="smallcode.showContext",
            arguments=[
                {
                    "uri": uri,
                    "position": {"line": 4, "character": 4},
                    "budgetTokens": 300,
                    "instruction": "return a bigger widget",
                }
            ],
        )
    )
    assert isinstance(result, dict)
    assert result["budget"] == 300 and 0 < result["used"] <= 300
    names = [section["name"] for section in result["sections"]]
    assert names[0] == "definitions" and names[-1] == "task"
    definitions = result["sections"][0]
    assert "pkg/models.py:make_widget" in definitions["items"]
    assert "### pkg/models.py" in result["text"]
    assert sum(section["tokens"] for section in result["sections"]) >= result["used"] - 10


async def test_show_context_rejects_malformed_arguments_with_invalid_params(
    client: LanguageClient,
) -> None:
    import pytest
    from pygls.exceptions import JsonRpcException

    with pytest.raises(JsonRpcException) as error:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="smallcode.showContext", arguments=[{"uri": 3, "position": "x"}]
            )
        )
    assert error.value.code == types.ErrorCodes.InvalidParams
    assert "position" in error.value.message
