"""initialize / initialized / configuration / shutdown, and workspace indexing."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

from lsprotocol import types

from smallcode_ls.app import build_session
from smallcode_ls.documents import uri_to_path
from smallcode_ls.lsp.convert import from_lsp_encoding
from smallcode_ls.lsp.progress import WorkDoneProgress
from smallcode_ls.lsp.server import SmallCodeServer
from smallcode_ls.lsp.trust import (
    client_trust,
    confirm_workspace_endpoints,
    lsp_confirm,
    settings_options,
)
from smallcode_ls.settings import SettingsResult, parse_settings, workspace_layer

__all__ = ["INDEX_PROGRESS_TITLE", "pull_configuration", "register"]

logger = logging.getLogger(__name__)

INDEX_PROGRESS_TITLE = "SmallCode: indexing workspace"


def _root(params: types.InitializeParams) -> Path | None:
    if params.workspace_folders:
        return uri_to_path(params.workspace_folders[0].uri)
    if params.root_uri:
        return uri_to_path(params.root_uri)
    return None


def _report(server: SmallCodeServer, result: SettingsResult) -> None:
    for problem in result.problems:
        server.show(f"SmallCode: invalid setting {problem}")


async def pull_configuration(server: SmallCodeServer) -> None:
    """Ask the client for the ``smallcode`` section (a workspace-level layer) and apply it."""
    workspace = server.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return
    try:
        items = await server.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="smallcode")])
        )
    except Exception as exc:
        logger.info("workspace/configuration failed: %s", exc)
        return
    await _apply_settings(server, items[0] if items else None)


async def _apply_settings(server: SmallCodeServer, layer: object) -> None:
    """Re-read settings: initializationOptions (user level) plus a workspace-level layer."""
    session = server.session
    layer, dropped = workspace_layer(layer, session.trust.trusted)
    for key in dropped:
        logger.info("ignored %s from workspace-level settings (untrusted or user-level only)", key)
    if session.trust.trusted:
        user = parse_settings(session.initialization_options, env=server.env).settings
        user_urls = {user.model.base_url, user.escalation.base_url} - {""}
        layer = await confirm_workspace_endpoints(
            server, layer, session.endpoint_answers, user_urls
        )
    result = parse_settings(session.initialization_options, layer, env=server.env)
    _report(server, result)
    session.gate.allow_unsandboxed = result.settings.security.allow_unsandboxed
    session.settings = result.settings
    await session.models.reconfigure(result.settings.model)


async def index_workspace(server: SmallCodeServer) -> None:
    """Index the workspace in the background with a cancellable progress bar."""
    session = server.session
    if not session.settings.index.enabled or session.root is None:
        session.index.ready.set()
        return
    progress = WorkDoneProgress(server, INDEX_PROGRESS_TITLE)
    await progress.begin(str(session.root))
    loop = asyncio.get_running_loop()

    def on_progress(done: int, total: int) -> None:
        loop.call_soon_threadsafe(progress.report, done, total)

    try:
        stats = await asyncio.to_thread(
            session.index.build,
            on_progress,
            lambda: progress.cancelled or session.closed.is_set(),
        )
    except Exception as exc:
        logger.exception("indexing failed")
        reason = type(exc).__name__  # the detail (paths, text) stays in the log
        progress.end(f"indexing failed ({reason}; see the server log)")
        server.show(
            f"SmallCode: indexing failed ({reason}; see the server log)", types.MessageType.Error
        )
        return
    # The graph is a large, long-lived heap: move it out of the cyclic collector's way so
    # that collections triggered while typing do not walk hundreds of MB of symbols.
    gc.collect()
    gc.freeze()
    message = (
        ("cancelled: " if stats.cancelled else "")
        + f"{stats.files} files, {stats.symbols} symbols in {stats.seconds:.2f} s "
        f"({stats.from_cache} from cache)"
    )
    logger.info("indexed %s", message)
    progress.end(message)


def register(server: SmallCodeServer) -> None:
    """Register the lifecycle handlers."""
    background: set[asyncio.Task[None]] = set()

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        encoding = from_lsp_encoding(server.protocol.workspace.position_encoding)
        options = settings_options(params.initialization_options)
        result = parse_settings(options, env=server.env)
        session = build_session(
            _root(params), result.settings, encoding, server.env, server.cache_dir,
            client_trusted=client_trust(params.initialization_options),
            confirm=lsp_confirm(server),
        )  # fmt: skip
        session.initialization_options = options
        server.attach(session)
        _report(server, result)

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        await pull_configuration(server)
        task = asyncio.get_running_loop().create_task(index_workspace(server))
        background.add(task)
        task.add_done_callback(background.discard)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and "smallcode" in settings:
            await _apply_settings(server, settings)
        else:
            await pull_configuration(server)

    @server.feature(types.SHUTDOWN)
    async def shutdown(params: None) -> None:
        for task in background:
            task.cancel()
        if server._session is not None:
            server._session.close()
            await server._session.models.aclose()
