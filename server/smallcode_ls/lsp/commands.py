"""``workspace/executeCommand`` handlers. Command names are a stable table."""

from __future__ import annotations

from typing import Any

from smallcode_ls.lsp.errors import handle_errors
from smallcode_ls.lsp.server import SmallCodeServer

__all__ = ["COMMAND_STATUS", "register"]

COMMAND_STATUS = "smallcode.status"


def register(server: SmallCodeServer) -> None:
    """Register the commands."""

    @server.command(COMMAND_STATUS)
    @handle_errors
    async def status(*_args: Any) -> dict[str, Any]:
        """What model is in use and where, and the state of the code graph."""
        return server.session.status()
