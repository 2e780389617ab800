"""Workspace trust and command confirmations over LSP.

The editor's word on trust arrives as ``initializationOptions.workspaceTrusted`` (the
VS Code extension forwards ``workspace.isTrusted``); without it the user-level store
decides. ``smallcode.trustWorkspace`` grants trust (``{"persist": false}``: this
session only). Commands are confirmed with ``window/showMessageRequest``: the message
names the exact command, the answer is one of three buttons, no answer is a denial.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from lsprotocol import types

from smallcode_ls.lsp.commands import CommandArgs, parse_command_args
from smallcode_ls.lsp.errors import handle_errors
from smallcode_ls.lsp.server import SmallCodeServer
from smallcode_ls.security.execution import Confirm, Confirmation, Decision

__all__ = [
    "ALLOW_ALWAYS",
    "ALLOW_ONCE",
    "COMMAND_TRUST",
    "DENY",
    "ask_user",
    "client_trust",
    "confirm_workspace_endpoints",
    "lsp_confirm",
    "register",
    "settings_options",
]

logger = logging.getLogger(__name__)

COMMAND_TRUST = "smallcode.trustWorkspace"
TRUST_OPTION = "workspaceTrusted"
ALLOW_ALWAYS = "Allow for this workspace"
ALLOW_ONCE = "Allow once"
DENY = "Deny"
_ANSWER_TIMEOUT_S = 300.0


def client_trust(options: object) -> bool | None:
    """The editor's trust flag from initializationOptions, if it sent one."""
    if isinstance(options, Mapping):
        value = options.get(TRUST_OPTION)
        return value if isinstance(value, bool) else None
    return None


def settings_options(options: object) -> object:
    """The initializationOptions without the trust flag (what the settings parser reads)."""
    if isinstance(options, Mapping) and TRUST_OPTION in options:
        return {key: value for key, value in options.items() if key != TRUST_OPTION}
    return options


async def ask_user(server: SmallCodeServer, message: str, actions: list[str]) -> str | None:
    """Ask with ``window/showMessageRequest``; the chosen title, or None.

    None: dismissed, an error, a client without the request, or no answer in time.
    """
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Warning,
        message=message,
        actions=[types.MessageActionItem(title) for title in actions],
    )
    try:
        answer = await asyncio.wait_for(
            server.window_show_message_request_async(params), _ANSWER_TIMEOUT_S
        )
    except Exception as exc:
        logger.info("a question to the user got no answer: %s", type(exc).__name__)
        return None
    return answer.title if answer is not None else None


def lsp_confirm(server: SmallCodeServer) -> Confirm:
    """A confirmer that asks the user through ``window/showMessageRequest``."""

    async def confirm(question: Confirmation) -> Decision:
        kind = f"validation command '{question.name}'" if question.name else "command"
        actions = [ALLOW_ALWAYS, ALLOW_ONCE, DENY] if question.standing_allowed else [
            ALLOW_ONCE, DENY]  # fmt: skip
        title = await ask_user(
            server,
            f"SmallCode: run {kind} in a sandbox (no network, writes only to a scratch "
            f"copy)?\n{question.shown}",
            actions,
        )
        if title == ALLOW_ALWAYS and question.standing_allowed:
            return Decision.ALWAYS
        return Decision.ONCE if title == ALLOW_ONCE else Decision.DENY

    return confirm


USE_ENDPOINT = "Use it (without my API key)"


async def confirm_workspace_endpoints(
    server: SmallCodeServer, layer: object, answers: dict[str, bool], user_urls: set[str]
) -> object:
    """A trusted workspace's own model endpoints, each confirmed by the user naming its host.

    An endpoint the user accepts is used without any API key (the key stays bound to
    the user-level endpoint); one refused (or unanswered) is dropped from the layer.
    ``answers`` remembers each decision for the session; ``user_urls`` (the user-level
    endpoints, which an editor may echo in the workspace layer) are not asked about.
    """
    if not isinstance(layer, dict):
        return layer
    kept = {key: dict(value) if isinstance(value, dict) else value for key, value in layer.items()}
    for section in ("model", "escalation"):
        values = kept.get(section)
        url = values.get("baseUrl") if isinstance(values, dict) else None
        if not isinstance(values, dict) or not isinstance(url, str) or not url:
            continue
        if url in user_urls:
            continue
        if url not in answers:
            answers[url] = await _ask_endpoint(server, section, url)
        if answers[url]:
            values["apiKeyEnv"] = ""
        else:
            for key in ("baseUrl", "name", "model", "apiKeyEnv"):
                values.pop(key, None)
    return kept


async def _ask_endpoint(server: SmallCodeServer, section: str, url: str) -> bool:
    host = urlsplit(url).netloc or url
    title = await ask_user(
        server,
        f"SmallCode: this workspace's settings send the {section} requests to {host} "
        f"({url}). Your code will be sent there. Use this endpoint?",
        [USE_ENDPOINT, "Ignore it"],
    )
    return title == USE_ENDPOINT


class TrustArgs(CommandArgs):
    """Arguments of ``smallcode.trustWorkspace``."""

    persist: bool = True


def register(server: SmallCodeServer) -> None:
    """Register ``smallcode.trustWorkspace``."""
    from smallcode_ls.lsp.lifecycle import pull_configuration  # lifecycle imports this module

    @server.command(COMMAND_TRUST)
    @handle_errors
    async def trust_workspace(*args: Any) -> dict[str, Any]:
        parsed = parse_command_args(TrustArgs, args or ({},))
        assert isinstance(parsed, TrustArgs)
        session = server.session
        source = "the user (smallcode.trustWorkspace)"
        await asyncio.to_thread(session.trust.grant, parsed.persist, source)
        await pull_configuration(server)  # restricted workspace settings now apply
        return {"trusted": session.trust.trusted, "trustSource": session.trust.source}
