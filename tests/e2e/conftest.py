"""pytest-lsp fixtures: the real server process, driven with VS Code and Neovim capabilities."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

CLIENTS = ["visual-studio-code", "neovim"]
INDEX_TITLE = "SmallCode: indexing workspace"


def server_config(cache_dir: Path, **env: str) -> ClientServerConfig:
    """Start ``python -m smallcode_ls --stdio`` with its own cache folder."""
    server_env = {
        **os.environ,
        "SMALLCODE_CACHE_DIR": str(cache_dir),
        "SMALLCODE_DATA_DIR": str(cache_dir / "user-data"),  # the trust store: per test
        **env,
    }
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "smallcode_ls", "--stdio"], server_env=server_env
    )


async def start_client(
    client_name: str,
    root: Path,
    cache_dir: Path,
    initialization_options: Any = None,
    configuration: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> LanguageClient:
    """Start the server and run the initialize handshake as ``client_name`` would."""
    client = await server_config(cache_dir, **(env or {})).start()
    assert isinstance(client, LanguageClient)
    if configuration is not None:
        client.set_configuration(configuration)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(client_name),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=initialization_options,
        )
    )
    return client


async def wait_for_index(client: LanguageClient) -> types.WorkDoneProgressEnd:
    """Wait until the indexing progress bar ends; return its final report."""
    while True:
        for reports in list(client.progress_reports.values()):
            titled = any(
                isinstance(r, types.WorkDoneProgressBegin) and r.title == INDEX_TITLE
                for r in reports
            )
            ends = [r for r in reports if isinstance(r, types.WorkDoneProgressEnd)]
            if titled and ends:
                return ends[-1]
        await client.wait_for_notification("$/progress")


@pytest.fixture(params=CLIENTS)
def client_name(request: pytest.FixtureRequest) -> str:
    """Each end-to-end test runs once per client capability set."""
    return str(request.param)


@pytest_asyncio.fixture
async def client(
    client_name: str, sample_workspace: Path, tmp_path: Path
) -> AsyncIterator[LanguageClient]:
    """A client connected to a fresh server over the sample workspace, indexing done."""
    lsp = await start_client(client_name, sample_workspace, tmp_path / "cache")
    await wait_for_index(lsp)
    yield lsp
    await lsp.shutdown_session()
