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
    "client_trust",
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


def lsp_confirm(server: SmallCodeServer) -> Confirm:
    """A confirmer that asks the user through ``window/showMessageRequest``."""

    async def confirm(question: Confirmation) -> Decision:
        kind = f"validation command '{question.name}'" if question.name else "command"
        actions = [ALLOW_ALWAYS, ALLOW_ONCE, DENY] if question.standing_allowed else [
            ALLOW_ONCE, DENY]  # fmt: skip
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=(
                f"SmallCode: run {kind} in a sandbox (no network, writes only to a scratch "
                f"copy)?\n{question.shown}"
            ),
            actions=[types.MessageActionItem(title) for title in actions],
        )
        try:
            answer = await asyncio.wait_for(
                server.window_show_message_request_async(params), _ANSWER_TIMEOUT_S
            )
        except Exception as exc:  # no answer, an error, a client without the request
            logger.info("command confirmation got no answer: %s", type(exc).__name__)
            return Decision.DENY
        title = answer.title if answer is not None else DENY
        if title == ALLOW_ALWAYS and question.standing_allowed:
            return Decision.ALWAYS
        return Decision.ONCE if title == ALLOW_ONCE else Decision.DENY

    return confirm


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
